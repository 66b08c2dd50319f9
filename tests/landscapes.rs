//! Walkers on 2D landscapes sample the exact Boltzmann distribution of the grid.

mod common;

use annealscope::sim::landscape::{LandscapeConfig, Surface};
use annealscope::sim::{AnnealerConfig, ProblemConfig, Run, RunConfig, Schedule};
use std::f64::consts::PI;

/// Pooled histogram of walkers sampling at `t`, on a `bins x bins` grid, against the exact
/// distribution at `t_expected` from quadrature on a fine grid; returns the chi-square and
/// its degrees of freedom.
fn chi_square(surface: Surface, t: f64, t_expected: f64, sigma: f64, seed: u64) -> (f64, usize) {
    let walkers = 40;
    let config = RunConfig {
        problem: ProblemConfig::Landscape(LandscapeConfig {
            surface,
            walkers,
            ..LandscapeConfig::default()
        }),
        annealer: AnnealerConfig {
            schedule: Schedule::Constant { t0: t },
            step_size: sigma,
            ..AnnealerConfig::default()
        },
        seed,
        steps: 10_000_000_000,
        ..RunConfig::default()
    };
    let mut run = Run::new(config).expect("valid");
    let land = run.landscape().expect("a landscape run");
    let bounds = land.bounds();
    let bins = 8;
    let fine = land.surface().grid(bounds, bins * 25);
    let p_fine = fine.boltzmann(t_expected);
    let mut expected = vec![0.0; bins * bins];
    for r in 0..bins * 25 {
        for c in 0..bins * 25 {
            expected[(r / 25) * bins + c / 25] += p_fine[r * bins * 25 + c];
        }
    }
    let coarse = land.surface().grid(bounds, bins);
    let mut counts = vec![0u64; bins * bins];
    // Burn in, then sample every 20 sweeps.
    run.run(200 * walkers as u64);
    for _ in 0..600 {
        run.run(20 * walkers as u64);
        for w in run.landscape().expect("landscape").walkers() {
            if let Some(cell) = coarse.cell(w[0], w[1]) {
                counts[cell] += 1;
            }
        }
    }
    binned_chi_square(&counts, &expected)
}

/// Pearson's chi-square of `counts` against probabilities `p`, cells expecting fewer than
/// five counts pooled into one; returns the statistic and its degrees of freedom.
fn binned_chi_square(counts: &[u64], p: &[f64]) -> (f64, usize) {
    let total: u64 = counts.iter().sum();
    let mut chi2 = 0.0;
    let mut cells = 0;
    let (mut rest_e, mut rest_c) = (0.0, 0.0);
    for (&c, &p) in counts.iter().zip(p) {
        let e = p * total as f64;
        if e >= 5.0 {
            chi2 += (c as f64 - e).powi(2) / e;
            cells += 1;
        } else {
            rest_e += e;
            rest_c += c as f64;
        }
    }
    if rest_e > 0.0 {
        chi2 += (rest_c - rest_e).powi(2) / rest_e;
        cells += 1;
    }
    (chi2, cells - 1)
}

/// The 0.1% critical value of chi-square with `k` degrees of freedom
/// (Wilson-Hilferty approximation).
fn critical(k: usize) -> f64 {
    let k = k as f64;
    let z = 3.09;
    k * (1.0 - 2.0 / (9.0 * k) + z * (2.0 / (9.0 * k)).sqrt()).powi(3)
}

#[test]
fn walkers_on_the_harmonic_bowl_sample_the_gaussian() {
    let (chi2, dof) = chi_square(Surface::Harmonic, 1.0, 1.0, 1.0, 1);
    assert!(chi2 < critical(dof), "chi-square {chi2:.1} with {dof} dof");
}

#[test]
fn walkers_in_the_tilted_double_well_sample_its_boltzmann_distribution() {
    let (chi2, dof) = chi_square(Surface::DoubleWell { tilt: 0.3 }, 0.4, 0.4, 0.5, 2);
    assert!(chi2 < critical(dof), "chi-square {chi2:.1} with {dof} dof");
}

#[test]
fn the_test_fails_against_the_wrong_temperature() {
    let (chi2, dof) = chi_square(Surface::DoubleWell { tilt: 0.3 }, 0.4, 0.8, 0.5, 2);
    assert!(
        chi2 > 3.0 * critical(dof),
        "chi-square {chi2:.1} with {dof} dof"
    );
}

fn share(run: &Run, pred: impl Fn(&[f64; 2], f64) -> bool) -> f64 {
    let land = run.landscape().expect("landscape");
    let n = land
        .walkers()
        .iter()
        .zip(land.energies())
        .filter(|(w, e)| pred(w, **e))
        .count();
    n as f64 / land.len() as f64
}

