//! The problem kinds, side by side: one enum of configs ([`ProblemConfig`]), one of
//! running problems ([`AnyProblem`]) and one of what the UI draws ([`ProblemView`]).
//!
//! A kind is one module of `sim` (its config, its problem implementing
//! [`super::Problem`] and [`Kind`], its view data) and one arm in each enum here. The
//! forwarding from [`AnyProblem`] to the kinds is written once, in the `each!` macro:
//! a new kind adds one line to it, whatever the number of methods.
//!
//! [`Kind`] is everything a problem says about itself off the hot path: the observables it
//! reports beyond the energy (the CSV columns, the status bar and the plots list these),
//! how many particles its energy sums over, what the UI draws, its answers to requests and
//! its state for export.

use super::ais::{AisAnswer, AisErrors};
use super::config::RangeError;
use super::ising::{IsingConfig, IsingProblem, IsingState, IsingView};
use super::landscape::{LandscapeConfig, LandscapeProblem, LandscapeState, LandscapeView};
use super::network::{LossSlice, NetworkConfig, NetworkProblem, NetworkState, NetworkView};
use super::problem::{Problem, ProposalKind, Sweep};
use super::rbm::{RbmConfig, RbmProblem, RbmState, RbmView};
use super::tsp::{TspConfig, TspProblem, TspState, TspView};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// How an observable is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlotKind {
    /// Against the step, on the live plot called `title` (observables with the same title
    /// share it). `fraction`: a share between 0 and 1, shown in percent.
    Steps {
        /// The plot's title.
        title: &'static str,
        /// A share between 0 and 1.
        fraction: bool,
    },
    /// Against the temperature, with its peak marked (the heat capacity).
    Temperature {
        /// The plot's title.
        title: &'static str,
    },
}

/// A quantity a problem reports besides the energy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observable {
    /// Column name in CSV files (snake_case).
    pub column: &'static str,
    /// Name on screen.
    pub label: &'static str,
    /// What it means, for tooltips.
    pub tip: &'static str,
    /// How it is plotted.
    pub plot: PlotKind,
    /// Shown in the status bar.
    pub status: bool,
}

/// What the engine knows that a problem's observables may need.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChainStats {
    /// The temperature of the last step.
    pub temperature: f64,
    /// The engine's heat-capacity estimate for a single chain, per particle: the
    /// detrended fluctuations of its energy over the last `window` steps
    /// ([`super::Annealer::heat_capacity`]); NaN while that is meaningless.
    pub heat_capacity: f64,
}

/// The temperatures of a run, for what a problem shows against `T`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunTemperatures {
    /// The temperature of the last step (the coldest replica's, when tempering).
    pub now: f64,
    /// The lowest and highest temperature the schedule (or the tempering ladder) visits
    /// if left alone: `[T_min, T0]` (the highest control point of a drawn schedule).
    pub range: [f64; 2],
}

/// What the UI asks a problem to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewRequest {
    /// Side of any image the problem computes (the network's decision grid); 0: none.
    pub grid: usize,
    /// Only what a tempering replica shows beside the coldest one (cheap).
    pub replica: bool,
}

/// A question to a problem answered off the step loop (on the trainer thread).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Request {
    /// A 2D slice of the network's loss around its current (or best) parameters along two
    /// fresh filter-normalised random directions, `span` units each way.
    LossSlice {
        /// Half-width of the slice in units of the directions.
        span: f64,
        /// Centre on the best parameters instead of the current ones.
        best: bool,
    },
    /// An annealed-importance-sampling estimate of `ln Z` at temperature `t` (an RBM:
    /// at its model temperature 1 while it learns), with the exact value beside it.
    Ais {
        /// Intervals `K` between the base distribution and the target.
        k: usize,
        /// Independent runs `M`.
        m: usize,
        /// The temperature.
        t: f64,
    },
    /// The error of AIS against the exact `ln Z` for `K = 1, 3, 10, ...` up to `k_max`,
    /// each averaged over `repeats` estimates of `m` runs.
    AisErrors {
        /// The largest `K`.
        k_max: usize,
        /// Runs per estimate.
        m: usize,
        /// Estimates per `K`.
        repeats: usize,
        /// The temperature.
        t: f64,
    },
}

/// A problem's answer to a [`Request`].
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// A loss slice.
    LossSlice(LossSlice),
    /// An AIS estimate of `ln Z` beside the exact value.
    Ais(AisAnswer),
    /// AIS errors against `K`.
    AisErrors(AisErrors),
}

/// Everything a problem says about itself off the hot path.
pub trait Kind {
    /// The observables it reports besides the energy, in CSV order (at most
    /// [`super::run::MAX_OBSERVABLES`]).
    fn observables(&self) -> &'static [Observable];

