//! `annealscope bench`: proposals per second of the annealing loop.
//!
//! Each case anneals the reference task (XOR quadrants, `n` points, all used for
//! training) with a `2 -> H -> 2` ReLU network and the reference article's dynamics
//! (step size 0.001, `T0 = 1`, `alpha = 0.98`, `T_min = 1e-3`), the same work as
//! `shared/bench/seed_numpy_baseline.py --hidden H --samples n`, so the two can be
//! compared on one machine.
//!
//! The travelling-salesman cases anneal `n` uniform random cities through the same
//! engine, and the same annealing in a bare loop around the problem beside them, to show
//! what the engine's bookkeeping costs. [`rbm_exact_ln_z_ms`] times the Boltzmann
//! machine's exact partition function. The Ising cases count attempted spin updates per
//! nanosecond of wall time on one core at `T = T_c` (Wolff: spins flipped in clusters),
//! through the real engine ([`Run`], as the trainer steps it) and through the lattice
//! module's own loop, beside a textbook loop run in the same process as a reference.

use crate::sim::ising::{IsingConfig, Order, T_C, Update, bench_flips_per_ns};
use crate::sim::tsp::{Cities, MoveMix, Start, TspConfig, TspProblem, mean_abs_de};
use crate::sim::{
    Acceptance, AnnealerConfig, AnyProblem, DataConfig, DataKind, NetworkConfig, Problem,
    ProblemConfig, ProposalKind, Run, RunConfig, Schedule,
};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::Serialize;
use web_time::Instant;

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
        stop: None,
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

/// Steps per second of a run of `config` stepped and recorded as the trainer does it,
/// measured for about `seconds` (at most its whole length).
pub fn run_rate(config: &RunConfig, seconds: f64) -> anyhow::Result<f64> {
    let mut run = Run::new(config.clone())?;
    let start = Instant::now();
    let mut steps = 0u64;
    while start.elapsed().as_secs_f64() < seconds && !run.finished() {
        for _ in 0..64 {
            std::hint::black_box(run.step_recorded());
        }
        steps += 64;
    }
    Ok(steps as f64 / start.elapsed().as_secs_f64().max(1e-9))
}

/// How long a shipped preset plays at its own pace on this machine: for each of its runs
/// (A, and B when it compares), the wall-clock seconds given the steps per second this
/// machine reaches ([`run_rate`]). Returns `(name, seconds of the slower run)`.
pub fn preset_durations(seconds: f64) -> anyhow::Result<Vec<(&'static str, f64)>> {
    let mut out = Vec::new();
    for (name, _) in crate::preset::BUILTIN {
        let Some(p) = crate::preset::Preset::builtin(name) else {
            anyhow::bail!("built-in preset {name} does not load");
        };
        let mut longest: f64 = 0.0;
        for config in std::iter::once(&p.run).chain(p.compare.as_ref()) {
            let rate = run_rate(config, seconds)?;
            longest = longest.max(p.pace.seconds(config.steps, rate));
        }
        out.push((name, longest));
    }
    Ok(out)
}

