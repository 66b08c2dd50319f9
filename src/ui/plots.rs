//! The live plots: temperature (with the schedule's plan ahead, dashed), energy current
//! and best, acceptance rate and each group of the problem's own observables against the
//! step, their x axes and cursors linked; the heat capacity against the temperature.
//!
//! Each line is the min/max envelope of the history over the visible steps, at most two
//! points per pixel column, so a frame costs the same for ten thousand steps or a million.
//! Legends never cover curves: a compact key above the plots names every line (shape as
//! well as colour: run B dashed, the plan dotted), and hovering any plot lists every
//! quantity at that step.

use super::format::{number, percent};
use super::key;
use super::pane::RunPane;
use super::{Looks, Placed};
use crate::preset::PlotSet;
use crate::sim::thermo::{CURVE_BINS_PER_DECADE, TemperatureBins, curve_peak};
use crate::sim::{History, Metric, Observable, PlotKind, ScheduleState, StepRecord};
use egui::{Color32, Id, Rect};
use egui_plot::{HoverPosition, Line, LineStyle, Plot, PlotPoints};

/// Smallest height of a plot's data area, in logical pixels; more plots than fit scroll.
pub const MIN_PLOT: f32 = 120.0;

/// Room a plot needs besides its data area (its x axis).
const AXIS: f32 = 26.0;

/// Colours of run A's core curves (T, E, best E, acceptance) and of its observables.
const A_CORE: [Color32; 4] = [
    Color32::from_rgb(220, 80, 60),
    Color32::from_rgb(80, 140, 230),
    Color32::from_rgb(60, 180, 90),
    Color32::from_rgb(170, 110, 220),
];
const A_OBSERVABLES: [Color32; 6] = [
    Color32::from_rgb(230, 160, 40),
    Color32::from_rgb(40, 170, 170),
    Color32::from_rgb(230, 120, 180),
    Color32::from_rgb(150, 200, 60),
    Color32::from_rgb(200, 200, 200),
    Color32::from_rgb(120, 120, 240),
];

/// Colours of run B's curves in compare mode: warm tones, and dashed.
const B_COLORS: [Color32; 6] = [
    Color32::from_rgb(255, 170, 60),
    Color32::from_rgb(255, 120, 200),
    Color32::from_rgb(255, 220, 100),
    Color32::from_rgb(250, 140, 110),
    Color32::from_rgb(255, 200, 150),
    Color32::from_rgb(200, 240, 120),
];

/// The ghost's colour.
const GHOST: Color32 = Color32::from_gray(130);

/// What the plots remember between frames.
#[derive(Clone, Debug)]
pub struct PlotsState {
    /// Steps shown by the linked x axes in the last frame.
    pub x_view: Option<[f64; 2]>,
    /// A pinned earlier run, drawn in grey under the live curves: its title and history.
    pub ghost: Option<(String, History)>,
    /// Show the key naming every line.
    pub key: bool,
    /// Where the plots were drawn in the last frame (for layout checks).
    pub placed: Vec<Placed>,
    /// The plots did not fit and scroll.
    pub scrolls: bool,
    /// A step whose values stay on screen (clicked on a plot), until unpinned.
    pub pinned: Option<f64>,
}

impl Default for PlotsState {
    fn default() -> Self {
        Self {
            x_view: None,
            ghost: None,
            key: true,
            placed: Vec::new(),
            scrolls: false,
            pinned: None,
        }
    }
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
    logged(pts, log)
}

