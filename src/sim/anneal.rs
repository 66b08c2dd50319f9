//! The annealer: one Metropolis (or Barker) step at a time on any [`Problem`].
//!
//! Like argmin's solvers, [`Annealer::step`] does one step and a driver owns the loop.
//! A step at temperature `T` proposes a move with energy change `dE` and accepts it with
//! probability
//!
//! * Metropolis: `min(1, exp(-dE / T))`: downhill always, uphill sometimes;
//! * Barker: `1 / (1 + exp(dE / T))`: never certain, but also satisfies detailed balance.
//!
//! Both leave the Boltzmann distribution `p(x) ~ exp(-E(x)/T)` invariant at fixed `T`.
//! A candidate whose energy change is not finite is always rejected and counted. A problem
//! that moves itself (a lattice or Gibbs sweep) makes its own step at the temperature.

use super::problem::{Problem, ProposalKind, Sweep};
use super::schedule::{Schedule, ScheduleState};
use super::thermo::FluctuationWindow;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The acceptance rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Acceptance {
    /// Accept with probability `min(1, exp(-dE/T))`.
    #[default]
    Metropolis,
    /// Accept with probability `1 / (1 + exp(dE/T))`.
    Barker,
}

impl Acceptance {
    /// All rules, in menu order.
    pub const ALL: [Acceptance; 2] = [Acceptance::Metropolis, Acceptance::Barker];

    /// Probability of accepting a move with energy change `de` at temperature `t`.
    pub fn probability(self, de: f64, t: f64) -> f64 {
        match self {
            Acceptance::Metropolis => (-de / t).exp().min(1.0),
            Acceptance::Barker => 1.0 / (1.0 + (de / t).exp()),
        }
    }
}

/// The annealer's settings: everything about the dynamics, nothing about the problem.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnnealerConfig {
    /// The cooling schedule.
    pub schedule: Schedule,
    /// The floor every schedule is clamped at.
    pub t_min: f64,
    /// Proposal step size `sigma`.
    pub step_size: f64,
    /// How candidates are drawn.
    pub proposal: ProposalKind,
    /// The acceptance rule.
    pub acceptance: Acceptance,
    /// Length, in steps, of the sliding window the acceptance rate is averaged over.
    pub window: usize,
    /// How moves are made: random-walk proposals, or Langevin dynamics.
    pub sampler: Sampler,
    /// Tune the step size during the run to hold this acceptance rate (0.234 is the
    /// optimum for random-walk Metropolis in many dimensions, 0.44 in one): after each
    /// step `ln sigma += ADAPT_GAIN (a - target)`, `a` = 1 if accepted, else 0.
    pub adapt_step: Option<f64>,
}

/// Gain of the step-size adaptation: small enough that sigma moves slowly compared with
/// the acceptance window, large enough to follow a cooling temperature.
pub const ADAPT_GAIN: f64 = 0.01;

impl Default for AnnealerConfig {
    fn default() -> Self {
        Self {
            schedule: Schedule::default(),
            t_min: 1e-3,
            step_size: 0.04,
            proposal: ProposalKind::All,
            acceptance: Acceptance::Metropolis,
            window: 500,
            adapt_step: None,
            sampler: Sampler::RandomWalk,
        }
    }
}

/// The move: a random-walk proposal judged by the acceptance rule, or Langevin dynamics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sampler {
    /// `proposal` moves of size `step_size`, accepted by the acceptance rule.
    #[default]
    RandomWalk,
    /// Langevin dynamics with time step `eta = step_size`:
    /// `theta <- theta - eta grad E + sqrt(2 eta T) xi`, every move taken (at a bias of
    /// order `eta`); at `T -> 0` it is plain gradient descent.
    Langevin,
    /// Langevin proposals with a Metropolis correction (MALA): accepted with probability
    /// `min(1, exp(-dE/T) q(theta|theta')/q(theta'|theta))`, so the Boltzmann distribution is
    /// sampled exactly.
    Mala,
}

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepOutcome {
    /// The candidate was accepted.
    pub accepted: bool,
    /// The candidate's energy was infinite or NaN (and so it was rejected).
    pub non_finite: bool,
    /// The state reached a new best energy.
    pub improved: bool,
    /// Temperature the step was taken at.
    pub temperature: f64,
}

/// A whole step accepted, in the units of the acceptance window (a self-moving
/// problem's step counts the accepted share of its moves).
const WHOLE: u16 = u16::MAX;

/// Accepted shares over the last `len` steps.
#[derive(Clone, Debug, PartialEq)]
struct AcceptWindow {
    len: usize,
    recent: VecDeque<u16>,
    accepted: u64,
}

