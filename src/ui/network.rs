//! The network's views: the decision boundary (the class-1 probability over the input
//! plane as an image, diverging palette, the 0.5 contour in black, with the data on top:
//! training points filled, test points hollow, coloured by class, misclassified points
//! ringed in red), the uncertainty map, a slice of the loss landscape; and the network's
//! controls (width, activation, weight decay, data).

use super::key::{self, Mark};
use super::kinds::ViewCtx;
use super::pane::RunPane;
use super::{Action, Looks, Notice, Target};
use crate::colors;
use crate::preset::Control;
use crate::sim::network::{LossSlice, NetworkView};
use crate::sim::{Activation, DataKind, DecisionGrid, NetworkConfig, Reply, Request, limits};
use crate::trainer::Command;
use egui::{Color32, Slider, SliderClamping, Ui};
use egui_plot::{MarkerShape, Plot, PlotImage, PlotPoint, Points};
use std::sync::Arc;

/// How often an auto-refreshing loss slice is recomputed.
const SLICE_EVERY: web_time::Duration = web_time::Duration::from_secs(3);

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

/// The network views' state of one run.
#[derive(Default)]
pub struct NetworkUi {
    texture: Option<egui::TextureHandle>,
    /// The texture shows the uncertainty map (else the probability).
    entropy_drawn: bool,
    /// The latest loss slice, and whether its texture is current.
    slice: Option<Arc<Reply>>,
    slice_texture: Option<egui::TextureHandle>,
    slice_fresh: bool,
    /// When a slice was last asked for.
    slice_asked: Option<web_time::Instant>,
}

impl NetworkUi {
    /// Takes in a loss slice.
    pub fn answer(&mut self, reply: Arc<Reply>) {
        self.slice = Some(reply);
        self.slice_fresh = true;
    }

    /// Whether a loss slice has arrived.
    pub fn has_slice(&self) -> bool {
        self.loss_slice().is_some()
    }

    fn loss_slice(&self) -> Option<&LossSlice> {
        match self.slice.as_deref() {
            Some(Reply::LossSlice(s)) => Some(s),
            _ => None,
        }
    }

    /// Re-draws the decision-grid texture when the grid (or the map shown) changed.
    fn refresh_texture(
        &mut self,
        ctx: &egui::Context,
        v: &NetworkView,
        changed: bool,
        entropy: bool,
    ) {
        if !changed && self.texture.is_some() && self.entropy_drawn == entropy {
            return;
        }
        let Some(grid) = &v.grid else { return };
        let image = if entropy {
            entropy_image(grid)
        } else {
            grid_image(grid)
        };
        self.entropy_drawn = entropy;
        match &mut self.texture {
            Some(t) => t.set(image, egui::TextureOptions::LINEAR),
            None => {
                self.texture =
                    Some(ctx.load_texture("decision-grid", image, egui::TextureOptions::LINEAR))
            }
        }
    }
}

/// The decision boundary, or a slice of the loss landscape, of one run.
pub fn view_ui(
    ui: &mut Ui,
    pane: &RunPane,
    state: &mut NetworkUi,
    v: &NetworkView,
    ctx: &mut ViewCtx<'_, '_>,
) {
    let looks = &mut *ctx.looks;
    ui.horizontal(|ui| {
        ui.selectable_value(&mut looks.state.show_slice, false, "Decision boundary");
        ui.selectable_value(&mut looks.state.show_slice, true, "Loss landscape")
            .on_hover_text("A 2D slice of the loss around the network's parameters, along two random filter-normalised directions (Li et al. 2018)");
    });
    if looks.state.show_slice {
        slice_ui(ui, pane, state, ctx);
        return;
    }
    ui.horizontal(|ui| {
        ui.selectable_value(&mut looks.state.entropy_map, false, "P(class 1 | x)");
        ui.selectable_value(&mut looks.state.entropy_map, true, "uncertainty H(p)")
            .on_hover_text("The predictive entropy -p ln p - (1-p) ln(1-p), in bits: bright where the model is unsure");
    });
    state.refresh_texture(ui.ctx(), v, pane.view_changed, looks.state.entropy_map);
    let side = ui
        .available_width()
        .min(ui.available_height() - KEY_HEIGHT)
        .max(60.0);
    let id = format!("boundary-{}", pane.side.letter());
    let editable = looks.shown(Control::Data);
    let texture = state.texture.as_ref().map(|t| t.id());
    let label = format!("Decision boundary {}", pane.side.letter());
    if let Some(click) = draw_boundary(ui, &id, &label, v, texture, side, editable) {
        match with_click(&pane.config, &v.data, click) {
            Ok(config) => ctx.actions.push(Action::Edit(pane.side, Box::new(config))),
            Err(e) => ctx
                .actions
                .push(Action::Notice(Notice::error(Some(pane.side), e))),
        }
    }
}

