//! The decision boundary: the class-1 probability over the input plane as an image
//! (diverging palette, the 0.5 contour in black), with the data on top: training points
//! filled, test points hollow, coloured by class, misclassified points ringed in red.

use super::App;
use crate::colors;
use crate::sim::DecisionGrid;
use crate::trainer::Command;
use egui::Color32;
use egui_plot::{MarkerShape, Plot, PlotImage, PlotPoint, Points};

/// How often an auto-refreshing loss slice is recomputed.
const SLICE_EVERY: std::time::Duration = std::time::Duration::from_secs(3);

fn rgb(c: [u8; 3]) -> Color32 {
    Color32::from_rgb(c[0], c[1], c[2])
}

/// The grid as a texture image (top row = highest y), with the 0.5 contour.
pub fn grid_image(grid: &DecisionGrid) -> egui::ColorImage {
    let (rows, cols) = grid.p.dim();
    let pixels = colors::grid_pixels(&grid.p).into_iter().map(rgb).collect();
    egui::ColorImage::new([cols, rows], pixels)
}

/// The predictive entropy `H(p) = -p log2 p - (1-p) log2(1-p)` of the grid as an image:
/// dark where the model is sure, bright where it is not (with the 0.5 contour).
pub fn entropy_image(grid: &DecisionGrid) -> egui::ColorImage {
    let (rows, cols) = grid.p.dim();
    let h = grid.p.mapv(|p| {
        let p = f64::from(p).clamp(1e-12, 1.0 - 1e-12);
        (-(p * p.log2() + (1.0 - p) * (1.0 - p).log2())) as f32
    });
    let mut pixels = Vec::with_capacity(rows * cols);
    for r in (0..rows).rev() {
        for c in 0..cols {
            pixels.push(rgb(colors::energy(h[[r, c]])));
        }
    }
    egui::ColorImage::new([cols, rows], pixels)
}

/// Re-draws a run's decision-grid texture when its grid (or the view) changed.
fn refresh_texture(
    ctx: &egui::Context,
    feed: &mut super::Feed,
    slot: &mut Option<egui::TextureHandle>,
    entropy: bool,
    name: &str,
) {
    if !feed.grid_changed {
        return;
    }
    feed.grid_changed = false;
    let Some(grid) = &feed.grid else { return };
    let image = if entropy {
        entropy_image(grid)
    } else {
        grid_image(grid)
    };
    match slot {
        Some(t) => t.set(image, egui::TextureOptions::LINEAR),
        None => *slot = Some(ctx.load_texture(name, image, egui::TextureOptions::LINEAR)),
    }
}

impl App {
    /// The decision boundary, or a slice of the loss landscape.
    pub(super) fn network_view_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.view.show_slice, false, "Decision boundary");
            ui.selectable_value(&mut self.view.show_slice, true, "Loss landscape")
                .on_hover_text("A 2D slice of the loss around the network's parameters, along two random filter-normalised directions (Li et al. 2018)");
        });
        if self.view.show_slice {
            self.slice_ui(ui);
        } else {
            self.boundary_ui(ui);
        }
    }

    fn ask_for_slice(&mut self) {
        self.command(Command::LossSlice {
            span: self.view.slice_span,
            best: self.view.slice_best,
        });
        self.slice_asked = Some(std::time::Instant::now());
    }

    fn slice_ui(&mut self, ui: &mut egui::Ui) {
        let due = self.slice.is_none() && self.slice_asked.is_none()
            || self.view.slice_auto && self.slice_asked.is_none_or(|t| t.elapsed() >= SLICE_EVERY);
        ui.horizontal(|ui| {
            if ui
                .button("New slice")
                .on_hover_text("Fresh random directions, at the current state")
                .clicked()
            {
                self.ask_for_slice();
            }
            ui.checkbox(&mut self.view.slice_auto, "every 3 s");
            ui.checkbox(&mut self.view.slice_best, "around the best");
            ui.add(
                egui::Slider::new(&mut self.view.slice_span, 0.1..=5.0)
                    .logarithmic(true)
                    .text("span"),
            );
        });
        if due {
            self.ask_for_slice();
        }
        let Some(slice) = self.slice.clone() else {
            ui.label("Computing...");
            return;
        };
        if self.slice_fresh || self.slice_texture.is_none() {
            self.slice_fresh = false;
            let pixels = colors::energy_pixels(&slice.values, slice.side, true)
                .into_iter()
                .map(rgb)
                .collect();
            let image = egui::ColorImage::new([slice.side, slice.side], pixels);
            match &mut self.slice_texture {
                Some(t) => t.set(image, egui::TextureOptions::LINEAR),
                None => {
                    self.slice_texture = Some(ui.ctx().load_texture(
                        "loss-slice",
                        image,
                        egui::TextureOptions::LINEAR,
                    ))
                }
            }
        }
        let Some(tex) = &self.slice_texture else {
            return;
        };
        let centre = slice.values[slice.values.len() / 2];
        let min = slice.values.iter().cloned().fold(f64::INFINITY, f64::min);
        ui.label(format!(
            "L(theta + a d1 + b d2) at step {} around the {} parameters: {:.4} at the centre, {:.4} lowest",
            slice.step,
            if slice.best { "best" } else { "current" },
            centre,
            min
        ));
        let side = ui.available_width().min(ui.available_height());
        let s = slice.span;
        Plot::new("loss-slice")
            .data_aspect(1.0)
            .width(side)
            .height(side)
            .legend(egui_plot::Legend::default())
            .show(ui, |p| {
                p.image(PlotImage::new(
                    "loss",
                    tex.id(),
                    PlotPoint::new(0.0, 0.0),
                    egui::vec2(2.0 * s as f32, 2.0 * s as f32),
                ));
                p.points(
                    Points::new("theta", vec![[0.0, 0.0]])
                        .radius(5.0)
                        .color(Color32::WHITE),
                );
            });
    }

    /// The decision-boundary view.
    fn boundary_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let before = self.view.entropy_map;
            ui.selectable_value(&mut self.view.entropy_map, false, "P(class 1 | x)");
            ui.selectable_value(&mut self.view.entropy_map, true, "uncertainty H(p)")
                .on_hover_text("The predictive entropy -p ln p - (1-p) ln(1-p), in bits: bright where the model is unsure");
            if before != self.view.entropy_map {
                self.feed.grid_changed = true;
                if let Some(b) = &mut self.compare {
                    b.feed.grid_changed = true;
                }
            }
        });
        refresh_texture(
            ui.ctx(),
            &mut self.feed,
            &mut self.texture,
            self.view.entropy_map,
            "decision-grid",
        );
        let texture = self.texture.as_ref().map(|t| t.id());
        let Some(b) = &mut self.compare else {
            let side = ui.available_width().min(ui.available_height());
            draw_boundary(ui, "boundary", "", &self.feed, texture, side);
            return;
        };
        // Compare mode: A and B side by side.
        refresh_texture(
            ui.ctx(),
            &mut b.feed,
            &mut b.texture,
            self.view.entropy_map,
            "decision-grid-b",
        );
        let texture_b = b.texture.as_ref().map(|t| t.id());
        let half = (ui.available_width() - ui.spacing().item_spacing.x) / 2.0;
        let side = half.min(ui.available_height() - 24.0);
        ui.horizontal_top(|ui| {
            ui.allocate_ui(egui::vec2(half, ui.available_height()), |ui| {
                ui.strong("Run A");
                draw_boundary(ui, "boundary", "A: ", &self.feed, texture, side);
            });
            ui.allocate_ui(egui::vec2(half, ui.available_height()), |ui| {
                ui.strong("Run B");
                draw_boundary(ui, "boundary-b", "B: ", &b.feed, texture_b, side);
            });
        });
    }
}

