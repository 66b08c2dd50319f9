//! Lecture-ready: every shipped preset plays at a pace a class can watch.

#[test]
fn every_shipped_preset_plays_for_20_to_90_seconds_at_its_own_pace() {
    let durations = annealscope::bench::preset_durations(0.3).expect("measured");
    assert_eq!(durations.len(), annealscope::preset::BUILTIN.len());
    for (name, seconds) in durations {
        assert!(
            (20.0..=90.0).contains(&seconds),
            "{name} plays for {seconds:.1} s"
        );
    }
}

use annealscope::lesson::Lesson;
use annealscope::preset::Preset;
use annealscope::ui::App;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::{Harness, Node};
use std::time::{Duration, Instant};

fn harness(preset: Preset, size: [f32; 2]) -> Harness<'static, App> {
    let app = App::new(&egui::Context::default(), preset).expect("app starts");
    Harness::builder()
        .with_size(egui::vec2(size[0], size[1]))
        .build_ui_state(|ui, app: &mut App| app.frame(ui), app)
}

/// Runs frames until `pred` holds, for at most 10 s of wall time.
fn until(h: &mut Harness<'static, App>, what: &str, pred: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pred(h.state()) {
        assert!(Instant::now() < deadline, "{what}: not reached");
        std::thread::sleep(Duration::from_millis(10));
        h.step();
    }
}

/// Every widget a user can see lies inside the window, plots do not overlap and are
/// readable (their data areas at least 120 logical pixels high; the plot column scrolls
/// when they do not fit), the views do not overlap the plots and the status bar is one
/// line.
fn check_layout(h: &Harness<'static, App>, case: &str) {
    let screen = h.ctx.content_rect();
    let app = h.state();
    let slack = 1.0;
    let inside_x =
        |r: egui::Rect| r.left() >= screen.left() - slack && r.right() <= screen.right() + slack;
    let inside = |r: egui::Rect| screen.expand(slack).contains_rect(r);
    let plots: Vec<_> = app
        .placed()
        .filter(|p| {
            ![
                "menu",
                "strip",
                "status",
                "lesson",
                "controls",
                "central",
                "plot column",
            ]
            .contains(&p.name.as_str())
                && !p.name.starts_with("view")
        })
        .collect();
    assert!(!plots.is_empty(), "{case}: no plots drawn");
    for p in app.placed() {
        let is_plot = plots.iter().any(|q| q.name == p.name);
        if is_plot && app.plots_scroll() {
            assert!(
                inside_x(p.rect),
                "{case}: {} sticks out sideways: {:?} in {screen:?}",
                p.name,
                p.rect
            );
        } else {
            assert!(
                inside(p.rect),
                "{case}: {} outside the window: {:?} in {screen:?}",
                p.name,
                p.rect
            );
        }
    }
    for (i, a) in plots.iter().enumerate() {
        assert!(
            a.rect.height() >= 119.5,
            "{case}: {} is {} high",
            a.name,
            a.rect.height()
        );
        for b in &plots[i + 1..] {
            let overlap = a.rect.intersect(b.rect);
            assert!(
                overlap.width() <= slack || overlap.height() <= slack,
                "{case}: {} overlaps {}",
                a.name,
                b.name
            );
        }
    }
    let column = app
        .placed()
        .find(|p| p.name == "plot column")
        .expect("a plot column")
        .rect;
    for v in app.placed().filter(|p| p.name.starts_with("view")) {
        let overlap = v.rect.intersect(column);
        assert!(
            overlap.width() <= slack || overlap.height() <= slack,
            "{case}: {} overlaps the plots",
            v.name
        );
    }
    let status = app
        .placed()
        .find(|p| p.name == "status")
        .expect("a status bar")
        .rect;
    assert!(
        status.height() <= 2.0 * h.ctx.global_style().spacing.interact_size.y + 4.0,
        "{case}: the status bar wraps ({})",
        status.height()
    );
    // No label or button is cut off at the window's sides: every node whose top is in the
    // window lies within its width (content scrolled out of view vertically is fine).
    let root: Node<'_> = h.root();
    let ppp = h.ctx.pixels_per_point();
    for node in root.children_recursive() {
        let Some(b) = node.accesskit_node().bounding_box() else {
            continue;
        };
        let r = egui::Rect::from_min_max(
            egui::pos2(b.x0 as f32 / ppp, b.y0 as f32 / ppp),
            egui::pos2(b.x1 as f32 / ppp, b.y1 as f32 / ppp),
        );
        if r.top() >= screen.top() && r.top() < screen.bottom() - 1.0 && r.width() > 0.0 {
            assert!(
                inside_x(r),
                "{case}: {:?} {:?} sticks out of the window: {r:?} in {screen:?}",
                node.accesskit_node().role(),
                node.accesskit_node().label()
            );
        }
    }
}

