//! The travelling-salesman problem (TSP): annealing a closed tour through cities in the plane.
//!
//! This is the problem that made simulated annealing famous (Kirkpatrick, Gelatt & Vecchi,
//! *Science* 220, 671 (1983); Černý, *J. Optim. Theory Appl.* 45, 41 (1985)). A state is a
//! permutation `tour` of the `n` cities; its energy is the length of the closed tour
//!
//! ```text
//! E(tour) = Σ_{k=0}^{n-1} d(tour[k], tour[k+1 mod n]),   d(a, b) = sqrt((x_a-x_b)² + (y_a-y_b)²)
//! ```
//!
//! (Euclidean, in `f64`). There are `(n-1)!/2` distinct tours, so the state space is discrete
//! and astronomically large, and the landscape is rugged: the textbook case for annealing.
//!
//! # Moves and their energy change (all O(1))
//! Positions are taken on the ring (`k+1` means `k+1 mod n`); `t = tour`.
//! * **2-opt** (Croes 1958, Lin 1965): pick a position `i` and a gap `k ∈ [2, n-2]`, let
//!   `j = i + k`, `a = t[i]`, `b = t[i+1]`, `c = t[j]`, `d = t[j+1]`. Reversing the segment
//!   `b … c` replaces edges `(a,b)`, `(c,d)` by `(a,c)`, `(b,d)`:
//!   `dE = d(a,c) + d(b,d) - d(a,b) - d(c,d)`.
//! * **swap**: exchange the cities `u = t[p]` and `v = t[q]`. With `u⁻, u⁺` the neighbours of
//!   `u` (and likewise for `v`), non-adjacent positions give
//!   `dE = d(u⁻,v) + d(v,u⁺) + d(v⁻,u) + d(u,v⁺) - d(u⁻,u) - d(u,u⁺) - d(v⁻,v) - d(v,v⁺)`;
//!   adjacent ones (`q = p+1`) give `dE = d(u⁻,v) + d(u,v⁺) - d(u⁻,u) - d(v,v⁺)`.
//! * **or-opt** (Or 1976): cut a segment `f … l` of 1 to 3 cities out from between `p` and
//!   `q`, and reinsert it, forwards or reversed, into another edge `(x, y)`:
//!   `dE = d(p,q) - d(p,f) - d(l,q) - d(x,y) + [d(x,f) + d(l,y)]` (forwards) or
//!   `+ [d(x,l) + d(f,y)]` (reversed).
//!
//! `propose` draws one of the three kinds with probabilities proportional to
//! [`MoveMix`]'s weights and only *computes* `dE`; `accept` then applies it in O(n) (a 2-opt
//! reverses whichever side of the ring is shorter, which gives the same cyclic tour).
//!
//! **Detailed balance.** Every move kind is drawn with a symmetric proposal probability
//! `Q(A→B) = Q(B→A)`: the 2-opt pair `(i, k)` is uniform over `n (n-3)` choices and each
//! unordered pair of edges is hit twice; a swap is uniform over ordered pairs of positions;
//! an or-opt `(length L, start, target edge, orientation)` is uniform over its choices and
//! the move putting the segment back has the same probability. Hence the Metropolis chain
//! at temperature `T` samples the Boltzmann distribution `π(tour) ∝ exp(-E(tour)/T)` over
//! tours (tested by chi-square against exact enumeration of the 60 tours of 6 cities).
//!
//! # Instances and what is known about them
//! * `Uniform`: `n` points uniform in the unit square (from the config's own seed). The
//!   optimum is not known in closed form; asymptotically `L*/sqrt(n A) → β ≈ 0.7124`
//!   (Beardwood, Halton & Hammersley, *Proc. Camb. Phil. Soc.* 55, 299 (1959); the value of
//!   β from Percus & Martin, *PRL* 76, 1188 (1996)), a useful yardstick but not an exact
//!   optimum: no gap is reported, and the view draws `β sqrt(n)` (`A = 1`) as a dashed
//!   line. Boundary effects make a finite instance's optimum longer than the limit (for
//!   100 cities by a few percent).
//! * `Clustered`: `n` points in Gaussian clusters (σ = [`CLUSTER_SIGMA`]) around `clusters`
//!   centres uniform in `[0.1, 0.9]²`. Optimum unknown (no gap).
//! * `Circle`: `n` points evenly spaced on a circle of radius `r = 0.5`. Points in convex
//!   position have the hull order as optimal tour (any tour with a crossing is shortened by
//!   the 2-opt that uncrosses it, and the only crossing-free tour of convex points is the
//!   hull), so `L* = 2 n r sin(π/n)`, the perimeter of the regular `n`-gon.
//! * `Grid`: `side × side` points with spacing `h = 1/side`. Every edge is at least `h`
//!   long, so `L* ≥ n h`; for even `side` a serpentine tour achieves it: `L* = side² h`.
//!   For odd `side` the grid graph is bipartite with an odd number of points, so no closed
//!   tour uses only unit steps; the cheapest other step is a diagonal `√2 h`, and a tour with
//!   exactly one diagonal exists, so `L* = (n - 1 + √2) h` with `n = side²`. (Both cases are
//!   checked in the tests by exact dynamic programming and an explicit construction.)
//! * `Berlin52`: the TSPLIB instance `berlin52` (52 locations in Berlin, Grötschel; TSPLIB:
//!   Reinelt, *ORSA J. Comput.* 3, 376 (1991)). Its proven optimum **7542** is in TSPLIB's
//!   `EUC_2D` metric, where every edge length is rounded to the nearest integer,
//!   `nint(d) = ⌊d + 0.5⌋`. The annealer still minimises the Euclidean length (the energy),
//!   but the gap is computed on the `EUC_2D` length of the same tour:
//!   `gap = 100 (L_EUC_2D(tour) - 7542) / 7542` percent. (The published optimal tour has
//!   Euclidean length ≈ 7544.37, so the energy bottoms out there while the gap reads 0.)
//!   The energy stays Euclidean because rounding would make it a staircase: many moves
//!   with `dE = 0` and energy differences that no longer shrink smoothly as the tour
//!   improves, which is not the continuous energy the rest of the app teaches with.
//! * `List`: cities given by the user (optimum unknown, no gap).
//!
//! For the others with a known optimum `gap = 100 (L - L*) / L*` percent.
//!
//! # What a run reports
//! The energy is the tour length. Instances with a known optimum also report the gap of
//! the current and of the best tour ([`OBSERVABLES`]); all report the heat capacity
//! `C = Var(L)/T²` from the fluctuations of the length, which peaks where the tour's
//! large-scale shape freezes. The view ([`TspView`]) carries the cities, both tours and
//! the reference lengths; the exported state ([`TspState`]) the cities as `[x, y]` and
//! the best tour as a permutation, so its length can be recomputed outside.
//!
//! # Bookkeeping and cost
//! The tour length is kept incrementally (`L += dE` on accept) and recomputed from scratch
//! every [`limits::REFRESH_EVERY`] accepted moves against round-off drift. Distances are
//! tabulated in an `n × n` `f64` matrix up to [`limits::MATRIX_MAX`] = 400 cities (1.3 MB,
//! shared between clones through an `Arc`) and computed on the fly above: a bigger table
//! falls out of the L2 cache and is *slower* than four square roots (measured: 2-opt at
//! n = 1000 runs at ~25 M proposals/s with an 8 MB table, ~45 M/s without). The problem is
//! a self-contained value (parallel tempering may `mem::swap` it).

use std::fmt;
use std::sync::Arc;

use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

use super::config::{RangeError, check};
use super::problem::{Problem, ProposalKind};
use super::problems::{
    ChainStats, Kind, Observable, PlotKind, ProblemState, ProblemView, ViewRequest,
};

/// Allowed ranges of the configuration and fixed sizes of the implementation.
pub mod limits {
    use std::ops::RangeInclusive;

    /// Number of cities of every instance kind (also the length of a `List`).
    pub const N: RangeInclusive<usize> = 4..=2000;
    /// Clusters of a `Clustered` instance (and at most `n`).
    pub const CLUSTERS: RangeInclusive<usize> = 1..=100;
    /// Side of a `Grid` instance (`side²` cities).
    pub const SIDE: RangeInclusive<usize> = 2..=44;
    /// Each coordinate of a `List` city.
    pub const COORD: RangeInclusive<f64> = -1e9..=1e9;
    /// Each move weight of [`super::MoveMix`] (and their sum must be positive).
    pub const WEIGHT: RangeInclusive<f64> = 0.0..=1e6;
    /// Up to this many cities the distances are tabulated (n² f64, 1.3 MB at 400, fits
    /// the L2 cache); above, computed on the fly, which is faster once the table misses L2.
    pub const MATRIX_MAX: usize = 400;
    /// Accepted moves between two from-scratch recomputations of the tour length.
    pub const REFRESH_EVERY: u32 = 1 << 16;
    /// Longest segment an or-opt move displaces (also at most `n - 3`).
    pub const OR_OPT_MAX: usize = 3;
}

/// What a run on an instance with a known optimum (circle, grid, berlin52) reports besides
/// the tour length (the energy): the gaps of the current and the best tour, and the heat
/// capacity.
pub const OBSERVABLES: &[Observable] = &[
    Observable {
        column: "gap_percent",
        label: "gap (%)",
        tip: "How far the current tour is above the known optimum: 100 (L - L*) / L* percent (berlin52: on TSPLIB's length with every edge rounded to an integer)",
        plot: PlotKind::Steps {
            title: "gap to the known optimum (%)",
            fraction: false,
        },
        status: false,
    },
    Observable {
        column: "best_gap_percent",
        label: "best gap (%)",
        tip: "The gap of the best tour so far: 0 means the annealer found an optimal tour",
        plot: PlotKind::Steps {
            title: "gap to the known optimum (%)",
            fraction: false,
        },
        status: true,
    },
    HEAT_CAPACITY,
];

