//! Stopping rules: each stops a run at the step where it is first met (checked against
//! the same run without rules, step by step), through the engine, the trainer, the
//! command line and the app's status bar.

use annealscope::preset::Preset;
use annealscope::sim::{
    LandscapeConfig, ProblemConfig, Run, RunConfig, StopReason, StopRules, Surface,
};
use annealscope::trainer::{Command, Trainer};
use std::process::Output;
use std::time::{Duration, Instant};

fn default_run() -> RunConfig {
    Preset::builtin_default().run
}

/// Each step's (best energy, train accuracy) of `config` run without rules, from step 1.
fn reference(config: &RunConfig) -> Vec<(f64, f64)> {
    let mut run = Run::new(RunConfig {
        stop: None,
        ..config.clone()
    })
    .expect("valid");
    let i = run
        .observables()
        .iter()
        .position(|o| o.column == "train_accuracy")
        .expect("the network reports it");
    (0..config.steps)
        .map(|_| {
            run.step();
            let r = run.record();
            (r.best_energy, r.observables[i])
        })
        .collect()
}

/// Runs `config` (with its rules) to its end the way every driver does.
fn stopped(config: RunConfig) -> Run {
    let mut run = Run::new(config).expect("valid");
    while !run.finished() {
        run.step_recorded();
    }
    run
}

fn with_rules(stop: StopRules) -> RunConfig {
    RunConfig {
        stop: Some(stop),
        ..default_run()
    }
}

#[test]
fn each_rule_stops_the_run_at_the_first_step_it_is_met() {
    let config = default_run();
    let trace = reference(&config);
    let step_of = |i: usize| i as u64 + 1;

    // The best energy falls below a level it reaches about half-way.
    let target = trace[trace.len() / 2].0;
    let first = trace.iter().position(|t| t.0 < target).map(step_of);
    let run = stopped(with_rules(StopRules {
        energy_below: Some(target),
        ..StopRules::default()
    }));
    let Some(StopReason::EnergyBelow { step, best, .. }) = run.stop_reason() else {
        panic!("stopped by the energy rule: {:?}", run.stop_reason());
    };
    assert_eq!(Some(step), first);
    assert_eq!(run.annealer().steps(), step);
    assert!(best < target && step < config.steps);

    // Train accuracy reaches 90% (from 86% at the start of this seed's run).
    let first = trace.iter().position(|t| t.1 >= 0.9).map(step_of);
    let run = stopped(with_rules(StopRules {
        train_accuracy: Some(0.9),
        ..StopRules::default()
    }));
    let Some(StopReason::TrainAccuracy { step, accuracy, .. }) = run.stop_reason() else {
        panic!("stopped by the accuracy rule: {:?}", run.stop_reason());
    };
    assert_eq!(Some(step), first);
    assert_eq!(run.annealer().steps(), step);
    assert!(accuracy >= 0.9 && step > 1 && step < config.steps, "{step}");

    // No improvement of the best energy for 300 steps: found in the trace by hand.
    let patience = 300u64;
    let mut last = (f64::INFINITY, 0u64);
    let mut expected = None;
    let start = Run::new(config.clone())
        .expect("valid")
        .record()
        .best_energy;
    last.0 = start;
    for (i, t) in trace.iter().enumerate() {
        let s = step_of(i);
        if t.0 < last.0 {
            last = (t.0, s);
        }
        if s - last.1 >= patience {
            expected = Some(s);
            break;
        }
    }
    let expected = expected.expect("the default run stalls for 300 steps somewhere");
    let run = stopped(with_rules(StopRules {
        patience: Some(patience),
        ..StopRules::default()
    }));
    let Some(StopReason::Patience { step, .. }) = run.stop_reason() else {
        panic!("stopped by the patience rule: {:?}", run.stop_reason());
    };
    assert_eq!(step, expected);
    assert_eq!(run.annealer().steps(), expected);

    // Rules never change the trajectory: up to the stop it is the reference run.
    assert_eq!(
        run.record_cached().best_energy,
        trace[expected as usize - 1].0
    );
}

#[test]
fn without_a_rule_met_the_run_goes_to_its_end() {
    let run = stopped(RunConfig {
        steps: 2000,
        ..with_rules(StopRules {
            energy_below: Some(-1.0),
            train_accuracy: Some(1.0 + 0.0),
            patience: Some(1_000_000),
        })
    });
    // 100% train accuracy may be reached: then that rule stops it first.
    match run.stop_reason() {
        None => assert_eq!(run.annealer().steps(), 2000),
        Some(r) => assert_eq!(r.rule(), "train_accuracy"),
    }
}

