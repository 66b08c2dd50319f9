//! annealscope: watch simulated annealing train a tiny neural network.
//!
//! # Data flow
//!
//! * [`sim`] is the physics: a [`sim::Run`] owns a data set, a network whose loss is the
//!   energy, and an [`sim::Annealer`] that proposes moves and accepts them with the
//!   Metropolis rule at a temperature set by a cooling [`sim::Schedule`]. It is pure and
//!   deterministic given the seeds in its [`sim::RunConfig`].
//! * [`trainer`] runs a `Run` on a background thread. The UI sends it
//!   [`trainer::Command`]s; it streams [`trainer::Snapshot`]s back, about 60 a second,
//!   each holding every step's metrics since the last (summarised losslessly at the
//!   extremes in a [`sim::History`]) and the latest decision boundary.
//! * [`preset`] saves and loads a whole session as versioned RON.
//! * [`ui`] is the desktop app (eframe/egui): it drains snapshots each frame without
//!   waiting and turns every user action into a command.
//! * [`cli`] is the command line: the GUI, headless runs and the benchmark.

pub mod bench;
pub mod cli;
pub mod colors;
pub mod figure;
pub mod preset;
pub mod sim;
pub mod trainer;
pub mod ui;

/// Opens the desktop app on `preset` (default: the last session, else the built-in default).
pub fn gui(preset: Option<preset::Preset>) -> anyhow::Result<()> {
    ui::run(preset)
}