/// What a run on an instance without a known optimum (random, clustered or listed cities)
/// reports besides the tour length: the heat capacity only (a gap would be undefined).
pub const OBSERVABLES_NO_OPTIMUM: &[Observable] = &[HEAT_CAPACITY];

const HEAT_CAPACITY: Observable = Observable {
    column: "heat_capacity",
    label: "C",
    tip: "Heat capacity Var(L)/T^2 from the tour length's fluctuations about a straight line over the last `window` steps (the cooling drift removed), blank while meaningless: it peaks where the tour's large-scale shape freezes",
    plot: PlotKind::Temperature {
        title: "heat capacity",
    },
    status: false,
};

/// The Beardwood-Halton-Hammersley constant `β ≈ 0.7124`: the optimal tour through `n`
/// uniform random points in a region of area `A` has length `L* ≈ β sqrt(n A)` as
/// `n → ∞` (Percus & Martin's estimate of `β`). For finite `n` in a square the boundary
/// makes optimal tours longer (several percent at `n = 100`), so this is a yardstick, not
/// an optimum.
pub const BHH_BETA: f64 = 0.7124;

/// Radius of the `Circle` instance (centred at `(0.5, 0.5)`).
pub const CIRCLE_RADIUS: f64 = 0.5;

/// Standard deviation of each coordinate around its centre in a `Clustered` instance.
pub const CLUSTER_SIGMA: f64 = 0.04;

/// TSPLIB's proven optimum of `berlin52`, in `EUC_2D` units (edge lengths rounded).
pub const BERLIN52_OPTIMUM: f64 = 7542.0;

/// Coordinates of TSPLIB's `berlin52` (NODE_COORD_SECTION, city `k` at index `k - 1`).
pub const BERLIN52: [[f64; 2]; 52] = [
    [565.0, 575.0],
    [25.0, 185.0],
    [345.0, 750.0],
    [945.0, 685.0],
    [845.0, 655.0],
    [880.0, 660.0],
    [25.0, 230.0],
    [525.0, 1000.0],
    [580.0, 1175.0],
    [650.0, 1130.0],
    [1605.0, 620.0],
    [1220.0, 580.0],
    [1465.0, 200.0],
    [1530.0, 5.0],
    [845.0, 680.0],
    [725.0, 370.0],
    [145.0, 665.0],
    [415.0, 635.0],
    [510.0, 875.0],
    [560.0, 365.0],
    [300.0, 465.0],
    [520.0, 585.0],
    [480.0, 415.0],
    [835.0, 625.0],
    [975.0, 580.0],
    [1215.0, 245.0],
    [1320.0, 315.0],
    [1250.0, 400.0],
    [660.0, 180.0],
    [410.0, 250.0],
    [420.0, 555.0],
    [575.0, 665.0],
    [1150.0, 1160.0],
    [700.0, 580.0],
    [685.0, 595.0],
    [685.0, 610.0],
    [770.0, 610.0],
    [795.0, 645.0],
    [720.0, 635.0],
    [760.0, 650.0],
    [475.0, 960.0],
    [95.0, 260.0],
    [875.0, 920.0],
    [700.0, 500.0],
    [555.0, 815.0],
    [830.0, 485.0],
    [1170.0, 65.0],
    [830.0, 610.0],
    [605.0, 625.0],
    [595.0, 360.0],
    [1340.0, 725.0],
    [1740.0, 245.0],
];

/// Which cities to visit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Cities {
    /// `n` cities uniform in the unit square, drawn from `seed`.
    Uniform {
        /// Number of cities.
        n: usize,
        /// Seed of the city positions (the start tour uses the run's generator).
        seed: u64,
    },
    /// `n` cities in `clusters` Gaussian clusters in the unit square, drawn from `seed`.
    Clustered {
        /// Number of cities.
        n: usize,
        /// Number of cluster centres.
        clusters: usize,
        /// Seed of the city positions.
        seed: u64,
    },
    /// `n` cities evenly spaced on a circle of radius 0.5 (optimum: the polygon).
    Circle {
        /// Number of cities.
        n: usize,
    },
    /// `side × side` cities on a square grid of spacing `1/side` (optimum known).
    Grid {
        /// Cities per row and per column.
        side: usize,
    },
    /// TSPLIB's `berlin52` (optimum 7542 in `EUC_2D` units).
    Berlin52,
    /// Cities given as `[x, y]` pairs.
    List(Vec<[f64; 2]>),
}

impl Default for Cities {
    fn default() -> Self {
        Cities::Uniform { n: 100, seed: 1 }
    }
}

impl Cities {
    /// Number of cities of the instance.
    pub fn n(&self) -> usize {
        match self {
            Cities::Uniform { n, .. } | Cities::Clustered { n, .. } | Cities::Circle { n } => *n,
            Cities::Grid { side } => side * side,
            Cities::Berlin52 => BERLIN52.len(),
            Cities::List(v) => v.len(),
        }
    }

    /// A short description for people, e.g. "100 random cities" or "berlin52 (TSPLIB)".
    pub fn label(&self) -> String {
        match self {
            Cities::Uniform { n, .. } => format!("{n} random cities"),
            Cities::Clustered { n, clusters, .. } => {
                format!("{n} cities in {clusters} clusters")
            }
            Cities::Circle { n } => format!("{n} cities on a circle"),
            Cities::Grid { side } => format!("{side} x {side} grid of cities"),
            Cities::Berlin52 => "berlin52 (TSPLIB)".to_owned(),
            Cities::List(v) => format!("{} listed cities", v.len()),
        }
    }

    /// `Ok` if the instance is within [`limits`]; field paths start with `cities.`.
    pub fn validate(&self) -> Result<(), RangeError> {
        match self {
            Cities::Uniform { n, .. } | Cities::Circle { n } => check("cities.n", *n, limits::N),
            Cities::Clustered { n, clusters, .. } => {
                check("cities.n", *n, limits::N)?;
                let top = (*limits::CLUSTERS.end()).min(*n);
                check(
                    "cities.clusters",
                    *clusters,
                    *limits::CLUSTERS.start()..=top,
                )
            }
            Cities::Grid { side } => check("cities.side", *side, limits::SIDE),
            Cities::Berlin52 => Ok(()),
            Cities::List(v) => {
                check("cities.List.len", v.len(), limits::N)?;
                for (i, c) in v.iter().enumerate() {
                    check(&format!("cities.List[{i}].x"), c[0], limits::COORD)?;
                    check(&format!("cities.List[{i}].y"), c[1], limits::COORD)?;
                }
                Ok(())
            }
        }
    }

    /// The city coordinates (deterministic: random kinds use their own seed).
    pub fn positions(&self) -> Vec<[f64; 2]> {
        match self {
            Cities::Uniform { n, seed } => {
                let mut rng = Pcg64Mcg::seed_from_u64(*seed);
                (0..*n)
                    .map(|_| [rng.random::<f64>(), rng.random::<f64>()])
                    .collect()
            }
            Cities::Clustered { n, clusters, seed } => {
                let mut rng = Pcg64Mcg::seed_from_u64(*seed);
                let k = (*clusters).max(1);
                let centres: Vec<[f64; 2]> = (0..k)
                    .map(|_| {
                        [
                            0.1 + 0.8 * rng.random::<f64>(),
                            0.1 + 0.8 * rng.random::<f64>(),
                        ]
                    })
                    .collect();
                (0..*n)
                    .map(|_| {
                        let c = centres[rng.random_range(0..k)];
                        clustered_point(c, &mut rng)
                    })
                    .collect()
            }
            Cities::Circle { n } => (0..*n)
                .map(|k| {
                    let phi = std::f64::consts::TAU * k as f64 / *n as f64;
                    [
                        0.5 + CIRCLE_RADIUS * phi.cos(),
                        0.5 + CIRCLE_RADIUS * phi.sin(),
                    ]
                })
                .collect(),
            Cities::Grid { side } => {
                let h = 1.0 / *side as f64;
                (0..side * side)
                    .map(|k| {
                        let (row, col) = (k / side, k % side);
                        [(col as f64 + 0.5) * h, (row as f64 + 0.5) * h]
                    })
                    .collect()
            }
            Cities::Berlin52 => BERLIN52.to_vec(),
            Cities::List(v) => v.clone(),
        }
    }

    /// Length of the optimal tour where it is known, else `None`.
    ///
    /// Circle: `2 n r sin(π/n)`; grid: `side² h` (even side) or `(side² - 1 + √2) h` (odd
    /// side), `h = 1/side`; Berlin52: 7542 **in `EUC_2D` units** (rounded edge lengths).
    pub fn known_optimum(&self) -> Option<f64> {
        match self {
            Cities::Circle { n } => {
                let n = *n as f64;
                Some(2.0 * n * CIRCLE_RADIUS * (std::f64::consts::PI / n).sin())
            }
            Cities::Grid { side } => {
                let h = 1.0 / *side as f64;
                let n = (side * side) as f64;
                Some(if side % 2 == 0 {
                    n * h
                } else {
                    (n - 1.0 + std::f64::consts::SQRT_2) * h
                })
            }
            Cities::Berlin52 => Some(BERLIN52_OPTIMUM),
            Cities::Uniform { .. } | Cities::Clustered { .. } | Cities::List(_) => None,
        }
    }
}

