//! The background trainer: a named thread that owns one [`Run`], obeys [`Command`]s and
//! streams [`Snapshot`]s.
//!
//! Neither side ever waits for the other. Commands go over an unbounded channel (the UI
//! sends a handful a second at most). Snapshots go over a small bounded channel with
//! `try_send`: when the receiver is slow or absent the trainer keeps the unsent steps in
//! its own [`History`], whose size is bounded by merging buckets, and sends them with the
//! next snapshot. So no step's extremes are lost and memory stays bounded however long
//! the run.
//!
//! The trajectory depends only on the run's config: snapshots, pauses and the speed
//! setting decide *when* steps happen, never *which*.

use crate::sim::{
    Applied, Dataset, DecisionGrid, EnergyGrid, History, Run, RunConfig, ScheduleState, StepRecord,
};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError, bounded, unbounded};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Snapshots sent per second at most.
pub const SNAPSHOTS_PER_SECOND: f64 = 60.0;
/// Accuracy (only when the state changed) and the heat capacity are re-evaluated every
/// this many steps.
pub const ACCURACY_EVERY: u64 = 64;
/// Buckets the trainer keeps for an unread receiver before merging them.
const PENDING_BUCKETS: usize = 4096;
/// Decision grids are recomputed at most this often.
const GRID_INTERVAL: Duration = Duration::from_millis(50);

/// How fast the trainer steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Speed {
    /// As fast as the machine allows.
    #[default]
    Max,
    /// At most this many steps per second of wall time.
    PerSecond(f64),
}

/// What the UI (or a test) asks of the trainer.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Start or resume stepping. After the configured number of steps, carries on.
    Play,
    /// Stop stepping.
    Pause,
    /// Take exactly this many steps, then pause.
    Step(u64),
    /// Rebuild the run at step 0 with the current config.
    Reset,
    /// Apply a new config: annealer settings live, data/network/seed by restarting.
    SetConfig(Box<RunConfig>),
    /// Set the temperature now (reheat or quench).
    SetTemperature(f64),
    /// Change the speed.
    SetSpeed(Speed),
    /// Side of the decision grid (0 turns it off).
    SetGrid(usize),
    /// Compute a 2D slice of the network's loss around its current (or best) parameters
    /// along two fresh filter-normalised random directions, `span` units each way.
    LossSlice {
        /// Half-width of the slice in units of the directions.
        span: f64,
        /// Centre on the best parameters instead of the current ones.
        best: bool,
    },
    /// Suggest a schedule that fits this many seconds at the current speed.
    Suggest(f64),
    /// Stop the thread.
    Shutdown,
}

/// What the trainer reports, about 60 times a second while anything happens.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Increments each time the run restarts from step 0; the UI clears its plots then.
    pub generation: u64,
    /// Every step since the previous snapshot (of this generation).
    pub history: History,
    /// The metrics of the latest step.
    pub latest: StepRecord,
    /// Whether the trainer is stepping.
    pub playing: bool,
    /// Whether the configured number of steps has been reached.
    pub finished: bool,
    /// Steps per second of wall time, measured over the last snapshot interval.
    pub steps_per_second: f64,
    /// The config in force.
    pub config: RunConfig,
    /// The schedule in motion (to draw the planned temperature curve).
    pub schedule: ScheduleState,
    /// The step size in force (differs from the config's while it adapts).
    pub step_size: f64,
    /// The data set.
    pub data: Arc<Dataset>,
    /// The latest decision boundary, if any was computed since the last snapshot.
    pub grid: Option<Arc<DecisionGrid>>,
    /// In a landscape run: the surface, the walkers and the trail of walker 0.
    pub landscape: Option<LandscapeSnapshot>,
    /// A loss slice computed since the last snapshot.
    pub slice: Option<Arc<LossSlice>>,
    /// In a parallel-tempering run: the ladder, exchange rates and who sits where.
    pub tempering: Option<TemperingSnapshot>,
    /// A schedule suggested since the last snapshot (or why none could be).
    pub suggestion: Option<Result<crate::sim::suggest::Suggestion, String>>,
    /// Accepted moves so far.
    pub accepted: u64,
    /// Candidates rejected for a non-finite energy so far.
    pub non_finite: u64,
    /// Set when a command changed data, network or seed and the run restarted.
    pub restarted: bool,
    /// Set when a command was refused (an out-of-range config).
    pub error: Option<String>,
}

