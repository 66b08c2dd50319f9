//! The landscape view: the energy surface with its walkers, the trail of walker 0 and
//! (in slow runs) the last proposal as an arrow; beside it the exact Boltzmann density at
//! the current temperature and the walkers' histogram; and the thermodynamic readouts,
//! exact by quadrature and estimated from the walkers, with `<E>(T)` and `C(T)` curves.

use super::format::number;
use super::key::{self, Mark};
use super::kinds::ViewCtx;
use super::pane::RunPane;
use super::{Action, Looks, Notice};
use crate::colors;
use crate::sim::landscape::{CURVE_POINTS, EnergyGrid, LandscapeView};
use crate::sim::{LandscapeConfig, ProblemView, Surface, Thermo, limits};
use egui::{Color32, Slider, SliderClamping, Ui};
use egui_plot::{Arrows, Line, Plot, PlotImage, PlotPoint, PlotPoints, Points, VLine};
use std::sync::Arc;

/// Speeds at or below this many steps per second draw each proposal.
const SLOW: f64 = 30.0;

/// Textures and caches of the landscape view of one run.
#[derive(Default)]
pub struct LandscapeUi {
    energy_texture: Option<(Arc<EnergyGrid>, bool, egui::TextureHandle)>,
    density: Option<egui::TextureHandle>,
    histogram: Option<egui::TextureHandle>,
}

impl LandscapeUi {
    /// Re-draws the energy, density and histogram textures when they changed.
    fn update_textures(
        &mut self,
        ctx: &egui::Context,
        l: &LandscapeView,
        fresh: bool,
        t: f64,
        log: bool,
    ) {
        let grid = Arc::clone(&l.grid);
        if self
            .energy_texture
            .as_ref()
            .is_none_or(|(g, was_log, _)| !Arc::ptr_eq(g, &grid) || *was_log != log)
        {
            let pixels = colors::energy_pixels(&grid.energy, grid.side, log)
                .into_iter()
                .map(rgb)
                .collect();
            let image = egui::ColorImage::new([grid.side, grid.side], pixels);
            let tex = ctx.load_texture("landscape", image, egui::TextureOptions::LINEAR);
            self.energy_texture = Some((Arc::clone(&grid), log, tex));
        }
        if !fresh && self.density.is_some() {
            return;
        }
        texture(
            ctx,
            &mut self.density,
            "boltzmann",
            density_image(&grid.boltzmann(t), grid.side),
        );
        // About two walkers per occupied cell keeps the histogram readable.
        let side = ((l.walkers.len() as f64 / 2.0).sqrt() as usize).clamp(6, 48);
        let bins = EnergyGrid {
            bounds: grid.bounds,
            side,
            energy: Vec::new(),
        };
        let mut counts = vec![0.0; side * side];
        for w in &l.walkers {
            if let Some(c) = bins.cell(w[0], w[1]) {
                counts[c] += 1.0;
            }
        }
        texture(
            ctx,
            &mut self.histogram,
            "histogram",
            density_image(&counts, side),
        );
    }
}

fn rgb(c: [u8; 3]) -> Color32 {
    Color32::from_rgb(c[0], c[1], c[2])
}

/// Probabilities on a `g x g` grid (rows from low y) as an image, top row = high y.
fn density_image(p: &[f64], g: usize) -> egui::ColorImage {
    let max = p.iter().cloned().fold(0.0, f64::max).max(1e-300);
    let mut pixels = Vec::with_capacity(g * g);
    for r in (0..g).rev() {
        for c in 0..g {
            pixels.push(rgb(colors::energy((p[r * g + c] / max) as f32)));
        }
    }
    egui::ColorImage::new([g, g], pixels)
}

fn texture(
    ctx: &egui::Context,
    slot: &mut Option<egui::TextureHandle>,
    name: &str,
    image: egui::ColorImage,
) {
    match slot {
        Some(t) => t.set(image, egui::TextureOptions::LINEAR),
        None => *slot = Some(ctx.load_texture(name, image, egui::TextureOptions::LINEAR)),
    }
}

