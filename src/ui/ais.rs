//! The annealed-importance-sampling panel, shared by the kinds that answer AIS requests
//! (the Boltzmann machine and the 2D landscapes): `K` and `M`, an estimate on demand (or
//! again and again), the estimate with its error bar beside the exact `ln Z` over the run,
//! the running estimate as the runs come in, the spread of the log-weights, and the error
//! against `K`.
//!
//! The estimates are computed on the trainer thread (a [`Request`] answered by the
//! problem); the panel only asks and draws.

use super::pane::RunPane;
use super::{Action, Target};
use crate::sim::ais::{AisAnswer, AisErrors, limits};
use crate::sim::{Reply, Request};
use crate::trainer::Command;
use egui::{Color32, DragValue, Ui};
use egui_plot::{
    Bar, BarChart, Corner, HLine, Legend, Line, LineStyle, Plot, PlotPoints, Points, VLine,
};
use std::sync::Arc;
use web_time::{Duration, Instant};

/// Estimates kept for the plot over the run.
const KEEP: usize = 400;
/// Estimates per `K` in the error-versus-`K` curve.
const REPEATS: usize = 5;
/// Shortest pause between automatic estimates.
const AUTO_EVERY: Duration = Duration::from_millis(1000);
/// A request unanswered for this long (a restarted run) may be asked again.
const STALE: Duration = Duration::from_secs(15);

const EXACT: Color32 = Color32::from_rgb(230, 160, 40);
const ESTIMATE: Color32 = Color32::from_rgb(80, 170, 240);

/// One estimate over the run.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Point {
    step: u64,
    ln_z: f64,
    std_err: f64,
    exact: f64,
}

/// What the panel remembers of one run.
#[derive(Default)]
pub struct AisUi {
    /// Intervals `K`.
    pub k: usize,
    /// Runs `M`.
    pub m: usize,
    /// Ask again whenever an answer arrives.
    pub auto: bool,
    /// The run's defaults the settings above were taken from.
    defaults: Option<(usize, usize, bool)>,
    /// When an estimate was asked for, and the run's step then.
    pending: Option<(Instant, u64)>,
    errors_pending: Option<Instant>,
    last_answer: Option<Instant>,
    history: Vec<Point>,
    latest: Option<AisAnswer>,
    errors: Option<AisErrors>,
}

impl AisUi {
    /// Takes in an AIS answer (other replies are not for this panel).
    pub fn answer(&mut self, reply: Arc<Reply>) {
        match &*reply {
            Reply::Ais(a) => {
                let step = self.pending.map_or(0, |(_, s)| s);
                self.pending = None;
                self.last_answer = Some(Instant::now());
                if self.history.len() == KEEP {
                    self.history.remove(0);
                }
                self.history.push(Point {
                    step,
                    ln_z: a.estimate.ln_z,
                    std_err: a.estimate.std_err,
                    exact: a.exact_ln_z,
                });
                self.latest = Some(a.clone());
            }
            Reply::AisErrors(e) => {
                self.errors_pending = None;
                self.errors = Some(e.clone());
            }
            Reply::LossSlice(_) => {}
        }
    }

    /// The latest estimate.
    pub fn latest(&self) -> Option<&AisAnswer> {
        self.latest.as_ref()
    }

    /// Takes `K`, `M` and auto from the run's settings when they are new to the panel.
    fn adopt(&mut self, k: usize, m: usize, auto: bool) {
        if self.defaults != Some((k, m, auto)) {
            self.defaults = Some((k, m, auto));
            self.k = k;
            self.m = m;
            self.auto = auto;
        }
    }

    /// Forgets the estimates of a run that restarted (its step went back).
    fn follow(&mut self, step: u64) {
        if self.history.last().is_some_and(|p| p.step > step) {
            self.history.clear();
            self.latest = None;
            self.errors = None;
        }
    }

    fn waiting(&self) -> bool {
        self.pending.is_some_and(|(t, _)| t.elapsed() < STALE)
    }
}

