//! The desktop app, driven headlessly through AccessKit (no display, no GPU).

use annealscope::preset::Preset;
use annealscope::sim::ProblemConfig;
use annealscope::ui::{App, Side};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
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
    until_label(&mut h, "B: energy E");
    until(&mut h, |a| a.b.as_ref().is_some_and(|b| b.view.is_some()));
    h.run_steps(2);
    assert_eq!(
        h.query_all_by_label("P(class 1)").count(),
        2,
        "two boundaries"
    );
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
