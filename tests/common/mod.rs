//! Helpers shared by the integration tests.

use annealscope::preset::Preset;
use annealscope::sim::Run;

/// A shipped preset run to its end with `seed`.
pub fn finished_preset(name: &str, seed: u64) -> Run {
    let preset = Preset::builtin(name).unwrap_or_else(|| panic!("{name} is shipped"));
    let mut config = preset.run.clone();
    config.seed = seed;
    let mut run = Run::new(config).expect("valid");
    let steps = run.config().steps;
    run.run(steps);
    run
}