/// What the panel needs from the kind that shows it.
pub struct AisCtx<'a> {
    /// The run's default `K`, `M` and auto setting.
    pub defaults: (usize, usize, bool),
    /// The temperature to estimate at.
    pub temperature: f64,
    /// What is estimated (`ln Z`, `ln Z(T)`), for the readout.
    pub what: &'a str,
    /// The exact `ln Z` over the run as `(step, ln Z)`, when the kind records it.
    pub exact_curve: Vec<[f64; 2]>,
    /// Trainer commands.
    pub actions: &'a mut Vec<Action>,
}

/// The panel of one run.
pub fn panel_ui(ui: &mut Ui, pane: &RunPane, state: &mut AisUi, ctx: AisCtx<'_>) {
    let (k0, m0, auto0) = ctx.defaults;
    state.adopt(k0, m0, auto0);
    state.follow(pane.step());
    let mut ask = false;
    let mut ask_errors = false;
    ui.horizontal_wrapped(|ui| {
        ui.label("K").on_hover_text(
            "Intervals between the base distribution (beta = 0, Z known) and the target (beta = 1)",
        );
        ui.add(
            DragValue::new(&mut state.k)
                .range(*limits::K.start()..=100_000)
                .speed(10.0),
        );
        ui.label("M").on_hover_text("Independent annealing runs, each giving one weight w");
        ui.add(DragValue::new(&mut state.m).range(*limits::M.start()..=10_000));
        ask |= ui
            .add_enabled(!state.waiting(), egui::Button::new("Estimate ln Z"))
            .on_hover_text("Run AIS now on the trainer thread (the run pauses meanwhile)")
            .clicked();
        ui.checkbox(&mut state.auto, "again and again")
            .on_hover_text("A new estimate whenever the run has moved on since the last one (at most once a second)");
        ask_errors |= ui
            .add_enabled(
                state.errors_pending.is_none_or(|t| t.elapsed() >= STALE),
                egui::Button::new("Error vs K"),
            )
            .on_hover_text(format!(
                "The mean |error| of {REPEATS} estimates of M runs each at K = 1, 3, 10, ... up to K"
            ))
            .clicked();
    });
    // Again only when the run has moved on since the last estimate.
    let moved = state.history.last().is_none_or(|p| p.step != pane.step());
    if state.auto
        && moved
        && !state.waiting()
        && state.last_answer.is_none_or(|t| t.elapsed() >= AUTO_EVERY)
    {
        ask = true;
    }
    let t = ctx.temperature;
    if ask && !state.waiting() {
        ctx.actions.push(Action::Trainer(
            Target::Side(pane.side),
            Command::Ask(Request::Ais {
                k: state.k,
                m: state.m,
                t,
            }),
        ));
        state.pending = Some((Instant::now(), pane.step()));
    }
    if ask_errors {
        ctx.actions.push(Action::Trainer(
            Target::Side(pane.side),
            Command::Ask(Request::AisErrors {
                k_max: state.k,
                m: state.m,
                repeats: REPEATS,
                t,
            }),
        ));
        state.errors_pending = Some(Instant::now());
    }
    match &state.latest {
        Some(a) => {
            let e = &a.estimate;
            let err = e.ln_z - a.exact_ln_z;
            ui.label(format!(
                "AIS {} = {:.4} ± {:.4} (K = {}, M = {}, ESS {:.0}), exact {:.4}: error {:+.4} = {:+.1} SE",
                ctx.what,
                e.ln_z,
                e.std_err,
                e.k,
                e.log_weights.len(),
                e.ess,
                a.exact_ln_z,
                err,
                err / e.std_err.max(1e-300),
            ))
            .on_hover_text(format!(
                "At T = {:.4}, annealed from {} (ln Z0 = {:.4}). The standard error is the delta-method estimate from the spread of the M weights; AIS is biased low by about SE^2/2.",
                a.temperature, a.base, e.ln_z0
            ));
        }
        None => {
            ui.weak(format!(
                "No AIS estimate of {} yet (Estimate ln Z, or tick \"again and again\")",
                ctx.what
            ));
        }
    }
    let width = ui.available_width();
    let half = ((width - ui.spacing().item_spacing.x) / 2.0).max(80.0);
    let height = (ui.available_height() * 0.22).clamp(90.0, 200.0);
    let id = |name: &str| format!("ais-{name}-{}", pane.side.letter());
    ui.horizontal(|ui| {
        over_run_plot(ui, &id("run"), state, &ctx.exact_curve, [half, height]);
        running_plot(ui, &id("running"), state, [half, height]);
    });
    ui.horizontal(|ui| {
        weights_plot(ui, &id("weights"), state, [half, height]);
        errors_plot(ui, &id("errors"), state, [half, height]);
    });
}

