//! How fast a run plays in wall time: shared by the saved session and the trainer, so
//! that neither depends on the other.
//!
//! A lecture wants a run that unfolds over a minute, whatever its length in steps, so a
//! preset usually gives its pace as a duration; the trainer turns it into steps per second
//! from the run's length. The trajectory never depends on the pace.

use serde::{Deserialize, Serialize};

/// How fast the trainer steps.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Pace {
    /// As fast as the machine allows.
    Max,
    /// At most this many steps per second of wall time.
    StepsPerSecond(f64),
    /// Play the whole run over this many seconds of wall time (at most: a machine too
    /// slow for it plays as fast as it can).
    Duration(f64),
}

impl Default for Pace {
    fn default() -> Self {
        Pace::Duration(45.0)
    }
}

/// Allowed steps per second.
pub const STEPS_PER_SECOND: std::ops::RangeInclusive<f64> = crate::sim::limits::STEPS_PER_SECOND;
/// Allowed durations, in seconds.
pub const DURATION: std::ops::RangeInclusive<f64> = 1.0..=86_400.0;

impl Pace {
    /// The steps per second this pace asks for in a run of `steps` steps (`None`: as fast
    /// as possible).
    pub fn steps_per_second(self, steps: u64) -> Option<f64> {
        match self {
            Pace::Max => None,
            Pace::StepsPerSecond(r) => Some(r),
            Pace::Duration(s) => Some(steps as f64 / s.max(1e-9)),
        }
    }

    /// Wall-clock seconds a run of `steps` steps takes at this pace on a machine that
    /// steps at most `max_rate` steps per second.
    pub fn seconds(self, steps: u64, max_rate: f64) -> f64 {
        let rate = self
            .steps_per_second(steps)
            .map_or(max_rate, |r| r.min(max_rate));
        steps as f64 / rate.max(1e-9)
    }

    /// Checks the numbers against [`STEPS_PER_SECOND`] and [`DURATION`].
    pub fn validate(self) -> Result<(), crate::sim::RangeError> {
        use crate::sim::config::check;
        match self {
            Pace::Max => Ok(()),
            Pace::StepsPerSecond(r) => check("StepsPerSecond", r, STEPS_PER_SECOND),
            Pace::Duration(s) => check("Duration", s, DURATION),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_spreads_the_run_over_it_unless_the_machine_is_too_slow() {
        let p = Pace::Duration(40.0);
        assert_eq!(p.steps_per_second(20_000), Some(500.0));
        assert_eq!(p.seconds(20_000, 1e6), 40.0);
        assert_eq!(p.seconds(20_000, 100.0), 200.0);
        assert_eq!(Pace::Max.seconds(1000, 500.0), 2.0);
        assert_eq!(Pace::StepsPerSecond(10.0).seconds(1000, 500.0), 100.0);
        assert!(Pace::Duration(0.0).validate().is_err());
        assert!(Pace::StepsPerSecond(f64::NAN).validate().is_err());
    }
}