/// A click on the decision plane: add a point of a class there, or remove the nearest.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Click {
    /// Add a point of this class.
    Add([f64; 2], u8),
    /// Remove the point nearest to here.
    Remove([f64; 2]),
}

/// `config` with its network's data turned into one's own points (the data set shown,
/// `data`, when it was generated) and `click` applied; or why not.
fn with_click(
    config: &crate::sim::RunConfig,
    data: &crate::sim::Dataset,
    click: Click,
) -> Result<crate::sim::RunConfig, String> {
    let mut config = config.clone();
    let crate::sim::ProblemConfig::Network(net) = &mut config.problem else {
        return Err("points can be added to the network's data only".into());
    };
    let mut points = match &net.data.kind {
        DataKind::Points(p) => p.clone(),
        _ => {
            // The generated points as shown: their jitter is now part of them.
            net.data.noise = 0.0;
            [&data.train, &data.test]
                .into_iter()
                .flat_map(|s| {
                    s.x.rows()
                        .into_iter()
                        .zip(s.y.iter())
                        .map(|(r, &y)| (r[0], r[1], y))
                        .collect::<Vec<_>>()
                })
                .collect()
        }
    };
    let c = f64::from(limits::COORDINATE);
    match click {
        Click::Add(at, label) => {
            if points.len() >= *limits::POINTS.end() {
                return Err(format!(
                    "at most {} points: remove some first (shift-click)",
                    limits::POINTS.end()
                ));
            }
            let [x, y] = at.map(|v| v.clamp(-c, c) as f32);
            points.push((x, y, label));
        }
        Click::Remove(at) => {
            if points.len() <= *limits::POINTS.start() {
                return Err("the last point stays: a data set needs one".into());
            }
            let d2 = |p: &crate::sim::data::Point| {
                (f64::from(p.0) - at[0]).powi(2) + (f64::from(p.1) - at[1]).powi(2)
            };
            if let Some(i) =
                (0..points.len()).min_by(|&i, &j| d2(&points[i]).total_cmp(&d2(&points[j])))
            {
                points.remove(i);
            }
        }
    }
    net.data.kind = DataKind::Points(points);
    Ok(config)
}

