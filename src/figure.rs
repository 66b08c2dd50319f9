//! Headless figures for slides (`annealscope run --png FIG.png`): the final decision
//! boundary with the data, and the temperature, energy and acceptance curves. Drawn on
//! the CPU with `imageproc`, text in the app's own font; no display needed. The layout is
//! drawn for 1600 x 900 pixels and scaled to the size asked for, so the same figure
//! makes the frames of a recording (`run --gif`).

use crate::colors;
use crate::sim::ising::{DOWN_RGBA, IsingView, UP_RGBA};
use crate::sim::landscape::LandscapeView;
use crate::sim::network::NetworkView;
use crate::sim::rbm::RbmView;
use crate::sim::tsp::TspView;
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

/// The size the layout is drawn for; other sizes scale it.
pub const SIZE: [u32; 2] = [1600, 900];
/// Smallest and largest figure side, in pixels.
pub const SIDE: std::ops::RangeInclusive<u32> = 200..=8192;
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
    (title, log, s): (&str, bool, f32),
    series: &[Series],
) {
    draw_filled_rect_mut(
        img,
        Rect::at(p.x, p.y).of_size(p.w, p.h),
        Rgb([250, 250, 250]),
    );
    draw_hollow_rect_mut(img, Rect::at(p.x, p.y).of_size(p.w, p.h), FRAME);
    let px = |v: f32| (v * s).round() as i32;
    label(img, font, p.x, p.y - px(28.0), 22.0 * s, title);
    right_aligned(
        img,
        font,
        p.x - px(6.0),
        p.y - px(8.0),
        18.0 * s,
        &tick(p.y_range[1], log),
    );
    right_aligned(
        img,
        font,
        p.x - px(6.0),
        p.y + p.h as i32 - px(12.0),
        18.0 * s,
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
    (x, y, side): (i32, i32, u32),
    s: f32,
) {
    let r = |v: f32| ((v * s).round() as i32).max(1);
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
                draw_filled_circle_mut(img, at, r(5.0), color);
            } else {
                draw_hollow_circle_mut(img, at, r(5.0), color);
                draw_hollow_circle_mut(img, at, r(4.0), color);
            }
            if (*p >= 0.5) != (*label == 1) {
                draw_hollow_circle_mut(img, at, r(9.0), Rgb(colors::WRONG));
            }
        }
    }
}

fn landscape_panel(
    img: &mut RgbImage,
    land: &LandscapeView,
    (x, y, side): (i32, i32, u32),
    s: f32,
) {
    let r = ((4.0 * s).round() as i32).max(1);
    let grid = &land.grid;
    let pixels = colors::energy_pixels(&grid.energy, grid.side, true);
    blit(img, &pixels, grid.side, grid.side, x, y, side);
    let panel = square(x, y, side, grid.bounds);
    for w in &land.walkers {
        let (px, py) = panel.px(w[0], w[1]);
        let at = (px.round() as i32, py.round() as i32);
        draw_filled_circle_mut(img, at, r, Rgb(colors::WALKER));
        draw_hollow_circle_mut(img, at, r, Rgb([0, 0, 0]));
    }
}

/// A closed tour through `cities` as line segments in `panel`'s pixels; `dash` draws
/// every other piece of `dash` pixels only.
fn tour_lines(
    img: &mut RgbImage,
    panel: &Panel,
    cities: &[[f64; 2]],
    tour: &[usize],
    color: Rgb<u8>,
    dash: Option<f32>,
) {
    let points: Vec<(f32, f32)> = tour
        .iter()
        .chain(tour.first())
        .filter_map(|&c| cities.get(c))
        .map(|p| panel.px(p[0], p[1]))
        .collect();
    // A thicker line: the segment and its neighbours one pixel off.
    let thick = |img: &mut RgbImage, a: (f32, f32), b: (f32, f32)| {
        for (dx, dy) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)] {
            draw_line_segment_mut(img, (a.0 + dx, a.1 + dy), (b.0 + dx, b.1 + dy), color);
        }
    };
    // Dashes continue from one segment into the next.
    let mut phase = 0.0f32;
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let Some(dash) = dash else {
            thick(img, a, b);
            continue;
        };
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let mut t = 0.0f32;
        while t < len {
            let on = ((phase / dash) as u64).is_multiple_of(2);
            let step = (dash - phase % dash).min(len - t);
            if on {
                let f0 = t / len;
                let f1 = (t + step) / len;
                let p = |f: f32| (a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1));
                thick(img, p(f0), p(f1));
            }
            t += step;
            phase += step;
        }
    }
}

