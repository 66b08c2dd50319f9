//! The trainer thread obeys its commands and never waits on its receiver.

use annealscope::pace::Pace;
use annealscope::sim::{ProblemConfig, RunConfig, Schedule};
use annealscope::trainer::{Command, Event, Snapshot, Trainer};
use std::time::{Duration, Instant};

fn long_config() -> RunConfig {
    RunConfig {
        steps: 10_000_000_000,
        ..RunConfig::default()
    }
}

/// Waits for a snapshot satisfying `pred`, for at most 5 seconds.
fn wait_for(trainer: &Trainer, pred: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Some(s) = trainer.recv_timeout(Duration::from_millis(100))
            && pred(&s)
        {
            return s;
        }
    }
    panic!("no matching snapshot within 5 s");
}

fn latest(trainer: &Trainer, mut last: Snapshot) -> Snapshot {
    // Drain to the newest, giving the trainer time to report the last command.
    let until = Instant::now() + Duration::from_millis(300);
    while Instant::now() < until {
        if let Some(s) = trainer.recv_timeout(Duration::from_millis(50)) {
            last = s;
        }
    }
    last
}

#[test]
fn pause_stops_stepping_and_step_n_advances_exactly_n() {
    let trainer = Trainer::spawn(long_config(), Pace::Max, None).expect("spawn");
    wait_for(&trainer, |s| s.latest.step > 0);
    trainer.send(Command::Pause);
    let paused = wait_for(&trainer, |s| !s.playing);
    let at = paused.latest.step;
    std::thread::sleep(Duration::from_millis(200));
    trainer.send(Command::Step(0));
    let s = wait_for(&trainer, |_| true);
    assert_eq!(latest(&trainer, s).latest.step, at, "paused: no steps");
    trainer.send(Command::Step(37));
    let s = wait_for(&trainer, |s| s.latest.step == at + 37);
    assert!(!s.playing);
    assert_eq!(latest(&trainer, s).latest.step, at + 37, "exactly 37 steps");
    trainer.send(Command::Play);
    wait_for(&trainer, |s| s.playing && s.latest.step > at + 37);
}

#[test]
fn live_parameter_changes_show_in_the_next_snapshot_without_restarting() {
    let trainer = Trainer::spawn(long_config(), Pace::Max, None).expect("spawn");
    let first = wait_for(&trainer, |s| s.latest.step > 1000);
    let mut config = long_config();
    config.annealer.step_size = 0.0123;
    let schedule = Schedule::Geometric {
        t0: 1.0,
        alpha: 0.9,
    };
    config.annealer.schedule = schedule.clone();
    trainer.send(Command::SetConfig(Box::new(config.clone())));
    let s = wait_for(&trainer, |s| s.step_size == 0.0123);
    assert_eq!(s.schedule.schedule(), &schedule);
    assert_eq!(
        s.generation, first.generation,
        "a live change does not restart"
    );
    assert!(s.latest.step > 1000);
    // A new problem (a wider network) restarts, once.
    let mut wider = config;
    let ProblemConfig::Network(net) = &mut wider.problem else {
        panic!("the default is a network")
    };
    net.hidden = 8;
    trainer.send(Command::SetConfig(Box::new(wider)));
    let r = wait_for(&trainer, |s| {
        s.events.iter().any(|e| matches!(e, Event::Restarted))
    });
    assert_eq!(r.generation, first.generation + 1);
}

#[test]
fn out_of_range_configs_are_refused_with_an_error() {
    let trainer = Trainer::spawn(long_config(), Pace::Max, None).expect("spawn");
    wait_for(&trainer, |_| true);
    let mut bad = long_config();
    if let ProblemConfig::Network(net) = &mut bad.problem {
        net.hidden = 999;
    }
    trainer.send(Command::SetConfig(Box::new(bad)));
    let s = wait_for(&trainer, |s| !s.events.is_empty());
    let [Event::Refused { error, in_force }] = &s.events[..] else {
        panic!("a refusal, not {:?}", s.events)
    };
    assert_eq!(error.field, "problem.Network.hidden");
    assert_eq!(**in_force, long_config(), "the run goes on as it was");
}

#[test]
fn reset_returns_to_step_zero_and_reheat_sets_the_temperature() {
    let trainer = Trainer::spawn(long_config(), Pace::Max, None).expect("spawn");
    wait_for(&trainer, |s| s.latest.step > 5000);
    trainer.send(Command::Pause);
    trainer.send(Command::Reset);
    let s = wait_for(&trainer, |s| s.generation == 1);
    assert_eq!(s.latest.step, 0);
    trainer.send(Command::SetTemperature(0.25));
    let s = wait_for(&trainer, |s| s.schedule.temperature() == 0.25);
    assert_eq!(s.latest.step, 0);
}

