//! Cooling schedules: how the temperature `T` falls (or rises) with the step count `k`.
//!
//! Every schedule is clamped below at `T_min`. A running schedule is *anchored*: it
//! remembers a step `k_a` and the temperature `T_a` it had there, and the formulas below
//! are written relative to that anchor. A fresh run anchors at `(0, T0)`, which gives the
//! textbook forms; changing any parameter mid-run (or reheating) re-anchors at the current
//! step and temperature, so the curve continues from where it is instead of jumping.

use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// The temperature is never allowed above this, whatever a schedule or a user asks.
pub const T_MAX: f64 = 1e6;

/// A cooling schedule and its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Schedule {
    /// Geometric (exponential) cooling, `T(k) = T0 * alpha^k`; anchored,
    /// `T(k) = T_a * alpha^(k - k_a)`. `alpha` is the cooling rate, in (0, 1].
    Geometric {
        /// Starting temperature `T0`.
        t0: f64,
        /// Cooling rate `alpha`: the factor applied to `T` each step.
        alpha: f64,
    },
    /// Linear cooling, `T(k) = T0 - rate * k`; anchored, `T(k) = T_a - rate * (k - k_a)`.
    Linear {
        /// Starting temperature `T0`.
        t0: f64,
        /// Temperature drop per step.
        rate: f64,
    },
    /// Logarithmic cooling (Geman & Geman), `T(k) = c / ln(k + e)`, which starts at `T = c`.
    /// Anchored, `T(k) = c / ln(k - k_a + exp(c / T_a))`, evaluated as
    /// `c / (c/T_a + ln(1 + (k - k_a) exp(-c/T_a)))` so that it does not overflow however
    /// small `T_a` is (`exp(c/T_a)` alone overflows below `T_a = c/709.8`).
    Logarithmic {
        /// The constant `c` (also the starting temperature).
        c: f64,
    },
    /// Fast (Cauchy) cooling, `T(k) = T0 / (1 + k)`, i.e. `1/T(k) = (1 + k)/T0`; anchored,
    /// `1/T(k) = 1/T_a + (k - k_a)/T0`.
    Fast {
        /// Starting temperature `T0`.
        t0: f64,
    },
    /// A fixed temperature `T = T0`: sampling the Boltzmann distribution, not annealing.
    Constant {
        /// The temperature.
        t0: f64,
    },
    /// Cosine annealing with warm restarts: within each period of `P` steps
    /// `T = T_min + (T0 - T_min) (1 + cos(pi * phase / P)) / 2`, `phase = (k + s) mod P`,
    /// then back up to `T0` (a reheat). Anchoring picks the phase shift `s`.
    CosineRestarts {
        /// Temperature at the start of each period.
        t0: f64,
        /// Period `P` in steps.
        period: u64,
    },
    /// Drawn by hand: control points `(step, T)`, joined piecewise linearly in `ln T`,
    /// constant before the first point and after the last. Reheats are allowed. The curve
    /// is absolute in the step count: changing it mid-run takes effect at once.
    Custom {
        /// Control points, sorted by step (at least one).
        points: Vec<(u64, f64)>,
    },
    /// Adaptive: after each step `ln T += gain * (target - a)`, where `a` is 1 if the step
    /// was accepted and 0 if not, so on average `T` settles where the acceptance rate
    /// equals `target`.
    Adaptive {
        /// Starting temperature `T0`.
        t0: f64,
        /// Acceptance rate to hold, in (0, 1).
        target: f64,
        /// Step of `ln T` per unit of acceptance error.
        gain: f64,
    },
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule::Geometric {
            t0: 1.0,
            alpha: 0.999,
        }
    }
}

impl Schedule {
    /// One example of each kind, in menu order.
    pub fn examples() -> [Schedule; 8] {
        [
            Schedule::Geometric {
                t0: 1.0,
                alpha: 0.999,
            },
            Schedule::Linear {
                t0: 1.0,
                rate: 1e-4,
            },
            Schedule::Logarithmic { c: 1.0 },
            Schedule::Fast { t0: 1.0 },
            Schedule::Constant { t0: 0.1 },
            Schedule::CosineRestarts {
                t0: 0.5,
                period: 5000,
            },
            Schedule::Adaptive {
                t0: 1.0,
                target: 0.2,
                gain: 0.01,
            },
            Schedule::Custom {
                points: vec![(0, 1.0), (5_000, 0.01), (7_000, 0.3), (15_000, 0.001)],
            },
        ]
    }

