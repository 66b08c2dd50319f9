//! The run configuration: one serde tree holding everything that defines a trajectory,
//! and its validation.
//!
//! A run is a pure function of its [`RunConfig`]: the same config (including the seeds)
//! gives the same trajectory, step for step.

use super::anneal::AnnealerConfig;
use super::engine::TemperingConfig;
use super::problems::ProblemConfig;
use super::schedule::{Schedule, T_MAX};
use serde::{Deserialize, Serialize};
use std::fmt::Display;
use std::ops::RangeInclusive;

/// Everything that defines a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// What is annealed.
    pub problem: ProblemConfig,
    /// The annealing dynamics.
    pub annealer: AnnealerConfig,
    /// Parallel tempering: replicas on a ladder from `annealer.t_min` to `t_max` (the
    /// schedule is then unused; the coldest replica is the one reported).
    pub tempering: Option<TemperingConfig>,
    /// Seed of the problem's initialisation and of every proposal and acceptance draw.
    pub seed: u64,
    /// Length of the run in steps.
    pub steps: u64,
    /// Rules that stop the run before its last step (none: it runs all its steps).
    pub stop: Option<StopRules>,
}

/// The observable the train-accuracy stopping rule reads.
pub const TRAIN_ACCURACY: &str = "train_accuracy";

/// When a run stops before its last step. Each rule is optional; the first one met stops
/// the run, and the run says which ([`super::run::StopReason`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StopRules {
    /// Stop as soon as the best energy (per particle, as plotted) falls below this value.
    pub energy_below: Option<f64>,
    /// Stop as soon as the problem's `train_accuracy` observable reaches this share
    /// (0 to 1); only for problems that report one (the network).
    pub train_accuracy: Option<f64>,
    /// Stop when the best energy has not improved for this many steps.
    pub patience: Option<u64>,
}

impl Default for RunConfig {
    /// The built-in default: a setting that learns the XOR quadrants.
    fn default() -> Self {
        Self {
            problem: ProblemConfig::default(),
            annealer: AnnealerConfig::default(),
            tempering: None,
            seed: 0,
            steps: 20_000,
            stop: None,
        }
    }
}

impl RunConfig {
    /// Whether changing from `self` to `new` needs the run rebuilt from step 0: a new
    /// problem, seed or ladder (a ladder's replicas also carry the annealer's settings).
    /// Everything else (the schedule, step size, rules, run length) changes live.
    pub fn restarts(&self, new: &RunConfig) -> bool {
        self.problem != new.problem
            || self.seed != new.seed
            || self.tempering != new.tempering
            || (new.tempering.is_some() && self.annealer != new.annealer)
    }
}

/// A value outside its allowed range.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("`{field}` = {value} is out of range: allowed {allowed}")]
pub struct RangeError {
    /// Dotted path of the field, e.g. `annealer.schedule.alpha`.
    pub field: String,
    /// The offending value, as written.
    pub value: String,
    /// What is allowed, e.g. `0 < alpha <= 1`.
    pub allowed: String,
}

impl RangeError {
    /// The same error with `prefix.` before its field path.
    pub fn within(self, prefix: &str) -> Self {
        Self {
            field: format!("{prefix}.{}", self.field),
            ..self
        }
    }
}

/// Allowed ranges, shared by validation, the command line and the UI's sliders.
pub mod limits {
    use std::ops::RangeInclusive;

