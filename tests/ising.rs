//! The Ising sampler against exact results: every update rule against exhaustive enumeration
//! of small lattices (chi-square on the energy and `|m|` distributions), the `L = 32` torus
//! against Kaufman's exact energy and heat capacity within three standard errors (errors by
//! blocking, so autocorrelation is accounted for), Wolff against Metropolis, Wolff's
//! magnetisation against Yang's, and the kind's own windowed `C` and `chi` against exact
//! enumeration.
//!
//! Estimators: means with standard errors from blocking (Flyvbjerg & Petersen, J. Chem. Phys.
//! 91, 461 (1989)); the heat capacity `C = N Var(e)/T²` with a jackknife over the same blocks
//! (Newman & Barkema, *Monte Carlo Methods in Statistical Physics*, §3.4). A standard error is
//! the larger of the estimates from 64 and from 16 blocks: were the blocks shorter than the
//! correlation time, the longer blocks would show a larger error.

use annealscope::sim::ising::{
    Bonds, Coupling, DensityOfStates, IsingConfig, IsingProblem, Order, Start, Update, kaufman,
    yang_magnetisation,
};
use annealscope::sim::{ChainStats, Kind, Problem};
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use std::collections::BTreeMap;
use std::f64::consts::PI;

const FERRO: Coupling = Coupling::Ferro { j: 1.0 };
const MET_CB: Update = Update::Metropolis {
    order: Order::Checkerboard,
};
const MET_RND: Update = Update::Metropolis {
    order: Order::Random,
};
const HB_CB: Update = Update::HeatBath {
    order: Order::Checkerboard,
};
const HB_RND: Update = Update::HeatBath {
    order: Order::Random,
};

/// A lattice of side `l` (2 to 5: enumerable; else 8 or more) starting from random spins.
fn small(
    l: usize,
    coupling: Coupling,
    h: f64,
    update: Update,
    seed: u64,
) -> (IsingProblem, Pcg64Mcg) {
    let cfg = IsingConfig {
        size: l,
        coupling,
        field: h,
        update,
        start: Start::Random,
    };
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let p = if l <= 5 {
        IsingProblem::enumerable(&cfg, &mut rng).expect("enumerable")
    } else {
        IsingProblem::new(&cfg, &mut rng).expect("valid")
    };
    (p, rng)
}

fn ln_gamma(x: f64) -> f64 {
    // Lanczos, g = 7, n = 9 (x > 0).
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Regularised upper incomplete gamma Q(a, x) (Numerical Recipes 6.2).
fn gammq(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let front = (-x + a * x.ln() - ln_gamma(a)).exp();
    if x < a + 1.0 {
        let (mut ap, mut del) = (a, 1.0 / a);
        let mut sum = del;
        for _ in 0..10_000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        1.0 - sum * front
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-16 {
                break;
            }
        }
        front * h
    }
}

/// Pearson chi-square of observed counts against probabilities (same order), pooling
/// consecutive bins until each expects at least 5. Returns (chi², degrees of freedom, p).
fn chi2(obs: &[u64], prob: &[f64]) -> (f64, usize, f64) {
    let total = obs.iter().sum::<u64>() as f64;
    let mut pooled: Vec<(f64, f64)> = Vec::new();
    let (mut o, mut e) = (0.0, 0.0);
    for (&ob, &p) in obs.iter().zip(prob) {
        o += ob as f64;
        e += p * total;
        if e >= 5.0 {
            pooled.push((o, e));
            (o, e) = (0.0, 0.0);
        }
    }
    if o > 0.0 || e > 0.0 {
        match pooled.last_mut() {
            Some(last) => {
                last.0 += o;
                last.1 += e;
            }
            None => pooled.push((o, e)),
        }
    }
    let x2: f64 = pooled.iter().map(|&(o, e)| (o - e) * (o - e) / e).sum();
    let df = pooled.len().saturating_sub(1).max(1);
    (x2, df, gammq(0.5 * df as f64, 0.5 * x2))
}

/// Exact marginal distributions from enumeration: by `B` (energy at h = 0), by |M| and
/// jointly by (B, M).
struct Exact {
    by_b: BTreeMap<i64, f64>,
    by_m: BTreeMap<i64, f64>,
    joint: BTreeMap<(i64, i64), f64>,
}