#[test]
fn slow_cooling_finds_the_deep_well_and_a_quench_does_not() {
    for seed in 0..2 {
        let slow = share(&common::finished_preset("well-slow", seed), |w, _| {
            w[0] < 0.0
        });
        let fast = share(&common::finished_preset("well-quench", seed), |w, _| {
            w[0] < 0.0
        });
        assert!(slow >= 0.85, "seed {seed}: slow {slow}");
        assert!(fast <= 0.75, "seed {seed}: quench {fast}");
    }
}

#[test]
fn muller_brown_walkers_reach_the_middle_basin_but_not_the_deepest() {
    let run = common::finished_preset("muller-brown", 0);
    assert!(share(&run, |_, e| e < -120.0) < 0.1, "deepest basin");
    assert!(
        share(&run, |_, e| (-120.0..-95.0).contains(&e)) > 0.5,
        "middle basin"
    );
}

#[test]
fn rastrigin_walkers_freeze_in_many_dimples() {
    let run = common::finished_preset("rastrigin", 0);
    let land = run.landscape().expect("landscape");
    let mut dimples: Vec<(i64, i64)> = land
        .walkers()
        .iter()
        .map(|w| (w[0].round() as i64, w[1].round() as i64))
        .collect();
    dimples.sort();
    dimples.dedup();
    assert!(dimples.len() > 5, "{} dimples", dimples.len());
    assert!(share(&run, |w, _| w[0].round() == 0.0 && w[1].round() == 0.0) < 0.5);
}

#[test]
fn harmonic_walkers_estimate_the_exact_thermodynamics() {
    let run = common::finished_preset("harmonic", 0);
    let land = run.landscape().expect("landscape");
    let r = land.readouts(1.0);
    let exact = r.exact.expect("exact");
    let est = r.walkers;
    // The preset's box reaches 4 sigma: the Gaussian truncated there (as its
    // description says: C = 0.991, <E> = 0.999).
    assert!((exact.mean_energy - 0.9989).abs() < 1e-4, "{exact:?}");
    assert!((exact.ln_z - (2.0 * PI).ln()).abs() < 1e-3, "{exact:?}");
    assert!((exact.heat_capacity - 0.9909).abs() < 1e-4, "{exact:?}");
    // 500 walkers: the estimates' standard errors are about 0.05 (mean), 0.13 (C) and
    // 0.05 (S).
    assert!((est.mean_energy - exact.mean_energy).abs() < 0.2, "{est:?}");
    assert!(
        (est.heat_capacity - exact.heat_capacity).abs() < 0.45,
        "{est:?}"
    );
    assert!(
        (est.entropy - exact.entropy).abs() < 0.2,
        "{est:?} vs {exact:?}"
    );
}

