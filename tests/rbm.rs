//! The restricted Boltzmann machine against independent computations: exact `ln Z`
//! against brute-force enumeration, the exact gradient against finite differences,
//! Gibbs chains against the exact `p(v)` by chi-square, AIS against the exact `ln Z`,
//! the state file, and learning bars and stripes (fixed seeds).

use annealscope::preset::Preset;
use annealscope::sim::ais::{self, AisConfig, Spacing};
use annealscope::sim::rbm::{
    Learning, Mode, Patterns, RbmConfig, RbmModel, RbmProblem, RbmWeights, bars_and_stripes,
};
use annealscope::sim::{AnyProblem, Kind, Problem, Reply, Request, Run};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// An independent brute-force `ln Z(T)`: every `(v, h)`, energy written out from the
/// weight rows.
#[allow(clippy::needless_range_loop)]
fn brute_ln_z(w: &[Vec<f64>], b: &[f64], c: &[f64], t: f64) -> f64 {
    let (nv, nh) = (b.len(), c.len());
    let mut terms = Vec::with_capacity(1 << (nv + nh));
    for v in 0..1usize << nv {
        for h in 0..1usize << nh {
            let vi = |i: usize| ((v >> i) & 1) as f64;
            let hj = |j: usize| ((h >> j) & 1) as f64;
            let mut e = 0.0;
            for i in 0..nv {
                e -= b[i] * vi(i);
                for j in 0..nh {
                    e -= vi(i) * w[i][j] * hj(j);
                }
            }
            for j in 0..nh {
                e -= c[j] * hj(j);
            }
            terms.push(-e / t);
        }
    }
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + terms.iter().map(|x| (x - max).exp()).sum::<f64>().ln()
}

/// Independent brute-force `ln p(v)` at T = 1 from the weight rows.
#[allow(clippy::needless_range_loop)]
fn brute_log_p(w: &[Vec<f64>], b: &[f64], c: &[f64], v: &[u8], ln_z: f64) -> f64 {
    let nh = c.len();
    let mut terms = Vec::new();
    for h in 0..1usize << nh {
        let mut e = 0.0;
        for (i, &vi) in v.iter().enumerate() {
            e -= b[i] * f64::from(vi);
            for j in 0..nh {
                e -= f64::from(vi) * w[i][j] * ((h >> j) & 1) as f64;
            }
        }
        for (j, cj) in c.iter().enumerate() {
            e -= cj * ((h >> j) & 1) as f64;
        }
        terms.push(-e);
    }
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + terms.iter().map(|x| (x - max).exp()).sum::<f64>().ln() - ln_z
}

fn random_model(nv: usize, nh: usize, scale: f64, seed: u64) -> RbmModel {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut m = RbmModel::random(nv, nh, scale, &mut rng);
    for x in m.b.iter_mut().chain(&mut m.c) {
        *x = scale * (2.0 * rng.random::<f64>() - 1.0);
    }
    m
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1.0)
}

