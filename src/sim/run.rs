//! A run: the problem (and its replicas) and the engine built from a [`RunConfig`], stepped
//! by a driver, with the metrics of each step as a [`StepRecord`].
//!
//! The trajectory depends only on the config (its seeds included): the same config gives
//! the same sequence of states whether it is stepped by the trainer thread, in bursts with
//! pauses, or by the headless command line. Both drivers step with
//! [`Run::step_recorded`], so they record the same way.

use super::anneal::{Annealer, StepOutcome};
use super::config::{RangeError, RunConfig};
use super::engine::{Engine, geometric_ladder};
use super::landscape::LandscapeProblem;
use super::network::NetworkProblem;
use super::problem::Problem;
use super::problems::{
    AnyProblem, ChainStats, Kind, Observable, ProblemState, ProblemView, Reply, Request,
    RunTemperatures, ViewRequest,
};
use super::schedule::{Schedule, T_MAX};
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

/// Most observables a problem may report besides the energy.
pub const MAX_OBSERVABLES: usize = 6;

/// The observables are re-evaluated (when cheap to keep) every this many steps.
pub const OBSERVE_EVERY: u64 = 64;

/// The metrics of one step, as plotted and written to CSV: the core ones every problem
/// has, then the problem's own observables.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepRecord {
    /// Steps taken so far (1 after the first step).
    pub step: u64,
    /// Temperature the step was taken at.
    pub temperature: f64,
    /// Energy after the step (per particle: the walkers' mean on a landscape).
    pub energy: f64,
    /// Lowest energy so far (per particle).
    pub best_energy: f64,
    /// Acceptance rate over the sliding window.
    pub acceptance_rate: f64,
    /// The problem's observables in the order it lists them (NaN beyond its count).
    pub observables: [f64; MAX_OBSERVABLES],
}

impl StepRecord {
    /// Number of core metrics (everything before the observables, without `step`).
    pub const CORE: usize = 4;
    /// Number of plotted metrics (everything but `step`).
    pub const METRICS: usize = Self::CORE + MAX_OBSERVABLES;
    /// The CSV header of the core columns.
    pub const CORE_HEADER: &'static str = "step,temperature,energy,best_energy,acceptance_rate";

    /// The metrics in header order, without `step`.
    pub fn metrics(&self) -> [f64; Self::METRICS] {
        let mut m = [f64::NAN; Self::METRICS];
        m[..Self::CORE].copy_from_slice(&[
            self.temperature,
            self.energy,
            self.best_energy,
            self.acceptance_rate,
        ]);
        m[Self::CORE..].copy_from_slice(&self.observables);
        m
    }

    /// The record of `step` with these metrics (as [`StepRecord::metrics`] lists them).
    pub fn from_metrics(step: u64, m: &[f64; Self::METRICS]) -> Self {
        let mut observables = [f64::NAN; MAX_OBSERVABLES];
        observables.copy_from_slice(&m[Self::CORE..]);
        Self {
            step,
            temperature: m[0],
            energy: m[1],
            best_energy: m[2],
            acceptance_rate: m[3],
            observables,
        }
    }

    /// The CSV header line (without a newline): the core columns, then `observables`.
    pub fn csv_header(observables: &[Observable]) -> String {
        let mut h = String::from(Self::CORE_HEADER);
        for o in observables {
            h.push(',');
            h.push_str(o.column);
        }
        h
    }

    /// One CSV line (without a newline) with the first `observables` observables; floats
    /// in shortest round-trip form.
    pub fn csv_row(&self, observables: usize) -> String {
        let mut row = self.step.to_string();
        let m = self.metrics();
        for v in &m[..Self::CORE + observables.min(MAX_OBSERVABLES)] {
            row.push(',');
            row.push_str(&v.to_string());
        }
        row
    }
}

/// How a config change was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The run continues with the new settings.
    Live,
    /// The problem, the seed or the ladder changed: the run was rebuilt at step 0.
    Restarted,
}

pub use super::config::TRAIN_ACCURACY;

