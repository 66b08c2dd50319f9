//! The shipped presets learn (or fail) as their descriptions say.

mod common;

use annealscope::preset::{BUILTIN, Preset};
use annealscope::sim::Run;

fn final_accuracy(preset: &Preset, seed: u64, steps: u64) -> f64 {
    let mut config = preset.run.clone();
    config.seed = seed;
    config.steps = steps;
    let mut run = Run::new(config).expect("valid preset");
    run.run(steps);
    common::accuracies(&run).0
}

#[test]
fn the_default_preset_learns_the_quadrants_for_nine_of_ten_seeds() {
    let preset = Preset::builtin_default();
    let accuracies: Vec<f64> = (0..10)
        .map(|seed| final_accuracy(&preset, seed, 20_000))
        .collect();
    let good = accuracies.iter().filter(|&&a| a >= 0.95).count();
    assert!(good >= 9, "train accuracies {accuracies:?}");
}

#[test]
fn the_article_settings_do_not_learn() {
    let preset = Preset::builtin("seed-article").expect("shipped");
    assert_eq!(preset.run.steps, 500);
    assert_eq!(preset.run.annealer.step_size, 0.001);
    for seed in 0..5 {
        let acc = final_accuracy(&preset, seed, preset.run.steps);
        assert!(acc < 0.7, "seed {seed}: accuracy {acc}");
    }
}

#[test]
fn every_shipped_preset_validates_and_runs() {
    for (name, text) in BUILTIN {
        let preset = Preset::from_ron(text, name).unwrap_or_else(|e| panic!("{e}"));
        let mut run = Run::new(preset.run.clone()).expect("valid");
        // Up to 1000 steps, within the preset's own length (a Boltzmann machine learning
        // 4x4 images takes 160 steps of several milliseconds each).
        run.run(preset.run.steps.min(1000));
        assert!(run.record().energy.is_finite(), "{name}");
    }
}

#[test]
fn the_default_preset_file_documents_the_built_in_defaults() {
    assert_eq!(
        Preset::builtin_default().run,
        annealscope::sim::RunConfig::default()
    );
}

#[test]
fn same_config_same_trajectory_different_seed_different_one() {
    let preset = Preset::builtin_default();
    let trace = |seed: u64, chunks: &[u64]| {
        let mut config = preset.run.clone();
        config.seed = seed;
        let mut run = Run::new(config).expect("valid");
        let mut out = Vec::new();
        for &n in chunks {
            run.run(n);
            out.push(run.record());
        }
        (
            out.last().copied(),
            run.network().expect("network").params().to_vec(),
        )
    };
    // Stepping in different bursts gives the same state.
    let a = trace(5, &[3000]);
    let b = trace(5, &[1, 999, 7, 1993]);
    assert_eq!(a.1, b.1);
    assert_eq!(a.0.map(|r| r.energy), b.0.map(|r| r.energy));
    let c = trace(6, &[3000]);
    assert_ne!(a.1, c.1);
}

#[test]
fn at_least_eight_lecture_presets_with_descriptions_are_shipped() {
    assert!(BUILTIN.len() >= 8);
    for (name, text) in BUILTIN {
        let p = Preset::from_ron(text, name).expect("valid");
        assert!(
            p.description.len() > 150,
            "{name}: the description should teach"
        );
    }
}

#[test]
fn quench_freezes_within_fifteen_steps_and_greedy_descent_still_learns() {
    let preset = Preset::builtin("quench").expect("shipped");
    let mut run = Run::new(preset.run.clone()).expect("valid");
    run.run(15);
    assert_eq!(run.annealer().temperature(), preset.run.annealer.t_min);
    let done = common::finished_preset("quench", 0);
    assert!(common::accuracies(&done).0 >= 0.9);
}

#[test]
fn too_hot_never_freezes_and_accuracy_wanders() {
    for seed in 0..3 {
        let run = common::finished_preset("too-hot", seed);
        assert!(run.annealer().temperature() > 0.3, "still hot");
        assert!(
            run.annealer().acceptance_window() > 0.8,
            "uphill moves keep being taken"
        );
        assert!(
            common::accuracies(&run).0 < 0.9,
            "seed {seed}: it never settles"
        );
    }
}

#[test]
fn cosine_restarts_reheat_every_period_and_learn() {
    let preset = Preset::builtin("cosine-restarts").expect("shipped");
    let mut run = Run::new(preset.run.clone()).expect("valid");
    let mut reheats = 0;
    let mut last = run.annealer().temperature();
    for _ in 0..preset.run.steps {
        run.step();
        let t = run.annealer().temperature();
        if t > 10.0 * last {
            reheats += 1;
        }
        last = t;
    }
    // The temperature for the next step jumps back to T0 at steps 4000, 8000, ..., 20000.
    assert_eq!(reheats, 5);
    assert!(common::accuracies(&run).0 >= 0.95);
}

#[test]
fn spirals_and_circles_are_learned() {
    for (name, seeds) in [("spirals-wide", 0..2), ("circles-tanh", 0..3)] {
        for seed in seeds {
            let run = common::finished_preset(name, seed);
            let (train, test) = common::accuracies(&run);
            assert!(
                train >= 0.95 && test >= 0.85,
                "{name} seed {seed}: {train} {test}"
            );
        }
    }
}

#[test]
fn the_adaptive_thermostat_holds_its_target_acceptance() {
    for seed in 0..3 {
        let run = common::finished_preset("adaptive", seed);
        let rate = run.annealer().acceptance_window();
        assert!((rate - 0.2).abs() < 0.05, "seed {seed}: {rate}");
        assert!(common::accuracies(&run).0 >= 0.95);
    }
}

#[test]
fn comparison_presets_run_both_sides_as_described() {
    let run_side = |config: &annealscope::sim::RunConfig| {
        let mut run = Run::new(config.clone()).expect("valid");
        let steps = run.config().steps;
        run.run(steps);
        common::accuracies(&run).0
    };
    let p = Preset::builtin("compare-anneal-vs-quench").expect("shipped");
    let b = p.compare.clone().expect("a B side");
    assert!(
        run_side(&p.run) >= 0.9 && run_side(&b) >= 0.9,
        "both learn the quadrants"
    );
    let p = Preset::builtin("compare-langevin-vs-gd").expect("shipped");
    let b = p.compare.clone().expect("a B side");
    assert!(
        matches!(b.annealer.schedule, annealscope::sim::Schedule::Constant { t0 } if t0 < 1e-6),
        "B is gradient descent"
    );
    assert!(
        run_side(&p.run) >= 0.95 && run_side(&b) >= 0.9,
        "both learn the spirals"
    );
    let p = Preset::builtin("compare-sa-vs-langevin").expect("shipped");
    let b = p.compare.clone().expect("a B side");
    assert!(
        run_side(&b) >= 0.95,
        "Langevin learns the spirals in its 20k steps"
    );
}