fn slice_ui(ui: &mut Ui, pane: &RunPane, state: &mut NetworkUi, ctx: &mut ViewCtx<'_, '_>) {
    let looks = &mut *ctx.looks;
    let mut ask = state.slice.is_none() && state.slice_asked.is_none()
        || looks.state.slice_auto && state.slice_asked.is_none_or(|t| t.elapsed() >= SLICE_EVERY);
    ui.horizontal(|ui| {
        ask |= ui
            .button("New slice")
            .on_hover_text("Fresh random directions, at the current state")
            .clicked();
        ui.checkbox(&mut looks.state.slice_auto, "every 3 s");
        ui.checkbox(&mut looks.state.slice_best, "around the best");
        ui.add(
            Slider::new(&mut looks.state.slice_span, 0.1..=5.0)
                .logarithmic(true)
                .text("span"),
        );
    });
    if ask {
        ctx.actions.push(Action::Trainer(
            Target::Side(pane.side),
            Command::Ask(Request::LossSlice {
                span: looks.state.slice_span,
                best: looks.state.slice_best,
            }),
        ));
        state.slice_asked = Some(web_time::Instant::now());
    }
    let Some(slice) = state.loss_slice().cloned() else {
        ui.label("Computing...");
        return;
    };
    if state.slice_fresh || state.slice_texture.is_none() {
        state.slice_fresh = false;
        let pixels = colors::energy_pixels(&slice.values, slice.side, true)
            .into_iter()
            .map(rgb)
            .collect();
        let image = egui::ColorImage::new([slice.side, slice.side], pixels);
        match &mut state.slice_texture {
            Some(t) => t.set(image, egui::TextureOptions::LINEAR),
            None => {
                state.slice_texture = Some(ui.ctx().load_texture(
                    "loss-slice",
                    image,
                    egui::TextureOptions::LINEAR,
                ))
            }
        }
    }
    let Some(tex) = &state.slice_texture else {
        return;
    };
    let centre = slice.values[slice.values.len() / 2];
    let min = slice.values.iter().cloned().fold(f64::INFINITY, f64::min);
    ui.label(format!(
        "L(theta + a d1 + b d2) around the {} parameters: {:.4} at the centre, {:.4} lowest",
        if slice.best { "best" } else { "current" },
        centre,
        min
    ));
    let side = ui.available_width().min(ui.available_height()).max(60.0);
    let s = slice.span;
    Plot::new(format!("loss-slice-{}", pane.side.letter()))
        .data_aspect(1.0)
        .width(side)
        .height(side)
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

/// The network's settings: width, activation, weight decay and the data set. True when
/// anything changed.
pub fn controls_ui(
    ui: &mut Ui,
    c: &mut NetworkConfig,
    looks: &mut Looks,
    actions: &mut Vec<Action>,
) -> bool {
    let mut changed = false;
    if looks.shown(Control::Network) {
        ui.separator();
        ui.heading("Network");
        changed |= ui
            .add(
                Slider::new(&mut c.hidden, limits::HIDDEN)
                    .clamping(SliderClamping::Never)
                    .logarithmic(true)
                    .text("Hidden width"),
            )
            .on_hover_text(TIP_HIDDEN)
            .changed();
        changed |= super::controls::combo(
            ui,
            "Activation",
            &mut c.activation,
            &Activation::ALL,
            Activation::label,
            "The hidden units' nonlinearity. Changing it restarts the run.",
        );
        changed |= ui
            .add(
                Slider::new(&mut c.weight_decay, limits::slider::WEIGHT_DECAY)
                    .clamping(SliderClamping::Never)
                    .logarithmic(true)
                    .text("Weight decay"),
            )
            .on_hover_text(TIP_DECAY)
            .changed();
    }
    if looks.shown(Control::Data) {
        ui.separator();
        ui.heading("Data");
        changed |= data_ui(ui, &mut c.data, looks, actions);
    }
    changed
}

/// The data set: a generated one with its size and noise, or one's own points (from a CSV
/// file); the test split. True when anything changed.
fn data_ui(
    ui: &mut Ui,
    d: &mut crate::sim::DataConfig,
    looks: &mut Looks,
    actions: &mut Vec<Action>,
) -> bool {
    let mut changed = false;
    let own = match &d.kind {
        DataKind::Points(p) => Some(p.len()),
        _ => None,
    };
    let selected = match own {
        Some(n) => format!("Your points ({n})"),
        None => d.kind.label().to_owned(),
    };
    egui::ComboBox::from_label("Data set")
        .selected_text(selected)
        .show_ui(ui, |ui| {
            for kind in DataKind::ALL {
                let label = kind.label();
                if ui.selectable_label(d.kind == kind, label).clicked() && d.kind != kind {
                    d.kind = kind;
                    changed = true;
                }
            }
            if let Some(n) = own {
                let _ = ui.selectable_label(true, format!("Your points ({n})"));
            }
        })
        .response
        .on_hover_text("The toy problem, or your own points. Changing the data restarts the run.");
    ui.horizontal(|ui| {
        let mut path = None;
        // On the web files are uploaded, not named.
        if !super::files::BROWSER {
            ui.label("CSV:");
            ui.add(
                egui::TextEdit::singleline(&mut looks.state.data_path)
                    .hint_text("points.csv")
                    .desired_width(110.0),
            )
            .on_hover_text(TIP_CSV);
            if ui.button("Load points").on_hover_text(TIP_CSV).clicked() {
                path = Some(std::path::PathBuf::from(looks.state.data_path.trim()));
            }
        }
        let browse = if super::files::BROWSER {
            "Upload points (CSV)..."
        } else {
            "Browse..."
        };
        if ui.button(browse).on_hover_text(TIP_CSV).clicked() {
            path = super::files::pick_points(looks.side, actions).or(path);
        }
        if let Some(path) = path {
            match crate::points::load_csv(&path) {
                Ok(points) => {
                    looks.state.data_path = path.display().to_string();
                    actions.push(Action::Notice(Notice::info(
                        None,
                        format!("Loaded {} points from {}", points.len(), path.display()),
                    )));
                    d.kind = DataKind::Points(points);
                    changed = true;
                }
                Err(e) => actions.push(Action::Notice(Notice::error(None, e.to_string()))),
            }
        }
    });
    if own.is_none() {
        changed |= ui
            .add(
                Slider::new(&mut d.samples, limits::slider::SAMPLES)
                    .clamping(SliderClamping::Never)
                    .logarithmic(true)
                    .text("Samples"),
            )
            .changed();
    }
    changed |= ui
        .add(
            Slider::new(&mut d.noise, limits::slider::NOISE)
                .clamping(SliderClamping::Never)
                .text("Noise"),
        )
        .changed();
    changed |= ui
        .add(
            Slider::new(&mut d.test_fraction, limits::slider::TEST_FRACTION)
                .clamping(SliderClamping::Never)
                .text("Test fraction"),
        )
        .on_hover_text("Points held out of the energy, to measure generalisation.")
        .changed();
    ui.weak("Click the decision plane to add points: left class 0, right class 1; shift-click removes the nearest.");
    changed
}

const TIP_CSV: &str = "Your own data: a CSV file of x,y,label rows (label 0 or 1; a header \
line is optional; at most 10000 points). It replaces the data set and restarts the run, \
and is saved with the session.";

const TIP_HIDDEN: &str = "Hidden units H: the number of parameters is 5H + 2, the \
dimension of the landscape being annealed. Changing it restarts the run.";
const TIP_DECAY: &str = "Weight decay lambda adds lambda * |theta|^2 to the energy: a \
harmonic confining potential, like a Gaussian prior on the weights. Changing it restarts the run.";

/// Most data points drawn as markers; larger data sets are drawn one point in a stride.
pub const MAX_DRAWN_POINTS: usize = 1000;

/// Draw every `stride`-th point of `n` so that at most [`MAX_DRAWN_POINTS`] are drawn.
pub fn drawn_stride(n: usize) -> usize {
    n.div_ceil(MAX_DRAWN_POINTS).max(1)
}

/// One decision-boundary plot of a run: the probability (or entropy) image and the data,
/// misclassified points ringed. When `editable`, returns a click that adds or removes a
/// point (left: class 0, right: class 1, shift-click: remove the nearest).
fn draw_boundary(
    ui: &mut egui::Ui,
    id: &str,
    label: &str,
    v: &NetworkView,
    texture: Option<egui::TextureId>,
    side: f32,
    editable: bool,
) -> Option<Click> {
    let data = Arc::clone(&v.data);
    let grid = v.grid.clone();
    // A large data set is drawn one point in `stride`: a marker per point of 100k would
    // cost megabytes of mesh every frame and show no more.
    let stride = drawn_stride(data.train.y.len() + data.test.y.len());
    let response = Plot::new(id)
        .data_aspect(1.0)
        .width(side)
        .height(side)
        .show_grid(false)
        .allow_scroll(false)
        // The right button adds class-1 points instead of zooming to a box.
        .allow_boxed_zoom(!editable)
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
                let drawn = || (0..samples.y.len()).step_by(stride);
                for class in 0..2u8 {
                    let pts: Vec<[f64; 2]> = drawn()
                        .filter(|&i| samples.y[i] == class)
                        .map(|i| [f64::from(samples.x[[i, 0]]), f64::from(samples.x[[i, 1]])])
                        .collect();
                    let set = if filled { "train" } else { "test" };
                    let name = if stride > 1 {
                        format!("{set} class {class} (1 in {stride} shown)")
                    } else {
                        format!("{set} class {class}")
                    };
                    // Class 0 circles, class 1 squares: shape as well as colour.
                    let shape = if class == 0 {
                        MarkerShape::Circle
                    } else {
                        MarkerShape::Square
                    };
                    plot_ui.points(
                        Points::new(name, pts)
                            .shape(shape)
                            .filled(filled)
                            .radius(4.0)
                            .color(rgb(colors::CLASS[class as usize])),
                    );
                }
                if let Some(probs) = probs {
                    for i in drawn() {
                        if let Some(p) = probs.get(i)
                            && (*p >= 0.5) != (samples.y[i] == 1)
                        {
                            wrong
                                .push([f64::from(samples.x[[i, 0]]), f64::from(samples.x[[i, 1]])]);
                        }
                    }
                }
            }
            if !wrong.is_empty() {
                plot_ui.points(
                    Points::new("misclassified", wrong)
                        .shape(MarkerShape::Circle)
                        .filled(false)
                        .radius(8.0)
                        .color(rgb(colors::WRONG)),
                );
            }
        });
    let r = &response.response;
    let label = label.to_owned();
    r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &label));
    let at = r
        .interact_pointer_pos()
        .map(|pos| response.transform.value_from_position(pos))
        .map(|p| [p.x, p.y]);
    let shift = ui.input(|i| i.modifiers.shift);
    let click = match at {
        Some(at) if editable && r.clicked() && shift => Some(Click::Remove(at)),
        Some(at) if editable && r.clicked() => Some(Click::Add(at, 0)),
        Some(at) if editable && r.secondary_clicked() && !shift => Some(Click::Add(at, 1)),
        _ => None,
    };
    ui.horizontal_wrapped(|ui| {
        let [c0, c1] = colors::CLASS.map(rgb);
        key::marker(ui, "class 0", Mark::Circle, true, c0);
        key::marker(ui, "class 1", Mark::Square, true, c1);
        key::marker(
            ui,
            "test (hollow)",
            Mark::Circle,
            false,
            ui.visuals().text_color(),
        );
        key::marker(ui, "misclassified", Mark::Ring, false, rgb(colors::WRONG));
        if stride > 1 {
            ui.weak(format!("(1 in {stride} points shown)"));
        }
    });
    click
}

/// Height of the key under a map.
const KEY_HEIGHT: f32 = 24.0;