/// The cities with the final tour (solid blue) and the best tour (dashed orange), in a
/// square fitted to the cities.
fn tsp_panel(
    img: &mut RgbImage,
    font: &FontRef,
    v: &TspView,
    (x, y, side): (i32, i32, u32),
    s: f32,
) {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for c in v.cities.iter() {
        for k in 0..2 {
            lo[k] = lo[k].min(c[k]);
            hi[k] = hi[k].max(c[k]);
        }
    }
    let centre = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
    let half = ((hi[0] - lo[0]).max(hi[1] - lo[1]) / 2.0 * 1.06).max(1e-9);
    let bounds = [
        [centre[0] - half, centre[1] - half],
        [centre[0] + half, centre[1] + half],
    ];
    let panel = square(x, y, side, bounds);
    draw_filled_rect_mut(
        img,
        Rect::at(x, y).of_size(side, side),
        Rgb([252, 252, 252]),
    );
    tour_lines(img, &panel, &v.cities, &v.tour, Rgb([60, 120, 210]), None);
    tour_lines(
        img,
        &panel,
        &v.cities,
        &v.best_tour,
        Rgb([235, 140, 0]),
        Some(9.0 * s),
    );
    // Markers shrink as the cities get denser.
    let r = ((48.0 / (v.cities.len().max(1) as f64).sqrt()).clamp(2.0, 6.0) as f32 * s)
        .round()
        .max(1.0) as i32;
    for c in v.cities.iter() {
        let (px, py) = panel.px(c[0], c[1]);
        draw_filled_circle_mut(img, (px.round() as i32, py.round() as i32), r, TEXT);
    }
    label(
        img,
        font,
        x + (8.0 * s) as i32,
        y + (6.0 * s) as i32,
        18.0 * s,
        "solid blue: final tour    dashed orange: best tour",
    );
}

/// A small binary image (`mask`, row-major) in a `side`-pixel square at `(x, y)`.
fn pattern(img: &mut RgbImage, v: &RbmView, mask: u32, x: i32, y: i32, side: u32) {
    let pixels: Vec<[u8; 3]> = (0..v.width * v.height)
        .map(|i| {
            if mask >> i & 1 == 1 {
                [250, 236, 180]
            } else {
                [28, 32, 48]
            }
        })
        .collect();
    blit(img, &pixels, v.height, v.width, x, y, side);
    draw_hollow_rect_mut(img, Rect::at(x, y).of_size(side, side), FRAME);
}

