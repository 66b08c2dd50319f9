//! The live plots: temperature (with the schedule's plan ahead, dashed), energy current
//! and best, acceptance rate and accuracy, against the step. Their x axes are linked.
//!
//! Each line is the min/max envelope of the history over the visible steps, at most two
//! points per pixel column, so a frame costs the same for ten thousand steps or a million.

use super::App;
use crate::sim::{History, Metric, ScheduleState};
use egui::{Color32, Id};
use egui_plot::{HoverPosition, Legend, Line, LineStyle, Plot, PlotPoints};

/// Colours of run B's curves in compare mode (T, E, best E, acceptance, train and test
/// accuracy): warm tones, to tell them from A's at a glance.
const B_COLORS: [Color32; 6] = [
    Color32::from_rgb(255, 170, 60),
    Color32::from_rgb(255, 120, 200),
    Color32::from_rgb(255, 220, 100),
    Color32::from_rgb(250, 140, 110),
    Color32::from_rgb(255, 200, 150),
    Color32::from_rgb(200, 240, 120),
];

/// What the plots remember between frames.
#[derive(Clone, Debug, Default)]
pub struct PlotsState {
    /// Steps shown by the linked x axes in the last frame.
    pub x_view: Option<[f64; 2]>,
    /// A pinned earlier run, drawn in grey under the live curves: its title and history.
    pub ghost: Option<(String, History)>,
}

/// One metric's envelope over `[lo, hi]` in at most `columns` columns, optionally as
/// `log10` of the values (non-positive values are dropped).
pub fn series(
    history: &History,
    metric: Metric,
    lo: f64,
    hi: f64,
    columns: usize,
    log: bool,
) -> Vec<[f64; 2]> {
    let mut pts = Vec::new();
    history.envelope(metric, lo, hi, columns, &mut pts);
    if log {
        pts.retain(|p| p[1] > 0.0);
        for p in &mut pts {
            p[1] = p[1].log10();
        }
    }
    pts
}

/// The schedule's planned temperature from the current step to `until`, 100 points.
fn plan(schedule: &ScheduleState, until: f64, log: bool) -> Vec<[f64; 2]> {
    let from = schedule.step() as f64;
    (0..=100)
        .map(|i| {
            let k = from + (until - from) * f64::from(i) / 100.0;
            let t = schedule.planned(k as u64);
            [k, if log { t.log10() } else { t }]
        })
        .collect()
}

/// `C = Var(E)/T^2` from the energy fluctuations, against `log10 T`, with its peak (where
/// the run froze) marked. Cooling should be slowest there.
fn heat_capacity_plot(ui: &mut egui::Ui, history: &History, height: f32) {
    // At most about a thousand points: every k-th bucket's end values.
    let stride = history.buckets().len().div_ceil(1000).max(1);
    let pts: Vec<[f64; 2]> = history
        .buckets()
        .iter()
        .step_by(stride)
        .map(|b| {
            [
                b.end[Metric::Temperature as usize],
                b.end[Metric::HeatCapacity as usize],
            ]
        })
        .filter(|p| p[0] > 0.0 && p[1].is_finite())
        .map(|p| [p[0].log10(), p[1]])
        .collect();
    let peak = pts
        .iter()
        .cloned()
        .fold(None, |best: Option<[f64; 2]>, p| match best {
            Some(b) if b[1] >= p[1] => Some(b),
            _ => Some(p),
        });
    Plot::new("heat-capacity")
        .height(height)
        .legend(Legend::default())
        .x_axis_formatter(|m, _| format!("T = {:.0e}", 10f64.powf(m.value)))
        .label_formatter(|pos| {
            let p = match pos {
                HoverPosition::NearDataPoint { position, .. } => position,
                HoverPosition::Elsewhere { position } => position,
            };
            Some(format!("T = {:.4e}\nC = {:.4}", 10f64.powf(p.x), p.y))
        })
        .show(ui, |p| {
            p.points(
                egui_plot::Points::new("C = Var(E)/T^2 (window)", pts)
                    .radius(1.5)
                    .color(Color32::from_rgb(230, 120, 180)),
            );
            if let Some(peak) = peak {
                p.vline(egui_plot::VLine::new("C peak: freezing", peak[0]).color(Color32::GRAY));
            }
        });
}