fn image_item(name: &str, tex: &egui::TextureHandle, bounds: [[f64; 2]; 2]) -> PlotImage {
    let [lo, hi] = bounds;
    PlotImage::new(
        name,
        tex.id(),
        PlotPoint::new((lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0),
        egui::vec2((hi[0] - lo[0]) as f32, (hi[1] - lo[1]) as f32),
    )
}

/// One run's walkers on its landscape: the underlay, the trail of walker 0, the other
/// tempering replicas in their temperatures' colours, the walkers, and (when slow) the
/// last proposal.
#[expect(
    clippy::too_many_arguments,
    reason = "a drawing routine with its inputs spelled out"
)]
fn walkers_plot(
    ui: &mut egui::Ui,
    id: &str,
    l: &LandscapeView,
    underlay: &egui::TextureHandle,
    underlay_name: &str,
    [width, height]: [f32; 2],
    slow: bool,
    tempering: Option<&crate::trainer::TemperingSnapshot>,
) {
    let bounds = l.grid.bounds;
    Plot::new(id)
        .data_aspect(1.0)
        .width(width)
        .height(height)
        .show(ui, |p| {
            p.image(image_item(underlay_name, underlay, bounds));
            p.line(
                Line::new(
                    "trail of walker 0",
                    PlotPoints::from(l.trail.iter().map(|w| [w[0], w[1]]).collect::<Vec<_>>()),
                )
                .color(TRAIL),
            );
            if let Some(t) = tempering {
                let k = t.ladder.len();
                for (i, view) in t.views.iter().enumerate().skip(1).rev() {
                    let ProblemView::Landscape(r) = view else {
                        continue;
                    };
                    p.points(
                        Points::new(
                            format!("T = {:.2e}", t.ladder[i]),
                            r.walkers.iter().map(|w| [w[0], w[1]]).collect::<Vec<_>>(),
                        )
                        .radius(2.0)
                        .color(super::tempering::slot_color(i, k).gamma_multiply(0.7)),
                    );
                }
            }
            p.points(
                Points::new(
                    "walkers",
                    l.walkers.iter().map(|w| [w[0], w[1]]).collect::<Vec<_>>(),
                )
                .radius(2.5)
                .color(rgb(colors::WALKER)),
            );
            if slow && let Some((from, to, accepted)) = l.last_move {
                // Shape as well as colour: an accepted move is a solid arrow, a rejected
                // one a dashed line ending in a cross.
                if accepted {
                    p.arrows(Arrows::new("accepted move", vec![from], vec![to]).color(ACCEPTED));
                } else {
                    p.line(
                        Line::new("rejected move", PlotPoints::from(vec![from, to]))
                            .color(REJECTED)
                            .style(egui_plot::LineStyle::dashed_dense()),
                    );
                    p.points(
                        Points::new("rejected move", vec![to])
                            .shape(egui_plot::MarkerShape::Cross)
                            .radius(6.0)
                            .color(REJECTED),
                    );
                }
            }
        });
    ui.horizontal_wrapped(|ui| {
        key::marker(ui, "walkers", Mark::Circle, true, rgb(colors::WALKER));
        key::line(ui, "trail of walker 0", TRAIL, false);
        if tempering.is_some() {
            key::marker(
                ui,
                "hotter replicas (blue to red)",
                Mark::Circle,
                true,
                super::tempering::slot_color(1, 2),
            );
        }
        if slow {
            key::line(ui, "accepted", ACCEPTED, false);
            key::marker(ui, "rejected", Mark::Cross, false, REJECTED);
        }
    });
}

/// Colour of the trail of walker 0.
const TRAIL: Color32 = Color32::from_rgb(255, 210, 60);
/// Colour of an accepted proposal.
const ACCEPTED: Color32 = Color32::from_rgb(60, 200, 80);
/// Colour of a rejected proposal.
const REJECTED: Color32 = Color32::from_rgb(230, 60, 60);
/// Height of the key under the walkers.
const KEY_HEIGHT: f32 = 24.0;

