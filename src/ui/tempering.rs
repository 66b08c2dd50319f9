//! The parallel-tempering panel: the ladder with each pair's exchange rate, and which
//! replica sits at which temperature over time.

use super::format::{number, percent};
use super::pane::RunPane;
use crate::trainer::TemperingSnapshot;
use egui::Color32;
use egui_plot::{Line, Plot, PlotImage, PlotPoint, PlotPoints};
use std::collections::VecDeque;

/// Up to this many replicas each get a line; more become a heat strip.
const LINES: usize = 8;

/// Samples of who-sits-where kept for the plot.
const KEEP: usize = 600;

/// What the panel remembers.
#[derive(Default)]
pub struct TemperingState {
    /// The latest report.
    pub latest: Option<TemperingSnapshot>,
    /// `(step, identity)` samples, oldest first.
    history: VecDeque<(u64, Vec<usize>)>,
    /// The heat strip of many replicas, when current.
    strip: Option<egui::TextureHandle>,
    strip_fresh: bool,
}

impl TemperingState {
    /// Takes in a snapshot's tempering part.
    pub fn absorb(&mut self, step: u64, t: Option<TemperingSnapshot>, restarted: bool) {
        if restarted {
            self.history.clear();
        }
        if let Some(t) = &t {
            if self.history.len() == KEEP {
                self.history.pop_front();
            }
            self.history.push_back((step, t.identity.clone()));
            self.strip_fresh = true;
        }
        self.latest = t;
    }
}

/// Colour of ladder slot `i` of `k`: blue (cold) to red (hot).
pub fn slot_color(i: usize, k: usize) -> Color32 {
    let f = i as f32 / (k.max(2) - 1) as f32;
    Color32::from_rgb(
        (60.0 + 190.0 * f) as u8,
        (120.0 - 40.0 * f) as u8,
        (230.0 - 190.0 * f) as u8,
    )
}

/// The ladder panel of a run, when it tempers.
/// At most `max_height` high: a long ladder's table scrolls, so that the live plots
/// below keep their room on a laptop's screen.
pub fn panel_ui(ui: &mut egui::Ui, pane: &mut RunPane, comparing: bool, max_height: f32) {
    if pane.tempering.latest.is_none() {
        return;
    }
    let side = pane.side.letter();
    let title = if comparing {
        format!("Run {side}: parallel tempering")
    } else {
        "Parallel tempering".to_owned()
    };
    ladder_ui(
        ui,
        &mut pane.tempering,
        (&title, &format!("ladder-{side}")),
        max_height,
    );
}

/// The ladder table and the replicas-over-time plot of one run: each replica's rung as a
/// line for up to [`LINES`] replicas, a heat strip (one row per replica, coloured by its
/// rung) beyond.
fn ladder_ui(
    ui: &mut egui::Ui,
    state: &mut TemperingState,
    (title, id): (&str, &str),
    max_height: f32,
) {
    let Some(t) = state.latest.clone() else {
        return;
    };
    ui.strong(title)
        .on_hover_text("Replicas at fixed temperatures exchange configurations with their neighbours, accepted with min(1, exp((1/T_i - 1/T_j)(E_i - E_j))): hot replicas cross barriers and hand what they find down the ladder.");
    let k = t.ladder.len();
    let row = ui.text_style_height(&egui::TextStyle::Body) + ui.spacing().item_spacing.y;
    // The replicas' plot below takes at most a third of the panel; the table the rest.
    let height = (30.0 + 14.0 * k.min(LINES) as f32).min((max_height / 3.0).max(60.0));
    let table = (max_height - height - 3.0 * row).max(4.0 * row);
    egui::ScrollArea::vertical()
        .id_salt(format!("{id}-table"))
        .max_height(table)
        .show(ui, |ui| {
            egui::Grid::new(id)
                .striped(true)
                .num_columns(4)
                .show(ui, |ui| {
                    ui.strong("T");
                    ui.strong("replica");
                    ui.strong("E");
                    ui.strong("swap with next");
                    ui.end_row();
                    for i in 0..k {
                        ui.colored_label(slot_color(i, k), number(t.ladder[i]));
                        ui.label(t.identity[i].to_string());
                        ui.monospace(number(t.energies[i]));
                        match t.swap_rates.get(i) {
                            Some(r) if r.is_finite() => ui.monospace(percent(*r)),
                            _ => ui.label(""),
                        };
                        ui.end_row();
                    }
                });
        });
    if k <= LINES {
        Plot::new(format!("{id}-over-time"))
            .height(height)
            .y_axis_label("rung")
            .y_axis_formatter(|m, _| format!("T{}", m.value.round() as i64))
            .include_y(-0.5)
            .include_y(k as f64 - 0.5)
            .show(ui, |p| {
                for replica in 0..k {
                    // A staircase, nudged by the replica's number so that lines sharing a
                    // rung for a while stay apart.
                    let nudge = (replica as f64 / k as f64 - 0.5) * 0.3;
                    let mut pts: Vec<[f64; 2]> = Vec::with_capacity(2 * state.history.len());
                    for (step, id) in &state.history {
                        if let Some(slot) = id.iter().position(|&r| r == replica) {
                            let y = slot as f64 + nudge;
                            if let Some(&[_, prev]) = pts.last()
                                && prev != y
                            {
                                pts.push([*step as f64, prev]);
                            }
                            pts.push([*step as f64, y]);
                        }
                    }
                    p.line(
                        Line::new(format!("replica {replica}"), PlotPoints::from(pts))
                            .color(slot_color(replica, k))
                            .width(2.0),
                    );
                }
            });
        ui.weak("Each line is one replica (coloured by where it started), climbing and descending the ladder.");
    } else {
        if state.strip_fresh || state.strip.is_none() {
            state.strip_fresh = false;
            let cols = state.history.len().max(1);
            let mut pixels = vec![Color32::BLACK; cols * k];
            for (c, (_, id)) in state.history.iter().enumerate() {
                for (slot, &replica) in id.iter().enumerate() {
                    if replica < k {
                        // Row = replica (top row is replica 0), colour = its rung.
                        pixels[replica * cols + c] = slot_color(slot, k);
                    }
                }
            }
            let image = egui::ColorImage::new([cols, k], pixels);
            match &mut state.strip {
                Some(tex) => tex.set(image, egui::TextureOptions::NEAREST),
                None => {
                    state.strip = Some(ui.ctx().load_texture(
                        format!("{id}-strip"),
                        image,
                        egui::TextureOptions::NEAREST,
                    ))
                }
            }
        }
        if let (Some(tex), Some(first), Some(last)) =
            (&state.strip, state.history.front(), state.history.back())
        {
            let (x0, x1) = (first.0 as f64, last.0.max(first.0 + 1) as f64);
            Plot::new(format!("{id}-strip"))
                .height(height)
                .y_axis_label("replica")
                .show_grid(false)
                .show(ui, |p| {
                    p.image(PlotImage::new(
                        "rungs",
                        tex.id(),
                        PlotPoint::new((x0 + x1) / 2.0, k as f64 / 2.0),
                        egui::vec2((x1 - x0) as f32, k as f32),
                    ));
                });
            ui.weak("One row per replica over time, coloured by its rung: blue cold, red hot.");
        }
    }
}
