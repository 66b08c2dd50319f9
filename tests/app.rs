//! The desktop app, driven headlessly through AccessKit (no display, no GPU).

use annealscope::preset::Preset;
use annealscope::sim::ProblemConfig;
use annealscope::ui::{App, Side};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use std::time::{Duration, Instant};

fn harness() -> Harness<'static, App> {
    let mut preset = Preset::builtin_default();
    preset.run.steps = 10_000_000_000;
    let app = App::new(&egui::Context::default(), preset).expect("app starts");
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut App| app.frame(ui), app)
}

/// Runs frames until `pred` holds, for at most 5 s of wall time.
fn until(h: &mut Harness<'static, App>, pred: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pred(h.state()) {
        assert!(Instant::now() < deadline, "condition not reached");
        std::thread::sleep(Duration::from_millis(10));
        h.step();
    }
}

fn step_of(app: &App) -> u64 {
    app.a.step()
}

/// Whether a notice about `side` whose text contains `text` is shown.
fn has_notice(app: &App, side: Option<Side>, text: &str) -> bool {
    app.notices
        .iter()
        .any(|n| n.side == side && n.text.contains(text))
}

#[test]
fn play_pause_toggles_stepping() {
    let mut h = harness();
    until(&mut h, |a| a.playing() && step_of(a) > 0);
    h.get_by_label("Pause").click();
    h.step();
    until(&mut h, |a| !a.playing());
    let at = step_of(h.state());
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(10));
        h.step();
    }
    assert_eq!(step_of(h.state()), at, "paused: no steps");
    h.get_by_label("Play").click();
    h.step();
    until(&mut h, |a| step_of(a) > at);
}

#[test]
fn sliders_change_the_running_trainer() {
    let mut h = harness();
    until(&mut h, |a| step_of(a) > 0);
    h.get_by_role_and_label(Role::SpinButton, "Step size")
        .set_value_accesskit(0.2);
    h.step();
    until(&mut h, |a| a.a.config.annealer.step_size == 0.2);
    let alpha_before = match h.state().a.config.annealer.schedule {
        annealscope::sim::Schedule::Geometric { alpha, .. } => alpha,
        _ => unreachable!(),
    };
    // The cooling-rate slider moves x = -log10(1 - alpha): x = 2 is alpha = 0.99.
    h.get_by_role_and_label(Role::SpinButton, "Cooling rate")
        .set_value_accesskit(2.0);
    h.step();
    let alpha = match h.state().a.config.annealer.schedule {
        annealscope::sim::Schedule::Geometric { alpha, .. } => alpha,
        _ => unreachable!(),
    };
    assert!(
        alpha != alpha_before && (alpha - 0.99).abs() < 1e-9,
        "{alpha}"
    );
    let generation_steps = step_of(h.state());
    h.get_by_role_and_label(Role::SpinButton, "Hidden width")
        .set_value_accesskit(16.0);
    h.step();
    assert!(matches!(&h.state().a.config.problem, ProblemConfig::Network(n) if n.hidden == 16));
    // A width change restarts the run: the step count starts again from 0.
    until(&mut h, |a| has_notice(a, Some(Side::A), "restarted"));
    assert!(step_of(h.state()) < generation_steps.max(1) || generation_steps == 0);
}

#[test]
fn keyboard_shortcuts_work() {
    let mut h = harness();
    until(&mut h, |a| a.playing() && step_of(a) > 0);
    h.key_press(egui::Key::Space);
    h.step();
    until(&mut h, |a| !a.playing());
    let at = step_of(h.state());
    h.key_press(egui::Key::S);
    h.step();
    until(&mut h, |a| step_of(a) == at + 1);
    h.key_press(egui::Key::R);
    h.step();
    until(&mut h, |a| step_of(a) == 0);
}

#[test]
fn the_concepts_window_opens_from_the_help_menu() {
    let mut h = harness();
    h.step();
    assert!(h.query_by_label("Energy = loss").is_none());
    h.get_by_label("Help").click();
    h.run_steps(3);
    h.get_by_label("Concepts").click();
    h.run_steps(3);
    assert!(h.state().state.concepts);
    assert!(h.query_by_label("Energy = loss").is_some());
}

#[test]
fn a_thousand_frames_with_a_running_trainer() {
    let mut h = harness();
    for _ in 0..1000 {
        h.step();
    }
    until(&mut h, |a| step_of(a) > 0);
    assert!(!h.state().a.history.is_empty());
}

