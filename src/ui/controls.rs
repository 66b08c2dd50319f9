//! The control panel: run, problem and annealing settings, each with a tooltip that
//! explains it in statistical-mechanics terms. It edits a copy of the edited run's config
//! and emits one [`Action::Edit`] per frame when anything changed; run controls become
//! trainer commands for both runs.

use super::pane::RunPane;
use super::{Action, Looks, Side, Target};
use crate::pace::Pace;
use crate::preset::Control;
use crate::sim::{Acceptance, ProposalKind, Sampler, Schedule, StopRules, limits};
use crate::trainer::Command;
use egui::{ComboBox, DragValue, Slider, SliderClamping, Ui};

const TIP_ALPHA: &str = "Cooling rate alpha: each step multiplies T by alpha. Slow cooling \
(alpha near 1) lets the system stay near equilibrium as it cools and find deep minima; \
fast cooling (a quench) freezes it into whatever basin it is in. More in Help > Concepts.";
const TIP_T0: &str = "Starting temperature. At high T uphill moves are accepted often \
(exp(-dE/T) is near 1) and the walker explores the whole landscape. More in Help > Concepts.";
const TIP_TMIN: &str = "The floor every schedule is clamped at: the temperature the \
system finally freezes at.";
const TIP_STEP: &str = "Step size sigma: each proposal adds sigma * N(0, 1) noise to the \
weights. Too small and every move is accepted but nothing is learned; too large and \
almost every move is rejected. It must match the energy scale. More in Help > Concepts.";
const TIP_PROPOSAL: &str = "How a candidate state is drawn: move every weight at once (the \
reference article's move), one weight, or one hidden unit's weights.";
const TIP_ACCEPT: &str = "Metropolis accepts with probability min(1, exp(-dE/T)); Barker \
with 1/(1 + exp(dE/T)). Both sample the Boltzmann distribution exp(-E/T)/Z at fixed T. More in Help > Concepts.";
const TIP_SCHEDULE: &str = "How the temperature falls with the step count. Every \
schedule is clamped at T_min; changing a parameter mid-run continues from the current T. More in Help > Concepts.";
const TIP_SPEED: &str = "Steps per second of wall time. Slow it down to watch single \
proposals; the trajectory does not depend on the speed.";

/// `alpha = 1 - 10^-x`: a slider over `x` makes 0.9, 0.99, 0.999, 0.9999 equally easy to hit.
fn alpha_slider(ui: &mut Ui, alpha: &mut f64) -> bool {
    let mut x = -(1.0 - *alpha).max(1e-9).log10();
    let r = ui
        .add(
            Slider::new(&mut x, 0.3..=6.0)
                .clamping(SliderClamping::Never)
                .text("Cooling rate")
                .custom_formatter(|x, _| format!("{:.6}", 1.0 - 10f64.powf(-x)))
                .custom_parser(|s| {
                    let a: f64 = s.trim().parse().ok()?;
                    (a < 1.0).then(|| -(1.0 - a).log10())
                }),
        )
        .on_hover_text(TIP_ALPHA);
    if r.changed() {
        *alpha = (1.0 - 10f64.powf(-x)).clamp(*limits::ALPHA.start(), 1.0 - 1e-9);
        true
    } else {
        false
    }
}

fn temperature(ui: &mut Ui, label: &str, t: &mut f64, tip: &str) -> bool {
    ui.add(
        Slider::new(t, limits::slider::TEMPERATURE)
            .clamping(SliderClamping::Never)
            .logarithmic(true)
            .text(label),
    )
    .on_hover_text(tip)
    .changed()
}

