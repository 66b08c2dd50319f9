//! The trainer: it owns one [`Run`], obeys [`Command`]s and streams [`Snapshot`]s.
//!
//! Two drivers serve the same protocol with the same worker. On the desktop a named
//! background thread owns the worker ([`Trainer::spawn`]). In the browser there are no
//! threads: the worker lives in the [`Trainer`] itself and steps cooperatively when the UI
//! calls [`Trainer::drive`] each frame, within a time budget ([`Trainer::cooperative`]).
//! [`Trainer::start`] picks the platform's driver; the UI, the run and the presets do not
//! know which one they talk to.
//!
//! Neither side ever waits for the other. Commands go over an unbounded channel (the UI
//! sends a handful a second at most). Snapshots go over a small bounded channel with
//! `try_send`: when the receiver is slow or absent the trainer keeps the unsent steps in
//! its own [`History`], whose size is bounded by merging buckets, and sends them with the
//! next snapshot. So no step's extremes are lost and memory stays bounded however long
//! the run.
//!
//! The trajectory depends only on the run's config: snapshots, pauses and the speed
//! pace decide *when* steps happen, never *which*. The trainer knows no problem kind:
//! what it sends of the problem is the problem's own [`ProblemView`].

use crate::pace::Pace;
use crate::sim::suggest::Suggestion;
use crate::sim::{
    Applied, History, Kind, Observable, ProblemView, RangeError, Reply, Request, Run, RunConfig,
    ScheduleState, StepRecord, StopReason, ViewRequest,
};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError, bounded, unbounded};
use std::cell::RefCell;
use std::sync::Arc;
use std::thread::JoinHandle;
use web_time::{Duration, Instant};

/// Snapshots sent per second at most.
pub const SNAPSHOTS_PER_SECOND: f64 = 60.0;
/// Buckets the trainer keeps for an unread receiver before merging them.
const PENDING_BUCKETS: usize = 4096;
/// Seconds over which the reported steps per second are smoothed.
const RATE_SMOOTHING: f64 = 0.5;
/// Views of the problem are recomputed at most this often.
const VIEW_INTERVAL: Duration = Duration::from_millis(33);

/// What the UI (or a test) asks of the trainer.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Start or resume stepping. After the configured number of steps, carries on.
    Play,
    /// Stop stepping.
    Pause,
    /// Take exactly this many steps, then pause.
    Step(u64),
    /// Play until the run reaches this step, then pause (at once if it is there already).
    RunTo(u64),
    /// Rebuild the run at step 0 with the current config.
    Reset,
    /// Apply a new config: annealer settings live, a new problem, seed or ladder by
    /// restarting. A refused config is answered with [`Event::Refused`].
    SetConfig(Box<RunConfig>),
    /// Start a new session's run at step 0 on this config (loading a preset): no
    /// [`Event::Restarted`], since nothing was changed under the user's eyes. Refused like
    /// [`Command::SetConfig`].
    Load(Box<RunConfig>),
    /// Set the temperature now (reheat or quench).
    SetTemperature(f64),
    /// Change the pace.
    SetPace(Pace),
    /// What to draw of the problem (the decision grid's side; 0 turns it off).
    SetView(ViewRequest),
    /// A question to the problem, answered with [`Event::Answer`].
    Ask(Request),
    /// Suggest a schedule that fits this many seconds at the measured speed, answered with
    /// [`Event::Suggested`].
    Suggest(f64),
    /// Stop the thread.
    Shutdown,
}

/// Something that happened since the previous snapshot.
#[derive(Clone, Debug)]
pub enum Event {
    /// A config changed the problem, the seed or the ladder: the run restarted at step 0.
    Restarted,
    /// A config was refused; the run goes on with the config in force.
    Refused {
        /// Why.
        error: RangeError,
        /// The config the run goes on with.
        in_force: Box<RunConfig>,
    },
    /// The problem's answer to an [`Command::Ask`].
    Answer(Arc<Reply>),
    /// A suggested schedule, or why none could be made.
    Suggested(Result<Suggestion, RangeError>),
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
    /// The observables of the run's problem (the metrics after the core ones).
    pub observables: &'static [Observable],
    /// Whether the trainer is stepping.
    pub playing: bool,
    /// Whether the configured number of steps has been reached, or a stopping rule met.
    pub finished: bool,
    /// The stopping rule that stopped the run, if one did.
    pub stopped: Option<StopReason>,
    /// Steps per second of wall time, smoothed over about half a second.
    pub steps_per_second: f64,
    /// The schedule in motion (to draw the planned temperature curve).
    pub schedule: ScheduleState,
    /// The step size in force (differs from the config's while it adapts).
    pub step_size: f64,
    /// The problem as the UI draws it, when it changed since the last snapshot.
    pub view: Option<Arc<ProblemView>>,
    /// In a parallel-tempering run: the ladder, exchange rates and who sits where.
    pub tempering: Option<TemperingSnapshot>,
    /// Accepted moves so far.
    pub accepted: u64,
    /// Candidates rejected for a non-finite energy so far.
    pub non_finite: u64,
    /// What happened since the previous snapshot.
    pub events: Vec<Event>,
}

