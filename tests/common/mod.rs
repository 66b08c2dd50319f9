//! Helpers shared by the integration tests.

use annealscope::preset::Preset;
use annealscope::sim::Run;

/// A shipped preset run to its end with `seed`.
#[allow(dead_code)]
pub fn finished_preset(name: &str, seed: u64) -> Run {
    let preset = Preset::builtin(name).unwrap_or_else(|| panic!("{name} is shipped"));
    let mut config = preset.run.clone();
    config.seed = seed;
    let mut run = Run::new(config).expect("valid");
    let steps = run.config().steps;
    run.run(steps);
    run
}

/// Train and test accuracy of a network run.
#[allow(dead_code)]
pub fn accuracies(run: &Run) -> (f64, f64) {
    let net = run.network().expect("a network run");
    (net.train_accuracy(), net.test_accuracy())
}

/// The value of the observable in CSV column `column` at the run's current step.
#[allow(dead_code)]
pub fn observable(run: &mut Run, column: &str) -> f64 {
    let i = run
        .observables()
        .iter()
        .position(|o| o.column == column)
        .unwrap_or_else(|| panic!("the run reports {column}"));
    run.record().observables[i]
}