#[test]
fn loading_a_preset_from_the_panel_changes_the_running_session() {
    let mut h = harness();
    until(&mut h, |a| step_of(a) > 0);
    h.get_by_label("Session").click();
    h.run_steps(2);
    h.get_by_label("Presets...").click();
    h.run_steps(3);
    // The second built-in preset is the article's; its row's Load button is the second.
    let buttons = h.get_all_by_label("Load").count();
    assert!(buttons >= 2, "{buttons} load buttons");
    h.get_all_by_label("Load")
        .nth(1)
        .expect("second preset")
        .click();
    h.run_steps(2);
    until(&mut h, |a| {
        a.a.config.annealer.step_size == 0.001
            && a.a
                .latest
                .as_ref()
                .is_some_and(|l| l.record.step <= 500 && l.schedule.step() <= 500)
    });
    assert!(h.state().title.contains("article"));
}

#[test]
fn a_bad_preset_file_shows_an_error_and_keeps_the_session() {
    let mut h = harness();
    until(&mut h, |a| step_of(a) > 0);
    let before = h.state().session();
    let bad =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed/wrong-type.ron");
    h.state_mut().load_file(&bad);
    h.run_steps(2);
    let notice = h
        .state()
        .notices
        .last()
        .cloned()
        .expect("an error is shown");
    assert!(
        notice.error
            && notice.text.contains("wrong-type.ron")
            && notice.text.contains("run.network.hidden"),
        "{notice:?}"
    );
    assert_eq!(h.state().session(), before);
    assert!(
        h.query_by_label_contains("wrong-type.ron").is_some(),
        "visible in the UI"
    );
    h.get_by_label("Dismiss").click();
    h.run_steps(2);
    assert!(h.state().notices.is_empty());
}

#[test]
fn a_preset_can_hide_controls_and_the_view_menu_shows_them_again() {
    let mut h = harness();
    h.run_steps(2);
    assert!(
        h.query_by_role_and_label(Role::SpinButton, "Hidden width")
            .is_some()
    );
    let quench = Preset::builtin("quench").expect("shipped");
    assert!(!quench.view.hidden_controls.is_empty());
    h.state_mut().load_preset(quench);
    h.run_steps(2);
    assert!(
        h.query_by_role_and_label(Role::SpinButton, "Hidden width")
            .is_none(),
        "hidden by the preset"
    );
    h.get_by_label("View").click();
    h.run_steps(2);
    h.get_by_label("Show hidden controls").click();
    h.run_steps(2);
    assert!(
        h.query_by_role_and_label(Role::SpinButton, "Hidden width")
            .is_some(),
        "shown again"
    );
}

/// Runs frames until a widget whose label contains `text` appears, for at most 5 s.
fn until_label(h: &mut Harness<'static, App>, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while h.query_all_by_label_contains(text).next().is_none() {
        assert!(Instant::now() < deadline, "no `{text}` on screen");
        std::thread::sleep(Duration::from_millis(10));
        h.step();
    }
}

#[test]
fn a_landscape_preset_shows_its_view_and_the_walker_slider_works() {
    let mut h = harness();
    h.run_steps(2);
    assert!(h.query_by_label("walkers' histogram").is_none());
    h.state_mut()
        .load_preset(Preset::builtin("harmonic").expect("shipped"));
    until_label(&mut h, "walkers' histogram");
    until_label(&mut h, "500 walkers at");
    // The readouts, computed by the trainer: ln Z (not Z, which overflows when cold),
    // exact and from the walkers (issue 10, item 8).
    until_label(&mut h, "ln Z");
    until_label(&mut h, "walkers (M = 500)");
    h.get_by_role_and_label(Role::SpinButton, "Walkers")
        .set_value_accesskit(50.0);
    h.step();
    assert!(matches!(
        &h.state().a.config.problem,
        ProblemConfig::Landscape(l) if l.walkers == 50
    ));
    until_label(&mut h, "50 walkers at");
}

#[test]
fn the_loss_landscape_slice_is_computed_off_the_ui_thread_and_shown() {
    let mut h = harness();
    until(&mut h, |a| step_of(a) > 0);
    h.get_by_label("Loss landscape").click();
    h.step();
    until_label(&mut h, "L(theta + a d1 + b d2) around the");
}

#[test]
fn pin_as_ghost_keeps_a_run_on_the_plots() {
    let mut h = harness();
    until(&mut h, |a| step_of(a) > 100);
    assert!(h.query_all_by_label_contains("ghost:").next().is_none());
    h.get_by_label("Pin as ghost").click();
    h.run_steps(2);
    until_label(&mut h, "ghost: XOR quadrants");
    h.get_by_label("Clear ghost").click();
    h.run_steps(2);
    assert!(h.query_all_by_label_contains("ghost:").next().is_none());
}