/// What the UI needs to draw a landscape run.
#[derive(Clone, Debug)]
pub struct LandscapeSnapshot {
    /// `E` on a grid over the box (the same for the whole run).
    pub grid: Arc<EnergyGrid>,
    /// Walker positions.
    pub walkers: Vec<[f64; 2]>,
    /// Walker energies.
    pub energies: Vec<f64>,
    /// Recent positions of walker 0, oldest first.
    pub trail: Vec<[f64; 2]>,
    /// The last proposal: from, to, accepted.
    pub last_move: Option<([f64; 2], [f64; 2], bool)>,
}

/// The state of a parallel-tempering run.
#[derive(Clone, Debug, PartialEq)]
pub struct TemperingSnapshot {
    /// The temperatures, coldest first.
    pub ladder: Vec<f64>,
    /// Exchange acceptance rate of each neighbouring pair.
    pub swap_rates: Vec<f64>,
    /// Which replica (by its starting slot) sits at each temperature.
    pub identity: Vec<usize>,
    /// Each temperature's current energy (per walker on a landscape).
    pub energies: Vec<f64>,
    /// Each temperature's walkers, in a landscape run.
    pub walkers: Vec<Vec<[f64; 2]>>,
}

/// A 2D slice of the network's loss.
#[derive(Clone, Debug, PartialEq)]
pub struct LossSlice {
    /// Loss on a `side x side` grid of `(a, b)` in `[-span, span]^2`, rows from `b = -span`.
    pub values: Vec<f64>,
    /// Cells per side.
    pub side: usize,
    /// Half-width.
    pub span: f64,
    /// Centred on the best parameters (else the current ones).
    pub best: bool,
    /// The step it was taken at.
    pub step: u64,
}

/// Cells per side of a loss slice.
pub const SLICE_GRID: usize = 61;

/// Cells per side of the landscape grid sent to the UI.
pub const LANDSCAPE_GRID: usize = 160;
/// Positions of walker 0 kept for its trail.
const TRAIL: usize = 400;

/// Handle to the trainer thread. Dropping it shuts the thread down and joins it.
pub struct Trainer {
    commands: Sender<Command>,
    snapshots: Receiver<Snapshot>,
    thread: Option<JoinHandle<()>>,
}

/// A callback the trainer calls after sending a snapshot (the UI's repaint request).
pub type Waker = Box<dyn Fn() + Send>;

impl Trainer {
    /// Starts a trainer on `config`, playing.
    pub fn spawn(config: RunConfig, speed: Speed, waker: Option<Waker>) -> anyhow::Result<Self> {
        let run = Run::new(config)?;
        let (commands, command_rx) = unbounded();
        let (snapshot_tx, snapshots) = bounded(4);
        let thread = std::thread::Builder::new()
            .name("annealscope-trainer".into())
            .spawn(move || Worker::new(run, speed, snapshot_tx, waker).main(command_rx))?;
        Ok(Self {
            commands,
            snapshots,
            thread: Some(thread),
        })
    }

    /// Sends a command; never blocks.
    pub fn send(&self, command: Command) {
        // Fails only if the thread is gone, and then there is nothing left to command.
        let _ = self.commands.send(command);
    }