/// The travelling-salesman cases measured: cities, move mix and its name.
pub fn tsp_cases() -> [(usize, MoveMix, &'static str); 3] {
    [
        (100, MoveMix::TWO_OPT, "2-opt"),
        (100, MoveMix::default(), "default mix"),
        (1000, MoveMix::TWO_OPT, "2-opt"),
    ]
}

/// The run of a travelling-salesman case: `n` uniform random cities (seed 1), the given
/// move mix, Metropolis acceptance; the temperature is set from outside while measuring.
pub fn tsp_config(n: usize, moves: &MoveMix) -> RunConfig {
    RunConfig {
        problem: ProblemConfig::Tsp(TspConfig {
            cities: Cities::Uniform { n, seed: 1 },
            moves: moves.clone(),
            start: Start::Random,
        }),
        annealer: AnnealerConfig {
            schedule: Schedule::Geometric {
                t0: 1.0,
                alpha: 1.0,
            },
            t_min: 1e-9,
            window: 500,
            ..AnnealerConfig::default()
        },
        tempering: None,
        seed: 0x5eed,
        steps: *crate::sim::limits::STEPS.end(),
        stop: None,
    }
}

/// The starting temperature of a case: the mean `|dE|` of 1000 moves from its first tour.
fn tsp_t0(config: &RunConfig) -> anyhow::Result<f64> {
    let ProblemConfig::Tsp(c) = &config.problem else {
        anyhow::bail!("not a travelling-salesman config");
    };
    let mut rng = Pcg64Mcg::seed_from_u64(config.seed);
    let mut p = TspProblem::new(c, &mut rng)?;
    Ok(mean_abs_de(&mut p, &mut rng, 1000).max(f64::MIN_POSITIVE))
}

/// Proposals per second of annealing `n` uniform cities with `moves` through the real
/// engine ([`Run`]): Metropolis at a temperature lowered geometrically over four decades
/// (from the mean `|dE|` of the first tour) during the `seconds` measured, so that hot
/// steps (many accepted moves, each an `O(n)` reversal) and cold ones are both counted.
pub fn measure_tsp(n: usize, moves: &MoveMix, seconds: f64) -> anyhow::Result<f64> {
    let config = tsp_config(n, moves);
    let t0 = tsp_t0(&config)?;
    let mut run = Run::new(config)?;
    Ok(cooling_loop(t0, seconds, |t, chunk| {
        run.set_temperature(t);
        run.run(chunk);
    }))
}

/// The same annealing as [`measure_tsp`] in a bare loop around the problem (no engine:
/// no schedule, acceptance window or energy bookkeeping), for comparison.
pub fn measure_tsp_bare(n: usize, moves: &MoveMix, seconds: f64) -> anyhow::Result<f64> {
    let config = tsp_config(n, moves);
    let t0 = tsp_t0(&config)?;
    let ProblemConfig::Tsp(c) = &config.problem else {
        anyhow::bail!("not a travelling-salesman config");
    };
    let mut rng = Pcg64Mcg::seed_from_u64(config.seed);
    let mut p = TspProblem::new(c, &mut rng)?;
    let mut best = p.energy();
    Ok(cooling_loop(t0, seconds, |t, chunk| {
        for _ in 0..chunk {
            let de = p.propose(ProposalKind::All, 0.0, &mut rng);
            if de <= 0.0 || rng.random::<f64>() < (-de / t).exp() {
                p.accept();
                if p.energy() < best {
                    best = p.energy();
                    p.store_best();
                }
            } else {
                p.reject();
            }
        }
    }))
}

/// Calls `steps(T, chunk)` in chunks for `seconds`, `T` falling geometrically from `t0`
/// to `1e-4 t0` over the time; returns the steps per second.
fn cooling_loop(t0: f64, seconds: f64, mut steps: impl FnMut(f64, u64)) -> f64 {
    const CHUNK: u64 = 1 << 14;
    let mut t = t0;
    let mut count = 0u64;
    let clock = Instant::now();
    loop {
        steps(t, CHUNK);
        count += CHUNK;
        let elapsed = clock.elapsed().as_secs_f64();
        if elapsed >= seconds {
            return count as f64 / elapsed;
        }
        t = t0 * 1e-4f64.powf(elapsed / seconds);
    }
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

/// Side of the lattice the Ising cases are measured on.
pub const ISING_SIZE: usize = 512;

/// The Ising update rules measured, with their names in the output.
pub const ISING_UPDATES: [(&str, Update); 5] = [
    (
        "metropolis",
        Update::Metropolis {
            order: Order::Checkerboard,
        },
    ),
    (
        "metropolis random order",
        Update::Metropolis {
            order: Order::Random,
        },
    ),
    (
        "heat-bath",
        Update::HeatBath {
            order: Order::Checkerboard,
        },
    ),
    (
        "heat-bath random order",
        Update::HeatBath {
            order: Order::Random,
        },
    ),
    ("wolff", Update::Wolff),
];

/// Attempted spin updates per nanosecond of an `l x l` ferromagnet at `T_c` stepped by the
/// engine as the trainer does it ([`Run::step_recorded`]: one sweep per step, observables
/// every few steps), for about `seconds`.
pub fn ising_engine_flips_per_ns(l: usize, update: Update, seconds: f64) -> anyhow::Result<f64> {
    let config = RunConfig {
        problem: ProblemConfig::Ising(IsingConfig {
            size: l,
            update,
            ..IsingConfig::default()
        }),
        annealer: AnnealerConfig {
            schedule: Schedule::Constant { t0: T_C },
            ..AnnealerConfig::default()
        },
        tempering: None,
        seed: 0x15_1A6,
        steps: *crate::sim::limits::STEPS.end(),
        stop: None,
    };
    let mut run = Run::new(config)?;
    let attempted = |run: &Run| match run.problem() {
        AnyProblem::Ising(p) => p.attempted(),
        _ => 0,
    };
    for _ in 0..3 {
        run.step_recorded();
    }
    let (a0, start) = (attempted(&run), Instant::now());
    while start.elapsed().as_secs_f64() < seconds {
        std::hint::black_box(run.step_recorded());
    }
    Ok((attempted(&run) - a0) as f64 / (start.elapsed().as_secs_f64() * 1e9))
}

/// The reference: Metropolis as a textbook writes it, on `i32` spins of an `l x l` torus at
/// `T_c`: a random site, neighbours by `%` wrap-around, `dE = 2 s_i sum s_j`, accepted if
/// `dE <= 0` or `u < exp(-dE/T)` with one `exp` and one `f64` draw per uphill move. Attempted
/// flips per nanosecond over about `seconds`.
pub fn ising_reference_flips_per_ns(l: usize, seconds: f64) -> f64 {
    let l = l.max(2);
    let n = l * l;
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(0x15_1A6);
    let mut s: Vec<i32> = (0..n)
        .map(|_| if rng.random::<bool>() { 1 } else { -1 })
        .collect();
    let start = Instant::now();
    let mut tried = 0u64;
    loop {
        for _ in 0..n {
            let (x, y) = (rng.random_range(0..l), rng.random_range(0..l));
            let i = y * l + x;
            let nb = s[y * l + (x + 1) % l]
                + s[y * l + (x + l - 1) % l]
                + s[((y + 1) % l) * l + x]
                + s[((y + l - 1) % l) * l + x];
            let de = 2 * s[i] * nb;
            if de <= 0 || rng.random::<f64>() < (-f64::from(de) / T_C).exp() {
                s[i] = -s[i];
            }
        }
        tried += n as u64;
        let el = start.elapsed().as_secs_f64();
        if el >= seconds {
            std::hint::black_box(&s);
            return tried as f64 / (el * 1e9);
        }
    }
}

/// One Ising measurement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IsingBench {
    /// The update rule's name.
    pub update: &'static str,
    /// Attempted updates per nanosecond through the engine.
    pub engine: f64,
    /// Attempted updates per nanosecond of the module's own loop.
    pub module: f64,
}

/// Every Ising update rule at [`ISING_SIZE`], through the engine and the module's loop.
pub fn ising_all(seconds: f64) -> anyhow::Result<Vec<IsingBench>> {
    ISING_UPDATES
        .iter()
        .map(|&(update, u)| {
            Ok(IsingBench {
                update,
                engine: ising_engine_flips_per_ns(ISING_SIZE, u, seconds)?,
                module: bench_flips_per_ns(ISING_SIZE, u, seconds),
            })
        })
        .collect()
}