/// One decision-boundary plot of a run: the probability (or entropy) image and the data,
/// misclassified points ringed. `prefix` names the run in the legend.
fn draw_boundary(
    ui: &mut egui::Ui,
    id: &str,
    prefix: &str,
    feed: &super::Feed,
    texture: Option<egui::TextureId>,
    side: f32,
) {
    let Some(latest) = &feed.latest else { return };
    let data = latest.data.clone();
    let grid = feed.grid.clone();
    Plot::new(id)
        .data_aspect(1.0)
        .width(side)
        .height(side)
        .show_grid(false)
        .allow_scroll(false)
        .legend(egui_plot::Legend::default())
        .show(ui, |plot_ui| {
            if let (Some(grid), Some(texture)) = (&grid, texture) {
                let [lo, hi] = grid.bounds;
                let centre = PlotPoint::new(
                    f64::from(lo[0] + hi[0]) / 2.0,
                    f64::from(lo[1] + hi[1]) / 2.0,
                );
                let size = egui::vec2(hi[0] - lo[0], hi[1] - lo[1]);
                plot_ui.image(PlotImage::new(
                    format!("{prefix}P(class 1)"),
                    texture,
                    centre,
                    size,
                ));
            }
            let sets = [
                (&data.train, true, grid.as_ref().map(|g| &g.train_p)),
                (&data.test, false, grid.as_ref().map(|g| &g.test_p)),
            ];
            let mut wrong = Vec::new();
            for (samples, filled, probs) in sets {
                for class in 0..2u8 {
                    let pts: Vec<[f64; 2]> = samples
                        .x
                        .rows()
                        .into_iter()
                        .zip(samples.y.iter())
                        .filter(|(_, y)| **y == class)
                        .map(|(r, _)| [f64::from(r[0]), f64::from(r[1])])
                        .collect();
                    let name = format!("{} class {class}", if filled { "train" } else { "test" });
                    plot_ui.points(
                        Points::new(name, pts)
                            .shape(MarkerShape::Circle)
                            .filled(filled)
                            .radius(4.0)
                            .color(rgb(colors::CLASS[class as usize])),
                    );
                }
                if let Some(probs) = probs {
                    for ((r, y), p) in samples
                        .x
                        .rows()
                        .into_iter()
                        .zip(samples.y.iter())
                        .zip(probs)
                    {
                        if (*p >= 0.5) != (*y == 1) {
                            wrong.push([f64::from(r[0]), f64::from(r[1])]);
                        }
                    }
                }
            }
            if !wrong.is_empty() {
                plot_ui.points(
                    Points::new("misclassified", wrong)
                        .shape(MarkerShape::Circle)
                        .filled(false)
                        .radius(7.0)
                        .color(rgb(colors::WRONG)),
                );
            }
        });
}
