//! The Ising view: the lattice as an image (one texel per spin, zoomable, updated live
//! whenever the trainer sends a new view), and beside the plots the energy per spin, `|m|`,
//! the heat capacity and the susceptibility against the temperature or against the step,
//! with the exact curves underneath (Onsager and Yang for the infinite lattice, Kaufman for
//! this `L x L` torus) and `T_c` marked.

use super::Looks;
use super::format::number;
use super::key::{self, Mark};
use super::kinds::ViewCtx;
use super::pane::RunPane;
use crate::sim::ising::{
    Coupling, DOWN_RGBA, ExactCurves, ExactPoint, IsingConfig, IsingView, Order, Start, T_C,
    Update, limits,
};
use crate::sim::{History, Metric, StepRecord};
use egui::{Color32, Slider, SliderClamping, TextureFilter, TextureOptions, Ui};
use egui_plot::{
    Line, LineStyle, MarkerShape, Plot, PlotImage, PlotPoint, PlotPoints, Points, VLine,
};

/// Texture filtering of the lattice: one sharp square per spin when zoomed in; averaged
/// (mipmapped) when a large lattice is shown smaller than one pixel per spin, so that it
/// does not shimmer.
const LATTICE_TEXTURE: TextureOptions = TextureOptions {
    magnification: TextureFilter::Nearest,
    minification: TextureFilter::Linear,
    wrap_mode: egui::TextureWrapMode::ClampToEdge,
    mipmap_mode: Some(TextureFilter::Linear),
};

/// Points drawn per measured curve at most.
const MAX_POINTS: usize = 1200;

/// Colours of the measured curves: e, |m|, C, chi.
const MEASURED: [Color32; 4] = [
    Color32::from_rgb(80, 140, 230),
    Color32::from_rgb(230, 160, 40),
    Color32::from_rgb(220, 80, 60),
    Color32::from_rgb(40, 170, 170),
];
/// Colour of the exact curves.
const EXACT: Color32 = Color32::from_gray(150);
/// Colour of the `T_c` and current-T markers.
const CRITICAL: Color32 = Color32::from_rgb(170, 110, 220);

/// Textures and choices of the Ising view of one run.
#[derive(Default)]
pub struct IsingUi {
    texture: Option<(usize, egui::TextureHandle)>,
    /// Plot against the step instead of the temperature; `None`: against the step when the
    /// temperature has not changed (a run at fixed T), else against T.
    against_steps: Option<bool>,
}

fn color(rgba: [u8; 4]) -> Color32 {
    Color32::from_rgb(rgba[0], rgba[1], rgba[2])
}

/// The lattice's pixels: one per spin, up spins amber, down spins navy.
pub fn lattice_image(v: &IsingView) -> egui::ColorImage {
    let (up, down) = (color(crate::sim::ising::UP_RGBA), color(DOWN_RGBA));
    let pixels = v
        .spins
        .iter()
        .map(|&s| if s != 0 { up } else { down })
        .collect();
    egui::ColorImage::new([v.size, v.size], pixels)
}

impl IsingUi {
    /// Re-draws the lattice texture when a new view arrived.
    fn update_texture(&mut self, ctx: &egui::Context, v: &IsingView, fresh: bool) {
        if v.spins.len() != v.size * v.size {
            return;
        }
        match &mut self.texture {
            Some((size, tex)) if *size == v.size => {
                if fresh {
                    tex.set(lattice_image(v), LATTICE_TEXTURE);
                }
            }
            _ => {
                let tex = ctx.load_texture("ising-lattice", lattice_image(v), LATTICE_TEXTURE);
                self.texture = Some((v.size, tex));
            }
        }
    }
}

/// What the update rule is called on screen.
fn update_label(u: Update) -> &'static str {
    match u {
        Update::Metropolis {
            order: Order::Checkerboard,
        } => "Metropolis (checkerboard)",
        Update::Metropolis {
            order: Order::Random,
        } => "Metropolis (random sites)",
        Update::HeatBath {
            order: Order::Checkerboard,
        } => "heat bath (checkerboard)",
        Update::HeatBath {
            order: Order::Random,
        } => "heat bath (random sites)",
        Update::Wolff => "Wolff clusters",
    }
}

