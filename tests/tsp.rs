//! The travelling-salesman presets do what their descriptions say, through the real
//! engine, and `run --state` writes a tour that can be checked outside.

mod common;

use annealscope::preset::Preset;
use annealscope::sim::tsp::{
    BERLIN52, BERLIN52_OPTIMUM, BHH_BETA, Cities, MoveMix, Start, TspConfig, TspProblem,
};
use annealscope::sim::{AnyProblem, Kind, OBSERVE_EVERY, Run, RunConfig};
use proptest::prelude::*;
use std::time::Instant;

/// The tour of a run.
fn tour(run: &Run) -> &TspProblem {
    match run.problem() {
        AnyProblem::Tsp(p) => p,
        _ => panic!("a travelling-salesman run"),
    }
}

/// A run of `config` with `seed`, finished.
fn finished(config: &RunConfig, seed: u64) -> Run {
    let mut config = config.clone();
    config.seed = seed;
    let mut run = Run::new(config).expect("valid");
    let steps = run.config().steps;
    run.run(steps);
    run
}

/// Euclidean distance, written out independently of the module.
fn dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// Length of the closed tour, independently of the module.
fn length(cities: &[[f64; 2]], tour: &[usize]) -> f64 {
    let n = tour.len();
    (0..n)
        .map(|k| dist(cities[tour[k]], cities[tour[(k + 1) % n]]))
        .sum()
}

fn is_permutation(tour: &[usize], n: usize) -> bool {
    let mut seen = vec![false; n];
    tour.len() == n
        && tour
            .iter()
            .all(|&c| c < n && !std::mem::replace(&mut seen[c], true))
}