/// The state of a parallel-tempering run.
#[derive(Clone, Debug)]
pub struct TemperingSnapshot {
    /// The temperatures, coldest first.
    pub ladder: Vec<f64>,
    /// Exchange acceptance rate of each neighbouring pair.
    pub swap_rates: Vec<f64>,
    /// Which replica (by its starting slot) sits at each temperature.
    pub identity: Vec<usize>,
    /// Each temperature's current energy (per particle).
    pub energies: Vec<f64>,
    /// What each temperature's replica looks like (cheap views), coldest first.
    pub views: Vec<ProblemView>,
}

/// Handle to a trainer. Dropping it shuts the trainer down (and joins its thread).
pub struct Trainer {
    commands: Sender<Command>,
    snapshots: Receiver<Snapshot>,
    stepper: Stepper,
}

/// Which driver steps a trainer's worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// A background thread of its own (the desktop).
    Thread,
    /// The caller, each frame, within a time budget ([`Trainer::drive`]): for platforms
    /// without threads (the web page).
    Cooperative,
}

impl Driver {
    /// This platform's driver: cooperative on `wasm32`, a thread elsewhere.
    pub const PLATFORM: Driver = if cfg!(target_arch = "wasm32") {
        Driver::Cooperative
    } else {
        Driver::Thread
    };
}

/// Who steps the worker.
enum Stepper {
    /// A background thread owns it.
    Thread(Option<JoinHandle<Result<(), RangeError>>>),
    /// It lives here and steps when [`Trainer::drive`] is called (`None` once shut down).
    Cooperative(RefCell<Option<Box<Cooperative>>>),
}

/// The worker of a cooperative trainer and its end of the command channel.
struct Cooperative {
    worker: Worker,
    commands: Receiver<Command>,
}

/// A callback the trainer calls after sending a snapshot (the UI's repaint request).
pub type Waker = Box<dyn Fn() + Send>;

/// The trainer thread ended without being asked to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the trainer stopped unexpectedly: {0}")]
pub struct Crashed(pub String);

impl Trainer {
    /// Starts a trainer on `config`, playing, with the platform's driver: a background
    /// thread on the desktop, the cooperative driver in the browser.
    pub fn start(config: RunConfig, pace: Pace, waker: Option<Waker>) -> anyhow::Result<Self> {
        Self::start_with(Driver::PLATFORM, config, pace, waker)
    }

    /// Starts a trainer on `config`, playing, with `driver`.
    pub fn start_with(
        driver: Driver,
        config: RunConfig,
        pace: Pace,
        waker: Option<Waker>,
    ) -> anyhow::Result<Self> {
        match driver {
            Driver::Thread => Self::spawn(config, pace, waker),
            Driver::Cooperative => Self::cooperative(config, pace, waker),
        }
    }

    /// Starts a trainer on `config`, playing, on its own thread. The config is checked
    /// here (a refused one is an error at once); the run is built on the trainer's thread,
    /// so that the caller (the UI thread) never waits for a large data set to be drawn or a
    /// surface's grid to be evaluated.
    pub fn spawn(config: RunConfig, pace: Pace, waker: Option<Waker>) -> anyhow::Result<Self> {
        config.validate()?;
        Self::start_thread(move || Run::new(config), pace, waker)
    }

    /// Starts a trainer on a built run, playing, on its own thread.
    pub fn spawn_run(run: Run, pace: Pace, waker: Option<Waker>) -> anyhow::Result<Self> {
        Self::start_thread(move || Ok(run), pace, waker)
    }