/// Test 1: exact ln Z against brute force over all (v, h), with either layer the smaller
/// one, at T = 1 and T = 0.3; and the fast path against the plain one at 16 x 16.
#[test]
fn exact_ln_z_matches_brute_force() {
    // 3x3 visible with 4 hidden sums over h; 2x2 with 6 hidden sums over v; 3x3 with 9
    // hidden (a tie) and 3 with 5.
    for (nv, nh, seed) in [(9, 4, 1), (4, 6, 2), (9, 9, 3), (3, 5, 4), (6, 2, 5)] {
        let m = random_model(nv, nh, 1.0, seed);
        let wt = m.to_weights();
        for t in [1.0, 0.3] {
            let want = brute_ln_z(&wt.w, &wt.b, &wt.c, t);
            let fast = m.ln_z(t);
            let plain = m.ln_z_plain(t);
            assert!(
                rel(fast, want) < 1e-9,
                "{nv}x{nh} T={t}: fast {fast} vs brute {want}"
            );
            assert!(
                rel(plain, want) < 1e-9,
                "{nv}x{nh} T={t}: plain {plain} vs brute {want}"
            );
        }
    }
    // 16 x 16: fast Gray-code path against the plain path; moderate weights (pure fast
    // path), large weights (products overflow: per-term fallback) and T = 0.01 (fast
    // path refused), and the 16 x 15 / 15 x 16 orientations.
    for (nv, nh, scale, t) in [
        (16, 16, 1.0, 1.0),
        (16, 16, 1.0, 0.3),
        (16, 16, 15.0, 1.0),
        (16, 16, 1.0, 0.01),
        (16, 15, 2.0, 1.0),
        (15, 16, 2.0, 1.0),
    ] {
        let m = random_model(nv, nh, scale, 7);
        let fast = m.ln_z(t);
        let plain = m.ln_z_plain(t);
        let gray = m.ln_z_gray_plain(t);
        assert!(
            rel(fast, plain) < 1e-9,
            "{nv}x{nh} s={scale} T={t}: {fast} vs {plain}"
        );
        assert!(
            rel(gray, plain) < 1e-9,
            "{nv}x{nh} s={scale} T={t}: {gray} vs {plain}"
        );
    }
}

/// The state record lets an independent program recompute ln Z and the log-likelihood.
#[test]
fn state_json_recomputes_ln_z_and_log_likelihood() {
    let cfg = RbmConfig {
        width: 2,
        height: 3,
        hidden: 5,
        init_scale: 1.0,
        ..RbmConfig::default()
    };
    let mut rng = Pcg64Mcg::seed_from_u64(11);
    let mut p = RbmProblem::new(&cfg, &mut rng).expect("valid");
    for _ in 0..20 {
        p.sweep(1.0, &mut rng);
    }
    let json = serde_json::to_string(&p.state()).expect("serialises");
    let again = serde_json::to_string(&p.state()).expect("serialises");
    assert_eq!(json, again, "the exported AIS estimate is deterministic");
    let v: serde_json::Value = serde_json::from_str(&json).expect("parses");
    let rows: Vec<Vec<f64>> = serde_json::from_value(v["W"].clone()).expect("W rows");
    let b: Vec<f64> = serde_json::from_value(v["b"].clone()).expect("b");
    let c: Vec<f64> = serde_json::from_value(v["c"].clone()).expect("c");
    let pats: Vec<String> = serde_json::from_value(v["patterns"].clone()).expect("patterns");
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0].len(), 5);
    let ln_z = brute_ln_z(&rows, &b, &c, 1.0);
    assert!(rel(v["exact_ln_z"].as_f64().expect("number"), ln_z) < 1e-9);
    let ll: f64 = pats
        .iter()
        .map(|s| {
            let px: Vec<u8> = s.bytes().map(|ch| ch - b'0').collect();
            brute_log_p(&rows, &b, &c, &px, ln_z)
        })
        .sum::<f64>()
        / pats.len() as f64;
    assert!((v["log_likelihood"].as_f64().expect("number") - ll).abs() < 1e-9);
    assert!((p.energy() + ll).abs() < 1e-9, "energy is -LL");
    let ais = v["ais_ln_z"].as_f64().expect("number");
    let se = v["ais_std_err"].as_f64().expect("number");
    assert!(
        se > 0.0 && (ais - ln_z).abs() < 4.0 * se + 1e-3,
        "AIS {ais} ± {se} vs {ln_z}"
    );
    assert_eq!(v["width"], 2);
    assert_eq!(v["hidden"], 5);
}