fn exact(dos: &DensityOfStates, t: f64, h: f64) -> Exact {
    let mut ex = Exact {
        by_b: BTreeMap::new(),
        by_m: BTreeMap::new(),
        joint: BTreeMap::new(),
    };
    for (lv, p) in dos.levels().iter().zip(dos.probabilities(t, h)) {
        *ex.by_b.entry(lv.bond_sum).or_default() += p;
        *ex.by_m.entry(lv.magnetisation.abs()).or_default() += p;
        *ex.joint.entry((lv.bond_sum, lv.magnetisation)).or_default() += p;
    }
    ex
}

/// Histograms of B, |M| and (B, M).
type Hists = (
    BTreeMap<i64, u64>,
    BTreeMap<i64, u64>,
    BTreeMap<(i64, i64), u64>,
);

/// Histograms sampled every `thin` sweeps after `burn` sweeps.
fn sample_hist(
    p: &mut IsingProblem,
    rng: &mut Pcg64Mcg,
    t: f64,
    burn: usize,
    samples: usize,
    thin: usize,
) -> Hists {
    for _ in 0..burn {
        p.sweep(t, rng);
    }
    let (mut hb, mut hm, mut hj) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for _ in 0..samples {
        for _ in 0..thin {
            p.sweep(t, rng);
        }
        *hb.entry(p.bond_sum()).or_insert(0) += 1;
        *hm.entry(p.magnetisation().abs()).or_insert(0) += 1;
        *hj.entry((p.bond_sum(), p.magnetisation())).or_insert(0) += 1;
    }
    (hb, hm, hj)
}

/// Observed counts aligned with the exact keys (a sampled key missing from the exact
/// distribution is an impossible state and fails the test).
fn align<K: Ord + Copy + std::fmt::Debug>(
    h: &BTreeMap<K, u64>,
    ex: &BTreeMap<K, f64>,
) -> (Vec<u64>, Vec<f64>) {
    for k in h.keys() {
        assert!(ex.contains_key(k), "sampled impossible state {k:?}");
    }
    ex.iter()
        .map(|(k, &p)| (h.get(k).copied().unwrap_or(0), p))
        .unzip()
}

/// Mean and standard error from `nb` equal blocks.
fn block_mean_se(x: &[f64], nb: usize) -> (f64, f64) {
    let bl = x.len() / nb;
    let means: Vec<f64> = (0..nb)
        .map(|b| x[b * bl..(b + 1) * bl].iter().sum::<f64>() / bl as f64)
        .collect();
    let m = means.iter().sum::<f64>() / nb as f64;
    let var = means.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (nb - 1) as f64;
    (m, (var / nb as f64).sqrt())
}

/// Heat capacity per spin C = N Var(e)/T² with a block-jackknife error (bias-corrected).
fn heat_capacity_jk(e: &[f64], n: f64, t: f64, nb: usize) -> (f64, f64) {
    let bl = e.len() / nb;
    let used = bl * nb;
    let s1: Vec<f64> = (0..nb)
        .map(|b| e[b * bl..(b + 1) * bl].iter().sum())
        .collect();
    let s2: Vec<f64> = (0..nb)
        .map(|b| e[b * bl..(b + 1) * bl].iter().map(|v| v * v).sum())
        .collect();
    let (t1, t2): (f64, f64) = (s1.iter().sum(), s2.iter().sum());
    let c_of = |a: f64, b: f64, cnt: f64| {
        let m = a / cnt;
        n * (b / cnt - m * m) / (t * t)
    };
    let full = c_of(t1, t2, used as f64);
    let loo: Vec<f64> = (0..nb)
        .map(|b| c_of(t1 - s1[b], t2 - s2[b], (used - bl) as f64))
        .collect();
    let mean_loo = loo.iter().sum::<f64>() / nb as f64;
    let nbf = nb as f64;
    let se = ((nbf - 1.0) / nbf
        * loo
            .iter()
            .map(|c| (c - mean_loo) * (c - mean_loo))
            .sum::<f64>())
    .sqrt();
    (nbf * full - (nbf - 1.0) * mean_loo, se)
}

/// Time series of e = E/N and |m| over `sweeps` sweeps after `burn`.
fn series(
    p: &mut IsingProblem,
    rng: &mut Pcg64Mcg,
    t: f64,
    burn: usize,
    sweeps: usize,
) -> (Vec<f64>, Vec<f64>) {
    for _ in 0..burn {
        p.sweep(t, rng);
    }
    let (mut e, mut m) = (Vec::with_capacity(sweeps), Vec::with_capacity(sweeps));
    for _ in 0..sweeps {
        p.sweep(t, rng);
        let o = p.densities();
        e.push(o[0]);
        m.push(o[1]);
    }
    (e, m)
}