#[test]
fn a_suggested_schedule_can_be_applied() {
    let mut h = harness();
    until(&mut h, |a| step_of(a) > 1000);
    h.get_by_label("Suggest schedule").click();
    h.step();
    until_label(&mut h, "Suggested: T0 =");
    h.get_by_label("Apply").click();
    h.step();
    let s = &h.state().a.config;
    assert!(matches!(
        s.annealer.schedule,
        annealscope::sim::Schedule::Geometric { .. }
    ));
    assert!(s.steps >= 100 && s.annealer.t_min < s.annealer.schedule.t0());
}

#[test]
fn compare_mode_shows_two_runs_and_edits_each_side() {
    let mut h = harness();
    until(&mut h, |a| step_of(a) > 0);
    h.get_by_label("Compare").click();
    h.run_steps(2);
    h.get_by_label("Compare with a copy of this run").click();
    h.run_steps(2);
    // B's curves over A's, and two boundaries.
    until_label(&mut h, "B: acceptance");
    until(&mut h, |a| a.b.as_ref().is_some_and(|b| b.view.is_some()));
    h.run_steps(2);
    let views: Vec<&str> = h
        .state()
        .placed()
        .map(|p| p.name.as_str())
        .filter(|n| n.starts_with("view"))
        .collect();
    assert_eq!(views, ["view A", "view B"], "two boundaries");
    // Edit B alone.
    h.get_by_label("B").click();
    h.step();
    h.get_by_role_and_label(Role::SpinButton, "Step size")
        .set_value_accesskit(0.3);
    h.step();
    let a = h.state().a.config.annealer.step_size;
    let b = h.state().b.as_ref().map(|b| b.config.annealer.step_size);
    assert_eq!(b, Some(0.3));
    assert_ne!(a, 0.3, "A is untouched");
}

/// An app comparing the default network (A) with walkers on the harmonic bowl (B),
/// with the controls editing B.
fn network_vs_landscape() -> Harness<'static, App> {
    let mut h = harness();
    let bowl = Preset::builtin("harmonic").expect("shipped").run;
    h.state_mut().start_compare(bowl);
    h.state_mut().editing = Side::B;
    until(&mut h, |a| a.b.as_ref().is_some_and(|b| b.step() > 0));
    h
}

#[test]
fn suggest_schedule_measures_the_run_being_edited() {
    let mut h = network_vs_landscape();
    h.get_by_label("Suggest schedule").click();
    h.step();
    until(&mut h, |a| {
        a.b.as_ref().is_some_and(|b| b.suggestion.is_some())
    });
    assert!(h.state().a.suggestion.is_none(), "A was not asked");
    let b = h.state().b.as_ref().expect("comparing");
    let got = b.suggestion.expect("suggested");
    // The same trial runs on B's problem, independently: T0 and T_min depend only on it.
    let want = annealscope::sim::suggest::suggest(&b.config, 10.0, 1e5).expect("valid");
    assert_eq!((got.t0, got.t_min), (want.t0, want.t_min));
    let on_a = annealscope::sim::suggest::suggest(&h.state().a.config, 10.0, 1e5).expect("valid");
    assert_ne!(got.t0, on_a.t0, "not A's problem");
    // Applying it writes to B, from step 0.
    h.get_by_label("Apply").click();
    h.step();
    let b = h.state().b.as_ref().expect("comparing");
    assert!(matches!(b.config.problem, ProblemConfig::Landscape(_)));
    assert_eq!(b.config.annealer.schedule.t0(), got.t0);
    assert_ne!(h.state().a.config.annealer.schedule.t0(), got.t0);
}

#[test]
fn a_refused_edit_of_run_b_shows_its_error_and_b_goes_on_as_it_was() {
    let mut h = network_vs_landscape();
    let before = h.state().b.as_ref().expect("comparing").config.clone();
    // Beyond the allowed 1e-6 ..= 10: the slider lets it through, B's trainer refuses it.
    h.get_by_role_and_label(Role::SpinButton, "Step size")
        .set_value_accesskit(50.0);
    h.step();
    until(&mut h, |a| {
        has_notice(a, Some(Side::B), "annealer.step_size")
    });
    let n = h.state().notices.last().cloned().expect("a notice");
    assert!(n.error && n.text.contains("allowed"), "{n:?}");
    assert_eq!(h.state().b.as_ref().map(|b| &b.config), Some(&before));
    assert!(
        h.query_by_label_contains("Run B: `annealer.step_size`")
            .is_some(),
        "shown in the UI, naming the run"
    );
}

