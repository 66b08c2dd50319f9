//! `annealscope bench --ui`: CPU time of one frame (layout and tessellation, no GPU) with
//! a long history and a 200 x 200 decision grid, and with a 1024 x 1024 Ising lattice that
//! changes every frame, measured headlessly.

use super::App;
use super::pane::Latest;
use crate::preset::Preset;
use crate::sim::{Kind, Run, RunConfig, ViewRequest};
use crate::trainer::Command;
use std::sync::Arc;
use std::time::Instant;

/// An app on `config` whose trainer is paused and whose panes the caller fills.
fn frozen_app(config: RunConfig) -> anyhow::Result<(egui::Context, App)> {
    let ctx = egui::Context::default();
    let preset = Preset {
        run: config,
        ..Preset::builtin_default()
    };
    let mut app = App::new(&ctx, preset)?;
    app.a.send(Command::Pause);
    app.frozen = true;
    Ok((ctx, app))
}

/// The latest step of `run` as a pane shows it, playing.
fn latest_of(run: &mut Run) -> Latest {
    Latest {
        record: run.record(),
        observables: run.problem().observables(),
        schedule: run.annealer().schedule().clone(),
        playing: true,
        finished: false,
        stopped: None,
        steps_per_second: 0.0,
        step_size: run.annealer().step_size(),
    }
}

/// The input of one frame of a `w` x `h` window.
fn window(w: f32, h: f32) -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(w, h),
        )),
        ..Default::default()
    }
}

/// Lays out and tessellates one frame of `app` (what the CPU does; the GPU's part is
/// the renderer's). Returns the frame's output (for its viewport commands).
fn draw(ctx: &egui::Context, app: &mut App, input: egui::RawInput) -> egui::FullOutput {
    let mut out = ctx.run_ui(input, |ui| app.frame(ui));
    let primitives = ctx.tessellate(std::mem::take(&mut out.shapes), out.pixels_per_point);
    std::hint::black_box(&primitives);
    // Debug builds panic on dropping unapplied texture updates.
    out.textures_delta.clear();
    out
}

/// History lengths measured.
pub const LENGTHS: [u64; 3] = [10_000, 100_000, 1_000_000];

/// Mean milliseconds per frame for an app showing `steps` steps of history (in compare
/// mode, for both runs).
pub fn frame_ms(steps: u64, frames: u32, compare: bool) -> anyhow::Result<f64> {
    let config = RunConfig {
        steps,
        ..RunConfig::default()
    };
    let mut run = Run::new(config.clone())?;
    let (ctx, mut app) = frozen_app(config)?;
    for _ in 0..steps {
        let r = run.step_recorded();
        app.a.history.push(&r);
    }
    let latest = latest_of(&mut run);
    let view = Arc::new(run.view(&ViewRequest {
        grid: 200,
        replica: false,
    }));
    let panes = if compare {
        app.start_compare(run.config().clone());
        vec![&mut app.a]
            .into_iter()
            .chain(app.b.as_mut())
            .collect::<Vec<_>>()
    } else {
        vec![&mut app.a]
    };
    let history = panes[0].history.clone();
    for pane in panes {
        pane.send(Command::Pause);
        pane.history = history.clone();
        pane.latest = Some(latest.clone());
        pane.view = Some(Arc::clone(&view));
        pane.view_changed = true;
    }
    let input = || window(1280.0, 800.0);
    let mut total = 0.0;
    for i in 0..frames + 5 {
        let start = Instant::now();
        draw(&ctx, &mut app, input());
        if i >= 5 {
            total += start.elapsed().as_secs_f64();
        }
    }
    Ok(1e3 * total / f64::from(frames))
}

/// Steps per second of the default preset: headless, then in a trainer while the app
/// draws 60 frames a second. Returns `(headless, with_ui)`.
pub fn trainer_throughput(seconds: f64) -> anyhow::Result<(f64, f64)> {
    let config = RunConfig {
        steps: *crate::sim::limits::STEPS.end(),
        ..Preset::builtin_default().run
    };
    let mut run = Run::new(config.clone())?;
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < seconds {
        run.run(4096);
    }
    let headless = run.annealer().steps() as f64 / start.elapsed().as_secs_f64();

    let ctx = egui::Context::default();
    let preset = Preset {
        run: config,
        ..Preset::builtin_default()
    };
    let mut app = App::new(&ctx, preset)?;
    let input = || window(1280.0, 800.0);
    let step_now = |app: &App| app.a.step();
    // Let the first snapshots arrive, then count from there.
    let mut warm = 0;
    while step_now(&app) == 0 && warm < 500 {
        let mut out = ctx.run_ui(input(), |ui| app.frame(ui));
        out.textures_delta.clear();
        std::thread::sleep(std::time::Duration::from_millis(2));
        warm += 1;
    }
    let (t0, s0) = (Instant::now(), step_now(&app));
    while t0.elapsed().as_secs_f64() < seconds {
        let frame = Instant::now();
        draw(&ctx, &mut app, input());
        let left = 1.0 / 60.0 - frame.elapsed().as_secs_f64();
        if left > 0.0 {
            std::thread::sleep(std::time::Duration::from_secs_f64(left));
        }
    }
    let with_ui = (step_now(&app) - s0) as f64 / t0.elapsed().as_secs_f64();
    Ok((headless, with_ui))
}