/// Test 2: the exact gradient against central finite differences of the exact
/// log-likelihood, for both orientations of the exact sum.
#[test]
fn exact_gradient_matches_finite_differences() {
    let data = [0b0110u32, 0b1001, 0b1111, 0b0110, 0b0001];
    for (nv, nh, seed) in [(4, 6, 21), (4, 2, 22), (4, 4, 23)] {
        let m = random_model(nv, nh, 1.0, seed);
        let g = m.gradient(&data, m.ln_z(1.0));
        let ll = |m: &RbmModel| m.mean_log_likelihood(&data, m.ln_z(1.0));
        let eps = 1e-5;
        let mut worst: f64 = 0.0;
        let mut check = |get: &dyn Fn(&mut RbmModel) -> &mut f64, analytic: f64| {
            let mut p = m.clone();
            *get(&mut p) += eps;
            let up = ll(&p);
            *get(&mut p) -= 2.0 * eps;
            let down = ll(&p);
            let fd = (up - down) / (2.0 * eps);
            worst = worst.max((fd - analytic).abs());
            assert!(
                (fd - analytic).abs() < 1e-7,
                "{nv}x{nh}: fd {fd} vs {analytic}"
            );
        };
        for k in 0..nv * nh {
            check(&|p| &mut p.w[k], g.vh[k]);
        }
        for i in 0..nv {
            check(&|p| &mut p.b[i], g.v[i]);
        }
        for j in 0..nh {
            check(&|p| &mut p.c[j], g.h[j]);
        }
        assert!(worst > 0.0);
        // the gradient is not trivially small
        assert!(g.vh.iter().any(|x| x.abs() > 1e-2));
    }
}

fn chi_square(counts: &[u64], p: &[f64]) -> f64 {
    let n: u64 = counts.iter().sum();
    counts
        .iter()
        .zip(p)
        .map(|(&o, &q)| {
            let e = q * n as f64;
            (o as f64 - e).powi(2) / e
        })
        .sum()
}

/// Test 3: block-Gibbs chains at T = 1 (and T = 0.5) on a small random model match the
/// exact p(v) by chi-square; the same samples are rejected against p at another
/// temperature (the test has power); the chains' mean joint energy matches U(T).
#[test]
fn gibbs_chains_match_exact_distribution() {
    let m = random_model(4, 3, 1.0, 31);
    let chains = 10_000;
    for t in [1.0, 0.5] {
        let cfg = RbmConfig {
            width: 2,
            height: 2,
            hidden: 3,
            weights: Some(m.to_weights()),
            mode: Mode::Sample {
                chains,
                pretrain: 0,
            },
            ..RbmConfig::default()
        };
        let mut rng = Pcg64Mcg::seed_from_u64(32);
        let mut p = RbmProblem::new(&cfg, &mut rng).expect("valid");
        for _ in 0..30 {
            p.sweep(t, &mut rng);
        }
        let mut counts = vec![0u64; 16];
        for &v in p.chain_masks() {
            counts[v as usize] += 1;
        }
        let exact = p.exact_p_v(t);
        let chi2 = chi_square(&counts, &exact);
        // 15 degrees of freedom: P(chi2 > 37.7) = 0.001
        assert!(chi2 < 37.7, "T={t}: chi2 {chi2}");
        let wrong = p.exact_p_v(t * 1.5);
        let chi2_wrong = chi_square(&counts, &wrong);
        assert!(
            chi2_wrong > 200.0,
            "T={t}: chi2 against T*1.5 only {chi2_wrong}"
        );
        // mean joint energy against U(T), within 4 standard errors
        let es: Vec<f64> = p
            .chain_masks()
            .iter()
            .zip(p.chain_hidden())
            .map(|(&v, &h)| p.model().energy(v, h))
            .collect();
        let mean = es.iter().sum::<f64>() / es.len() as f64;
        let var = es.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (es.len() - 1) as f64;
        let se = (var / es.len() as f64).sqrt();
        let (exact_t, _, u) = p.exact_at_t();
        assert_eq!(exact_t, t);
        assert!((p.energy() / chains as f64 - mean).abs() < 1e-9);
        assert_eq!(p.particles(), chains);
        assert!(
            (mean - u).abs() < 4.0 * se,
            "T={t}: <E> {mean} vs U {u} (se {se})"
        );
        let (_, u_exact) = p.model().ln_z_and_mean_energy(t);
        assert!((u - u_exact).abs() < 1e-12);
    }
}

