//! The Boltzmann machine's view: the data patterns sorted by their exact probability under
//! the model, with the data's own frequencies beside them; the free energy of each data
//! pattern against every other pattern; the hidden units' receptive fields; the Gibbs
//! chains (and each tempering replica's) as small images; a temperature slider while
//! sampling; the AIS panel beside the plots; and the machine's settings.

use super::ais::{self, AisCtx, AisUi};
use super::kinds::ViewCtx;
use super::pane::RunPane;
use super::{Action, Looks};
use crate::sim::rbm::{self, Learning, Mode, Patterns, RbmConfig, RbmView, limits};
use crate::sim::{Metric, ProblemView, Schedule};
use egui::{Color32, ComboBox, Rect, Sense, Slider, SliderClamping, Stroke, Ui, pos2, vec2};
use egui_plot::{Bar, BarChart, Plot, VLine};

/// Pixel colours: off, on.
const OFF: Color32 = Color32::from_rgb(28, 32, 48);
const ON: Color32 = Color32::from_rgb(250, 236, 180);
/// The model's probability and the data's frequency.
const MODEL: Color32 = Color32::from_rgb(230, 120, 40);
const DATA: Color32 = Color32::from_rgb(90, 170, 240);

/// The view state of one run.
#[derive(Default)]
pub struct RbmUi {
    /// The AIS panel.
    pub ais: AisUi,
}

/// Colour of a weight `w` on a diverging scale reaching full colour at `|w| = scale`:
/// blue negative, dark zero, red positive.
fn weight_color(w: f64, scale: f64) -> Color32 {
    let f = (w / scale.max(1e-12)).clamp(-1.0, 1.0) as f32;
    let base = [24.0, 26.0, 36.0];
    let target = if f >= 0.0 {
        [240.0, 90.0, 60.0]
    } else {
        [70.0, 150.0, 250.0]
    };
    let a = f.abs();
    let c = |i: usize| (base[i] + (target[i] - base[i]) * a) as u8;
    Color32::from_rgb(c(0), c(1), c(2))
}

/// Paints a `width x height` image (row-major colours) into `rect` with a thin frame.
fn paint_image(ui: &Ui, rect: Rect, width: usize, height: usize, color: impl Fn(usize) -> Color32) {
    let painter = ui.painter();
    let (cw, ch) = (rect.width() / width as f32, rect.height() / height as f32);
    for r in 0..height {
        for c in 0..width {
            let min = rect.min + vec2(c as f32 * cw, r as f32 * ch);
            painter.rect_filled(
                Rect::from_min_size(min, vec2(cw, ch)),
                0.0,
                color(r * width + c),
            );
        }
    }
    painter.rect_stroke(
        rect,
        0.0,
        Stroke::new(1.0, Color32::from_gray(110)),
        egui::StrokeKind::Outside,
    );
}

/// A visible pattern (mask) as an image in `rect`.
fn paint_pattern(ui: &Ui, rect: Rect, v: &RbmView, mask: u32) {
    paint_image(ui, rect, v.width, v.height, |i| {
        if mask >> i & 1 == 1 { ON } else { OFF }
    });
}

/// A grid of `n` small squares of side `side` laid out in rows across the width; calls
/// `draw(i, rect)` for each and returns their responses.
fn image_grid(
    ui: &mut Ui,
    width: f32,
    n: usize,
    side: f32,
    mut draw: impl FnMut(&Ui, usize, Rect),
) -> Vec<egui::Response> {
    let gap = (side * 0.2).max(3.0);
    let per_row = (((width + gap) / (side + gap)).floor() as usize).max(1);
    let rows = n.div_ceil(per_row);
    let height = rows as f32 * (side + gap);
    let (rect, _) = ui.allocate_exact_size(vec2(width, height), Sense::hover());
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (r, c) = (i / per_row, i % per_row);
        let min = rect.min + vec2(c as f32 * (side + gap), r as f32 * (side + gap));
        let cell = Rect::from_min_size(min, vec2(side, side));
        draw(ui, i, cell);
        out.push(ui.interact(cell, ui.scope_id().with(("cell", i)), Sense::hover()));
    }
    out
}

