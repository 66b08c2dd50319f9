//! One's own data: CSV files of points on the command line and in the app, points clicked
//! onto the decision plane, and points kept in a saved preset.

use annealscope::preset::{MAX_FILE_BYTES, Preset};
use annealscope::sim::{DataKind, ProblemConfig, ProblemView, Run};
use annealscope::ui::App;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::process::Output;
use std::time::{Duration, Instant};

fn annealscope(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_annealscope"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// 60 points: class 1 inside the unit circle, class 0 outside, with a header.
fn ring_csv() -> (String, Vec<(f32, f32, u8)>) {
    let mut points = Vec::new();
    for i in 0..60 {
        let a = i as f32 * 0.7;
        let r = if i % 2 == 0 { 0.5 } else { 1.5 };
        points.push((r * a.cos(), r * a.sin(), u8::from(i % 2 == 0)));
    }
    (annealscope::points::to_csv(&points), points)
}

fn points(app: &App) -> Option<&Vec<(f32, f32, u8)>> {
    match &app.a.config.problem {
        ProblemConfig::Network(n) => match &n.data.kind {
            DataKind::Points(p) => Some(p),
            _ => None,
        },
        _ => None,
    }
}

#[test]
fn a_bad_row_is_refused_with_its_line_number() {
    let dir = tempfile::tempdir().expect("tmp");
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "x,y,label\n0.1,0.2,0\n0.3,0.4,1\n0.5,oops,1\n0.6,0.7,0\n",
    )
    .expect("write");
    let out = annealscope(&["run", "--data", bad.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("{}:4: y = `oops` is not a number", bad.display())),
        "{err}"
    );
    // Without a header the same row is line 3.
    std::fs::write(&bad, "0.1,0.2,0\n0.3,0.4,1\n0.5,0.6,7\n").expect("write");
    let err = String::from_utf8_lossy(
        &annealscope(&["run", "--data", bad.to_str().expect("utf-8")]).stderr,
    )
    .into_owned();
    assert!(
        err.contains("bad.csv:3: label = `7` is not 0 or 1"),
        "{err}"
    );
    // A landscape has no data set.
    let (text, _) = ring_csv();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, text).expect("write");
    let landscape = dir.path().join("l.ron");
    std::fs::write(
        &landscape,
        "(run: (problem: Landscape((surface: Harmonic))))",
    )
    .expect("write");
    let out = annealscope(&[
        "run",
        "--preset",
        landscape.to_str().expect("utf-8"),
        "--data",
        good.to_str().expect("utf-8"),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--data needs a preset that anneals the network")
    );
}

#[test]
fn a_good_file_is_annealed_and_its_points_are_in_the_exported_state() {
    let dir = tempfile::tempdir().expect("tmp");
    let (text, given) = ring_csv();
    let csv = dir.path().join("ring.csv");
    std::fs::write(&csv, text).expect("write");
    let preset = dir.path().join("split.ron");
    let mut p = Preset::builtin_default();
    if let ProblemConfig::Network(n) = &mut p.run.problem {
        n.data.test_fraction = 0.25;
    }
    p.save(&preset, false).expect("saved");
    let state = dir.path().join("state.json");
    let out = annealscope(&[
        "run",
        "--preset",
        preset.to_str().expect("utf-8"),
        "--data",
        csv.to_str().expect("utf-8"),
        "--steps",
        "3000",
        "--state",
        state.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("json");
    let rows = |key: &str| -> Vec<(f32, f32, u8)> {
        json[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} in {json}"))
            .iter()
            .map(|r| {
                let v: Vec<f64> = r
                    .as_array()
                    .expect("row")
                    .iter()
                    .map(|x| x.as_f64().expect("number"))
                    .collect();
                (v[0] as f32, v[1] as f32, v[2] as u8)
            })
            .collect()
    };
    let (train, test) = (rows("train"), rows("test"));
    assert_eq!(
        (train.len(), test.len()),
        (45, 15),
        "a test split as the preset says"
    );
    let mut all: Vec<_> = train.into_iter().chain(test).collect();
    let mut want = given.clone();
    let key = |p: &(f32, f32, u8)| (p.0.to_bits(), p.1.to_bits(), p.2);
    all.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(
        all, want,
        "every point of the file, unchanged, with its label"
    );
}

#[test]
fn ten_thousand_points_fit_in_a_preset_and_survive_a_round_trip() {
    // Coordinates with as many digits as an f32 needs, the worst case for the file size.
    let points: Vec<(f32, f32, u8)> = (0..10_000)
        .map(|i| {
            let x = -123_456.79f32 + i as f32 * 0.123_456_79;
            (x, -x * 1.000_001, (i % 2) as u8)
        })
        .collect();
    let mut p = Preset::builtin_default();
    if let ProblemConfig::Network(n) = &mut p.run.problem {
        n.data.kind = DataKind::Points(points);
    }
    let text = p.to_ron();
    assert!(
        (text.len() as u64) < MAX_FILE_BYTES,
        "{} bytes for 10000 points",
        text.len()
    );
    assert_eq!(Preset::from_ron(&text, "big.ron").expect("loads"), p);
    let mut big = p.clone();
    if let ProblemConfig::Network(n) = &mut big.run.problem
        && let DataKind::Points(v) = &mut n.data.kind
    {
        v.push((0.0, 0.0, 1));
    }
    let e = Preset::from_ron(&big.to_ron(), "big.ron").expect_err("10001 points");
    assert!(
        e.to_string()
            .contains("`run.problem.Network.data.kind.Points` = 10001 points is out of range: allowed 1 ..= 10000 points"),
        "{e}"
    );
    // And the run is the same for the same preset and seed.
    let mut a = Run::new(p.run.clone()).expect("valid");
    let mut b = Run::new(p.run).expect("valid");
    a.run(200);
    b.run(200);
    assert_eq!(a.record().energy, b.record().energy);
}

fn harness() -> Harness<'static, App> {
    let mut preset = Preset::builtin_default();
    preset.run.steps = 10_000_000_000;
    let app = App::new(&egui::Context::default(), preset).expect("app starts");
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut App| app.frame(ui), app)
}