    /// Their values in the current state, written to `out` (as long as
    /// [`Kind::observables`]).
    fn observe(&mut self, chain: &ChainStats, out: &mut [f64]);

    /// Steps between two evaluations of the observables while running (1 for kinds whose
    /// step keeps them current anyway).
    fn observe_every(&self) -> u64 {
        super::run::OBSERVE_EVERY
    }

    /// How many independent particles the energy sums over (walkers); records show the
    /// energy per particle.
    fn particles(&self) -> usize {
        1
    }

    /// Brings what [`Kind::view`] shows up to date with the run's temperatures before a
    /// view is taken: work too slow for the step loop and the UI thread alike (the exact
    /// thermodynamics of a landscape), done on the trainer thread. Most kinds need none.
    fn prepare_view(&mut self, temperatures: &RunTemperatures) {
        let _ = temperatures;
    }

    /// What the UI draws of the current state.
    fn view(&self, request: &ViewRequest) -> ProblemView;

    /// The answer to `request`, if this kind answers it; `seed` seeds any randomness.
    fn answer(&self, request: &Request, seed: u64) -> Option<Reply> {
        let _ = (request, seed);
        None
    }

    /// The state, for export (`annealscope run --state`).
    fn state(&self) -> ProblemState;

    /// Per-particle samples for `annealscope run --samples`: the CSV columns after `step`
    /// and one row per particle, or `None` for kinds without particles.
    fn samples(&self) -> Option<(&'static str, Vec<Vec<f64>>)> {
        None
    }
}

/// What is annealed: the settings of one problem kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ProblemConfig {
    /// The network's training loss on its data set.
    Network(NetworkConfig),
    /// Walkers on a 2D landscape.
    Landscape(LandscapeConfig),
    /// A travelling salesman's tour through cities.
    Tsp(TspConfig),
    /// A restricted Boltzmann machine learning its data or sampled at `T`.
    Rbm(RbmConfig),
    /// An Ising lattice (a ferromagnet, an antiferromagnet or a spin glass).
    Ising(IsingConfig),
}

impl Default for ProblemConfig {
    fn default() -> Self {
        ProblemConfig::Network(NetworkConfig::default())
    }
}

impl ProblemConfig {
    /// A human-readable name of the kind and its main setting.
    pub fn label(&self) -> &'static str {
        match self {
            ProblemConfig::Network(_) => "Neural network",
            ProblemConfig::Landscape(l) => l.surface.label(),
            ProblemConfig::Tsp(_) => "Travelling salesman",
            ProblemConfig::Rbm(_) => "Boltzmann machine (RBM)",
            ProblemConfig::Ising(c) => c.label(),
        }
    }

    /// Checks every value; field paths start with the variant (`Network.hidden`).
    pub fn validate(&self) -> Result<(), RangeError> {
        match self {
            ProblemConfig::Network(c) => c.validate().map_err(|e| e.within("Network")),
            ProblemConfig::Landscape(c) => c.validate().map_err(|e| e.within("Landscape")),
            ProblemConfig::Tsp(c) => c.validate().map_err(|e| e.within("Tsp")),
            ProblemConfig::Rbm(c) => c.validate().map_err(|e| e.within("Rbm")),
            ProblemConfig::Ising(c) => c.validate().map_err(|e| e.within("Ising")),
        }
    }

    /// `count` independent copies of the problem at their starting states, drawn from
    /// `rng` one after the other (what they share is built once).
    pub fn build<R: Rng + ?Sized>(
        &self,
        count: usize,
        rng: &mut R,
    ) -> Result<Vec<AnyProblem>, RangeError> {
        match self {
            ProblemConfig::Network(c) => Ok(NetworkProblem::build(c, count, rng)
                .into_iter()
                .map(AnyProblem::Network)
                .collect()),
            ProblemConfig::Landscape(c) => Ok(LandscapeProblem::build(c, count, rng)
                .map_err(|e| e.within("Landscape"))?
                .into_iter()
                .map(|p| AnyProblem::Landscape(Box::new(p)))
                .collect()),
            ProblemConfig::Tsp(c) => Ok(TspProblem::build(c, count, rng)
                .map_err(|e| e.within("Tsp"))?
                .into_iter()
                .map(AnyProblem::Tsp)
                .collect()),
            ProblemConfig::Rbm(c) => Ok(RbmProblem::build(c, count, rng)
                .map_err(|e| e.within("Rbm"))?
                .into_iter()
                .map(|p| AnyProblem::Rbm(Box::new(p)))
                .collect()),
            ProblemConfig::Ising(c) => Ok(IsingProblem::replicas(c, count, rng)
                .map_err(|e| e.within("Ising"))?
                .into_iter()
                .map(|p| AnyProblem::Ising(Box::new(p)))
                .collect()),
        }
    }

    /// The observables problems of this config report (the CSV columns after the core ones).
    pub fn observables(&self) -> &'static [Observable] {
        match self {
            ProblemConfig::Network(_) => super::network::OBSERVABLES,
            ProblemConfig::Landscape(_) => super::landscape::OBSERVABLES,
            ProblemConfig::Tsp(c) => c.observables(),
            ProblemConfig::Rbm(c) => c.observables(),
            ProblemConfig::Ising(_) => super::ising::OBSERVABLES,
        }
    }
}