/// The lattice of one run, zoomable (scroll or pinch; double-click resets).
pub fn view_ui(
    ui: &mut Ui,
    pane: &RunPane,
    state: &mut IsingUi,
    v: &IsingView,
    _ctx: &mut ViewCtx<'_, '_>,
) {
    state.update_texture(ui.ctx(), v, pane.view_changed);
    let t = pane.temperature();
    let model = IsingConfig {
        coupling: v.coupling,
        ..IsingConfig::default()
    }
    .label();
    ui.strong(format!(
        "{model}, {l} x {l}, {}: T = {}",
        update_label(v.update),
        number(t),
        l = v.size
    ));
    let critical = match v.coupling {
        Coupling::Ferro { j } if v.field == 0.0 => format!("T_c = {}", number(T_C * j.abs())),
        Coupling::Ferro { .. } => "in a field: no sharp transition".to_owned(),
        Coupling::SpinGlass { .. } => "frustrated: many nearly degenerate ground states".to_owned(),
    };
    ui.label(format!(
        "e = {}   m = {}   {critical}",
        number(v.energy_per_spin),
        number(v.magnetisation)
    ));
    let Some((_, tex)) = &state.texture else {
        return;
    };
    let key_height = 24.0;
    let width = ui.available_width();
    let side = width.min(ui.available_height() - key_height).max(60.0);
    let l = v.size as f64;
    Plot::new(format!("ising-lattice-{}", pane.side.letter()))
        .data_aspect(1.0)
        .width(width)
        .height(side)
        .show_grid(false)
        .include_x(0.0)
        .include_x(l)
        .include_y(0.0)
        .include_y(l)
        .show(ui, |p| {
            p.image(PlotImage::new(
                "spins",
                tex.id(),
                PlotPoint::new(l / 2.0, l / 2.0),
                egui::vec2(l as f32, l as f32),
            ));
        });
    ui.horizontal_wrapped(|ui| {
        key::marker(
            ui,
            "up",
            Mark::Square,
            true,
            color(crate::sim::ising::UP_RGBA),
        );
        key::marker(ui, "down", Mark::Square, true, color(DOWN_RGBA));
        ui.label("scroll to zoom, drag to pan, double-click to reset");
    });
}

/// The end values of (at most [`MAX_POINTS`] of) the history's buckets: `(step, T,
/// observables...)`.
fn samples(history: &History) -> Vec<(f64, [f64; StepRecord::METRICS])> {
    let buckets = history.buckets();
    let stride = buckets.len().div_ceil(MAX_POINTS).max(1);
    buckets
        .iter()
        .step_by(stride)
        .map(|b| (b.last as f64, b.end))
        .collect()
}

/// One quantity of the plots: its observable column, axis name, and exact values.
struct Quantity {
    column: &'static str,
    name: &'static str,
    /// The exact values of this quantity: (this L x L torus, the infinite lattice).
    exact: fn(&ExactPoint) -> (f64, f64),
}

const QUANTITIES: [Quantity; 4] = [
    Quantity {
        column: "energy_per_spin",
        name: "energy per spin e",
        exact: |p| (p.finite_energy, p.energy),
    },
    Quantity {
        column: "abs_magnetisation",
        name: "|m|",
        exact: |p| (f64::NAN, p.magnetisation),
    },
    Quantity {
        column: "heat_capacity",
        name: "C = N Var(e)/T^2",
        exact: |p| (p.finite_heat_capacity, p.heat_capacity),
    },
    Quantity {
        column: "susceptibility",
        name: "chi = N Var(|m|)/T",
        exact: |_| (f64::NAN, f64::NAN),
    },
];

