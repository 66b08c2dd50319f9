//! "Suggest a schedule" (in the spirit of simanneal's `auto`): short trial runs measure
//! the sizes of uphill moves, and the temperatures are chosen from them.
//!
//! * `T0`: hot enough that 98% of uphill proposals from the starting state are accepted,
//!   i.e. `mean exp(-dE/T0) = 0.98` over sampled uphill `dE`;
//! * `T_min`: cold enough that improvements have stopped: after a greedy trial run, only
//!   1% of uphill proposals would be accepted, `mean exp(-dE/T_min) = 0.01`;
//! * the number of steps that fits a wall-clock budget at the measured speed, and the
//!   geometric rate that cools from `T0` to `T_min` in that many steps.

use super::config::{RangeError, RunConfig};
use super::run::Run;
use super::schedule::Schedule;

/// A suggested schedule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Suggestion {
    /// Starting temperature.
    pub t0: f64,
    /// Final temperature.
    pub t_min: f64,
    /// Steps that fit the time budget.
    pub steps: u64,
    /// Geometric cooling rate from `t0` to `t_min` in `steps`.
    pub alpha: f64,
}

impl Suggestion {
    /// `config` with this schedule applied.
    pub fn apply(&self, config: &RunConfig) -> RunConfig {
        let mut c = config.clone();
        c.annealer.schedule = Schedule::Geometric {
            t0: self.t0,
            alpha: self.alpha,
        };
        c.annealer.t_min = self.t_min;
        c.steps = self.steps;
        c
    }
}

/// The temperature `T` at which `mean exp(-dE/T)` over `uphill` equals `target`
/// (bisection in `ln T`).
pub fn temperature_for(uphill: &[f64], target: f64) -> f64 {
    if uphill.is_empty() {
        return 1.0;
    }
    let mean_acc =
        |t: f64| uphill.iter().map(|de| (-de / t).exp()).sum::<f64>() / uphill.len() as f64;
    let (mut lo, mut hi) = (-30.0f64, 30.0f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if mean_acc(mid.exp()) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// Suggests a schedule for `config` that fits `seconds` at `steps_per_second`.
/// Uses trial runs on copies; the caller's run is untouched.
pub fn suggest(
    config: &RunConfig,
    seconds: f64,
    steps_per_second: f64,
) -> Result<Suggestion, RangeError> {
    let mut probe = Run::new(config.clone())?;
    let start = probe.uphill_sample(2000);
    let t0 = temperature_for(&start, 0.98).clamp(1e-8, 1e5);
    // A greedy trial run (very cold) finds where improvements stop.
    let lowest = config.lowest_temperature();
    let mut greedy_config = config.clone();
    greedy_config.annealer.schedule = Schedule::Constant { t0: lowest };
    greedy_config.annealer.t_min = lowest;
    let mut greedy = Run::new(greedy_config)?;
    greedy.run(5000);
    let end = greedy.uphill_sample(2000);
    let t_min = temperature_for(&end, 0.01).clamp(lowest, (t0 * 0.5).max(lowest));
    let steps = ((seconds * steps_per_second).round() as u64)
        .clamp(100, *super::config::limits::STEPS.end());
    let alpha = (t_min / t0).powf(1.0 / steps as f64);
    Ok(Suggestion {
        t0,
        t_min,
        steps,
        alpha,
    })
}
