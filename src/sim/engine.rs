//! The engine that steps a run: one chain with its own schedule, or parallel tempering.
//!
//! Parallel tempering (replica exchange): `K` copies of a problem, each sampled by
//! Metropolis at its own fixed temperature on a geometric ladder; every `S` steps
//! neighbouring temperatures propose to exchange their configurations, accepted with
//! probability `min(1, exp((1/T_i - 1/T_j)(E_i - E_j)))`. The exchange keeps the product of
//! the Boltzmann distributions invariant, so each temperature's marginal stays
//! `exp(-E/T_i)/Z_i`, while hot replicas carry cold ones over barriers.

use super::anneal::{Annealer, AnnealerConfig, StepOutcome};
use super::problem::Problem;
use super::schedule::Schedule;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// Parallel tempering settings of a run: `replicas` copies on a geometric ladder from the
/// annealer's `t_min` (the coldest, the one shown) to `t_max`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemperingConfig {
    /// Number of replicas `K` (2 to 32).
    pub replicas: usize,
    /// The hottest temperature.
    pub t_max: f64,
    /// Steps between exchange attempts.
    pub swap_every: u64,
}

impl Default for TemperingConfig {
    fn default() -> Self {
        Self {
            replicas: 8,
            t_max: 1.0,
            swap_every: 10,
        }
    }
}

/// A geometric ladder of `k` temperatures from `t_min` to `t_max` (coldest first).
pub fn geometric_ladder(t_min: f64, t_max: f64, k: usize) -> Vec<f64> {
    if k < 2 {
        return vec![t_min];
    }
    (0..k)
        .map(|i| t_min * (t_max / t_min).powf(i as f64 / (k - 1) as f64))
        .collect()
}

/// The exchange acceptance probability of configurations with energies `e_i`, `e_j`
/// sitting at temperatures `t_i`, `t_j`.
pub fn swap_probability(t_i: f64, t_j: f64, e_i: f64, e_j: f64) -> f64 {
    ((1.0 / t_i - 1.0 / t_j) * (e_i - e_j)).exp().min(1.0)
}

/// One chain, or `K` replicas on a temperature ladder.
#[derive(Clone, Debug)]
pub struct Engine<P> {
    ladder: Vec<f64>,
    /// Slot `i` holds the configuration now at temperature `ladder[i]`.
    slots: Vec<(P, Annealer)>,
    /// Which replica (by its starting slot) sits at each temperature.
    identity: Vec<usize>,
    swap_every: u64,
    tried: Vec<u64>,
    accepted: Vec<u64>,
    steps: u64,
}

impl<P: Problem> Engine<P> {
    /// Replicas made by `make(i)` at the temperatures of `ladder`; each samples with
    /// `config` at its fixed temperature; exchanges are tried every `swap_every` steps.
    pub fn new(
        ladder: Vec<f64>,
        config: &AnnealerConfig,
        swap_every: u64,
        make: impl FnMut(usize) -> P,
    ) -> Self {
        let replicas = (0..ladder.len()).map(make).collect();
        Self::from_replicas(ladder, config, swap_every, replicas)
    }

    /// Like [`Engine::new`], with the replicas given (one per temperature).
    pub fn from_replicas(
        ladder: Vec<f64>,
        config: &AnnealerConfig,
        swap_every: u64,
        replicas: Vec<P>,
    ) -> Self {
        let k = ladder.len().min(replicas.len());
        let slots = ladder
            .iter()
            .zip(replicas)
            .map(|(&t, p)| {
                let c = AnnealerConfig {
                    schedule: Schedule::Constant { t0: t },
                    t_min: t.min(config.t_min),
                    ..config.clone()
                };
                let a = Annealer::new(c, p.energy());
                (p, a)
            })
            .collect();
        Self {
            ladder,
            slots,
            identity: (0..k).collect(),
            swap_every: swap_every.max(1),
            tried: vec![0; k.saturating_sub(1)],
            accepted: vec![0; k.saturating_sub(1)],
            steps: 0,
        }
    }