    /// Data points.
    pub const SAMPLES: RangeInclusive<usize> = 4..=100_000;
    /// One's own points (kept inline in a preset, so bounded).
    pub const POINTS: RangeInclusive<usize> = 1..=10_000;
    /// Largest `|x|` or `|y|` of one's own points.
    pub const COORDINATE: f32 = 1e6;
    /// Jitter.
    pub const NOISE: RangeInclusive<f64> = 0.0..=5.0;
    /// Held-out fraction.
    pub const TEST_FRACTION: RangeInclusive<f64> = 0.0..=0.9;
    /// Hidden width.
    pub const HIDDEN: RangeInclusive<usize> = 1..=256;
    /// Initial weight spread.
    pub const INIT_SCALE: RangeInclusive<f64> = 1e-6..=10.0;
    /// Weight decay.
    pub const WEIGHT_DECAY: RangeInclusive<f64> = 0.0..=10.0;
    /// Any temperature.
    pub const TEMPERATURE: RangeInclusive<f64> = 1e-9..=super::T_MAX;
    /// Geometric cooling rate.
    pub const ALPHA: RangeInclusive<f64> = 1e-3..=1.0;
    /// Linear cooling rate per step.
    pub const RATE: RangeInclusive<f64> = 0.0..=1e3;
    /// Cosine restart period.
    pub const PERIOD: RangeInclusive<u64> = 1..=1_000_000_000;
    /// Adaptive target acceptance.
    pub const TARGET: RangeInclusive<f64> = 0.001..=0.999;
    /// Adaptive gain.
    pub const GAIN: RangeInclusive<f64> = 1e-6..=1.0;
    /// Proposal step size.
    pub const STEP_SIZE: RangeInclusive<f64> = 1e-6..=10.0;
    /// Acceptance window.
    pub const WINDOW: RangeInclusive<usize> = 1..=1_000_000;
    /// Parallel-tempering replicas.
    pub const REPLICAS: RangeInclusive<usize> = 2..=32;
    /// Steps between replica exchanges.
    pub const SWAP_EVERY: RangeInclusive<u64> = 1..=1_000_000;
    /// Walkers on a landscape.
    pub const WALKERS: RangeInclusive<usize> = 1..=1000;
    /// Side of the decision-boundary grid.
    pub const GRID: RangeInclusive<usize> = 8..=GRID_MAX;
    /// Largest decision-boundary grid side.
    pub const GRID_MAX: usize = 256;
    /// Run length.
    pub const STEPS: RangeInclusive<u64> = 1..=10_000_000_000;
    /// The best-energy target of a stopping rule.
    pub const ENERGY_TARGET: RangeInclusive<f64> = -1e12..=1e12;
    /// The train-accuracy target of a stopping rule.
    pub const ACCURACY_TARGET: RangeInclusive<f64> = 0.0..=1.0;
    /// Steps without improvement before a stopping rule stops the run.
    pub const PATIENCE: RangeInclusive<u64> = 1..=10_000_000_000;

    /// The ranges the UI's sliders span by default (typing a value reaches the whole
    /// allowed range above).
    pub mod slider {
        use std::ops::RangeInclusive;

        /// Temperatures.
        pub const TEMPERATURE: RangeInclusive<f64> = 1e-4..=1e3;
        /// Linear cooling rate.
        pub const RATE: RangeInclusive<f64> = 1e-7..=1e-1;
        /// Cosine restart period.
        pub const PERIOD: RangeInclusive<u64> = 100..=100_000;
        /// Adaptive target acceptance.
        pub const TARGET: RangeInclusive<f64> = 0.01..=0.9;
        /// Adaptive gain.
        pub const GAIN: RangeInclusive<f64> = 1e-4..=0.5;
        /// Step size.
        pub const STEP_SIZE: RangeInclusive<f64> = 1e-4..=1.0;
        /// Target acceptance of the step-size adaptation.
        pub const ADAPT_TARGET: RangeInclusive<f64> = 0.05..=0.9;
        /// Steps between replica exchanges.
        pub const SWAP_EVERY: RangeInclusive<u64> = 1..=1000;
        /// Weight decay.
        pub const WEIGHT_DECAY: RangeInclusive<f64> = 0.0..=0.1;
        /// Data points.
        pub const SAMPLES: RangeInclusive<usize> = 10..=5000;
        /// Jitter.
        pub const NOISE: RangeInclusive<f64> = 0.0..=1.0;
        /// Held-out fraction.
        pub const TEST_FRACTION: RangeInclusive<f64> = 0.0..=0.5;
        /// Steps per second.
        pub const STEPS_PER_SECOND: RangeInclusive<f64> = 1.0..=1e6;
        /// Double-well tilt.
        pub const TILT: RangeInclusive<f64> = -1.0..=1.0;
    }
}

/// `Ok` if `value` lies in `range`, else a [`RangeError`] naming `field`. NaN is refused.
pub fn check<T: PartialOrd + Display>(
    field: &str,
    value: T,
    range: RangeInclusive<T>,
) -> Result<(), RangeError> {
    // `contains` is false for NaN, so NaN is refused too.
    if range.contains(&value) {
        Ok(())
    } else {
        Err(RangeError {
            field: field.to_owned(),
            value: value.to_string(),
            allowed: format!("{} ..= {}", range.start(), range.end()),
        })
    }
}