/// Issue 10, done when (items 1, 2 and 3): 1000 walkers in the harmonic bowl
/// `E = (x^2 + y^2)/2` at a constant `T`, equilibrated: the walkers' `C` within 5% of 1 and
/// `S` within 0.1 nats of `1 + ln(2 pi T)` at `T = 1, 0.1, 0.01`; the exact readouts within
/// 1e-3 of `ln Z = ln(2 pi T)`, `<E> = T`, `C = 1`.
///
/// Sampling errors, and why the test pools: one crowd of M = 1000 gives `C` with a relative
/// standard error of `sqrt((kappa - 1)/M)` = 9% (`E/T` is exponential, kurtosis
/// `kappa = 9`), too coarse for a 5% test; so `C` and `S` are averaged over 40 crowds taken
/// 10 sweeps (10 moves per walker) apart after 100 sweeps of burn-in from the origin.
/// Metropolis steps of `1.5 sqrt(T)` decorrelate `E` within a few sweeps, so the pooled
/// `C` has a standard error of about 1.5% (5% is over 3 SE) and the pooled `S` about
/// 0.01 nats (KL's bias at M = 1000 is about -0.01; 0.1 is far outside both). Each single
/// crowd's `S` is also held to 0.15 nats (about 4 SD). On the code before the fix the
/// histogram entropy gave `S = -0.63` at `T = 0.01` (exact -1.77) and the 160^2 grid's
/// readouts missed by more than 1e-3.
#[test]
fn a_thousand_walkers_in_the_harmonic_bowl_give_its_exact_thermodynamics() {
    for t in [1.0, 0.1, 0.01] {
        let config = RunConfig {
            problem: ProblemConfig::Landscape(LandscapeConfig {
                surface: Surface::Harmonic,
                walkers: 1000,
                bounds: Some([[-6.0, -6.0], [6.0, 6.0]]),
                start: Some([0.0, 0.0]),
            }),
            annealer: AnnealerConfig {
                schedule: Schedule::Constant { t0: t },
                t_min: t,
                step_size: 1.5 * f64::sqrt(t),
                ..AnnealerConfig::default()
            },
            seed: 10,
            steps: 10_000_000_000,
            ..RunConfig::default()
        };
        let mut run = Run::new(config).expect("valid");
        let s_exact = 1.0 + (2.0 * PI * t).ln();
        let exact = run
            .landscape()
            .expect("landscape")
            .exact()
            .at(t)
            .expect("exact");
        assert!((exact.ln_z - (2.0 * PI * t).ln()).abs() < 1e-3, "{exact:?}");
        assert!((exact.mean_energy - t).abs() < 1e-3 * t, "{exact:?}");
        assert!((exact.heat_capacity - 1.0).abs() < 1e-3, "{exact:?}");
        assert!((exact.entropy - s_exact).abs() < 1e-3, "{exact:?}");
        assert!((exact.free_energy + t * (2.0 * PI * t).ln()).abs() < 1e-3 * t);
        run.run(100 * 1000);
        let crowds = 40;
        let (mut c, mut s) = (0.0, 0.0);
        for _ in 0..crowds {
            run.run(10 * 1000);
            let w = run.landscape().expect("landscape").readouts(t).walkers;
            assert!(
                (w.entropy - s_exact).abs() < 0.15,
                "T = {t}: one crowd's S {w:?}"
            );
            c += w.heat_capacity / crowds as f64;
            s += w.entropy / crowds as f64;
        }
        eprintln!("T = {t}: pooled C = {c:.4}, S = {s:.4} (exact {s_exact:.4})");
        assert!((c - 1.0).abs() < 0.05, "T = {t}: pooled C = {c}");
        assert!((s - s_exact).abs() < 0.1, "T = {t}: pooled S = {s}");
        // The observable plotted (per walker) is the same estimate.
        let plotted = common::observable(&mut run, "heat_capacity");
        let now = run.landscape().expect("landscape").readouts(t).walkers;
        assert!((plotted - now.heat_capacity).abs() < 1e-9);
    }
}

/// Issue 10, item 5 and its done-when: a formula that is NaN on half the box
/// (`sqrt(x) + y^2`, NaN for `x < 0`). Walkers start only where it is finite; a move into
/// the NaN half is rejected (and counted as non-finite), which makes `x = 0` a wall, so
/// the walkers' acceptance must equal that of the same surface in the box cut at
/// `x = 0`. Before the fix, acceptance compared total energies, so the walkers that
/// started in the NaN half made every move of every walker non-finite: acceptance 0.
#[test]
fn a_formula_that_is_nan_on_half_the_box_stalls_no_walker() {
    let run_in = |bounds: [[f64; 2]; 2]| {
        let config = RunConfig {
            problem: ProblemConfig::Landscape(LandscapeConfig {
                surface: Surface::Formula("sqrt(x) + y^2".into()),
                walkers: 200,
                bounds: Some(bounds),
                start: None,
            }),
            annealer: AnnealerConfig {
                schedule: Schedule::Constant { t0: 0.5 },
                t_min: 0.5,
                step_size: 0.5,
                ..AnnealerConfig::default()
            },
            seed: 4,
            steps: 10_000_000_000,
            ..RunConfig::default()
        };
        let mut run = Run::new(config).expect("valid");
        let land = run.landscape().expect("landscape");
        assert!(
            land.energies().iter().all(|e| e.is_finite()),
            "every walker starts where the energy is finite"
        );
        // Burn in, then measure the acceptance over 300 000 moves.
        run.run(100_000);
        let (a0, n0) = (run.annealer().accepted(), run.annealer().steps());
        run.run(300_000);
        let a = run.annealer();
        let rate = (a.accepted() - a0) as f64 / (a.steps() - n0) as f64;
        (
            rate,
            a.non_finite(),
            run.landscape().expect("landscape").outside(),
        )
    };
    let (half_nan, non_finite, outside) = run_in([[-4.0, -4.0], [4.0, 4.0]]);
    let (walled, _, _) = run_in([[0.0, -4.0], [4.0, 4.0]]);
    eprintln!("acceptance {half_nan:.4} with the NaN half, {walled:.4} with a wall at x = 0");
    assert!(half_nan > 0.3, "the walkers move: {half_nan}");
    // 300 000 moves: the standard error of each rate is below 0.002.
    assert!((half_nan - walled).abs() < 0.01, "{half_nan} vs {walled}");
    assert!(
        non_finite > outside,
        "moves into the NaN half are non-finite, not outside the box: {non_finite} vs {outside}"
    );
}