/// The header line: what the machine is and does. The step and the temperature come from
/// the run's latest report (a view is redrawn only when a chain moved).
fn describe(v: &RbmView, step: u64, t: f64) -> String {
    let mode = match &v.mode {
        Mode::Learn { learning, lr } => {
            let how = match learning {
                Learning::Exact => "exact gradient".to_owned(),
                Learning::Cd { k } => format!("CD-{k}"),
                Learning::Pcd { k, chains } => format!("PCD-{k}, {chains} chains"),
            };
            format!("learning by {how}, lr {lr}")
        }
        Mode::Sample { .. } => format!("{} Gibbs chains at T = {t:.3}", v.chain_count),
    };
    format!(
        "RBM: {}x{} visible, {} hidden; {mode}; step {}",
        v.width, v.height, v.hidden, step
    )
}

/// The data patterns sorted by `p(v)`: bars of the model's probability beside the data's
/// frequency, each pattern's image below its bars.
fn patterns_ui(ui: &mut Ui, width: f32, v: &RbmView) {
    let n = v.patterns.len();
    if n == 0 {
        return;
    }
    let slot = (width / n as f32).clamp(10.0, 64.0);
    let img = (slot * 0.8).min(48.0);
    let bars_h = (ui.available_height() * 0.16).clamp(60.0, 160.0);
    let (rect, _) = ui.allocate_exact_size(vec2(width, bars_h + img + 6.0), Sense::hover());
    let top = v
        .patterns
        .iter()
        .map(|r| r.model.max(r.empirical))
        .fold(1e-12, f64::max)
        * 1.1;
    let painter = ui.painter();
    let base_y = rect.min.y + bars_h;
    painter.line_segment(
        [
            pos2(rect.min.x, base_y),
            pos2(rect.min.x + slot * n as f32, base_y),
        ],
        Stroke::new(1.0, Color32::from_gray(120)),
    );
    for (i, row) in v.patterns.iter().enumerate() {
        let x0 = rect.min.x + i as f32 * slot;
        let h = |p: f64| (p / top) as f32 * bars_h;
        let bw = slot * 0.38;
        let model = Rect::from_min_max(
            pos2(x0 + slot * 0.1, base_y - h(row.model)),
            pos2(x0 + slot * 0.1 + bw, base_y),
        );
        let data = Rect::from_min_max(
            pos2(x0 + slot * 0.1 + bw, base_y - h(row.empirical)),
            pos2(x0 + slot * 0.1 + 2.0 * bw, base_y),
        );
        painter.rect_filled(model, 0.0, MODEL);
        painter.rect_filled(data, 0.0, DATA.gamma_multiply(0.8));
        let cell = Rect::from_min_size(pos2(x0 + (slot - img) / 2.0, base_y + 4.0), vec2(img, img));
        paint_pattern(ui, cell, v, row.mask);
        let column = Rect::from_min_max(pos2(x0, rect.min.y), pos2(x0 + slot, cell.max.y));
        ui.interact(column, ui.scope_id().with(("pattern", i)), Sense::hover())
            .on_hover_text(format!(
                "p(v) = {:.4} under the model (exact)\nq(v) = {:.4} in the data ({} of {})\nF(v) = {:.4}",
                row.model,
                row.empirical,
                row.count,
                (row.count as f64 / row.empirical.max(1e-300)).round(),
                row.free_energy
            ));
    }
}

/// A histogram of `F(v)` over the patterns outside the data, with each data pattern's
/// `F(v)` marked: `p(v)` is `exp(-F(v))/Z`, so learning pulls the marks to the left.
fn free_energy_ui(ui: &mut Ui, pane: &RunPane, v: &RbmView, [width, height]: [f32; 2]) {
    let Some(fe) = &v.free_energies else {
        return;
    };
    let [lo, hi] = fe.range;
    let w = ((hi - lo) / fe.rest.len().max(1) as f64).max(1e-9);
    let bars = fe
        .rest
        .iter()
        .enumerate()
        .map(|(i, &c)| Bar::new(lo + (i as f64 + 0.5) * w, f64::from(c)).width(w))
        .collect();
    ui.label("Free energy F(v) at T = 1 of each data pattern (orange) against all other patterns (grey histogram); p(v) = exp(-F(v))/Z")
        .on_hover_text("F(v) = -b.v - sum_j ln(1 + exp(c_j + W_j.v)): the energy of a visible pattern with the hidden units summed out. Learning pulls the data patterns' F down, below the rest.");
    Plot::new(format!("rbm-free-energy-{}", pane.side.letter()))
        .width(width)
        .height(height)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show(ui, |p| {
            p.bar_chart(
                BarChart::new("patterns not in the data (count)", bars)
                    .color(Color32::from_gray(150)),
            );
            for &f in &fe.data {
                p.vline(VLine::new("data patterns", f).color(MODEL).width(1.5));
            }
        });
}