impl RunConfig {
    /// Checks every value against [`limits`]; the error names the first bad field.
    pub fn validate(&self) -> Result<(), RangeError> {
        use limits::*;
        self.problem.validate().map_err(|e| e.within("problem"))?;
        let a = &self.annealer;
        check("annealer.t_min", a.t_min, TEMPERATURE)?;
        check("annealer.step_size", a.step_size, STEP_SIZE)?;
        check("annealer.window", a.window, WINDOW)?;
        if let Some(target) = a.adapt_step {
            check("annealer.adapt_step", target, TARGET)?;
        }
        validate_schedule(&a.schedule)?;
        if let Some(t) = &self.tempering {
            check("tempering.replicas", t.replicas, REPLICAS)?;
            check("tempering.t_max", t.t_max, TEMPERATURE)?;
            if t.t_max <= a.t_min {
                return Err(RangeError {
                    field: "tempering.t_max".into(),
                    value: t.t_max.to_string(),
                    allowed: format!("above annealer.t_min = {}", a.t_min),
                });
            }
            check("tempering.swap_every", t.swap_every, SWAP_EVERY)?;
        }
        check("steps", self.steps, STEPS)?;
        if let Some(stop) = &self.stop {
            if let Some(e) = stop.energy_below {
                check("stop.energy_below", e, ENERGY_TARGET)?;
            }
            if let Some(a) = stop.train_accuracy {
                check("stop.train_accuracy", a, ACCURACY_TARGET)?;
                let reports = self.problem.observables();
                if !reports.iter().any(|o| o.column == TRAIN_ACCURACY) {
                    return Err(RangeError {
                        field: "stop.train_accuracy".into(),
                        value: a.to_string(),
                        allowed: format!(
                            "only for a problem that reports `{TRAIN_ACCURACY}` (the network)"
                        ),
                    });
                }
            }
            if let Some(n) = stop.patience {
                check("stop.patience", n, PATIENCE)?;
            }
        }
        Ok(())
    }
}

/// A formula that does not parse, as a [`RangeError`] of `surface`.
pub(crate) fn surface_error(e: super::landscape::SurfaceError) -> RangeError {
    RangeError {
        field: "surface".into(),
        value: format!("{:?}", e.formula),
        allowed: format!("a formula in x and y ({})", e.message),
    }
}

fn validate_schedule(s: &Schedule) -> Result<(), RangeError> {
    use limits::*;
    let t0 = |t0: f64| check("annealer.schedule.t0", t0, TEMPERATURE);
    match *s {
        Schedule::Geometric { t0: t, alpha } => {
            t0(t)?;
            check("annealer.schedule.alpha", alpha, ALPHA)
        }
        Schedule::Linear { t0: t, rate } => {
            t0(t)?;
            check("annealer.schedule.rate", rate, RATE)
        }
        Schedule::Logarithmic { c } => check("annealer.schedule.c", c, TEMPERATURE),
        Schedule::Fast { t0: t } | Schedule::Constant { t0: t } => t0(t),
        Schedule::CosineRestarts { t0: t, period } => {
            t0(t)?;
            check("annealer.schedule.period", period, PERIOD)
        }
        Schedule::Custom { ref points } => {
            if points.is_empty() {
                return Err(RangeError {
                    field: "annealer.schedule.points".into(),
                    value: "[]".into(),
                    allowed: "at least one (step, T) point".into(),
                });
            }
            for w in points.windows(2) {
                if w[1].0 < w[0].0 {
                    return Err(RangeError {
                        field: "annealer.schedule.points".into(),
                        value: format!("{:?} after {:?}", w[1], w[0]),
                        allowed: "points sorted by step".into(),
                    });
                }
            }
            for &(_, t) in points {
                t0(t)?;
            }
            Ok(())
        }
        Schedule::Adaptive {
            t0: t,
            target,
            gain,
        } => {
            t0(t)?;
            check("annealer.schedule.target", target, TARGET)?;
            check("annealer.schedule.gain", gain, GAIN)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(RunConfig::default().validate(), Ok(()));
    }

    #[test]
    fn errors_name_field_value_and_range() {
        let c = RunConfig {
            problem: ProblemConfig::Network(crate::sim::NetworkConfig {
                hidden: 0,
                ..Default::default()
            }),
            ..RunConfig::default()
        };
        let e = c.validate().expect_err("hidden 0");
        assert_eq!(e.field, "problem.Network.hidden");
        assert_eq!(e.value, "0");
        assert_eq!(e.allowed, "1 ..= 256");
        let mut c = RunConfig::default();
        c.annealer.schedule = Schedule::Geometric {
            t0: 1.0,
            alpha: 1.5,
        };
        let e = c.validate().expect_err("alpha 1.5");
        assert_eq!(e.field, "annealer.schedule.alpha");
        let mut c = RunConfig::default();
        c.annealer.step_size = f64::NAN;
        assert_eq!(c.validate().expect_err("NaN").field, "annealer.step_size");
    }
}