#[test]
fn speed_limit_is_obeyed() {
    let trainer = Trainer::spawn(long_config(), Pace::StepsPerSecond(200.0), None).expect("spawn");
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(500));
    let s = latest(&trainer, wait_for(&trainer, |_| true));
    let expected = 200.0 * start.elapsed().as_secs_f64();
    assert!(
        (s.latest.step as f64) <= expected + 5.0,
        "{} steps in {:?}",
        s.latest.step,
        start.elapsed()
    );
    assert!(s.latest.step >= 50);
}

#[test]
fn history_covers_every_step_and_stops_at_the_run_length() {
    let config = RunConfig {
        steps: 30_000,
        ..RunConfig::default()
    };
    let trainer = Trainer::spawn(config, Pace::Max, None).expect("spawn");
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "run did not finish");
        if let Some(s) = trainer.recv_timeout(Duration::from_millis(100)) {
            for b in s.history.buckets() {
                seen.push((b.first, b.last));
            }
            if s.finished && !s.playing {
                break;
            }
        }
    }
    // Buckets tile steps 1..=30000 without gaps or overlaps.
    let mut next = 1;
    for (first, last) in seen {
        assert_eq!(first, next);
        next = last + 1;
    }
    assert_eq!(next, 30_001);
}

#[test]
fn a_receiver_that_never_reads_neither_blocks_nor_grows_the_trainer() {
    let trainer = Trainer::spawn(long_config(), Pace::Max, None).expect("spawn");
    // Never read for a while; the trainer must keep stepping at full speed.
    std::thread::sleep(Duration::from_millis(1500));
    // What is queued now: the channel's few snapshots plus the trainer's own backlog.
    let mut total_buckets = 0;
    let mut last = None;
    for s in trainer.snapshots() {
        total_buckets += s.history.buckets().len();
        last = Some(s);
    }
    let s = wait_for(&trainer, |_| true);
    total_buckets += s.history.buckets().len();
    let _ = last;
    let last = s;
    // At least 100k steps a second even in a debug build, yet the backlog is bounded.
    assert!(
        last.latest.step > 100_000,
        "only {} steps",
        last.latest.step
    );
    assert!(
        total_buckets <= 4 * 4096 + 4096,
        "backlog of {total_buckets} buckets"
    );
}

#[test]
fn dropping_the_handle_joins_the_thread_within_a_second() {
    let trainer = Trainer::spawn(long_config(), Pace::Max, None).expect("spawn");
    wait_for(&trainer, |s| s.latest.step > 0);
    let start = Instant::now();
    drop(trainer);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

/// Issue 10, item 2: a landscape's exact readouts and exact curves are computed on the
/// trainer thread and arrive in the view at the run's temperature (the UI only draws
/// them); the curve fills in over successive views and ends with its heat-capacity peak.
/// The double well cooled geometrically: the readouts follow `T` down.
#[test]
fn landscape_readouts_and_curves_arrive_in_the_view() {
    use annealscope::sim::ProblemView;
    use annealscope::sim::landscape::{LandscapeConfig, Surface};
    let config = RunConfig {
        problem: ProblemConfig::Landscape(LandscapeConfig {
            surface: Surface::DoubleWell { tilt: 0.3 },
            walkers: 100,
            ..LandscapeConfig::default()
        }),
        annealer: annealscope::sim::AnnealerConfig {
            schedule: Schedule::Geometric {
                t0: 2.0,
                alpha: 0.999999,
            },
            t_min: 0.01,
            step_size: 0.3,
            ..Default::default()
        },
        steps: 10_000_000_000,
        ..RunConfig::default()
    };
    let trainer = Trainer::spawn(config, Pace::Max, None).expect("spawn");
    let ready = |s: &Snapshot| {
        s.view.as_ref().is_some_and(|v| {
            matches!(&**v, ProblemView::Landscape(l)
                if l.readouts.is_some() && l.curve.as_ref().is_some_and(|c| c.remaining == 0))
        })
    };
    let s = wait_for(&trainer, ready);
    let view = s.view.expect("a view");
    let ProblemView::Landscape(l) = &*view else {
        panic!("a landscape view")
    };
    let r = l.readouts.as_ref().expect("readouts");
    let exact = r.exact.as_ref().expect("exact");
    assert!(
        r.temperature < 2.0 && r.temperature > 0.01,
        "{}",
        r.temperature
    );
    assert!(exact.ln_z.is_finite() && exact.heat_capacity > 0.0);
    assert!((r.walkers.mean_energy - exact.mean_energy).abs() < 1.0);
    let curve = l.curve.as_ref().expect("curve");
    assert_eq!(curve.range, [0.01, 2.0]);
    let (t_peak, _) = curve.peak.expect("the double well's C peak");
    assert!((t_peak / 0.2413 - 1.0).abs() < 0.05, "{t_peak}");
    // Later views follow T down.
    let later = wait_for(&trainer, |s| {
        s.view.as_ref().is_some_and(|v| {
            matches!(&**v, ProblemView::Landscape(l)
                if l.readouts.as_ref().is_some_and(|x| x.temperature < 0.9 * r.temperature))
        })
    });
    assert!(later.latest.temperature < r.temperature);
}