/// Receptive fields: each hidden unit's weights over the pixels, on one colour scale.
fn fields_ui(ui: &mut Ui, width: f32, v: &RbmView, side: f32) {
    let scale = v
        .receptive_fields
        .iter()
        .flatten()
        .fold(1e-9f64, |m, w| m.max(w.abs()));
    ui.label(format!(
        "Hidden units' receptive fields W_ij (red +, blue -, full colour at |W| = {scale:.2})"
    ))
    .on_hover_text("Each image is one hidden unit j: pixel i is coloured by the weight W_ij joining them. The unit turns on for patterns that overlap its red pixels and avoid its blue ones.");
    let fields = &v.receptive_fields;
    let responses = image_grid(ui, width, fields.len(), side, |ui, j, rect| {
        paint_image(ui, rect, v.width, v.height, |i| {
            weight_color(fields[j][i], scale)
        });
    });
    for (j, r) in responses.into_iter().enumerate() {
        r.on_hover_text(format!("hidden unit {j}"));
    }
}

/// The chains' visible states as images.
fn chains_ui(ui: &mut Ui, width: f32, v: &RbmView, t: f64, side: f32) {
    if v.chains.is_empty() {
        return;
    }
    let what = match v.mode {
        Mode::Sample { .. } => format!("Gibbs chains at T = {t:.3}"),
        Mode::Learn { .. } => "persistent chains (PCD's negative samples)".to_owned(),
    };
    let shown = if v.chain_count > v.chains.len() {
        format!(" (first {} of {})", v.chains.len(), v.chain_count)
    } else {
        String::new()
    };
    ui.label(format!("{what}{shown}"));
    image_grid(ui, width, v.chains.len(), side, |ui, i, rect| {
        paint_pattern(ui, rect, v, v.chains[i]);
    });
}

/// Each tempering replica's first chains, coldest first.
fn replicas_ui(ui: &mut Ui, width: f32, pane: &RunPane, v: &RbmView, side: f32) {
    let Some(t) = &pane.tempering.latest else {
        return;
    };
    ui.label("Tempering replicas, coldest first (their first chains)");
    let k = t.ladder.len();
    for (i, view) in t.views.iter().enumerate() {
        let ProblemView::Rbm(r) = view else {
            continue;
        };
        ui.horizontal(|ui| {
            ui.colored_label(
                super::tempering::slot_color(i, k),
                format!("T = {:<7.3}", t.ladder[i]),
            );
            let n = r
                .chains
                .len()
                .min((((width - 90.0) / (side * 1.2)) as usize).max(1));
            let (rect, _) =
                ui.allocate_exact_size(vec2(n as f32 * side * 1.2, side), Sense::hover());
            for (c, &mask) in r.chains.iter().take(n).enumerate() {
                let cell = Rect::from_min_size(
                    rect.min + vec2(c as f32 * side * 1.2, 0.0),
                    vec2(side, side),
                );
                paint_pattern(ui, cell, v, mask);
            }
        });
    }
}

/// The temperature of a sampling run, live: edits a constant schedule's `T`.
fn temperature_ui(ui: &mut Ui, pane: &RunPane, actions: &mut Vec<Action>) {
    let mut config = pane.config.clone();
    if config.tempering.is_some() {
        ui.weak("Tempering: the ladder runs from T_min up; the coldest replica is shown.");
        return;
    }
    let Schedule::Constant { t0 } = &mut config.annealer.schedule else {
        ui.weak(format!(
            "T follows the {} schedule (a constant schedule gets a slider here)",
            config.annealer.schedule.label()
        ));
        return;
    };
    let changed = ui
        .add(
            Slider::new(t0, 0.05..=5.0)
                .logarithmic(true)
                .clamping(SliderClamping::Never)
                .text("sampling temperature T"),
        )
        .on_hover_text("The chains sample p_T(v, h) = exp(-E/T)/Z(T). T = 1 is the model itself; lower T sharpens it onto its modes, where single chains get stuck.")
        .changed();
    if changed {
        config.annealer.t_min = config.annealer.t_min.min(*t0);
        actions.push(Action::Edit(pane.side, Box::new(config)));
    }
}