/// Splits `pts` where the value is not finite, so lines do not jump across gaps.
fn finite_runs(pts: impl Iterator<Item = [f64; 2]>) -> Vec<Vec<[f64; 2]>> {
    let mut runs = vec![Vec::new()];
    for p in pts {
        if p[0].is_finite() && p[1].is_finite() {
            if let Some(r) = runs.last_mut() {
                r.push(p);
            }
        } else if runs.last().is_some_and(|r| !r.is_empty()) {
            runs.push(Vec::new());
        }
    }
    runs.retain(|r| r.len() > 1);
    runs
}

/// The exact curves and the measured values of one quantity against `T` or the step.
#[expect(
    clippy::too_many_arguments,
    reason = "a drawing routine with its inputs spelled out"
)]
fn quantity_plot(
    ui: &mut Ui,
    id: String,
    q: &Quantity,
    k: usize,
    data: &[(f64, [f64; StepRecord::METRICS])],
    index: Option<usize>,
    exact: Option<&ExactCurves>,
    t_range: [f64; 2],
    t_now: f64,
    against_steps: bool,
    [width, height]: [f32; 2],
) {
    let value =
        |m: &[f64; StepRecord::METRICS]| index.map_or(f64::NAN, |i| m[Metric::observable(i).0]);
    let t_of = |m: &[f64; StepRecord::METRICS]| m[Metric::TEMPERATURE.0];
    let mut plot = Plot::new(id)
        .width(width)
        .height(height)
        .y_axis_label(q.name)
        .x_axis_label(if against_steps {
            "step"
        } else {
            "temperature T"
        })
        .x_axis_formatter(|m, _| number(m.value))
        .y_axis_formatter(|m, _| number(m.value))
        .y_axis_min_width(40.0)
        .allow_scroll(false);
    if !against_steps {
        plot = plot.include_x(t_range[0]).include_x(t_range[1]);
    }
    if q.column == "abs_magnetisation" {
        plot = plot.include_y(0.0).include_y(1.0);
    } else if q.column != "energy_per_spin" {
        plot = plot.include_y(0.0);
    }
    plot.show(ui, |p| {
        let exact_lines = |p: &mut egui_plot::PlotUi<'_>, pts: Vec<(f64, (f64, f64))>| {
            for run in finite_runs(pts.iter().map(|(x, v)| [*x, v.1])) {
                p.line(
                    Line::new("infinite lattice (exact)", PlotPoints::from(run))
                        .color(EXACT)
                        .style(LineStyle::dashed_dense()),
                );
            }
            for run in finite_runs(pts.iter().map(|(x, v)| [*x, v.0])) {
                p.line(
                    Line::new("this L x L torus (exact)", PlotPoints::from(run))
                        .color(EXACT)
                        .width(2.0),
                );
            }
        };
        if against_steps {
            if let Some(ex) = exact {
                let pts = data
                    .iter()
                    .map(|(step, m)| {
                        let v = ex
                            .at(t_of(m))
                            .map_or((f64::NAN, f64::NAN), |e| (q.exact)(&e));
                        (*step, v)
                    })
                    .collect();
                exact_lines(p, pts);
            }
            for run in finite_runs(data.iter().map(|(step, m)| [*step, value(m)])) {
                p.line(Line::new(q.name, PlotPoints::from(run)).color(MEASURED[k]));
            }
            // Where the run crossed T_c (each time).
            if let Some(ex) = exact {
                for w in data.windows(2) {
                    let (a, b) = (t_of(&w[0].1), t_of(&w[1].1));
                    if (a - ex.critical) * (b - ex.critical) < 0.0 {
                        p.vline(
                            VLine::new("T_c", w[1].0)
                                .color(CRITICAL)
                                .style(LineStyle::dotted_dense()),
                        );
                    }
                }
            }
        } else {
            if let Some(ex) = exact {
                let pts = ex
                    .points
                    .iter()
                    .filter(|e| (t_range[0]..=t_range[1]).contains(&e.temperature))
                    .map(|e| (e.temperature, (q.exact)(e)))
                    .collect();
                exact_lines(p, pts);
                p.vline(
                    VLine::new("T_c", ex.critical)
                        .color(CRITICAL)
                        .style(LineStyle::dotted_dense()),
                );
            }
            let pts: Vec<[f64; 2]> = data
                .iter()
                .map(|(_, m)| [t_of(m), value(m)])
                .filter(|p| p[0].is_finite() && p[1].is_finite())
                .collect();
            p.points(
                Points::new(q.name, pts)
                    .shape(MarkerShape::Circle)
                    .radius(1.5)
                    .color(MEASURED[k]),
            );
            p.vline(VLine::new("now", t_now).color(MEASURED[2].gamma_multiply(0.6)));
        }
    });
}

