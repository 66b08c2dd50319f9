//! The command line as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

fn annealscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_annealscope"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn csv_of(dir: &Path, name: &str, extra: &[&str]) -> String {
    let path = dir.join(name);
    let path_str = path.to_str().expect("utf-8 temp path");
    let mut args = vec!["run", "--steps", "3000", "--every", "7", "--csv", path_str];
    args.extend_from_slice(extra);
    let out = annealscope(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read_to_string(&path).expect("csv written")
}

#[test]
fn run_writes_a_deterministic_csv() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = csv_of(dir.path(), "a.csv", &["--seed", "11"]);
    let b = csv_of(dir.path(), "b.csv", &["--seed", "11"]);
    let c = csv_of(dir.path(), "c.csv", &["--seed", "12"]);
    assert_eq!(a, b, "same preset and seed, same bytes");
    assert_ne!(a, c, "another seed, another run");
    let mut lines = a.lines();
    assert_eq!(
        lines.next(),
        Some(
            "step,temperature,energy,best_energy,acceptance_rate,train_accuracy,test_accuracy,heat_capacity"
        )
    );
    let rows: Vec<&str> = lines.collect();
    // Steps 7, 14, ..., 2996, then the last step 3000.
    assert_eq!(rows.len(), 3000 / 7 + 1);
    assert!(rows[0].starts_with("7,"));
    assert!(rows[rows.len() - 1].starts_with("3000,"));
}

#[test]
fn run_prints_a_summary() {
    let out = annealscope(&["run", "--steps", "2000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for key in [
        "final energy",
        "best energy",
        "acceptance",
        "train accuracy",
        "steps/s",
    ] {
        assert!(text.contains(key), "missing {key}: {text}");
    }
}

#[test]
fn errors_are_one_clear_line_and_a_failure_code() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.ron");
    std::fs::write(&bad, "(run: (network: (hidden: 0)))").expect("write");
    let bad_str = bad.to_str().expect("utf-8");
    for args in [vec!["run", "--preset", bad_str], vec!["check", bad_str]] {
        let out = annealscope(&args);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.contains("bad.ron")
                && err.contains("run.network.hidden")
                && err.contains("1 ..= 256"),
            "{err}"
        );
        assert!(!err.contains("panicked"));
    }
    let out = annealscope(&["run", "--preset", "/nonexistent/x.ron"]);
    assert!(!out.status.success() && stderr(&out).contains("/nonexistent/x.ron"));
    let out = annealscope(&["run", "--steps", "-5"]);
    assert!(!out.status.success() && !stderr(&out).contains("panicked"));
    let out = annealscope(&["run", "--every", "0"]);
    assert!(!out.status.success());
}

#[test]
fn check_accepts_the_shipped_presets() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/presets");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("presets folder")
        .map(|e| e.expect("entry").path().display().to_string())
        .collect();
    files.sort();
    let mut args = vec!["check"];
    args.extend(files.iter().map(String::as_str));
    let out = annealscope(&args);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn bench_json_lists_every_case() {
    let out = annealscope(&["bench", "--json", "--seconds", "0.02"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let list = v.as_array().expect("a list");
    assert_eq!(list.len(), 8);
    for item in list {
        assert!(item["hidden"].is_u64() && item["samples"].is_u64());
        assert!(matches!(item["proposal"].as_str(), Some("all" | "one")));
        assert!(item["proposals_per_s"].as_f64().is_some_and(|r| r > 0.0));
    }
}

#[test]
fn run_png_writes_a_figure_for_slides() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fig.png");
    let out = annealscope(&[
        "run",
        "--steps",
        "3000",
        "--png",
        path.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let img = image::open(&path).expect("a PNG").to_rgb8();
    assert_eq!(img.dimensions(), (1600, 900));
    // Both class colours of the data points and the boundary's contour are drawn.
    let has = |c: [u8; 3]| img.pixels().any(|p| p.0 == c);
    for c in annealscope::colors::CLASS {
        assert!(has(c), "class colour {c:?} missing");
    }
    assert!(has(annealscope::colors::CONTOUR));
}

#[test]
fn run_samples_writes_every_walker_of_a_landscape_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let samples = dir.path().join("walkers.csv");
    let preset = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/presets/harmonic.ron");
    let out = annealscope(&[
        "run",
        "--preset",
        preset.to_str().expect("utf-8"),
        "--steps",
        "5000",
        "--every",
        "1000",
        "--samples",
        samples.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&samples).expect("written");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("step,walker,x,y,energy"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().expect("number")).collect())
        .collect();
    // 500 walkers at steps 1000, 2000, ..., 5000.
    assert_eq!(rows.len(), 5 * 500);
    for r in &rows {
        // The harmonic bowl: energy = (x^2 + y^2) / 2.
        assert!((r[4] - (r[2] * r[2] + r[3] * r[3]) / 2.0).abs() < 1e-9);
    }
    // A network preset has no walkers: a clear error.
    let out = annealscope(&[
        "run",
        "--steps",
        "10",
        "--samples",
        samples.to_str().expect("utf-8"),
    ]);
    assert!(!out.status.success() && stderr(&out).contains("landscape"));
}