fn schedule_ui(ui: &mut Ui, s: &mut Schedule, dragging: &mut Option<usize>) -> bool {
    let mut changed = false;
    let current = s.label();
    ComboBox::from_label("Schedule")
        .selected_text(current)
        .show_ui(ui, |ui| {
            for example in Schedule::examples() {
                if ui
                    .selectable_label(example.label() == current, example.label())
                    .clicked()
                    && example.label() != current
                {
                    *s = with_t0(example, s.t0());
                    changed = true;
                }
            }
        })
        .response
        .on_hover_text(TIP_SCHEDULE);
    match s {
        Schedule::Geometric { t0, alpha } => {
            changed |= temperature(ui, "T0", t0, TIP_T0);
            changed |= alpha_slider(ui, alpha);
        }
        Schedule::Linear { t0, rate } => {
            changed |= temperature(ui, "T0", t0, TIP_T0);
            changed |= ui
                .add(
                    Slider::new(rate, limits::slider::RATE)
                        .clamping(SliderClamping::Never)
                        .logarithmic(true)
                        .text("Drop per step"),
                )
                .changed();
        }
        Schedule::Logarithmic { c } => {
            changed |= temperature(
                ui,
                "c",
                c,
                "T(k) = c / ln(k + e): provably finds the global minimum if c is deep enough, but impractically slowly.",
            );
        }
        Schedule::Fast { t0 } => changed |= temperature(ui, "T0", t0, TIP_T0),
        Schedule::Constant { t0 } => {
            changed |= temperature(
                ui,
                "T",
                t0,
                "A fixed temperature: the walker samples the Boltzmann distribution exp(-E/T)/Z instead of annealing.",
            );
        }
        Schedule::CosineRestarts { t0, period } => {
            changed |= temperature(ui, "T0", t0, TIP_T0);
            changed |= ui
                .add(Slider::new(period, limits::slider::PERIOD).clamping(SliderClamping::Never).logarithmic(true).text("Period"))
                .on_hover_text("Steps between reheats: each period cools from T0 to T_min, then jumps back up, letting the system escape a poor minimum.")
                .changed();
        }
        Schedule::Custom { points } => {
            changed |= schedule_editor(ui, points, dragging);
        }
        Schedule::Adaptive { t0, target, gain } => {
            changed |= temperature(ui, "T0", t0, TIP_T0);
            changed |= ui
                .add(
                    Slider::new(target, limits::slider::TARGET)
                        .clamping(SliderClamping::Never)
                        .text("Target acceptance"),
                )
                .on_hover_text(
                    "T is nudged up when fewer moves are accepted than this, down when more.",
                )
                .changed();
            changed |= ui
                .add(
                    Slider::new(gain, limits::slider::GAIN)
                        .clamping(SliderClamping::Never)
                        .logarithmic(true)
                        .text("Gain"),
                )
                .changed();
        }
    }
    changed
}

fn with_t0(s: Schedule, t: f64) -> Schedule {
    match s {
        Schedule::Geometric { alpha, .. } => Schedule::Geometric { t0: t, alpha },
        Schedule::Linear { rate, .. } => Schedule::Linear { t0: t, rate },
        Schedule::Logarithmic { .. } => Schedule::Logarithmic { c: t },
        Schedule::Fast { .. } => Schedule::Fast { t0: t },
        Schedule::Constant { t0 } => Schedule::Constant { t0 },
        Schedule::CosineRestarts { period, .. } => Schedule::CosineRestarts { t0: t, period },
        Schedule::Adaptive { target, gain, .. } => Schedule::Adaptive {
            t0: t,
            target,
            gain,
        },
        Schedule::Custom { mut points } => {
            // Start the drawn curve at the current T0, keep its shape.
            if let Some(first) = points.first_mut() {
                first.1 = t;
            }
            Schedule::Custom { points }
        }
    }
}