/// The RBM: its data patterns sorted by exact `p(v)` with bars of `p(v)` (orange) and the
/// data's frequency (blue), its receptive fields below, and its chains when sampling.
fn rbm_panel(
    img: &mut RgbImage,
    font: &FontRef,
    v: &RbmView,
    (x, y, side): (i32, i32, u32),
    s: f32,
) {
    let px = |v: f32| ((v * s).round() as u32).max(1);
    let n = v.patterns.len().max(1);
    let slot = (side / n as u32).clamp(px(8.0), px(60.0));
    let bars_h = px(200.0);
    let top = v
        .patterns
        .iter()
        .map(|r| r.model.max(r.empirical))
        .fold(1e-12, f64::max)
        * 1.1;
    label(
        img,
        font,
        x,
        y,
        20.0 * s,
        "data patterns by exact p(v): model (orange), data (blue)",
    );
    let base = y + px(30.0) as i32 + bars_h as i32;
    for (i, r) in v.patterns.iter().enumerate() {
        let x0 = x + i as i32 * slot as i32;
        let bw = (slot * 2 / 5).max(1);
        for (k, (p, color)) in [(r.model, [230, 120, 40]), (r.empirical, [90, 170, 240])]
            .into_iter()
            .enumerate()
        {
            let h = ((p / top) * f64::from(bars_h)).round().max(1.0) as u32;
            draw_filled_rect_mut(
                img,
                Rect::at(
                    x0 + (slot / 10) as i32 + k as i32 * bw as i32,
                    base - h as i32,
                )
                .of_size(bw, h),
                Rgb(color),
            );
        }
        pattern(
            img,
            v,
            r.mask,
            x0 + 1,
            base + px(4.0) as i32,
            slot.saturating_sub(2).max(4),
        );
    }
    let fy = base + (slot + px(30.0)) as i32;
    label(
        img,
        font,
        x,
        fy,
        20.0 * s,
        "receptive fields W_ij (red +, blue -)",
    );
    let scale = v
        .receptive_fields
        .iter()
        .flatten()
        .fold(1e-9f64, |m, w| m.max(w.abs()));
    let (cell, gap) = (px(72.0), px(8.0));
    let per_row = (side / (cell + gap)).max(1) as usize;
    for (j, f) in v.receptive_fields.iter().enumerate() {
        let pixels: Vec<[u8; 3]> = f
            .iter()
            .map(|w| {
                let a = (w / scale).clamp(-1.0, 1.0);
                let t = if a >= 0.0 {
                    [240.0, 90.0, 60.0]
                } else {
                    [70.0, 150.0, 250.0]
                };
                let b = [24.0, 26.0, 36.0];
                let c = |i: usize| (b[i] + (t[i] - b[i]) * a.abs()) as u8;
                [c(0), c(1), c(2)]
            })
            .collect();
        let (r, c) = (j / per_row, j % per_row);
        let (cx, cy) = (
            x + (c as u32 * (cell + gap)) as i32,
            fy + px(30.0) as i32 + (r as u32 * (cell + gap)) as i32,
        );
        blit(img, &pixels, v.height, v.width, cx, cy, cell);
        draw_hollow_rect_mut(img, Rect::at(cx, cy).of_size(cell, cell), FRAME);
    }
    let rows = v.receptive_fields.len().div_ceil(per_row) as u32;
    let cy = fy + px(40.0) as i32 + (rows * (cell + gap)) as i32;
    if !v.chains.is_empty() && cy + px(60.0) as i32 <= y + side as i32 {
        label(
            img,
            font,
            x,
            cy,
            20.0 * s,
            &format!("chains at T = {:.3}", v.temperature),
        );
        let (c, gap) = (px(36.0), px(6.0));
        let per_row = (side / (c + gap)).max(1) as usize;
        for (i, &m) in v.chains.iter().enumerate() {
            let (r, k) = (i / per_row, i % per_row);
            let py = cy + px(30.0) as i32 + (r as u32 * (c + gap)) as i32;
            if py + c as i32 > y + side as i32 {
                break;
            }
            pattern(img, v, m, x + (k as u32 * (c + gap)) as i32, py, c);
        }
    }
}

/// How a figure is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Width and height in pixels, each within [`SIDE`].
    pub size: [u32; 2],
    /// Where the step axis of the curves ends (`None`: at the last step drawn). A
    /// recording fixes it at the run's length, so the curves grow from frame to frame.
    pub steps: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            size: SIZE,
            steps: None,
        }
    }
}

