//! The run configuration: one serde tree holding everything that defines a trajectory,
//! and its validation.
//!
//! A run is a pure function of its [`RunConfig`]: the same config (including the seeds)
//! gives the same trajectory, step for step.

use super::anneal::{AnnealerConfig, Sampler};
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
    /// The lowest temperature of a network judged by an acceptance rule (random-walk or
    /// MALA moves): its `f32` loss is accurate to about `1e-7`, so below this `dE/T` would
    /// be rounding noise. Langevin moves decide nothing and may go down to
    /// [`TEMPERATURE`]'s floor.
    pub const NETWORK_T_MIN: f64 = 1e-6;
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
    /// The double well's tilt.
    pub const TILT: RangeInclusive<f64> = -1e3..=1e3;
    /// Coordinates of a landscape's box.
    pub const BOX: RangeInclusive<f64> = -1e6..=1e6;
    /// Narrowest side of a landscape's box.
    pub const BOX_WIDTH_MIN: f64 = 1e-6;
    /// Longest formula, in characters.
    pub const FORMULA_CHARS: usize = 1000;
    /// Steps per second of a paced run.
    pub const STEPS_PER_SECOND: RangeInclusive<f64> = 1e-2..=1e9;
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
pub fn check<T: PartialOrd + Display + 'static>(
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
            value: number(&value),
            allowed: format!("{} ..= {}", number(range.start()), number(range.end())),
        })
    }
}

/// A number as people read it in an error: floats far from 1 in scientific form (`1e308`,
/// `1e-9`, never a 309-digit integer), everything else as `Display` writes it.
pub fn number<T: Display + 'static>(value: &T) -> String {
    let any: &dyn std::any::Any = value;
    if let Some(&v) = any.downcast_ref::<f64>() {
        return float(v);
    }
    if let Some(&v) = any.downcast_ref::<f32>() {
        return float(f64::from(v));
    }
    value.to_string()
}

/// A float in its shortest round-trip form, in scientific form when its magnitude is
/// at least `1e6` or below `1e-4`.
pub fn float(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() || a == 0.0 || (1e-4..1e6).contains(&a) {
        v.to_string()
    } else {
        format!("{v:e}")
    }
}

