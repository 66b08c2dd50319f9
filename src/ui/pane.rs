//! One run as the UI holds it, the same for run A and run B: the trainer handle, the
//! config the controls edit (held here only), the plotted feed, the problem's latest view
//! and the per-kind view state, the tempering panel, a suggested schedule.

use super::kinds::KindUi;
use super::tempering::TemperingState;
use super::{Notice, Side};
use crate::pace::Pace;
use crate::sim::suggest::Suggestion;
use crate::sim::{
    History, Observable, ProblemView, RunConfig, ScheduleState, StepRecord, StopReason,
};
use crate::trainer::{Command, Crashed, Driver, Event, Snapshot, Trainer, Waker};
use std::sync::Arc;

/// Buckets of plotted history kept per run (memory stays bounded however long the run).
pub const HISTORY_BUCKETS: usize = 16_384;

/// What the latest snapshot said, kept between snapshots.
#[derive(Clone, Debug)]
pub struct Latest {
    /// Metrics of the latest step.
    pub record: StepRecord,
    /// The observables of the run's problem.
    pub observables: &'static [Observable],
    /// The schedule in motion.
    pub schedule: ScheduleState,
    /// Whether the trainer is stepping.
    pub playing: bool,
    /// Whether the configured run length was reached, or a stopping rule met.
    pub finished: bool,
    /// The stopping rule that stopped the run, if one did.
    pub stopped: Option<StopReason>,
    /// Measured steps per second.
    pub steps_per_second: f64,
    /// The step size in force.
    pub step_size: f64,
}

/// One trainer's run, as the UI holds it.
pub struct RunPane {
    /// Which run this is.
    pub side: Side,
    trainer: Option<Trainer>,
    /// The settings the controls edit; sent to the trainer when they change.
    pub config: RunConfig,
    /// Plotted history of the current run.
    pub history: History,
    generation: u64,
    /// The latest snapshot's news.
    pub latest: Option<Latest>,
    /// The problem as last drawn by the trainer.
    pub view: Option<Arc<ProblemView>>,
    /// The view changed since it was last drawn into textures.
    pub view_changed: bool,
    /// The per-kind view state (textures, caches, the loss slice).
    pub kind: KindUi,
    /// The parallel-tempering panel.
    pub tempering: TemperingState,
    /// A suggested schedule waiting to be applied or dismissed.
    pub suggestion: Option<Suggestion>,
    /// Why the trainer stopped, when it crashed.
    pub crashed: Option<Crashed>,
    /// Which driver steps this run's trainer.
    driver: Driver,
}

impl RunPane {
    /// Starts a trainer on `config` with the platform's driver and builds the pane around
    /// it.
    pub fn start(
        side: Side,
        config: RunConfig,
        pace: Pace,
        waker: Option<Waker>,
    ) -> anyhow::Result<Self> {
        Self::start_with(Driver::PLATFORM, side, config, pace, waker)
    }

    /// Starts a trainer on `config` with `driver` and builds the pane around it.
    pub fn start_with(
        driver: Driver,
        side: Side,
        config: RunConfig,
        pace: Pace,
        waker: Option<Waker>,
    ) -> anyhow::Result<Self> {
        let trainer = Trainer::start_with(driver, config.clone(), pace, waker)?;
        Ok(Self {
            side,
            trainer: Some(trainer),
            config,
            history: History::new(HISTORY_BUCKETS),
            generation: 0,
            latest: None,
            view: None,
            view_changed: false,
            kind: KindUi::default(),
            tempering: TemperingState::default(),
            suggestion: None,
            crashed: None,
            driver,
        })
    }

    /// Starts a fresh trainer on the pane's config (after a crash), keeping the view.
    pub fn restart(&mut self, pace: Pace, waker: Option<Waker>) -> anyhow::Result<()> {
        let trainer = Trainer::start_with(self.driver, self.config.clone(), pace, waker)?;
        self.trainer = Some(trainer);
        self.crashed = None;
        self.generation = u64::MAX;
        Ok(())
    }

    /// Puts `trainer` in place of the running one (to test what a crash looks like).
    #[cfg(test)]
    pub(crate) fn replace_trainer(&mut self, trainer: Trainer) {
        self.trainer = Some(trainer);
    }

    /// Sends a command to this run's trainer.
    pub fn send(&self, command: Command) {
        if let Some(t) = &self.trainer {
            t.send(command);
        }
    }

    /// Lets a cooperative trainer step for about `budget` (see [`Trainer::drive`]);
    /// returns when it wants to be driven again. A threaded trainer needs nothing: `None`.
    pub fn drive(&self, budget: web_time::Duration) -> Option<web_time::Duration> {
        self.trainer.as_ref().and_then(|t| t.drive(budget))
    }

    /// Whether this run's trainer steps only when driven.
    pub fn cooperative(&self) -> bool {
        self.driver == Driver::Cooperative
    }

    /// Drains the snapshots that arrived, without waiting; returns what the user should
    /// be told.
    pub fn ingest(&mut self) -> Vec<Notice> {
        let mut notices = Vec::new();
        let Some(trainer) = &mut self.trainer else {
            return notices;
        };
        if let Some(c) = trainer.crashed() {
            notices.push(Notice::error(Some(self.side), c.to_string()));
            self.crashed = Some(c);
            self.trainer = None;
            return notices;
        }
        let snapshots: Vec<Snapshot> = trainer.snapshots().collect();
        for s in snapshots {
            self.absorb(s, &mut notices);
        }
        notices
    }

    fn absorb(&mut self, s: Snapshot, notices: &mut Vec<Notice>) {
        let restarted = s.generation != self.generation;
        if restarted {
            self.history.clear();
            self.generation = s.generation;
        }
        self.history.append(&s.history);
        if let Some(v) = s.view {
            self.view = Some(v);
            self.view_changed = true;
        }
        self.tempering.absorb(s.latest.step, s.tempering, restarted);
        self.latest = Some(Latest {
            record: s.latest,
            observables: s.observables,
            schedule: s.schedule,
            playing: s.playing,
            finished: s.finished,
            stopped: s.stopped,
            steps_per_second: s.steps_per_second,
            step_size: s.step_size,
        });
        for event in s.events {
            match event {
                Event::Restarted => notices.push(Notice::info(
                    Some(self.side),
                    "The problem, the seed or the ladder changed: the run restarted from step 0."
                        .into(),
                )),
                Event::Refused { error, in_force } => {
                    notices.push(Notice::error(Some(self.side), error.to_string()));
                    self.config = *in_force;
                }
                Event::Answer(reply) => self.kind.answer(reply),
                Event::Suggested(Ok(sg)) => self.suggestion = Some(sg),
                Event::Suggested(Err(e)) => {
                    notices.push(Notice::error(Some(self.side), e.to_string()))
                }
            }
        }
    }

    /// Whether the trainer reported that it is stepping.
    pub fn playing(&self) -> bool {
        self.latest.as_ref().is_some_and(|l| l.playing)
    }

    /// The step of the latest report (0 before any).
    pub fn step(&self) -> u64 {
        self.latest.as_ref().map_or(0, |l| l.record.step)
    }

    /// The temperature in force (1 before any report).
    pub fn temperature(&self) -> f64 {
        self.latest
            .as_ref()
            .map_or(1.0, |l| l.schedule.temperature())
    }
}