/// One point of a cluster around `c`, kept inside the unit square.
fn clustered_point<R: Rng + ?Sized>(c: [f64; 2], rng: &mut R) -> [f64; 2] {
    let mut p = c;
    for _ in 0..16 {
        let zx: f64 = StandardNormal.sample(rng);
        let zy: f64 = StandardNormal.sample(rng);
        p = [c[0] + CLUSTER_SIGMA * zx, c[1] + CLUSTER_SIGMA * zy];
        if (0.0..=1.0).contains(&p[0]) && (0.0..=1.0).contains(&p[1]) {
            return p;
        }
    }
    [p[0].clamp(0.0, 1.0), p[1].clamp(0.0, 1.0)]
}

/// Relative weights of the three move kinds (non-negative, not all zero): a move is
/// 2-opt with probability `two_opt / (two_opt + swap + or_opt)`, and so on.
///
/// In a file, a weight left out is **0**, so `moves: (two_opt: 1)` means pure 2-opt and
/// `moves: (two_opt: 4, or_opt: 1)` no swaps. A config without `moves` at all takes the
/// default mix (0.8, 0.05, 0.15). (Defaulting each missing weight to its default-mix value
/// instead would make `(two_opt: 1)` quietly mean 1 : 0.05 : 0.15.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveMix {
    /// Weight of 2-opt segment reversals.
    #[serde(default)]
    pub two_opt: f64,
    /// Weight of swaps of two cities.
    #[serde(default)]
    pub swap: f64,
    /// Weight of or-opt moves (a segment of 1-3 cities moved elsewhere, maybe reversed).
    #[serde(default)]
    pub or_opt: f64,
}

impl Default for MoveMix {
    fn default() -> Self {
        MoveMix {
            two_opt: 0.8,
            swap: 0.05,
            or_opt: 0.15,
        }
    }
}

impl MoveMix {
    /// Only 2-opt moves.
    pub const TWO_OPT: MoveMix = MoveMix {
        two_opt: 1.0,
        swap: 0.0,
        or_opt: 0.0,
    };
    /// Only swaps.
    pub const SWAP: MoveMix = MoveMix {
        two_opt: 0.0,
        swap: 1.0,
        or_opt: 0.0,
    };
    /// Only or-opt moves.
    pub const OR_OPT: MoveMix = MoveMix {
        two_opt: 0.0,
        swap: 0.0,
        or_opt: 1.0,
    };

    /// `Ok` if every weight is in [`limits::WEIGHT`] and their sum is positive.
    pub fn validate(&self) -> Result<(), RangeError> {
        check("moves.two_opt", self.two_opt, limits::WEIGHT)?;
        check("moves.swap", self.swap, limits::WEIGHT)?;
        check("moves.or_opt", self.or_opt, limits::WEIGHT)?;
        let sum = self.two_opt + self.swap + self.or_opt;
        if sum > 0.0 {
            Ok(())
        } else {
            Err(RangeError {
                field: "moves".to_owned(),
                value: format!("{sum} (sum of the weights)"),
                allowed: "weights with a positive sum".to_owned(),
            })
        }
    }
}

/// The first tour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Start {
    /// A uniformly random permutation (from the run's generator).
    #[default]
    Random,
    /// The cities in the order they are listed (for `Circle` that is already the optimum;
    /// for `Grid` it is row by row, with a jump back at the end of each row).
    Given,
}

/// Configuration of the travelling-salesman problem.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TspConfig {
    /// The instance (default: 100 uniform cities, seed 1).
    pub cities: Cities,
    /// Relative weights of the move kinds (default: mostly 2-opt).
    pub moves: MoveMix,
    /// The first tour (default: random).
    pub start: Start,
}

impl TspConfig {
    /// `Ok` if every field is within [`limits`]; field paths like `"cities.n"`,
    /// `"moves.two_opt"`.
    pub fn validate(&self) -> Result<(), RangeError> {
        self.cities.validate()?;
        self.moves.validate()
    }
}

/// What an independent program needs to recompute the results (written as JSON by
/// `annealscope run --state`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TspState {
    /// City coordinates as `[x, y]`, indexed by city.
    pub cities: Vec<[f64; 2]>,
    /// Current tour: a permutation of city indices (closed: the last returns to the first).
    pub tour: Vec<usize>,
    /// Best tour seen: a permutation of city indices, closed like `tour`.
    pub best_tour: Vec<usize>,
    /// Euclidean length of `tour` (the energy).
    pub length: f64,
    /// Euclidean length of `best_tour`.
    pub best_length: f64,
    /// Known optimal length, if any (berlin52: 7542, in TSPLIB's `EUC_2D` units).
    pub known_optimum: Option<f64>,
    /// Berlin52 only: TSPLIB's `EUC_2D` length of `best_tour` (each edge rounded to the
    /// nearest integer), the length its optimum 7542 is measured in.
    pub best_tsplib_length: Option<f64>,
    /// `100 (L - L*) / L*` of `best_tour` (on the `EUC_2D` length for berlin52), if the
    /// optimum is known.
    pub best_gap_percent: Option<f64>,
}

/// What the UI draws of a tour.
#[derive(Clone, Debug, PartialEq)]
pub struct TspView {
    /// City coordinates, indexed by city (shared with the problem).
    pub cities: Arc<[[f64; 2]]>,
    /// The current tour (a closed permutation of city indices).
    pub tour: Vec<usize>,
    /// The best tour so far (empty in the cheap view of a tempering replica).
    pub best_tour: Vec<usize>,
    /// Euclidean length of `tour`.
    pub length: f64,
    /// Euclidean length of `best_tour`.
    pub best_length: f64,
    /// The known optimum, if any (berlin52: in `EUC_2D` units).
    pub known_optimum: Option<f64>,
    /// The gap is measured on TSPLIB's rounded `EUC_2D` length (berlin52).
    pub tsplib: bool,
    /// Gap of the current and of the best tour in percent (NaN without a known optimum).
    pub gaps: [f64; 2],
    /// For uniform random cities: the Beardwood-Halton-Hammersley estimate
    /// `0.7124 sqrt(n A)` of the optimum as `n → ∞` (a yardstick, not an optimum).
    pub bhh_estimate: Option<f64>,
}

/// The move waiting for `accept`/`reject`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pending {
    None,
    /// Reverse the ring segment `i+1 ..= i+k` (or, equivalently, its complement).
    TwoOpt {
        i: usize,
        k: usize,
    },
    /// Exchange the cities at positions `p` and `q`.
    Swap {
        p: usize,
        q: usize,
    },
    /// Move the `len` cities from position `s` into the edge after position `s+len+m`.
    OrOpt {
        s: usize,
        len: usize,
        m: usize,
        rev: bool,
    },
}

/// Move kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MoveKind {
    TwoOpt,
    Swap,
    OrOpt,
}

/// The travelling-salesman problem: a tour through fixed cities, annealed by 2-opt, swap
/// and or-opt moves (see the module docs).
#[derive(Clone)]
pub struct TspProblem {
    n: usize,
    xy: Arc<[[f64; 2]]>,
    /// Row-major `n × n` distances, for `n <= MATRIX_MAX`.
    dist: Option<Arc<[f64]>>,
    tour: Vec<usize>,
    best_tour: Vec<usize>,
    length: f64,
    best_length: f64,
    known_optimum: Option<f64>,
    /// Gap measured in TSPLIB `EUC_2D` units (Berlin52).
    tsplib: bool,
    /// Uniform random cities in the unit square (the BHH estimate applies).
    uniform: bool,
    /// Cumulative thresholds of the move kinds in `[0, 1)`: 2-opt below `cut_two`, swap
    /// below `cut_swap`, or-opt above.
    cut_two: f64,
    cut_swap: f64,
    /// The move kind when only one has a positive weight (no draw needed).
    only: Option<MoveKind>,
    /// Longest or-opt segment, `min(3, n - 3)`.
    or_max: usize,
    pending: Pending,
    pending_de: f64,
    accepted_since_refresh: u32,
}

impl fmt::Debug for TspProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TspProblem")
            .field("n", &self.n)
            .field("length", &self.length)
            .field("best_length", &self.best_length)
            .field("known_optimum", &self.known_optimum)
            .field("tabulated", &self.dist.is_some())
            .finish_non_exhaustive()
    }
}

/// Euclidean distance (exactly symmetric in its arguments).
#[inline(always)]
fn euclid(a: [f64; 2], b: [f64; 2]) -> f64 {
    let dx = a[0] - b[0];
    let dy = a[1] - b[1];
    (dx * dx + dy * dy).sqrt()
}

/// TSPLIB's `nint`: round to the nearest integer (halves up).
fn nint(x: f64) -> f64 {
    (x + 0.5).floor()
}

/// Fisher-Yates: a uniformly random permutation of `tour`, in place.
fn shuffle<R: Rng + ?Sized>(tour: &mut [usize], rng: &mut R) {
    for k in (1..tour.len()).rev() {
        let j = rng.random_range(0..=k);
        tour.swap(k, j);
    }
}

/// Euclidean length of the closed `tour` through `cities`.
pub fn tour_length(cities: &[[f64; 2]], tour: &[usize]) -> f64 {
    closed_edges(tour)
        .map(|(a, b)| euclid(cities[a], cities[b]))
        .sum()
}

/// TSPLIB `EUC_2D` length of the closed `tour`: every edge rounded to the nearest integer.
pub fn euc2d_length(cities: &[[f64; 2]], tour: &[usize]) -> f64 {
    closed_edges(tour)
        .map(|(a, b)| nint(euclid(cities[a], cities[b])))
        .sum()
}

/// The `n` edges `(tour[k], tour[k+1 mod n])` of a closed tour.
fn closed_edges(tour: &[usize]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let next = tour.iter().skip(1).chain(tour.first());
    tour.iter().copied().zip(next.copied())
}