    /// The snapshots that arrived since the last call; never blocks.
    pub fn snapshots(&self) -> crossbeam_channel::TryIter<'_, Snapshot> {
        self.snapshots.try_iter()
    }

    /// Waits up to `timeout` for one snapshot (for tests and headless drivers).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Snapshot> {
        self.snapshots.recv_timeout(timeout).ok()
    }

    /// Stops the thread and waits for it.
    pub fn shutdown(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Trainer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Worker {
    run: Run,
    data: Arc<Dataset>,
    speed: Speed,
    playing: bool,
    /// The step at which playing stops by itself (`None`: never).
    stop_at: Option<u64>,
    /// Steps still to take for a `Step(n)` command.
    step_budget: u64,
    generation: u64,
    pending: History,
    accuracy: (f64, f64),
    /// The heat-capacity estimate, refreshed with the accuracies.
    heat_capacity: f64,
    grid_size: usize,
    grid_dirty: bool,
    last_grid: Option<Instant>,
    grid: Option<Arc<DecisionGrid>>,
    /// The landscape's energy grid, in a landscape run.
    energy_grid: Option<Arc<EnergyGrid>>,
    trail: std::collections::VecDeque<[f64; 2]>,
    slice: Option<Arc<LossSlice>>,
    slices_made: u64,
    suggestion: Option<Result<crate::sim::suggest::Suggestion, String>>,
    /// Steps per second measured while playing flat out, for sizing suggested runs.
    measured_speed: f64,
    restarted: bool,
    error: Option<String>,
    /// Something changed that the UI has not been told.
    dirty: bool,
    tx: Sender<Snapshot>,
    waker: Option<Waker>,
    last_sent: Instant,
    steps_at_last_sent: u64,
    /// For the steps-per-second limit: when counting started and steps since.
    rate_epoch: Instant,
    rate_steps: u64,
    batch: u64,
}

impl Worker {
    fn new(run: Run, speed: Speed, tx: Sender<Snapshot>, waker: Option<Waker>) -> Self {
        let now = Instant::now();
        let mut w = Self {
            data: Arc::new(run.data().clone()),
            stop_at: Some(run.config().steps),
            run,
            speed,
            playing: true,
            step_budget: 0,
            generation: 0,
            pending: History::new(PENDING_BUCKETS),
            accuracy: (f64::NAN, f64::NAN),
            heat_capacity: f64::NAN,
            grid_size: 128,
            grid_dirty: true,
            last_grid: None,
            grid: None,
            energy_grid: None,
            trail: std::collections::VecDeque::with_capacity(TRAIL),
            slice: None,
            slices_made: 0,
            suggestion: None,
            measured_speed: 0.0,
            restarted: false,
            error: None,
            dirty: true,
            tx,
            waker,
            last_sent: now,
            steps_at_last_sent: 0,
            rate_epoch: now,
            rate_steps: 0,
            batch: 64,
        };
        w.accuracy = w.run.accuracies();
        w.energy_grid = energy_grid(&w.run);
        w
    }

    fn main(mut self, commands: Receiver<Command>) {
        loop {
            // Commands first, without waiting.
            for command in commands.try_iter() {
                if !self.apply(command) {
                    return;
                }
            }
            let active = self.playing || self.step_budget > 0;
            if active {
                self.work();
            }
            let now = Instant::now();
            if self.dirty
                && now.duration_since(self.last_sent).as_secs_f64() >= 1.0 / SNAPSHOTS_PER_SECOND
            {
                self.send(now);
            }
            // Idle or throttled: sleep until a command arrives or there is work to do.
            let wait = if self.playing || self.step_budget > 0 {
                self.throttle_wait()
            } else if self.dirty {
                Some(Duration::from_millis(5))
            } else {
                Some(Duration::from_millis(250))
            };
            if let Some(wait) = wait {
                match commands.recv_timeout(wait) {
                    Ok(command) => {
                        if !self.apply(command) {
                            return;
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        }
    }

    /// Applies a command; false means shut down.
    fn apply(&mut self, command: Command) -> bool {
        self.dirty = true;
        match command {
            Command::Play => {
                if !self.playing {
                    self.playing = true;
                    if self.run.finished() {
                        self.stop_at = None;
                    }
                    self.restart_rate();
                }
            }
            Command::Pause => {
                self.playing = false;
                self.step_budget = 0;
            }
            Command::Step(n) => {
                self.playing = false;
                self.step_budget += n;
            }
            Command::Reset => {
                let config = self.run.config().clone();
                self.restart(config);
            }
            Command::SetConfig(config) => match self.run.set_config((*config).clone()) {
                Ok(Applied::Live) => {
                    self.stop_at = self.stop_at.map(|_| self.run.config().steps);
                    self.grid_dirty = true;
                }
                Ok(Applied::Restarted) => {
                    self.restart(*config);
                    self.restarted = true;
                }
                Err(e) => self.error = Some(e.to_string()),
            },
            Command::SetTemperature(t) => self.run.set_temperature(t),
            Command::SetSpeed(speed) => {
                self.speed = speed;
                self.restart_rate();
            }
            Command::SetGrid(g) => {
                self.grid_size = g.min(crate::sim::limits::GRID_MAX);
                self.grid_dirty = true;
                self.last_grid = None;
            }
            Command::LossSlice { span, best } => {
                if let Some(net) = self.run.network() {
                    use rand::SeedableRng;
                    // Its own random stream: slices never disturb the run's trajectory.
                    self.slices_made += 1;
                    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(
                        self.run.config().seed
                            ^ self.slices_made.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                    );
                    let theta = if best {
                        net.best_params()
                    } else {
                        net.params()
                    }
                    .to_vec();
                    let dirs = net.filter_normalised_directions(&theta, &mut rng);
                    self.slice = Some(Arc::new(LossSlice {
                        values: net.loss_slice(&theta, &dirs, span, SLICE_GRID),
                        side: SLICE_GRID,
                        span,
                        best,
                        step: self.run.annealer().steps(),
                    }));
                }
            }
            Command::Suggest(seconds) => {
                let speed = if self.measured_speed > 0.0 {
                    self.measured_speed
                } else {
                    1e5
                };
                self.suggestion = Some(
                    crate::sim::suggest::suggest(self.run.config(), seconds, speed)
                        .map_err(|e| e.to_string()),
                );
            }
            Command::Shutdown => return false,
        }
        true
    }

    fn restart(&mut self, config: RunConfig) {
        match Run::new(config) {
            Ok(run) => {
                self.run = run;
                self.data = Arc::new(self.run.data().clone());
                self.energy_grid = energy_grid(&self.run);
                self.trail.clear();
                self.generation += 1;
                self.pending.clear();
                self.stop_at = Some(self.run.config().steps);
                self.accuracy = self.run.accuracies();
                self.steps_at_last_sent = 0;
                self.grid_dirty = true;
                self.last_grid = None;
                self.restart_rate();
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    fn tempering_snapshot(&self) -> Option<TemperingSnapshot> {
        let e = self.run.engine();
        if e.len() < 2 {
            return None;
        }
        let per_walker = |p: &crate::sim::AnyProblem| match p {
            crate::sim::AnyProblem::Landscape(l) => l.len() as f64,
            crate::sim::AnyProblem::Network(_) => 1.0,
        };
        Some(TemperingSnapshot {
            ladder: e.ladder().to_vec(),
            swap_rates: e.swap_rates(),
            identity: e.identity().to_vec(),
            energies: (0..e.len())
                .map(|i| {
                    let (p, _) = e.slot(i);
                    crate::sim::Problem::energy(p) / per_walker(p)
                })
                .collect(),
            walkers: (0..e.len())
                .filter_map(|i| match e.slot(i).0 {
                    crate::sim::AnyProblem::Landscape(l) => Some(l.walkers().to_vec()),
                    crate::sim::AnyProblem::Network(_) => None,
                })
                .collect(),
        })
    }

    fn landscape_snapshot(&self) -> Option<LandscapeSnapshot> {
        let land = self.run.landscape()?;
        Some(LandscapeSnapshot {
            grid: Arc::clone(self.energy_grid.as_ref()?),
            walkers: land.walkers().to_vec(),
            energies: land.energies().to_vec(),
            trail: self.trail.iter().copied().collect(),
            last_move: land.last_move(),
        })
    }

    fn restart_rate(&mut self) {
        self.rate_epoch = Instant::now();
        self.rate_steps = 0;
    }

    /// How many steps to take now.
    fn due(&self) -> u64 {
        if !self.playing {
            // Manual steps happen at once, whatever the speed.
            return self.step_budget.min(self.batch.max(1));
        }
        let n = match self.speed {
            Speed::Max => self.batch,
            Speed::PerSecond(rate) => {
                let allowed = (rate * self.rate_epoch.elapsed().as_secs_f64()).floor() as u64;
                allowed
                    .saturating_sub(self.rate_steps)
                    .min(self.batch.max(1))
            }
        };
        match self.stop_at {
            Some(stop) => n.min(stop.saturating_sub(self.run.annealer().steps())),
            None => n,
        }
    }

    /// Takes the steps that are due, recording each.
    fn work(&mut self) {
        let n = self.due();
        let started = Instant::now();
        for _ in 0..n {
            let outcome = self.run.step();
            let step = self.run.annealer().steps();
            if step.is_multiple_of(ACCURACY_EVERY) {
                self.accuracy = self.run.accuracies();
                self.heat_capacity = self.run.heat_capacity();
            }
            self.grid_dirty |= outcome.accepted;
            let record = self
                .run
                .record_with(self.accuracy.0, self.accuracy.1, self.heat_capacity);
            self.pending.push(&record);
            if let Some(land) = self.run.landscape()
                && (step - 1).is_multiple_of(land.len() as u64)
            {
                // Walker 0 just had its turn.
                if self.trail.len() == TRAIL {
                    self.trail.pop_front();
                }
                self.trail.push_back(land.walkers()[0]);
            }
        }
        if n > 0 {
            self.dirty = true;
            self.rate_steps += n;
            if !self.playing {
                self.step_budget -= n.min(self.step_budget);
                // Exact values at the end of a manual step.
                self.accuracy = self.run.accuracies();
            }
            if let Speed::Max = self.speed {
                // Aim at batches of about a millisecond, to stay responsive to commands.
                let took = started.elapsed().as_secs_f64();
                if took < 0.5e-3 {
                    self.batch = (self.batch * 2).min(1 << 20);
                } else if took > 2e-3 {
                    self.batch = (self.batch / 2).max(1);
                }
            }
        }
        if self.playing
            && self
                .stop_at
                .is_some_and(|s| self.run.annealer().steps() >= s)
        {
            self.playing = false;
            self.accuracy = self.run.accuracies();
            self.dirty = true;
        }
    }

    /// How long to sleep while playing (None: go on at once).
    fn throttle_wait(&self) -> Option<Duration> {
        match self.speed {
            Speed::Max => None,
            Speed::PerSecond(rate) => {
                let next = (self.rate_steps + 1) as f64 / rate.max(1e-9);
                let wait = next - self.rate_epoch.elapsed().as_secs_f64();
                (wait > 0.0).then(|| Duration::from_secs_f64(wait.min(1.0 / SNAPSHOTS_PER_SECOND)))
            }
        }
    }

    fn send(&mut self, now: Instant) {
        if self.grid_size > 0
            && self.grid_dirty
            && self
                .last_grid
                .is_none_or(|t| now.duration_since(t) >= GRID_INTERVAL)
        {
            self.grid = self.run.decision_grid(self.grid_size).map(Arc::new);
            self.grid_dirty = false;
            self.last_grid = Some(now);
        }
        let steps = self.run.annealer().steps();
        let elapsed = now.duration_since(self.last_sent).as_secs_f64();
        let rate = steps.saturating_sub(self.steps_at_last_sent) as f64 / elapsed.max(1e-9);
        if self.playing && matches!(self.speed, Speed::Max) && rate > 0.0 {
            self.measured_speed = rate;
        }
        let mut latest =
            self.run
                .record_with(self.accuracy.0, self.accuracy.1, self.run.heat_capacity());
        if !self.playing {
            let (train, test) = self.run.accuracies();
            latest.train_accuracy = train;
            latest.test_accuracy = test;
        }
        let snapshot = Snapshot {
            generation: self.generation,
            history: self.pending.take(),
            latest,
            playing: self.playing,
            finished: self.run.finished(),
            steps_per_second: steps.saturating_sub(self.steps_at_last_sent) as f64
                / elapsed.max(1e-9),
            config: self.run.config().clone(),
            schedule: self.run.annealer().schedule().clone(),
            step_size: self.run.annealer().step_size(),
            data: Arc::clone(&self.data),
            grid: self.grid.clone(),
            landscape: self.landscape_snapshot(),
            slice: self.slice.clone(),
            tempering: self.tempering_snapshot(),
            suggestion: self.suggestion.clone(),
            accepted: self.run.annealer().accepted(),
            non_finite: self.run.annealer().non_finite(),
            restarted: self.restarted,
            error: self.error.clone(),
        };
        match self.tx.try_send(snapshot) {
            Ok(()) => {
                self.dirty = false;
                self.grid = None;
                self.slice = None;
                self.suggestion = None;
                self.restarted = false;
                self.error = None;
                if let Some(w) = &self.waker {
                    w();
                }
            }
            Err(TrySendError::Full(snapshot)) | Err(TrySendError::Disconnected(snapshot)) => {
                // Keep the steps for the next try; `pending` merges them if it fills up.
                let mut back = snapshot.history;
                back.append(&self.pending);
                self.pending = back;
            }
        }
        self.last_sent = now;
        self.steps_at_last_sent = steps;
    }
}

fn energy_grid(run: &Run) -> Option<Arc<EnergyGrid>> {
    let land = run.landscape()?;
    Some(Arc::new(land.surface().grid(land.bounds(), LANDSCAPE_GRID)))
}