/// `pts` as they are, or with `log10` of their values (non-positive values dropped).
fn logged(mut pts: Vec<[f64; 2]>, log: bool) -> Vec<[f64; 2]> {
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

/// The bins of the first `count` buckets of a history in one epoch, kept between frames.
#[derive(Clone, Debug)]
struct BinnedPrefix {
    bins: TemperatureBins,
    count: usize,
    epoch: u64,
}

impl BinnedPrefix {
    /// None of `history`'s buckets binned yet.
    fn new(history: &History) -> Self {
        Self {
            bins: TemperatureBins::new(CURVE_BINS_PER_DECADE),
            count: 0,
            epoch: history.epoch(),
        }
    }
}

/// `(end T, end C)` of every bucket of `history` (metrics `t` and `k`) binned as
/// [`crate::sim::thermo::binned_by_temperature`] does, adding to `kept` only the buckets
/// it lacks (all of them when it is of another epoch of the history), in place.
fn binned_incrementally(
    kept: &mut BinnedPrefix,
    history: &History,
    t: usize,
    k: usize,
) -> Vec<(f64, f64)> {
    let buckets = history.buckets();
    if kept.epoch != history.epoch() || kept.count > buckets.len() {
        *kept = BinnedPrefix::new(history);
    }
    // The last bucket may still change: it is added to a copy, every frame.
    let complete = buckets.len().saturating_sub(1);
    for b in buckets.get(kept.count..complete).unwrap_or_default() {
        kept.bins.add(b.end[t], b.end[k]);
    }
    kept.count = kept.count.max(complete);
    let mut bins = kept.bins.clone();
    if let Some(b) = buckets.last() {
        bins.add(b.end[t], b.end[k]);
    }
    bins.curve()
}

/// An observable (the heat capacity) of one or two runs against `log10 T`: each run's
/// estimates averaged in bins of 1/10 decade of `T` (one line however noisy the single
/// estimates, NaN ones, meaningless, left out), with its peak (where it froze) marked and
/// labelled. Cooling should be slowest there. `runs` lists each run's history, the
/// observable's index, a colour and a prefix for its name. Returns where it was drawn.
fn heat_capacity_plot(
    ui: &mut egui::Ui,
    title: &str,
    runs: &[(&History, usize, Color32, &str)],
    height: f32,
) -> Rect {
    // Each run's binned points in order of temperature, and its peak inside the range.
    type Series = (Vec<[f64; 2]>, Option<[f64; 2]>);
    let series: Vec<Series> = runs
        .iter()
        .enumerate()
        .map(|(r, (history, i, _, _))| {
            let (k, t) = (Metric::observable(*i).0, Metric::TEMPERATURE.0);
            // Binning costs a logarithm per bucket: the bins of the buckets that can no
            // longer change are kept between frames, and only new buckets are added.
            let id = egui::Id::unique(("binned", title, r, k));
            let binned = ui.data_mut(|d| {
                let kept = d.get_temp_mut_or_insert_with(id, || BinnedPrefix::new(history));
                binned_incrementally(kept, history, t, k)
            });
            let peak = curve_peak(&binned)
                .filter(|p| p.2)
                .map(|(t, c, _)| [t.log10(), c]);
            let pts: Vec<[f64; 2]> = binned.into_iter().map(|(t, c)| [t.log10(), c]).collect();
            (pts, peak)
        })
        .collect();
    let label = title.to_owned();
    let response = Plot::new(format!("{title}-vs-T"))
        .height(height)
        .x_axis_label("temperature T (log)")
        .y_axis_label(label)
        .x_axis_formatter(|m, _| number(10f64.powf(m.value)))
        .y_axis_formatter(plain_axis)
        .y_axis_min_width(48.0)
        .label_formatter(|pos| {
            let p = match pos {
                HoverPosition::NearDataPoint { position, .. } => position,
                HoverPosition::Elsewhere { position } => position,
            };
            Some(format!("T {}\nC {}", number(10f64.powf(p.x)), number(p.y)))
        })
        .show(ui, |p| {
            for ((pts, peak), (_, _, color, prefix)) in series.into_iter().zip(runs) {
                let style = if prefix.is_empty() {
                    LineStyle::Solid
                } else {
                    LineStyle::dashed_dense()
                };
                p.line(
                    Line::new(format!("{prefix}{title}"), PlotPoints::from(pts))
                        .color(*color)
                        .style(style),
                );
                if let Some(peak) = peak {
                    let label = format!(
                        "{prefix}peak (freezing): C = {} at T = {}",
                        number(peak[1]),
                        number(10f64.powf(peak[0]))
                    );
                    p.vline(
                        egui_plot::VLine::new(label.clone(), peak[0])
                            .color(color.gamma_multiply(0.6))
                            .style(LineStyle::dotted_dense()),
                    );
                    // Beside the mark, halfway up, where it covers little of the curve.
                    p.text(
                        egui_plot::Text::new(
                            label.clone(),
                            egui_plot::PlotPoint::new(peak[0], 0.5 * peak[1]),
                            format!(" {label}"),
                        )
                        .color(*color)
                        .anchor(egui::Align2::LEFT_CENTER),
                    );
                }
            }
        });
    response.response.rect
}

/// One curve of a plot: which metric of which run, its name, colour and dash.
struct Curve<'a> {
    /// The envelopes of its run's metrics (see [`History::envelopes`]).
    envelopes: &'a [Vec<[f64; 2]>],
    metric: Metric,
    name: String,
    color: Color32,
    style: LineStyle,
}