    /// The name of this schedule's kind.
    pub fn label(&self) -> &'static str {
        match self {
            Schedule::Geometric { .. } => "Geometric",
            Schedule::Linear { .. } => "Linear",
            Schedule::Logarithmic { .. } => "Logarithmic",
            Schedule::Fast { .. } => "Fast (Cauchy)",
            Schedule::Constant { .. } => "Constant",
            Schedule::CosineRestarts { .. } => "Cosine restarts",
            Schedule::Adaptive { .. } => "Adaptive",
            Schedule::Custom { .. } => "Drawn by hand",
        }
    }

    /// The temperature a fresh run starts at.
    pub fn t0(&self) -> f64 {
        match *self {
            Schedule::Geometric { t0, .. }
            | Schedule::Linear { t0, .. }
            | Schedule::Fast { t0 }
            | Schedule::Constant { t0 }
            | Schedule::CosineRestarts { t0, .. }
            | Schedule::Adaptive { t0, .. } => t0,
            Schedule::Logarithmic { c } => c,
            Schedule::Custom { ref points } => points.first().map_or(1.0, |p| p.1),
        }
    }

    /// `T` at step `k` of a drawn schedule: linear in `ln T` between control points.
    fn custom_at(points: &[(u64, f64)], k: u64) -> f64 {
        let Some(&(k0, t0)) = points.first() else {
            return 1.0;
        };
        if k <= k0 {
            return t0;
        }
        for w in points.windows(2) {
            let ((ka, ta), (kb, tb)) = (w[0], w[1]);
            if k <= kb {
                if kb == ka {
                    return tb;
                }
                let f = (k - ka) as f64 / (kb - ka) as f64;
                return (ta.ln() + f * (tb.ln() - ta.ln())).exp();
            }
        }
        points.last().map_or(t0, |p| p.1)
    }
}

/// A schedule in motion: its parameters, its anchor and the current temperature.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleState {
    schedule: Schedule,
    t_min: f64,
    /// Step of the anchor.
    anchor_step: u64,
    /// Temperature at the anchor.
    anchor_t: f64,
    /// Chosen at anchoring: the phase shift of the cosine schedule, `c / T_a` for the
    /// logarithmic one.
    shift: f64,
    /// The current step `k`.
    step: u64,
    /// `T(k)` before clamping, for the geometric schedule's multiplicative update.
    raw: f64,
    /// `T(k)`, clamped.
    temperature: f64,
}

impl ScheduleState {
    /// A fresh schedule at step 0 and temperature `T0` (clamped to `[t_min, T_MAX]`).
    pub fn new(schedule: Schedule, t_min: f64) -> Self {
        let t0 = schedule.t0();
        let mut s = Self {
            schedule,
            t_min,
            anchor_step: 0,
            anchor_t: t0,
            shift: 0.0,
            step: 0,
            raw: t0,
            temperature: t0,
        };
        s.anchor(t0);
        s
    }

    /// The temperature of the current step.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// The current step `k`.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The schedule and its parameters.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The lower clamp.
    pub fn t_min(&self) -> f64 {
        self.t_min
    }

    /// Moves to the next step; `accepted` says whether the step just taken was accepted
    /// (only the adaptive schedule uses it).
    pub fn advance(&mut self, accepted: bool) {
        self.step += 1;
        if let Schedule::Adaptive { target, gain, .. } = self.schedule {
            let a = if accepted { 1.0 } else { 0.0 };
            let t = self.temperature * (gain * (target - a)).exp();
            self.anchor_step = self.step;
            self.anchor_t = self.clamp(t);
        }
        if let Schedule::Geometric { alpha, .. } = self.schedule {
            // One multiplication instead of a `powf` per step (it showed in profiles);
            // equal to `T_a alpha^(k - k_a)` to within a few ulps.
            // Stop at the floor: multiplying on would reach subnormal numbers, which are
            // very slow to compute with.
            if self.raw > self.t_min {
                self.raw *= alpha;
            }
            self.temperature = self.clamp(self.raw);
        } else {
            self.temperature = self.at(self.step);
        }
    }