impl AcceptWindow {
    fn new(len: usize) -> Self {
        Self {
            len: len.max(1),
            recent: VecDeque::with_capacity(len.max(1)),
            accepted: 0,
        }
    }

    fn push(&mut self, share: u16) {
        if self.recent.len() == self.len
            && let Some(old) = self.recent.pop_front()
        {
            self.accepted -= u64::from(old);
        }
        self.recent.push_back(share);
        self.accepted += u64::from(share);
    }

    fn resize(&mut self, len: usize) {
        self.len = len.max(1);
        while self.recent.len() > self.len {
            if let Some(old) = self.recent.pop_front() {
                self.accepted -= u64::from(old);
            }
        }
    }

    fn rate(&self) -> f64 {
        if self.recent.is_empty() {
            0.0
        } else {
            // Both exact integers, so for whole steps this equals accepted / len exactly.
            self.accepted as f64 / (f64::from(WHOLE) * self.recent.len() as f64)
        }
    }
}

/// The annealing state: schedule, energies and acceptance statistics. The problem's state
/// lives in the problem; the annealer holds what is common to every problem.
#[derive(Clone, Debug, PartialEq)]
pub struct Annealer {
    config: AnnealerConfig,
    schedule: ScheduleState,
    energy: f64,
    best_energy: f64,
    last_temperature: f64,
    steps: u64,
    accepted: u64,
    non_finite: u64,
    window: AcceptWindow,
    /// The last `window` steps' `(step, T, E)`, for the heat capacity.
    energies: FluctuationWindow,
    /// The step size in force (the configured one, or the adapted one).
    step_size: f64,
}

impl Annealer {
    /// An annealer at step 0 for a problem whose current energy is `energy`.
    pub fn new(config: AnnealerConfig, energy: f64) -> Self {
        let last_temperature = config.schedule.t0().max(config.t_min);
        Self {
            last_temperature,
            schedule: ScheduleState::new(config.schedule.clone(), config.t_min),
            window: AcceptWindow::new(config.window),
            energies: FluctuationWindow::with_length(config.window),
            step_size: config.step_size,
            config,
            energy,
            best_energy: energy,
            steps: 0,
            accepted: 0,
            non_finite: 0,
        }
    }

    /// One step: propose, accept or reject (or let the problem sweep), cool.
    pub fn step<P: Problem, R: Rng + ?Sized>(
        &mut self,
        problem: &mut P,
        rng: &mut R,
    ) -> StepOutcome {
        let t = self.schedule.temperature();
        if let Some(sweep) = problem.sweep(t, rng) {
            return self.after_sweep(problem, sweep, t);
        }
        let (de, log_q) = match self.config.sampler {
            Sampler::RandomWalk => (
                problem.propose(self.config.proposal, self.step_size, rng),
                None,
            ),
            Sampler::Langevin | Sampler::Mala => {
                match problem.propose_langevin(self.step_size, t, rng) {
                    Some((de, lq)) => (de, Some(lq)),
                    None => (
                        problem.propose(self.config.proposal, self.step_size, rng),
                        None,
                    ),
                }
            }
        };
        let non_finite = !de.is_finite();
        let accepted = !non_finite
            && match (self.config.sampler, log_q) {
                (Sampler::Langevin, Some(_)) => true,
                (Sampler::Mala, Some(lq)) => {
                    let log_a = -de / t + lq;
                    log_a >= 0.0 || rng.random::<f64>() < log_a.exp()
                }
                _ => match self.config.acceptance {
                    // Downhill moves need no random number (as in the reference implementation).
                    Acceptance::Metropolis => de <= 0.0 || rng.random::<f64>() < (-de / t).exp(),
                    Acceptance::Barker => {
                        rng.random::<f64>() < Acceptance::Barker.probability(de, t)
                    }
                },
            };
        let mut improved = false;
        if accepted {
            problem.accept();
            self.energy = problem.energy();
            self.accepted += 1;
            improved = self.note_best(problem);
        } else {
            problem.reject();
        }
        self.non_finite += u64::from(non_finite);
        self.finish_step(t, if accepted { WHOLE } else { 0 });
        StepOutcome {
            accepted,
            non_finite,
            improved,
            temperature: t,
        }
    }

