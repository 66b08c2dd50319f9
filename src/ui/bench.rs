//! `annealscope bench --ui`: CPU time of one frame (layout and tessellation, no GPU) with
//! a long history and a 200 x 200 decision grid, measured headlessly.

use super::{App, Latest};
use crate::preset::Preset;
use crate::sim::{Run, RunConfig};
use crate::trainer::Command;
use std::sync::Arc;
use std::time::Instant;

/// History lengths measured.
pub const LENGTHS: [u64; 3] = [10_000, 100_000, 1_000_000];

/// Mean milliseconds per frame for an app showing `steps` steps of history.
pub fn frame_ms(steps: u64, frames: u32) -> anyhow::Result<f64> {
    let config = RunConfig {
        steps,
        ..RunConfig::default()
    };
    let mut run = Run::new(config.clone())?;
    let ctx = egui::Context::default();
    let preset = Preset {
        run: config,
        ..Preset::builtin_default()
    };
    let mut app = App::new(&ctx, preset)?;
    app.command(Command::Pause);
    app.frozen = true;
    for _ in 0..steps {
        run.step();
        let r = run.record_with(f64::NAN, f64::NAN);
        app.history.push(&r);
    }
    app.latest = Some(Latest {
        record: run.record(),
        schedule: run.annealer().schedule().clone(),
        data: Arc::new(run.data().clone()),
        playing: true,
        finished: false,
        steps_per_second: 0.0,
    });
    app.grid = Some(Arc::new(run.decision_grid(200)));
    app.grid_changed = true;
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1280.0, 800.0),
        )),
        ..Default::default()
    };
    let mut total = 0.0;
    for i in 0..frames + 5 {
        let start = Instant::now();
        let mut out = ctx.run_ui(input(), |ui| app.frame(ui));
        let shapes = std::mem::take(&mut out.shapes);
        let primitives = ctx.tessellate(shapes, out.pixels_per_point);
        std::hint::black_box(&primitives);
        // Debug builds panic on dropping unapplied texture updates.
        out.textures_delta.clear();
        if i >= 5 {
            total += start.elapsed().as_secs_f64();
        }
    }
    Ok(1e3 * total / f64::from(frames))
}
