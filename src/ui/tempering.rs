//! The parallel-tempering panel: the ladder with each pair's exchange rate, and which
//! replica sits at which temperature over time.

use super::pane::RunPane;
use crate::trainer::TemperingSnapshot;
use egui::Color32;
use egui_plot::{Legend, Line, Plot, PlotPoints};
use std::collections::VecDeque;

/// Samples of who-sits-where kept for the plot.
const KEEP: usize = 600;

/// What the panel remembers.
#[derive(Default)]
pub struct TemperingState {
    /// The latest report.
    pub latest: Option<TemperingSnapshot>,
    /// `(step, identity)` samples, oldest first.
    history: VecDeque<(u64, Vec<usize>)>,
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
pub fn panel_ui(ui: &mut egui::Ui, pane: &RunPane, comparing: bool) {
    if pane.tempering.latest.is_none() {
        return;
    }
    let side = pane.side.letter();
    let title = if comparing {
        format!("Run {side}: parallel tempering")
    } else {
        "Parallel tempering".to_owned()
    };
    ladder_ui(ui, &pane.tempering, &title, &format!("ladder-{side}"));
}

/// The ladder table and the replicas-over-time plot of one run.
fn ladder_ui(ui: &mut egui::Ui, state: &TemperingState, title: &str, id: &str) {
    let Some(t) = &state.latest else { return };
    ui.strong(title)
        .on_hover_text("Replicas at fixed temperatures exchange configurations with their neighbours, accepted with min(1, exp((1/T_i - 1/T_j)(E_i - E_j))): hot replicas cross barriers and hand what they find down the ladder.");
    let k = t.ladder.len();
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
                ui.colored_label(slot_color(i, k), format!("{:.3e}", t.ladder[i]));
                ui.label(t.identity[i].to_string());
                ui.monospace(format!("{:.4}", t.energies[i]));
                match t.swap_rates.get(i) {
                    Some(r) if r.is_finite() => ui.monospace(format!("{:.1}%", 100.0 * r)),
                    _ => ui.label(""),
                };
                ui.end_row();
            }
        });
    Plot::new(format!("{id}-over-time"))
        .height(110.0)
        .legend(Legend::default())
        .y_axis_formatter(|m, _| format!("T{}", m.value as i64))
        .show(ui, |p| {
            for replica in 0..k {
                let pts: Vec<[f64; 2]> = state
                    .history
                    .iter()
                    .filter_map(|(step, id)| {
                        id.iter()
                            .position(|&r| r == replica)
                            .map(|slot| [*step as f64, slot as f64])
                    })
                    .collect();
                p.line(
                    Line::new(format!("replica {replica}"), PlotPoints::from(pts))
                        .color(slot_color(replica, k)),
                );
            }
        });
}