/// Blocking standard error of the mean of `x`: the larger of the 64- and 16-block estimates.
fn mean_se(x: &[f64]) -> (f64, f64) {
    let (m, a) = block_mean_se(x, 64);
    let (_, b) = block_mean_se(x, 16);
    (m, a.max(b))
}

/// Heat capacity with the larger of its 64- and 16-block jackknife errors.
fn heat_capacity(e: &[f64], n: f64, t: f64) -> (f64, f64) {
    let (c, a) = heat_capacity_jk(e, n, t, 64);
    let (_, b) = heat_capacity_jk(e, n, t, 16);
    (c, a.max(b))
}

#[test]
fn chi2_helper_is_right() {
    // Q(1, x) = e^{-x}; chi-square df = 1 at 3.841459 has p = 0.05.
    assert!((gammq(1.0, 2.5) - (-2.5f64).exp()).abs() < 1e-14);
    assert!((gammq(0.5, 0.5 * 3.841_458_820_694_124) - 0.05).abs() < 1e-9);
    // Integer a: Q(a, x) = e^{-x} Σ_{k<a} x^k/k!.
    let q5: f64 = (-20.0f64).exp() * (1.0 + 20.0 + 200.0 + 8000.0 / 6.0 + 160_000.0 / 24.0);
    assert!((gammq(5.0, 20.0) - q5).abs() < 1e-12 * q5.max(1e-5) / 1e-5);
    assert!((gammq(3.0, 1.0) - (-1.0f64).exp() * 2.5).abs() < 1e-14);
    assert!((ln_gamma(10.0) - 362_880f64.ln()).abs() < 1e-12);
    let (_, df, p) = chi2(&[50, 50], &[0.5, 0.5]);
    assert_eq!(df, 1);
    assert!(p > 0.99);
    let (_, _, p) = chi2(&[70, 30], &[0.5, 0.5]);
    assert!(p < 1e-4);
}

// ----- 1. samplers against exact enumeration at L = 4 -----------------------------------

#[test]
fn single_spin_samplers_match_enumeration_l4() {
    let dos = DensityOfStates::enumerate(&Bonds::new(4, &FERRO)).expect("enumerable");
    assert_eq!(dos.levels().iter().map(|l| l.count).sum::<u64>(), 1 << 16);
    let mut seed = 100;
    for update in [MET_RND, MET_CB, HB_RND, HB_CB] {
        for t in [1.5, 2.27, 3.5] {
            seed += 1;
            let (mut p, mut rng) = small(4, FERRO, 0.0, update, seed);
            let (hb, hm, _) = sample_hist(&mut p, &mut rng, t, 200, 40_000, 8);
            let ex = exact(&dos, t, 0.0);
            let (o, e) = align(&hb, &ex.by_b);
            let (x2, df, pe) = chi2(&o, &e);
            let (o, e) = align(&hm, &ex.by_m);
            let (y2, dg, pm) = chi2(&o, &e);
            println!(
                "{update:?} T={t}: energy chi2={x2:.1}/{df} p={pe:.3}; |m| chi2={y2:.1}/{dg} p={pm:.3}"
            );
            assert!(pe > 1e-3, "{update:?} T={t}: energy p = {pe}");
            assert!(pm > 1e-3, "{update:?} T={t}: |m| p = {pm}");
            if t == 1.5 {
                // Power: the same samples are clearly refused at a slightly different T.
                let wrong = exact(&dos, 1.65, 0.0);
                let (o, e) = align(&hb, &wrong.by_b);
                let (_, _, pw) = chi2(&o, &e);
                assert!(pw < 1e-6, "{update:?}: test has no power (p = {pw})");
            }
        }
    }
}

