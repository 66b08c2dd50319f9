//! A run: data, network and annealer built from a [`RunConfig`], stepped by a driver.
//!
//! The trajectory depends only on the config (its seeds included): the same config gives
//! the same sequence of states whether it is stepped by the trainer thread, in bursts with
//! pauses, or by the headless command line.

use super::anneal::{Annealer, StepOutcome};
use super::config::{RangeError, RunConfig};
use super::data::Dataset;
use super::landscape::LandscapeProblem;
use super::network::NetworkProblem;
use super::problem::{Problem, ProposalKind};
use super::tempering::{Tempering, geometric_ladder};
use ndarray::Array2;
use rand::Rng;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

/// The metrics of one step, as plotted and written to CSV.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepRecord {
    /// Steps taken so far (1 after the first step).
    pub step: u64,
    /// Temperature the step was taken at.
    pub temperature: f64,
    /// Energy after the step.
    pub energy: f64,
    /// Lowest energy so far.
    pub best_energy: f64,
    /// Acceptance rate over the sliding window.
    pub acceptance_rate: f64,
    /// Accuracy on the training points.
    pub train_accuracy: f64,
    /// Accuracy on the held-out points (NaN without a test set).
    pub test_accuracy: f64,
    /// Heat capacity from the energy fluctuations over the window, `Var(E)/T^2` (per
    /// walker on a landscape).
    pub heat_capacity: f64,
}

impl StepRecord {
    /// Number of plotted metrics (everything but `step`).
    pub const METRICS: usize = 7;

    /// The CSV header line (without a newline).
    pub const CSV_HEADER: &'static str = "step,temperature,energy,best_energy,acceptance_rate,train_accuracy,test_accuracy,heat_capacity";

    /// The metrics in header order, without `step`.
    pub fn metrics(&self) -> [f64; Self::METRICS] {
        [
            self.temperature,
            self.energy,
            self.best_energy,
            self.acceptance_rate,
            self.train_accuracy,
            self.test_accuracy,
            self.heat_capacity,
        ]
    }

    /// One CSV line (without a newline); floats in shortest round-trip form.
    pub fn csv_row(&self) -> String {
        let mut row = self.step.to_string();
        for v in self.metrics() {
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
    /// Data, network, landscape or seed changed: the run was rebuilt from step 0.
    Restarted,
}

/// The class-1 probability over a square grid of the input plane.
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionGrid {
    /// `[[x_lo, y_lo], [x_hi, y_hi]]`.
    pub bounds: [[f32; 2]; 2],
    /// `p[[row, col]]` at `x = x_lo + col dx`, `y = y_lo + row dy`.
    pub p: Array2<f32>,
    /// Class-1 probability at each training point.
    pub train_p: Vec<f32>,
    /// Class-1 probability at each test point.
    pub test_p: Vec<f32>,
}

/// What a run anneals: the network's loss, or walkers on a 2D landscape.
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
}

impl Problem for AnyProblem {
    fn energy(&self) -> f64 {
        match self {
            AnyProblem::Network(p) => p.energy(),
            AnyProblem::Landscape(p) => p.energy(),
        }
    }

    fn propose<R: Rng + ?Sized>(&mut self, kind: ProposalKind, sigma: f64, rng: &mut R) -> f64 {
        match self {
            AnyProblem::Network(p) => p.propose(kind, sigma, rng),
            AnyProblem::Landscape(p) => p.propose(kind, sigma, rng),
        }
    }

    fn accept(&mut self) {
        match self {
            AnyProblem::Network(p) => p.accept(),
            AnyProblem::Landscape(p) => p.accept(),
        }
    }

    fn reject(&mut self) {
        match self {
            AnyProblem::Network(p) => p.reject(),
            AnyProblem::Landscape(p) => p.reject(),
        }
    }

    fn store_best(&mut self) {
        match self {
            AnyProblem::Network(p) => p.store_best(),
            AnyProblem::Landscape(p) => p.store_best(),
        }
    }

    fn propose_langevin<R: Rng + ?Sized>(
        &mut self,
        eta: f64,
        t: f64,
        rng: &mut R,
    ) -> Option<(f64, f64)> {
        match self {
            AnyProblem::Network(p) => p.propose_langevin(eta, t, rng),
            AnyProblem::Landscape(p) => p.propose_langevin(eta, t, rng),
        }
    }
}

/// One annealing run: the network, or walkers on a landscape.
#[derive(Clone, Debug)]
pub struct Run {
    config: RunConfig,
    data: Dataset,
    /// One chain, or replicas on a temperature ladder; slot 0 is the one reported.
    engine: Tempering<AnyProblem>,
    rng: Pcg64Mcg,
    /// Train and test accuracy of the current state, while still valid.
    accuracy: Option<(f64, f64)>,
}

impl Run {
    /// Builds the run at step 0, or says which setting is out of range.
    pub fn new(config: RunConfig) -> Result<Self, RangeError> {
        config.validate()?;
        let data = Dataset::generate(&config.data);
        let mut rng = Pcg64Mcg::seed_from_u64(config.seed);
        let make = |rng: &mut Pcg64Mcg| -> Result<AnyProblem, RangeError> {
            Ok(match &config.landscape {
                None => AnyProblem::Network(NetworkProblem::new(&config.network, &data, rng)),
                Some(l) => AnyProblem::Landscape(Box::new(
                    LandscapeProblem::new(l, rng).map_err(super::config::surface_error)?,
                )),
            })
        };
        let engine = match &config.tempering {
            None => {
                let problem = make(&mut rng)?;
                let annealer = Annealer::new(config.annealer.clone(), problem.energy());
                Tempering::single(problem, annealer)
            }
            Some(t) => {
                let replicas = (0..t.replicas)
                    .map(|_| make(&mut rng))
                    .collect::<Result<Vec<_>, _>>()?;
                let ladder = geometric_ladder(config.annealer.t_min, t.t_max, t.replicas);
                Tempering::from_replicas(ladder, &config.annealer, t.swap_every, replicas)
            }
        };
        Ok(Self {
            config,
            data,
            engine,
            rng,
            accuracy: None,
        })
    }