impl TspProblem {
    /// Builds the instance and the first tour (a random start draws from `rng`).
    pub fn new<R: Rng + ?Sized>(cfg: &TspConfig, rng: &mut R) -> Result<Self, RangeError> {
        cfg.validate()?;
        let xy: Vec<[f64; 2]> = cfg.cities.positions();
        let n = xy.len();
        debug_assert!(limits::N.contains(&n));
        let dist = (n <= limits::MATRIX_MAX).then(|| {
            let mut m = vec![0.0; n * n];
            for (a, row) in m.chunks_exact_mut(n).enumerate() {
                for (b, d) in row.iter_mut().enumerate() {
                    *d = euclid(xy[a], xy[b]);
                }
            }
            Arc::<[f64]>::from(m)
        });
        let mut tour: Vec<usize> = (0..n).collect();
        if cfg.start == Start::Random {
            shuffle(&mut tour, rng);
        }
        let mv = &cfg.moves;
        let sum = mv.two_opt + mv.swap + mv.or_opt;
        let positive = [mv.two_opt, mv.swap, mv.or_opt].map(|w| w > 0.0);
        let only = match positive {
            [true, false, false] => Some(MoveKind::TwoOpt),
            [false, true, false] => Some(MoveKind::Swap),
            [false, false, true] => Some(MoveKind::OrOpt),
            _ => None,
        };
        let length = tour_length(&xy, &tour);
        Ok(TspProblem {
            n,
            xy: Arc::from(xy),
            dist,
            best_tour: tour.clone(),
            tour,
            length,
            best_length: length,
            known_optimum: cfg.cities.known_optimum(),
            tsplib: cfg.cities == Cities::Berlin52,
            uniform: matches!(cfg.cities, Cities::Uniform { .. }),
            cut_two: mv.two_opt / sum,
            cut_swap: (mv.two_opt + mv.swap) / sum,
            only,
            or_max: limits::OR_OPT_MAX.min(n - 3),
            pending: Pending::None,
            pending_de: 0.0,
            accepted_since_refresh: 0,
        })
    }

    /// `count` problems on the same instance (sharing its cities and distance table),
    /// each with its own first tour drawn from `rng` in turn: the same problems as `count`
    /// calls of [`TspProblem::new`].
    pub fn build<R: Rng + ?Sized>(
        cfg: &TspConfig,
        count: usize,
        rng: &mut R,
    ) -> Result<Vec<Self>, RangeError> {
        let first = Self::new(cfg, rng)?;
        let mut out = Vec::with_capacity(count);
        for _ in 1..count {
            let mut p = first.clone();
            if cfg.start == Start::Random {
                p.tour.sort_unstable();
                shuffle(&mut p.tour, rng);
                p.length = tour_length(&p.xy, &p.tour);
                p.best_tour.copy_from_slice(&p.tour);
                p.best_length = p.length;
            }
            out.push(p);
        }
        out.insert(0, first);
        Ok(out)
    }

    /// Number of cities.
    pub fn n(&self) -> usize {
        self.n
    }

    /// City coordinates `[x, y]`, indexed by city.
    pub fn cities(&self) -> &[[f64; 2]] {
        &self.xy
    }

    /// Current tour (a permutation of city indices; closed).
    pub fn tour(&self) -> &[usize] {
        &self.tour
    }

    /// Best tour recorded by `store_best`.
    pub fn best_tour(&self) -> &[usize] {
        &self.best_tour
    }

    /// Euclidean length of the current tour (= the energy).
    pub fn length(&self) -> f64 {
        self.length
    }

    /// Euclidean length of the best tour.
    pub fn best_length(&self) -> f64 {
        self.best_length
    }

    /// TSPLIB `EUC_2D` length of the current tour (rounded edges; O(n)).
    pub fn euc2d_length(&self) -> f64 {
        euc2d_length(&self.xy, &self.tour)
    }

    /// TSPLIB `EUC_2D` length of the best tour (O(n)).
    pub fn best_euc2d_length(&self) -> f64 {
        euc2d_length(&self.xy, &self.best_tour)
    }

    /// Known optimal length, if any (Berlin52: 7542 in `EUC_2D` units).
    pub fn known_optimum(&self) -> Option<f64> {
        self.known_optimum
    }

    /// `100 (L - L*) / L*` of the current tour, NaN if the optimum is unknown (Berlin52:
    /// `L` is the `EUC_2D` length; O(n) there); gaps under `1e-7` percent (round-off of
    /// the incremental length) read 0.
    pub fn gap_percent(&self) -> f64 {
        self.gap_of(&self.tour, self.length)
    }

    /// Like [`Self::gap_percent`] for the best tour.
    pub fn best_gap_percent(&self) -> f64 {
        self.gap_of(&self.best_tour, self.best_length)
    }

    fn gap_of(&self, tour: &[usize], length: f64) -> f64 {
        let Some(opt) = self.known_optimum else {
            return f64::NAN;
        };
        let l = if self.tsplib {
            euc2d_length(&self.xy, tour)
        } else {
            length
        };
        let gap = 100.0 * (l - opt) / opt;
        // The incremental length carries round-off of order 1e-12 relative: an optimal
        // tour reads 0, not "-0.000%".
        if gap.abs() < 1e-7 { 0.0 } else { gap }
    }

    /// For uniform random cities, the Beardwood-Halton-Hammersley estimate
    /// [`BHH_BETA`]` sqrt(n A)` (`A = 1`, the unit square) of the optimal length as
    /// `n → ∞`; `None` for other instances.
    pub fn bhh_estimate(&self) -> Option<f64> {
        self.uniform.then(|| BHH_BETA * (self.n as f64).sqrt())
    }

    /// Cities, tours and lengths, for export.
    pub fn tsp_state(&self) -> TspState {
        let gap = self.best_gap_percent();
        TspState {
            cities: self.xy.to_vec(),
            tour: self.tour.clone(),
            best_tour: self.best_tour.clone(),
            length: self.length,
            best_length: self.best_length,
            known_optimum: self.known_optimum,
            best_tsplib_length: self.tsplib.then(|| self.best_euc2d_length()),
            best_gap_percent: gap.is_finite().then_some(gap),
        }
    }

    /// Distance between cities `a` and `b`.
    #[inline(always)]
    fn d(&self, a: usize, b: usize) -> f64 {
        match &self.dist {
            Some(m) => m[a * self.n + b],
            None => euclid(self.xy[a], self.xy[b]),
        }
    }

    /// `i mod n` for `i < 2n`.
    #[inline(always)]
    fn w(&self, i: usize) -> usize {
        if i >= self.n { i - self.n } else { i }
    }

    /// City at ring position `i < 2n`.
    #[inline(always)]
    fn at(&self, i: usize) -> usize {
        self.tour[self.w(i)]
    }

    #[inline(always)]
    fn draw_kind<R: Rng + ?Sized>(&self, rng: &mut R) -> MoveKind {
        if let Some(k) = self.only {
            return k;
        }
        let u: f64 = rng.random();
        if u < self.cut_two {
            MoveKind::TwoOpt
        } else if u < self.cut_swap {
            MoveKind::Swap
        } else {
            MoveKind::OrOpt
        }
    }

    #[inline(always)]
    fn propose_two_opt<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        let n = self.n;
        let i = rng.random_range(0..n);
        let k = rng.random_range(2..n - 1);
        let j = self.w(i + k);
        let (a, b) = (self.tour[i], self.at(i + 1));
        let (c, d) = (self.tour[j], self.at(j + 1));
        self.pending = Pending::TwoOpt { i, k };
        self.d(a, c) + self.d(b, d) - self.d(a, b) - self.d(c, d)
    }

    #[inline(always)]
    fn propose_swap<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        let n = self.n;
        let p0 = rng.random_range(0..n);
        let k = rng.random_range(1..n);
        // Make q follow p on the ring by k' = 1 ..= n-2 positions.
        let (p, q, adjacent) = if k == n - 1 {
            (self.w(p0 + n - 1), p0, true)
        } else {
            (p0, self.w(p0 + k), k == 1)
        };
        let (u, v) = (self.tour[p], self.tour[q]);
        let up = self.at(p + n - 1);
        let vn = self.at(q + 1);
        self.pending = Pending::Swap { p, q };
        if adjacent {
            self.d(up, v) + self.d(u, vn) - self.d(up, u) - self.d(v, vn)
        } else {
            let un = self.at(p + 1);
            let vp = self.at(q + n - 1);
            self.d(up, v) + self.d(v, un) + self.d(vp, u) + self.d(u, vn)
                - self.d(up, u)
                - self.d(u, un)
                - self.d(vp, v)
                - self.d(v, vn)
        }
    }

    #[inline(always)]
    fn propose_or_opt<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        let n = self.n;
        let len = if self.or_max == 1 {
            1
        } else {
            rng.random_range(1..=self.or_max)
        };
        let s = rng.random_range(0..n);
        let m = rng.random_range(0..n - len - 1);
        let rev = len > 1 && rng.random_bool(0.5);
        let p = self.at(s + n - 1);
        let f = self.tour[s];
        let l = self.at(s + len - 1);
        let q = self.at(s + len);
        let g = self.w(s + len + m);
        let x = self.tour[g];
        let y = self.at(g + 1);
        self.pending = Pending::OrOpt { s, len, m, rev };
        let insert = if rev {
            self.d(x, l) + self.d(f, y)
        } else {
            self.d(x, f) + self.d(l, y)
        };
        self.d(p, q) - self.d(p, f) - self.d(l, q) - self.d(x, y) + insert
    }

    /// Reverses the ring segment of `len` positions starting at `start`.
    fn reverse(&mut self, start: usize, len: usize) {
        let n = self.n;
        let mut lo = start;
        let mut hi = self.w(start + len - 1);
        for _ in 0..len / 2 {
            self.tour.swap(lo, hi);
            lo = if lo + 1 == n { 0 } else { lo + 1 };
            hi = if hi == 0 { n - 1 } else { hi - 1 };
        }
    }

    fn apply_or_opt(&mut self, s: usize, len: usize, m: usize, rev: bool) {
        let n = self.n;
        let mut buf = [0usize; limits::OR_OPT_MAX];
        for (k, b) in buf.iter_mut().enumerate().take(len) {
            *b = self.at(s + k);
        }
        if rev {
            buf[..len].reverse();
        }
        // Cities strictly between the segment and the target edge, going forwards (M) and
        // backwards (M'): shift the shorter block over the segment's place.
        let ahead = m + 1;
        let behind = n - len - ahead;
        let first = if ahead <= behind {
            for k in 0..ahead {
                let src = self.w(s + len + k);
                let dst = self.w(s + k);
                self.tour[dst] = self.tour[src];
            }
            s + ahead
        } else {
            let start = self.w(s + len + ahead);
            for k in (0..behind).rev() {
                let src = self.w(start + k);
                let dst = self.w(start + len + k);
                self.tour[dst] = self.tour[src];
            }
            start
        };
        for (k, &c) in buf.iter().enumerate().take(len) {
            let dst = self.w(first + k);
            self.tour[dst] = c;
        }
    }
}