/// The joint `(B, M)` distribution (so the field's effect on `M` is tested as well) of each
/// case against enumeration, by chi-square.
fn joint_matches_enumeration(cases: &[(usize, Coupling, f64, Update, f64)], seed: u64) {
    for (k, &(l, coupling, h, update, t)) in cases.iter().enumerate() {
        let dos = DensityOfStates::enumerate(&Bonds::new(l, &coupling)).expect("enumerable");
        let (mut p, mut rng) = small(l, coupling, h, update, seed + k as u64);
        // Thinned by 30 sweeps: in a field or a glass the slow mode (the sign of M, or
        // hopping between valleys) needs that for nearly independent samples (checked:
        // with thinning 60 the p-values of four seeds per case look uniform).
        let (_, _, hj) = sample_hist(&mut p, &mut rng, t, 200, 12_000, 30);
        let ex = exact(&dos, t, h);
        let (o, e) = align(&hj, &ex.joint);
        let (x2, df, pv) = chi2(&o, &e);
        println!("L={l} {coupling:?} h={h} {update:?} T={t}: chi2={x2:.1}/{df} p={pv:.3}");
        assert!(pv > 1e-3, "case {k}: p = {pv}");
    }
}

#[test]
fn samplers_match_enumeration_with_field_and_glass() {
    joint_matches_enumeration(
        &[
            // Glasses at T >= 1.5: colder, single-spin dynamics cannot cross between the two
            // spin-flipped halves of the ground-state valley within the run (M -> -M).
            (4, Coupling::SpinGlass { seed: 7 }, 0.5, MET_CB, 1.5),
            (4, Coupling::SpinGlass { seed: 7 }, 0.0, HB_RND, 1.8),
            (4, Coupling::Ferro { j: -1.0 }, 1.0, MET_RND, 2.0),
            (4, Coupling::Ferro { j: 0.7 }, -0.4, HB_CB, 1.7),
            // With a field the M < 0 valley is reached only by tunnelling: keep T where that
            // is frequent (at T = 1.5 on 3 x 3 the chain crosses too rarely for chi-square).
            (3, FERRO, 0.3, HB_CB, 2.5),
            (3, Coupling::SpinGlass { seed: 3 }, 0.2, MET_RND, 1.5),
        ],
        500,
    );
}

#[test]
fn samplers_match_enumeration_on_odd_sizes_and_with_wolff() {
    joint_matches_enumeration(
        &[
            (3, FERRO, 0.0, MET_CB, 2.0),
            (5, FERRO, 0.0, MET_CB, 2.5),
            (4, FERRO, 0.0, Update::Wolff, 2.27),
            (4, Coupling::Ferro { j: -1.0 }, 0.0, Update::Wolff, 1.5),
            (3, FERRO, 0.0, Update::Wolff, 1.5),
            // Frustrated: an antiferromagnet on an odd torus.
            (3, Coupling::Ferro { j: -1.0 }, 0.0, Update::Wolff, 1.0),
            (5, Coupling::Ferro { j: -1.0 }, 0.0, Update::Wolff, 2.0),
        ],
        520,
    );
}

// ----- 2. and 3. L = 32 against Kaufman; Wolff against Metropolis -----------------------

/// `update` on the 32 x 32 torus at `t` for `sweeps` sweeps (after 2000 to equilibrate):
/// the energy per spin and the heat capacity agree with Kaufman's exact values within three
/// standard errors, and the errors are small enough to mean something.
fn l32_matches_kaufman(update: Update, t: f64, start: Start, sweeps: usize, seed: u64) {
    let l = 32;
    let n = (l * l) as f64;
    let cfg = IsingConfig {
        size: l,
        update,
        start,
        ..IsingConfig::default()
    };
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut p = IsingProblem::new(&cfg, &mut rng).expect("valid");
    let (e, _) = series(&mut p, &mut rng, t, 2000, sweeps);
    let (em, ese) = mean_se(&e);
    let (c, cse) = heat_capacity(&e, n, t);
    let ex = kaufman(l, t).expect("kaufman");
    let ze = (em - ex.energy_per_spin) / ese;
    let zc = (c - ex.heat_capacity_per_spin) / cse;
    println!(
        "L=32 {update:?} T={t}: e={em:.5}±{ese:.5} (exact {:.5}, z={ze:.2}); C={c:.4}±{cse:.4} (exact {:.4}, z={zc:.2})",
        ex.energy_per_spin, ex.heat_capacity_per_spin
    );
    assert!(ze.abs() < 3.0, "{update:?} T={t}: energy off by {ze} SE");
    assert!(
        zc.abs() < 3.0,
        "{update:?} T={t}: heat capacity off by {zc} SE"
    );
    assert!(
        ese < 3e-3 && cse < 0.1 * ex.heat_capacity_per_spin,
        "{update:?} T={t}: errors too large to mean anything ({ese}, {cse})"
    );
}