/// The exact `ln Z` over the run and each estimate with its error bar.
fn over_run_plot(ui: &mut Ui, id: &str, state: &AisUi, exact: &[[f64; 2]], size: [f32; 2]) {
    Plot::new(id)
        .width(size[0])
        .height(size[1])
        .legend(Legend::default().position(Corner::RightBottom))
        .x_axis_label("step")
        .show(ui, |p| {
            if exact.is_empty() {
                let pts: Vec<[f64; 2]> = state
                    .history
                    .iter()
                    .map(|q| [q.step as f64, q.exact])
                    .collect();
                p.points(Points::new("exact ln Z", pts).color(EXACT).radius(3.0));
            } else {
                p.line(Line::new("exact ln Z", PlotPoints::from(exact.to_vec())).color(EXACT));
            }
            for q in &state.history {
                let x = q.step as f64;
                p.line(
                    Line::new(
                        "AIS ± SE",
                        PlotPoints::from(vec![[x, q.ln_z - q.std_err], [x, q.ln_z + q.std_err]]),
                    )
                    .color(ESTIMATE)
                    .width(2.0),
                );
            }
            let pts: Vec<[f64; 2]> = state
                .history
                .iter()
                .map(|q| [q.step as f64, q.ln_z])
                .collect();
            p.points(Points::new("AIS ± SE", pts).color(ESTIMATE).radius(2.5));
        });
}

/// The estimate after the first `m` runs of the latest answer, with its error band.
fn running_plot(ui: &mut Ui, id: &str, state: &AisUi, size: [f32; 2]) {
    let Some(a) = &state.latest else {
        Plot::new(id)
            .width(size[0])
            .height(size[1])
            .show(ui, |_| {});
        return;
    };
    let (mid, lo, hi) = running(&a.estimate.log_weights, a.estimate.ln_z0);
    Plot::new(id)
        .width(size[0])
        .height(size[1])
        .x_axis_label("runs m: estimate so far (± SE dashed) vs exact")
        .show(ui, |p| {
            p.line(
                Line::new("± SE", PlotPoints::from(lo))
                    .color(ESTIMATE.gamma_multiply(0.5))
                    .style(LineStyle::dashed_dense()),
            );
            p.line(
                Line::new("± SE", PlotPoints::from(hi))
                    .color(ESTIMATE.gamma_multiply(0.5))
                    .style(LineStyle::dashed_dense()),
            );
            p.line(Line::new("running AIS estimate", PlotPoints::from(mid)).color(ESTIMATE));
            p.hline(HLine::new("exact ln Z", a.exact_ln_z).color(EXACT));
        });
}

/// The running estimate `ln Z0 + ln mean(w_1..w_m)` and its `± SE` band for `m = 2..M`.
type Curve = Vec<[f64; 2]>;
fn running(log_weights: &[f64], ln_z0: f64) -> (Curve, Curve, Curve) {
    let max = log_weights
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut mid, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
    if !max.is_finite() {
        return (mid, lo, hi);
    }
    let (mut s, mut s2) = (0.0, 0.0);
    for (i, &lw) in log_weights.iter().enumerate() {
        let r = if lw.is_finite() {
            (lw - max).exp()
        } else {
            0.0
        };
        s += r;
        s2 += r * r;
        let m = (i + 1) as f64;
        if i == 0 || s <= 0.0 {
            continue;
        }
        let mean = s / m;
        let var = ((s2 - m * mean * mean) / (m - 1.0)).max(0.0);
        let se = (var / m).sqrt() / mean;
        let est = ln_z0 + max + mean.ln();
        mid.push([m, est]);
        lo.push([m, est - se]);
        hi.push([m, est + se]);
    }
    (mid, lo, hi)
}