    /// A single chain with its own annealer and schedule (no exchanges): the common case,
    /// so that one driver serves both.
    pub fn single(problem: P, annealer: Annealer) -> Self {
        Self {
            ladder: vec![annealer.temperature()],
            slots: vec![(problem, annealer)],
            identity: vec![0],
            swap_every: u64::MAX,
            tried: Vec::new(),
            accepted: Vec::new(),
            steps: 0,
        }
    }

    /// One Metropolis step of every replica, then (every `swap_every` steps) exchange
    /// attempts between neighbours: even pairs on even rounds, odd pairs on odd ones.
    /// Returns what happened to the coldest slot (accepted also when an exchange brought
    /// it a new configuration).
    pub fn step<R: Rng + ?Sized>(&mut self, rng: &mut R) -> StepOutcome {
        let mut first = None;
        for (p, a) in &mut self.slots {
            let o = a.step(p, rng);
            first.get_or_insert(o);
        }
        let mut outcome = first.unwrap_or(StepOutcome {
            accepted: false,
            non_finite: false,
            improved: false,
            temperature: self.ladder[0],
        });
        self.steps += 1;
        if !self.steps.is_multiple_of(self.swap_every) {
            return outcome;
        }
        let round = self.steps / self.swap_every;
        let first = (round % 2) as usize;
        for i in (first..self.slots.len().saturating_sub(1)).step_by(2) {
            let (e_i, e_j) = (self.slots[i].0.energy(), self.slots[i + 1].0.energy());
            let p = swap_probability(self.ladder[i], self.ladder[i + 1], e_i, e_j);
            self.tried[i] += 1;
            if rng.random::<f64>() < p {
                self.accepted[i] += 1;
                let (lo, hi) = self.slots.split_at_mut(i + 1);
                std::mem::swap(&mut lo[i].0, &mut hi[0].0);
                // Each slot now holds the other's configuration: its energy (and maybe a
                // new best) comes with it.
                for (p, a) in [&mut lo[i], &mut hi[0]] {
                    a.resync(p);
                }
                self.identity.swap(i, i + 1);
                outcome.accepted |= i == 0;
            }
        }
        outcome
    }

    /// The replica at slot `i` with its annealer.
    pub fn slot(&self, i: usize) -> (&P, &Annealer) {
        let (p, a) = &self.slots[i];
        (p, a)
    }

    /// The replica at slot `i` with its annealer, mutably.
    pub fn slot_mut(&mut self, i: usize) -> (&mut P, &mut Annealer) {
        let (p, a) = &mut self.slots[i];
        (p, a)
    }

    /// Number of replicas.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Always false: there is at least one replica.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The temperatures, coldest first.
    pub fn ladder(&self) -> &[f64] {
        &self.ladder
    }

    /// The configuration at temperature slot `i`.
    pub fn replica(&self, i: usize) -> &P {
        &self.slots[i].0
    }

    /// Which replica sits at each temperature.
    pub fn identity(&self) -> &[usize] {
        &self.identity
    }

    /// Exchange acceptance rate of each neighbouring pair (NaN before any try).
    pub fn swap_rates(&self) -> Vec<f64> {
        self.tried
            .iter()
            .zip(&self.accepted)
            .map(|(&t, &a)| {
                if t == 0 {
                    f64::NAN
                } else {
                    a as f64 / t as f64
                }
            })
            .collect()
    }

    /// Steps taken (each moves every replica once).
    pub fn steps(&self) -> u64 {
        self.steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_is_geometric() {
        let l = geometric_ladder(0.1, 10.0, 5);
        assert_eq!(l.len(), 5);
        for w in l.windows(2) {
            assert!((w[1] / w[0] - 10f64.powf(0.5)).abs() < 1e-12);
        }
        assert!((l[0] - 0.1).abs() < 1e-15 && (l[4] - 10.0).abs() < 1e-12);
    }

    #[test]
    fn swaps_that_lower_the_combined_weight_are_uncertain() {
        // The colder slot getting the lower energy is always accepted.
        assert_eq!(swap_probability(1.0, 2.0, 5.0, 1.0), 1.0);
        let p = swap_probability(1.0, 2.0, 1.0, 5.0);
        assert!((p - (-2.0f64).exp()).abs() < 1e-15);
    }
}