/// The editor of a drawn schedule: drag a point to move it, double-click to add one,
/// right-click a point to remove it. Steps stay in order; `T` is on a log axis.
fn schedule_editor(
    ui: &mut Ui,
    points: &mut Vec<(u64, f64)>,
    dragging: &mut Option<usize>,
) -> bool {
    use egui_plot::{Line, Plot, PlotPoints, Points};
    let mut changed = false;
    let log = |p: &(u64, f64)| [p.0 as f64, p.1.max(1e-9).log10()];
    let response = Plot::new("schedule-editor")
        .height(150.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_double_click_reset(false)
        .y_axis_formatter(|m, _| format!("{:.0e}", 10f64.powf(m.value)))
        .show(ui, |p| {
            let pts: Vec<[f64; 2]> = points.iter().map(log).collect();
            p.line(Line::new("T(step)", PlotPoints::from(pts.clone())));
            p.points(Points::new("control points", pts).radius(5.0).filled(true));
            (p.pointer_coordinate(), *p.transform())
        });
    let (pointer, transform) = response.inner;
    let r = &response.response;
    let nearest = |points: &[(u64, f64)], pos: egui::Pos2| -> Option<usize> {
        points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let l = log(p);
                let s = transform.position_from_point(&egui_plot::PlotPoint::new(l[0], l[1]));
                (i, s.distance(pos))
            })
            .filter(|(_, d)| *d < 12.0)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    };
    // The drag starts where the button went down, not where the pointer is by the time
    // the movement counts as a drag.
    if r.drag_started()
        && let Some(pos) = ui.input(|i| i.pointer.press_origin())
    {
        *dragging = nearest(points, pos);
    }
    if r.drag_stopped() {
        *dragging = None;
    }
    if let (Some(i), Some(c), true) = (*dragging, pointer, r.dragged()) {
        let lo = if i == 0 { 0 } else { points[i - 1].0 };
        let hi = points.get(i + 1).map_or(u64::MAX / 4, |p| p.0);
        let step = if i == 0 {
            0
        } else {
            (c.x.max(0.0) as u64).clamp(lo, hi)
        };
        points[i] = (step, 10f64.powf(c.y).clamp(1e-6, 1e3));
        changed = true;
    }
    if r.double_clicked()
        && let Some(c) = pointer
    {
        let step = c.x.max(0.0) as u64;
        let at = points.partition_point(|p| p.0 <= step);
        points.insert(at, (step, 10f64.powf(c.y).clamp(1e-6, 1e3)));
        changed = true;
    }
    if r.secondary_clicked()
        && points.len() > 1
        && let Some(i) = r
            .interact_pointer_pos()
            .and_then(|pos| nearest(points, pos))
        && i > 0
    {
        points.remove(i);
        changed = true;
    }
    ui.weak("Drag points; double-click to add one; right-click to remove one.");
    changed
}

/// A combo box over `all`; true when the choice changed.
pub fn combo<T: Copy + PartialEq>(
    ui: &mut Ui,
    label: &str,
    value: &mut T,
    all: &[T],
    name: impl Fn(T) -> &'static str,
    tip: &str,
) -> bool {
    let mut changed = false;
    ComboBox::from_label(label)
        .selected_text(name(*value))
        .show_ui(ui, |ui| {
            for &v in all {
                changed |= ui.selectable_value(value, v, name(v)).changed();
            }
        })
        .response
        .on_hover_text(tip);
    changed
}

/// What the control panel reads besides the edited run.
pub struct PanelCtx<'a, 'b> {
    /// The view settings.
    pub looks: &'a mut Looks<'b>,
    /// What the panel asks for.
    pub actions: &'a mut Vec<Action>,
    /// Which run the panel edits, when comparing (else `None`).
    pub editing: Option<&'a mut Side>,
    /// The session's pace.
    pub pace: &'a mut Pace,
}

/// The stopping rules: each a checkbox and its value. True when anything changed.
fn stop_rules_ui(ui: &mut Ui, stop: &mut Option<StopRules>, accuracy: bool) -> bool {
    let mut changed = false;
    let mut rules = stop.clone().unwrap_or_default();
    egui::CollapsingHeader::new("Stop early")
        .default_open(stop.is_some())
        .show(ui, |ui| {
            changed |= rule_ui(
                ui,
                &mut rules.energy_below,
                (
                    "best E below",
                    "Stop as soon as the lowest energy so far falls below this value",
                ),
                0.05,
                |ui, v| ui.add(DragValue::new(v).speed(0.001).range(limits::ENERGY_TARGET)),
            );
            if accuracy || rules.train_accuracy.is_some() {
                changed |= rule_ui(
                    ui,
                    &mut rules.train_accuracy,
                    (
                        "train accuracy reaches",
                        "Stop as soon as this share of the training points is classified right",
                    ),
                    1.0,
                    |ui, v| {
                        let mut percent = *v * 100.0;
                        let r = ui.add(DragValue::new(&mut percent).range(0.0..=100.0).suffix("%"));
                        if r.changed() {
                            *v = percent / 100.0;
                        }
                        r
                    },
                );
            }
            changed |= rule_ui(
                ui,
                &mut rules.patience,
                (
                    "no improvement for",
                    "Stop when the best energy has not gone down for this many steps",
                ),
                2000,
                |ui, v| ui.add(DragValue::new(v).range(limits::PATIENCE).suffix(" steps")),
            );
        });
    if changed {
        *stop = (rules != StopRules::default()).then_some(rules);
    }
    changed
}