/// The per-run estimates `ln Z0 + ln w` of the latest answer as a histogram.
fn weights_plot(ui: &mut Ui, id: &str, state: &AisUi, size: [f32; 2]) {
    let plot = Plot::new(id)
        .width(size[0])
        .height(size[1])
        .x_axis_label("ln Z0 + ln w of each run (exact: orange)");
    let Some(a) = &state.latest else {
        plot.show(ui, |_| {});
        return;
    };
    let xs: Vec<f64> = a
        .estimate
        .log_weights
        .iter()
        .filter(|x| x.is_finite())
        .map(|x| x + a.estimate.ln_z0)
        .collect();
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let bins = 24usize;
    let width = ((hi - lo) / bins as f64).max(1e-6);
    let mut counts = vec![0u32; bins];
    for x in &xs {
        counts[(((x - lo) / width) as usize).min(bins - 1)] += 1;
    }
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| Bar::new(lo + (i as f64 + 0.5) * width, f64::from(c)).width(width))
        .collect();
    plot.show(ui, |p| {
        p.bar_chart(BarChart::new("runs", bars).color(ESTIMATE));
        p.vline(VLine::new("exact ln Z", a.exact_ln_z).color(EXACT));
        p.vline(
            VLine::new("AIS estimate", a.estimate.ln_z)
                .color(ESTIMATE)
                .style(LineStyle::dashed_dense()),
        );
    });
}

/// Mean |error| and mean reported SE against `K`, both axes log10.
fn errors_plot(ui: &mut Ui, id: &str, state: &AisUi, size: [f32; 2]) {
    let plot = Plot::new(id)
        .width(size[0])
        .height(size[1])
        .legend(Legend::default())
        .x_axis_label("K (log)")
        .x_axis_formatter(|m, _| format!("{:.0}", 10f64.powf(m.value)))
        .y_axis_formatter(|m, _| format!("{:.0e}", 10f64.powf(m.value)));
    let Some(e) = &state.errors else {
        let waiting = state.errors_pending.is_some_and(|t| t.elapsed() < STALE);
        ui.allocate_ui(egui::vec2(size[0], size[1]), |ui| {
            ui.set_min_size(egui::vec2(size[0], size[1]));
            ui.centered_and_justified(|ui| {
                ui.weak(if waiting {
                    "Measuring the error against K..."
                } else {
                    "Error vs K: press the button above"
                })
            });
        });
        return;
    };
    let log = |v: f64| v.max(1e-12).log10();
    let err: Vec<[f64; 2]> = e
        .points
        .iter()
        .map(|p| [log(p.k as f64), log(p.mean_abs_error)])
        .collect();
    let se: Vec<[f64; 2]> = e
        .points
        .iter()
        .map(|p| [log(p.k as f64), log(p.mean_std_err)])
        .collect();
    plot.show(ui, |p| {
        p.line(Line::new("mean |AIS - exact|", PlotPoints::from(err.clone())).color(ESTIMATE));
        p.points(
            Points::new("mean |AIS - exact|", err)
                .color(ESTIMATE)
                .radius(3.0),
        );
        p.line(
            Line::new("mean reported SE", PlotPoints::from(se))
                .color(EXACT)
                .style(LineStyle::dashed_dense()),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_estimate_ends_at_the_full_estimate() {
        let lw = vec![0.3, -1.2, 2.5, 0.0, 1.1, -0.4];
        let full = crate::sim::ais::AisEstimate::from_log_weights(1.5, lw.clone(), 10);
        let (mid, lo, hi) = running(&lw, 1.5);
        assert_eq!(mid.len(), lw.len() - 1);
        let last = mid[mid.len() - 1];
        assert_eq!(last[0], lw.len() as f64);
        assert!((last[1] - full.ln_z).abs() < 1e-12);
        let band = hi[hi.len() - 1][1] - lo[lo.len() - 1][1];
        assert!((band - 2.0 * full.std_err).abs() < 1e-12);
    }
}
