//! The physics and the maths: data sets, the network, energies, proposals, acceptance,
//! cooling schedules, statistics.
//!
//! Pure and deterministic given a seed. Depends on ndarray, rand and serde only: never on
//! the UI, threads or channels.
//!
//! A problem kind is one module here ([`network`], [`landscape`], [`tsp`], [`rbm`],
//! [`ising`]) and one arm in each enum of [`problems`]. [`ais`] estimates partition
//! functions by annealed importance sampling, for the RBM and the landscapes alike.

pub mod ais;
pub mod anneal;
pub mod config;
pub mod data;
pub mod engine;
pub mod fastmath;
pub mod history;
pub mod ising;
pub mod landscape;
pub mod network;
pub mod problem;
pub mod problems;
pub mod rbm;
pub mod run;
pub mod schedule;
pub mod suggest;
pub mod thermo;
pub mod tsp;

pub use anneal::{Acceptance, Annealer, AnnealerConfig, Sampler, StepOutcome};
pub use config::{RangeError, RunConfig, StopRules, limits};
pub use data::{DataConfig, DataKind, Dataset, Samples};
pub use engine::{Engine, TemperingConfig};
pub use history::{Bucket, History, Metric};
pub use ising::{IsingConfig, IsingProblem};
pub use landscape::{EnergyGrid, LandscapeConfig, LandscapeProblem, Surface};
pub use network::{Activation, DecisionGrid, LossSlice, NetworkConfig, NetworkProblem};
pub use problem::{Problem, ProposalKind, Sweep};
pub use problems::{
    AnyProblem, ChainStats, Kind, Observable, PlotKind, ProblemConfig, ProblemState, ProblemView,
    Reply, Request, RunTemperatures, ViewRequest,
};
pub use run::{Applied, MAX_OBSERVABLES, OBSERVE_EVERY, Run, StepRecord, StopReason};
pub use schedule::{Schedule, ScheduleState};
pub use thermo::{Inexact, Thermo};