    /// The bookkeeping of a step the problem made itself.
    fn after_sweep<P: Problem>(&mut self, problem: &mut P, sweep: Sweep, t: f64) -> StepOutcome {
        self.energy = problem.energy();
        let accepted = sweep.accepted > 0;
        self.accepted += u64::from(accepted);
        let improved = self.note_best(problem);
        let share = if sweep.attempted == 0 {
            0
        } else {
            (f64::from(WHOLE) * sweep.accepted as f64 / sweep.attempted as f64).round() as u16
        };
        self.finish_step(t, share);
        StepOutcome {
            accepted,
            non_finite: false,
            improved,
            temperature: t,
        }
    }

    /// Stores the problem's state as its best if its energy is a new low.
    fn note_best<P: Problem>(&mut self, problem: &mut P) -> bool {
        if self.energy < self.best_energy {
            self.best_energy = self.energy;
            problem.store_best();
            true
        } else {
            false
        }
    }

    /// Counts the step, adapts the step size, records the energy and cools. `share` is the
    /// accepted share of the step's moves in units of [`WHOLE`].
    fn finish_step(&mut self, t: f64, share: u16) {
        self.last_temperature = t;
        self.steps += 1;
        self.window.push(share);
        if let Some(target) = self.config.adapt_step {
            let a = f64::from(share) / f64::from(WHOLE);
            self.step_size = (self.step_size * (ADAPT_GAIN * (a - target)).exp()).clamp(1e-6, 10.0);
        }
        self.energies.push(self.steps, t, self.energy);
        self.schedule.advance(share > 0);
    }

    /// After the problem's state was replaced from outside (a tempering exchange): takes
    /// its energy as the current one and checks it against the best.
    pub fn resync<P: Problem>(&mut self, problem: &mut P) {
        self.energy = problem.energy();
        self.note_best(problem);
    }

    /// The settings in force.
    pub fn config(&self) -> &AnnealerConfig {
        &self.config
    }

    /// Changes the settings mid-run; the temperature continues from its current value.
    pub fn set_config(&mut self, config: AnnealerConfig) {
        if config.schedule != self.config.schedule || config.t_min != self.config.t_min {
            self.schedule.set(config.schedule.clone(), config.t_min);
            // Fluctuations before and after a change of schedule do not belong together.
            self.energies.clear();
        }
        self.window.resize(config.window);
        // A new step size is taken as given; switching adaptation on starts from it.
        if config.step_size != self.config.step_size || config.adapt_step.is_none() {
            self.step_size = config.step_size;
        }
        if config.window != self.config.window {
            self.energies = FluctuationWindow::with_length(config.window);
        }
        self.config = config;
    }

    /// Sets the temperature now (reheat or quench); cooling continues from it.
    pub fn set_temperature(&mut self, t: f64) {
        self.schedule.set_temperature(t);
        self.energies.clear();
    }

    /// The schedule in motion (for the planned temperature curve).
    pub fn schedule(&self) -> &ScheduleState {
        &self.schedule
    }

    /// Temperature of the next step.
    pub fn temperature(&self) -> f64 {
        self.schedule.temperature()
    }

    /// Temperature of the last step taken.
    pub fn last_temperature(&self) -> f64 {
        self.last_temperature
    }

    /// Energy of the current state.
    pub fn energy(&self) -> f64 {
        self.energy
    }

    /// Lowest energy seen.
    pub fn best_energy(&self) -> f64 {
        self.best_energy
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Accepted steps.
    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    /// Rejected steps whose candidate energy was not finite.
    pub fn non_finite(&self) -> u64 {
        self.non_finite
    }

    /// Acceptance rate over the whole run.
    pub fn acceptance_overall(&self) -> f64 {
        if self.steps == 0 {
            0.0
        } else {
            self.accepted as f64 / self.steps as f64
        }
    }

    /// The step size in force: the configured one, or where adaptation has taken it.
    pub fn step_size(&self) -> f64 {
        self.step_size
    }

    /// Heat capacity of the chain from its energy's fluctuations over the last `window`
    /// steps, detrended ([`FluctuationWindow`]): the residual variance of a least-squares
    /// line of `E` against the step, over the window's mean `T^2` (the
    /// fluctuation-dissipation relation `C = Var(E)/T^2`, with the cooling drift removed).
    /// `None` while meaningless: the window less than half full (it is cleared on a reheat
    /// and on a change of schedule), `T` changed by more than a factor 2 over it, or the
    /// fluctuations no larger than ten times `resolution`, the energy's rounding error.
    /// Valid only near equilibrium and for a window much longer than the energy's
    /// autocorrelation time.
    pub fn heat_capacity(&self, resolution: f64) -> Option<f64> {
        self.energies.heat_capacity(resolution)
    }

    /// Acceptance rate over the sliding window.
    pub fn acceptance_window(&self) -> f64 {
        self.window.rate()
    }
}