/// Runs frames until `pred` holds, for at most 10 s of wall time.
fn until(h: &mut Harness<'static, App>, what: &str, pred: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pred(h.state()) {
        assert!(Instant::now() < deadline, "{what}: not reached");
        std::thread::sleep(Duration::from_millis(10));
        h.step();
    }
}

/// The points run A's trainer drew last.
fn shown(app: &App) -> Option<usize> {
    match app.a.view.as_deref() {
        Some(ProblemView::Network(v)) => Some(v.data.train.len() + v.data.test.len()),
        _ => None,
    }
}

#[test]
fn clicking_the_decision_plane_adds_and_removes_points() {
    let mut h = harness();
    until(&mut h, "a view", |a| shown(a).is_some() && a.a.step() > 0);
    let before = shown(h.state()).expect("shown");
    assert_eq!(points(h.state()), None, "generated data at first");

    h.get_by_label("Decision boundary A").click();
    h.step();
    until(&mut h, "a point added", |a| {
        points(a).is_some_and(|p| p.len() == before + 1)
    });
    let added = *points(h.state()).and_then(|p| p.last()).expect("a point");
    assert_eq!(added.2, 0, "a left click adds class 0");
    // The trainer restarted on the new data.
    until(&mut h, "the run restarted on it", |a| {
        shown(a) == Some(before + 1)
    });

    h.get_by_label("Decision boundary A").click_secondary();
    h.step();
    until(&mut h, "a class-1 point", |a| {
        points(a).is_some_and(|p| p.len() == before + 2 && p[before + 1].2 == 1)
    });
    // Both near the middle of the plane (the click's place in data units moves as the
    // plot refits to the data).
    let second = points(h.state()).expect("points")[before + 1];
    for p in [added, second] {
        assert!(p.0.hypot(p.1) < 1.0, "{p:?}");
    }

    h.get_by_label("Decision boundary A")
        .click_modifiers(egui::Modifiers::SHIFT);
    h.step();
    until(&mut h, "the nearest point removed", |a| {
        points(a).is_some_and(|p| p.len() == before + 1)
    });
    until(&mut h, "the run restarted again", |a| {
        shown(a) == Some(before + 1)
    });
    // The saved session carries the points.
    let session = h.state().session();
    let again = Preset::from_ron(&session.to_ron(), "session").expect("loads");
    assert_eq!(again.run, session.run);
}

#[test]
fn the_app_loads_a_csv_file_or_shows_its_bad_row() {
    let dir = tempfile::tempdir().expect("tmp");
    let (text, given) = ring_csv();
    let good = dir.path().join("ring.csv");
    std::fs::write(&good, text).expect("write");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "x,y,label\n1,2,0\n1,2\n").expect("write");
    let mut h = harness();
    until(&mut h, "started", |a| a.a.step() > 0);
    h.state_mut().state.data_path = bad.display().to_string();
    h.get_by_label("Load points").click();
    h.step();
    until(&mut h, "the error shown", |a| {
        a.notices
            .iter()
            .any(|n| n.error && n.text.contains("bad.csv:3: 2 fields"))
    });
    assert_eq!(points(h.state()), None, "a bad file changes nothing");
    h.state_mut().state.data_path = good.display().to_string();
    h.get_by_label("Load points").click();
    h.step();
    until(&mut h, "loaded", |a| points(a) == Some(&given));
    until(&mut h, "the run restarted on it", |a| {
        shown(a) == Some(given.len())
    });
}