/// The walkers of one run on their landscape, and the exact density and the walkers'
/// histogram below.
pub fn view_ui(
    ui: &mut Ui,
    pane: &RunPane,
    state: &mut LandscapeUi,
    l: &LandscapeView,
    ctx: &mut ViewCtx<'_, '_>,
) {
    let looks = &mut *ctx.looks;
    let t = pane.temperature();
    let log = looks.saved.log_landscape;
    state.update_textures(ui.ctx(), l, pane.view_changed, t, log);
    let Some((_, _, energy_tex)) = &state.energy_texture else {
        return;
    };
    let density_underlay = looks.saved.density_underlay;
    let underlay = match (&state.density, density_underlay) {
        (Some(d), true) => d.clone(),
        _ => energy_tex.clone(),
    };
    let bounds = l.grid.bounds;
    let slow = looks
        .pace
        .steps_per_second(pane.config.steps)
        .is_some_and(|r| r <= SLOW);
    ui.strong(format!(
        "{}: {} walkers at T = {}",
        l.surface.label(),
        l.walkers.len(),
        number(t)
    ));
    // Wrapped: two runs side by side leave each view too narrow for one line.
    ui.horizontal_wrapped(|ui| {
        ui.checkbox(&mut looks.saved.log_landscape, "log colour scale")
            .on_hover_text("Colour by ln(1 + E - E_min): shows both deep basins and high ridges");
        ui.checkbox(
            &mut looks.saved.density_underlay,
            "Boltzmann density underneath",
        )
        .on_hover_text("Draw exp(-E/T)/Z at the current T under the walkers instead of E");
    });
    let width = ui.available_width();
    let side = width
        .min(ui.available_height() * 0.62 - KEY_HEIGHT)
        .max(60.0);
    let underlay_name = if density_underlay {
        "exp(-E/T)/Z"
    } else {
        "E(x, y)"
    };
    walkers_plot(
        ui,
        &format!("landscape-{}", pane.side.letter()),
        l,
        &underlay,
        underlay_name,
        [width, side],
        slow,
        pane.tempering.latest.as_ref(),
    );
    let half = (width - ui.spacing().item_spacing.x) / 2.0;
    let small = half.min(ui.available_height() - 24.0).max(60.0);
    ui.horizontal(|ui| {
        for (title, tex) in [
            ("exact exp(-E/T)/Z", &state.density),
            ("walkers' histogram", &state.histogram),
        ] {
            ui.vertical(|ui| {
                ui.label(title);
                if let Some(tex) = tex {
                    Plot::new(format!("{title}-{}", pane.side.letter()))
                        .data_aspect(1.0)
                        .width(half)
                        .height(small)
                        .show_axes(false)
                        .show_grid(false)
                        .allow_drag(false)
                        .allow_zoom(false)
                        .allow_scroll(false)
                        .show(ui, |p| p.image(image_item(title, tex, bounds)));
                }
            });
        }
    });
}

/// One of the thermodynamic quantities.
type Field = fn(&Thermo) -> f64;

/// What the exact column is and how it is computed.
const EXACT_TIP: &str = "Exact: Z = integral of exp(-E/T) over the box by adaptive quadrature (Genz-Malik cubature, refined where the Boltzmann weight sits, however narrow), accurate to 1e-3 relative. Greyed out, with the reason, when that accuracy cannot be reached at this T.";
/// What the walkers' column is and how it is estimated.
const WALKERS_TIP: &str = "Estimated from the walkers as M samples of exp(-E/T)/Z (right only in equilibrium): <E> their mean energy, C the unbiased variance of their energies over T^2, S the Kozachenko-Leonenko nearest-neighbour entropy of their positions (k = 3), F = <E> - T S, ln Z = -F/T. With one walker only <E>.";
/// Colour of the marks of the current temperature and of the heat-capacity peak.
const NOW: Color32 = Color32::from_rgb(220, 80, 60);
const PEAK: Color32 = Color32::from_rgb(140, 140, 140);
/// Colour of the exact curves.
const CURVE: Color32 = Color32::from_rgb(80, 140, 230);