/// One stopping rule: a checkbox (`label`, `tip`) turning it on at `default`, and its
/// value's editor. True when anything changed.
fn rule_ui<T: Copy>(
    ui: &mut Ui,
    rule: &mut Option<T>,
    (label, tip): (&str, &str),
    default: T,
    edit: impl FnOnce(&mut Ui, &mut T) -> egui::Response,
) -> bool {
    ui.horizontal(|ui| {
        let mut on = rule.is_some();
        let check = ui.checkbox(&mut on, label).on_hover_text(tip);
        let mut changed = check.changed();
        if on {
            let v = rule.get_or_insert(default);
            changed |= edit(ui, v).labelled_by(check.id).changed();
        } else {
            *rule = None;
        }
        changed
    })
    .inner
}

/// The control panel, editing `pane`'s settings.
pub fn controls_ui(ui: &mut Ui, pane: &RunPane, ctx: PanelCtx<'_, '_>) {
    let PanelCtx {
        looks,
        actions,
        editing,
        pace,
    } = ctx;
    if let Some(editing) = editing {
        ui.horizontal(|ui| {
            ui.label("Editing:");
            ui.selectable_value(editing, Side::A, "A");
            ui.selectable_value(editing, Side::B, "B");
        });
        ui.separator();
    }
    let side = pane.side;
    let mut run = pane.config.clone();
    let mut changed = false;

    ui.heading("Run");
    ui.horizontal(|ui| {
        let label = if pane.playing() { "Pause" } else { "Play" };
        let play = if pane.playing() {
            Command::Pause
        } else {
            Command::Play
        };
        if ui.button(label).on_hover_text("Space").clicked() {
            actions.push(Action::Trainer(Target::Both, play));
        }
        if ui
            .button("Step")
            .on_hover_text("S or Right arrow")
            .clicked()
        {
            actions.push(Action::Trainer(Target::Both, Command::Step(1)));
        }
        if ui
            .button("Reset")
            .on_hover_text("R: back to step 0 with the same seed")
            .clicked()
        {
            actions.push(Action::Trainer(Target::Both, Command::Reset));
        }
    });
    if looks.shown(Control::Pace) && pace_ui(ui, pace, run.steps) {
        actions.push(Action::Trainer(Target::Both, Command::SetPace(*pace)));
    }
    if looks.shown(Control::RunLength) {
        changed |= ui
            .add(
                DragValue::new(&mut run.steps)
                    .range(limits::STEPS)
                    .prefix("Run length: ")
                    .suffix(" steps"),
            )
            .changed();
    }
    ui.horizontal(|ui| {
        changed |= ui
            .add(DragValue::new(&mut run.seed).prefix("Seed: "))
            .on_hover_text("Seeds the starting state and every random draw: the same seed gives the same run. Changing it restarts the run.")
            .changed();
        if ui
            .button("New seed")
            .on_hover_text("A new starting state and a new sequence of proposals")
            .clicked()
        {
            run.seed = run.seed.wrapping_add(1);
            changed = true;
        }
    });

    if looks.shown(Control::RunLength) {
        let accuracy = pane.latest.as_ref().is_some_and(|l| {
            l.observables
                .iter()
                .any(|o| o.column == crate::sim::run::TRAIN_ACCURACY)
        });
        changed |= stop_rules_ui(ui, &mut run.stop, accuracy);
    }

    ui.separator();
    ui.heading("Problem");
    changed |= super::kinds::controls_ui(ui, &mut run.problem, looks, actions);

    ui.separator();
    ui.heading("Annealing");
    if looks.shown(Control::Schedule) {
        changed |= schedule_ui(ui, &mut run.annealer.schedule, &mut looks.state.dragging);
        ui.horizontal(|ui| {
            if ui
                .button("Suggest schedule")
                .on_hover_text("Trial runs on this run's problem pick T0 (98% of uphill moves accepted), T_min (where improvements stop) and a run length that fits the time budget at the measured speed")
                .clicked()
            {
                actions.push(Action::Trainer(
                    Target::Side(side),
                    Command::Suggest(looks.state.suggest_seconds),
                ));
            }
            ui.add(DragValue::new(&mut looks.state.suggest_seconds).range(0.1..=3600.0).suffix(" s"));
        });
        if let Some(sg) = pane.suggestion {
            ui.group(|ui| {
                ui.label(format!(
                    "Suggested: T0 = {:.3e}, T_min = {:.3e}, alpha = {:.7}, {} steps",
                    sg.t0, sg.t_min, sg.alpha, sg.steps
                ));
                ui.horizontal(|ui| {
                    if ui.button("Apply").clicked() {
                        // A suggested schedule is a plan for a whole run: start it at step 0.
                        actions.push(Action::Edit(side, Box::new(sg.apply(&run))));
                        actions.push(Action::Trainer(Target::Side(side), Command::Reset));
                        actions.push(Action::Dismiss(side));
                    }
                    if ui.button("Dismiss").clicked() {
                        actions.push(Action::Dismiss(side));
                    }
                });
            });
        }
    }
    changed |= tempering_ui(ui, &mut run);
    if looks.shown(Control::TMin) {
        changed |= temperature(ui, "T_min", &mut run.annealer.t_min, TIP_TMIN);
    }
    if looks.shown(Control::StepSize) {
        changed |= ui
            .add(
                Slider::new(&mut run.annealer.step_size, limits::slider::STEP_SIZE)
                    .clamping(SliderClamping::Never)
                    .logarithmic(true)
                    .text("Step size"),
            )
            .on_hover_text(TIP_STEP)
            .changed();
        let mut adapt = run.annealer.adapt_step.is_some();
        ui.horizontal(|ui| {
            changed |= ui
                .checkbox(&mut adapt, "Adapt to acceptance")
                .on_hover_text("Tune the step size during the run so that this share of proposals is accepted: 0.234 is the optimum for random-walk Metropolis in many dimensions, 0.44 in one.")
                .changed();
            if adapt {
                let target = run.annealer.adapt_step.get_or_insert(0.234);
                changed |= ui
                    .add(
                        Slider::new(target, limits::slider::ADAPT_TARGET)
                            .clamping(SliderClamping::Never)
                            .text("target"),
                    )
                    .changed();
            } else {
                run.annealer.adapt_step = None;
            }
        });
        if adapt && let Some(l) = &pane.latest {
            ui.weak(format!("step size now {:.3e}", l.step_size));
        }
    }
    changed |= combo(
        ui,
        "Sampler",
        &mut run.annealer.sampler,
        &[Sampler::RandomWalk, Sampler::Langevin, Sampler::Mala],
        |k| match k {
            Sampler::RandomWalk => "Random walk",
            Sampler::Langevin => "Langevin",
            Sampler::Mala => "Langevin + Metropolis (MALA)",
        },
        "Random walk: the proposal below, judged by the acceptance rule. Langevin: theta <- theta - eta grad E + sqrt(2 eta T) xi with eta the step size, every move taken; at T near 0 this is gradient descent. MALA adds a Metropolis correction so the Boltzmann distribution is sampled exactly.",
    );
    if looks.shown(Control::Proposal) {
        changed |= combo(
            ui,
            "Proposal",
            &mut run.annealer.proposal,
            &ProposalKind::ALL,
            ProposalKind::label,
            TIP_PROPOSAL,
        );
    }
    if looks.shown(Control::Acceptance) {
        changed |= combo(
            ui,
            "Acceptance",
            &mut run.annealer.acceptance,
            &Acceptance::ALL,
            |a| match a {
                Acceptance::Metropolis => "Metropolis",
                Acceptance::Barker => "Barker",
            },
            TIP_ACCEPT,
        );
    }
    if looks.shown(Control::Reheat) {
        ui.horizontal(|ui| {
            if ui
                .button("Reheat to T")
                .on_hover_text(
                    "Set the temperature to T now; cooling resumes from there (H reheats to T0)",
                )
                .clicked()
            {
                actions.push(Action::Trainer(
                    Target::Both,
                    Command::SetTemperature(looks.state.reheat_to),
                ));
            }
            ui.add(
                DragValue::new(&mut looks.state.reheat_to)
                    .range(1e-6..=1e3)
                    .speed(0.01)
                    .prefix("T = "),
            );
        });
    }
    if pane.config.restarts(&run) {
        ui.label("Changing the problem, the seed or tempering restarts the run.");
    }
    if !looks.saved.hidden_controls.is_empty() && !looks.state.show_hidden {
        ui.separator();
        ui.weak("Some controls are hidden by this preset (View > Show hidden controls).");
    }
    if changed && run != pane.config {
        actions.push(Action::Edit(side, Box::new(run)));
    }
}