/// A running problem of any kind.
#[derive(Clone, Debug)]
// 32-bit targets (the web) have smaller variants, below the lint's threshold.
#[cfg_attr(
    target_pointer_width = "64",
    expect(
        clippy::large_enum_variant,
        reason = "a run holds one; boxing the network would put a pointer chase in every step"
    )
)]
pub enum AnyProblem {
    /// The network.
    Network(NetworkProblem),
    /// Walkers on a landscape.
    Landscape(Box<LandscapeProblem>),
    /// A tour (not boxed: its hot path is a few table lookups, a pointer chase would show).
    Tsp(TspProblem),
    /// A restricted Boltzmann machine.
    Rbm(Box<RbmProblem>),
    /// An Ising lattice.
    Ising(Box<IsingProblem>),
}

/// What the UI draws of one problem.
#[derive(Clone, Debug)]
pub enum ProblemView {
    /// The data and the decision boundary.
    Network(NetworkView),
    /// The surface and its walkers.
    Landscape(LandscapeView),
    /// The cities, the current and the best tour.
    Tsp(TspView),
    /// The machine's patterns, receptive fields and chains.
    Rbm(RbmView),
    /// The spins and the exact curves.
    Ising(IsingView),
}

/// A problem's state for export, as JSON.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum ProblemState {
    /// The network's parameters and data.
    Network(NetworkState),
    /// The walkers.
    Landscape(LandscapeState),
    /// The cities and the tours.
    Tsp(TspState),
    /// The machine's weights, exact `ln Z` and an AIS estimate of it.
    Rbm(RbmState),
    /// The spins, couplings and field.
    Ising(IsingState),
}

/// Runs `$body` with `$p` bound to the kind inside `$problem` (an [`AnyProblem`]).
macro_rules! each {
    ($problem:expr, $p:ident => $body:expr) => {
        match $problem {
            AnyProblem::Network($p) => $body,
            AnyProblem::Landscape($p) => $body,
            AnyProblem::Tsp($p) => $body,
            AnyProblem::Rbm($p) => $body,
            AnyProblem::Ising($p) => $body,
        }
    };
}

impl Problem for AnyProblem {
    fn energy(&self) -> f64 {
        each!(self, p => p.energy())
    }

    fn energy_resolution(&self) -> f64 {
        each!(self, p => p.energy_resolution())
    }

    fn propose<R: Rng + ?Sized>(&mut self, kind: ProposalKind, sigma: f64, rng: &mut R) -> f64 {
        each!(self, p => p.propose(kind, sigma, rng))
    }

    fn accept(&mut self) {
        each!(self, p => p.accept())
    }

    fn reject(&mut self) {
        each!(self, p => p.reject())
    }

    fn store_best(&mut self) {
        each!(self, p => p.store_best())
    }

    fn propose_langevin<R: Rng + ?Sized>(
        &mut self,
        eta: f64,
        t: f64,
        rng: &mut R,
    ) -> Option<(f64, f64)> {
        each!(self, p => p.propose_langevin(eta, t, rng))
    }

    fn sweep<R: Rng + ?Sized>(&mut self, t: f64, rng: &mut R) -> Option<Sweep> {
        each!(self, p => p.sweep(t, rng))
    }
}

impl Kind for AnyProblem {
    fn observables(&self) -> &'static [Observable] {
        each!(self, p => p.observables())
    }

    fn observe(&mut self, chain: &ChainStats, out: &mut [f64]) {
        each!(self, p => p.observe(chain, out))
    }

    fn observe_every(&self) -> u64 {
        each!(self, p => p.observe_every())
    }

    fn particles(&self) -> usize {
        each!(self, p => p.particles())
    }

    fn prepare_view(&mut self, temperatures: &RunTemperatures) {
        each!(self, p => p.prepare_view(temperatures))
    }

    fn view(&self, request: &ViewRequest) -> ProblemView {
        each!(self, p => p.view(request))
    }

    fn answer(&self, request: &Request, seed: u64) -> Option<Reply> {
        each!(self, p => p.answer(request, seed))
    }

    fn state(&self) -> ProblemState {
        each!(self, p => p.state())
    }

    fn samples(&self) -> Option<(&'static str, Vec<Vec<f64>>)> {
        each!(self, p => p.samples())
    }
}