#[test]
fn l32_at_t_1_5_matches_kaufman() {
    l32_matches_kaufman(MET_CB, 1.5, Start::Up, 1 << 14, 3200);
    l32_matches_kaufman(HB_RND, 1.5, Start::Up, 1 << 14, 3201);
    l32_matches_kaufman(Update::Wolff, 1.5, Start::Up, 1 << 14, 3202);
}

#[test]
fn l32_at_t_c_matches_kaufman() {
    // Single-spin updates decorrelate slowly at T_c (critical slowing down): a longer run.
    l32_matches_kaufman(MET_CB, 2.269, Start::Random, 1 << 16, 3210);
    l32_matches_kaufman(Update::Wolff, 2.269, Start::Random, 1 << 14, 3211);
}

#[test]
fn l32_at_t_3_matches_kaufman() {
    l32_matches_kaufman(MET_CB, 3.0, Start::Random, 1 << 14, 3220);
    l32_matches_kaufman(MET_RND, 3.0, Start::Random, 1 << 14, 3221);
    l32_matches_kaufman(Update::Wolff, 3.0, Start::Random, 1 << 14, 3222);
}

#[test]
fn wolff_agrees_with_metropolis_l16() {
    let (l, t) = (16, 2.5);
    let mut res = Vec::new();
    for (k, update) in [Update::Wolff, MET_CB].into_iter().enumerate() {
        let cfg = IsingConfig {
            size: l,
            update,
            ..IsingConfig::default()
        };
        let mut rng = Pcg64Mcg::seed_from_u64(1600 + k as u64);
        let mut p = IsingProblem::new(&cfg, &mut rng).expect("valid");
        let (e, m) = series(&mut p, &mut rng, t, 2000, 1 << 16);
        res.push((mean_se(&e), mean_se(&m)));
    }
    let ((e_w, m_w), (e_m, m_m)) = (res[0], res[1]);
    let z = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0) / (a.1 * a.1 + b.1 * b.1).sqrt();
    println!(
        "L=16 T=2.5: e wolff {e_w:?} metropolis {e_m:?}; |m| wolff {m_w:?} metropolis {m_m:?}"
    );
    assert!(z(e_w, e_m).abs() < 3.0, "energy z = {}", z(e_w, e_m));
    assert!(z(m_w, m_m).abs() < 3.0, "|m| z = {}", z(m_w, m_m));
    let ex = kaufman(l, t).expect("kaufman").energy_per_spin;
    assert!(((e_w.0 - ex) / e_w.1).abs() < 3.0 && ((e_m.0 - ex) / e_m.1).abs() < 3.0);
}

#[test]
fn wolff_magnetisation_matches_yang_l64() {
    let (l, t) = (64, 2.0);
    let cfg = IsingConfig {
        size: l,
        update: Update::Wolff,
        start: Start::Up,
        ..IsingConfig::default()
    };
    let mut rng = Pcg64Mcg::seed_from_u64(64);
    let mut p = IsingProblem::new(&cfg, &mut rng).expect("valid");
    let (_, m) = series(&mut p, &mut rng, t, 200, 1 << 12);
    let (mm, se) = mean_se(&m);
    let y = yang_magnetisation(t);
    println!("L=64 T=2: <|m|> = {mm:.5} ± {se:.5}, Yang {y:.5}");
    // Finite-size corrections at T = 2, L = 64 are far below 1e-3.
    assert!((mm - y).abs() < 3.0 * se + 1e-3);
}