/// The plots of one Ising run: `e`, `|m|`, `C`, `chi` against `T` (or the step), with the
/// exact curves underneath.
pub fn readouts_ui(ui: &mut Ui, pane: &RunPane, state: &mut IsingUi, v: &IsingView, looks: &Looks) {
    let Some(latest) = &pane.latest else {
        return;
    };
    let t_now = latest.schedule.temperature();
    let exact = v.exact.as_deref();
    let data = samples(&pane.history);
    // The temperatures seen, widened to show T_c's neighbourhood.
    let (seen_lo, seen_hi) = data
        .iter()
        .map(|(_, m)| m[Metric::TEMPERATURE.0])
        .filter(|t| t.is_finite())
        .fold((t_now, t_now), |(a, b), t| (a.min(t), b.max(t)));
    let mut against_steps = state
        .against_steps
        .unwrap_or(seen_hi - seen_lo <= 0.02 * seen_hi);
    ui.horizontal_wrapped(|ui| {
        if looks.comparing {
            ui.strong(format!("Run {}:", pane.side.letter()));
        }
        ui.label("against");
        let t = ui.selectable_value(&mut against_steps, false, "T");
        let steps = ui.selectable_value(&mut against_steps, true, "steps")
            .on_hover_text("The exact value at each step's temperature is drawn underneath: where the run lags behind it, it is out of equilibrium.");
        if t.clicked() || steps.clicked() {
            state.against_steps = Some(against_steps);
        }
        key::marker(ui, "measured", Mark::Circle, true, MEASURED[0]);
        if exact.is_some() {
            key::line(ui, &format!("exact, {l} x {l} (Kaufman)", l = v.size), EXACT, false);
            key::line(ui, "exact, infinite (Onsager, Yang)", EXACT, true);
            key::line(ui, "T_c", CRITICAL, true);
        } else {
            ui.label("(no exact solution for this model)");
        }
    });
    let (mut lo, mut hi) = (seen_lo, seen_hi);
    if let Some(ex) = exact {
        lo = lo.min(ex.critical * 0.8);
        hi = hi.max(ex.critical * 1.25);
    }
    let pad = (hi - lo) * 0.03;
    let t_range = [lo - pad, hi + pad];
    let gap = ui.spacing().item_spacing.x;
    let width = ((ui.available_width() - gap) / 2.0).max(80.0);
    let height = (ui.available_height() * 0.2).clamp(110.0, 180.0);
    for row in QUANTITIES.chunks(2).enumerate() {
        let (r, pair) = row;
        ui.horizontal(|ui| {
            for (c, q) in pair.iter().enumerate() {
                let k = 2 * r + c;
                let index = latest.observables.iter().position(|o| o.column == q.column);
                quantity_plot(
                    ui,
                    format!("ising-{}-{}", q.column, pane.side.letter()),
                    q,
                    k,
                    &data,
                    index,
                    exact,
                    t_range,
                    t_now,
                    against_steps,
                    [width, height],
                );
            }
        });
    }
}

