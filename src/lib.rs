//! annealscope: watch simulated annealing, temperature and the Boltzmann distribution at
//! work, on a tiny neural network's loss, 2D energy landscapes, a travelling salesman's
//! tour, an Ising lattice and a restricted Boltzmann machine.
//!
//! # Data flow
//!
//! * [`sim`] is the physics, pure and deterministic given the seeds in a
//!   [`sim::RunConfig`]. The config names a problem kind ([`sim::ProblemConfig`]: the
//!   network with its data set, walkers on a landscape, a travelling salesman's tour, a
//!   restricted Boltzmann machine or an Ising lattice), the annealing dynamics
//!   ([`sim::AnnealerConfig`]: schedule, step size, proposal, Metropolis or Barker,
//!   random walk, Langevin or MALA) and optionally a parallel-tempering ladder. A
//!   [`sim::Run`] builds the problem and its [`sim::Engine`] (one chain, or replicas
//!   exchanging configurations) and steps it, recording each step as a
//!   [`sim::StepRecord`]: temperature, energy, best energy, acceptance rate, then the
//!   problem's own observables (accuracy for the network, the walkers' heat capacity for
//!   a landscape, the gap to a known optimum for a tour, the exact log-likelihood for a
//!   machine, the magnetisation for a lattice). A problem describes itself through [`sim::Kind`]: its observables,
//!   what the UI draws of it ([`sim::ProblemView`]), its state for export.
//! * [`trainer`] runs a `Run` on a background thread (on the web, within each frame's
//!   time budget, behind the same protocol). The UI sends it
//!   [`trainer::Command`]s; it streams [`trainer::Snapshot`]s back, about 60 a second,
//!   each holding every step's metrics since the last (summarised losslessly at the
//!   extremes in a [`sim::History`]), the problem's latest view and what happened
//!   ([`trainer::Event`]: a restart, a refused config with its typed error, an answer, a
//!   suggested schedule). Neither side ever waits for the other.
//! * [`preset`] saves and loads a whole session (run A, an optional run B to compare,
//!   the pace and the view) as versioned RON, reading every older version.
//! * [`ui`] is the app (eframe/egui), the same on the desktop and on a web page: one
//!   [`ui::RunPane`] per run, views that emit [`ui::Action`]s, applied in one place each
//!   frame. On the web (`web`, built for `wasm32`) there are no threads: the trainers
//!   step cooperatively within a time budget each frame, behind the same protocol.
//! * [`link`] carries a whole session in a URL's fragment (Session > Copy link).
//! * [`recording`] turns frames (the figure's, or the app's screenshots on an encoder
//!   thread) into animated GIFs; [`points`] reads one's own data from CSV files.
//! * [`figure`] draws a run for slides without a display; [`cli`] is the command line:
//!   the GUI, headless runs (`run`), presets' validation (`check`) and the benchmark
//!   ([`mod@bench`], and the UI's frame time in [`ui::bench`]).

pub mod bench;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod colors;
pub mod concepts;
pub mod figure;
pub mod lesson;
pub mod link;
pub mod pace;
pub mod points;
pub mod preset;
pub mod recording;
pub mod sim;
pub mod trainer;
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod web;

/// Opens the desktop app on `preset` (default: the last session, else the built-in
/// default) or on a lesson (with the name it goes by), in a window of `size` logical
/// pixels (default 1280 x 800).
#[cfg(not(target_arch = "wasm32"))]
pub fn gui(
    preset: Option<preset::Preset>,
    lesson: Option<(lesson::Lesson, String)>,
    size: Option<[f32; 2]>,
) -> anyhow::Result<()> {
    ui::run(preset, lesson, size)
}
