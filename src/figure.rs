//! Headless figures for slides (`annealscope run --png FIG.png`): the final decision
//! boundary with the data, and the temperature, energy and acceptance curves. Drawn on
//! the CPU with `imageproc`, text in the app's own font; no display needed.

use crate::colors;
use crate::sim::ising::{DOWN_RGBA, IsingView, UP_RGBA};
use crate::sim::landscape::LandscapeView;
use crate::sim::network::NetworkView;
use crate::sim::{
    DecisionGrid, History, Metric, PlotKind, ProblemView, Run, StepRecord, ViewRequest,
};
use ab_glyph::FontRef;
use image::{Rgb, RgbImage};
use imageproc::drawing::{
    draw_filled_circle_mut, draw_filled_rect_mut, draw_hollow_circle_mut, draw_hollow_rect_mut,
    draw_line_segment_mut, draw_text_mut, text_size,
};
use imageproc::rect::Rect;

const W: u32 = 1600;
const H: u32 = 900;
const TEXT: Rgb<u8> = Rgb([30, 30, 30]);
const FRAME: Rgb<u8> = Rgb([120, 120, 120]);

/// A colour and its polyline.
type Series = ([u8; 3], Vec<[f64; 2]>);

/// One curve panel: title, log axis, fixed y range, series.
type CurveSpec = (&'static str, bool, Option<[f64; 2]>, Vec<Series>);

/// A plotting area: pixel rectangle and data ranges.
struct Panel {
    x: i32,
    y: i32,
    w: u32,
    h: u32,
    x_range: [f64; 2],
    y_range: [f64; 2],
}

impl Panel {
    fn px(&self, x: f64, y: f64) -> (f32, f32) {
        let fx = (x - self.x_range[0]) / (self.x_range[1] - self.x_range[0]).max(1e-300);
        let fy = (y - self.y_range[0]) / (self.y_range[1] - self.y_range[0]).max(1e-300);
        (
            self.x as f32 + fx as f32 * self.w as f32,
            self.y as f32 + (1.0 - fy as f32) * self.h as f32,
        )
    }
}

fn label(img: &mut RgbImage, font: &FontRef, x: i32, y: i32, size: f32, text: &str) {
    draw_text_mut(img, TEXT, x, y, size, font, text);
}

fn right_aligned(img: &mut RgbImage, font: &FontRef, x: i32, y: i32, size: f32, text: &str) {
    let (w, _) = text_size(size, font, text);
    label(img, font, x - w as i32, y, size, text);
}

fn tick(v: f64, log: bool) -> String {
    if log {
        format!("{:.0e}", 10f64.powf(v))
    } else {
        format!("{v:.2}")
    }
}

/// One curve panel: `series` of (colour, points), y ticks at the ends.
fn curves(
    img: &mut RgbImage,
    font: &FontRef,
    p: &Panel,
    title: &str,
    log: bool,
    series: &[Series],
) {
    draw_filled_rect_mut(
        img,
        Rect::at(p.x, p.y).of_size(p.w, p.h),
        Rgb([250, 250, 250]),
    );
    draw_hollow_rect_mut(img, Rect::at(p.x, p.y).of_size(p.w, p.h), FRAME);
    label(img, font, p.x, p.y - 28, 22.0, title);
    right_aligned(img, font, p.x - 6, p.y - 8, 18.0, &tick(p.y_range[1], log));
    right_aligned(
        img,
        font,
        p.x - 6,
        p.y + p.h as i32 - 12,
        18.0,
        &tick(p.y_range[0], log),
    );
    for (color, pts) in series {
        for pair in pts.windows(2) {
            draw_line_segment_mut(
                img,
                p.px(pair[0][0], pair[0][1]),
                p.px(pair[1][0], pair[1][1]),
                Rgb(*color),
            );
        }
    }
}

fn y_range(series: &[&[[f64; 2]]], fixed: Option<[f64; 2]>) -> [f64; 2] {
    if let Some(r) = fixed {
        return r;
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for s in series {
        for p in s.iter() {
            lo = lo.min(p[1]);
            hi = hi.max(p[1]);
        }
    }
    if !lo.is_finite() {
        return [0.0, 1.0];
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    [lo - pad, hi + pad]
}

/// Paints `pixels` (`rows x cols`, top row first) scaled to a `side x side` square.
fn blit(
    img: &mut RgbImage,
    pixels: &[[u8; 3]],
    rows: usize,
    cols: usize,
    x: i32,
    y: i32,
    side: u32,
) {
    for yy in 0..side {
        for xx in 0..side {
            let r = (yy as usize * rows / side as usize).min(rows - 1);
            let c = (xx as usize * cols / side as usize).min(cols - 1);
            img.put_pixel(x as u32 + xx, y as u32 + yy, Rgb(pixels[r * cols + c]));
        }
    }
}

fn square(x: i32, y: i32, side: u32, bounds: [[f64; 2]; 2]) -> Panel {
    let [lo, hi] = bounds;
    Panel {
        x,
        y,
        w: side,
        h: side,
        x_range: [lo[0], hi[0]],
        y_range: [lo[1], hi[1]],
    }
}

fn boundary_panel(
    img: &mut RgbImage,
    view: &NetworkView,
    grid: &DecisionGrid,
    x: i32,
    y: i32,
    side: u32,
) {
    let (rows, cols) = grid.p.dim();
    blit(img, &colors::grid_pixels(&grid.p), rows, cols, x, y, side);
    let [lo, hi] = grid.bounds;
    let bounds = [
        [f64::from(lo[0]), f64::from(lo[1])],
        [f64::from(hi[0]), f64::from(hi[1])],
    ];
    let panel = square(x, y, side, bounds);
    let data = &view.data;
    for (samples, probs, filled) in [
        (&data.train, &grid.train_p, true),
        (&data.test, &grid.test_p, false),
    ] {
        for ((row, label), p) in samples
            .x
            .rows()
            .into_iter()
            .zip(samples.y.iter())
            .zip(probs)
        {
            let (px, py) = panel.px(f64::from(row[0]), f64::from(row[1]));
            let at = (px.round() as i32, py.round() as i32);
            let color = Rgb(colors::CLASS[usize::from(*label)]);
            if filled {
                draw_filled_circle_mut(img, at, 5, color);
            } else {
                draw_hollow_circle_mut(img, at, 5, color);
                draw_hollow_circle_mut(img, at, 4, color);
            }
            if (*p >= 0.5) != (*label == 1) {
                draw_hollow_circle_mut(img, at, 9, Rgb(colors::WRONG));
            }
        }
    }
}

fn landscape_panel(img: &mut RgbImage, land: &LandscapeView, x: i32, y: i32, side: u32) {
    let grid = &land.grid;
    let pixels = colors::energy_pixels(&grid.energy, grid.side, true);
    blit(img, &pixels, grid.side, grid.side, x, y, side);
    let panel = square(x, y, side, grid.bounds);
    for w in &land.walkers {
        let (px, py) = panel.px(w[0], w[1]);
        let at = (px.round() as i32, py.round() as i32);
        draw_filled_circle_mut(img, at, 4, Rgb(colors::WALKER));
        draw_hollow_circle_mut(img, at, 4, Rgb([0, 0, 0]));
    }
}

/// The spins, one square per spin (nearest sampling when the lattice is larger than the panel).
fn ising_panel(img: &mut RgbImage, v: &IsingView, x: i32, y: i32, side: u32) {
    if v.spins.len() != v.size * v.size {
        return;
    }
    let (up, down) = (
        [UP_RGBA[0], UP_RGBA[1], UP_RGBA[2]],
        [DOWN_RGBA[0], DOWN_RGBA[1], DOWN_RGBA[2]],
    );
    let pixels: Vec<[u8; 3]> = v
        .spins
        .iter()
        .map(|&s| if s != 0 { up } else { down })
        .collect();
    blit(img, &pixels, v.size, v.size, x, y, side);
}

/// Draws the figure of a finished `run` whose steps are in `history` and whose last
/// step's metrics are `record`.
pub fn render(run: &Run, record: &StepRecord, history: &History, title: &str) -> RgbImage {
    let mut img = RgbImage::from_pixel(W, H, Rgb([255, 255, 255]));
    let Ok(font) = FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT) else {
        return img;
    };
    label(&mut img, &font, 40, 16, 30.0, title);

    // The decision boundary, or the landscape, square, on the left.
    let side = 760u32;
    let (bx, by) = (40i32, 80i32);
    let view = run.view(&ViewRequest {
        grid: side as usize / 4,
        replica: false,
    });
    match &view {
        ProblemView::Network(v) => {
            if let Some(grid) = &v.grid {
                boundary_panel(&mut img, v, grid, bx, by, side);
            }
        }
        ProblemView::Landscape(v) => landscape_panel(&mut img, v, bx, by, side),
        ProblemView::Ising(v) => ising_panel(&mut img, v, bx, by, side),
    }
    let mut caption = format!(
        "step {}   T = {:.3e}   energy {:.4}   best {:.4}",
        record.step, record.temperature, record.energy, record.best_energy
    );
    for (o, v) in run.observables().iter().zip(record.observables) {
        if o.status {
            let value = match o.plot {
                PlotKind::Steps { fraction: true, .. } => format!("{:.1}%", 100.0 * v),
                _ => format!("{v:.4}"),
            };
            caption.push_str(&format!("   {} {value}", o.label));
        }
    }
    draw_hollow_rect_mut(&mut img, Rect::at(bx, by).of_size(side, side), FRAME);
    label(&mut img, &font, bx, by + side as i32 + 8, 20.0, &caption);

    // Curves on the right.
    let last = history.last().map_or(1.0, |b| b.last as f64);
    let env = |m: Metric, log: bool| {
        let mut pts = Vec::new();
        history.envelope(m, 0.0, last, 700, &mut pts);
        if log {
            pts.retain(|p| p[1] > 0.0);
            pts.iter_mut().for_each(|p| p[1] = p[1].log10());
        }
        pts
    };
    let (px, pw, ph) = (900i32, 660u32, 215u32);
    let t = env(Metric::TEMPERATURE, true);
    // A log axis only when every energy is positive (a landscape's may not be).
    let log_e = history
        .buckets()
        .iter()
        .all(|b| b.min[Metric::ENERGY.0] > 0.0);
    let e = env(Metric::ENERGY, log_e);
    let b = env(Metric::BEST_ENERGY, log_e);
    let a = env(Metric::ACCEPTANCE, false);
    let specs: [CurveSpec; 3] = [
        ("temperature T (log)", true, None, vec![([220, 80, 60], t)]),
        (
            if log_e {
                "energy E and best E (log)"
            } else {
                "energy E and best E"
            },
            log_e,
            None,
            vec![([80, 140, 230], e), ([40, 160, 70], b)],
        ),
        (
            "acceptance rate",
            false,
            Some([0.0, 1.0]),
            vec![([150, 90, 200], a)],
        ),
    ];
    for (i, (title, log, fixed, series)) in specs.into_iter().enumerate() {
        let refs: Vec<&[[f64; 2]]> = series.iter().map(|(_, s)| s.as_slice()).collect();
        let p = Panel {
            x: px,
            y: 110 + i as i32 * (ph as i32 + 45),
            w: pw,
            h: ph,
            x_range: [0.0, last],
            y_range: y_range(&refs, fixed),
        };
        curves(&mut img, &font, &p, title, log, &series);
    }
    let axis_y = 110 + 3 * (ph as i32 + 45) - 40;
    label(&mut img, &font, px, axis_y, 18.0, "0");
    right_aligned(
        &mut img,
        &font,
        px + pw as i32,
        axis_y,
        18.0,
        &format!("{last:.0} steps"),
    );
    img
}