/// The machine of a run (panics for other kinds).
fn rbm(run: &Run) -> &RbmProblem {
    match run.problem() {
        AnyProblem::Rbm(p) => p,
        _ => panic!("an RBM run"),
    }
}

/// Steps per second of a preset's pace.
fn rate(preset: &Preset) -> f64 {
    preset
        .pace
        .steps_per_second(preset.run.steps)
        .expect("a lecture preset is paced")
}

/// AIS (K = 1000, M = 100) on the trained 4x4 model with 16 hidden units of the
/// `rbm-ais` preset is within 3 standard errors of the exact ln Z in at least 19 of 20
/// seeds, and its error shrinks with K; along the run, the app's AIS answers follow the
/// exact ln Z as it changes.
#[test]
fn ais_matches_exact_ln_z_on_the_trained_4x4_model_of_its_preset() {
    let preset = Preset::builtin("rbm-ais").expect("shipped");
    let seconds = preset.run.steps as f64 / rate(&preset);
    assert!((20.0..=90.0).contains(&seconds), "{seconds} s of wall time");
    let mut run = Run::new(preset.run.clone()).expect("valid");
    let mut exacts = Vec::new();
    while !run.finished() {
        run.step();
        if run.annealer().steps().is_multiple_of(40) {
            let Some(Reply::Ais(a)) = run.answer(
                &Request::Ais {
                    k: 1000,
                    m: 100,
                    t: 1.0,
                },
                run.annealer().steps(),
            ) else {
                panic!("an RBM answers AIS requests");
            };
            let err = a.estimate.ln_z - a.exact_ln_z;
            eprintln!(
                "step {}: AIS {:.4} ± {:.4}, exact {:.4}",
                run.annealer().steps(),
                a.estimate.ln_z,
                a.estimate.std_err,
                a.exact_ln_z
            );
            assert!(
                err.abs() < 4.0 * a.estimate.std_err,
                "{err} at {:?}",
                a.estimate
            );
            assert_eq!(a.exact_ln_z, rbm(&run).exact_ln_z());
            exacts.push(a.exact_ln_z);
        }
    }
    assert!(
        exacts.windows(2).all(|w| w[1] > w[0] + 1.0),
        "ln Z changes as the machine learns: {exacts:?}"
    );
    let p = rbm(&run);
    let exact = p.exact_ln_z();
    eprintln!(
        "trained 4x4 BAS, 16 hidden, {} exact steps: LL {:.4} (max {:.4}), ln Z {exact:.4}",
        preset.run.steps,
        p.log_likelihood(),
        p.max_log_likelihood(),
    );
    assert!(
        p.log_likelihood() > p.max_log_likelihood() - 0.2,
        "the model is trained"
    );
    let mut within = 0;
    for seed in 0..20u64 {
        let mut rng = Pcg64Mcg::seed_from_u64(1000 + seed);
        let e = p.ais_estimate(1.0, 1000, 100, &mut rng);
        let z = (e.ln_z - exact) / e.std_err;
        eprintln!(
            "  seed {seed:2}: AIS {:.4} ± {:.4}, error {:+.4} = {z:+.2} SE, ESS {:.1}",
            e.ln_z,
            e.std_err,
            e.ln_z - exact,
            e.ess
        );
        assert!(e.std_err > 0.0 && e.std_err < 0.2);
        assert_eq!(e.log_weights.len(), 100);
        if z.abs() <= 3.0 {
            within += 1;
        }
    }
    assert!(within >= 19, "only {within}/20 within 3 SE");
    let mut rng = Pcg64Mcg::seed_from_u64(99);
    let pts = p.ais_error_vs_k(1.0, &[10, 100, 1000], 100, 6, &mut rng);
    for pt in &pts {
        eprintln!(
            "  K = {:4}: mean |error| {:.4}, rms {:.4}, mean error {:+.4}, mean SE {:.4}",
            pt.k, pt.mean_abs_error, pt.rms_error, pt.mean_error, pt.mean_std_err
        );
    }
    assert!(pts[0].mean_abs_error > pts[1].mean_abs_error);
    assert!(pts[1].mean_abs_error > pts[2].mean_abs_error);
    assert!(pts[0].mean_abs_error > 5.0 * pts[2].mean_abs_error);
    assert!(pts[2].mean_abs_error < 0.05);
    assert!(pts[0].mean_std_err > 2.0 * pts[1].mean_std_err);
    assert!(pts[1].mean_std_err > 2.0 * pts[2].mean_std_err);
}