/// The kind's own fluctuation estimates, as `observe` reports them, at fixed `T` on the
/// 4 x 4 torus: the mean over many windows of `C = N Var(e)/T^2` and `chi = N Var(|m|)/T`
/// against the exact values from enumeration. A window of `n` correlated sweeps
/// underestimates a variance by about `2 tau / n` (here under 1%), allowed for beside the
/// three standard errors.
#[test]
fn the_kinds_windowed_heat_capacity_and_susceptibility_match_enumeration() {
    let dos = DensityOfStates::enumerate(&Bonds::new(4, &FERRO)).expect("enumerable");
    for (k, (update, t)) in [(HB_RND, 2.5), (MET_CB, 3.0)].into_iter().enumerate() {
        let (mut p, mut rng) = small(4, FERRO, 0.0, update, 40 + k as u64);
        for _ in 0..500 {
            p.sweep(t, &mut rng);
        }
        let columns: Vec<&str> = p.observables().iter().map(|o| o.column).collect();
        let (ic, ix) = (
            columns
                .iter()
                .position(|&c| c == "heat_capacity")
                .expect("C"),
            columns
                .iter()
                .position(|&c| c == "susceptibility")
                .expect("chi"),
        );
        let chain = ChainStats {
            temperature: t,
            heat_capacity: f64::NAN,
        };
        let windows = 48;
        let (mut cs, mut xs) = (Vec::new(), Vec::new());
        for _ in 0..windows {
            for _ in 0..annealscope::sim::ising::WINDOW {
                p.sweep(t, &mut rng);
            }
            let mut out = vec![0.0; columns.len()];
            p.observe(&chain, &mut out);
            cs.push(out[ic]);
            xs.push(out[ix]);
        }
        // Exact: C from the density of states; chi from Var(|M|).
        let exact_c = dos.thermo(t, 0.0).heat_capacity_per_spin;
        let probs = dos.probabilities(t, 0.0);
        let n = 16.0;
        let (m1, m2) = dos
            .levels()
            .iter()
            .zip(&probs)
            .fold((0.0, 0.0), |(a, b), (lv, p)| {
                let m = lv.magnetisation.abs() as f64 / n;
                (a + p * m, b + p * m * m)
            });
        let exact_chi = n * (m2 - m1 * m1) / t;
        for (name, v, exact) in [("C", &cs, exact_c), ("chi", &xs, exact_chi)] {
            let mean = v.iter().sum::<f64>() / windows as f64;
            let sd =
                (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (windows - 1) as f64).sqrt();
            let se = sd / (windows as f64).sqrt();
            println!("{update:?} T={t}: window {name} = {mean:.4} ± {se:.4}, exact {exact:.4}");
            assert!(
                (mean - exact).abs() < 3.0 * se + 0.01 * exact,
                "{update:?} T={t}: {name} {mean} vs exact {exact} (se {se})"
            );
            assert!(se < 0.05 * exact, "{name}: the test has no power");
        }
    }
}

// ----- the shipped presets behave as their descriptions say ------------------------------

/// The Ising lattice of a run.
fn lattice(run: &annealscope::sim::Run) -> &IsingProblem {
    match run.problem() {
        annealscope::sim::AnyProblem::Ising(p) => p,
        _ => panic!("an Ising run"),
    }
}

/// A shipped preset's run A (or B) with `seed`.
fn preset_run(name: &str, b: bool, seed: u64) -> annealscope::sim::Run {
    let p = annealscope::preset::Preset::builtin(name).expect("shipped");
    let mut config = if b {
        p.compare.expect("a comparison")
    } else {
        p.run
    };
    config.seed = seed;
    annealscope::sim::Run::new(config).expect("valid")
}

#[test]
fn through_tc_orders_along_the_exact_curves_with_c_and_chi_peaking_near_tc() {
    let mut run = preset_run("ising-through-tc", false, 0);
    let steps = run.config().steps;
    let columns: Vec<&str> = run.observables().iter().map(|o| o.column).collect();
    let at = |c: &str| columns.iter().position(|&x| x == c).expect("observable");
    let (ie, ic, ix) = (
        at("energy_per_spin"),
        at("heat_capacity"),
        at("susceptibility"),
    );
    let (mut c_peak, mut x_peak) = ((0.0, 0.0), (0.0, 0.0));
    let mut worst = (0.0, 0.0);
    for _ in 0..steps {
        let r = run.step_recorded();
        if !r.step.is_multiple_of(annealscope::sim::OBSERVE_EVERY) {
            continue;
        }
        let (t, o) = (r.temperature, r.observables);
        if o[ic] > c_peak.1 {
            c_peak = (t, o[ic]);
        }
        if o[ix] > x_peak.1 {
            x_peak = (t, o[ix]);
        }
        // Slow cooling stays near equilibrium: the energy follows the exact curve of the
        // 128 x 128 torus, except around T_c where Metropolis lags behind (critical
        // slowing down, then coarsening domains).
        // Measured in units of the equilibrium spread of e, sqrt(C T^2 / N) (each point is
        // one instantaneous sample).
        if (t - 2.269).abs() > 0.3 {
            let exact = kaufman(128, t).expect("kaufman");
            let spread = (exact.heat_capacity_per_spin * t * t / 16384.0).sqrt();
            let z = (o[ie] - exact.energy_per_spin).abs() / spread;
            if z > worst.1 {
                worst = (t, z);
            }
        }
    }
    let p = lattice(&run);
    let [e, m, _] = p.densities();
    let t = run.annealer().temperature();
    println!(
        "through T_c: C peak {c_peak:?}, chi peak {x_peak:?}, worst (T, |e - exact| / spread) {worst:?}, end e {e} |m| {m} at T {t}"
    );
    assert!(worst.1 < 5.0, "energy off the exact curve: {worst:?}");
    assert!(
        (2.0..2.6).contains(&c_peak.0),
        "C peaks at T = {}",
        c_peak.0
    );
    assert!(
        (2.0..2.6).contains(&x_peak.0),
        "chi peaks at T = {}",
        x_peak.0
    );
    assert!((t - 1.2).abs() < 1e-9, "cooled to 1.2");
    assert!(
        (m - yang_magnetisation(t)).abs() < 0.01,
        "|m| = {m}: ordered"
    );
    assert!((e - kaufman(128, t).expect("kaufman").energy_per_spin).abs() < 0.01);
}