    fn start_thread(
        build: impl FnOnce() -> Result<Run, RangeError> + Send + 'static,
        pace: Pace,
        waker: Option<Waker>,
    ) -> anyhow::Result<Self> {
        let (commands, command_rx) = unbounded();
        let (snapshot_tx, snapshots) = bounded(4);
        let thread = std::thread::Builder::new()
            .name("annealscope-trainer".into())
            .spawn(move || {
                Worker::new(build()?, pace, snapshot_tx, waker).main(command_rx);
                Ok(())
            })?;
        Ok(Self {
            commands,
            snapshots,
            stepper: Stepper::Thread(Some(thread)),
        })
    }

    /// A trainer whose thread panics with `message` at once: for testing that a crash is
    /// reported, never silently ignored.
    #[cfg(test)]
    pub(crate) fn panicking(message: &'static str) -> Self {
        let (commands, _) = unbounded();
        let (_, snapshots) = bounded(1);
        let thread = std::thread::Builder::new()
            .name("annealscope-trainer".into())
            .spawn(move || -> Result<(), RangeError> { panic!("{message}") })
            .ok();
        Self {
            commands,
            snapshots,
            stepper: Stepper::Thread(thread),
        }
    }

    /// Starts a trainer on `config`, playing, without a thread: it steps only inside
    /// [`Trainer::drive`] (and [`Trainer::recv_timeout`]), as the browser needs.
    pub fn cooperative(
        config: RunConfig,
        pace: Pace,
        waker: Option<Waker>,
    ) -> anyhow::Result<Self> {
        let run = Run::new(config)?;
        let (commands, command_rx) = unbounded();
        let (snapshot_tx, snapshots) = bounded(4);
        Ok(Self {
            commands,
            snapshots,
            stepper: Stepper::Cooperative(RefCell::new(Some(Box::new(Cooperative {
                worker: Worker::new(run, pace, snapshot_tx, waker),
                commands: command_rx,
            })))),
        })
    }

    /// Whether this trainer steps only when driven (see [`Trainer::drive`]).
    pub fn is_cooperative(&self) -> bool {
        matches!(self.stepper, Stepper::Cooperative(_))
    }

    /// Lets a cooperative trainer work for about `budget` of wall time: it takes the
    /// commands sent so far, steps as far as the pace and the budget allow, and sends a
    /// snapshot if anything changed. Returns when it wants to be driven again (`None`:
    /// not before a command; zero: at once). A threaded trainer needs no driving: `None`.
    pub fn drive(&self, budget: Duration) -> Option<Duration> {
        let Stepper::Cooperative(cell) = &self.stepper else {
            return None;
        };
        let mut slot = cell.borrow_mut();
        let c = slot.as_mut()?;
        match c.worker.drive(&c.commands, budget) {
            Some(next) => Some(next),
            None if c.worker.stopped => {
                *slot = None;
                None
            }
            None => None,
        }
    }

    /// Sends a command; never blocks.
    pub fn send(&self, command: Command) {
        // Fails only if the thread is gone, which `crashed` reports.
        let _ = self.commands.send(command);
    }

    /// The snapshots that arrived since the last call; never blocks.
    pub fn snapshots(&self) -> crossbeam_channel::TryIter<'_, Snapshot> {
        self.snapshots.try_iter()
    }

    /// Waits up to `timeout` for one snapshot (for tests and headless drivers). A
    /// cooperative trainer is driven meanwhile, a millisecond at a time.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Snapshot> {
        if !self.is_cooperative() {
            return self.snapshots.recv_timeout(timeout).ok();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let next = self.drive(Duration::from_millis(1));
            if let Ok(s) = self.snapshots.try_recv() {
                return Some(s);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            let pause = next
                .unwrap_or(Duration::from_millis(5))
                .min(deadline - now)
                .min(Duration::from_millis(5));
            if !pause.is_zero() {
                std::thread::sleep(pause);
            }
        }
    }

    /// If the thread has ended without being told to (a panic), joins it and says why;
    /// never blocks. (A cooperative trainer's panic is the caller's own.)
    pub fn crashed(&mut self) -> Option<Crashed> {
        let Stepper::Thread(slot) = &mut self.stepper else {
            return None;
        };
        if !slot.as_ref().is_some_and(|t| t.is_finished()) {
            return None;
        }
        let thread = slot.take()?;
        Some(Crashed(match thread.join() {
            Ok(Ok(())) => "the thread ended".into(),
            Ok(Err(e)) => e.to_string(),
            Err(payload) => payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "it panicked".into()),
        }))
    }

    /// Stops the trainer (and waits for its thread). A panic in the thread is returned,
    /// not swallowed.
    pub fn shutdown(&mut self) -> Result<(), Crashed> {
        let _ = self.commands.send(Command::Shutdown);
        match &mut self.stepper {
            Stepper::Thread(slot) => match slot.take().map(JoinHandle::join) {
                Some(Err(_)) => Err(Crashed("it panicked".into())),
                Some(Ok(Err(e))) => Err(Crashed(e.to_string())),
                _ => Ok(()),
            },
            Stepper::Cooperative(cell) => {
                *cell.get_mut() = None;
                Ok(())
            }
        }
    }
}

