//! `annealscope bench`: proposals per second of the annealing loop.
//!
//! Each case anneals the reference task (XOR quadrants, `n` points, all used for
//! training) with a `2 -> H -> 2` ReLU network and the reference article's dynamics
//! (step size 0.001, `T0 = 1`, `alpha = 0.98`, `T_min = 1e-3`), the same work as
//! `shared/bench/seed_numpy_baseline.py --hidden H --samples n`, so the two can be
//! compared on one machine. [`rbm_exact_ln_z_ms`] times the Boltzmann machine's exact
//! partition function.

use crate::sim::{
    Acceptance, AnnealerConfig, DataConfig, DataKind, NetworkConfig, ProblemConfig, ProposalKind,
    Run, RunConfig, Schedule,
};
use serde::Serialize;
use std::time::Instant;

/// The `(hidden, samples)` cases measured.
pub const CASES: [(usize, usize); 4] = [(4, 100), (16, 1000), (64, 1000), (256, 10_000)];

/// One measurement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchResult {
    /// Hidden width.
    pub hidden: usize,
    /// Training points.
    pub samples: usize,
    /// `"all"` (every parameter moves) or `"one"` (one parameter moves).
    pub proposal: &'static str,
    /// Proposals evaluated per second.
    pub proposals_per_s: f64,
}

/// The config of one benchmark case.
pub fn case_config(hidden: usize, samples: usize, proposal: ProposalKind) -> RunConfig {
    RunConfig {
        problem: ProblemConfig::Network(NetworkConfig {
            data: DataConfig {
                kind: DataKind::Quadrants,
                samples,
                noise: 0.0,
                test_fraction: 0.0,
                seed: 42,
            },
            hidden,
            ..NetworkConfig::default()
        }),
        annealer: AnnealerConfig {
            schedule: Schedule::Geometric {
                t0: 1.0,
                alpha: 0.98,
            },
            t_min: 1e-3,
            step_size: 1e-3,
            proposal,
            acceptance: Acceptance::Metropolis,
            window: 500,
            adapt_step: None,
            sampler: crate::sim::anneal::Sampler::RandomWalk,
        },
        tempering: None,
        seed: 0,
        steps: *crate::sim::limits::STEPS.end(),
    }
}

/// Proposals per second of one case, stepping for about `seconds`.
pub fn measure(
    hidden: usize,
    samples: usize,
    proposal: ProposalKind,
    seconds: f64,
) -> anyhow::Result<f64> {
    let mut run = Run::new(case_config(hidden, samples, proposal))?;
    // Warm up caches and the branch predictor, and size the timing chunks.
    let mut chunk = 16u64;
    let warm = Instant::now();
    while warm.elapsed().as_secs_f64() < (seconds * 0.1).min(0.2) {
        run.run(chunk);
        chunk = (chunk * 2).min(1 << 16);
    }
    let start = Instant::now();
    let mut steps = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        run.run(chunk);
        steps += chunk;
    }
    Ok(steps as f64 / start.elapsed().as_secs_f64())
}

/// The cases to measure: all, or those with `hidden` units.
pub fn cases(hidden: Option<usize>) -> impl Iterator<Item = (usize, usize)> {
    CASES
        .into_iter()
        .filter(move |(h, _)| hidden.is_none_or(|want| want == *h))
}

/// Every case (or those with `hidden` units), both proposals.
pub fn run_all(seconds: f64, hidden: Option<usize>) -> anyhow::Result<Vec<BenchResult>> {
    let mut out = Vec::new();
    for (hidden, samples) in cases(hidden) {
        for (proposal, name) in [(ProposalKind::All, "all"), (ProposalKind::One, "one")] {
            out.push(BenchResult {
                hidden,
                samples,
                proposal: name,
                proposals_per_s: measure(hidden, samples, proposal, seconds)?,
            });
        }
    }
    Ok(out)
}

/// Replica-steps per second of parallel tempering with `k` replicas of one case (every
/// replica moves once per step, exchanges every 10 steps), to compare with the single
/// chain's proposals per second: `k` replicas should cost `k` chains, not more.
pub fn measure_tempering(
    hidden: usize,
    samples: usize,
    k: usize,
    seconds: f64,
) -> anyhow::Result<f64> {
    let mut config = case_config(hidden, samples, ProposalKind::All);
    config.tempering = Some(crate::sim::TemperingConfig {
        replicas: k,
        t_max: 1.0,
        swap_every: 10,
    });
    let mut pt = Run::new(config)?;
    pt.run(1000);
    let start = Instant::now();
    let mut steps = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        pt.run(256);
        steps += 256;
    }
    Ok((steps * k as u64) as f64 / start.elapsed().as_secs_f64())
}

/// Milliseconds for one exact `ln Z(T = 1)` of a restricted Boltzmann machine with `nv`
/// visible and `nh` hidden units (at most 16 each; weights and biases `N(0, 1)`, fixed
/// seed), averaged over at least `seconds` of repetitions.
pub fn rbm_exact_ln_z_ms(nv: usize, nh: usize, seconds: f64) -> f64 {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(12345);
    let mut m = crate::sim::rbm::RbmModel::random(nv.clamp(1, 16), nh.clamp(1, 16), 1.0, &mut rng);
    for x in m.b.iter_mut().chain(&mut m.c) {
        *x = StandardNormal.sample(&mut rng);
    }
    let mut sink = m.ln_z(1.0);
    let start = Instant::now();
    let mut reps = 0u32;
    while reps < 3 || start.elapsed().as_secs_f64() < seconds {
        sink += std::hint::black_box(m.ln_z(1.0)) * 1e-300;
        reps += 1;
    }
    let ms = start.elapsed().as_secs_f64() * 1e3 / f64::from(reps);
    if sink.is_nan() { f64::NAN } else { ms }
}

/// Milliseconds for one AIS estimate of `ln Z` with `k` intervals and `m` runs on a
/// random 16 x 16 machine (weights `N(0, 0.25)`, fixed seed), as the app's AIS panel asks.
pub fn rbm_ais_ms(k: usize, m: usize) -> f64 {
    use crate::sim::ais::{self, RbmAis, Spacing};
    use rand::SeedableRng;
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(12345);
    let model = crate::sim::rbm::RbmModel::random(16, 16, 0.5, &mut rng);
    let base = ais::base_rate_biases(&[0.5; 16]);
    let target = RbmAis::new(&model.w, &model.b, &model.c, base, 1.0);
    let betas = ais::schedule(k, Spacing::Linear);
    let start = Instant::now();
    let est = ais::run(&target, &betas, m, &mut rng);
    let ms = start.elapsed().as_secs_f64() * 1e3;
    if est.ln_z.is_nan() { f64::NAN } else { ms }
}