/// Whether the open segments `p1 p2` and `q1 q2` cross at a point inside both.
fn cross(p1: [f64; 2], p2: [f64; 2], q1: [f64; 2], q2: [f64; 2]) -> bool {
    let orient = |a: [f64; 2], b: [f64; 2], c: [f64; 2]| {
        (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    };
    let (d1, d2) = (orient(q1, q2, p1), orient(q1, q2, p2));
    let (d3, d4) = (orient(p1, p2, q1), orient(p1, p2, q2));
    d1 * d2 < 0.0 && d3 * d4 < 0.0
}

/// The largest gain of any 2-opt move on the closed tour (positive: it can be shortened),
/// and whether any two of its edges cross.
fn two_opt_gain_and_crossings(cities: &[[f64; 2]], tour: &[usize]) -> (f64, bool) {
    let n = tour.len();
    let at = |k: usize| cities[tour[k % n]];
    let mut gain = f64::NEG_INFINITY;
    let mut crossing = false;
    for i in 0..n {
        for j in i + 2..n {
            if i == 0 && j == n - 1 {
                continue; // the two edges share city 0
            }
            let (a, b, c, d) = (at(i), at(i + 1), at(j), at(j + 1));
            gain = gain.max(dist(a, b) + dist(c, d) - dist(a, c) - dist(b, d));
            crossing |= cross(a, b, c, d);
        }
    }
    (gain, crossing)
}

#[test]
fn random_100_preset_untangles_into_a_tour_no_2_opt_move_shortens_near_the_bhh_length() {
    let preset = Preset::builtin("tsp-random-100").expect("shipped");
    let bhh = BHH_BETA * 10.0;
    for seed in 0..4 {
        let mut start = preset.run.clone();
        start.seed = seed;
        let first = tour(&Run::new(start).expect("valid")).length();
        let run = finished(&preset.run, seed);
        let p = tour(&run);
        let cities = p.cities();
        let best = p.best_tour();
        assert!(is_permutation(best, 100));
        let l = length(cities, best);
        let (gain, crossing) = two_opt_gain_and_crossings(cities, best);
        println!(
            "seed {seed}: first tour {first:.2}, best {l:.4} ({:+.2}% against BHH {bhh:.3}), largest 2-opt gain {gain:.2e}",
            100.0 * (l / bhh - 1.0)
        );
        assert!((45.0..60.0).contains(&first), "a tangle about 52 long");
        assert!((l - p.best_length()).abs() < 1e-9 * l);
        assert!(!crossing, "seed {seed}: the best tour crosses itself");
        assert!(
            gain < 1e-12,
            "seed {seed}: a 2-opt move shortens it by {gain}"
        );
        assert!(l < 1.05 * bhh, "seed {seed}: {l} not within 5% of {bhh}");
    }
}

#[test]
fn random_100_preset_heat_capacity_peaks_around_a_tenth() {
    let preset = Preset::builtin("tsp-random-100").expect("shipped");
    let mut run = Run::new(preset.run.clone()).expect("valid");
    let c = run
        .observables()
        .iter()
        .position(|o| o.column == "heat_capacity")
        .expect("reports C");
    // C averaged in bins of log10 T, a tenth of a decade wide.
    let mut bins = std::collections::BTreeMap::<i64, (f64, f64)>::new();
    while !run.finished() {
        let r = run.step_recorded();
        if r.step.is_multiple_of(OBSERVE_EVERY) && r.observables[c].is_finite() {
            let bin = (r.temperature.log10() * 10.0).floor() as i64;
            let e = bins.entry(bin).or_default();
            e.0 += r.observables[c];
            e.1 += 1.0;
        }
    }
    let (peak, _) = bins
        .iter()
        .map(|(&b, &(sum, n))| (b, sum / n))
        .fold((0, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
    let t_peak = 10f64.powf((peak as f64 + 0.5) / 10.0);
    println!("heat capacity peaks at T = {t_peak:.4}");
    assert!((0.05..=0.2).contains(&t_peak), "C peaks at T = {t_peak}");
}

#[test]
fn berlin52_preset_ends_within_5_percent_of_7542_mostly_on_it() {
    let preset = Preset::builtin("tsp-berlin52").expect("shipped");
    let mut start = preset.run.clone();
    start.seed = 0;
    let first = tour(&Run::new(start).expect("valid")).gap_percent();
    assert!(
        (250.0..350.0).contains(&first),
        "the random first tour is {first}% above"
    );
    let mut on = 0;
    for seed in 0..10 {
        let clock = Instant::now();
        let mut run = finished(&preset.run, seed);
        let seconds = clock.elapsed().as_secs_f64();
        let gap = common::observable(&mut run, "best_gap_percent");
        let p = tour(&run);
        // The gap on TSPLIB's rounded length, recomputed here.
        let best = p.best_tour();
        let rounded: f64 = (0..52)
            .map(|k| (dist(BERLIN52[best[k]], BERLIN52[best[(k + 1) % 52]]) + 0.5).floor())
            .sum();
        let expected = 100.0 * (rounded - BERLIN52_OPTIMUM) / BERLIN52_OPTIMUM;
        println!(
            "seed {seed}: best Euclidean {:.2}, rounded {rounded}, gap {gap:.3}% ({} steps in {seconds:.2} s, test build)",
            p.best_length(),
            run.config().steps
        );
        assert!((gap - expected).abs() < 1e-6);
        assert!(rounded >= BERLIN52_OPTIMUM, "below the proven optimum");
        assert!(gap < 5.0, "seed {seed}: gap {gap}%");
        on += usize::from(gap == 0.0);
    }
    assert!(on >= 9, "on the optimum for only {on} of 10 seeds");
}

#[test]
fn annealing_beats_a_quench_on_the_same_tour() {
    let preset = Preset::builtin("compare-tsp-anneal-vs-quench").expect("shipped");
    let quench = preset.compare.clone().expect("a comparison");
    assert_eq!(quench.problem, preset.run.problem, "the same cities");
    let (mut sum_a, mut sum_b, mut on) = (0.0, 0.0, 0);
    for seed in 0..10 {
        let mut a = finished(&preset.run, seed);
        let mut b = finished(&quench, seed);
        let ga = common::observable(&mut a, "best_gap_percent");
        let gb = common::observable(&mut b, "best_gap_percent");
        println!("seed {seed}: anneal {ga:.3}%, quench {gb:.3}%");
        assert!(ga <= gb, "seed {seed}: the quench ended shorter");
        sum_a += ga;
        sum_b += gb;
        on += usize::from(ga == 0.0);
        if seed == 0 {
            assert_eq!(ga, 0.0, "the preset's own seed ends on the optimum");
            assert_eq!(b.annealer().temperature(), quench.annealer.t_min);
        }
    }
    let (mean_a, mean_b) = (sum_a / 10.0, sum_b / 10.0);
    println!("mean gap: anneal {mean_a:.3}%, quench {mean_b:.3}%");
    assert!(mean_b - mean_a >= 1.5, "{mean_a}% vs {mean_b}%");
    assert!(
        on >= 9,
        "annealing ended on the optimum for {on} of 10 seeds"
    );
}

#[test]
fn the_quench_freezes_within_a_dozen_steps() {
    let preset = Preset::builtin("compare-tsp-anneal-vs-quench").expect("shipped");
    let quench = preset.compare.expect("a comparison");
    let mut run = Run::new(quench.clone()).expect("valid");
    run.run(12);
    assert_eq!(run.annealer().temperature(), quench.annealer.t_min);
}

#[test]
fn a_tour_reports_its_gap_only_where_the_optimum_is_known() {
    for (name, gap) in [
        ("tsp-random-100", false),
        ("tsp-berlin52", true),
        ("compare-tsp-anneal-vs-quench", true),
    ] {
        let preset = Preset::builtin(name).expect("shipped");
        let run = Run::new(preset.run.clone()).expect("valid");
        let columns: Vec<&str> = run.observables().iter().map(|o| o.column).collect();
        assert_eq!(
            preset.run.problem.observables(),
            run.problem().observables()
        );
        assert_eq!(columns.contains(&"best_gap_percent"), gap, "{name}");
        assert!(columns.contains(&"heat_capacity"), "{name}");
    }
}

#[test]
fn run_state_writes_cities_and_a_best_tour_whose_length_can_be_recomputed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let preset = dir.path().join("berlin52.ron");
    std::fs::write(
        &preset,
        annealscope::preset::BUILTIN
            .iter()
            .find(|(n, _)| *n == "tsp-berlin52")
            .expect("shipped")
            .1,
    )
    .expect("write");
    let state = dir.path().join("state.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_annealscope"))
        .args(["run", "--preset"])
        .arg(&preset)
        .args(["--steps", "300000", "--state"])
        .arg(&state)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("best gap (%)"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state written"))
            .expect("JSON");
    let cities: Vec<[f64; 2]> = serde_json::from_value(json["cities"].clone()).expect("cities");
    let best: Vec<usize> = serde_json::from_value(json["best_tour"].clone()).expect("best tour");
    assert_eq!(cities, BERLIN52.to_vec());
    assert!(is_permutation(&best, 52));
    let l = length(&cities, &best);
    let reported = json["best_length"].as_f64().expect("best_length");
    assert!((l - reported).abs() < 1e-9 * l, "{l} vs {reported}");
    let rounded: f64 = (0..52)
        .map(|k| (dist(cities[best[k]], cities[best[(k + 1) % 52]]) + 0.5).floor())
        .sum();
    assert_eq!(json["best_tsplib_length"].as_f64(), Some(rounded));
    assert_eq!(json["known_optimum"].as_f64(), Some(7542.0));
    let gap = json["best_gap_percent"].as_f64().expect("gap");
    assert!((gap - 100.0 * (rounded - 7542.0) / 7542.0).abs() < 1e-6);
    assert!(json.get("samples").is_none());
}

#[test]
fn bad_tours_in_a_preset_get_one_line_naming_the_field() {
    let cases = [
        (
            "(run: (problem: Tsp((cities: Grid(side: 45)))))",
            "f.ron: `run.problem.Tsp.cities.side` = 45 is out of range: allowed 2 ..= 44",
        ),
        (
            "(run: (problem: Tsp((cities: Clustered(n: 10, clusters: 11, seed: 0)))))",
            "f.ron: `run.problem.Tsp.cities.clusters` = 11 is out of range: allowed 1 ..= 10",
        ),
        (
            "(run: (problem: Tsp((moves: (two_opt: -1)))))",
            "f.ron: `run.problem.Tsp.moves.two_opt` = -1 is out of range: allowed 0 ..= 1000000",
        ),
        (
            "(run: (problem: Tsp((moves: (swap: 0)))))",
            "f.ron: `run.problem.Tsp.moves` = 0 (sum of the weights) is out of range: allowed weights with a positive sum",
        ),
        (
            "(compare: Some((problem: Tsp((cities: Circle(n: 2001))))))",
            "f.ron: `compare.problem.Tsp.cities.n` = 2001 is out of range: allowed 4 ..= 2000",
        ),
    ];
    for (text, want) in cases {
        let e = Preset::from_ron(text, "f.ron").expect_err(text).to_string();
        assert_eq!(e, want);
    }
    // A weight left out of a given mix is 0: this is pure 2-opt, and valid.
    let p =
        Preset::from_ron("(run: (problem: Tsp((moves: (two_opt: 1)))))", "f.ron").expect("valid");
    let annealscope::sim::ProblemConfig::Tsp(c) = p.run.problem else {
        panic!("a tour");
    };
    assert_eq!(c.moves, MoveMix::TWO_OPT);
}

fn cities() -> impl Strategy<Value = Cities> {
    prop_oneof![
        (4usize..=2000, any::<u64>()).prop_map(|(n, seed)| Cities::Uniform { n, seed }),
        (4usize..=2000, 1usize..=100, any::<u64>()).prop_map(|(n, k, seed)| Cities::Clustered {
            n,
            clusters: k.min(n),
            seed
        }),
        (4usize..=2000).prop_map(|n| Cities::Circle { n }),
        (2usize..=44).prop_map(|side| Cities::Grid { side }),
        Just(Cities::Berlin52),
        prop::collection::vec(
            (-1e9f64..=1e9, -1e9f64..=1e9).prop_map(|(x, y)| [x, y]),
            4..60
        )
        .prop_map(Cities::List),
    ]
}

prop_compose! {
    fn tsp_config()(
        cities in cities(),
        w in (0.0f64..=1e6, 0.0f64..=1e6, 0.001f64..=1e6),
        given in any::<bool>(),
    ) -> TspConfig {
        TspConfig {
            cities,
            moves: MoveMix { two_opt: w.0, swap: w.1, or_opt: w.2 },
            start: if given { Start::Given } else { Start::Random },
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]
    #[test]
    fn any_valid_tour_preset_survives_a_ron_round_trip_and_builds(c in tsp_config(), compare in any::<bool>()) {
        let mut p = Preset::default();
        p.run.problem = annealscope::sim::ProblemConfig::Tsp(c);
        if compare {
            p.compare = Some(p.run.clone());
        }
        let back = Preset::from_ron(&p.to_ron(), "round-trip")
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &p);
        let mut run = Run::new(back.run).map_err(|e| TestCaseError::fail(e.to_string()))?;
        run.run(100);
        let l = tour(&run).length();
        prop_assert!((l - length(tour(&run).cities(), tour(&run).tour())).abs() <= 1e-9 * l.max(1.0));
    }
}

#[test]
fn the_figure_draws_both_tours_and_the_cities() {
    let preset = Preset::builtin("tsp-berlin52").expect("shipped");
    let mut config = preset.run.clone();
    config.steps = 20_000;
    let mut run = Run::new(config).expect("valid");
    let mut history = annealscope::sim::History::new(256);
    while !run.finished() {
        history.push(&run.step_recorded());
    }
    let record = run.record();
    let img = annealscope::figure::render(&run, &record, &history, &preset.title);
    // The tour panel is the square on the left; count its tour-coloured pixels.
    let count = |rgb: [u8; 3]| {
        (40..800)
            .flat_map(|x| (80..840).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == rgb)
            .count()
    };
    let (current, best, cities) = (
        count([60, 120, 210]),
        count([235, 140, 0]),
        count([30, 30, 30]),
    );
    println!("pixels: current {current}, best {best}, cities and text {cities}");
    assert!(current > 2000 && best > 1000 && cities > 52 * 20);
}

mod app {
    use annealscope::preset::Preset;
    use annealscope::sim::ProblemConfig;
    use annealscope::sim::tsp::Cities;
    use annealscope::ui::App;
    use egui::accesskit::Role;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use std::time::{Duration, Instant};

    /// Runs frames until a widget whose label contains `text` appears, for at most 5 s.
    fn until_label(h: &mut Harness<'static, App>, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while h.query_all_by_label_contains(text).next().is_none() {
            assert!(Instant::now() < deadline, "no `{text}` on screen");
            std::thread::sleep(Duration::from_millis(10));
            h.step();
        }
    }

    fn cities(app: &App) -> Option<&Cities> {
        match &app.a.config.problem {
            ProblemConfig::Tsp(c) => Some(&c.cities),
            _ => None,
        }
    }

    #[test]
    fn the_app_anneals_a_tour_and_its_controls_reach_the_trainer() {
        let mut preset = Preset::builtin_default();
        preset.run.steps = 10_000_000_000;
        let app = App::new(&egui::Context::default(), preset).expect("app starts");
        let mut h = Harness::builder()
            .with_size(egui::vec2(1280.0, 800.0))
            .build_ui_state(|ui, app: &mut App| app.frame(ui), app);
        h.run_steps(2);
        // The travelling salesman from the "Anneal" menu.
        h.get_by_label("Anneal").click();
        h.run_steps(2);
        h.get_by_label("Travelling salesman").click();
        h.run_steps(2);
        assert_eq!(cities(h.state()), Some(&Cities::default()));
        until_label(&mut h, "100 random cities at");
        until_label(&mut h, "estimate for n -> inf");
        assert!(h.query_by_label_contains("current tour (solid)").is_some());
        assert!(h.query_by_label_contains("best tour (dashed)").is_some());
        // Another city set.
        h.get_by_label("City set").click();
        h.run_steps(2);
        h.get_by_label("berlin52 (TSPLIB, optimum 7542)").click();
        h.run_steps(2);
        assert_eq!(cities(h.state()), Some(&Cities::Berlin52));
        until_label(&mut h, "berlin52 (TSPLIB) at");
        until_label(&mut h, "optimum 7542 (TSPLIB: edges rounded)");
        // The move mix.
        h.get_by_role_and_label(Role::SpinButton, "swap")
            .set_value_accesskit(0.5);
        h.step();
        assert!(matches!(
            &h.state().a.config.problem,
            ProblemConfig::Tsp(c) if c.moves.swap == 0.5
        ));
        for _ in 0..50 {
            h.step();
        }
        assert!(h.state().a.crashed.is_none());
    }
}