impl Drop for Trainer {
    fn drop(&mut self) {
        // A panic was shown while the app ran (`crashed`); at exit there is no one to tell.
        let _ = self.shutdown();
    }
}

struct Worker {
    run: Run,
    pace: Pace,
    playing: bool,
    /// The step at which playing stops by itself (`None`: never).
    stop_at: Option<u64>,
    /// Steps still to take for a `Step(n)` command.
    step_budget: u64,
    generation: u64,
    pending: History,
    view_request: ViewRequest,
    /// The problem changed since the last view.
    view_dirty: bool,
    last_view: Option<Instant>,
    view: Option<Arc<ProblemView>>,
    /// The temperature of the last view.
    view_temperature: f64,
    /// Answers given so far (each answer's randomness gets its own stream).
    answers: u64,
    /// Steps per second measured while playing flat out, for sizing suggested runs.
    measured_speed: f64,
    /// Steps per second, smoothed over [`RATE_SMOOTHING`].
    smoothed_rate: f64,
    events: Vec<Event>,
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
    /// A shutdown command arrived.
    stopped: bool,
}

impl Worker {
    fn new(run: Run, pace: Pace, tx: Sender<Snapshot>, waker: Option<Waker>) -> Self {
        let now = Instant::now();
        Self {
            stop_at: Some(run.config().steps),
            run,
            pace,
            playing: true,
            step_budget: 0,
            generation: 0,
            pending: History::new(PENDING_BUCKETS),
            view_request: ViewRequest {
                grid: 128,
                replica: false,
            },
            view_dirty: true,
            last_view: None,
            view: None,
            view_temperature: f64::NAN,
            answers: 0,
            measured_speed: 0.0,
            smoothed_rate: 0.0,
            events: Vec::new(),
            dirty: true,
            tx,
            waker,
            last_sent: now,
            steps_at_last_sent: 0,
            rate_epoch: now,
            rate_steps: 0,
            batch: 64,
            stopped: false,
        }
    }