/// The pace: the whole run over a duration, a number of steps per second, or flat out.
/// True when it changed.
pub fn pace_ui(ui: &mut Ui, pace: &mut Pace, steps: u64) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        let label = match pace {
            Pace::Duration(_) => "Run over",
            Pace::StepsPerSecond(_) => "Steps/s",
            Pace::Max => "Flat out",
        };
        ComboBox::from_id_salt("pace")
            .selected_text(label)
            .show_ui(ui, |ui| {
                let seconds = pace.seconds(steps, f64::INFINITY).clamp(1.0, 3600.0);
                let rate = pace
                    .steps_per_second(steps)
                    .unwrap_or(1e4)
                    .clamp(*limits::slider::STEPS_PER_SECOND.start(), 1e6);
                for (choice, name) in [
                    (Pace::Duration(seconds), "Run over a duration"),
                    (Pace::StepsPerSecond(rate), "Steps per second"),
                    (Pace::Max, "Flat out (as fast as possible)"),
                ] {
                    let same = std::mem::discriminant(&choice) == std::mem::discriminant(pace);
                    if ui.selectable_label(same, name).clicked() && !same {
                        *pace = choice;
                        changed = true;
                    }
                }
            })
            .response
            .on_hover_text(TIP_SPEED);
        match pace {
            Pace::Duration(s) => {
                changed |= ui
                    .add(
                        DragValue::new(s)
                            .range(crate::pace::DURATION)
                            .speed(1.0)
                            .suffix(" s"),
                    )
                    .on_hover_text("Wall-clock seconds the whole run takes")
                    .changed();
            }
            Pace::StepsPerSecond(r) => {
                changed |= ui
                    .add(
                        Slider::new(r, limits::slider::STEPS_PER_SECOND)
                            .clamping(SliderClamping::Never)
                            .logarithmic(true),
                    )
                    .on_hover_text(TIP_SPEED)
                    .changed();
            }
            Pace::Max => {}
        }
    });
    changed
}

