//! What the annealer anneals: any state with an energy and a way to move.
//!
//! The [`Problem`] trait is the hot path: a propose / accept / reject protocol rather than
//! a pure `energy(state)` function, so that a problem can evaluate a small move
//! incrementally (recomputing only what the move changes) and keep its caches between
//! steps. Problems that move themselves (a lattice sweep, a Gibbs sweep, a learning step)
//! implement [`Problem::sweep`] instead.
//!
//! What a problem says about itself off the hot path (its observables, what the UI draws,
//! its state for export) is the [`super::problems::Kind`] trait.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// How a candidate state is drawn from the current one. `sigma` is the step size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProposalKind {
    /// Every coordinate moves: `theta' = theta + sigma * N(0, I)` (the reference article's move).
    #[default]
    All,
    /// One coordinate, chosen uniformly, moves by `sigma * N(0, 1)`.
    One,
    /// One block of coordinates moves (for the network: one hidden unit's incoming weights,
    /// bias and outgoing weights).
    Unit,
}

impl ProposalKind {
    /// All kinds, in menu order.
    pub const ALL: [ProposalKind; 3] = [ProposalKind::All, ProposalKind::One, ProposalKind::Unit];

    /// A human-readable name.
    pub fn label(self) -> &'static str {
        match self {
            ProposalKind::All => "All parameters",
            ProposalKind::One => "One parameter",
            ProposalKind::Unit => "One hidden unit",
        }
    }
}

/// What a self-moving problem's step did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sweep {
    /// Energy change over the step (`E` after minus `E` before).
    pub de: f64,
    /// Elementary moves attempted (e.g. spin flips tried).
    pub attempted: u64,
    /// Elementary moves accepted.
    pub accepted: u64,
}

/// A state space with an energy, explored by proposing moves.
///
/// One engine step either calls [`Problem::propose`] and then exactly one of
/// [`Problem::accept`] (the candidate becomes the current state) or [`Problem::reject`]
/// (it is dropped), the engine judging the energy change by its acceptance rule; or, for
/// a problem whose [`Problem::sweep`] returns `Some`, lets the problem move itself.
pub trait Problem {
    /// Energy of the current state.
    fn energy(&self) -> f64;

    /// The absolute rounding error of [`Problem::energy`]: energy fluctuations no larger
    /// than a few times this are noise, not thermal (the heat-capacity estimate is then
    /// withheld). The default suits an `f64` energy summed incrementally.
    fn energy_resolution(&self) -> f64 {
        64.0 * f64::EPSILON * self.energy().abs()
    }

    /// Draws a candidate move of kind `kind` and size `sigma` and returns its energy change
    /// `dE = E(candidate) - E(current)`, which may be infinite or NaN for a candidate that
    /// overflowed or left the allowed region (the engine then rejects it).
    fn propose<R: Rng + ?Sized>(&mut self, kind: ProposalKind, sigma: f64, rng: &mut R) -> f64;

    /// Makes the pending candidate the current state.
    fn accept(&mut self);

    /// Drops the pending candidate.
    fn reject(&mut self);

    /// Records the current state as the best seen so far.
    fn store_best(&mut self);

    /// A Langevin proposal `theta' = theta - eta grad E(theta) + sqrt(2 eta T) xi`,
    /// `xi ~ N(0, I)`, held pending like [`Problem::propose`]. Returns the candidate's
    /// energy change and `ln q(theta | theta') - ln q(theta' | theta)`, the log ratio of the
    /// reverse and forward proposal densities that a Metropolis correction (MALA) needs.
    /// Problems without gradients return `None`.
    fn propose_langevin<R: Rng + ?Sized>(
        &mut self,
        eta: f64,
        t: f64,
        rng: &mut R,
    ) -> Option<(f64, f64)> {
        let _ = (eta, t, rng);
        None
    }

    /// One step the problem makes itself at temperature `t` (a lattice sweep, a Gibbs
    /// sweep, a learning step), or `None` for problems that are proposed moves.
    fn sweep<R: Rng + ?Sized>(&mut self, t: f64, rng: &mut R) -> Option<Sweep> {
        let _ = (t, rng);
        None
    }
}

/// `ln q(to | from)` up to a constant shared by both directions, for the Langevin proposal
/// `N(from - eta grad(from), 2 eta T)`: `-|to - from + eta grad(from)|^2 / (4 eta T)`.
pub fn langevin_log_q(to: &[f64], from: &[f64], grad_from: &[f64], eta: f64, t: f64) -> f64 {
    let sq: f64 = to
        .iter()
        .zip(from)
        .zip(grad_from)
        .map(|((&y, &x), &g)| (y - x + eta * g).powi(2))
        .sum();
    -sq / (4.0 * eta * t)
}