/// Why a run stopped before its last step: the stopping rule that was met, at which step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StopReason {
    /// The best energy (per particle) fell below the target.
    EnergyBelow {
        /// The step it happened at.
        step: u64,
        /// The best energy then.
        best: f64,
        /// The target.
        target: f64,
    },
    /// The train accuracy reached the target.
    TrainAccuracy {
        /// The step it happened at.
        step: u64,
        /// The accuracy then (a share, 0 to 1).
        accuracy: f64,
        /// The target.
        target: f64,
    },
    /// The best energy had not improved for `patience` steps.
    Patience {
        /// The step it happened at.
        step: u64,
        /// The steps waited.
        patience: u64,
        /// The best energy, unchanged since step `step - patience`.
        best: f64,
    },
}

impl StopReason {
    /// The step the run stopped at.
    pub fn step(&self) -> u64 {
        match *self {
            StopReason::EnergyBelow { step, .. }
            | StopReason::TrainAccuracy { step, .. }
            | StopReason::Patience { step, .. } => step,
        }
    }

    /// The rule's field name in [`super::config::StopRules`], as the CSV's `stopped_by` column gives it.
    pub fn rule(&self) -> &'static str {
        match self {
            StopReason::EnergyBelow { .. } => "energy_below",
            StopReason::TrainAccuracy { .. } => "train_accuracy",
            StopReason::Patience { .. } => "patience",
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            StopReason::EnergyBelow { best, target, .. } => {
                write!(f, "best energy {best:.4} fell below {target}")
            }
            StopReason::TrainAccuracy {
                accuracy, target, ..
            } => write!(
                f,
                "train accuracy {:.1}% reached {}%",
                100.0 * accuracy,
                100.0 * target
            ),
            StopReason::Patience { patience, best, .. } => write!(
                f,
                "no improvement of the best energy ({best:.4}) for {patience} steps"
            ),
        }
    }
}

/// One annealing run: a problem (or a ladder of replicas) and its engine.
#[derive(Clone, Debug)]
pub struct Run {
    config: RunConfig,
    /// One chain, or replicas on a temperature ladder; slot 0 is the one reported.
    engine: Engine<AnyProblem>,
    rng: Pcg64Mcg,
    /// The latest observables of slot 0 and the step they were taken at.
    observed: [f64; MAX_OBSERVABLES],
    observed_at: Option<u64>,
    /// The lowest best energy seen (total, not per particle) and the step it came at.
    best_seen: f64,
    best_at: u64,
    /// Where `train_accuracy` sits among the observables, if the problem reports it.
    accuracy_index: Option<usize>,
    /// Why the run stopped before its last step, once a stopping rule was met.
    stopped: Option<StopReason>,
}

impl Run {
    /// Builds the run at step 0, or says which setting is out of range.
    pub fn new(config: RunConfig) -> Result<Self, RangeError> {
        config.validate()?;
        let mut rng = Pcg64Mcg::seed_from_u64(config.seed);
        let engine = match &config.tempering {
            None => {
                let mut problems = config.problem.build(1, &mut rng)?;
                let Some(problem) = problems.pop() else {
                    unreachable!("build(1) makes one problem")
                };
                let annealer = Annealer::new(config.annealer.clone(), problem.energy());
                Engine::single(problem, annealer)
            }
            Some(t) => {
                let replicas = config.problem.build(t.replicas, &mut rng)?;
                let ladder = geometric_ladder(config.annealer.t_min, t.t_max, t.replicas);
                Engine::from_replicas(ladder, &config.annealer, t.swap_every, replicas)
            }
        };
        let best_seen = engine.slot(0).1.best_energy();
        let accuracy_index = engine
            .slot(0)
            .0
            .observables()
            .iter()
            .position(|o| o.column == TRAIN_ACCURACY);
        Ok(Self {
            config,
            engine,
            rng,
            observed: [f64::NAN; MAX_OBSERVABLES],
            observed_at: None,
            best_seen,
            best_at: 0,
            accuracy_index,
            stopped: None,
        })
    }

