//! Legitimate extreme presets (`tests/extreme/`): the edges of every allowed range. Each
//! is accepted and runs 2000 steps with finite energies, its run B too; walkers never sit
//! on a wall. (Their wall time, in release, is in the README: `annealscope run --preset
//! FILE --steps 2000`.)

use annealscope::preset::Preset;
use annealscope::sim::{Kind, Run, RunConfig};
use std::path::{Path, PathBuf};

/// The heaviest presets, checked by a test of their own (so that the two run in parallel).
const HEAVY: [&str; 1] = ["largest-data.ron"];

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/extreme");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

fn is_heavy(f: &Path) -> bool {
    HEAVY.iter().any(|h| f.ends_with(h))
}

/// Runs `config` 2000 steps, checking every step's energy and best energy, and at the
/// end every walker's energy and every replica's.
fn runs_finite(name: &str, config: &RunConfig) {
    let mut run = Run::new(RunConfig {
        steps: 2000,
        ..config.clone()
    })
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    while !run.finished() {
        let r = run.step_recorded();
        assert!(
            r.energy.is_finite() && r.best_energy.is_finite() && r.temperature.is_finite(),
            "{name} at step {}: {r:?}",
            r.step
        );
    }
    assert_eq!(run.annealer().steps(), 2000);
    if let Some(l) = run.landscape() {
        assert!(
            l.energies().iter().all(|e| e.is_finite()),
            "{name}: a walker on a wall"
        );
    }
    for i in 0..run.engine().len() {
        let (p, a) = run.engine().slot(i);
        assert!(
            a.energy().is_finite() && p.particles() > 0,
            "{name}: replica {i}"
        );
    }
}

fn check_corpus(heavy: bool) {
    let files: Vec<PathBuf> = corpus()
        .into_iter()
        .filter(|f| is_heavy(f) == heavy)
        .collect();
    assert!(!files.is_empty());
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).expect("name");
        let preset = Preset::load(f).unwrap_or_else(|e| panic!("{e}"));
        runs_finite(name, &preset.run);
        if let Some(b) = &preset.compare {
            runs_finite(&format!("{name} (run B)"), b);
        }
    }
}

#[test]
fn every_extreme_preset_runs_2000_steps_with_finite_energies() {
    assert!(corpus().len() >= 20, "the whole corpus");
    check_corpus(false);
}

#[test]
fn the_largest_data_set_runs_2000_steps_with_finite_energies() {
    check_corpus(true);
}