#[test]
fn a_quench_leaves_domain_walls_in() {
    for seed in 0..3 {
        let mut run = preset_run("ising-quench", false, seed);
        let steps = run.config().steps;
        run.run(steps);
        let [e, m, _] = lattice(&run).densities();
        println!("quench seed {seed}: e {e}, |m| {m}");
        assert_eq!(run.annealer().temperature(), 0.5, "quenched");
        // Ordered within the domains (e near -2), but walls remain: e above -2 by their
        // length, and no overall order.
        assert!((-1.99..-1.93).contains(&e), "seed {seed}: e = {e}");
        assert!(m < 0.8, "seed {seed}: |m| = {m}");
    }
}

/// Integrated autocorrelation time of `x` (in steps), from the ratio of the blocking error
/// with blocks of `block` steps to the naive error: `tau = (se_block / se_naive)^2 / 2`.
fn tau_int(x: &[f64], block: usize) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    let (_, se) = block_mean_se(x, x.len() / block);
    0.5 * se * se / (var / n)
}

#[test]
fn at_tc_wolff_decorrelates_tens_of_times_faster_than_metropolis() {
    let mut taus = Vec::new();
    let mut energies = Vec::new();
    for b in [false, true] {
        let mut run = preset_run("compare-ising-wolff-vs-metropolis", b, 0);
        let steps = run.config().steps as usize;
        let (mut m, mut e) = (Vec::new(), Vec::new());
        for k in 0..steps {
            run.step();
            if k >= 1000 {
                let [ee, mm, _] = lattice(&run).densities();
                e.push(ee);
                m.push(mm);
            }
        }
        taus.push(tau_int(&m, 500));
        energies.push(mean_se(&e));
    }
    let exact = kaufman(128, 2.269_185_314_213_022)
        .expect("kaufman")
        .energy_per_spin;
    println!(
        "tau(|m|): Metropolis {:.1}, Wolff {:.1}; e {energies:?}, exact {exact}",
        taus[0], taus[1]
    );
    assert!(
        taus[0] > 10.0 * taus[1],
        "Metropolis {} vs Wolff {}",
        taus[0],
        taus[1]
    );
    // Wolff's energy, well sampled, agrees with the exact value of the torus.
    let (ew, se) = energies[1];
    assert!(
        (ew - exact).abs() < 3.0 * se + 1e-3,
        "Wolff e = {ew} ± {se}"
    );
}

#[test]
fn annealing_the_spin_glass_reaches_its_frustrated_ground_energy_a_quench_does_not() {
    let mut run = preset_run("ising-spin-glass", false, 0);
    let steps = run.config().steps;
    run.run(steps);
    let p = lattice(&run);
    let [e, m, _] = p.densities();
    let best = run.annealer().best_energy() / 4096.0;
    // Broken bonds: e = -2 + 2 u / N for u unsatisfied bonds of the 2N.
    let broken = (2.0 + best) / 4.0;
    // The same instance quenched to the final temperature for as long.
    let mut config = run.config().clone();
    config.annealer.schedule = annealscope::sim::Schedule::Constant { t0: 0.1 };
    let mut quench = annealscope::sim::Run::new(config).expect("valid");
    quench.run(steps);
    assert_eq!(quench.annealer().temperature(), 0.1);
    let q = quench.annealer().best_energy() / 4096.0;
    println!(
        "spin glass: annealed e {e} best {best} (broken bonds {broken:.3}), |m| {m}; quenched best {q}"
    );
    assert!((-1.43..-1.38).contains(&best), "best e = {best}");
    assert!((0.1..0.2).contains(&broken), "broken bonds {broken}");
    assert!(m < 0.15, "no ferromagnetic order: |m| = {m}");
    assert!(best < q - 0.01, "annealing {best} beats quenching {q}");
}

