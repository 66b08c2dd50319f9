//! The cooperative driver (the web page's, without threads) serves the same protocol as
//! the trainer thread: it steps only when driven, within its budget, obeys the pace and
//! the commands, and takes the same trajectory; the whole app runs on it.

use annealscope::pace::Pace;
use annealscope::preset::Preset;
use annealscope::sim::{Run, RunConfig};
use annealscope::trainer::{Command, Driver, Snapshot, Trainer};
use annealscope::ui::{App, FRAME_BUDGET};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};

fn long_config() -> RunConfig {
    RunConfig {
        steps: 10_000_000_000,
        ..RunConfig::default()
    }
}

/// Drives `trainer` until a snapshot satisfies `pred`, for at most 5 seconds.
fn wait_for(trainer: &Trainer, pred: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Some(s) = trainer.recv_timeout(Duration::from_millis(20))
            && pred(&s)
        {
            return s;
        }
    }
    panic!("no matching snapshot within 5 s");
}

#[test]
fn nothing_happens_between_drives_and_a_drive_keeps_to_its_budget() {
    let trainer = Trainer::cooperative(long_config(), Pace::Max, None).expect("start");
    assert!(trainer.is_cooperative());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(trainer.snapshots().count(), 0, "no thread steps it");
    let mut step = 0;
    for _ in 0..20 {
        let started = Instant::now();
        let again = trainer.drive(Duration::from_millis(4));
        let took = started.elapsed();
        // One batch (about a millisecond) may straddle the end of the budget.
        assert!(took < Duration::from_millis(4 + 50), "{took:?}");
        assert_eq!(again, Some(Duration::ZERO), "flat out: drive again at once");
        let s: Vec<Snapshot> = trainer.snapshots().collect();
        assert_eq!(s.len(), 1, "one snapshot per drive");
        assert!(s[0].latest.step > step, "it stepped");
        step = s[0].latest.step;
    }
}

#[test]
fn the_same_trajectory_as_the_thread_and_the_bare_run() {
    let config = RunConfig {
        steps: 20_000,
        ..RunConfig::default()
    };
    let at = 7_777;
    let mut reports = Vec::new();
    for driver in [Driver::Thread, Driver::Cooperative] {
        let trainer = Trainer::start_with(driver, config.clone(), Pace::Max, None).expect("start");
        trainer.send(Command::RunTo(at));
        let s = wait_for(&trainer, |s| !s.playing && s.latest.step == at);
        reports.push(s.latest);
    }
    let mut run = Run::new(config).expect("valid");
    run.run(at);
    let bare = run.record();
    for r in &reports {
        assert_eq!(r.step, bare.step);
        assert_eq!(r.energy.to_bits(), bare.energy.to_bits());
        assert_eq!(r.best_energy.to_bits(), bare.best_energy.to_bits());
        assert_eq!(r.temperature.to_bits(), bare.temperature.to_bits());
        assert_eq!(r.acceptance_rate.to_bits(), bare.acceptance_rate.to_bits());
    }
}

#[test]
fn pause_step_and_the_pace_are_obeyed() {
    let trainer = Trainer::cooperative(long_config(), Pace::Max, None).expect("start");
    wait_for(&trainer, |s| s.latest.step > 0);
    trainer.send(Command::Pause);
    let at = wait_for(&trainer, |s| !s.playing).latest.step;
    assert_eq!(trainer.drive(FRAME_BUDGET), None, "paused: nothing to do");
    trainer.send(Command::Step(37));
    let s = wait_for(&trainer, |s| s.latest.step == at + 37);
    assert!(!s.playing);
    for _ in 0..10 {
        trainer.drive(FRAME_BUDGET);
    }
    let last = trainer
        .snapshots()
        .last()
        .map_or(s.latest.step, |s| s.latest.step);
    assert_eq!(last, at + 37, "exactly 37 steps");

    // At 200 steps per second, driven like a page at 60 frames a second for a second.
    trainer.send(Command::SetPace(Pace::StepsPerSecond(200.0)));
    trainer.send(Command::Play);
    let started = Instant::now();
    let mut waits = Vec::new();
    let mut s = None;
    while started.elapsed() < Duration::from_secs(1) {
        waits.push(trainer.drive(FRAME_BUDGET));
        // Read like the UI: every frame (the channel holds four snapshots).
        s = trainer.snapshots().last().or(s);
        std::thread::sleep(Duration::from_millis(16));
    }
    let s = s.expect("snapshots");
    let stepped = (s.latest.step - at - 37) as f64;
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        stepped <= 200.0 * seconds + 2.0,
        "{stepped} steps in {seconds} s"
    );
    assert!(stepped >= 150.0, "{stepped} steps in {seconds} s");
    assert!(
        waits.iter().any(|w| w.is_some_and(|w| w > Duration::ZERO)),
        "a paced run asks to be driven later, not at once: {waits:?}"
    );
}

#[test]
fn shutdown_stops_a_cooperative_trainer() {
    let mut trainer = Trainer::cooperative(long_config(), Pace::Max, None).expect("start");
    wait_for(&trainer, |s| s.latest.step > 0);
    trainer.send(Command::Shutdown);
    assert_eq!(trainer.drive(FRAME_BUDGET), None);
    while trainer.snapshots().next().is_some() {}
    assert_eq!(trainer.drive(FRAME_BUDGET), None);
    assert_eq!(trainer.snapshots().count(), 0, "no more snapshots");
    assert!(trainer.crashed().is_none());
    assert!(trainer.shutdown().is_ok());
}

fn cooperative_app(preset: Preset) -> Harness<'static, App> {
    let app = App::with_driver(&egui::Context::default(), preset, Driver::Cooperative)
        .expect("app starts");
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut App| app.frame(ui), app)
}

/// Runs frames until `pred` holds, for at most 5 s of wall time.
fn until(h: &mut Harness<'static, App>, pred: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pred(h.state()) {
        assert!(Instant::now() < deadline, "condition not reached");
        h.step();
    }
}

#[test]
fn the_app_plays_pauses_and_compares_on_the_cooperative_driver() {
    let mut preset = Preset::builtin_default();
    preset.run.steps = 10_000_000_000;
    preset.pace = Pace::Max;
    let mut h = cooperative_app(preset);
    assert!(h.state().a.cooperative());
    until(&mut h, |a| a.playing() && a.a.step() > 1000);
    h.key_press(egui::Key::Space);
    h.step();
    until(&mut h, |a| !a.playing());
    let paused = h.state().a.step();
    h.run_steps(5);
    assert_eq!(h.state().a.step(), paused, "paused: no steps");
    h.key_press(egui::Key::S);
    h.step();
    until(&mut h, |a| a.a.step() == paused + 1);
    // Compare: both runs step within the frame's budget, shared.
    h.get_by_label("Compare").click();
    h.run_steps(2);
    h.get_by_label("Compare with a copy of this run").click();
    h.step();
    until(&mut h, |a| a.b.is_some());
    h.key_press(egui::Key::Space);
    h.step();
    until(&mut h, |a| {
        a.a.step() > 1000
            && a.b
                .as_ref()
                .is_some_and(|b| b.cooperative() && b.step() > 1000)
    });
}