/// The hover label: the series, the step and the exact value (undoing the log scale).
fn hover_label(log: bool) -> impl Fn(&HoverPosition<'_>) -> Option<String> {
    move |pos| {
        let (name, p) = match pos {
            HoverPosition::NearDataPoint {
                plot_name,
                position,
                ..
            } => (*plot_name, position),
            HoverPosition::Elsewhere { position } => ("", position),
        };
        let value = if log { 10f64.powf(p.y) } else { p.y };
        let sep = if name.is_empty() { "" } else { "\n" };
        Some(format!("{name}{sep}step {:.0}\n{value:.6}", p.x))
    }
}

fn log_axis(mark: egui_plot::GridMark, range: &std::ops::RangeInclusive<f64>) -> String {
    let value = 10f64.powf(mark.value);
    // Within a decade the marks need more digits to differ.
    if range.end() - range.start() < 1.0 {
        format!("{value:.3e}")
    } else {
        format!("{value:.0e}")
    }
}

impl App {
    /// The four linked plots.
    pub(super) fn plots_ui(&mut self, ui: &mut egui::Ui) {
        let Some(latest) = self.feed.latest.clone() else {
            return;
        };
        let last = latest.record.step.max(1) as f64;
        // Follow: the whole run so far plus a quarter ahead for the planned temperature.
        let ahead = (last * 0.25).max(100.0);
        let [lo, hi] = if self.view.follow {
            [0.0, last + ahead]
        } else {
            self.plots.x_view.unwrap_or([0.0, last + ahead])
        };
        let columns = (ui.available_width().max(100.0) as usize).min(2000);
        ui.horizontal(|ui| {
            ui.strong("Live plots");
            if !self.view.follow
                && ui
                    .button("Follow the run")
                    .on_hover_text("Scroll with the run again")
                    .clicked()
            {
                self.view.follow = true;
            }
            ui.checkbox(&mut self.preset.view.log_temperature, "log T");
            ui.checkbox(&mut self.preset.view.log_energy, "log E");
            if ui
                .button("Pin as ghost")
                .on_hover_text(
                    "Keep this run's curves on the plots, in grey, to compare with the next run",
                )
                .clicked()
            {
                self.plots.ghost = Some((self.preset.title.clone(), self.feed.history.clone()));
            }
            if self.plots.ghost.is_some() && ui.button("Clear ghost").clicked() {
                self.plots.ghost = None;
            }
        });
        if self.landscape.latest.is_some() {
            self.thermo_ui(ui);
        }
        self.tempering_ui(ui);
        let mut shown = self.preset.view.plots;
        // Accuracy means nothing for walkers on a landscape.
        shown.accuracy &= self.landscape.latest.is_none();
        let count = [
            shown.temperature,
            shown.energy,
            shown.acceptance,
            shown.accuracy,
            shown.heat_capacity,
        ]
        .iter()
        .filter(|&&s| s)
        .count()
        .max(1) as f32;
        let height =
            ((ui.available_height() - count * ui.spacing().item_spacing.y) / count).max(60.0);
        let link = Id::unique("step-axis");
        let h = &self.feed.history;
        // A log axis needs positive energies (a landscape's may be negative).
        let positive = latest.record.best_energy > 0.0;
        let (log_t, log_e) = (
            self.preset.view.log_temperature,
            self.preset.view.log_energy && positive,
        );
        let temperature = series(h, Metric::Temperature, lo, hi, columns, log_t);
        let planned = plan(&latest.schedule, last + ahead, log_t);
        let energy = series(h, Metric::Energy, lo, hi, columns, log_e);
        let best = series(h, Metric::BestEnergy, lo, hi, columns, log_e);
        let acceptance = series(h, Metric::Acceptance, lo, hi, columns, false);
        let train = series(h, Metric::TrainAccuracy, lo, hi, columns, false);
        let test = series(h, Metric::TestAccuracy, lo, hi, columns, false);

        let mut interacted = false;
        let mut view = None;
        let mut plot = |ui: &mut egui::Ui,
                        id: &str,
                        log: bool,
                        y_range: Option<[f64; 2]>,
                        lines: Vec<Line<'static>>| {
            let mut p = Plot::new(id)
                .height(height)
                .link_axis(link, [true, false])
                .link_cursor(link, [true, false])
                .legend(Legend::default())
                .allow_scroll([true, false])
                .label_formatter(hover_label(log))
                .y_axis_min_width(48.0);
            if log {
                p = p.y_axis_formatter(log_axis);
            }
            if let Some([a, b]) = y_range {
                p = p.include_y(a).include_y(b);
            }
            let follow = self.view.follow;
            let r = p.show(ui, |plot_ui| {
                for line in lines {
                    plot_ui.line(line);
                }
                if follow {
                    plot_ui.set_plot_bounds_x(lo..=hi);
                    plot_ui.set_auto_bounds([false, true]);
                }
                plot_ui.plot_bounds()
            });
            let resp = &r.response;
            if resp.dragged()
                || (resp.hovered() && ui.input(|i| i.smooth_scroll_delta != egui::Vec2::ZERO))
                || resp.double_clicked()
            {
                interacted = true;
            }
            let b = r.inner;
            view = Some([b.min()[0], b.max()[0]]);
        };
        let ghost = self.plots.ghost.as_ref();
        // B's curves in compare mode: a second colour family, dashed, named "B: ...".
        let b_history = self.compare.as_ref().map(|c| &c.feed.history);
        let b_line =
            |metric: Metric, log: bool, name: &str, color: Color32| -> Option<Line<'static>> {
                let h = b_history?;
                let pts = series(h, metric, lo, hi, columns, log);
                Some(
                    Line::new(format!("B: {name}"), PlotPoints::from(pts))
                        .color(color)
                        .style(LineStyle::dashed_dense()),
                )
            };
        let ghost_line = |metric: Metric, log: bool| -> Option<Line<'static>> {
            let (title, h) = ghost?;
            let pts = series(h, metric, lo, hi, columns, log);
            Some(
                Line::new(format!("ghost: {title}"), PlotPoints::from(pts))
                    .color(Color32::from_gray(130)),
            )
        };
        let accent = Color32::from_rgb(220, 80, 60);
        if shown.temperature {
            let lines = vec![
                Line::new("temperature T", PlotPoints::from(temperature)).color(accent),
                Line::new("planned", PlotPoints::from(planned))
                    .color(accent)
                    .style(LineStyle::dashed_loose()),
            ];
            let lines = ghost_line(Metric::Temperature, log_t)
                .into_iter()
                .chain(lines)
                .chain(b_line(
                    Metric::Temperature,
                    log_t,
                    "temperature T",
                    B_COLORS[0],
                ))
                .collect();
            plot(ui, "temperature", log_t, None, lines);
        }
        if shown.energy {
            let lines = vec![
                Line::new("energy E", PlotPoints::from(energy))
                    .color(Color32::from_rgb(80, 140, 230)),
                Line::new("best E", PlotPoints::from(best)).color(Color32::from_rgb(60, 180, 90)),
            ];
            let lines = ghost_line(Metric::Energy, log_e)
                .into_iter()
                .chain(lines)
                .chain(b_line(Metric::Energy, log_e, "energy E", B_COLORS[1]))
                .chain(b_line(Metric::BestEnergy, log_e, "best E", B_COLORS[2]))
                .collect();
            plot(ui, "energy", log_e, None, lines);
        }
        if shown.acceptance {
            let lines = vec![
                Line::new("acceptance rate", PlotPoints::from(acceptance))
                    .color(Color32::from_rgb(170, 110, 220)),
            ];
            let lines = ghost_line(Metric::Acceptance, false)
                .into_iter()
                .chain(lines)
                .chain(b_line(
                    Metric::Acceptance,
                    false,
                    "acceptance rate",
                    B_COLORS[3],
                ))
                .collect();
            plot(ui, "acceptance", false, Some([0.0, 1.0]), lines);
        }
        if shown.accuracy {
            let lines = vec![
                Line::new("train accuracy", PlotPoints::from(train))
                    .color(Color32::from_rgb(230, 160, 40)),
                Line::new("test accuracy", PlotPoints::from(test))
                    .color(Color32::from_rgb(40, 170, 170)),
            ];
            let lines = ghost_line(Metric::TrainAccuracy, false)
                .into_iter()
                .chain(lines)
                .chain(b_line(
                    Metric::TrainAccuracy,
                    false,
                    "train accuracy",
                    B_COLORS[4],
                ))
                .chain(b_line(
                    Metric::TestAccuracy,
                    false,
                    "test accuracy",
                    B_COLORS[5],
                ))
                .collect();
            plot(ui, "accuracy", false, Some([0.0, 1.0]), lines);
        }
        if shown.heat_capacity {
            heat_capacity_plot(ui, &self.feed.history, height);
        }
        if interacted {
            self.view.follow = false;
        }
        if !self.view.follow {
            self.plots.x_view = view;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::StepRecord;

    #[test]
    fn decimation_keeps_every_extreme_of_any_window() {
        let mut history = History::new(512);
        let mut raw = vec![f64::NAN]; // raw[step], steps from 1
        let mut x: u64 = 99;
        for step in 1..=300_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // A slow trend plus rare spikes: the spikes must survive decimation.
            let spike = if x >> 60 == 0 { 50.0 } else { 0.0 };
            let v = (step as f64 * 1e-4).sin() + (x >> 40) as f64 / (1u64 << 24) as f64 + spike;
            raw.push(v);
            history.push(&StepRecord {
                step,
                temperature: v,
                energy: v,
                best_energy: v,
                acceptance_rate: 0.0,
                train_accuracy: 0.0,
                test_accuracy: 0.0,
                heat_capacity: 0.0,
            });
        }
        let buckets = history.buckets();
        for (i, &(lo, hi, columns)) in [
            (1.0, 300_000.0, 800),
            (12_345.0, 54_321.0, 300),
            (100_000.0, 100_900.0, 50),
            (250_000.0, 299_000.0, 3),
        ]
        .iter()
        .enumerate()
        {
            let pts = series(&history, Metric::Energy, lo, hi, columns, false);
            assert!(pts.len() <= 2 * columns, "window {i}: {} points", pts.len());
            // The plotted extremes are the raw extremes of the steps the visible buckets cover.
            let first = buckets
                .iter()
                .find(|b| b.last as f64 >= lo)
                .map_or(1, |b| b.first) as usize;
            let last = buckets
                .iter()
                .rev()
                .find(|b| b.first as f64 <= hi)
                .map_or(1, |b| b.last) as usize;
            let raw_min = raw[first..=last]
                .iter()
                .cloned()
                .fold(f64::INFINITY, f64::min);
            let raw_max = raw[first..=last]
                .iter()
                .cloned()
                .fold(f64::NEG_INFINITY, f64::max);
            let min = pts.iter().map(|p| p[1]).fold(f64::INFINITY, f64::min);
            let max = pts.iter().map(|p| p[1]).fold(f64::NEG_INFINITY, f64::max);
            assert_eq!((min, max), (raw_min, raw_max), "window {i}");
        }
    }
}