impl Problem for TspProblem {
    fn energy(&self) -> f64 {
        self.length
    }

    /// Draws a 2-opt, swap or or-opt move (by [`MoveMix`]) and returns its dE in O(1)
    /// without touching the tour. `kind` and `sigma` are ignored: the moves are discrete.
    #[inline]
    fn propose<R: Rng + ?Sized>(&mut self, _kind: ProposalKind, _sigma: f64, rng: &mut R) -> f64 {
        let de = match self.draw_kind(rng) {
            MoveKind::TwoOpt => self.propose_two_opt(rng),
            MoveKind::Swap => self.propose_swap(rng),
            MoveKind::OrOpt => self.propose_or_opt(rng),
        };
        self.pending_de = de;
        de
    }

    fn accept(&mut self) {
        let n = self.n;
        match self.pending {
            Pending::None => {
                debug_assert!(false, "accept without a pending move");
                return;
            }
            Pending::TwoOpt { i, k } => {
                if k <= n - k {
                    self.reverse(self.w(i + 1), k);
                } else {
                    self.reverse(self.w(i + k + 1), n - k);
                }
            }
            Pending::Swap { p, q } => self.tour.swap(p, q),
            Pending::OrOpt { s, len, m, rev } => self.apply_or_opt(s, len, m, rev),
        }
        self.pending = Pending::None;
        self.length += self.pending_de;
        self.accepted_since_refresh += 1;
        if self.accepted_since_refresh >= limits::REFRESH_EVERY {
            self.accepted_since_refresh = 0;
            self.length = tour_length(&self.xy, &self.tour);
        }
    }

    fn reject(&mut self) {
        self.pending = Pending::None;
    }

    fn store_best(&mut self) {
        self.best_tour.copy_from_slice(&self.tour);
        self.best_length = self.length;
    }
}

impl TspConfig {
    /// The observables a run on this config reports: the gaps only where the optimum is
    /// known.
    pub fn observables(&self) -> &'static [Observable] {
        if self.cities.known_optimum().is_some() {
            OBSERVABLES
        } else {
            OBSERVABLES_NO_OPTIMUM
        }
    }
}

impl Kind for TspProblem {
    fn observables(&self) -> &'static [Observable] {
        if self.known_optimum.is_some() {
            OBSERVABLES
        } else {
            OBSERVABLES_NO_OPTIMUM
        }
    }

    /// `[gap, best gap, C]` with a known optimum, else `[C]`; the gaps cost `O(n)` for
    /// berlin52 (its rounded length), `O(1)` otherwise.
    fn observe(&mut self, chain: &ChainStats, out: &mut [f64]) {
        let values = if self.known_optimum.is_some() {
            [
                self.gap_percent(),
                self.best_gap_percent(),
                chain.heat_capacity,
            ]
        } else {
            [chain.heat_capacity, f64::NAN, f64::NAN]
        };
        for (o, v) in out.iter_mut().zip(values) {
            *o = v;
        }
    }

    fn view(&self, request: &ViewRequest) -> ProblemView {
        ProblemView::Tsp(TspView {
            cities: Arc::clone(&self.xy),
            tour: self.tour.clone(),
            best_tour: if request.replica {
                Vec::new()
            } else {
                self.best_tour.clone()
            },
            length: self.length,
            best_length: self.best_length,
            known_optimum: self.known_optimum,
            tsplib: self.tsplib,
            gaps: [self.gap_percent(), self.best_gap_percent()],
            bhh_estimate: self.bhh_estimate(),
        })
    }

    fn state(&self) -> ProblemState {
        ProblemState::Tsp(self.tsp_state())
    }
}