/// Readouts (exact and from the walkers) and the `<E>(T)`, `C(T)` curves of one run, as
/// the trainer computed them (nothing is computed here).
pub fn readouts_ui(
    ui: &mut Ui,
    pane: &RunPane,
    _state: &mut LandscapeUi,
    l: &LandscapeView,
    looks: &Looks,
) {
    if looks.comparing {
        ui.strong(format!("Run {}", pane.side.letter()));
    }
    let Some(r) = &l.readouts else {
        ui.weak("Readouts: computing...");
        return;
    };
    egui::Grid::new(format!("thermo-{}", pane.side.letter()))
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            ui.strong(format!("at T = {}", number(r.temperature)))
                .on_hover_text("The temperature of the readouts (refreshed about ten times a second)");
            ui.strong("exact").on_hover_text(EXACT_TIP);
            ui.strong(format!("walkers (M = {})", l.walkers.len()))
                .on_hover_text(WALKERS_TIP);
            ui.end_row();
            let rows: [(&str, &str, Field); 5] = [
                (
                    "ln Z",
                    "ln of the partition function Z = integral of exp(-E/T) over the box (Z itself overflows at low T)",
                    |t| t.ln_z,
                ),
                ("F = -T ln Z", "free energy", |t| t.free_energy),
                ("<E>", "mean energy", |t| t.mean_energy),
                (
                    "S = (<E> - F)/T",
                    "entropy of the positions (walkers: Kozachenko-Leonenko nearest-neighbour estimate)",
                    |t| t.entropy,
                ),
                (
                    "C = Var(E)/T^2",
                    "heat capacity: peaks where the system freezes (walkers: the spread of their energies)",
                    |t| t.heat_capacity,
                ),
            ];
            for (name, tip, f) in rows {
                ui.label(name).on_hover_text(tip);
                match &r.exact {
                    Ok(th) => {
                        ui.monospace(number(f(th)));
                    }
                    Err(e) => {
                        ui.weak("-").on_hover_text(&e.reason);
                    }
                }
                ui.monospace(number(f(&r.walkers)));
                ui.end_row();
            }
        });
    if let Err(e) = &r.exact {
        ui.weak(format!("Exact values unavailable: {}", e.reason));
    }
    let Some(curve) = &l.curve else {
        return;
    };
    // `(log10 T, <E>, C)` where exact.
    let pts: Vec<[f64; 3]> = curve
        .points
        .iter()
        .filter_map(|(t, th)| {
            th.as_ref()
                .ok()
                .map(|th| [t.log10(), th.mean_energy, th.heat_capacity])
        })
        .collect();
    if curve.remaining > 0 {
        ui.weak(format!(
            "Exact curves: {} of {CURVE_POINTS} temperatures computed...",
            CURVE_POINTS - curve.remaining
        ));
    } else if pts.len() < curve.points.len() {
        let why = curve
            .points
            .iter()
            .find_map(|(t, th)| th.as_ref().err().map(|e| (t, e)));
        if let Some((t, e)) = why {
            ui.weak(format!(
                "{} of {CURVE_POINTS} temperatures left out (at T = {}: {})",
                curve.points.len() - pts.len(),
                number(*t),
                e.reason
            ));
        }
    }
    // Two runs' readouts share the column with the live plots: both small, alike.
    let height = if looks.comparing {
        90.0
    } else {
        (ui.available_height() * 0.3).clamp(80.0, 200.0)
    };
    let half = (ui.available_width() - ui.spacing().item_spacing.x) / 2.0;
    let now = pane.temperature().log10();
    ui.horizontal(|ui| {
        for (id, name, k) in [
            // Short names: a plot squeezed to its least height must still hold its
            // y-axis label, which would otherwise run up over the table.
            ("mean-energy", "exact <E>", 1),
            ("heat-capacity", "exact C", 2),
        ] {
            Plot::new(format!("{id}-{}", pane.side.letter()))
                .width(half)
                .height(height)
                .x_axis_label("temperature T (log)")
                .y_axis_label(name)
                .x_axis_formatter(|m, _| number(10f64.powf(m.value)))
                .y_axis_formatter(|m, _| number(m.value))
                .show(ui, |p| {
                    let line: Vec<[f64; 2]> = pts.iter().map(|c| [c[0], c[k]]).collect();
                    p.line(Line::new(name, PlotPoints::from(line)).color(CURVE));
                    p.vline(VLine::new("now", now).color(NOW));
                    if let Some((t, c)) = curve.peak {
                        p.vline(
                            VLine::new(
                                format!(
                                    "C peak (freezing): C = {} at T = {}",
                                    number(c),
                                    number(t)
                                ),
                                t.log10(),
                            )
                            .color(PEAK),
                        );
                    }
                });
        }
    });
    if let Some((t, c)) = curve.peak {
        ui.weak(format!(
            "C peak (freezing): C = {} at T = {}",
            number(c),
            number(t)
        ));
    }
}

/// The landscape's settings: walkers, and the tilt or the formula. True when anything
/// changed.
pub fn controls_ui(
    ui: &mut Ui,
    c: &mut LandscapeConfig,
    looks: &mut Looks,
    actions: &mut Vec<Action>,
) -> bool {
    let mut changed = ui
        .add(
            Slider::new(&mut c.walkers, limits::WALKERS)
                .clamping(SliderClamping::Never)
                .logarithmic(true)
                .text("Walkers"),
        )
        .on_hover_text(
            "Independent chains at the same temperature; their histogram approaches the Boltzmann distribution.",
        )
        .changed();
    // The settings besides the surface, for checking a typed formula with them.
    let others = matches!(c.surface, Surface::Formula(_)).then(|| c.clone());
    match &mut c.surface {
        Surface::DoubleWell { tilt } => {
            changed |= ui
                .add(
                    Slider::new(tilt, limits::slider::TILT)
                        .clamping(SliderClamping::Never)
                        .text("Tilt"),
                )
                .on_hover_text("A positive tilt makes the left basin deeper.")
                .changed();
        }
        Surface::Formula(text) => {
            let edit = looks.state.formula_edit.get_or_insert_with(|| text.clone());
            ui.horizontal(|ui| {
                ui.label("E(x, y) =");
                ui.text_edit_singleline(edit);
            });
            if ui.button("Apply formula").clicked() {
                // Checked as a whole (capped in length, finite on most of the box, the
                // start off any wall) before the trainer gets it.
                let tried = LandscapeConfig {
                    surface: Surface::Formula(edit.clone()),
                    ..others.unwrap_or_default()
                };
                match tried.validate() {
                    Ok(()) => {
                        *text = edit.clone();
                        changed = true;
                    }
                    Err(e) => actions.push(Action::Notice(Notice::error(None, e.to_string()))),
                }
            }
        }
        _ => {}
    }
    changed
}