/// Parallel tempering on or off, and its ladder. True when anything changed.
fn tempering_ui(ui: &mut Ui, run: &mut crate::sim::RunConfig) -> bool {
    let mut tempering = run.tempering.is_some();
    let mut changed = ui
        .checkbox(&mut tempering, "Parallel tempering")
        .on_hover_text("Replicas at fixed temperatures from T_min to T_max exchange configurations with their neighbours; the coldest one is shown. The schedule is then unused. Changing it restarts the run.")
        .changed();
    if !tempering {
        run.tempering = None;
        return changed;
    }
    let t_max = run.annealer.schedule.t0().max(run.annealer.t_min * 10.0);
    let t = run
        .tempering
        .get_or_insert_with(|| crate::sim::TemperingConfig {
            t_max,
            ..Default::default()
        });
    changed |= ui
        .add(
            Slider::new(&mut t.replicas, limits::REPLICAS)
                .clamping(SliderClamping::Never)
                .text("Replicas"),
        )
        .changed();
    changed |= temperature(
        ui,
        "T_max",
        &mut t.t_max,
        "The hottest replica's temperature: hot enough to cross the landscape's barriers.",
    );
    changed |= ui
        .add(
            Slider::new(&mut t.swap_every, limits::slider::SWAP_EVERY)
                .logarithmic(true)
                .clamping(SliderClamping::Never)
                .text("Swap every"),
        )
        .changed();
    changed
}