/// One plot of the column.
enum Spec {
    Temperature,
    Energy,
    Acceptance,
    /// A group of observables against the step.
    Group(&'static str),
    /// An observable against the temperature.
    Heat(usize, &'static str),
}

/// The runs whose values the hover label lists.
struct Readout<'a> {
    prefix: &'static str,
    history: &'a History,
    observables: &'static [Observable],
}

/// Every plotted quantity of every run at `step` (the end of the bucket holding it).
fn values_at(runs: &[Readout<'_>], step: f64) -> String {
    let mut out = format!("step {step:.0}");
    for r in runs {
        let buckets = r.history.buckets();
        let i = buckets.partition_point(|b| (b.last as f64) < step);
        let Some(b) = buckets.get(i).filter(|b| b.first as f64 <= step + 0.5) else {
            continue;
        };
        let m = &b.end;
        out.push_str(&format!(
            "\n{p}T {}   {p}E {}   {p}best {}   {p}acc. {}",
            number(m[0]),
            number(m[1]),
            number(m[2]),
            percent(m[3]),
            p = r.prefix
        ));
        for (k, o) in r.observables.iter().enumerate() {
            let v = m[StepRecord::CORE + k];
            let text = match o.plot {
                PlotKind::Steps { fraction: true, .. } => percent(v),
                _ => number(v),
            };
            out.push_str(&format!("\n{}{} {text}", r.prefix, o.label));
        }
    }
    out
}

/// Log-axis tick labels: the value itself, as people read numbers.
fn log_axis(mark: egui_plot::GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    number(10f64.powf(mark.value))
}

fn plain_axis(mark: egui_plot::GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    number(mark.value)
}

/// The plot column: the live plots of run A (and B's over them, dashed, when comparing),
/// linked on the step axis, each at least [`MIN_PLOT`] high within `height` (the column
/// scrolls when they do not fit). `shown` says which plots.
#[expect(
    clippy::too_many_arguments,
    reason = "a view with its inputs spelled out"
)]
pub fn plots_ui(
    ui: &mut egui::Ui,
    a: &RunPane,
    b: Option<&RunPane>,
    looks: &mut Looks,
    plots: &mut PlotsState,
    shown: PlotSet,
    height: f32,
    title: &str,
) {
    plots.placed.clear();
    let Some(latest) = a.latest.clone() else {
        return;
    };
    let last = a.step().max(b.map_or(0, RunPane::step)).max(1) as f64;
    // Follow: the whole run so far plus a quarter ahead for the planned temperature.
    let ahead = (last * 0.25).max(100.0);
    let follow = looks.state.follow;
    let [lo, hi] = if follow {
        [0.0, last + ahead]
    } else {
        plots.x_view.unwrap_or([0.0, last + ahead])
    };
    let columns = (ui.available_width().max(100.0) as usize).min(2000);
    let top = ui.cursor().top();
    ui.horizontal_wrapped(|ui| {
        ui.strong("Live plots");
        if !follow
            && ui
                .button("Follow the run")
                .on_hover_text("Scroll with the run again")
                .clicked()
        {
            looks.state.follow = true;
        }
        ui.checkbox(&mut looks.saved.log_temperature, "log T");
        ui.checkbox(&mut looks.saved.log_energy, "log E");
        ui.checkbox(&mut plots.key, "key")
            .on_hover_text("Name every line above the plots");
        if ui
            .button("Pin as ghost")
            .on_hover_text(
                "Keep this run's curves on the plots, in grey, to compare with the next run",
            )
            .clicked()
        {
            plots.ghost = Some((title.to_owned(), a.history.clone()));
        }
        if plots.ghost.is_some() && ui.button("Clear ghost").clicked() {
            plots.ghost = None;
        }
    });
    let b_observables = b
        .and_then(|b| b.latest.as_ref())
        .map_or(&[][..], |l| l.observables);
    let mut specs = Vec::new();
    if shown.temperature {
        specs.push(Spec::Temperature);
    }
    if shown.energy {
        specs.push(Spec::Energy);
    }
    if shown.acceptance {
        specs.push(Spec::Acceptance);
    }
    for (i, o) in latest.observables.iter().enumerate() {
        match o.plot {
            PlotKind::Steps { title, .. }
                if shown.observables
                    && !specs
                        .iter()
                        .any(|s| matches!(s, Spec::Group(t) if *t == title)) =>
            {
                specs.push(Spec::Group(title));
            }
            PlotKind::Temperature { title } if shown.heat_capacity => {
                specs.push(Spec::Heat(i, title))
            }
            _ => {}
        }
    }
    // The key: every shown line's name, colour and dash.
    if plots.key {
        let shows = |o: &Observable| match o.plot {
            PlotKind::Steps { .. } => shown.observables,
            PlotKind::Temperature { .. } => shown.heat_capacity,
        };
        ui.horizontal_wrapped(|ui| {
            if let Some((title, _)) = &plots.ghost {
                key::line(ui, &format!("ghost: {title}"), GHOST, false);
            }
            let core = [
                (shown.temperature, "T"),
                (shown.energy, "E"),
                (shown.energy, "best E"),
                (shown.acceptance, "acceptance"),
            ];
            for (k, (on, name)) in core.iter().enumerate() {
                if *on {
                    key::line(ui, name, A_CORE[k], false);
                }
            }
            if shown.temperature {
                key::line(ui, "plan", A_CORE[0], true);
            }
            for (i, o) in latest.observables.iter().enumerate() {
                if shows(o) {
                    key::line(ui, o.label, A_OBSERVABLES[i % A_OBSERVABLES.len()], false);
                }
            }
            if b.is_some() {
                for (k, (on, name)) in core.iter().enumerate() {
                    if *on {
                        key::line(ui, &format!("B: {name}"), B_COLORS[k], true);
                    }
                }
                for (i, o) in b_observables.iter().enumerate() {
                    if shows(o) {
                        key::line(
                            ui,
                            &format!("B: {}", o.label),
                            B_COLORS[(4 + i) % B_COLORS.len()],
                            true,
                        );
                    }
                }
            }
        });
    }
    // A pinned readout: every quantity at the clicked step stays on screen.
    let pinned = plots.pinned;
    if let Some(step) = pinned {
        let mut readouts = vec![Readout {
            prefix: "",
            history: &a.history,
            observables: latest.observables,
        }];
        if let Some(b) = b {
            readouts.push(Readout {
                prefix: "B: ",
                history: &b.history,
                observables: b_observables,
            });
        }
        ui.horizontal(|ui| {
            if ui
                .small_button("Unpin")
                .on_hover_text("Forget the pinned step")
                .clicked()
            {
                plots.pinned = None;
            }
            ui.label(values_at(&readouts, step).replace('\n', "   "));
        });
    }
    let used = ui.cursor().top() - top;
    let count = specs.len().max(1) as f32;
    let spacing = ui.spacing().item_spacing.y;
    let each = ((height - used - count * spacing) / count).max(MIN_PLOT + AXIS);
    plots.scrolls = used + count * (each + spacing) > height + 1.0;
    let link = Id::unique("step-axis");
    // A log axis needs positive energies (a landscape's may be negative).
    let positive = latest.record.best_energy > 0.0
        && b.is_none_or(|b| b.latest.as_ref().is_none_or(|l| l.record.best_energy > 0.0));
    let (log_t, log_e) = (
        looks.saved.log_temperature,
        looks.saved.log_energy && positive,
    );
    // Every metric's envelope of each run, in one pass over its history.
    let envelopes = |h: &History| h.envelopes(lo, hi, columns);
    let a_envelopes = envelopes(&a.history);
    let b_envelopes = b.map(|b| envelopes(&b.history));
    let ghost = plots.ghost.as_ref().map(|(title, h)| (title, envelopes(h)));
    let mut readouts = vec![Readout {
        prefix: "",
        history: &a.history,
        observables: latest.observables,
    }];
    if let Some(b) = b {
        readouts.push(Readout {
            prefix: "B: ",
            history: &b.history,
            observables: b_observables,
        });
    }
    let readouts = &readouts;
    let mut interacted = false;
    let mut view = None;
    let mut placed = Vec::new();
    let mut heat_placed = Vec::new();
    let mut pin = None;
    let mut plot = |ui: &mut egui::Ui,
                    id: &str,
                    label: &str,
                    log: bool,
                    fraction: bool,
                    curves: Vec<Curve<'_>>,
                    extra: Vec<Line<'static>>| {
        let mut lines = Vec::with_capacity(curves.len() + extra.len());
        for c in curves {
            let pts = &c.envelopes[c.metric.0];
            // A quantity never measured (test accuracy without test points) draws nothing.
            if pts.is_empty() {
                continue;
            }
            let pts = logged(pts.clone(), log);
            lines.push(
                Line::new(c.name, PlotPoints::from(pts))
                    .color(c.color)
                    .style(c.style),
            );
        }
        lines.extend(extra);
        let mut p = Plot::new(id)
            .height(each)
            .link_axis(link, [true, false])
            .link_cursor(link, [true, false])
            .allow_scroll([true, false])
            .y_axis_label(label)
            // Step labels closer together than egui_plot's default, so that narrow plots
            // still number their steps.
            .custom_x_axes(vec![
                egui_plot::AxisHints::new_x()
                    .formatter(plain_axis)
                    .label_spacing(32.0..=48.0),
            ])
            .label_formatter(move |pos: &HoverPosition<'_>| {
                let x = match pos {
                    HoverPosition::NearDataPoint { position, .. } => position.x,
                    HoverPosition::Elsewhere { position } => position.x,
                };
                Some(values_at(readouts, x))
            })
            .y_axis_min_width(48.0);
        p = if log {
            p.y_axis_formatter(log_axis)
        } else {
            p.y_axis_formatter(plain_axis)
        };
        if fraction {
            p = p.include_y(0.0).include_y(1.0);
        }
        let r = p.show(ui, |plot_ui| {
            for line in lines {
                plot_ui.line(line);
            }
            if follow {
                plot_ui.set_plot_bounds_x(lo..=hi);
                plot_ui.set_auto_bounds([false, true]);
            }
            if let Some(step) = pinned {
                plot_ui.vline(
                    egui_plot::VLine::new("pinned", step)
                        .color(Color32::from_gray(200))
                        .style(LineStyle::dotted_dense()),
                );
            }
            plot_ui.plot_bounds()
        });
        let resp = &r.response;
        // A click pins the step under the pointer.
        if resp.clicked()
            && let Some(pos) = resp.interact_pointer_pos()
        {
            pin = Some(r.transform.value_from_position(pos).x.max(0.0).round());
        }
        placed.push(Placed {
            name: id.to_owned(),
            rect: resp.rect,
        });
        if resp.dragged()
            || (resp.hovered() && ui.input(|i| i.smooth_scroll_delta != egui::Vec2::ZERO))
            || resp.double_clicked()
        {
            interacted = true;
        }
        let bounds = r.inner;
        view = Some([bounds.min()[0], bounds.max()[0]]);
    };
    // The curves of one metric: the ghost's (grey), A's, and B's (warm, dashed).
    let curves = |metric: Metric,
                  b_metric: Option<Metric>,
                  name: &str,
                  color: Color32,
                  b_color: Color32,
                  with_ghost: bool| {
        let mut out = Vec::new();
        if let (Some((title, h)), true) = (&ghost, with_ghost) {
            out.push(Curve {
                envelopes: h,
                metric,
                name: format!("ghost: {title}"),
                color: GHOST,
                style: LineStyle::Solid,
            });
        }
        out.push(Curve {
            envelopes: &a_envelopes,
            metric,
            name: name.to_owned(),
            color,
            style: LineStyle::Solid,
        });
        if let (Some(b), Some(m)) = (&b_envelopes, b_metric) {
            out.push(Curve {
                envelopes: b,
                metric: m,
                name: format!("B: {name}"),
                color: b_color,
                style: LineStyle::dashed_dense(),
            });
        }
        out
    };
    for spec in specs {
        match spec {
            Spec::Temperature => {
                let planned = plan(&latest.schedule, last + ahead, log_t);
                let extra = vec![
                    Line::new("plan", PlotPoints::from(planned))
                        .color(A_CORE[0])
                        .style(LineStyle::dashed_loose()),
                ];
                let c = curves(
                    Metric::TEMPERATURE,
                    Some(Metric::TEMPERATURE),
                    "T",
                    A_CORE[0],
                    B_COLORS[0],
                    true,
                );
                plot(ui, "temperature", "temperature T", log_t, false, c, extra);
            }
            Spec::Energy => {
                let mut c = curves(
                    Metric::ENERGY,
                    Some(Metric::ENERGY),
                    "E",
                    A_CORE[1],
                    B_COLORS[1],
                    true,
                );
                c.extend(curves(
                    Metric::BEST_ENERGY,
                    Some(Metric::BEST_ENERGY),
                    "best E",
                    A_CORE[2],
                    B_COLORS[2],
                    false,
                ));
                plot(ui, "energy", "energy E", log_e, false, c, Vec::new());
            }
            Spec::Acceptance => {
                let c = curves(
                    Metric::ACCEPTANCE,
                    Some(Metric::ACCEPTANCE),
                    "acceptance",
                    A_CORE[3],
                    B_COLORS[3],
                    true,
                );
                plot(
                    ui,
                    "acceptance",
                    "acceptance rate",
                    false,
                    true,
                    c,
                    Vec::new(),
                );
            }
            Spec::Group(group) => {
                let mut c = Vec::new();
                let mut fraction = false;
                for (i, o) in latest.observables.iter().enumerate() {
                    if let PlotKind::Steps { title, fraction: f } = o.plot
                        && title == group
                    {
                        fraction |= f;
                        let b_metric = b_observables
                            .iter()
                            .position(|x| x.column == o.column)
                            .map(Metric::observable);
                        let color = A_OBSERVABLES[i % A_OBSERVABLES.len()];
                        let b_color = B_COLORS[(4 + i) % B_COLORS.len()];
                        c.extend(curves(
                            Metric::observable(i),
                            b_metric,
                            o.label,
                            color,
                            b_color,
                            true,
                        ));
                    }
                }
                plot(ui, group, group, false, fraction, c, Vec::new());
            }
            Spec::Heat(i, title) => {
                let column = latest.observables[i].column;
                let mut runs = vec![(&a.history, i, A_OBSERVABLES[i % A_OBSERVABLES.len()], "")];
                if let Some(b) = b
                    && let Some(j) = b_observables.iter().position(|x| x.column == column)
                {
                    runs.push((&b.history, j, B_COLORS[(4 + j) % B_COLORS.len()], "B: "));
                }
                // Its x axis has a label too.
                let rect = heat_capacity_plot(ui, title, &runs, each + AXIS);
                heat_placed.push(Placed {
                    name: format!("{title} against T"),
                    rect,
                });
            }
        }
    }
    placed.extend(heat_placed);
    plots.placed = placed;
    if pin.is_some() {
        plots.pinned = pin;
    }
    if interacted {
        looks.state.follow = false;
    }
    if !looks.state.follow {
        plots.x_view = view;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::StepRecord;
    use crate::sim::thermo::binned_by_temperature;

    /// The heat-capacity curve kept from frame to frame equals binning the whole history
    /// afresh, through steps joining the last bucket, new buckets, merging (halving),
    /// clearing and replacing the history by a copy of another.
    #[test]
    fn incremental_binning_equals_binning_afresh() {
        let (t, k) = (Metric::TEMPERATURE.0, Metric::observable(2).0);
        let record = |step: u64, seed: u64| {
            let x = (step ^ seed).wrapping_mul(6364136223846793005) >> 11;
            let mut observables = [f64::NAN; crate::sim::MAX_OBSERVABLES];
            // Not measured at first, as a windowed heat capacity.
            if step > 40 {
                observables[2] = (x % 1000) as f64 / 100.0;
            }
            StepRecord {
                step,
                temperature: 10.0 * (-(step as f64) / 3000.0).exp(),
                energy: 0.0,
                best_energy: 0.0,
                acceptance_rate: 0.0,
                observables,
            }
        };
        let afresh = |h: &History| {
            binned_by_temperature(
                h.buckets().iter().map(|b| (b.end[t], b.end[k])),
                CURVE_BINS_PER_DECADE,
            )
        };
        let mut history = History::new(64);
        let mut other = History::new(64);
        let mut kept = BinnedPrefix::new(&history);
        let mut frames = 0;
        let mut step = 0;
        for round in 0..3u64 {
            for _ in 0..400 {
                // A frame every few steps, of varying count.
                for _ in 0..(1 + step % 7) {
                    step += 1;
                    history.push(&record(step, round));
                    other.push(&record(step, 99));
                }
                let curve = binned_incrementally(&mut kept, &history, t, k);
                assert_eq!(curve, afresh(&history), "step {step}, round {round}");
                frames += 1;
            }
            if round == 0 {
                history.clear();
            } else {
                history = other.clone();
            }
        }
        assert_eq!(frames, 1200);
        // The kept bins were not all thrown away each frame: they cover most buckets.
        assert_eq!(kept.count + 1, history.buckets().len());
    }

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
                observables: [0.0; crate::sim::MAX_OBSERVABLES],
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
            let pts = series(&history, Metric::ENERGY, lo, hi, columns, false);
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