#[test]
fn rules_are_validated_with_their_field_paths() {
    let landscape = RunConfig {
        problem: ProblemConfig::Landscape(LandscapeConfig {
            surface: Surface::Harmonic,
            ..LandscapeConfig::default()
        }),
        stop: Some(StopRules {
            train_accuracy: Some(0.9),
            ..StopRules::default()
        }),
        ..default_run()
    };
    let e = landscape
        .validate()
        .expect_err("no accuracy on a landscape");
    assert_eq!(e.field, "stop.train_accuracy");
    assert!(e.allowed.contains("train_accuracy"), "{}", e.allowed);
    for (stop, field) in [
        (
            StopRules {
                energy_below: Some(f64::NAN),
                ..StopRules::default()
            },
            "stop.energy_below",
        ),
        (
            StopRules {
                train_accuracy: Some(1.5),
                ..StopRules::default()
            },
            "stop.train_accuracy",
        ),
        (
            StopRules {
                patience: Some(0),
                ..StopRules::default()
            },
            "stop.patience",
        ),
    ] {
        let e = with_rules(stop).validate().expect_err(field);
        assert_eq!(e.field, field);
    }
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("bad.ron");
    std::fs::write(
        &path,
        "(run: (problem: Landscape((surface: Harmonic)), stop: Some((train_accuracy: Some(0.9)))))",
    )
    .expect("write");
    let out = annealscope(&["check", path.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("`run.stop.train_accuracy` = 0.9"), "{err}");
}

#[test]
fn the_trainer_pauses_where_a_rule_stops_the_run() {
    let target = reference(&default_run())[5000].0;
    let config = with_rules(StopRules {
        energy_below: Some(target),
        ..StopRules::default()
    });
    let expected = stopped(config.clone()).stop_reason().expect("stops");
    let trainer = Trainer::spawn(config, annealscope::pace::Pace::Max, None).expect("starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    let last = loop {
        let s = trainer
            .recv_timeout(Duration::from_secs(5))
            .expect("snapshots");
        if s.stopped.is_some() && !s.playing {
            break s;
        }
        assert!(Instant::now() < deadline, "the rule stops the trainer");
    };
    assert_eq!(last.stopped, Some(expected));
    assert_eq!(last.latest.step, expected.step());
    assert!(last.finished);
    // Play carries on past the stop, as past the last step.
    trainer.send(Command::Play);
    let deadline = Instant::now() + Duration::from_secs(20);
    while trainer
        .recv_timeout(Duration::from_secs(5))
        .expect("snapshots")
        .latest
        .step
        <= expected.step()
    {
        assert!(Instant::now() < deadline, "played on");
    }
}

fn annealscope(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_annealscope"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn the_summary_and_the_csv_say_why_the_run_stopped() {
    let dir = tempfile::tempdir().expect("tmp");
    let preset = dir.path().join("p.ron");
    let mut p = Preset::builtin_default();
    p.run.stop = Some(StopRules {
        patience: Some(300),
        ..StopRules::default()
    });
    p.save(&preset, false).expect("saved");
    let expected = stopped(p.run.clone()).stop_reason().expect("stops");
    let csv = dir.path().join("run.csv");
    let out = annealscope(&[
        "run",
        "--preset",
        preset.to_str().expect("utf-8"),
        "--every",
        "1000",
        "--csv",
        csv.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    let line = format!(
        "stopped         at step {}: no improvement",
        expected.step()
    );
    assert!(summary.contains(&line), "{summary}");
    let text = std::fs::read_to_string(&csv).expect("csv");
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .expect("header")
            .ends_with(",heat_capacity,stopped_by")
    );
    let rows: Vec<&str> = lines.collect();
    let last = rows.last().expect("rows");
    assert!(
        last.starts_with(&format!("{},", expected.step())) && last.ends_with(",patience"),
        "{last}"
    );
    assert!(rows[..rows.len() - 1].iter().all(|r| r.ends_with(',')));
}

#[test]
fn the_status_bar_says_why_the_run_stopped() {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    let mut preset = Preset::builtin_default();
    preset.run.stop = Some(StopRules {
        energy_below: Some(0.6),
        ..StopRules::default()
    });
    preset.pace = annealscope::pace::Pace::Max;
    let app = annealscope::ui::App::new(&egui::Context::default(), preset).expect("app");
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 900.0))
        .build_ui_state(|ui, app: &mut annealscope::ui::App| app.frame(ui), app);
    let deadline = Instant::now() + Duration::from_secs(10);
    while h
        .state()
        .a
        .latest
        .as_ref()
        .is_none_or(|l| l.stopped.is_none() || l.playing)
    {
        assert!(Instant::now() < deadline, "the rule stops the run");
        std::thread::sleep(Duration::from_millis(10));
        h.step();
    }
    h.step();
    let l = h.state().a.latest.clone().expect("latest");
    let reason = l.stopped.expect("stopped");
    let text = format!("stopped ({reason}), step {}", reason.step());
    assert!(
        h.query_by_label(&text).is_some(),
        "the status bar shows {text:?}"
    );
}