/// The machine's view of one run.
pub fn view_ui(
    ui: &mut Ui,
    pane: &RunPane,
    _state: &mut RbmUi,
    v: &RbmView,
    ctx: &mut ViewCtx<'_, '_>,
) {
    let width = ui.available_width();
    ui.set_max_width(width);
    let t = pane.temperature();
    ui.strong(describe(v, pane.step(), t));
    let gap = v.max_log_likelihood - v.log_likelihood;
    ui.label(format!(
        "log-likelihood {:.4} (best possible {:.4}: {gap:.3} nats short), ln Z = {:.4}, model mass on the data {:.1}%",
        v.log_likelihood,
        v.max_log_likelihood,
        v.exact_ln_z,
        100.0 * v.data_mass
    ))
    .on_hover_text("All exact, at T = 1: Z sums exp(-F(v)) over every visible pattern.");
    if matches!(v.mode, Mode::Sample { .. }) {
        temperature_ui(ui, pane, ctx.actions);
    }
    ui.horizontal_wrapped(|ui| {
        ui.label("Data patterns, most probable first:");
        ui.colored_label(MODEL, "model p(v), exact");
        ui.colored_label(DATA, "data frequency q(v)");
    });
    patterns_ui(ui, width, v);
    let h = (ui.available_height() * 0.2).clamp(70.0, 180.0);
    free_energy_ui(ui, pane, v, [width, h]);
    let per_row = if v.chains.is_empty() { 8.0 } else { 10.0 };
    let side = (width / per_row).clamp(22.0, 72.0);
    fields_ui(ui, width, v, side);
    if pane.tempering.latest.is_some() {
        replicas_ui(ui, width, pane, v, (side * 0.6).max(14.0));
    } else {
        chains_ui(ui, width, v, t, (side * 0.7).max(16.0));
    }
}

/// The AIS panel beside the plots: `ln Z` of the machine at its temperature.
pub fn readouts_ui(
    ui: &mut Ui,
    pane: &RunPane,
    state: &mut RbmUi,
    v: &RbmView,
    looks: &Looks,
    actions: &mut Vec<Action>,
) {
    if looks.comparing {
        ui.strong(format!("Run {}", pane.side.letter()));
    }
    let exact_curve = exact_ln_z_curve(pane);
    let t = match v.mode {
        Mode::Learn { .. } => 1.0,
        Mode::Sample { .. } => pane.temperature(),
    };
    egui::CollapsingHeader::new("Partition function by annealing (AIS)")
        .id_salt(("rbm-ais", pane.side.letter(), looks.comparing))
        .default_open(!looks.comparing)
        .show(ui, |ui| {
            ais::panel_ui(
                ui,
                pane,
                &mut state.ais,
                AisCtx {
                    defaults: (v.ais.k, v.ais.m, v.ais.auto),
                    temperature: t,
                    what: if t == 1.0 { "ln Z" } else { "ln Z(T)" },
                    exact_curve,
                    actions,
                },
            );
        });
}

/// The exact `ln Z` over the run from the plotted history (its observable).
fn exact_ln_z_curve(pane: &RunPane) -> Vec<[f64; 2]> {
    let Some(latest) = &pane.latest else {
        return Vec::new();
    };
    let Some(i) = latest
        .observables
        .iter()
        .position(|o| o.column == "exact_ln_z")
    else {
        return Vec::new();
    };
    let mut pts = Vec::new();
    let last = pane.step().max(1) as f64;
    pane.history
        .envelope(Metric::observable(i), 0.0, last, 400, &mut pts);
    pts.retain(|p| p[1].is_finite());
    pts
}