/// Mean wall-clock milliseconds per frame while two trainers (compare mode) run flat out
/// on the default preset: what the UI costs when both cores are busy annealing.
pub fn two_trainers_frame_ms(seconds: f64) -> anyhow::Result<f64> {
    let config = RunConfig {
        steps: *crate::sim::limits::STEPS.end(),
        ..Preset::builtin_default().run
    };
    let ctx = egui::Context::default();
    let preset = Preset {
        run: config.clone(),
        ..Preset::builtin_default()
    };
    let mut app = App::new(&ctx, preset)?;
    app.start_compare(config);
    let input = || window(1280.0, 800.0);
    let start = Instant::now();
    let mut frames = 0u32;
    let mut busy = 0.0;
    while start.elapsed().as_secs_f64() < seconds {
        let t = Instant::now();
        draw(&ctx, &mut app, input());
        let took = t.elapsed().as_secs_f64();
        busy += took;
        frames += 1;
        if took < 1.0 / 60.0 {
            std::thread::sleep(std::time::Duration::from_secs_f64(1.0 / 60.0 - took));
        }
    }
    Ok(1e3 * busy / f64::from(frames.max(1)))
}

/// Mean milliseconds of CPU per frame showing a 1024 x 1024 Ising lattice (and its plots
/// over 10,000 steps of history). With `fresh`, every frame brings a new lattice: the worst
/// case, as the trainer sends at most 30 views a second; this includes turning the spins
/// into pixels and handing the texture to egui (its upload to the GPU is the renderer's).
/// Without, the lattice is unchanged (the frames in between).
pub fn ising_frame_ms(frames: u32, fresh: bool) -> anyhow::Result<f64> {
    use crate::sim::ising::{IsingConfig, T_C};
    use crate::sim::{AnnealerConfig, ProblemConfig, Schedule};
    let config = RunConfig {
        problem: ProblemConfig::Ising(IsingConfig {
            size: 1024,
            ..IsingConfig::default()
        }),
        annealer: AnnealerConfig {
            schedule: Schedule::Constant { t0: T_C },
            ..AnnealerConfig::default()
        },
        steps: 10_000,
        ..RunConfig::default()
    };
    let mut run = Run::new(config.clone())?;
    let (ctx, mut app) = frozen_app(config)?;
    // Two lattices to alternate between, so that every frame's texture really changes.
    let mut views = Vec::new();
    for _ in 0..2 {
        run.run(2);
        views.push(Arc::new(run.view(&ViewRequest {
            grid: 0,
            replica: false,
        })));
    }
    // A plotted history of 10,000 steps (synthetic records: drawing cost only).
    let mut latest = latest_of(&mut run);
    for step in 1..=10_000u64 {
        latest.record.step = step;
        latest.record.temperature = 4.0 - 3.0 * step as f64 / 10_000.0;
        app.a.history.push(&latest.record);
    }
    app.a.latest = Some(latest);
    let input = || window(1280.0, 800.0);
    let mut total = 0.0;
    for i in 0..frames + 5 {
        let start = Instant::now();
        if fresh || i == 0 {
            app.a.view = Some(Arc::clone(&views[i as usize % 2]));
            app.a.view_changed = true;
        }
        draw(&ctx, &mut app, input());
        if i >= 5 {
            total += start.elapsed().as_secs_f64();
        }
    }
    Ok(1e3 * total / f64::from(frames))
}

/// What recording costs: the UI thread's milliseconds per frame (layout, tessellation and
/// handing screenshots over) without and with Run > Record on at 10 frames/s, and how the
/// encoder thread kept up.
pub struct RecordingCost {
    /// Mean milliseconds per frame, not recording.
    pub idle_ms: f64,
    /// The slowest frame not recording, in milliseconds.
    pub idle_worst_ms: f64,
    /// Mean milliseconds per frame, recording.
    pub recording_ms: f64,
    /// The slowest frame while recording, in milliseconds.
    pub worst_ms: f64,
    /// The recording written.
    pub summary: crate::recording::Summary,
}

