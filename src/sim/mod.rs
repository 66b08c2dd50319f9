//! The physics and the maths: data sets, the network, energies, proposals, acceptance,
//! cooling schedules, statistics.
//!
//! Pure and deterministic given a seed. Depends on ndarray, rand and serde only: never on
//! the UI, threads or channels.

pub mod anneal;
pub mod config;
pub mod data;
pub mod fastmath;
pub mod history;
pub mod landscape;
pub mod network;
pub mod problem;
pub mod run;
pub mod schedule;
pub mod suggest;
pub mod tempering;

pub use anneal::{Acceptance, Annealer, AnnealerConfig, Sampler, StepOutcome};
pub use config::{RangeError, RunConfig, limits};
pub use data::{DataConfig, DataKind, Dataset, Samples};
pub use history::{Bucket, History, Metric};
pub use landscape::{EnergyGrid, LandscapeConfig, LandscapeProblem, Surface, Thermo};
pub use network::{Activation, NetworkConfig, NetworkProblem};
pub use problem::{Problem, ProposalKind};
pub use run::{AnyProblem, Applied, DecisionGrid, Run, StepRecord};
pub use schedule::{Schedule, ScheduleState};