/// The machine's settings. True when anything changed (every change restarts the run).
pub fn controls_ui(ui: &mut Ui, c: &mut RbmConfig) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        changed |= ui
            .add(Slider::new(&mut c.width, limits::SIDE).text("width"))
            .changed();
        changed |= ui
            .add(Slider::new(&mut c.height, limits::SIDE).text("height"))
            .changed();
    });
    changed |= ui
        .add(Slider::new(&mut c.hidden, limits::HIDDEN).text("Hidden units"))
        .on_hover_text("Exact sums run over the smaller layer: at most 2^16 terms")
        .changed();
    let label = match c.patterns {
        Patterns::BarsAndStripes => "Bars and stripes",
        Patterns::Shapes => "Shapes",
        Patterns::List(_) => "The preset's own list",
    };
    ComboBox::from_label("Data")
        .selected_text(label)
        .show_ui(ui, |ui| {
            for (p, name) in [
                (Patterns::BarsAndStripes, "Bars and stripes"),
                (Patterns::Shapes, "Shapes"),
            ] {
                if ui.selectable_label(label == name, name).clicked() && label != name {
                    c.patterns = p;
                    changed = true;
                }
            }
        })
        .response
        .on_hover_text("Bars and stripes: every image whose rows, or whose columns, are all on or all off (14 on 3x3, 30 on 4x4)");
    let sampling = matches!(c.mode, Mode::Sample { .. });
    ComboBox::from_label("Mode")
        .selected_text(if sampling { "Sample at T" } else { "Learn" })
        .show_ui(ui, |ui| {
            if ui.selectable_label(!sampling, "Learn").clicked() && sampling {
                c.mode = Mode::default();
                changed = true;
            }
            if ui.selectable_label(sampling, "Sample at T").clicked() && !sampling {
                c.mode = Mode::Sample {
                    chains: 32,
                    pretrain: 500,
                };
                changed = true;
            }
        })
        .response
        .on_hover_text("Learn: one full-batch update per step (T unused). Sample: fixed weights (pretrained), one Gibbs sweep of every chain per step at the schedule's T");
    match &mut c.mode {
        Mode::Learn { learning, lr } => {
            let name = match learning {
                Learning::Exact => "Exact gradient",
                Learning::Cd { .. } => "Contrastive divergence (CD-k)",
                Learning::Pcd { .. } => "Persistent CD",
            };
            ComboBox::from_label("Gradient")
                .selected_text(name)
                .show_ui(ui, |ui| {
                    for (l, n) in [
                        (Learning::Exact, "Exact gradient"),
                        (Learning::Cd { k: 1 }, "Contrastive divergence (CD-k)"),
                        (Learning::Pcd { k: 1, chains: 100 }, "Persistent CD"),
                    ] {
                        if ui.selectable_label(name == n, n).clicked() && name != n {
                            *learning = l;
                            changed = true;
                        }
                    }
                })
                .response
                .on_hover_text("The model term <v h>_model of the gradient: summed exactly, or from k Gibbs steps started at the data (CD) or from persistent chains (PCD)");
            match learning {
                Learning::Exact => {}
                Learning::Cd { k } => {
                    changed |= ui
                        .add(
                            Slider::new(k, 1..=100)
                                .logarithmic(true)
                                .text("Gibbs steps k"),
                        )
                        .changed();
                }
                Learning::Pcd { k, chains } => {
                    changed |= ui
                        .add(
                            Slider::new(k, 1..=100)
                                .logarithmic(true)
                                .text("Gibbs steps k"),
                        )
                        .changed();
                    changed |= ui
                        .add(
                            Slider::new(chains, 1..=1000)
                                .logarithmic(true)
                                .text("chains"),
                        )
                        .changed();
                }
            }
            changed |= ui
                .add(
                    Slider::new(lr, 1e-3..=3.0)
                        .logarithmic(true)
                        .clamping(SliderClamping::Never)
                        .text("learning rate"),
                )
                .changed();
        }
        Mode::Sample { chains, pretrain } => {
            changed |= ui
                .add(Slider::new(chains, 1..=1000).logarithmic(true).text("chains"))
                .on_hover_text("Independent Gibbs chains; the energy is their total, the plots show it per chain")
                .changed();
            changed |= ui
                .add(
                    Slider::new(pretrain, 0..=5000)
                        .clamping(SliderClamping::Never)
                        .text("pretraining steps"),
                )
                .on_hover_text(format!(
                    "Exact-gradient updates (learning rate {}) that train the weights before sampling",
                    rbm::limits::PRETRAIN_LR
                ))
                .changed();
        }
    }
    changed |= ui
        .add(Slider::new(&mut c.momentum, limits::MOMENTUM).text("momentum"))
        .changed();
    changed |= ui
        .add(Slider::new(&mut c.init_scale, limits::INIT_SCALE).text("initial weight spread"))
        .changed();
    ui.horizontal(|ui| {
        ui.label("weight seed");
        changed |= ui.add(egui::DragValue::new(&mut c.seed)).changed();
    });
    changed
}
