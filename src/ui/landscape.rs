//! The landscape view: the energy surface with its walkers, the trail of walker 0 and
//! (in slow runs) the last proposal as an arrow; beside it the exact Boltzmann density at
//! the current temperature and the walkers' histogram; and the thermodynamic readouts,
//! exact by quadrature and estimated from the walkers, with `<E>(T)` and `C(T)` curves.

use super::App;
use crate::colors;
use crate::sim::landscape::{EnergyGrid, Thermo, walker_thermo};
use crate::trainer::{LandscapeSnapshot, Speed};
use egui::Color32;
use egui_plot::{Arrows, Legend, Line, Plot, PlotImage, PlotPoint, PlotPoints, Points, VLine};
use std::sync::Arc;

/// Speeds at or below this many steps per second draw each proposal.
const SLOW: f64 = 30.0;

/// Exact curves for one grid and temperature range: `(log10 T, <E>, C)` rows.
type Curves = (Arc<EnergyGrid>, [f64; 2], Vec<[f64; 3]>);

/// Textures and caches of the landscape view.
#[derive(Default)]
pub struct LandscapeState {
    /// The latest walkers.
    pub latest: Option<LandscapeSnapshot>,
    energy_texture: Option<(Arc<EnergyGrid>, bool, egui::TextureHandle)>,
    density: Option<egui::TextureHandle>,
    histogram: Option<egui::TextureHandle>,
    fresh: bool,
    /// `(log10 T, <E>, C)` over the schedule's range, for one grid and range.
    curves: Option<Curves>,
}

