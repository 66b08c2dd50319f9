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

use super::config::RangeError;
use super::ising::{IsingConfig, IsingProblem, IsingState, IsingView};
use super::landscape::{LandscapeConfig, LandscapeProblem, LandscapeState, LandscapeView};
use super::network::{LossSlice, NetworkConfig, NetworkProblem, NetworkState, NetworkView};
use super::problem::{Problem, ProposalKind, Sweep};
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
    /// The engine's heat-capacity estimate from the chain's energy fluctuations.
    pub heat_capacity: f64,
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
}

/// A problem's answer to a [`Request`].
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// A loss slice.
    LossSlice(LossSlice),
}

/// Everything a problem says about itself off the hot path.
pub trait Kind {
    /// The observables it reports besides the energy, in CSV order (at most
    /// [`super::run::MAX_OBSERVABLES`]).
    fn observables(&self) -> &'static [Observable];

    /// Their values in the current state, written to `out` (as long as
    /// [`Kind::observables`]).
    fn observe(&mut self, chain: &ChainStats, out: &mut [f64]);

    /// How many independent particles the energy sums over (walkers); records show the
    /// energy per particle.
    fn particles(&self) -> usize {
        1
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
            ProblemConfig::Ising(c) => c.label(),
        }
    }

    /// Checks every value; field paths start with the variant (`Network.hidden`).
    pub fn validate(&self) -> Result<(), RangeError> {
        match self {
            ProblemConfig::Network(c) => c.validate().map_err(|e| e.within("Network")),
            ProblemConfig::Landscape(c) => c.validate().map_err(|e| e.within("Landscape")),
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
            ProblemConfig::Ising(_) => super::ising::OBSERVABLES,
        }
    }
}

/// A running problem of any kind.
#[derive(Clone, Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "a run holds one; boxing the network would put a pointer chase in every step"
)]
pub enum AnyProblem {
    /// The network.
    Network(NetworkProblem),
    /// Walkers on a landscape.
    Landscape(Box<LandscapeProblem>),
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
    /// The spins, couplings and field.
    Ising(IsingState),
}

/// Runs `$body` with `$p` bound to the kind inside `$problem` (an [`AnyProblem`]).
macro_rules! each {
    ($problem:expr, $p:ident => $body:expr) => {
        match $problem {
            AnyProblem::Network($p) => $body,
            AnyProblem::Landscape($p) => $body,
            AnyProblem::Ising($p) => $body,
        }
    };
}

impl Problem for AnyProblem {
    fn energy(&self) -> f64 {
        each!(self, p => p.energy())
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

    fn particles(&self) -> usize {
        each!(self, p => p.particles())
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