/// The spins, one square per spin (nearest sampling when the lattice is larger than the panel).
fn ising_panel(img: &mut RgbImage, v: &IsingView, (x, y, side): (i32, i32, u32)) {
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
/// step's metrics are `record`, at 1600 x 900 pixels.
pub fn render(run: &Run, record: &StepRecord, history: &History, title: &str) -> RgbImage {
    render_with(run, record, history, title, &Options::default())
}

/// Draws the figure of `run` at its current step (`record`, with the steps so far in
/// `history`) as `options` say.
pub fn render_with(
    run: &Run,
    record: &StepRecord,
    history: &History,
    title: &str,
    options: &Options,
) -> RgbImage {
    let [w, h] = options.size.map(|v| v.clamp(*SIDE.start(), *SIDE.end()));
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let Ok(font) = FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT) else {
        return img;
    };
    // The layout's units: x and y scale apart, sizes (text, squares) by the smaller.
    let (sx, sy) = (w as f32 / SIZE[0] as f32, h as f32 / SIZE[1] as f32);
    let s = sx.min(sy);
    let x = |v: f32| (v * sx).round() as i32;
    let y = |v: f32| (v * sy).round() as i32;
    label(&mut img, &font, x(40.0), y(16.0), 30.0 * s, title);

    // The decision boundary, or the landscape, square, on the left.
    let side = ((760.0 * s).round() as u32).max(8);
    let (bx, by) = (x(40.0), y(80.0));
    let view = run.view(&ViewRequest {
        grid: (side as usize / 4).max(8),
        replica: false,
    });
    let square = (bx, by, side);
    match &view {
        ProblemView::Network(v) => {
            if let Some(grid) = &v.grid {
                boundary_panel(&mut img, v, grid, square, s);
            }
        }
        ProblemView::Landscape(v) => landscape_panel(&mut img, v, square, s),
        ProblemView::Tsp(v) => tsp_panel(&mut img, &font, v, square, s),
        ProblemView::Rbm(v) => rbm_panel(&mut img, &font, v, square, s),
        ProblemView::Ising(v) => ising_panel(&mut img, v, square),
    }
    let mut caption = format!(
        "step {}   T = {:.3e}   energy {:.4}   best {:.4}",
        record.step, record.temperature, record.energy, record.best_energy
    );
    for (o, v) in run.observables().iter().zip(record.observables) {
        // NaN: nothing to report (no test points, say).
        if o.status && v.is_finite() {
            let value = match o.plot {
                PlotKind::Steps { fraction: true, .. } => format!("{:.1}%", 100.0 * v),
                _ => format!("{v:.4}"),
            };
            caption.push_str(&format!("   {} {value}", o.label));
        }
    }
    draw_hollow_rect_mut(&mut img, Rect::at(bx, by).of_size(side, side), FRAME);
    let below = by + side as i32 + (8.0 * s).round() as i32;
    label(&mut img, &font, bx, below, 20.0 * s, &caption);
    if let Some(reason) = run.stop_reason() {
        let why = format!("stopped at step {}: {reason}", reason.step());
        let next = below + (26.0 * s).round() as i32;
        label(&mut img, &font, bx, next, 18.0 * s, &why);
    }

    // Curves on the right.
    let last = history.last().map_or(1.0, |b| b.last as f64);
    let end = options.steps.map_or(last, |n| n.max(1) as f64);
    let env = |m: Metric, log: bool| {
        let mut pts = Vec::new();
        history.envelope(m, 0.0, last, 700, &mut pts);
        if log {
            pts.retain(|p| p[1] > 0.0);
            pts.iter_mut().for_each(|p| p[1] = p[1].log10());
        }
        pts
    };
    let (px, pw, ph) = (x(900.0), (660.0 * sx) as u32, (215.0 * sy) as u32);
    let t = env(Metric::TEMPERATURE, true);
    // A log axis only when every energy is positive (a landscape's may not be).
    let log_e = history
        .buckets()
        .iter()
        .all(|b| b.min[Metric::ENERGY.0] > 0.0);
    let e = env(Metric::ENERGY, log_e);
    let b = env(Metric::BEST_ENERGY, log_e);
    // A tour's known optimum, as a grey line under the energies.
    let optimum = match &view {
        ProblemView::Tsp(v) => v.known_optimum.filter(|o| *o > 0.0),
        _ => None,
    }
    .map(|o| if log_e { o.log10() } else { o });
    let mut energies = vec![([80, 140, 230], e), ([40, 160, 70], b)];
    if let Some(o) = optimum {
        energies.insert(0, ([150, 150, 150], vec![[0.0, o], [end, o]]));
    }
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
            energies,
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
            y: y(110.0 + i as f32 * 260.0),
            w: pw,
            h: ph,
            x_range: [0.0, end],
            y_range: y_range(&refs, fixed),
        };
        curves(&mut img, &font, &p, (title, log, s), &series);
    }
    let axis_y = y(110.0 + 3.0 * 260.0 - 40.0);
    label(&mut img, &font, px, axis_y, 18.0 * s, "0");
    right_aligned(
        &mut img,
        &font,
        px + pw as i32,
        axis_y,
        18.0 * s,
        &format!("{end:.0} steps"),
    );
    img
}