#[test]
fn the_layout_fits_laptops_and_projectors_at_every_scale() {
    let presets = ["default", "well-slow", "compare-anneal-vs-quench"];
    let cases: [([f32; 2], &[f32]); 2] = [
        ([1280.0, 800.0], &[1.0, 1.25]),
        ([1920.0, 1080.0], &[1.0, 1.6, 2.0]),
    ];
    for name in presets {
        for (size, scales) in cases {
            for &scale in scales {
                for presenter in [false, true] {
                    let mut p = Preset::builtin(name).expect("shipped");
                    p.view.scale = scale;
                    p.view.presenter = presenter;
                    let case = format!(
                        "{name} at {}x{} scale {scale} presenter {presenter}",
                        size[0], size[1]
                    );
                    let mut h = harness(p, size);
                    until(&mut h, &case, |a| {
                        a.panes().all(|p| p.view.is_some() && p.latest.is_some())
                    });
                    h.run_steps(3);
                    check_layout(&h, &case);
                }
            }
        }
    }
}

#[test]
fn a_lesson_steps_with_the_clicker_keys_and_runs_to_its_cue() {
    let lesson = Lesson::builtin("article-fixed").expect("shipped");
    let mut h = harness(Preset::builtin_default(), [1280.0, 800.0]);
    h.state_mut().apply(annealscope::ui::Action::OpenLesson(
        Box::new(lesson.clone()),
        "article".into(),
    ));
    h.run_steps(2);
    let title_of = |i: usize| lesson.slides[i].session("t").expect("valid").title;
    assert_eq!(h.state().lesson.as_ref().map(|l| l.index), Some(0));
    assert_eq!(h.state().title, title_of(0));
    assert!(h.query_by_label("1 / 6").is_some(), "a slide counter");
    // Slide 2 runs to step 250 and pauses there (flat out, not to wait 15 s for it).
    h.key_press(egui::Key::PageDown);
    h.run_steps(1);
    h.state_mut().apply(annealscope::ui::Action::Trainer(
        annealscope::ui::Target::Both,
        annealscope::trainer::Command::SetPace(annealscope::pace::Pace::Max),
    ));
    h.run_steps(2);
    assert_eq!(h.state().lesson.as_ref().map(|l| l.index), Some(1));
    until(&mut h, "paused at step 250", |a| {
        !a.playing() && a.a.step() == 250
    });
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(10));
        h.step();
    }
    assert_eq!(h.state().a.step(), 250, "it stays paused at the cue");
    h.key_press(egui::Key::PageDown);
    h.run_steps(2);
    assert_eq!(h.state().title, title_of(2));
    h.key_press(egui::Key::PageUp);
    h.run_steps(2);
    assert_eq!(h.state().lesson.as_ref().map(|l| l.index), Some(1));
    h.key_press(egui::Key::End);
    h.run_steps(2);
    assert_eq!(h.state().lesson.as_ref().map(|l| l.index), Some(5));
    h.key_press(egui::Key::Home);
    h.run_steps(2);
    assert_eq!(h.state().lesson.as_ref().map(|l| l.index), Some(0));
    h.get_by_label("Next").click();
    h.run_steps(2);
    assert_eq!(h.state().lesson.as_ref().map(|l| l.index), Some(1));
}

#[test]
fn every_shipped_lesson_steps_through_all_its_slides() {
    for (name, _) in annealscope::lesson::BUILTIN {
        let lesson = Lesson::builtin(name).expect("shipped");
        let mut h = harness(Preset::builtin_default(), [1280.0, 800.0]);
        h.state_mut().apply(annealscope::ui::Action::OpenLesson(
            Box::new(lesson.clone()),
            name.into(),
        ));
        for (i, slide) in lesson.slides.iter().enumerate() {
            h.run_steps(2);
            let want = slide.session(name).expect("valid");
            assert_eq!(h.state().title, want.title, "{name} slide {}", i + 1);
            assert_eq!(h.state().a.config, want.run, "{name} slide {}", i + 1);
            assert_eq!(
                h.state().b.as_ref().map(|b| &b.config),
                want.compare.as_ref()
            );
            until(&mut h, &format!("{name} slide {} runs", i + 1), |a| {
                a.a.latest.is_some()
            });
            h.key_press(egui::Key::PageDown);
        }
        h.run_steps(2);
        assert_eq!(
            h.state().lesson.as_ref().map(|l| l.index),
            Some(lesson.slides.len() - 1),
            "{name}: stays on the last slide"
        );
    }
}

#[test]
fn check_refuses_a_lesson_with_a_missing_preset_naming_the_slide() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("broken.ron");
    std::fs::write(
        &path,
        r#"(title: "broken", slides: [(preset: Builtin("default"), narration: "ok"), (preset: Builtin("no-such"), narration: "?")])"#,
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_annealscope"))
        .arg("check")
        .arg(&path)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("broken.ron: slide 2:") && stderr.contains("no-such"),
        "{stderr}"
    );
    // The shipped lessons pass.
    let lessons = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/lessons");
    let files: Vec<_> = std::fs::read_dir(lessons)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_annealscope"))
        .arg("check")
        .args(&files)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