    /// The thread driver: turns until told to stop, sleeping while there is nothing to do.
    fn main(mut self, commands: Receiver<Command>) {
        loop {
            if !self.take_commands(&commands) {
                return;
            }
            let wait = self.turn();
            // Idle or throttled: sleep until a command arrives or there is work to do.
            if !wait.is_zero() {
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

    /// The cooperative driver: takes the commands, then turns until `budget` is spent or
    /// nothing is due, then reports (the caller's frame paces the snapshots). Returns when
    /// to be driven again (`None`: not before a command, or shut down).
    fn drive(&mut self, commands: &Receiver<Command>, budget: Duration) -> Option<Duration> {
        let started = Instant::now();
        if self.stopped || !self.take_commands(commands) {
            return None;
        }
        let mut wait = Duration::ZERO;
        while self.stepping() && started.elapsed() < budget {
            self.work();
            if let Some(w) = self.throttle_wait() {
                wait = w;
                break;
            }
        }
        if self.dirty {
            self.send(Instant::now());
        }
        if self.stepping() {
            Some(wait)
        } else if self.dirty {
            Some(Duration::ZERO)
        } else {
            None
        }
    }

    /// Applies every command waiting; false means shut down.
    fn take_commands(&mut self, commands: &Receiver<Command>) -> bool {
        for command in commands.try_iter() {
            if !self.apply(command) {
                return false;
            }
        }
        true
    }

    /// Whether steps are to be taken (playing, or manual steps left).
    fn stepping(&self) -> bool {
        self.playing || self.step_budget > 0
    }

    /// One turn of the thread: the steps that are due, then a snapshot if one is due.
    /// Returns how long to wait for a command before the next turn (zero: none).
    fn turn(&mut self) -> Duration {
        if self.stepping() {
            self.work();
        }
        let now = Instant::now();
        if self.dirty
            && now.duration_since(self.last_sent).as_secs_f64() >= 1.0 / SNAPSHOTS_PER_SECOND
        {
            self.send(now);
        }
        if self.stepping() {
            self.throttle_wait().unwrap_or(Duration::ZERO)
        } else if self.dirty {
            Duration::from_millis(5)
        } else {
            Duration::from_millis(250)
        }
    }

    /// Applies a command; false means shut down.
    fn apply(&mut self, command: Command) -> bool {
        self.dirty = true;
        match command {
            Command::Play => {
                if !self.playing {
                    self.playing = true;
                    // On to the end of the run; past it, on without end.
                    self.stop_at = (!self.run.finished()).then_some(self.run.config().steps);
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
            Command::RunTo(n) => {
                self.step_budget = 0;
                self.playing = self.run.annealer().steps() < n;
                self.stop_at = Some(n);
                self.restart_rate();
            }
            Command::Reset => match self.run.reset() {
                Ok(()) => self.restarted(),
                Err(error) => self.refused(error),
            },
            Command::SetConfig(config) => match self.run.set_config(*config) {
                Ok(Applied::Live) => {
                    self.stop_at = self.stop_at.map(|_| self.run.config().steps);
                    self.view_dirty = true;
                }
                Ok(Applied::Restarted) => {
                    self.restarted();
                    self.events.push(Event::Restarted);
                }
                Err(error) => self.refused(error),
            },
            Command::Load(config) => match Run::new(*config) {
                Ok(run) => {
                    self.run = run;
                    self.playing = true;
                    self.restarted();
                }
                Err(error) => self.refused(error),
            },
            Command::SetTemperature(t) => self.run.set_temperature(t),
            Command::SetPace(pace) => {
                self.pace = pace;
                self.restart_rate();
            }
            Command::SetView(request) => {
                self.view_request = request;
                self.view_dirty = true;
                self.last_view = None;
            }
            Command::Ask(request) => {
                self.answers += 1;
                if let Some(reply) = self.run.answer(&request, self.answers) {
                    self.events.push(Event::Answer(Arc::new(reply)));
                }
            }
            Command::Suggest(seconds) => {
                let speed = if self.measured_speed > 0.0 {
                    self.measured_speed
                } else {
                    1e5
                };
                self.events
                    .push(Event::Suggested(crate::sim::suggest::suggest(
                        self.run.config(),
                        seconds,
                        speed,
                    )));
            }
            Command::Shutdown => {
                self.stopped = true;
                return false;
            }
        }
        true
    }

    fn refused(&mut self, error: RangeError) {
        self.events.push(Event::Refused {
            error,
            in_force: Box::new(self.run.config().clone()),
        });
    }

    /// The bookkeeping after the run was rebuilt at step 0.
    fn restarted(&mut self) {
        self.generation += 1;
        self.pending.clear();
        self.stop_at = Some(self.run.config().steps);
        self.steps_at_last_sent = 0;
        self.view_dirty = true;
        self.last_view = None;
        // The new problem's steps may be far slower than the old one's: size the batches
        // afresh, or one batch could take minutes.
        self.batch = 1;
        self.restart_rate();
    }

    fn tempering_snapshot(&self) -> Option<TemperingSnapshot> {
        let e = self.run.engine();
        if e.len() < 2 {
            return None;
        }
        let cheap = ViewRequest {
            grid: 0,
            replica: true,
        };
        Some(TemperingSnapshot {
            ladder: e.ladder().to_vec(),
            swap_rates: e.swap_rates(),
            identity: e.identity().to_vec(),
            energies: (0..e.len())
                .map(|i| {
                    let (p, a) = e.slot(i);
                    a.energy() / p.particles() as f64
                })
                .collect(),
            views: (0..e.len()).map(|i| e.slot(i).0.view(&cheap)).collect(),
        })
    }

    /// The steps per second the pace asks for (`None`: flat out).
    fn rate(&self) -> Option<f64> {
        self.pace.steps_per_second(self.run.config().steps)
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
        let n = match self.rate() {
            None => self.batch,
            Some(rate) => {
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
        let accepted = self.run.annealer().accepted();
        let was_stopped = self.run.stop_reason().is_some();
        let mut taken = 0;
        while taken < n {
            let record = self.run.step_recorded();
            self.pending.push(&record);
            taken += 1;
            if !was_stopped && self.run.stop_reason().is_some() {
                // A stopping rule was met: playing stops here, as at the last step.
                self.stop_at = Some(record.step);
                self.step_budget = 0;
                break;
            }
        }
        let n = taken;
        // A new state, or a new temperature (what a view shows against T follows it).
        let t = self.run.annealer().last_temperature();
        self.view_dirty |= self.run.annealer().accepted() != accepted
            || (t - self.view_temperature).abs() > 1e-3 * self.view_temperature;
        if n > 0 {
            self.dirty = true;
            self.rate_steps += n;
            if !self.playing {
                self.step_budget -= n.min(self.step_budget);
            }
            if self.rate().is_none() {
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
            self.dirty = true;
        }
    }

    /// How long to sleep while playing (None: go on at once).
    fn throttle_wait(&self) -> Option<Duration> {
        match self.rate() {
            None => None,
            Some(rate) => {
                let next = (self.rate_steps + 1) as f64 / rate.max(1e-9);
                let wait = next - self.rate_epoch.elapsed().as_secs_f64();
                (wait > 0.0).then(|| Duration::from_secs_f64(wait.min(1.0 / SNAPSHOTS_PER_SECOND)))
            }
        }
    }

    fn send(&mut self, now: Instant) {
        if self.view_dirty
            && self
                .last_view
                .is_none_or(|t| now.duration_since(t) >= VIEW_INTERVAL)
        {
            if !self.view_request.replica {
                self.run.prepare_view();
            }
            self.view = Some(Arc::new(self.run.view(&self.view_request)));
            self.view_dirty = false;
            self.last_view = Some(now);
            self.view_temperature = self.run.annealer().last_temperature();
        }
        let steps = self.run.annealer().steps();
        let elapsed = now.duration_since(self.last_sent).as_secs_f64();
        let rate = steps.saturating_sub(self.steps_at_last_sent) as f64 / elapsed.max(1e-9);
        // Steps come in bursts between snapshots: report a rate smoothed over about
        // half a second, steady enough to count down the time left.
        let weight = 1.0 - (-elapsed / RATE_SMOOTHING).exp();
        self.smoothed_rate = if self.playing || self.step_budget > 0 {
            self.smoothed_rate + weight * (rate - self.smoothed_rate)
        } else {
            0.0
        };
        if self.playing && self.rate().is_none() && rate > 0.0 {
            self.measured_speed = rate;
        }
        // While stepping, the latest observables; when stopped, exact ones.
        let latest = if self.playing || self.step_budget > 0 {
            self.run.record_cached()
        } else {
            self.run.record()
        };
        let annealer = self.run.annealer();
        let snapshot = Snapshot {
            generation: self.generation,
            history: self.pending.take(),
            latest,
            observables: self.run.observables(),
            playing: self.playing,
            finished: self.run.finished(),
            stopped: self.run.stop_reason(),
            steps_per_second: self.smoothed_rate,
            schedule: annealer.schedule().clone(),
            step_size: annealer.step_size(),
            view: self.view.clone(),
            tempering: self.tempering_snapshot(),
            accepted: annealer.accepted(),
            non_finite: annealer.non_finite(),
            events: std::mem::take(&mut self.events),
        };
        match self.tx.try_send(snapshot) {
            Ok(()) => {
                self.dirty = false;
                self.view = None;
                if let Some(w) = &self.waker {
                    w();
                }
            }
            Err(TrySendError::Full(snapshot)) | Err(TrySendError::Disconnected(snapshot)) => {
                // Keep the steps and the news for the next try; `pending` merges the
                // steps if it fills up.
                let mut back = snapshot.history;
                back.append(&self.pending);
                self.pending = back;
                let mut events = snapshot.events;
                events.append(&mut self.events);
                self.events = events;
            }
        }
        self.last_sent = now;
        self.steps_at_last_sent = steps;
    }
}
