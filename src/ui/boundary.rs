//! The decision boundary: the class-1 probability over the input plane as an image
//! (diverging palette, the 0.5 contour in black), with the data on top: training points
//! filled, test points hollow, coloured by class, misclassified points ringed in red.

use super::App;
use crate::sim::DecisionGrid;
use egui::Color32;
use egui_plot::{MarkerShape, Plot, PlotImage, PlotPoint, Points};

/// Class colours: blue for class 0, orange for class 1 (distinguishable with the common
/// forms of colour blindness).
pub const CLASS_COLORS: [Color32; 2] = [
    Color32::from_rgb(33, 102, 172),
    Color32::from_rgb(230, 97, 1),
];

fn lerp(a: Color32, b: Color32, t: f32) -> Color32 {
    let f = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    Color32::from_rgb(f(a.r(), b.r()), f(a.g(), b.g()), f(a.b(), b.b()))
}

/// Diverging palette: class-0 blue through a light neutral at p = 0.5 to class-1 orange.
pub fn palette(p: f32) -> Color32 {
    let mid = Color32::from_rgb(245, 245, 245);
    let lo = Color32::from_rgb(103, 169, 207);
    let hi = Color32::from_rgb(244, 165, 130);
    if p < 0.5 {
        lerp(lo, mid, p * 2.0)
    } else {
        lerp(mid, hi, (p - 0.5) * 2.0)
    }
}

/// The grid as an image (top row = highest y), with the 0.5 contour drawn where the
/// predicted class changes between neighbouring cells.
pub fn grid_image(grid: &DecisionGrid) -> egui::ColorImage {
    let (rows, cols) = grid.p.dim();
    let mut pixels = Vec::with_capacity(rows * cols);
    for r in (0..rows).rev() {
        for c in 0..cols {
            let p = grid.p[[r, c]];
            let class = p >= 0.5;
            let edge = (c + 1 < cols && (grid.p[[r, c + 1]] >= 0.5) != class)
                || (r + 1 < rows && (grid.p[[r + 1, c]] >= 0.5) != class);
            pixels.push(if edge {
                Color32::from_gray(20)
            } else {
                palette(p)
            });
        }
    }
    egui::ColorImage::new([cols, rows], pixels)
}

impl App {
    fn update_texture(&mut self, ctx: &egui::Context) {
        if !self.grid_changed {
            return;
        }
        self.grid_changed = false;
        let Some(grid) = &self.grid else { return };
        let image = grid_image(grid);
        match &mut self.texture {
            Some(t) => t.set(image, egui::TextureOptions::LINEAR),
            None => {
                self.texture =
                    Some(ctx.load_texture("decision-grid", image, egui::TextureOptions::LINEAR));
            }
        }
    }

    /// The decision-boundary view.
    pub(super) fn boundary_ui(&mut self, ui: &mut egui::Ui) {
        self.update_texture(ui.ctx());
        ui.strong("Decision boundary: P(class 1 | x)");
        let Some(latest) = &self.latest else { return };
        let data = latest.data.clone();
        let grid = self.grid.clone();
        let texture = self.texture.as_ref().map(|t| t.id());
        let side = ui.available_width().min(ui.available_height());
        Plot::new("boundary")
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
                    plot_ui.image(PlotImage::new("P(class 1)", texture, centre, size));
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
                        let name =
                            format!("{} class {class}", if filled { "train" } else { "test" });
                        plot_ui.points(
                            Points::new(name, pts)
                                .shape(MarkerShape::Circle)
                                .filled(filled)
                                .radius(4.0)
                                .color(CLASS_COLORS[class as usize]),
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
                            .color(Color32::RED),
                    );
                }
            });
    }
}