/// Mean |dE| of `samples` proposals from the current tour (all rejected): a natural
/// starting temperature.
pub fn mean_abs_de<R: Rng + ?Sized>(p: &mut TspProblem, rng: &mut R, samples: usize) -> f64 {
    let mut sum = 0.0;
    for _ in 0..samples {
        sum += p.propose(ProposalKind::All, 0.0, rng).abs();
        p.reject();
    }
    sum / samples.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(cities: Cities, moves: MoveMix) -> TspConfig {
        TspConfig {
            cities,
            moves,
            start: Start::Random,
        }
    }

    /// Independent length: straightforward sum with `hypot`.
    fn length_by_hand(xy: &[[f64; 2]], tour: &[usize]) -> f64 {
        let n = tour.len();
        (0..n)
            .map(|k| {
                let (a, b) = (xy[tour[k]], xy[tour[(k + 1) % n]]);
                (a[0] - b[0]).hypot(a[1] - b[1])
            })
            .sum()
    }

    fn is_permutation(tour: &[usize]) -> bool {
        let mut seen = vec![false; tour.len()];
        tour.iter()
            .all(|&c| c < seen.len() && !std::mem::replace(&mut seen[c], true))
    }

    /// Canonical form of a closed undirected tour: starts at 0, second < last.
    fn canonical(tour: &[usize]) -> Vec<usize> {
        let n = tour.len();
        let z = tour
            .iter()
            .position(|&c| c == 0)
            .expect("city 0 is on the tour");
        let mut v: Vec<usize> = (0..n).map(|k| tour[(z + k) % n]).collect();
        if v[1] > v[n - 1] {
            v[1..].reverse();
        }
        v
    }

    /// All (n-1)!/2 closed tours of 0..n in canonical form.
    fn all_tours(n: usize) -> Vec<Vec<usize>> {
        fn rec(cur: &mut Vec<usize>, used: &mut [bool], out: &mut Vec<Vec<usize>>) {
            let n = used.len();
            if cur.len() == n {
                if cur[1] < cur[n - 1] {
                    out.push(cur.clone());
                }
                return;
            }
            for c in 1..n {
                if !used[c] {
                    used[c] = true;
                    cur.push(c);
                    rec(cur, used, out);
                    cur.pop();
                    used[c] = false;
                }
            }
        }
        let mut used = vec![false; n];
        used[0] = true;
        let mut out = Vec::new();
        rec(&mut vec![0], &mut used, &mut out);
        out
    }

    /// Exhaustive minimum over the (n-1)!/2 tours with a depth-first search (city 0 first,
    /// second city < last city), independent of the module's code. Returns (min, count).
    fn brute_force(xy: &[[f64; 2]]) -> (f64, u64) {
        let n = xy.len();
        let d = |a: usize, b: usize| (xy[a][0] - xy[b][0]).hypot(xy[a][1] - xy[b][1]);
        #[allow(clippy::too_many_arguments)]
        fn rec(
            d: &dyn Fn(usize, usize) -> f64,
            n: usize,
            path: &mut Vec<usize>,
            used: &mut [bool],
            len: f64,
            best: &mut f64,
            count: &mut u64,
        ) {
            let last = *path.last().expect("a path starts at city 0");
            if path.len() == n {
                if path[1] < last {
                    *count += 1;
                    *best = best.min(len + d(last, 0));
                }
                return;
            }
            for c in 1..n {
                if !used[c] {
                    used[c] = true;
                    path.push(c);
                    rec(d, n, path, used, len + d(last, c), best, count);
                    path.pop();
                    used[c] = false;
                }
            }
        }
        let mut used = vec![false; n];
        used[0] = true;
        let (mut best, mut count) = (f64::INFINITY, 0);
        rec(&d, n, &mut vec![0], &mut used, 0.0, &mut best, &mut count);
        (best, count)
    }

    /// Held-Karp dynamic programming: exact optimum for n <= ~16.
    fn held_karp(xy: &[[f64; 2]]) -> f64 {
        let n = xy.len();
        let d = |a: usize, b: usize| (xy[a][0] - xy[b][0]).hypot(xy[a][1] - xy[b][1]);
        let m = n - 1; // cities 1..n as bits 0..m
        let full = 1usize << m;
        let mut dp = vec![f64::INFINITY; full * m];
        for j in 0..m {
            dp[(1 << j) * m + j] = d(0, j + 1);
        }
        for mask in 1..full {
            for j in 0..m {
                let cur = dp[mask * m + j];
                if mask & (1 << j) == 0 || !cur.is_finite() {
                    continue;
                }
                for k in 0..m {
                    if mask & (1 << k) == 0 {
                        let nm = mask | (1 << k);
                        let v = cur + d(j + 1, k + 1);
                        if v < dp[nm * m + k] {
                            dp[nm * m + k] = v;
                        }
                    }
                }
            }
        }
        (0..m)
            .map(|j| dp[(full - 1) * m + j] + d(j + 1, 0))
            .fold(f64::INFINITY, f64::min)
    }

    /// Plain annealing driver: geometric cooling from `t0 = f0 * mean|dE|` to `t0 * ratio`
    /// over `steps` proposals. Returns the best length.
    fn anneal(p: &mut TspProblem, rng: &mut Pcg64Mcg, steps: u64, f0: f64, ratio: f64) -> f64 {
        let t0 = f0 * mean_abs_de(p, rng, 2000);
        let factor = ratio.powf(1.0 / steps as f64);
        let mut t = t0;
        p.store_best();
        let mut best = p.energy();
        for _ in 0..steps {
            let de = p.propose(ProposalKind::All, 0.0, rng);
            if de <= 0.0 || rng.random::<f64>() < (-de / t).exp() {
                p.accept();
                if p.energy() < best - 1e-12 {
                    best = p.energy();
                    p.store_best();
                }
            } else {
                p.reject();
            }
            t *= factor;
        }
        best
    }

    // ---------------------------------------------------------------- dE is exact

    fn check_moves(n: usize, moves: MoveMix, steps: usize, seed: u64) {
        let c = cfg(Cities::Uniform { n, seed }, moves.clone());
        let mut rng = Pcg64Mcg::seed_from_u64(seed ^ 0xabcdef);
        let mut p = TspProblem::new(&c, &mut rng).expect("valid config");
        let xy = p.cities().to_vec();
        assert_eq!(p.dist.is_some(), n <= limits::MATRIX_MAX);
        let mut accepted = 0;
        for step in 0..steps {
            let before_tour = p.tour().to_vec();
            let before = length_by_hand(&xy, &before_tour);
            let de = p.propose(ProposalKind::All, 0.0, &mut rng);
            assert!(de.is_finite());
            assert_eq!(p.tour(), &before_tour[..], "propose touched the tour");
            if rng.random_bool(0.5) {
                p.accept();
                accepted += 1;
                let after = length_by_hand(&xy, p.tour());
                let scale = before.max(1.0);
                assert!(
                    (after - before - de).abs() < 1e-9 * scale,
                    "n={n} {moves:?} step {step}: dE={de} but recomputed {}",
                    after - before
                );
                assert!((p.energy() - after).abs() < 1e-9 * scale);
                assert!(is_permutation(p.tour()));
                // (On 4 cities a swap of opposite cities only mirrors the ring.)
                if n > 4 {
                    assert_ne!(
                        canonical(p.tour()),
                        canonical(&before_tour),
                        "n={n} {moves:?}: an accepted move left the tour unchanged"
                    );
                }
            } else {
                p.reject();
                assert_eq!(p.tour(), &before_tour[..]);
            }
        }
        assert!(accepted > steps / 3);
    }

    #[test]
    fn de_matches_recomputed_length_for_every_move_kind() {
        for moves in [MoveMix::TWO_OPT, MoveMix::SWAP, MoveMix::OR_OPT] {
            for (n, steps) in [(4, 3000), (5, 3000), (6, 3000), (7, 3000), (10, 3000)] {
                for seed in 0..4 {
                    check_moves(n, moves.clone(), steps, seed);
                }
            }
            check_moves(57, moves.clone(), 5000, 9);
            check_moves(300, moves.clone(), 2000, 10);
            // Above MATRIX_MAX: distances on the fly.
            check_moves(401, moves.clone(), 1000, 13);
            check_moves(1203, moves.clone(), 300, 11);
        }
        check_moves(33, MoveMix::default(), 20000, 12);
    }

    #[test]
    fn every_move_kind_reaches_every_new_neighbour_on_small_rings() {
        // On 5 cities (12 tours), each kind alone must reach all other tours over time.
        let n = 5;
        for moves in [MoveMix::TWO_OPT, MoveMix::SWAP, MoveMix::OR_OPT] {
            let mut rng = Pcg64Mcg::seed_from_u64(3);
            let mut p = TspProblem::new(
                &cfg(Cities::Uniform { n, seed: 2 }, moves.clone()),
                &mut rng,
            )
            .expect("valid config");
            let mut seen = std::collections::HashSet::new();
            for _ in 0..5000 {
                p.propose(ProposalKind::All, 0.0, &mut rng);
                p.accept();
                seen.insert(canonical(p.tour()));
            }
            assert_eq!(seen.len(), 12, "{moves:?}");
        }
    }

    #[test]
    fn length_is_refreshed_against_drift() {
        let mut rng = Pcg64Mcg::seed_from_u64(5);
        let mut p = TspProblem::new(
            &cfg(Cities::Uniform { n: 40, seed: 5 }, MoveMix::default()),
            &mut rng,
        )
        .expect("valid config");
        // Inject a fake drift and check it is wiped out within REFRESH_EVERY accepts.
        p.length += 1e-3;
        for _ in 0..limits::REFRESH_EVERY {
            p.propose(ProposalKind::All, 0.0, &mut rng);
            p.accept();
        }
        let exact = length_by_hand(p.cities(), p.tour());
        assert!(
            (p.energy() - exact).abs() < 1e-9,
            "{} vs {exact}",
            p.energy()
        );
    }

    // ----------------------------------------------------- Boltzmann sampling (chi-square)

    /// Wilson-Hilferty 99.9% quantile of chi-square with `k` degrees of freedom.
    fn chi2_999(k: f64) -> f64 {
        let z = 3.090_232;
        let a = 2.0 / (9.0 * k);
        k * (1.0 - a + z * a.sqrt()).powi(3)
    }

    /// Runs the Metropolis chain at temperature `t_sd` × (standard deviation of all tour
    /// lengths) on `n` uniform cities and returns the chi-square statistic of the visited
    /// (canonical) tours against the exact Boltzmann distribution, and its degrees of freedom.
    fn boltzmann_chi2(n: usize, moves: &MoveMix, t_sd: f64, samples: u64, seed: u64) -> (f64, f64) {
        let cities = Cities::Uniform { n, seed: 21 };
        let xy = cities.positions();
        let tours = all_tours(n);
        let count = tours.len() as f64;
        let lengths: Vec<f64> = tours.iter().map(|t| length_by_hand(&xy, t)).collect();
        let mean = lengths.iter().sum::<f64>() / count;
        let sd = (lengths.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / count).sqrt();
        let t = t_sd * sd;
        let weights: Vec<f64> = lengths.iter().map(|l| (-(l - mean) / t).exp()).collect();
        let z: f64 = weights.iter().sum();
        let index: HashMap<Vec<usize>, usize> = tours
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, t)| (t, i))
            .collect();
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let mut p = TspProblem::new(&cfg(cities, moves.clone()), &mut rng).expect("valid config");
        let thin = 16;
        let burn_in = 1000 * thin;
        let mut counts = vec![0u64; tours.len()];
        for s in 0..burn_in + samples * thin {
            let de = p.propose(ProposalKind::All, 0.0, &mut rng);
            if de <= 0.0 || rng.random::<f64>() < (-de / t).exp() {
                p.accept();
            } else {
                p.reject();
            }
            if s >= burn_in && s % thin == 0 {
                counts[index[&canonical(p.tour())]] += 1;
            }
        }
        let total = counts.iter().sum::<u64>() as f64;
        let min_expected = weights
            .iter()
            .fold(f64::INFINITY, |a, &w| a.min(total * w / z));
        assert!(min_expected > 5.0, "too few samples: {min_expected}");
        let chi2 = counts
            .iter()
            .zip(&weights)
            .map(|(&c, w)| {
                let e = total * w / z;
                (c as f64 - e).powi(2) / e
            })
            .sum();
        (chi2, count - 1.0)
    }

    #[test]
    fn metropolis_chain_samples_boltzmann_distribution_over_tours() {
        // 6 cities (60 tours) for every move kind alone and the default mix, 7 cities (360
        // tours) for or-opt and the mix. (Checked to fail for state-dependent proposals, e.g.
        // choosing the or-opt orientation greedily: chi2 ~ 18700; redrawing 20% of uphill
        // 2-opts: chi2 ~ 3300.)
        let cases = [
            (6, MoveMix::TWO_OPT, 200_000),
            (6, MoveMix::SWAP, 200_000),
            (6, MoveMix::OR_OPT, 200_000),
            (6, MoveMix::default(), 200_000),
            (7, MoveMix::OR_OPT, 400_000),
            (7, MoveMix::default(), 400_000),
        ];
        for (k, (n, moves, samples)) in cases.into_iter().enumerate() {
            let (chi2, dof) = boltzmann_chi2(n, &moves, 1.0, samples, 100 + k as u64);
            let limit = chi2_999(dof);
            println!("chi2 n={n} {moves:?}: {chi2:.1} ({dof} dof, 99.9% = {limit:.1})");
            assert!(chi2 < limit, "n={n} {moves:?}: chi2 = {chi2} > {limit}");
        }
    }

    // ------------------------------------------------------------ known optima

    #[test]
    fn ten_cities_anneal_to_exhaustive_optimum_in_19_of_20_seeds() {
        let cities = Cities::Uniform { n: 10, seed: 2024 };
        let xy = cities.positions();
        let (opt, count) = brute_force(&xy);
        assert_eq!(count, 181_440); // (10-1)!/2
        let mut hits = 0;
        for seed in 0..20 {
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            let mut p = TspProblem::new(&cfg(cities.clone(), MoveMix::default()), &mut rng)
                .expect("valid config");
            let best = anneal(&mut p, &mut rng, 20_000, 1.0, 1e-3);
            assert!(best >= opt - 1e-9, "below the exhaustive optimum");
            assert!((length_by_hand(&xy, p.best_tour()) - best).abs() < 1e-9);
            if best - opt < 1e-9 {
                hits += 1;
            }
        }
        println!("10 cities: optimum {opt:.6}, reached in {hits}/20 seeds");
        assert!(hits >= 19, "reached the optimum in only {hits}/20 seeds");
    }

    #[test]
    fn known_optimum_formulas_match_exact_dynamic_programming() {
        for cities in [
            Cities::Circle { n: 5 },
            Cities::Circle { n: 12 },
            Cities::Grid { side: 2 },
            Cities::Grid { side: 3 },
            Cities::Grid { side: 4 },
        ] {
            let exact = held_karp(&cities.positions());
            let formula = cities.known_optimum().expect("a known optimum");
            println!("{cities:?}: Held-Karp {exact:.12}, formula {formula:.12}");
            assert!((exact - formula).abs() < 1e-9, "{cities:?}");
        }
        // Held-Karp against brute force, so the DP itself is checked.
        let xy = Cities::Uniform { n: 9, seed: 4 }.positions();
        assert!((held_karp(&xy) - brute_force(&xy).0).abs() < 1e-12);
    }

    /// An explicit tour of an odd `s × s` grid with s² - 1 unit steps and one diagonal.
    fn odd_grid_tour(s: usize) -> Vec<usize> {
        let mut t = Vec::new();
        t.extend((0..s).map(|x| (x, 0)));
        t.extend((1..s).map(|y| (s - 1, y)));
        let mut leftwards = true;
        for y in (3..s).rev() {
            if leftwards {
                t.extend((0..=s - 2).rev().map(|x| (x, y)));
            } else {
                t.extend((0..=s - 2).map(|x| (x, y)));
            }
            leftwards = !leftwards;
        }
        let mut down = true;
        for x in (2..=s - 2).rev() {
            if down {
                t.extend([(x, 2), (x, 1)]);
            } else {
                t.extend([(x, 1), (x, 2)]);
            }
            down = !down;
        }
        t.extend([(1, 2), (0, 2), (0, 1), (1, 1)]);
        t.into_iter().map(|(x, y)| y * s + x).collect()
    }

    #[test]
    fn odd_grids_have_a_tour_with_one_diagonal() {
        for s in [3, 5, 7, 9, 43] {
            let cities = Cities::Grid { side: s };
            let xy = cities.positions();
            let tour = odd_grid_tour(s);
            assert_eq!(tour.len(), s * s);
            assert!(is_permutation(&tour));
            let h = 1.0 / s as f64;
            let steps: Vec<f64> = (0..tour.len())
                .map(|k| {
                    let (a, b) = (xy[tour[k]], xy[tour[(k + 1) % tour.len()]]);
                    (a[0] - b[0]).hypot(a[1] - b[1]) / h
                })
                .collect();
            let diagonals = steps
                .iter()
                .filter(|&&x| (x - 2f64.sqrt()).abs() < 1e-9)
                .count();
            let units = steps.iter().filter(|&&x| (x - 1.0).abs() < 1e-9).count();
            assert_eq!((units, diagonals), (s * s - 1, 1), "side {s}");
            let len = length_by_hand(&xy, &tour);
            assert!((len - cities.known_optimum().expect("a known optimum")).abs() < 1e-9);
        }
    }

    fn anneal_gap(cities: Cities, steps: u64, seed: u64) -> (f64, f64) {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let mut p =
            TspProblem::new(&cfg(cities, MoveMix::default()), &mut rng).expect("valid config");
        let best = anneal(&mut p, &mut rng, steps, 1.0, 1e-4);
        (best, p.best_gap_percent())
    }

    #[test]
    fn circle_and_grid_anneal_to_within_2_percent_of_optimum() {
        for cities in [
            Cities::Circle { n: 50 },
            Cities::Grid { side: 8 },
            Cities::Grid { side: 7 },
        ] {
            let opt = cities.known_optimum().expect("a known optimum");
            let (best, gap) = anneal_gap(cities.clone(), 3_000_000, 7);
            println!("{cities:?}: best {best:.6}, optimum {opt:.6}, gap {gap:.3}%");
            assert!(best >= opt - 1e-9);
            assert!((gap - 100.0 * (best - opt) / opt).abs() < 1e-6);
            assert!(gap < 2.0, "{cities:?}: gap {gap}%");
        }
    }

    // ------------------------------------------------------------------ berlin52

    /// TSPLIB berlin52.opt.tour (1-based, as published).
    const BERLIN52_OPT_TOUR: [usize; 52] = [
        1, 49, 32, 45, 19, 41, 8, 9, 10, 43, 33, 51, 11, 52, 14, 13, 47, 26, 27, 28, 12, 25, 4, 6,
        15, 5, 24, 48, 38, 37, 40, 39, 36, 35, 34, 44, 46, 16, 29, 50, 20, 23, 30, 2, 7, 42, 21,
        17, 3, 18, 31, 22,
    ];

    #[test]
    fn berlin52_published_optimal_tour_has_euc2d_length_7542() {
        let tour: Vec<usize> = BERLIN52_OPT_TOUR.iter().map(|c| c - 1).collect();
        assert!(is_permutation(&tour));
        // EUC_2D by hand: nint of each edge, in integers.
        let n = tour.len();
        let mut total: i64 = 0;
        for k in 0..n {
            let (a, b) = (BERLIN52[tour[k]], BERLIN52[tour[(k + 1) % n]]);
            let d = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
            total += (d + 0.5) as i64;
        }
        assert_eq!(total, 7542);
        assert_eq!(euc2d_length(&BERLIN52, &tour), 7542.0);
        let euclid = length_by_hand(&BERLIN52, &tour);
        println!("berlin52 optimal tour: EUC_2D {total}, Euclidean {euclid:.6}");
        // Rounding hides small coordinate errors; the unrounded length of this tour,
        // 7544.365901904086, is widely quoted and catches them.
        assert!((euclid - 7544.365901904086).abs() < 1e-6, "{euclid}");
        // The gap of the optimal tour is 0 when computed in EUC_2D units.
        let mut rng = Pcg64Mcg::seed_from_u64(0);
        let mut p = TspProblem::new(
            &TspConfig {
                cities: Cities::Berlin52,
                moves: MoveMix::default(),
                start: Start::Given,
            },
            &mut rng,
        )
        .expect("valid config");
        p.tour.copy_from_slice(&tour);
        p.length = tour_length(&BERLIN52, &tour);
        p.store_best();
        assert_eq!(p.gap_percent(), 0.0);
        let chain = ChainStats {
            temperature: 1.0,
            heat_capacity: 2.5,
        };
        let mut out = [f64::NAN; 3];
        p.observe(&chain, &mut out);
        assert_eq!(out, [0.0, 0.0, 2.5]);
        assert_eq!(p.observables(), OBSERVABLES);
        let s = p.tsp_state();
        assert_eq!(s.best_tsplib_length, Some(7542.0));
        assert_eq!(s.best_gap_percent, Some(0.0));
    }

    // ----------------------------------------------------------------- config & state

    #[test]
    fn validation_names_the_field() {
        let field = |c: TspConfig| c.validate().expect_err("invalid").field;
        let with = |cities: Cities| TspConfig {
            cities,
            ..TspConfig::default()
        };
        let moves = |two_opt, swap, or_opt| TspConfig {
            moves: MoveMix {
                two_opt,
                swap,
                or_opt,
            },
            ..TspConfig::default()
        };
        assert_eq!(TspConfig::default().validate(), Ok(()));
        assert_eq!(field(with(Cities::Uniform { n: 3, seed: 0 })), "cities.n");
        assert_eq!(
            field(with(Cities::Uniform { n: 2001, seed: 0 })),
            "cities.n"
        );
        assert!(with(Cities::Uniform { n: 4, seed: 0 }).validate().is_ok());
        assert!(
            with(Cities::Uniform { n: 2000, seed: 0 })
                .validate()
                .is_ok()
        );
        assert_eq!(field(with(Cities::Circle { n: 3 })), "cities.n");
        let clustered = |n, clusters| {
            with(Cities::Clustered {
                n,
                clusters,
                seed: 0,
            })
        };
        assert_eq!(field(clustered(1, 1)), "cities.n");
        assert_eq!(field(clustered(10, 0)), "cities.clusters");
        assert_eq!(field(clustered(10, 11)), "cities.clusters");
        assert_eq!(field(clustered(1000, 101)), "cities.clusters");
        assert!(clustered(10, 10).validate().is_ok());
        assert_eq!(field(with(Cities::Grid { side: 1 })), "cities.side");
        assert_eq!(field(with(Cities::Grid { side: 45 })), "cities.side");
        assert_eq!(
            field(with(Cities::List(vec![[0.0, 0.0]; 3]))),
            "cities.List.len"
        );
        assert_eq!(
            field(with(Cities::List(vec![[0.0, 0.0]; 2001]))),
            "cities.List.len"
        );
        let mut list = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        assert!(with(Cities::List(list.clone())).validate().is_ok());
        list[2][1] = f64::NAN;
        assert_eq!(field(with(Cities::List(list.clone()))), "cities.List[2].y");
        list[2][1] = 0.5;
        list[3][0] = f64::INFINITY;
        assert_eq!(field(with(Cities::List(list))), "cities.List[3].x");
        assert_eq!(field(moves(-0.1, 1.0, 1.0)), "moves.two_opt");
        assert_eq!(field(moves(1.0, -1.0, 1.0)), "moves.swap");
        assert_eq!(field(moves(1.0, 1.0, f64::NAN)), "moves.or_opt");
        assert_eq!(field(moves(0.0, 0.0, 0.0)), "moves");
        assert!(moves(0.0, 0.0, 2.0).validate().is_ok());
        // new() refuses what validate refuses.
        let mut rng = Pcg64Mcg::seed_from_u64(0);
        assert!(TspProblem::new(&moves(0.0, 0.0, 0.0), &mut rng).is_err());
    }

    #[test]
    fn config_round_trips_through_ron_and_refuses_unknown_fields() {
        let c = TspConfig {
            cities: Cities::Clustered {
                n: 200,
                clusters: 5,
                seed: 3,
            },
            moves: MoveMix {
                two_opt: 1.0,
                swap: 0.0,
                or_opt: 0.5,
            },
            start: Start::Given,
        };
        let text = ron::to_string(&c).expect("RON");
        assert_eq!(ron::from_str::<TspConfig>(&text).expect("RON"), c);
        let c: TspConfig = ron::from_str("(cities: Grid(side: 6))").expect("RON");
        assert_eq!(c.cities, Cities::Grid { side: 6 });
        assert_eq!(c.moves, MoveMix::default());
        let c: TspConfig = ron::from_str("(cities: Berlin52, start: Given)").expect("RON");
        assert_eq!(c.cities, Cities::Berlin52);
        let c: TspConfig =
            ron::from_str("(cities: List([(0, 0), (1, 0), (1, 1), (0.5, 2)]))").expect("RON");
        assert_eq!(c.cities.n(), 4);
        assert!(ron::from_str::<TspConfig>("(city: Berlin52)").is_err());
        assert!(ron::from_str::<TspConfig>("(cities: Grid(side: 6, h: 1))").is_err());
        assert!(ron::from_str::<TspConfig>("(moves: (two_opt: 1, three_opt: 1))").is_err());
        // A weight left out of a given mix is 0, not its default-mix value.
        let c: TspConfig = ron::from_str("(moves: (two_opt: 1))").expect("RON");
        assert_eq!(c.moves, MoveMix::TWO_OPT);
        let c: TspConfig = ron::from_str("(moves: (two_opt: 4, or_opt: 1))").expect("RON");
        assert_eq!(
            c.moves,
            MoveMix {
                two_opt: 4.0,
                swap: 0.0,
                or_opt: 1.0
            }
        );
        let c: TspConfig = ron::from_str("(moves: ())").expect("RON");
        assert_eq!(c.validate().expect_err("invalid").field, "moves");
    }

    #[test]
    fn instances_are_deterministic_and_inside_the_unit_square() {
        for cities in [
            Cities::Uniform { n: 500, seed: 8 },
            Cities::Clustered {
                n: 500,
                clusters: 7,
                seed: 8,
            },
            Cities::Circle { n: 30 },
            Cities::Grid { side: 9 },
        ] {
            let a = cities.positions();
            assert_eq!(a, cities.positions());
            assert_eq!(a.len(), cities.n());
            assert!(a.iter().all(|p| p.iter().all(|v| (0.0..=1.0).contains(v))));
        }
        let u1 = Cities::Uniform { n: 50, seed: 1 }.positions();
        assert_ne!(u1, Cities::Uniform { n: 50, seed: 2 }.positions());
        // Clustered cities lie near their centres: the mean nearest-neighbour distance is far
        // below that of uniform cities.
        let nn = |xy: &[[f64; 2]]| {
            xy.iter()
                .enumerate()
                .map(|(i, a)| {
                    xy.iter()
                        .enumerate()
                        .filter(|&(j, _)| j != i)
                        .map(|(_, b)| euclid(*a, *b))
                        .fold(f64::INFINITY, f64::min)
                })
                .sum::<f64>()
                / xy.len() as f64
        };
        let clustered = Cities::Clustered {
            n: 500,
            clusters: 5,
            seed: 1,
        }
        .positions();
        let uniform = Cities::Uniform { n: 500, seed: 1 }.positions();
        assert!(nn(&clustered) < 0.5 * nn(&uniform));
    }

    #[test]
    fn start_given_follows_list_order_and_state_serializes() {
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        let c = TspConfig {
            cities: Cities::Circle { n: 20 },
            moves: MoveMix::default(),
            start: Start::Given,
        };
        let mut p = TspProblem::new(&c, &mut rng).expect("valid config");
        assert_eq!(p.tour(), (0..20).collect::<Vec<_>>().as_slice());
        assert!(p.gap_percent().abs() < 1e-9);
        let random = TspProblem::new(&cfg(Cities::Circle { n: 20 }, MoveMix::default()), &mut rng)
            .expect("valid config");
        assert!(is_permutation(random.tour()));
        assert!(random.gap_percent() > 50.0);
        // Unknown optimum: NaN gap.
        let u = TspProblem::new(&TspConfig::default(), &mut rng).expect("valid config");
        assert_eq!(u.n(), 100);
        assert!(u.gap_percent().is_nan());
        assert_eq!(u.observables(), OBSERVABLES_NO_OPTIMUM);
        assert_eq!(TspConfig::default().observables(), OBSERVABLES_NO_OPTIMUM);
        let mut out = [f64::NAN];
        u.clone().observe(
            &ChainStats {
                temperature: 1.0,
                heat_capacity: 3.0,
            },
            &mut out,
        );
        assert_eq!(out, [3.0]);
        assert_eq!(u.bhh_estimate(), Some(BHH_BETA * 10.0));
        assert_eq!(p.bhh_estimate(), None);
        let us = u.tsp_state();
        assert_eq!((us.best_tsplib_length, us.best_gap_percent), (None, None));
        assert_eq!(u.known_optimum(), None);
        // Best tour is a copy, not a view.
        p.store_best();
        let best = p.best_tour().to_vec();
        for _ in 0..100 {
            p.propose(ProposalKind::All, 0.0, &mut rng);
            p.accept();
        }
        assert_eq!(p.best_tour(), &best[..]);
        let s = p.tsp_state();
        let json = serde_json::to_value(&s).expect("JSON");
        assert_eq!(json["cities"].as_array().expect("an array").len(), 20);
        assert_eq!(json["tour"].as_array().expect("an array").len(), 20);
        assert_eq!(json["best_tour"].as_array().expect("an array").len(), 20);
        let recomputed = length_by_hand(&s.cities, &s.tour);
        assert!((json["length"].as_f64().expect("a number") - recomputed).abs() < 1e-9);
        assert!((s.best_length - length_by_hand(&s.cities, &s.best_tour)).abs() < 1e-9);
        assert_eq!(json["known_optimum"].as_f64(), c.cities.known_optimum());
        // Clones share the distance table; a swapped problem keeps working.
        let mut q = p.clone();
        std::mem::swap(&mut p, &mut q);
        p.propose(ProposalKind::All, 0.0, &mut rng);
        p.accept();
        assert!((p.energy() - length_by_hand(p.cities(), p.tour())).abs() < 1e-9);
    }

    #[test]
    fn build_makes_the_same_problems_as_repeated_new_sharing_the_cities() {
        for start in [Start::Random, Start::Given] {
            let c = TspConfig {
                cities: Cities::Uniform { n: 30, seed: 3 },
                moves: MoveMix::default(),
                start,
            };
            let mut a = Pcg64Mcg::seed_from_u64(9);
            let mut b = a.clone();
            let built = TspProblem::build(&c, 4, &mut a).expect("valid config");
            assert_eq!(built.len(), 4);
            for p in &built {
                let q = TspProblem::new(&c, &mut b).expect("valid config");
                assert_eq!(p.tour(), q.tour());
                assert_eq!(p.best_tour(), q.tour());
                assert_eq!(p.energy(), q.energy());
                assert!(Arc::ptr_eq(&p.xy, &built[0].xy));
            }
            // The generators were left in the same place.
            assert_eq!(a.random::<u64>(), b.random::<u64>());
            if start == Start::Random {
                assert_ne!(built[0].tour(), built[1].tour());
            }
        }
    }

    #[test]
    fn view_shows_both_tours_and_a_replica_only_the_current_one() {
        let mut rng = Pcg64Mcg::seed_from_u64(2);
        let mut p = TspProblem::new(&cfg(Cities::Grid { side: 4 }, MoveMix::default()), &mut rng)
            .expect("valid config");
        p.store_best();
        p.propose(ProposalKind::All, 0.0, &mut rng);
        p.accept();
        let full = ViewRequest {
            grid: 0,
            replica: false,
        };
        let ProblemView::Tsp(v) = p.view(&full) else {
            panic!("a tour's view");
        };
        assert_eq!(v.tour, p.tour());
        assert_eq!(v.best_tour, p.best_tour());
        assert_ne!(v.tour, v.best_tour);
        assert_eq!(v.cities.len(), 16);
        assert_eq!(v.known_optimum, Some(1.0 * 16.0 / 4.0));
        assert!((v.gaps[0] - 100.0 * (p.length() / 4.0 - 1.0)).abs() < 1e-9);
        assert_eq!(v.bhh_estimate, None);
        let ProblemView::Tsp(r) = p.view(&ViewRequest {
            grid: 0,
            replica: true,
        }) else {
            panic!("a tour's view");
        };
        assert!(r.best_tour.is_empty());
        let ProblemState::Tsp(s) = p.state() else {
            panic!("a tour's state");
        };
        assert_eq!(s.best_tour, p.best_tour());
    }
}