// ----- settings in presets -----------------------------------------------------------------

use proptest::prelude::Strategy;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Any valid Ising setting survives a preset's RON round trip unchanged.
    #[test]
    fn any_valid_ising_preset_survives_a_ron_round_trip(
        size in 8usize..=1024,
        coupling in proptest::prop_oneof![
            (-10.0f64..=10.0).prop_map(|j| Coupling::Ferro { j }),
            proptest::prelude::any::<u64>().prop_map(|seed| Coupling::SpinGlass { seed }),
        ],
        field in -10.0f64..=10.0,
        update in proptest::sample::select(vec![MET_CB, MET_RND, HB_CB, HB_RND, Update::Wolff]),
        up in proptest::prelude::any::<bool>(),
    ) {
        let cfg = IsingConfig { size, coupling, field, update, start: if up { Start::Up } else { Start::Random } };
        proptest::prop_assume!(cfg.validate().is_ok());
        let preset = annealscope::preset::Preset {
            run: annealscope::sim::RunConfig {
                problem: annealscope::sim::ProblemConfig::Ising(cfg),
                ..annealscope::sim::RunConfig::default()
            },
            ..annealscope::preset::Preset::default()
        };
        let back = annealscope::preset::Preset::from_ron(&preset.to_ron(), "round trip")
            .expect("reads back");
        proptest::prop_assert_eq!(back, preset);
    }
}

#[test]
fn bad_ising_settings_in_a_preset_give_one_line_naming_the_field() {
    let with =
        |problem: &str| format!("(version: 2, run: (problem: Ising({problem}), steps: 100))");
    let cases = [
        (
            "(size: 4)",
            "`run.problem.Ising.size` = 4 is out of range: allowed 8 ..= 1024",
        ),
        (
            "(coupling: Ferro(j: 11.0))",
            "`run.problem.Ising.coupling.j` = 11",
        ),
        ("(field: -12.0)", "`run.problem.Ising.field` = -12"),
        (
            "(update: Wolff, field: 0.5)",
            "`run.problem.Ising.update` = Wolff is out of range: allowed Metropolis or HeatBath",
        ),
        (
            "(update: Wolff, coupling: SpinGlass(seed: 3))",
            "`run.problem.Ising.update` = Wolff",
        ),
        ("(sise: 64)", "sise"),
        ("(update: Glauber)", "Glauber"),
    ];
    for (problem, want) in cases {
        let e = annealscope::preset::Preset::from_ron(&with(problem), "bad.ron")
            .expect_err(problem)
            .to_string();
        assert!(e.starts_with("bad.ron"), "{e}");
        assert!(e.contains(want), "{problem}: {e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }
}

// ----- the view, driven headlessly ---------------------------------------------------------

#[test]
fn the_app_shows_the_lattice_and_its_plots_and_switches_them_to_steps() {
    use egui_kittest::kittest::Queryable;
    let mut preset = annealscope::preset::Preset::builtin("ising-through-tc").expect("shipped");
    preset.run.steps = 10_000_000_000;
    let app = annealscope::ui::App::new(&egui::Context::default(), preset).expect("app starts");
    let mut h = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut annealscope::ui::App| app.frame(ui), app);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while h.state().a.view.is_none() || h.state().a.step() < 100 {
        assert!(std::time::Instant::now() < deadline, "no lattice arrived");
        std::thread::sleep(std::time::Duration::from_millis(10));
        h.step();
    }
    h.run_steps(3);
    let _ = h.get_by_label_contains("Ising ferromagnet, 128 x 128");
    let _ = h.get_by_label_contains("exact, 128 x 128 (Kaufman)");
    assert!(
        h.query_by_label_contains("no exact solution").is_none(),
        "a ferromagnet has exact curves"
    );
    h.get_by_label("steps").click();
    h.run_steps(3);
    // The lattice's own controls are there and change the problem.
    let _ = h.get_by_role_and_label(egui::accesskit::Role::Slider, "Lattice side L");
    let annealscope::sim::ProblemConfig::Ising(c) = &h.state().a.config.problem else {
        panic!("an Ising run");
    };
    assert_eq!(c.size, 128);
}