    /// One annealing step.
    pub fn step(&mut self) -> StepOutcome {
        let outcome = self.engine.step(&mut self.rng);
        if outcome.accepted {
            self.accuracy = None;
        }
        outcome
    }

    /// Runs `n` steps.
    pub fn run(&mut self, n: u64) {
        for _ in 0..n {
            self.step();
        }
    }

    /// The metrics of the current step, with accuracies evaluated if the state changed.
    pub fn record(&mut self) -> StepRecord {
        let (train_accuracy, test_accuracy) = self.accuracies();
        self.record_with(train_accuracy, test_accuracy, self.heat_capacity())
    }

    /// The windowed heat-capacity estimate `Var(E)/T^2` (per walker on a landscape).
    pub fn heat_capacity(&self) -> f64 {
        self.annealer().heat_capacity() / self.particles()
    }

    /// How many independent particles the energy sums over (walkers; 1 for the network).
    fn particles(&self) -> f64 {
        match self.problem() {
            AnyProblem::Network(_) => 1.0,
            AnyProblem::Landscape(p) => p.len() as f64,
        }
    }

    /// The metrics of the current step with the given accuracies and heat capacity (for
    /// drivers that evaluate those less often than every step).
    pub fn record_with(
        &self,
        train_accuracy: f64,
        test_accuracy: f64,
        heat_capacity: f64,
    ) -> StepRecord {
        let a = self.annealer();
        // A landscape's energy is its walkers' total; records show the mean.
        let per = self.particles();
        StepRecord {
            step: a.steps(),
            temperature: a.last_temperature(),
            energy: a.energy() / per,
            best_energy: a.best_energy() / per,
            acceptance_rate: a.acceptance_window(),
            train_accuracy,
            test_accuracy,
            heat_capacity,
        }
    }

    /// Train and test accuracy of the current state (cached until the next accepted move).
    pub fn accuracies(&mut self) -> (f64, f64) {
        if let Some(a) = self.accuracy {
            return a;
        }
        let a = match self.problem() {
            AnyProblem::Network(p) => (p.train_accuracy(), p.test_accuracy()),
            AnyProblem::Landscape(_) => (f64::NAN, f64::NAN),
        };
        self.accuracy = Some(a);
        a
    }

    /// Applies a new config: annealer settings and the run length change live; a change
    /// of data, network or seed rebuilds the run from step 0.
    pub fn set_config(&mut self, config: RunConfig) -> Result<Applied, RangeError> {
        config.validate()?;
        if config.data != self.config.data
            || config.network != self.config.network
            || config.landscape != self.config.landscape
            || config.seed != self.config.seed
            || config.tempering != self.config.tempering
            || (config.tempering.is_some() && config.annealer != self.config.annealer)
        {
            *self = Self::new(config)?;
            return Ok(Applied::Restarted);
        }
        self.engine
            .slot_mut(0)
            .1
            .set_config(config.annealer.clone());
        self.config = config;
        Ok(Applied::Live)
    }

    /// Proposes `n` moves from the current state, rejecting each, and returns the energy
    /// increases of the uphill ones (the run's random stream advances; use a copy).
    pub fn uphill_sample(&mut self, n: usize) -> Vec<f64> {
        let kind = self.config.annealer.proposal;
        let (problem, annealer) = self.engine.slot_mut(0);
        let sigma = annealer.step_size();
        let e = problem.energy();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let c = problem.propose(kind, sigma, &mut self.rng);
            problem.reject();
            if c.is_finite() && c > e {
                out.push(c - e);
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

    /// Whether the configured number of steps has been taken.
    pub fn finished(&self) -> bool {
        self.annealer().steps() >= self.config.steps
    }

    /// The config in force.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The data set.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// What is annealed (the coldest replica, when tempering).
    pub fn problem(&self) -> &AnyProblem {
        self.engine.slot(0).0
    }

    /// The replicas, when tempering (else a single chain).
    pub fn engine(&self) -> &Tempering<AnyProblem> {
        &self.engine
    }

    /// The network, unless this is a landscape run.
    pub fn network(&self) -> Option<&NetworkProblem> {
        match self.problem() {
            AnyProblem::Network(p) => Some(p),
            AnyProblem::Landscape(_) => None,
        }
    }

    /// The walkers, in a landscape run.
    pub fn landscape(&self) -> Option<&LandscapeProblem> {
        match self.problem() {
            AnyProblem::Network(_) => None,
            AnyProblem::Landscape(p) => Some(p),
        }
    }

    /// The annealer (of the coldest replica, when tempering).
    pub fn annealer(&self) -> &Annealer {
        self.engine.slot(0).1
    }

    /// The class-1 probability of the current network on a `g x g` grid over the data
    /// (`None` in a landscape run).
    pub fn decision_grid(&self, g: usize) -> Option<DecisionGrid> {
        let net = self.network()?;
        let bounds = self.data.bounds();
        let theta = net.params();
        Some(DecisionGrid {
            bounds,
            p: net.probability_grid(theta, bounds, g),
            train_p: net.probabilities(theta, &self.data.train),
            test_p: net.probabilities(theta, &self.data.test),
        })
    }
}