/// Test 5: AIS on the harmonic bowl E = (x^2 + y^2)/2 on [-8, 8]^2 matches ln(2 pi T)
/// within 3 standard errors at T = 1 and T = 0.1.
#[test]
fn ais_harmonic_landscape() {
    let e = |x: f64, y: f64| 0.5 * (x * x + y * y);
    let cfg = AisConfig {
        k: 1000,
        m: 100,
        spacing: Spacing::GeometricLinear,
        auto: false,
    };
    for (t, seed) in [(1.0, 51), (0.1, 52)] {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let est = ais::landscape_ln_z(&e, [[-8.0, -8.0], [8.0, 8.0]], t, &cfg, &mut rng);
        let exact = (2.0 * std::f64::consts::PI * t).ln();
        eprintln!(
            "harmonic T={t}: AIS {:.4} ± {:.4} vs ln(2 pi T) = {exact:.4} (ESS {:.1})",
            est.ln_z, est.std_err, est.ess
        );
        assert!(est.std_err > 0.0 && est.std_err < 0.1);
        assert!((est.ln_z - exact).abs() < 3.0 * est.std_err);
    }
    // the error shrinks with K
    let exact = (2.0 * std::f64::consts::PI * 0.1).ln();
    let mut rng = Pcg64Mcg::seed_from_u64(53);
    let pts = ais::landscape_error_vs_k(
        &e,
        [[-8.0, -8.0], [8.0, 8.0]],
        0.1,
        exact,
        &[10, 100, 1000],
        50,
        Spacing::GeometricLinear,
        10,
        &mut rng,
    );
    for pt in &pts {
        eprintln!(
            "  harmonic T=0.1 K = {:4}: mean |error| {:.4}, mean SE {:.4}",
            pt.k, pt.mean_abs_error, pt.mean_std_err
        );
    }
    assert!(pts[0].mean_abs_error > pts[2].mean_abs_error);
}

/// Sampling mode: pretraining is deterministic in the config's seed, and the pretrained
/// model puts most of its mass on the data.
#[test]
fn sampling_mode_pretrains_deterministically() {
    let cfg = RbmConfig {
        mode: Mode::Sample {
            chains: 50,
            pretrain: 500,
        },
        ..RbmConfig::default()
    };
    let mut r1 = Pcg64Mcg::seed_from_u64(1);
    let mut r2 = Pcg64Mcg::seed_from_u64(2);
    let a = RbmProblem::new(&cfg, &mut r1).expect("valid");
    let b = RbmProblem::new(&cfg, &mut r2).expect("valid");
    assert_eq!(a.weights(), b.weights());
    assert!(a.log_likelihood() > -(14f64.ln()) - 0.3);
    let mass: f64 = a.pattern_table().iter().map(|r| r.model).sum();
    assert!(mass > 0.8, "data mass {mass}");
    // cold chains settle into data patterns
    let mut p = a;
    let mut rng = Pcg64Mcg::seed_from_u64(3);
    for k in 0..200 {
        let t = 2.0 * 0.97f64.powi(k);
        p.sweep(t, &mut rng);
    }
    let data = bars_and_stripes(3, 3);
    let on_data = p.chain_masks().iter().filter(|v| data.contains(v)).count();
    assert!(
        on_data >= 45,
        "{on_data}/50 chains on data at T = {}",
        p.temperature()
    );
    let e_cold = p.energy() / p.particles() as f64;
    let (_, u) = p.model().ln_z_and_mean_energy(p.temperature());
    assert!((e_cold - u).abs() < 0.5, "cold chains {e_cold} vs U {u}");
}