/// The lattice's settings. True when anything changed (which restarts the run).
pub fn controls_ui(ui: &mut Ui, c: &mut IsingConfig) -> bool {
    let mut changed = ui
        .add(
            Slider::new(&mut c.size, limits::SIZE)
                .logarithmic(true)
                .clamping(SliderClamping::Always)
                .text("Lattice side L"),
        )
        .on_hover_text("L x L spins on a torus (periodic boundaries): N = L^2 spins, 2N bonds.")
        .changed();
    let glass = matches!(c.coupling, Coupling::SpinGlass { .. });
    egui::ComboBox::from_label("Couplings")
        .selected_text(match c.coupling {
            Coupling::Ferro { j } if j < 0.0 => "antiferromagnet",
            Coupling::Ferro { .. } => "ferromagnet",
            Coupling::SpinGlass { .. } => "spin glass (+-1)",
        })
        .show_ui(ui, |ui| {
            let choices = [
                ("ferromagnet", Coupling::Ferro { j: 1.0 }),
                ("antiferromagnet", Coupling::Ferro { j: -1.0 }),
                ("spin glass (+-1)", Coupling::SpinGlass { seed: 1 }),
            ];
            for (name, choice) in choices {
                let same = std::mem::discriminant(&choice) == std::mem::discriminant(&c.coupling)
                    && match (choice, c.coupling) {
                        (Coupling::Ferro { j: a }, Coupling::Ferro { j: b }) => {
                            (a < 0.0) == (b < 0.0)
                        }
                        _ => true,
                    };
                if ui.selectable_label(same, name).clicked() && !same {
                    c.coupling = choice;
                    changed = true;
                }
            }
        })
        .response
        .on_hover_text("E = -sum J_ij s_i s_j - h sum s_i. Ferromagnet: J = j > 0 aligns neighbours; antiferromagnet: j < 0 anti-aligns them; spin glass: J_ij = +-1 at random (Edwards-Anderson), frustrated.");
    match &mut c.coupling {
        Coupling::Ferro { j } => {
            changed |= ui
                .add(
                    Slider::new(j, limits::J)
                        .clamping(SliderClamping::Always)
                        .text("Coupling j"),
                )
                .on_hover_text("Energy scale of a bond: T_c = 2.269 |j|.")
                .changed();
        }
        Coupling::SpinGlass { seed } => {
            changed |= ui
                .add(egui::DragValue::new(seed).prefix("instance seed "))
                .on_hover_text(
                    "Which random couplings: the same seed and size give the same glass.",
                )
                .changed();
        }
    }
    changed |= ui
        .add(
            Slider::new(&mut c.field, -2.0..=2.0)
                .clamping(SliderClamping::Never)
                .text("Field h"),
        )
        .on_hover_text("External field: favours up spins (h > 0) and smooths the transition away.")
        .changed();
    let wolff_ok = !glass && c.field == 0.0;
    if c.update == Update::Wolff && !wolff_ok {
        c.update = Update::default();
        changed = true;
    }
    egui::ComboBox::from_label("Update")
        .selected_text(update_label(c.update))
        .show_ui(ui, |ui| {
            let moves = [
                Update::Metropolis {
                    order: Order::Checkerboard,
                },
                Update::Metropolis {
                    order: Order::Random,
                },
                Update::HeatBath {
                    order: Order::Checkerboard,
                },
                Update::HeatBath {
                    order: Order::Random,
                },
                Update::Wolff,
            ];
            for u in moves {
                let enabled = u != Update::Wolff || wolff_ok;
                let r = ui.add_enabled(
                    enabled,
                    egui::Button::selectable(c.update == u, update_label(u)),
                );
                let r = if enabled {
                    r
                } else {
                    r.on_disabled_hover_text("Wolff clusters need uniform couplings and h = 0")
                };
                if r.clicked() && c.update != u {
                    c.update = u;
                    changed = true;
                }
            }
        })
        .response
        .on_hover_text("One step is one sweep: N single-spin updates (Metropolis: accept min(1, exp(-dE/T)); heat bath: set the spin from its local Boltzmann weights), or Wolff clusters flipping about N spins, which cure critical slowing down.");
    egui::ComboBox::from_label("Start")
        .selected_text(match c.start {
            Start::Random => "random (hot)",
            Start::Up => "all up (cold)",
        })
        .show_ui(ui, |ui| {
            for (s, name) in [
                (Start::Random, "random (hot)"),
                (Start::Up, "all up (cold)"),
            ] {
                if ui.selectable_label(c.start == s, name).clicked() && c.start != s {
                    c.start = s;
                    changed = true;
                }
            }
        });
    changed
}