    /// Replaces the schedule and the clamp mid-run. The temperature carries on from its
    /// current value (except for [`Schedule::Constant`], whose point is to set `T`).
    pub fn set(&mut self, schedule: Schedule, t_min: f64) {
        let t = match schedule {
            Schedule::Constant { t0 } => t0,
            _ => self.temperature,
        };
        self.schedule = schedule;
        self.t_min = t_min;
        self.anchor(t);
    }

    /// Sets the temperature now (a manual reheat or quench); the schedule carries on from it.
    pub fn set_temperature(&mut self, t: f64) {
        self.anchor(t);
    }

    /// The temperature the schedule plans for step `k >= step()` if nothing changes
    /// (for the adaptive schedule, which cannot know, the current temperature).
    pub fn planned(&self, k: u64) -> f64 {
        self.at(k.max(self.step))
    }

    fn clamp(&self, t: f64) -> f64 {
        if t.is_nan() {
            self.t_min
        } else {
            t.clamp(self.t_min, T_MAX.max(self.t_min))
        }
    }

    fn anchor(&mut self, t: f64) {
        let mut t = self.clamp(t);
        self.anchor_step = self.step;
        self.shift = match self.schedule {
            Schedule::Logarithmic { c } => c / t,
            Schedule::CosineRestarts { t0, period } => {
                let span = t0 - self.t_min;
                let p = period.max(1) as f64;
                if span <= 0.0 {
                    0.0
                } else {
                    t = t.min(t0);
                    let x = (2.0 * (t - self.t_min) / span - 1.0).clamp(-1.0, 1.0);
                    // The end of a period (T_min) stays at the end, not the next start.
                    let phase = (x.acos() / PI * p).min(p * (1.0 - 1e-12));
                    // Keep the restarts' rhythm: the phase is measured within the period.
                    phase - (self.step as f64 % p)
                }
            }
            _ => 0.0,
        };
        self.anchor_t = t;
        self.raw = t;
        self.temperature = self.at(self.step);
    }