#[test]
fn run_b_answers_its_own_loss_slice_and_restart_notices() {
    let mut h = harness();
    h.state_mut().start_compare(Preset::builtin_default().run);
    until(&mut h, |a| a.b.as_ref().is_some_and(|b| b.step() > 0));
    h.get_all_by_label("Loss landscape")
        .next()
        .expect("a tab")
        .click();
    h.step();
    until(&mut h, |a| {
        a.b.as_ref().is_some_and(|b| b.kind.network.has_slice()) && a.a.kind.network.has_slice()
    });
    // A restart of B is B's news.
    h.state_mut().editing = Side::B;
    h.get_by_role_and_label(Role::SpinButton, "Hidden width")
        .set_value_accesskit(8.0);
    h.step();
    until(&mut h, |a| has_notice(a, Some(Side::B), "restarted"));
    assert!(!has_notice(h.state(), Some(Side::A), "restarted"));
}

#[test]
fn clicking_a_plot_pins_that_steps_values_on_screen() {
    let mut h = harness();
    until(&mut h, |a| step_of(a) > 500);
    let plot = h
        .state()
        .placed()
        .find(|p| p.name == "temperature")
        .map(|p| p.rect)
        .expect("a temperature plot");
    let at = plot.center();
    h.hover_at(at);
    h.step();
    h.event(egui::Event::PointerButton {
        pos: at,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    h.step();
    h.event(egui::Event::PointerButton {
        pos: at,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(3);
    // The pinned values stay while the run goes on.
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(10));
        h.step();
    }
    assert!(h.query_by_label("Unpin").is_some(), "pinned");
    let labels: Vec<String> = h
        .root()
        .children_recursive()
        .filter_map(|n| n.accesskit_node().value())
        .filter(|l| l.starts_with("step"))
        .collect();
    assert!(
        labels.iter().any(|l| l.contains("T ") && l.contains("E ")),
        "the pinned readout lists T and E: {labels:?}"
    );
    h.get_by_label("Unpin").click();
    h.run_steps(2);
    assert!(h.query_by_label("Unpin").is_none());
}

/// A 100k-point, 256-unit network: what a frame draws stays bounded (at most
/// `MAX_DRAWN_POINTS` markers; a marker per point made the app take about 1 GB). Memory of
/// the real app is measured under Xvfb (README).
#[test]
fn a_large_data_set_keeps_each_frame_small() {
    use annealscope::sim::{DataConfig, DataKind, NetworkConfig, ProblemView};
    let mut preset = Preset::builtin_default();
    preset.run.problem = ProblemConfig::Network(NetworkConfig {
        data: DataConfig {
            kind: DataKind::Spirals,
            samples: 100_000,
            test_fraction: 0.2,
            ..DataConfig::default()
        },
        hidden: 256,
        ..NetworkConfig::default()
    });
    // Building it happens on the trainer's thread: the first frame is drawn at once.
    let started = Instant::now();
    let app = App::new(&egui::Context::default(), preset).expect("app starts");
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut App| app.frame(ui), app);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the UI did not wait"
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let has_grid =
        |a: &App| matches!(a.a.view.as_deref(), Some(ProblemView::Network(v)) if v.grid.is_some());
    while !has_grid(h.state()) {
        assert!(Instant::now() < deadline, "no decision boundary");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.step();
    let out = h.output();
    let primitives = h.ctx.tessellate(out.shapes.clone(), out.pixels_per_point);
    let vertices: usize = primitives
        .iter()
        .map(|p| match &p.primitive {
            egui::epaint::Primitive::Mesh(m) => m.vertices.len(),
            _ => 0,
        })
        .sum();
    // About 75 vertices per marker: 100k markers would be 7.5M.
    assert!(vertices < 200_000, "{vertices} vertices in a frame");
    assert!(
        h.query_by_label_contains("(1 in 100 points shown)")
            .is_some(),
        "the key says how many points are drawn"
    );
}

/// eframe's storage, in memory.
#[derive(Default)]
struct Memory(std::collections::HashMap<String, String>);

impl eframe::Storage for Memory {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

/// The session saved on exit comes back on start through the same reader and checks as
/// a file; a saved session that is refused opens the built-in default, with a notice
/// that says why in one line.
#[test]
fn the_last_session_is_restored_only_if_it_is_valid() {
    use annealscope::ui::restored_session;
    let mut preset = Preset::builtin("well-slow").expect("shipped");
    preset.title = "mine".into();
    let mut app = App::new(&egui::Context::default(), preset.clone()).expect("app starts");
    let mut storage = Memory::default();
    eframe::App::save(&mut app, &mut storage);
    assert_eq!(storage.0.len(), 1, "one saved session");
    let saved = storage.0.values().next().cloned();
    let (back, notice) = restored_session(saved.as_deref());
    assert_eq!(back, preset);
    assert!(notice.is_none());
    assert_eq!(restored_session(None), (Preset::builtin_default(), None));
    for (saved, field) in [
        (
            "(run: (problem: Landscape((surface: DoubleWell(tilt: NaN)))))",
            "`run.problem.Landscape.surface.tilt` = NaN",
        ),
        (
            "(run: (problem: Landscape((start: Some((inf, 0.0))))))",
            "`run.problem.Landscape.start` = [inf, 0]",
        ),
        (
            "(run: (problem: Landscape((surface: Formula(\"x/0\")))))",
            "`run.problem.Landscape.surface`",
        ),
        ("(speed: PerSecond(-5.0))", "`speed` = -5"),
        (
            "(run: (annealer: (schedule: Custom(points: [(0, 1.0), (9, 0.0)]))))",
            "`run.annealer.schedule.points[1]`",
        ),
        (
            "(run: (annealer: (schedule: Geometric(t0: 1.0, alpha: 0.9, beta: 2.0))))",
            "`run.annealer.schedule.Geometric.beta`",
        ),
        (
            "(version: 1, run: (landscape: Some((surface: DoubleWell(tilt: 1e308)))))",
            "`run.landscape.surface.tilt` = 1e308",
        ),
        (
            "(title: \"\u{1b}]0;x\u{7}\", version: 9)",
            "format version 9",
        ),
        ("\u{0}\u{1}binary", "<last session>"),
    ] {
        let (p, notice) = restored_session(Some(saved));
        assert_eq!(p, Preset::builtin_default(), "{saved}");
        let n = notice.unwrap_or_else(|| panic!("{saved}: no notice"));
        assert!(n.error, "{saved}");
        assert!(
            n.text.starts_with("<last session>") && n.text.contains(field),
            "{saved}: {}",
            n.text
        );
        assert!(n.text.ends_with("opened the built-in default instead"));
        assert!(!n.text.contains('\n') && !n.text.chars().any(char::is_control));
    }
}

#[test]
fn an_rbm_preset_shows_its_patterns_and_ais_estimates_beside_the_exact_ln_z() {
    let mut h = harness();
    h.run_steps(2);
    h.state_mut()
        .load_preset(Preset::builtin("rbm-ais").expect("shipped"));
    until_label(&mut h, "Hidden units' receptive fields");
    until_label(&mut h, "Data patterns, most probable first");
    // The preset asks for estimates again and again: one arrives without a click.
    until_label(&mut h, "AIS ln Z = ");
}

#[test]
fn sampling_chains_get_a_live_temperature_slider_and_tempering_shows_its_replicas() {
    let mut h = harness();
    h.run_steps(2);
    h.state_mut()
        .load_preset(Preset::builtin("rbm-cold-vs-tempering").expect("shipped"));
    until_label(&mut h, "Tempering replicas, coldest first");
    until_label(&mut h, "Gibbs chains at T = 0.250");
    // Run A's own view (B's replicas may come first).
    until(&mut h, |a| {
        a.a.view
            .as_deref()
            .is_some_and(|v| matches!(v, annealscope::sim::ProblemView::Rbm(_)))
    });
    h.step();
    h.get_by_role_and_label(Role::SpinButton, "sampling temperature T")
        .set_value_accesskit(1.0);
    h.step();
    assert!(matches!(
        h.state().a.config.annealer.schedule,
        annealscope::sim::Schedule::Constant { t0 } if t0 == 1.0
    ));
    until_label(&mut h, "Gibbs chains at T = 1.000");
}

#[test]
fn a_landscape_answers_ais_against_its_quadrature() {
    let mut h = harness();
    h.run_steps(2);
    h.state_mut()
        .load_preset(Preset::builtin("harmonic").expect("shipped"));
    until_label(&mut h, "ln Z by annealing (AIS) vs quadrature");
    h.get_by_label("ln Z by annealing (AIS) vs quadrature")
        .click();
    h.step();
    h.get_by_label("Estimate ln Z").click();
    h.step();
    until_label(&mut h, "AIS ln Z(T) = ");
}