/// Configs round-trip through RON, unknown fields are refused, and bad values in RON
/// reach `validate` with their field paths.
#[test]
fn ron_configs() {
    let cfg = RbmConfig {
        patterns: Patterns::List(vec!["101010101".into(), "111000000".into()]),
        mode: Mode::Learn {
            learning: Learning::Pcd { k: 2, chains: 30 },
            lr: 0.05,
        },
        weights: Some(RbmWeights {
            w: vec![vec![0.5; 8]; 9],
            b: vec![0.0; 9],
            c: vec![0.1; 8],
        }),
        ..RbmConfig::default()
    };
    let text = ron::to_string(&cfg).expect("serialises");
    let back: RbmConfig = ron::from_str(&text).expect("parses");
    assert_eq!(back, cfg);
    let short: RbmConfig =
        ron::from_str("(width: 4, height: 4, hidden: 16, patterns: Shapes, mode: Sample(chains: 8, pretrain: 10))")
            .expect("parses");
    assert!(short.validate().is_ok());
    assert!(ron::from_str::<RbmConfig>("(widht: 3)").is_err());
    assert!(
        ron::from_str::<RbmConfig>("(mode: Learn(learning: Cd(k: 1, j: 2), lr: 0.1))").is_err()
    );
    let bad: RbmConfig =
        ron::from_str(r#"(patterns: List(["10101010", "101010101"]))"#).expect("parses");
    assert_eq!(
        bad.validate().map_err(|e| e.field),
        Err("patterns[0]".into())
    );
    let bad: RbmConfig = ron::from_str("(width: 5)").expect("parses");
    assert_eq!(bad.validate().map_err(|e| e.field), Err("width".into()));
    let bad: RbmConfig = ron::from_str("(mode: Learn(learning: Exact, lr: NaN))").expect("parses");
    assert_eq!(bad.validate().map_err(|e| e.field), Err("mode.lr".into()));
}

/// The UI data: receptive fields, pattern tables, top patterns, best weights.
#[test]
fn ui_data_is_consistent() {
    let cfg = RbmConfig {
        patterns: Patterns::List(vec![
            "111000000".into(),
            "111000000".into(),
            "000000111".into(),
        ]),
        ..RbmConfig::default()
    };
    let mut rng = Pcg64Mcg::seed_from_u64(5);
    let mut p = RbmProblem::new(&cfg, &mut rng).expect("valid");
    let mut best = f64::INFINITY;
    for _ in 0..100 {
        p.sweep(1.0, &mut rng);
        if p.energy() < best {
            best = p.energy();
            p.store_best();
        }
    }
    assert_eq!(p.best_energy(), Some(best));
    assert_eq!(p.best_weights().map(|w| w.w.len()), Some(9));
    let rf = p.receptive_fields();
    assert_eq!(rf.len(), 8);
    assert_eq!(rf[3][5], p.model().w[5 * 8 + 3]);
    let table = p.pattern_table();
    assert_eq!(table.len(), 2);
    assert_eq!(table[0].count + table[1].count, 3);
    assert!(table[0].model >= table[1].model);
    let top = p.top_patterns(3);
    assert_eq!(top[0].mask, table[0].mask);
    assert!(
        (top[0].empirical - 2.0 / 3.0).abs() < 1e-12
            || (top[0].empirical - 1.0 / 3.0).abs() < 1e-12
    );
    let total: f64 = p.exact_p_v(1.0).iter().sum();
    assert!((total - 1.0).abs() < 1e-12);
    let max_ll = p.max_log_likelihood();
    let want = (2.0 / 3.0) * (2.0f64 / 3.0).ln() + (1.0 / 3.0) * (1.0f64 / 3.0).ln();
    assert!((max_ll - want).abs() < 1e-12);
    assert!(p.log_likelihood() < max_ll);
    assert!(p.log_likelihood() > max_ll - 0.3);
}

/// A landscape answers AIS requests through the app's request channel: on the harmonic
/// bowl of the `harmonic` preset (box [-4, 4]^2) the estimate matches ln(2 pi T) and the
/// quadrature beside it, at T = 1 and cold, and its error shrinks with K.
#[test]
fn the_harmonic_landscape_answers_ais_against_its_quadrature() {
    let preset = Preset::builtin("harmonic").expect("shipped");
    let run = Run::new(preset.run).expect("valid");
    for (t, nonce) in [(1.0, 1), (0.01, 2)] {
        let Some(Reply::Ais(a)) = run.answer(&Request::Ais { k: 1000, m: 100, t }, nonce) else {
            panic!("a landscape answers AIS requests");
        };
        let want = (2.0 * std::f64::consts::PI * t).ln();
        let e = &a.estimate;
        eprintln!(
            "harmonic preset T={t}: AIS {:.4} ± {:.4}, quadrature {:.5}, ln(2 pi T) {want:.5}",
            e.ln_z, e.std_err, a.exact_ln_z
        );
        assert!(
            (a.exact_ln_z - want).abs() < 2e-3,
            "quadrature {}",
            a.exact_ln_z
        );
        assert!(e.std_err > 0.0 && e.std_err < 0.1);
        assert!(
            (e.ln_z - want).abs() < 3.0 * e.std_err,
            "{} vs {want}",
            e.ln_z
        );
    }
    let Some(Reply::AisErrors(errors)) = run.answer(
        &Request::AisErrors {
            k_max: 300,
            m: 50,
            repeats: 5,
            t: 0.1,
        },
        3,
    ) else {
        panic!("a landscape answers error-vs-K requests");
    };
    let ks: Vec<usize> = errors.points.iter().map(|p| p.k).collect();
    assert_eq!(ks, vec![1, 3, 10, 30, 100, 300]);
    let first = errors.points[0].mean_abs_error;
    let last = errors.points[5].mean_abs_error;
    assert!(last < first / 5.0, "{first} -> {last}");
}

/// The exact log-likelihood of every step of a learning run (and the steps' count).
fn log_likelihood_curve(config: &annealscope::sim::RunConfig) -> Vec<f64> {
    let mut run = Run::new(config.clone()).expect("valid");
    let mut curve = vec![rbm(&run).log_likelihood()];
    while !run.finished() {
        run.step();
        let p = rbm(&run);
        assert!((run.annealer().energy() + p.log_likelihood()).abs() < 1e-12);
        curve.push(p.log_likelihood());
    }
    curve
}

/// The `rbm-exact-vs-cd1` preset: bars and stripes 3x3, 8 hidden units. The exact
/// gradient (A) climbs to within 0.3 nats of -ln 14 in a time a lecture can watch and
/// stays there; CD-1 (B), with the same settings and seeds, ends visibly worse.
#[test]
fn bars_and_stripes_preset_exact_gradient_climbs_and_cd1_lags() {
    let preset = Preset::builtin("rbm-exact-vs-cd1").expect("shipped");
    let best = -(14f64.ln());
    let exact = log_likelihood_curve(&preset.run);
    let cd1 = log_likelihood_curve(preset.compare.as_ref().expect("a B side"));
    let show = |c: &[f64]| {
        [0, 50, 100, 150, 200, 300, 400, 500]
            .iter()
            .map(|&s| format!("{s}: {:.3}", c[s]))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let hit = exact.iter().position(|&l| l >= best - 0.3).expect("climbs");
    let speed = rate(&preset);
    eprintln!("optimum -ln 14 = {best:.4}");
    eprintln!(
        "exact: {}; within 0.3 nats from step {hit} ({:.1} s at {speed} steps/s)",
        show(&exact),
        hit as f64 / speed
    );
    eprintln!("CD-1:  {}", show(&cd1));
    let n = exact.len() - 1;
    assert!(exact[0] < best - 3.0, "starts far from the optimum");
    assert!(hit as f64 / speed < 60.0, "a lecture sees the climb");
    let seconds = n as f64 / speed;
    assert!((20.0..=90.0).contains(&seconds), "{seconds} s of wall time");
    assert!(
        exact[hit..].iter().all(|&l| l >= best - 0.3),
        "and it stays"
    );
    assert!(
        exact[n] <= best + 1e-9,
        "nothing beats the data's own entropy"
    );
    assert!(exact[n] > best - 0.1, "exact ends at {}", exact[n]);
    let cd_best_late = cd1[n - 100..].iter().copied().fold(f64::MIN, f64::max);
    assert!(
        cd_best_late < exact[n] - 1.0,
        "CD-1 reaches {cd_best_late} in its last 100 steps, exact {}",
        exact[n]
    );
}

/// The `rbm-cold-vs-tempering` preset: at T = 0.25 plain Gibbs chains started in one
/// pattern never leave it (A holds 1 of the 14 data patterns throughout); parallel
/// tempering over T (B) brings every pattern to the coldest chains and holds most of them.
#[test]
fn cold_chains_stick_and_tempering_mixes() {
    let preset = Preset::builtin("rbm-cold-vs-tempering").expect("shipped");
    let seconds = preset.run.steps as f64 / rate(&preset);
    assert!((20.0..=90.0).contains(&seconds), "{seconds} s of wall time");
    let column = |run: &Run, name: &str| {
        run.observables()
            .iter()
            .position(|o| o.column == name)
            .expect("observed")
    };
    let mut stats = Vec::new();
    for config in [
        preset.run.clone(),
        preset.compare.clone().expect("a B side"),
    ] {
        let mut run = Run::new(config).expect("valid");
        let (held_i, tv_i) = (
            column(&run, "data_patterns_held"),
            column(&run, "chains_tv"),
        );
        let (mut held, mut tv, mut n) = (Vec::new(), 0.0, 0.0);
        let mut seen = std::collections::BTreeSet::new();
        while !run.finished() {
            let r = run.step_recorded();
            assert_eq!(r.temperature, 0.25, "the shown chains are the coldest");
            seen.extend(rbm(&run).chain_masks().iter().copied());
            if r.step > run.config().steps / 2 {
                held.push(r.observables[held_i]);
                tv += r.observables[tv_i];
                n += 1.0;
            }
        }
        let mean_held = held.iter().sum::<f64>() / held.len() as f64;
        eprintln!(
            "tempering {}: mean share held {mean_held:.3} (min {:.3}), mean TV {:.3}, patterns visited {}",
            run.config().tempering.is_some(),
            held.iter().copied().fold(1.0, f64::min),
            tv / n,
            seen.len()
        );
        stats.push((held, tv / n, seen));
    }
    let data = bars_and_stripes(3, 3);
    let (a_held, a_tv, a_seen) = &stats[0];
    assert!(a_held.iter().all(|&h| (h - 1.0 / 14.0).abs() < 1e-12));
    assert!(*a_tv > 0.9);
    assert_eq!(a_seen.len(), 1, "A's chains never leave the blank image");
    let (b_held, b_tv, b_seen) = &stats[1];
    let b_mean = b_held.iter().sum::<f64>() / b_held.len() as f64;
    assert!(b_mean > 0.4, "B holds {b_mean} of the patterns on average");
    assert!(*b_tv < a_tv - 0.3);
    assert!(
        data.iter().all(|v| b_seen.contains(v)),
        "B visits every pattern"
    );
}
