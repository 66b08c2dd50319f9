//! Recordings for slides: `annealscope run --gif` headless, and Run > Record in the app.

use annealscope::preset::Preset;
use annealscope::ui::App;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn annealscope(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_annealscope"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A GIF's size, its frames composed on the canvas (RGBA) and their delays.
fn decode(path: &Path) -> ([usize; 2], Vec<Vec<u8>>, Vec<u16>) {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut d = options
        .read_info(std::fs::File::open(path).expect("written"))
        .expect("a GIF");
    let (w, h) = (usize::from(d.width()), usize::from(d.height()));
    let mut canvas = vec![0u8; w * h * 4];
    let (mut frames, mut delays) = (Vec::new(), Vec::new());
    while let Some(f) = d.read_next_frame().expect("a frame") {
        let fw = usize::from(f.width);
        for y in 0..usize::from(f.height) {
            for x in 0..fw {
                let s = (y * fw + x) * 4;
                if f.buffer[s + 3] == 0 {
                    continue;
                }
                let t = ((y + usize::from(f.top)) * w + x + usize::from(f.left)) * 4;
                canvas[t..t + 4].copy_from_slice(&f.buffer[s..s + 4]);
            }
        }
        frames.push(canvas.clone());
        delays.push(f.delay);
    }
    ([w, h], frames, delays)
}

#[test]
fn a_headless_gif_has_the_frames_and_size_asked_for_and_they_differ() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("default.gif");
    let p = path.to_str().expect("utf-8");
    let out = annealscope(&[
        "run", "--gif", p, "--frames", "24", "--fps", "12", "--size", "480x270",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (size, frames, delays) = decode(&path);
    assert_eq!(size, [480, 270]);
    assert_eq!(frames.len(), 24);
    // 12 frames a second: delays of 8 or 9 hundredths adding up to 2 s.
    assert!(delays.iter().all(|d| (8..=9).contains(d)), "{delays:?}");
    assert_eq!(delays.iter().map(|&d| u32::from(d)).sum::<u32>(), 200);
    for pair in frames.windows(2) {
        assert_ne!(pair[0], pair[1], "every frame shows a later step");
    }
    // The decision boundary itself changes, not only the caption and the curves: the
    // left part of the figure differs between the first and the last frame in many pixels.
    let left = |f: &[u8]| -> Vec<u8> {
        (0..size[1])
            .flat_map(|y| f[y * size[0] * 4..(y * size[0] + size[0] / 2) * 4].to_vec())
            .collect()
    };
    let (a, b) = (left(&frames[0]), left(&frames[23]));
    let changed = a.chunks(4).zip(b.chunks(4)).filter(|(x, y)| x != y).count();
    assert!(changed > 5000, "{changed} pixels of the boundary changed");
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("24 frames, 480x270, 2.0 s"), "{summary}");

    // An existing file is never replaced, and the path is checked before the run.
    let before = std::fs::read(&path).expect("read");
    let started = Instant::now();
    let out = annealscope(&["run", "--steps", "10000000000", "--gif", p]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("already exists; not overwritten"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "refused before running"
    );
    assert_eq!(std::fs::read(&path).expect("read"), before);
    let out = annealscope(&[
        "run",
        "--gif",
        &format!("{}/no/such.gif", dir.path().display()),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    let out = annealscope(&["run", "--size", "300x200"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--size needs --gif or --png"));
    let out = annealscope(&["run", "--gif", "x.gif", "--fps", "60"]);
    assert!(!out.status.success());
    assert!(!Path::new("x.gif").exists());
    // Nothing but the recording was left in the folder (no temporary files).
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
}

/// The budget: 20 s at 10 frames/s and 960x540 under 10 MB.
#[test]
fn twenty_seconds_at_ten_frames_a_second_stay_under_ten_megabytes() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("budget.gif");
    let out = annealscope(&[
        "run",
        "--gif",
        path.to_str().expect("utf-8"),
        "--frames",
        "200",
        "--fps",
        "10",
        "--size",
        "960x540",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::metadata(&path).expect("written").len();
    assert!(bytes < 10_000_000, "{bytes} bytes");
}

fn harness(dir: &Path) -> Harness<'static, App> {
    let mut preset = Preset::builtin_default();
    preset.run.steps = 10_000_000_000;
    let mut app = App::new(&egui::Context::default(), preset).expect("app starts");
    app.record.dir = dir.to_owned();
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut App| app.frame(ui), app)
}

/// Does what the backend does after painting a frame: fulfils the screenshot requests,
/// here with an image of the window whose colour changes with `k`.
fn fulfil(h: &Harness<'static, App>, k: u8) -> usize {
    let ppp = h.ctx.pixels_per_point();
    let size = h.ctx.content_rect().size() * ppp;
    let (w, hh) = (size.x.round() as usize, size.y.round() as usize);
    let mut pixels = vec![egui::Color32::from_rgb(20, 30, 40); w * hh];
    for (i, p) in pixels.iter_mut().enumerate() {
        if (i % w + i / w + usize::from(k) * 7) % 50 < 10 {
            *p = egui::Color32::from_rgb(230, 97, 1);
        }
    }
    let image = Arc::new(egui::ColorImage::new([w, hh], pixels));
    let mut n = 0;
    for viewport in h.output().viewport_output.values() {
        for command in &viewport.commands {
            if let egui::ViewportCommand::Screenshot(callback) = command {
                callback.clone().complete(Arc::clone(&image));
                n += 1;
            }
        }
    }
    n
}

#[test]
fn the_app_records_the_central_panel_into_a_gif() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut h = harness(dir.path());
    h.step();
    h.get_by_role_and_label(Role::Button, "Run").click();
    h.run();
    h.get_by_label("Record").click();
    h.step();
    assert!(h.state().record.recording().is_some(), "recording is on");
    assert!(
        h.query_by_label_contains("REC ").is_some(),
        "the red dot and the time show it"
    );
    let mut shots = 0;
    let started = Instant::now();
    let mut k = 0u8;
    while shots < 6 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "frames are asked for"
        );
        std::thread::sleep(Duration::from_millis(25));
        h.step();
        shots += fulfil(&h, k);
        k = k.wrapping_add(1);
    }
    let central = h
        .state()
        .placed()
        .find(|p| p.name == "central")
        .expect("central panel")
        .rect;
    h.get_by_role_and_label(Role::Button, "Run").click();
    h.run();
    h.get_by_label("Stop recording").click();
    h.step();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !h
        .state()
        .notices
        .iter()
        .any(|n| n.text.starts_with("Saved"))
    {
        assert!(Instant::now() < deadline, "the recording is written");
        assert!(
            !h.state().notices.iter().any(|n| n.error),
            "{:?}",
            h.state().notices
        );
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(files.len(), 1, "one file, no temporary left: {files:?}");
    assert!(
        files[0]
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("annealscope-recording-step") && n.ends_with(".gif"))
    );
    let ppp = h.ctx.pixels_per_point();
    let (size, frames, _) = decode(&files[0]);
    assert_eq!(
        size,
        [
            (central.width() * ppp).round() as usize,
            (central.height() * ppp).round() as usize
        ],
        "the central panel's size in pixels"
    );
    assert!(frames.len() >= 4, "{} frames", frames.len());
    assert_ne!(frames[0], frames[1]);
    assert!(h.state().record.recording().is_none());
}