/// Measures [`RecordingCost`] over `seconds` each way at 60 frames/s in a 1280x800 window
/// on the default preset, flat out. The backend's screenshots are stood in for by figures
/// of the run at several steps, drawn beforehand and handed over in turn, so the encoder
/// sees large changes in every frame (harder than the app, where much stays put).
pub fn recording_cost(seconds: f64, dir: &std::path::Path) -> anyhow::Result<RecordingCost> {
    let config = RunConfig {
        steps: *crate::sim::limits::STEPS.end(),
        ..Preset::builtin_default().run
    };
    let (w, h) = (1280usize, 800usize);
    let mut shots = Vec::new();
    let mut run = Run::new(config.clone())?;
    let mut history = crate::sim::History::new(1024);
    for _ in 0..8 {
        for _ in 0..500 {
            let r = run.step_recorded();
            history.push(&r);
        }
        let record = run.record();
        let options = crate::figure::Options {
            size: [w as u32, h as u32],
            steps: Some(4000),
        };
        let img = crate::figure::render_with(&run, &record, &history, "bench", &options);
        let pixels = img
            .pixels()
            .map(|p| egui::Color32::from_rgb(p[0], p[1], p[2]))
            .collect();
        shots.push(Arc::new(egui::ColorImage::new([w, h], pixels)));
    }
    let ctx = egui::Context::default();
    let preset = Preset {
        run: config,
        ..Preset::builtin_default()
    };
    let mut app = App::new(&ctx, preset)?;
    app.record.dir = dir.to_owned();
    app.record.fps = 10;
    let input = || window(w as f32, h as f32);
    let mut next_shot = 0;
    let mut measure = |app: &mut App, seconds: f64| -> (f64, f64) {
        let start = Instant::now();
        let (mut busy, mut worst, mut frames) = (0.0, 0.0f64, 0u32);
        while start.elapsed().as_secs_f64() < seconds {
            let t = Instant::now();
            let out = draw(&ctx, app, input());
            // What the backend does after painting: fulfil screenshot requests.
            for viewport in out.viewport_output.values() {
                for command in &viewport.commands {
                    if let egui::ViewportCommand::Screenshot(callback) = command {
                        callback
                            .clone()
                            .complete(Arc::clone(&shots[next_shot % shots.len()]));
                        next_shot += 1;
                    }
                }
            }
            let took = t.elapsed().as_secs_f64();
            busy += took;
            worst = worst.max(took);
            frames += 1;
            if took < 1.0 / 60.0 {
                std::thread::sleep(std::time::Duration::from_secs_f64(1.0 / 60.0 - took));
            }
        }
        (1e3 * busy / f64::from(frames.max(1)), 1e3 * worst)
    };
    let (idle_ms, idle_worst_ms) = measure(&mut app, seconds);
    app.record
        .start(&ctx, 0)
        .map_err(|n| anyhow::anyhow!(n.text))?;
    let (recording_ms, worst_ms) = measure(&mut app, seconds);
    app.record.stop();
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    loop {
        app.ingest();
        if let Some(n) = app.notices.iter().find(|n| n.text.starts_with("Saved")) {
            let text = n.text.clone();
            let path = std::fs::read_dir(dir)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.extension().is_some_and(|x| x == "gif"))
                .ok_or_else(|| anyhow::anyhow!("{text}: no file"))?;
            let summary = summary_of(&path)?;
            return Ok(RecordingCost {
                idle_ms,
                idle_worst_ms,
                recording_ms,
                worst_ms,
                summary: crate::recording::Summary {
                    dropped: dropped_in(&text),
                    ..summary
                },
            });
        }
        if let Some(n) = app.notices.iter().find(|n| n.error) {
            anyhow::bail!("{}", n.text);
        }
        anyhow::ensure!(Instant::now() < deadline, "the recording was not written");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Frames, size, length and bytes of a GIF file.
fn summary_of(path: &std::path::Path) -> anyhow::Result<crate::recording::Summary> {
    let bytes = std::fs::metadata(path)?.len();
    let mut d = gif::DecodeOptions::new().read_info(std::fs::File::open(path)?)?;
    let size = [usize::from(d.width()), usize::from(d.height())];
    let (mut frames, mut cs) = (0u64, 0u64);
    while let Some(f) = d.read_next_frame()? {
        frames += 1;
        cs += u64::from(f.delay);
    }
    Ok(crate::recording::Summary {
        path: path.to_owned(),
        frames,
        seconds: cs as f64 / 100.0,
        bytes,
        dropped: 0,
        size,
    })
}

/// The number of dropped frames a "Saved ..." notice reports (0 if none).
fn dropped_in(text: &str) -> u64 {
    text.split("; ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