    /// One annealing step (then the stopping rules, if any).
    pub fn step(&mut self) -> StepOutcome {
        let outcome = self.engine.step(&mut self.rng);
        let a = self.engine.slot(0).1;
        if a.best_energy() < self.best_seen {
            self.best_seen = a.best_energy();
            self.best_at = a.steps();
        }
        if self.config.stop.is_some() && self.stopped.is_none() {
            self.stopped = self.check_stop();
        }
        outcome
    }

    /// The first stopping rule met at the current step, if any.
    fn check_stop(&mut self) -> Option<StopReason> {
        let rules = self.config.stop.clone()?;
        let a = self.annealer();
        let step = a.steps();
        let best = a.best_energy() / self.problem().particles() as f64;
        if let Some(target) = rules.energy_below
            && best < target
        {
            return Some(StopReason::EnergyBelow { step, best, target });
        }
        if let (Some(target), Some(i)) = (rules.train_accuracy, self.accuracy_index) {
            self.observe();
            let accuracy = self.observed[i];
            if accuracy >= target {
                return Some(StopReason::TrainAccuracy {
                    step,
                    accuracy,
                    target,
                });
            }
        }
        if let Some(patience) = rules.patience
            && step - self.best_at >= patience
        {
            return Some(StopReason::Patience {
                step,
                patience,
                best,
            });
        }
        None
    }