    /// The (clamped) formula at step `k >= anchor_step`.
    fn at(&self, k: u64) -> f64 {
        let dk = (k - self.anchor_step.min(k)) as f64;
        let ta = self.anchor_t;
        let raw = match self.schedule {
            Schedule::Geometric { alpha, .. } => ta * alpha.powf(dk),
            Schedule::Linear { rate, .. } => ta - rate * dk,
            Schedule::Logarithmic { c } => c / (self.shift + (dk * (-self.shift).exp()).ln_1p()),
            Schedule::Fast { t0 } => 1.0 / (1.0 / ta + dk / t0),
            Schedule::Constant { .. } | Schedule::Adaptive { .. } => ta,
            Schedule::Custom { ref points } => Schedule::custom_at(points, k),
            Schedule::CosineRestarts { t0, period } => {
                let p = period.max(1) as f64;
                let phase = (k as f64 + self.shift).rem_euclid(p);
                self.t_min + (t0 - self.t_min) * (1.0 + (PI * phase / p).cos()) / 2.0
            }
        };
        self.clamp(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::E;

    fn run(schedule: Schedule, t_min: f64, steps: u64) -> Vec<f64> {
        let mut s = ScheduleState::new(schedule, t_min);
        (0..steps)
            .map(|_| {
                let t = s.temperature();
                s.advance(false);
                t
            })
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
    }

    #[test]
    fn geometric_multiplicative_update_tracks_the_formula() {
        let mut s = ScheduleState::new(
            Schedule::Geometric {
                t0: 1.0,
                alpha: 0.9999,
            },
            1e-300,
        );
        for _ in 0..1_000_000 {
            s.advance(false);
        }
        let want = 0.9999f64.powi(1_000_000);
        assert!((s.temperature() - want).abs() < 1e-9 * want);
    }

    #[test]
    fn textbook_formulas_from_a_fresh_start() {
        let tmin = 1e-9;
        let g = run(
            Schedule::Geometric {
                t0: 2.0,
                alpha: 0.9,
            },
            tmin,
            50,
        );
        let l = run(
            Schedule::Linear {
                t0: 2.0,
                rate: 0.01,
            },
            tmin,
            50,
        );
        let lg = run(Schedule::Logarithmic { c: 3.0 }, tmin, 50);
        let f = run(Schedule::Fast { t0: 2.0 }, tmin, 50);
        let c = run(Schedule::Constant { t0: 0.3 }, tmin, 50);
        for k in 0..50 {
            let kf = k as f64;
            assert!(close(g[k], 2.0 * 0.9f64.powf(kf)), "geometric {k}");
            assert!(close(l[k], 2.0 - 0.01 * kf), "linear {k}");
            assert!(close(lg[k], 3.0 / (kf + E).ln()), "log {k}");
            assert!(close(f[k], 2.0 / (1.0 + kf)), "fast {k}");
            assert_eq!(c[k], 0.3);
        }
    }

    /// Issue item 6: re-anchoring the logarithmic schedule below `T = c/709.8` used to
    /// overflow `exp(c/T)` and drop the temperature to `T_min` at once.
    #[test]
    fn logarithmic_schedule_reanchors_at_any_temperature_without_a_jump() {
        let c = 1.0;
        for t_a in [0.5, 1e-2, 1.0 / 709.0, 1.0 / 800.0, 1e-5, 2e-9] {
            let mut s = ScheduleState::new(Schedule::Logarithmic { c }, 1e-9);
            for _ in 0..10 {
                s.advance(false);
            }
            s.set_temperature(t_a);
            assert!(close(s.temperature(), t_a), "{t_a}: {}", s.temperature());
            // Then it follows c / ln(dk + exp(c/T_a)), computed here in logs.
            for dk in 1..=1000u64 {
                s.advance(false);
                let want = c / (c / t_a + (dk as f64 * (-c / t_a).exp()).ln_1p());
                let want = want.max(1e-9);
                assert!(
                    (s.temperature() - want).abs() <= 1e-12 * want,
                    "{t_a} + {dk}: {} vs {want}",
                    s.temperature()
                );
                assert!(s.temperature() <= t_a);
            }
        }
        // Changing c mid-run at a cold temperature continues from it too.
        let mut s = ScheduleState::new(Schedule::Logarithmic { c: 2.0 }, 1e-9);
        s.set_temperature(1e-3);
        s.set(Schedule::Logarithmic { c: 5.0 }, 1e-9);
        assert!(close(s.temperature(), 1e-3));
    }

    #[test]
    fn cosine_restarts_reheat_every_period() {
        let t = run(
            Schedule::CosineRestarts {
                t0: 1.0,
                period: 10,
            },
            0.1,
            30,
        );
        for (k, &got) in t.iter().enumerate() {
            let phase = (k % 10) as f64;
            let want = 0.1 + 0.9 * (1.0 + (PI * phase / 10.0).cos()) / 2.0;
            assert!(close(got, want), "{k}: {got} vs {want}");
        }
        assert_eq!(t[10], 1.0);
        assert_eq!(t[20], 1.0);
    }

    #[test]
    fn every_schedule_is_clamped_at_t_min() {
        for schedule in Schedule::examples() {
            let mut s = ScheduleState::new(schedule.clone(), 0.05);
            for k in 0..200_000 {
                assert!(s.temperature() >= 0.05, "{schedule:?} at {k}");
                s.advance(k % 3 == 0);
            }
        }
        // Linear and geometric really reach the floor and stay there.
        let l = run(Schedule::Linear { t0: 1.0, rate: 0.1 }, 0.05, 30);
        assert_eq!(l[20], 0.05);
        let g = run(
            Schedule::Geometric {
                t0: 1.0,
                alpha: 0.5,
            },
            0.05,
            30,
        );
        assert_eq!(g[29], 0.05);
    }

    #[test]
    fn changing_alpha_mid_run_continues_from_the_current_temperature() {
        let mut s = ScheduleState::new(
            Schedule::Geometric {
                t0: 1.0,
                alpha: 0.99,
            },
            1e-6,
        );
        for _ in 0..100 {
            s.advance(true);
        }
        let before = s.temperature();
        assert!(close(before, 0.99f64.powi(100)));
        s.set(
            Schedule::Geometric {
                t0: 1.0,
                alpha: 0.9,
            },
            1e-6,
        );
        assert_eq!(s.temperature(), before, "no jump at the change");
        s.advance(true);
        assert!(
            close(s.temperature(), before * 0.9),
            "new rate from the next step"
        );
    }

    #[test]
    fn every_parameter_change_is_continuous() {
        for from in Schedule::examples() {
            for to in Schedule::examples() {
                // Constant sets T by design; a drawn curve is absolute in the step count.
                if matches!(to, Schedule::Constant { .. } | Schedule::Custom { .. }) {
                    continue;
                }
                let mut s = ScheduleState::new(from.clone(), 1e-3);
                for k in 0..1234 {
                    s.advance(k % 4 == 0);
                }
                let before = s.temperature();
                s.set(to.clone(), 1e-3);
                let after = s.temperature();
                let limit = if let Schedule::CosineRestarts { t0, .. } = to {
                    before.min(t0)
                } else {
                    before
                };
                assert!(
                    (after - limit).abs() < 1e-9 * limit,
                    "{from:?} -> {to:?}: {before} -> {after}"
                );
            }
        }
    }

    #[test]
    fn a_drawn_schedule_interpolates_log_t_between_its_points() {
        let points = vec![(0, 1.0), (100, 0.01), (150, 0.1), (300, 0.001)];
        let mut s = ScheduleState::new(Schedule::Custom { points }, 1e-6);
        let mut seen = Vec::new();
        for _ in 0..400 {
            seen.push(s.temperature());
            s.advance(true);
        }
        assert!(close(seen[0], 1.0));
        assert!(
            close(seen[50], 0.1),
            "halfway in log from 1 to 0.01: {}",
            seen[50]
        );
        assert!(close(seen[100], 0.01));
        assert!(seen[120] > seen[100], "a reheat");
        assert!(close(seen[150], 0.1));
        assert!(close(seen[399], 0.001), "constant after the last point");
    }

    #[test]
    fn lowering_t_min_while_clamped_does_not_jump() {
        let mut s = ScheduleState::new(
            Schedule::Geometric {
                t0: 1.0,
                alpha: 0.5,
            },
            0.01,
        );
        for _ in 0..100 {
            s.advance(false);
        }
        assert_eq!(s.temperature(), 0.01);
        s.set(s.schedule().clone(), 1e-4);
        assert_eq!(s.temperature(), 0.01);
        s.advance(false);
        assert!(close(s.temperature(), 0.005));
    }

    #[test]
    fn reheat_sets_the_temperature_and_cooling_resumes() {
        let mut s = ScheduleState::new(Schedule::Fast { t0: 1.0 }, 1e-6);
        for _ in 0..1000 {
            s.advance(false);
        }
        s.set_temperature(0.5);
        assert_eq!(s.temperature(), 0.5);
        s.advance(false);
        // 1/T = 1/0.5 + 1/T0.
        assert!(close(s.temperature(), 1.0 / 3.0));
        let mut c = ScheduleState::new(Schedule::Constant { t0: 0.1 }, 1e-6);
        c.set_temperature(2.0);
        c.advance(false);
        assert_eq!(c.temperature(), 2.0);
    }

    #[test]
    fn adaptive_schedule_moves_toward_its_target() {
        let sched = Schedule::Adaptive {
            t0: 1.0,
            target: 0.25,
            gain: 0.1,
        };
        let mut s = ScheduleState::new(sched, 1e-6);
        s.advance(true);
        assert!(
            close(s.temperature(), (0.1f64 * -0.75).exp()),
            "accepted: cooler"
        );
        let t = s.temperature();
        s.advance(false);
        assert!(
            close(s.temperature(), t * (0.1f64 * 0.25).exp()),
            "rejected: hotter"
        );
    }

    #[test]
    fn planned_curve_matches_what_happens() {
        let mut s = ScheduleState::new(
            Schedule::Geometric {
                t0: 1.0,
                alpha: 0.97,
            },
            1e-3,
        );
        for _ in 0..10 {
            s.advance(true);
        }
        let plan: Vec<f64> = (10..300).map(|k| s.planned(k)).collect();
        for want in plan {
            assert!(close(s.temperature(), want));
            s.advance(true);
        }
    }
}