#[test]
fn the_heat_capacity_estimator_matches_the_exact_value_on_the_harmonic_bowl() {
    // One walker on E = (x^2 + y^2)/2 at T = 1: C = 1 (two quadratic degrees of freedom).
    for t in [0.5, 1.0] {
        let config = RunConfig {
            problem: ProblemConfig::Landscape(LandscapeConfig {
                surface: Surface::Harmonic,
                walkers: 1,
                bounds: Some([[-8.0, -8.0], [8.0, 8.0]]),
                start: Some([0.0, 0.0]),
            }),
            annealer: AnnealerConfig {
                schedule: Schedule::Constant { t0: t },
                step_size: 1.5 * t.sqrt(),
                window: 200_000,
                ..AnnealerConfig::default()
            },
            steps: 10_000_000_000,
            ..RunConfig::default()
        };
        let mut run = Run::new(config).expect("valid");
        run.run(400_000);
        let c = common::observable(&mut run, "heat_capacity");
        assert!((c - 1.0).abs() < 0.08, "T = {t}: C = {c}");
    }
}

#[test]
fn parallel_tempering_finds_the_deepest_muller_brown_basin_that_annealing_misses() {
    let preset = annealscope::preset::Preset::builtin("compare-sa-vs-tempering").expect("shipped");
    let mut sa = Run::new(preset.run.clone()).expect("valid");
    sa.run(preset.run.steps);
    let b = preset.compare.clone().expect("a B side");
    let mut pt = Run::new(b.clone()).expect("valid");
    // Over the last quarter, how often B's coldest replica sits in the deepest basin.
    pt.run(b.steps * 3 / 4);
    let (mut deep, mut n) = (0, 0);
    for _ in 0..1000 {
        pt.run(b.steps / 4000);
        let e = pt.landscape().expect("landscape").energies()[0];
        deep += usize::from(e < -120.0);
        n += 1;
    }
    let pt_share = deep as f64 / n as f64;
    let sa_share = {
        let land = sa.landscape().expect("landscape");
        land.energies().iter().filter(|&&e| e < -120.0).count() as f64 / land.len() as f64
    };
    assert!(
        pt_share > 0.8,
        "tempering's cold replica in the deep basin {pt_share}"
    );
    assert!(
        sa_share < 0.5,
        "annealed walkers in the deep basin {sa_share}"
    );
    let rates = pt.engine().swap_rates();
    assert!(
        rates.iter().all(|&r| r > 0.05),
        "exchanges happen along the ladder: {rates:?}"
    );
}

#[test]
fn each_tempering_replica_samples_its_own_boltzmann_distribution_on_a_landscape() {
    use annealscope::sim::TemperingConfig;
    let config = RunConfig {
        problem: ProblemConfig::Landscape(LandscapeConfig {
            surface: Surface::DoubleWell { tilt: 0.3 },
            walkers: 1,
            ..LandscapeConfig::default()
        }),
        annealer: AnnealerConfig {
            t_min: 0.3,
            step_size: 0.5,
            ..AnnealerConfig::default()
        },
        tempering: Some(TemperingConfig {
            replicas: 4,
            t_max: 1.2,
            swap_every: 5,
        }),
        seed: 5,
        steps: 10_000_000_000,
        stop: None,
    };
    let mut run = Run::new(config).expect("valid");
    let (ladder, coarse, fine) = {
        let land = run.landscape().expect("landscape");
        let b = land.bounds();
        (
            run.engine().ladder().to_vec(),
            land.surface().grid(b, 8),
            land.surface().grid(b, 200),
        )
    };
    let mut counts = vec![vec![0u64; 64]; ladder.len()];
    run.run(5000);
    for _ in 0..30_000 {
        run.run(10);
        for (slot, c) in counts.iter_mut().enumerate() {
            if let annealscope::sim::AnyProblem::Landscape(l) = run.engine().slot(slot).0 {
                let w = l.walkers()[0];
                if let Some(cell) = coarse.cell(w[0], w[1]) {
                    c[cell] += 1;
                }
            }
        }
    }
    for (slot, &t) in ladder.iter().enumerate() {
        let p_fine = fine.boltzmann(t);
        let mut expected = vec![0.0; 64];
        for r in 0..200 {
            for c in 0..200 {
                expected[(r / 25) * 8 + c / 25] += p_fine[r * 200 + c];
            }
        }
        let (chi2, dof) = binned_chi_square(&counts[slot], &expected);
        assert!(
            chi2 < critical(dof),
            "T = {t}: chi-square {chi2:.1} with {dof} dof"
        );
    }
}