    /// Why the run stopped before its last step, if a stopping rule was met.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.stopped
    }

    /// Runs `n` steps.
    pub fn run(&mut self, n: u64) {
        for _ in 0..n {
            self.step();
        }
    }

    /// One step and its record, with the observables re-evaluated every
    /// [`OBSERVE_EVERY`] steps (or as often as the problem asks, [`Kind::observe_every`];
    /// in between, the latest values): the step loop of every driver.
    pub fn step_recorded(&mut self) -> StepRecord {
        self.step();
        let every = self.problem().observe_every().max(1);
        if self.annealer().steps().is_multiple_of(every) {
            self.observe();
        }
        self.record_cached()
    }

    /// The metrics of the current step, with the observables evaluated now.
    pub fn record(&mut self) -> StepRecord {
        self.observe();
        self.record_cached()
    }

    /// The metrics of the current step with the latest observables (NaN before any).
    pub fn record_cached(&self) -> StepRecord {
        let a = self.annealer();
        // A landscape's energy is its walkers' total; records show the mean.
        let per = self.problem().particles() as f64;
        StepRecord {
            step: a.steps(),
            temperature: a.last_temperature(),
            energy: a.energy() / per,
            best_energy: a.best_energy() / per,
            acceptance_rate: a.acceptance_window(),
            observables: self.observed,
        }
    }

    /// Re-evaluates the observables of slot 0 unless they are current.
    fn observe(&mut self) {
        let step = self.annealer().steps();
        if self.observed_at == Some(step) {
            return;
        }
        let chain = self.chain_stats();
        let (problem, _) = self.engine.slot_mut(0);
        let n = problem.observables().len().min(MAX_OBSERVABLES);
        let mut out = [f64::NAN; MAX_OBSERVABLES];
        problem.observe(&chain, &mut out[..n]);
        self.observed = out;
        self.observed_at = Some(step);
    }

    /// What the engine knows that observables may need.
    fn chain_stats(&self) -> ChainStats {
        let a = self.annealer();
        let t = a.last_temperature();
        let problem = self.problem();
        ChainStats {
            temperature: t,
            heat_capacity: a
                .heat_capacity(problem.energy_resolution())
                .map_or(f64::NAN, |c| c / problem.particles() as f64),
        }
    }

    /// The temperature of the last step and the range the schedule (or the ladder) spans.
    pub fn temperatures(&self) -> RunTemperatures {
        let now = self.annealer().last_temperature();
        let range = if self.engine.len() > 1 {
            let ladder = self.engine.ladder();
            [ladder[0], ladder[ladder.len() - 1]]
        } else {
            let a = &self.config.annealer;
            let top = match &a.schedule {
                Schedule::Custom { points } => points.iter().map(|p| p.1).fold(0.0, f64::max),
                s => s.t0(),
            };
            [a.t_min, top.clamp(a.t_min, T_MAX.max(a.t_min))]
        };
        RunTemperatures { now, range }
    }

    /// The observables this run's problem reports.
    pub fn observables(&self) -> &'static [Observable] {
        self.problem().observables()
    }

    /// Applies a new config: annealer settings and the run length change live; a new
    /// problem, seed or ladder rebuilds the run at step 0 (once).
    pub fn set_config(&mut self, config: RunConfig) -> Result<Applied, RangeError> {
        config.validate()?;
        if self.config.restarts(&config) {
            *self = Self::new(config)?;
            return Ok(Applied::Restarted);
        }
        if config.stop != self.config.stop {
            // New rules judge the run from here on.
            self.stopped = None;
        }
        self.engine
            .slot_mut(0)
            .1
            .set_config(config.annealer.clone());
        self.config = config;
        Ok(Applied::Live)
    }

    /// Rebuilds the run at step 0 with the same config.
    pub fn reset(&mut self) -> Result<(), RangeError> {
        *self = Self::new(self.config.clone())?;
        Ok(())
    }

    /// Proposes `n` moves from the current state, rejecting each, and returns the energy
    /// increases of the uphill ones (the run's random stream advances; use a copy).
    pub fn uphill_sample(&mut self, n: usize) -> Vec<f64> {
        let kind = self.config.annealer.proposal;
        let (problem, annealer) = self.engine.slot_mut(0);
        let sigma = annealer.step_size();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let de = problem.propose(kind, sigma, &mut self.rng);
            problem.reject();
            if de.is_finite() && de > 0.0 {
                out.push(de);
            }
        }
        out
    }

    /// Sets the temperature now (reheat or quench). A tempering ladder is fixed: ignored.
    pub fn set_temperature(&mut self, t: f64) {
        if self.engine.len() == 1 {
            self.engine.slot_mut(0).1.set_temperature(t);
        }
    }

    /// Whether the configured number of steps has been taken, or a stopping rule was met.
    pub fn finished(&self) -> bool {
        self.stopped.is_some() || self.annealer().steps() >= self.config.steps
    }

    /// The config in force.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// What is annealed (the coldest replica, when tempering).
    pub fn problem(&self) -> &AnyProblem {
        self.engine.slot(0).0
    }

    /// The chain, or the replicas when tempering.
    pub fn engine(&self) -> &Engine<AnyProblem> {
        &self.engine
    }

    /// The annealer (of the coldest replica, when tempering).
    pub fn annealer(&self) -> &Annealer {
        self.engine.slot(0).1
    }

    /// Brings the reported problem's slow view data up to date with the run's
    /// temperatures ([`Kind::prepare_view`]); the trainer calls it before [`Run::view`].
    pub fn prepare_view(&mut self) {
        let temperatures = self.temperatures();
        self.engine.slot_mut(0).0.prepare_view(&temperatures);
    }

    /// What the UI draws of the reported problem.
    pub fn view(&self, request: &ViewRequest) -> ProblemView {
        self.problem().view(request)
    }

    /// The problem's answer to `request`. Its randomness comes from its own stream,
    /// seeded by the run's seed and `nonce`, so answers never disturb the trajectory.
    pub fn answer(&self, request: &Request, nonce: u64) -> Option<Reply> {
        let seed = self.config.seed ^ nonce.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.problem().answer(request, seed)
    }

    /// The reported problem's state, for export.
    pub fn state(&self) -> ProblemState {
        self.problem().state()
    }

    /// The network, in a network run (for checks and figures).
    pub fn network(&self) -> Option<&NetworkProblem> {
        match self.problem() {
            AnyProblem::Network(p) => Some(p),
            _ => None,
        }
    }

    /// The walkers, in a landscape run (for checks and figures).
    pub fn landscape(&self) -> Option<&LandscapeProblem> {
        match self.problem() {
            AnyProblem::Landscape(p) => Some(p),
            _ => None,
        }
    }
}