impl RunConfig {
    /// The lowest `T_min` this run may have: [`limits::NETWORK_T_MIN`] for a network judged
    /// by an acceptance rule (its f32 loss), else the floor of [`limits::TEMPERATURE`].
    pub fn lowest_temperature(&self) -> f64 {
        if matches!(self.problem, ProblemConfig::Network(_))
            && self.annealer.sampler != Sampler::Langevin
        {
            limits::NETWORK_T_MIN
        } else {
            *limits::TEMPERATURE.start()
        }
    }

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
        if a.t_min < self.lowest_temperature() {
            return Err(RangeError {
                field: "annealer.t_min".into(),
                value: number(&a.t_min),
                allowed: format!(
                    "{} ..= {} for the network with moves judged by an \
                     acceptance rule: its f32 loss is accurate to about 1e-7, so at lower T \
                     the decisions would be rounding noise (the Langevin sampler may go lower)",
                    number(&NETWORK_T_MIN),
                    number(&T_MAX)
                ),
            });
        }
        if let Some(t) = &self.tempering {
            check("tempering.replicas", t.replicas, REPLICAS)?;
            check("tempering.t_max", t.t_max, TEMPERATURE)?;
            if t.t_max <= a.t_min {
                return Err(RangeError {
                    field: "tempering.t_max".into(),
                    value: number(&t.t_max),
                    allowed: format!("above annealer.t_min = {}", number(&a.t_min)),
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

/// A formula that cannot be used, as a [`RangeError`] of `surface`.
pub(crate) fn surface_error(e: super::landscape::SurfaceError) -> RangeError {
    RangeError {
        field: "surface".into(),
        value: quoted(&e.formula),
        allowed: format!("a formula in x and y ({})", e.message),
    }
}

/// Text from a file as an error quotes it: in double quotes, with control characters and
/// bidi overrides escaped, and cut to its first 40 characters (with its length) if longer.
pub fn quoted(text: &str) -> String {
    const SHOWN: usize = 40;
    let n = text.chars().count();
    if n <= SHOWN {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(SHOWN).collect();
        format!("{head:?}... ({n} characters)")
    }
}

/// `text` safe to print on one line of a terminal: control characters (newlines, escape
/// sequences), bidi overrides and line separators are written as escapes (`\u{1b}`).
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(
                c,
                '\u{061c}'
                    | '\u{200e}'
                    | '\u{200f}'
                    | '\u{202a}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{2028}'
                    | '\u{2029}'
            )
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
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
            let point = |(step, t): (u64, f64)| format!("({step}, {})", float(t));
            for (i, &(step, t)) in points.iter().enumerate() {
                if !TEMPERATURE.contains(&t) {
                    return Err(RangeError {
                        field: format!("annealer.schedule.points[{i}]"),
                        value: point((step, t)),
                        allowed: format!(
                            "(step, T) with T in {} ..= {}",
                            float(*TEMPERATURE.start()),
                            float(*TEMPERATURE.end())
                        ),
                    });
                }
                if i > 0 && step < points[i - 1].0 {
                    return Err(RangeError {
                        field: format!("annealer.schedule.points[{i}]"),
                        value: format!("{} after {}", point((step, t)), point(points[i - 1])),
                        allowed: "points sorted by step".into(),
                    });
                }
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

    /// Issue item 8: a network judged by Metropolis (or MALA) may not go below the
    /// resolution of its f32 loss; Langevin, and landscapes (f64), may.
    #[test]
    fn a_network_judged_by_an_acceptance_rule_is_not_cooled_below_its_precision() {
        let mut c = RunConfig::default();
        c.annealer.t_min = 1e-9;
        let e = c.validate().expect_err("too cold for f32");
        assert_eq!(e.field, "annealer.t_min");
        assert!(
            e.allowed.contains("f32") && e.allowed.contains("1e-6"),
            "{e}"
        );
        c.annealer.sampler = Sampler::Mala;
        assert!(c.validate().is_err());
        c.annealer.sampler = Sampler::Langevin;
        assert_eq!(c.validate(), Ok(()));
        c.annealer.sampler = Sampler::RandomWalk;
        c.annealer.t_min = limits::NETWORK_T_MIN;
        assert_eq!(c.validate(), Ok(()));
        let landscape = RunConfig {
            problem: ProblemConfig::Landscape(Default::default()),
            annealer: AnnealerConfig {
                t_min: 1e-9,
                ..AnnealerConfig::default()
            },
            ..RunConfig::default()
        };
        assert_eq!(landscape.validate(), Ok(()));
    }

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

    #[test]
    fn floats_far_from_one_are_shown_in_scientific_form() {
        let mut c = RunConfig::default();
        c.annealer.step_size = 1e308;
        let e = c.validate().expect_err("huge");
        assert_eq!(e.value, "1e308");
        assert_eq!(e.allowed, "1e-6 ..= 10");
        for (v, shown) in [
            (0.001, "0.001"),
            (0.5, "0.5"),
            (123456.0, "123456"),
            (1e6, "1e6"),
            (-2.5e-9, "-2.5e-9"),
            (0.0, "0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(float(v), shown);
        }
        assert_eq!(number(&7usize), "7");
        assert_eq!(number(&1e300f64), "1e300");
    }

    #[test]
    fn a_drawn_schedule_names_its_bad_point() {
        let with = |points: Vec<(u64, f64)>| {
            let mut c = RunConfig::default();
            c.annealer.schedule = Schedule::Custom { points };
            c.validate().expect_err("bad point")
        };
        let e = with(vec![(0, 1.0), (10, 0.5), (20, 0.0), (30, 0.1)]);
        assert_eq!(e.field, "annealer.schedule.points[2]");
        assert_eq!(e.value, "(20, 0)");
        let e = with(vec![(0, 1.0), (10, f64::NAN)]);
        assert_eq!(e.field, "annealer.schedule.points[1]");
        let e = with(vec![(0, 1.0), (10, 0.5), (5, 0.1)]);
        assert_eq!(e.field, "annealer.schedule.points[2]");
        assert_eq!(e.allowed, "points sorted by step");
    }

    #[test]
    fn text_from_files_is_printed_on_one_safe_line() {
        let evil = "title\u{1b}]0;pwned\u{7}\n\u{202e}txt.exe\u{2066}";
        let shown = printable(evil);
        assert_eq!(
            shown,
            "title\\u{1b}]0;pwned\\u{7}\\n\\u{202e}txt.exe\\u{2066}"
        );
        assert!(!shown.chars().any(|c| c.is_control()));
        assert_eq!(printable("Müller-Brown π"), "Müller-Brown π");
        let long = "x".repeat(100);
        assert_eq!(
            quoted(&long),
            format!("\"{}\"... (100 characters)", "x".repeat(40))
        );
        assert_eq!(quoted("a\u{202e}b"), "\"a\\u{202e}b\"");
    }
}