impl LandscapeState {
    /// Re-draws the energy, density and histogram textures when they changed.
    pub(super) fn update_textures(&mut self, ctx: &egui::Context, t: f64, log: bool) {
        let Some(l) = &self.latest else {
            return;
        };
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
        if !self.fresh {
            return;
        }
        self.fresh = false;
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

    /// Takes in a snapshot's landscape part.
    pub fn absorb(&mut self, l: Option<LandscapeSnapshot>) {
        self.fresh = l.is_some();
        self.latest = l;
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
    l: &LandscapeSnapshot,
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
        .legend(Legend::default())
        .show(ui, |p| {
            p.image(image_item(underlay_name, underlay, bounds));
            p.line(
                Line::new(
                    "trail of walker 0",
                    PlotPoints::from(l.trail.iter().map(|w| [w[0], w[1]]).collect::<Vec<_>>()),
                )
                .color(Color32::from_rgb(255, 210, 60)),
            );
            if let Some(t) = tempering {
                let k = t.ladder.len();
                for (i, ws) in t.walkers.iter().enumerate().skip(1).rev() {
                    p.points(
                        Points::new(
                            format!("T = {:.2e}", t.ladder[i]),
                            ws.iter().map(|w| [w[0], w[1]]).collect::<Vec<_>>(),
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
                let color = if accepted {
                    Color32::from_rgb(60, 200, 80)
                } else {
                    Color32::from_rgb(230, 60, 60)
                };
                p.arrows(Arrows::new("last proposal", vec![from], vec![to]).color(color));
            }
        });
}

impl App {
    /// The landscape with its walkers, and the density and histogram below it.
    pub(super) fn landscape_ui(&mut self, ui: &mut egui::Ui) {
        let t = self
            .feed
            .latest
            .as_ref()
            .map_or(1.0, |l| l.schedule.temperature());
        let log = self.preset.view.log_landscape;
        self.landscape.update_textures(ui.ctx(), t, log);
        let Some(l) = self.landscape.latest.clone() else {
            return;
        };
        let Some((_, _, energy_tex)) = &self.landscape.energy_texture else {
            return;
        };
        let underlay = match (&self.landscape.density, self.preset.view.density_underlay) {
            (Some(d), true) => d.clone(),
            _ => energy_tex.clone(),
        };
        let bounds = l.grid.bounds;
        let slow = matches!(self.preset.speed, Speed::PerSecond(r) if r <= SLOW);
        let tempering = self.tempering.latest.clone();
        ui.strong(format!(
            "{}: {} walkers at T = {:.3e}",
            self.preset
                .run
                .landscape
                .as_ref()
                .map_or("", |c| c.surface.label()),
            l.walkers.len(),
            t
        ));
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.preset.view.log_landscape, "log colour scale")
                .on_hover_text(
                    "Colour by ln(1 + E - E_min): shows both deep basins and high ridges",
                );
            ui.checkbox(
                &mut self.preset.view.density_underlay,
                "Boltzmann density underneath",
            )
            .on_hover_text("Draw exp(-E/T)/Z at the current T under the walkers instead of E");
        });
        let width = ui.available_width();
        let side = width.min(ui.available_height() * 0.62);
        let underlay_name = if self.preset.view.density_underlay {
            "exp(-E/T)/Z"
        } else {
            "E(x, y)"
        };
        // Compare mode: B's walkers beside A's.
        let b_side = self.compare.as_mut().and_then(|b| {
            let t_b = b
                .feed
                .latest
                .as_ref()
                .map_or(1.0, |l| l.schedule.temperature());
            b.landscape.update_textures(ui.ctx(), t_b, log);
            let tex = b
                .landscape
                .energy_texture
                .as_ref()
                .map(|(_, _, t)| t.clone())?;
            Some((b.landscape.latest.clone()?, tex, b.tempering.latest.clone()))
        });
        match b_side {
            None => walkers_plot(
                ui,
                "landscape",
                &l,
                &underlay,
                underlay_name,
                [width, side],
                slow,
                tempering.as_ref(),
            ),
            Some((lb, tex_b, tempering_b)) => {
                let half = (width - ui.spacing().item_spacing.x) / 2.0;
                let h = half.min(side);
                ui.horizontal_top(|ui| {
                    ui.vertical(|ui| {
                        ui.label("Run A");
                        walkers_plot(
                            ui,
                            "landscape",
                            &l,
                            &underlay,
                            underlay_name,
                            [half, h],
                            slow,
                            tempering.as_ref(),
                        );
                    });
                    ui.vertical(|ui| {
                        ui.label("Run B");
                        walkers_plot(
                            ui,
                            "landscape-b",
                            &lb,
                            &tex_b,
                            "E(x, y)",
                            [half, h],
                            slow,
                            tempering_b.as_ref(),
                        );
                    });
                });
            }
        }
        let half = (width - ui.spacing().item_spacing.x) / 2.0;
        let small = half.min(ui.available_height() - 24.0).max(60.0);
        ui.horizontal(|ui| {
            for (title, tex) in [
                ("exact exp(-E/T)/Z", &self.landscape.density),
                ("walkers' histogram", &self.landscape.histogram),
            ] {
                ui.vertical(|ui| {
                    ui.label(title);
                    if let Some(tex) = tex {
                        Plot::new(title)
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

    /// Readouts (exact and from the walkers) and the `<E>(T)`, `C(T)` curves.
    pub(super) fn thermo_ui(&mut self, ui: &mut egui::Ui) {
        let Some(l) = self.landscape.latest.clone() else {
            return;
        };
        let Some(latest) = &self.feed.latest else {
            return;
        };
        let t = latest.schedule.temperature();
        let exact = l.grid.thermo(t);
        let est = walker_thermo(&l.grid, &l.walkers, &l.energies, t);
        egui::Grid::new("thermo")
            .striped(true)
            .num_columns(3)
            .show(ui, |ui| {
                ui.strong("at T");
                ui.strong("exact (grid)");
                ui.strong("walkers");
                ui.end_row();
                let row = |ui: &mut egui::Ui, name: &str, tip: &str, f: fn(&Thermo) -> f64| {
                    ui.label(name).on_hover_text(tip);
                    ui.monospace(format!("{:.4e}", f(&exact)));
                    ui.monospace(format!("{:.4e}", f(&est)));
                    ui.end_row();
                };
                row(
                    ui,
                    "Z",
                    "partition function: the integral of exp(-E/T) over the box",
                    |t| t.z,
                );
                row(ui, "F = -T ln Z", "free energy", |t| t.free_energy);
                row(ui, "<E>", "mean energy", |t| t.mean_energy);
                row(
                    ui,
                    "S = (<E> - F)/T",
                    "entropy (walkers: from their histogram)",
                    |t| t.entropy,
                );
                row(
                    ui,
                    "C = Var(E)/T^2",
                    "heat capacity: peaks where the system freezes",
                    |t| t.heat_capacity,
                );
            });
        let range = {
            let s = &latest.schedule;
            let hi = self.preset.run.annealer.schedule.t0().max(t);
            [s.t_min().max(1e-6), hi.max(s.t_min() * 10.0)]
        };
        let stale = self
            .landscape
            .curves
            .as_ref()
            .is_none_or(|(g, r, _)| !Arc::ptr_eq(g, &l.grid) || *r != range);
        if stale {
            let n = 80;
            let pts = (0..n)
                .map(|i| {
                    let tt = range[0] * (range[1] / range[0]).powf(i as f64 / (n - 1) as f64);
                    let th = l.grid.thermo(tt);
                    [tt.log10(), th.mean_energy, th.heat_capacity]
                })
                .collect();
            self.landscape.curves = Some((Arc::clone(&l.grid), range, pts));
        }
        let Some((_, _, curves)) = &self.landscape.curves else {
            return;
        };
        let peak = curves
            .iter()
            .cloned()
            .fold([0.0, 0.0, f64::NEG_INFINITY], |a, b| {
                if b[2] > a[2] { b } else { a }
            });
        let height = (ui.available_height() * 0.3).clamp(80.0, 200.0);
        let half = (ui.available_width() - ui.spacing().item_spacing.x) / 2.0;
        let now = t.log10();
        ui.horizontal(|ui| {
            for (id, name, k) in [
                ("mean-energy", "exact <E>(T)", 1),
                ("heat-capacity", "exact C(T)", 2),
            ] {
                Plot::new(id)
                    .width(half)
                    .height(height)
                    .legend(Legend::default())
                    .x_axis_formatter(|m, _| format!("{:.0e}", 10f64.powf(m.value)))
                    .show(ui, |p| {
                        let pts: Vec<[f64; 2]> = curves.iter().map(|c| [c[0], c[k]]).collect();
                        p.line(Line::new(name, PlotPoints::from(pts)));
                        p.vline(VLine::new("now", now).color(Color32::from_rgb(220, 80, 60)));
                        p.vline(
                            VLine::new("C peak: freezing", peak[0])
                                .color(Color32::from_rgb(140, 140, 140)),
                        );
                    });
            }
        });
    }
}
