//! # The Ising model on the L x L square-lattice torus
//!
//! The fruit fly of statistical mechanics, and the model simulated annealing was named after.
//! Spins `s_i = ±1` sit on an `L x L` square lattice with periodic boundaries (a torus, so
//! every site has four neighbours and there are `2N` bonds, `N = L²`). The energy is
//!
//! ```text
//! E(s) = - Σ_<ij> J_ij s_i s_j  -  h Σ_i s_i
//! ```
//!
//! where `<ij>` runs over the `2N` nearest-neighbour bonds (each once) and `h` is an external
//! field. Couplings ([`Coupling`]):
//! - `Ferro { j }`: `J_ij = j` on every bond (`j > 0` ferromagnet, `j < 0` antiferromagnet);
//! - `SpinGlass { seed }`: the Edwards–Anderson ±J glass, `J_ij = ±1` independently with
//!   probability 1/2 per bond, drawn from `seed` (Edwards & Anderson, J. Phys. F 5, 965 (1975)).
//!   The draw is: `Pcg64Mcg::seed_from_u64(seed)`, one `next_u64()` per site in row-major order,
//!   bit 63 gives the bond to the right neighbour (`1` → +1, `0` → −1) and bit 62 the bond to
//!   the neighbour below. [`IsingState`] also carries the signs, so nobody needs to redo this.
//!
//! Internally every coupling is a scale `j` (1 for the glass) times a sign `b_ij = ±1`, and the
//! state keeps the two integers `B = Σ_<ij> b_ij s_i s_j` and `M = Σ_i s_i`: recomputed from
//! the spins after every single-spin sweep (a vectorised pass, ~0.1 ns per spin, cheaper than
//! bookkeeping inside the flip loop) and updated flip by flip (`ΔB = -2 s_i n_i`,
//! `ΔM = -2 s_i`) inside Wolff steps. `E = -j B - h M` is therefore exact at all times (no drift:
//! nothing is accumulated in floating point), and recomputing it from scratch gives
//! bit-identical results.
//!
//! ## Dynamics: one engine step = one sweep
//! The problem moves itself ([`Problem::sweep`]); `propose`/`accept`/`reject` are never called
//! (`propose` returns `+inf`, so a misrouted engine would reject it; the others are no-ops).
//! At temperature `T` one sweep is:
//! - **Metropolis** (Metropolis et al., J. Chem. Phys. 21, 1087 (1953)): `N` attempted single-spin
//!   flips, each accepted with probability `min(1, exp(-ΔE/T))`, where flipping `s_i` costs
//!   `ΔE = 2 s_i (j n_i + h)` with the local sum `n_i = Σ_{j∈nb(i)} b_ij s_j ∈ {-4,-2,0,2,4}`.
//! - **Heat bath / Glauber** (Glauber, J. Math. Phys. 4, 294 (1963)): `N` single-site updates,
//!   each setting `s_i = +1` with probability `1/(1+exp(-2 h_i/T))`, `h_i = j n_i + h`,
//!   independently of the old `s_i`. Equivalently: flip with probability `1/(1+exp(ΔE/T))`.
//!   "accepted" counts the updates that changed the spin.
//! - Site order `Random` (each of the `N` updates picks a uniformly random site) or
//!   `Checkerboard` (all sites with `x+y` even in row-major order, then all odd ones; for even
//!   `L` the two sublattices do not interact, for odd `L` this is simply a fixed sequential order).
//!   Every single-site update leaves the Boltzmann distribution invariant (detailed balance), so
//!   every order and every mixture of them samples it exactly.
//! - **Wolff** (Wolff, Phys. Rev. Lett. 62, 361 (1989); bond probability of Swendsen & Wang,
//!   PRL 58, 86 (1987)): grow a cluster from a random seed site, adding each satisfied bond
//!   (`J_ij s_i s_j > 0`) with probability `p = 1 - exp(-2|j|/T)`, flip the whole cluster
//!   (always accepted). One step is a fixed number `n_c(L, T/|j|) ≈ N/<|C|>` of clusters, so
//!   that about `N` spins flip per step on average (reported attempted = accepted = spins
//!   flipped). The count is fixed before the step from `L` and `T` alone: the tempting rule
//!   "grow clusters until their sizes add up to `N`" stops at a time that depends on the
//!   clusters, over-weights the state after a large cluster and is measurably biased (L = 16,
//!   T = 2.5: `e = -1.2034` against the exact `-1.1313`). `n_c` uses the exact identity
//!   `<|C|> = <M²>/N` with a fitted approximation of `<M²>` (see `wolff_clusters`). Only for
//!   `Ferro` couplings (either sign) and `h = 0`. The count assumes equilibrium: from a
//!   disordered lattice far below `T_c` the clusters are small, so a step flips far fewer than
//!   `N` spins until the lattice has ordered (start such runs `Up`, or cool through `T_c`).
//!
//! `T <= 0` or NaN is treated as `T → 0+` (only downhill moves and, for heat bath, a coin flip
//! on `ΔE = 0`); `T = +inf` accepts everything (heat bath: probability 1/2). Note that
//! Metropolis in checkerboard order at `T = +inf` flips *every* spin every sweep: a periodic,
//! non-ergodic chain (a classic pitfall worth showing); random order or heat bath randomise.
//!
//! ### How it is fast
//! Spins are `i8`. For a given `T`, `j`, `h` the ten possible acceptance probabilities (five
//! local sums × two spin values) are precomputed as 32-bit fixed-point thresholds
//! `floor(p·2³²)`; a flip is accepted iff a raw 32-bit random integer is below the threshold
//! (resolution 2⁻³² ≈ 2·10⁻¹⁰ in probability; no `exp`, no division, no branch per flip). The
//! random numbers come from a xoshiro256++ generator (Blackman & Vigna, ACM TOMS 47, 36 (2021))
//! seeded afresh from the engine's `rng` at every sweep, so the result is a deterministic
//! function of the engine's rng state. Random sites are drawn by multiply-shift (Lemire, ACM
//! TOMACS 29, 3 (2019)); for `L` not a power of two site probabilities differ from `1/N` by at
//! most ~`N/2³²` relative, which changes the speed of mixing but not the stationary
//! distribution (see above). Checkerboard rows are processed with borrowed row slices, the
//! wrap-around only at the two edge columns, one (non-inlined) loop per row so that all its
//! pointers stay in registers; the random words for a row are generated first into a small
//! buffer. Measured on one core of a current x86-64 server (`target-cpu=native`), otherwise
//! idle: ~0.45 attempted flips/ns in checkerboard order at L = 512, ~0.22 in random order (five
//! scattered loads per flip), Wolff ~0.08 spins/ns near `T_c`; `annealscope bench` measures
//! them on the machine at hand ([`bench_flips_per_ns`] is the module's own loop).
//!
//! ## Observables ([`OBSERVABLES`])
//! `energy_per_spin e = E/N`, `abs_magnetisation |m| = |M|/N`, `magnetisation m = M/N`, and two
//! fluctuation estimates from a window over the recent sweeps (see [`Fluctuations`]):
//! ```text
//! C   = N Var(e) / T²      heat capacity per spin (fluctuation-dissipation: C = dU/dT / N)
//! chi = N Var(|m|) / T     susceptibility per spin (the finite-lattice chi' of |m|)
//! ```
//! The window holds the last [`WINDOW`] sweeps; only the newest run of sweeps whose
//! temperature lies within [`WINDOW_TOLERANCE`] (relative) of the current one is used, so a
//! reheat or a tempering exchange starts a fresh window. While `T` changes inside the window
//! (annealing), the drift of `e` and `|m|` is removed first (a least-squares line in the sweep
//! index), so that cooling itself is not counted as a fluctuation. The window is filled in
//! every sweep (the engine evaluates observables only every few steps) and costs O(1) per
//! sweep. A window shorter than the autocorrelation time (near `T_c` with single-spin updates)
//! underestimates both: that is the critical slowing down a lecture wants to show, not a bug.
//!
//! ## Exact results (for checking the sampler, and for teaching)
//! With `J = 1`, `h = 0`, `K = 1/T` (units `k_B = J = 1`):
//! - **Critical temperature** (Kramers & Wannier, Phys. Rev. 60, 252 (1941); Onsager 1944):
//!   `T_c = 2 / ln(1 + √2) ≈ 2.269185` ([`T_C`]).
//! - **Onsager's infinite lattice** (Onsager, Phys. Rev. 65, 117 (1944); written as in
//!   K. Huang, *Statistical Mechanics*, 2nd ed., §15.3): with `κ = 2 sinh 2K / cosh² 2K` and
//!   `κ'' = 2 tanh² 2K - 1` (note `√(1-κ²) = |κ''|`),
//!   ```text
//!   u(T) = -coth 2K [1 + (2/π) κ'' K₁(κ)]                         (energy per spin)
//!   c(T) = (2/π)(K coth 2K)² { 2K₁(κ) - 2E₁(κ) - (1-κ'')[π/2 + κ'' K₁(κ)] }   (heat capacity)
//!   ```
//!   with complete elliptic integrals `K₁(k) = ∫₀^{π/2} dφ/√(1-k² sin²φ)` and
//!   `E₁(k) = ∫₀^{π/2} √(1-k² sin²φ) dφ`, computed by the arithmetic–geometric mean
//!   (Abramowitz & Stegun 17.6; DLMF 19.8.1, 19.8.6):
//!   `K₁(k) = π / (2 AGM(1, k'))`, `E₁(k) = K₁(k) (1 - Σ_{n≥0} 2^{n-1} c_n²)` with `c_0 = k`,
//!   `c_{n+1} = (a_n - b_n)/2`, `k' = √(1-k²)`. [`ellip_k`], [`ellip_e`], [`onsager_energy`],
//!   [`onsager_heat_capacity`]; `u(T_c) = -√2` and `c` diverges logarithmically at `T_c`.
//! - **Spontaneous magnetisation** (Onsager 1949 announcement; proof C. N. Yang, Phys. Rev. 85,
//!   808 (1952)): `m(T) = (1 - sinh(2K)^{-4})^{1/8}` for `T < T_c`, `0` above
//!   ([`yang_magnetisation`]).
//! - **Kaufman's finite torus** (B. Kaufman, Phys. Rev. 76, 1232 (1949); in the form of
//!   A. E. Ferdinand & M. E. Fisher, Phys. Rev. 185, 832 (1969), also P. D. Beale, PRL 76, 78
//!   (1996)): for an `m x n` torus (`m = n = L` here)
//!   ```text
//!   Z = ½ (2 sinh 2K)^{mn/2} (Z₁ + Z₂ + Z₃ + Z₄)
//!   Z₁ = Π_{r=0}^{n-1} 2 cosh(m γ_{2r+1}/2)     Z₂ = Π_{r=0}^{n-1} 2 sinh(m γ_{2r+1}/2)
//!   Z₃ = Π_{r=0}^{n-1} 2 cosh(m γ_{2r}/2)       Z₄ = Π_{r=0}^{n-1} 2 sinh(m γ_{2r}/2)
//!   cosh γ_l = cosh 2K coth 2K - cos(π l / n)  (γ_l > 0 for l ≠ 0),   γ_0 = 2K + ln tanh K.
//!   ```
//!   `γ_0` changes sign at `T_c` (negative above), so `Z₄ < 0` for `T > T_c`. [`kaufman`] sums
//!   the four terms in log space with their signs (each product is kept as a logarithm plus a
//!   signed O(1) factor) and obtains `U = -∂ ln Z/∂K` and `C = K² ∂² ln Z/∂K²` from exact
//!   analytic derivatives of every factor (`γ_l' = c'/sinh γ_l`,
//!   `γ_l'' = (c'' - cosh γ_l γ_l'²)/sinh γ_l` with `c(K) = cosh 2K coth 2K`;
//!   `γ_0' = 2 + 2/sinh 2K`, `γ_0'' = -4 cosh 2K / sinh² 2K`). The second derivative of
//!   `ln Σ Z_i` is evaluated as `Σ_i w_i [f_i'' + 2 f_i'(p_i' - ā) + f_i((p_i' - ā)² + p_i'')]`
//!   with `Z_i = e^{p_i} f_i`, weights `w_i = e^{p_i}/Σ e^{p_i} f_i` and `ā = ∂ ln Σ Z_i/∂K`
//!   — a centred form without the large cancellation of `Z''/Z - (Z'/Z)²`; `cosh γ_l - 1` is
//!   computed as `(s-1)²/s + 2 sin²(θ/2)` (`s = sinh 2K`), free of cancellation. Checked
//!   against exhaustive enumeration and against Onsager's limit in the tests.
//! - **Exhaustive enumeration** ([`DensityOfStates::enumerate`]) of all `2^N` states of a small
//!   lattice (Gray-code order, O(1) per state) for *any* couplings, giving the exact density of
//!   states `g(B, M)`; from it the exact Boltzmann distribution of `(E, M)` at any `T`, `h`,
//!   `ln Z`, `U`, `C = Var(E)/T²`, `<|M|>` and the ground-state energy (spin glasses included).
//!
//! ## Estimators used in the tests (`tests/ising.rs`)
//! Means with standard errors from blocking (Flyvbjerg & Petersen, J. Chem. Phys. 91, 461
//! (1989)): the time series is cut into blocks much longer than the autocorrelation time and
//! the error is the spread of block means; the heat capacity `C = N Var(e)/T²` (`e = E/N`) gets
//! its error from a jackknife over the same blocks (M. Newman & G. Barkema, *Monte Carlo Methods
//! in Statistical Physics* (1999), §3.4).

use std::f64::consts::{FRAC_PI_2, PI, SQRT_2};
use std::sync::Arc;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

use super::config::{RangeError, check};
use super::problem::{Problem, ProposalKind, Sweep};
use super::problems::{
    ChainStats, Kind, Observable, PlotKind, ProblemState, ProblemView, ViewRequest,
};

/// Allowed ranges of the configuration.
pub mod limits {
    use std::ops::RangeInclusive;
    /// Lattice side `L` (the lattice has `L²` spins).
    pub const SIZE: RangeInclusive<usize> = 8..=1024;
    /// Uniform coupling `j` of `Coupling::Ferro` (negative: antiferromagnet).
    pub const J: RangeInclusive<f64> = -10.0..=10.0;
    /// External field `h`.
    pub const FIELD: RangeInclusive<f64> = -10.0..=10.0;
    /// Most spins [`super::DensityOfStates::enumerate`] accepts (it visits `2^N` states).
    pub const ENUM_SPINS: usize = 30;
}

/// Critical temperature of the square-lattice ferromagnet with `J = 1`: `2 / ln(1 + √2)`.
pub const T_C: f64 = 2.269_185_314_213_022;

/// Sweeps kept for the fluctuation estimates of `C` and `chi`.
pub const WINDOW: usize = 1024;
/// Relative temperature band of the window: sweeps at `|T_i - T| <= WINDOW_TOLERANCE * T`.
pub const WINDOW_TOLERANCE: f64 = 0.02;
/// Fewest sweeps in the window for an estimate (NaN below).
pub const WINDOW_MIN: usize = 32;

/// What an Ising run reports besides its energy, in CSV order.
pub const OBSERVABLES: &[Observable] = &[
    Observable {
        column: "energy_per_spin",
        label: "e",
        tip: "Energy per spin e = E/N: -2 in a ferromagnet's ground state, 0 at infinite temperature",
        plot: PlotKind::Steps {
            title: "energy per spin",
            fraction: false,
        },
        status: true,
    },
    Observable {
        column: "abs_magnetisation",
        label: "|m|",
        tip: "|M|/N: near 1 in an ordered phase, near 0 (as 1/L) in the disordered phase above T_c",
        plot: PlotKind::Steps {
            title: "magnetisation",
            fraction: false,
        },
        status: true,
    },
    Observable {
        column: "magnetisation",
        label: "m",
        tip: "M/N with its sign: which way the lattice ordered (a field chooses)",
        plot: PlotKind::Steps {
            title: "magnetisation",
            fraction: false,
        },
        status: false,
    },
    Observable {
        column: "heat_capacity",
        label: "C",
        tip: "Heat capacity per spin C = N Var(e)/T^2 over the recent sweeps at this T: peaks at the phase transition",
        plot: PlotKind::Steps {
            title: "heat capacity per spin",
            fraction: false,
        },
        status: false,
    },
    Observable {
        column: "susceptibility",
        label: "chi",
        tip: "Susceptibility per spin chi = N Var(|m|)/T over the recent sweeps at this T: how much the magnetisation fluctuates; peaks near T_c",
        plot: PlotKind::Steps {
            title: "susceptibility per spin",
            fraction: false,
        },
        status: false,
    },
];

/// RGBA colour of an up spin in [`IsingProblem::paint_rgba`] (amber).
pub const UP_RGBA: [u8; 4] = [0xF4, 0xA2, 0x3B, 0xFF];
/// RGBA colour of a down spin in [`IsingProblem::paint_rgba`] (navy).
pub const DOWN_RGBA: [u8; 4] = [0x1B, 0x2A, 0x4A, 0xFF];

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// The couplings `J_ij` on the bonds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Coupling {
    /// The same coupling `j` on every bond: `j > 0` ferromagnet, `j < 0` antiferromagnet.
    Ferro {
        /// Coupling strength.
        j: f64,
    },
    /// Edwards–Anderson spin glass: `J_ij = ±1` with probability 1/2 each, drawn from `seed`.
    SpinGlass {
        /// Seed of the coupling draw (the same seed and size give the same instance).
        seed: u64,
    },
}

impl Default for Coupling {
    fn default() -> Self {
        Coupling::Ferro { j: 1.0 }
    }
}

/// Order in which a sweep visits the sites.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Order {
    /// `N` uniformly random sites (with repetition).
    Random,
    /// Every site once: the `x+y` even sublattice row by row, then the odd one (fastest).
    #[default]
    Checkerboard,
}

/// The Monte Carlo move of one sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Update {
    /// Single-spin flips accepted with `min(1, exp(-ΔE/T))`.
    Metropolis {
        /// Site order.
        #[serde(default)]
        order: Order,
    },
    /// Single-spin heat bath (Glauber): `s_i = +1` with probability `1/(1+exp(-2h_i/T))`.
    HeatBath {
        /// Site order.
        #[serde(default)]
        order: Order,
    },
    /// Wolff cluster flips, a fixed number per step flipping about `N` spins on average
    /// (`Ferro` couplings and zero field only).
    Wolff,
}

impl Default for Update {
    fn default() -> Self {
        Update::Metropolis {
            order: Order::Checkerboard,
        }
    }
}

/// Initial spins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Start {
    /// Independent ±1 with probability 1/2 (infinite temperature).
    #[default]
    Random,
    /// All spins +1 (a ferromagnet's ground state).
    Up,
}

/// Configuration of an Ising problem (seedless: the engine passes the rng).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IsingConfig {
    /// Lattice side `L` ([`limits::SIZE`]).
    pub size: usize,
    /// Couplings on the bonds.
    pub coupling: Coupling,
    /// External field `h` ([`limits::FIELD`]).
    pub field: f64,
    /// Monte Carlo move.
    pub update: Update,
    /// Initial spins.
    pub start: Start,
}

impl Default for IsingConfig {
    fn default() -> Self {
        Self {
            size: 64,
            coupling: Coupling::default(),
            field: 0.0,
            update: Update::default(),
            start: Start::Random,
        }
    }
}

impl IsingConfig {
    /// A human-readable name of the model.
    pub fn label(&self) -> &'static str {
        match self.coupling {
            Coupling::Ferro { j } if j < 0.0 => "Ising antiferromagnet",
            Coupling::Ferro { .. } => "Ising ferromagnet",
            Coupling::SpinGlass { .. } => "Spin glass (Edwards-Anderson)",
        }
    }

    /// Checks every value against [`limits`]; Wolff needs `Ferro` couplings and `field = 0`.
    pub fn validate(&self) -> Result<(), RangeError> {
        check("size", self.size, limits::SIZE)?;
        if let Coupling::Ferro { j } = self.coupling {
            check("coupling.j", j, limits::J)?;
        }
        check("field", self.field, limits::FIELD)?;
        if self.update == Update::Wolff {
            let glass = matches!(self.coupling, Coupling::SpinGlass { .. });
            if glass || self.field != 0.0 {
                return Err(RangeError {
                    field: "update".to_owned(),
                    value: "Wolff".to_owned(),
                    allowed: format!(
                        "Metropolis or HeatBath here (Wolff needs a Ferro coupling and \
                         field = 0; this config has {} and field = {})",
                        if glass { "SpinGlass" } else { "Ferro" },
                        self.field
                    ),
                });
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Couplings on the lattice
// ---------------------------------------------------------------------------------------------

/// The couplings of an `L x L` torus: `J_ij = scale · b_ij` with signs `b_ij = ±1`.
#[derive(Clone, Debug, PartialEq)]
pub struct Bonds {
    l: usize,
    scale: f64,
    /// Sign of the bond from site `i` to its right neighbour; empty when all signs are +1.
    right: Vec<i8>,
    /// Sign of the bond from site `i` to the neighbour below; empty when all signs are +1.
    down: Vec<i8>,
}

impl Bonds {
    /// The couplings of an `l x l` torus for `coupling` (glass signs drawn as in the module doc).
    pub fn new(l: usize, coupling: &Coupling) -> Self {
        match *coupling {
            Coupling::Ferro { j } => Self {
                l,
                scale: j,
                right: Vec::new(),
                down: Vec::new(),
            },
            Coupling::SpinGlass { seed } => {
                let mut rng = Pcg64Mcg::seed_from_u64(seed);
                let n = l * l;
                let (mut right, mut down) = (Vec::with_capacity(n), Vec::with_capacity(n));
                for _ in 0..n {
                    let r = rng.next_u64();
                    right.push(if r >> 63 == 1 { 1 } else { -1 });
                    down.push(if (r >> 62) & 1 == 1 { 1 } else { -1 });
                }
                Self {
                    l,
                    scale: 1.0,
                    right,
                    down,
                }
            }
        }
    }

    /// Lattice side `L`.
    pub fn size(&self) -> usize {
        self.l
    }

    /// The common magnitude `|J_ij|` up to sign: `j` for `Ferro`, 1 for the glass.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// True when every bond has the same coupling (`Ferro`).
    pub fn is_uniform(&self) -> bool {
        self.right.is_empty()
    }

    /// Coupling between `(x, y)` and its right neighbour `((x+1) mod L, y)`.
    pub fn j_right(&self, x: usize, y: usize) -> f64 {
        self.scale * f64::from(self.sign_right(y * self.l + x))
    }

    /// Coupling between `(x, y)` and the neighbour below, `(x, (y+1) mod L)`.
    pub fn j_down(&self, x: usize, y: usize) -> f64 {
        self.scale * f64::from(self.sign_down(y * self.l + x))
    }

    /// Number of the `2N` bonds whose coupling is negative.
    pub fn negative_bonds(&self) -> usize {
        let n = self.l * self.l;
        if self.is_uniform() {
            if self.scale < 0.0 { 2 * n } else { 0 }
        } else {
            self.right
                .iter()
                .chain(&self.down)
                .filter(|&&b| b < 0)
                .count()
        }
    }

    fn sign_right(&self, i: usize) -> i8 {
        self.right.get(i).copied().unwrap_or(1)
    }

    fn sign_down(&self, i: usize) -> i8 {
        self.down.get(i).copied().unwrap_or(1)
    }

    /// `B = Σ_<ij> b_ij s_i s_j` over the `2N` bonds (`E = -scale·B - h·M`), from scratch
    /// (row by row, vectorisable: about 0.1 ns per spin).
    pub fn bond_sum(&self, spins: &[i8]) -> i64 {
        let l = self.l;
        let prod = |a: &i8, b: &i8| i32::from(a * b);
        let mut total = 0i64;
        for y in 0..l {
            let yd = if y + 1 == l { 0 } else { y + 1 };
            let cur = &spins[y * l..(y + 1) * l];
            let dn = &spins[yd * l..(yd + 1) * l];
            let row: i32 = if self.is_uniform() {
                let horiz: i32 = cur.iter().zip(&cur[1..]).map(|(a, b)| prod(a, b)).sum();
                let vert: i32 = cur.iter().zip(dn).map(|(a, b)| prod(a, b)).sum();
                horiz + vert + prod(&cur[l - 1], &cur[0])
            } else {
                let br = &self.right[y * l..(y + 1) * l];
                let bd = &self.down[y * l..(y + 1) * l];
                let horiz: i32 = cur
                    .iter()
                    .zip(&cur[1..])
                    .zip(br)
                    .map(|((a, b), r)| prod(a, b) * i32::from(*r))
                    .sum();
                let vert: i32 = cur
                    .iter()
                    .zip(dn)
                    .zip(bd)
                    .map(|((a, b), d)| prod(a, b) * i32::from(*d))
                    .sum();
                horiz + vert + prod(&cur[l - 1], &cur[0]) * i32::from(br[l - 1])
            };
            total += i64::from(row);
        }
        total
    }
}

/// `M = Σ_i s_i`, vectorisable.
fn spin_sum(spins: &[i8]) -> i64 {
    spins
        .chunks(1 << 20)
        .map(|c| i64::from(c.iter().map(|&s| i32::from(s)).sum::<i32>()))
        .sum()
}

// ---------------------------------------------------------------------------------------------
// Fast inner-loop generator
// ---------------------------------------------------------------------------------------------

/// xoshiro256++ (Blackman & Vigna), seeded from the engine's rng at every sweep.
#[derive(Clone, Debug)]
struct Xoshiro {
    s: [u64; 4],
}

impl Xoshiro {
    fn from_rng<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let mut s = [0u64; 4];
        for w in &mut s {
            *w = rng.next_u64();
        }
        if s == [0; 4] {
            s[0] = 0x9E37_79B9_7F4A_7C15;
        }
        Self { s }
    }

    #[inline(always)]
    fn next(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
}

/// Fixed-point threshold of probability `p`: accept iff `u32 random < threshold`.
fn threshold(p: f64) -> u64 {
    const TWO32: f64 = 4_294_967_296.0;
    if p >= 1.0 {
        1 << 32
    } else if p > 0.0 {
        (p * TWO32) as u64
    } else {
        0
    }
}

/// Single-spin acceptance rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    Metropolis,
    Glauber,
}

/// Flip thresholds indexed by `n + 4 + (s+1)/2` (`n` the local sum, `s` the spin).
fn flip_table(rule: Rule, t: f64, j: f64, h: f64) -> [u64; 16] {
    let mut thr = [0u64; 16];
    let hot = t > 0.0; // false for T <= 0 and NaN: the T -> 0+ limit
    for n in [-4i32, -2, 0, 2, 4] {
        for s in [-1i32, 1] {
            let de = 2.0 * f64::from(s) * (j * f64::from(n) + h);
            let p = match rule {
                Rule::Metropolis => {
                    if de <= 0.0 {
                        1.0
                    } else if hot {
                        (-de / t).exp()
                    } else {
                        0.0
                    }
                }
                Rule::Glauber => {
                    if hot {
                        1.0 / (1.0 + (de / t).exp())
                    } else if de < 0.0 {
                        1.0
                    } else if de > 0.0 {
                        0.0
                    } else {
                        0.5
                    }
                }
            };
            thr[(n + 4 + (s + 1) / 2) as usize] = threshold(p);
        }
    }
    thr
}

/// Bookkeeping of a Wolff step: Σ s_old·n and Σ s_old over the flipped spins.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    sn: i64,
    s: i64,
}

/// One branch-free single-spin update; returns the new spin and counts flips. (`B` and `M`
/// are recomputed after the sweep, which is cheaper than keeping them here.)
#[inline(always)]
fn update_site(s: i8, n: i32, r: u32, thr: &[u64; 16], flips: &mut u64) -> i8 {
    let idx = ((n + 4 + ((i32::from(s) + 1) >> 1)) & 15) as usize;
    let flip = u64::from(r) < thr[idx];
    *flips += u64::from(flip);
    s ^ ((-i8::from(flip)) & -2) // ±1 -> ∓1 when flipping
}

/// Rows `y-1`, `y` (mutable) and `y+1` of the torus, borrowed disjointly (`L >= 2`).
fn rows3(s: &mut [i8], l: usize, y: usize) -> (&[i8], &mut [i8], &[i8]) {
    let (head, tail) = s.split_at_mut(y * l);
    let (cur, rest) = tail.split_at_mut(l);
    let up: &[i8] = if y == 0 {
        &rest[rest.len() - l..]
    } else {
        &head[(y - 1) * l..]
    };
    let dn: &[i8] = if rest.is_empty() {
        &head[..l]
    } else {
        &rest[..l]
    };
    (up, cur, dn)
}

/// `(x, y)` in one word for the Wolff stack (`L <= 65536`).
#[inline(always)]
fn pack(x: usize, y: usize) -> u32 {
    ((y as u32) << 16) | x as u32
}

#[inline(always)]
fn unpack(p: u32) -> (usize, usize) {
    ((p & 0xFFFF) as usize, (p >> 16) as usize)
}

/// Rows `y-1`, `y` (being updated) and `y+1`.
type Rows<'a> = (&'a [i8], &'a mut [i8], &'a [i8]);

/// Local sums of a uniform-coupling row: left, right, up, down neighbours.
#[inline(always)]
fn nsum(a: i8, b: i8, c: i8, d: i8) -> i32 {
    i32::from(a) + i32::from(b) + i32::from(c) + i32::from(d)
}

/// One checkerboard row of a uniform lattice: sites `x0, x0+2, ...`, one random word each.
/// (Not inlined: on its own the loop keeps all its pointers in registers.)
#[inline(never)]
fn row_uniform((up, cur, dn): Rows, x0: usize, rnd: &[u32], thr: &[u64; 16], t: &mut u64) {
    let l = cur.len();
    let (up, dn) = (&up[..l], &dn[..l]);
    let mut k = 0;
    let mut x = x0;
    if x == 0 {
        let n = nsum(cur[l - 1], cur[1], up[0], dn[0]);
        cur[0] = update_site(cur[0], n, rnd[0], thr, t);
        (x, k) = (2, 1);
    }
    // Interior sites, no wrap-around; a local count stays in a register.
    let mut lt = 0u64;
    let cnt = (l - 1).saturating_sub(x).div_ceil(2);
    for (j, &r) in rnd[k..k + cnt].iter().enumerate() {
        let xx = x + 2 * j;
        let n = nsum(cur[xx - 1], cur[xx + 1], up[xx], dn[xx]);
        cur[xx] = update_site(cur[xx], n, r, thr, &mut lt);
    }
    (x, k) = (x + 2 * cnt, k + cnt);
    *t += lt;
    if x + 1 == l {
        let n = nsum(cur[x - 1], cur[0], up[x], dn[x]);
        cur[x] = update_site(cur[x], n, rnd[k], thr, t);
    }
}

/// Bond signs around a row of a glass: own right bonds, own down bonds, the up row's down bonds.
struct RowBonds<'a> {
    right: &'a [i8],
    down: &'a [i8],
    up_down: &'a [i8],
}

/// One checkerboard row of a spin glass.
#[inline(never)]
fn row_glass(
    (up, cur, dn): Rows,
    b: &RowBonds,
    x0: usize,
    rnd: &[u32],
    thr: &[u64; 16],
    t: &mut u64,
) {
    let l = cur.len();
    let (up, dn) = (&up[..l], &dn[..l]);
    let (br, bd, bu) = (&b.right[..l], &b.down[..l], &b.up_down[..l]);
    let mut rnd = rnd.iter().copied();
    let mut x = x0;
    while x < l {
        let xl = if x == 0 { l - 1 } else { x - 1 };
        let xr = if x + 1 == l { 0 } else { x + 1 };
        let n = i32::from(br[xl] * cur[xl])
            + i32::from(br[x] * cur[xr])
            + i32::from(bu[x] * up[x])
            + i32::from(bd[x] * dn[x]);
        cur[x] = update_site(cur[x], n, rnd.next().unwrap_or(0), thr, t);
        x += 2;
    }
}

/// A checkerboard sweep (all `N` sites once).
fn sweep_checkerboard(
    spins: &mut [i8],
    bonds: &Bonds,
    thr: &[u64; 16],
    rng: &mut Xoshiro,
    rbuf: &mut Vec<u32>,
) -> u64 {
    let l = bonds.l;
    let mut t = 0u64;
    let per_row = l.div_ceil(2);
    rbuf.resize(per_row + 1, 0);
    for color in 0..2 {
        for y in 0..l {
            let x0 = (y + color) & 1;
            let cnt = (l - x0).div_ceil(2);
            for pair in rbuf[..cnt.div_ceil(2) * 2].chunks_exact_mut(2) {
                let r = rng.next();
                pair[0] = r as u32;
                pair[1] = (r >> 32) as u32;
            }
            let rows = rows3(spins, l, y);
            if bonds.is_uniform() {
                row_uniform(rows, x0, &rbuf[..cnt], thr, &mut t);
            } else {
                let yu = if y == 0 { l - 1 } else { y - 1 };
                let b = RowBonds {
                    right: &bonds.right[y * l..],
                    down: &bonds.down[y * l..],
                    up_down: &bonds.down[yu * l..],
                };
                row_glass(rows, &b, x0, &rbuf[..cnt], thr, &mut t);
            }
        }
    }
    t
}

/// `N` updates at uniformly random sites.
#[inline(never)]
fn sweep_random<const GLASS: bool>(
    s: &mut [i8],
    bonds: &Bonds,
    thr: &[u64; 16],
    rng: &mut Xoshiro,
) -> u64 {
    let l = bonds.l;
    let n = l * l;
    let lu = l as u64;
    let mut t = 0u64;
    for _ in 0..n {
        let r = rng.next();
        // High 32 bits -> (y, x) by multiply-shift, reusing the fraction; low 32 bits -> accept.
        let m = (r >> 32) * lu;
        let y = (m >> 32) as usize;
        let x = (((m & 0xFFFF_FFFF) * lu) >> 32) as usize;
        let i = y * l + x;
        let il = if x == 0 { i + l - 1 } else { i - 1 };
        let ir = if x + 1 == l { i + 1 - l } else { i + 1 };
        let iu = if y == 0 { i + n - l } else { i - l };
        let id = if y + 1 == l { i + l - n } else { i + l };
        let h = if GLASS {
            i32::from(bonds.right[il] * s[il])
                + i32::from(bonds.right[i] * s[ir])
                + i32::from(bonds.down[iu] * s[iu])
                + i32::from(bonds.down[i] * s[id])
        } else {
            nsum(s[il], s[ir], s[iu], s[id])
        };
        s[i] = update_site(s[i], h, r as u32, thr, &mut t);
    }
    t
}

/// Number of Wolff clusters in one step of an `l x l` lattice at reduced temperature
/// `t = T/|j|`: `round(N / ŝ)` (at least 1), with `ŝ(t, L)` an approximation of the mean
/// cluster size `<|C|> = <M²>/N` so that a step flips about `N` spins on average. It depends
/// on `t` and `L` only, never on the state: stopping a step once the flipped total reaches `N`
/// would sample at a time that depends on the cluster sizes and bias the result (measured at
/// L = 16, T = 2.5: e = -1.2034 against the exact -1.1313). Fitted to measured cluster sizes
/// at L = 16 and 64 (within ~10 %, at worst a factor 2 just above `T_c`):
/// - `t < T_c`: `ŝ = max(N m(t)², a L^{7/4})`, `m` Yang's magnetisation, `a = 1.08`;
/// - `t >= T_c`: `ŝ = 1 / (1/χ(t) + 1/(a L^{7/4}))`, `χ(t) = 0.96 (1 - T_c/t)^{-7/4}`.
fn wolff_clusters(l: usize, t: f64) -> u64 {
    let n = (l * l) as f64;
    let critical = 1.08 * (l as f64).powf(1.75);
    let t = if t > 0.0 { t } else { 0.0 };
    let size = if t < T_C {
        let m = yang_magnetisation(t);
        (n * m * m).max(critical)
    } else {
        let chi = 0.96 * (1.0 - T_C / t).powf(-1.75);
        1.0 / (1.0 / chi + 1.0 / critical)
    };
    (n / size.clamp(1.0, n)).round().max(1.0) as u64
}

// ---------------------------------------------------------------------------------------------
// The problem
// ---------------------------------------------------------------------------------------------

/// An Ising lattice with its couplings, field, move and incrementally exact energy.
#[derive(Clone, Debug)]
pub struct IsingProblem {
    bonds: Bonds,
    coupling: Coupling,
    h: f64,
    update: Update,
    spins: Vec<i8>,
    /// `B = Σ_<ij> b_ij s_i s_j`, exact.
    bond_sum: i64,
    /// `M = Σ_i s_i`, exact.
    mag: i64,
    best: Vec<i8>,
    best_energy: f64,
    table: [u64; 16],
    table_key: Option<(u64, Rule)>,
    stack: Vec<u32>,
    /// Wolff: `visit[i] == stamp` marks the current cluster's members.
    visit: Vec<u32>,
    stamp: u32,
    rbuf: Vec<u32>,
    sweeps: u64,
    /// Elementary updates attempted over all sweeps (Wolff: spins flipped).
    attempted: u64,
    /// The last sweeps' `(T, e, |m|)`, for the fluctuation estimates.
    recent: Recent,
    /// The exact curves of this lattice (shared by replicas), when the model has them.
    exact: Option<Arc<ExactCurves>>,
}

/// Steps between from-scratch checks of the Wolff bookkeeping (debug builds assert equality).
const REFRESH_EVERY: u64 = 4096;

impl IsingProblem {
    /// A validated problem; initial spins from `rng` (for `Start::Random`).
    pub fn new<R: Rng + ?Sized>(cfg: &IsingConfig, rng: &mut R) -> Result<Self, RangeError> {
        let mut v = Self::replicas(cfg, 1, rng)?;
        v.pop().ok_or_else(|| RangeError {
            field: "size".into(),
            value: cfg.size.to_string(),
            allowed: format!("{:?}", limits::SIZE),
        })
    }

    /// `count` independent lattices of one validated config, their spins drawn from `rng`
    /// one after the other; the exact curves are computed once and shared.
    pub fn replicas<R: Rng + ?Sized>(
        cfg: &IsingConfig,
        count: usize,
        rng: &mut R,
    ) -> Result<Vec<Self>, RangeError> {
        cfg.validate()?;
        let exact = ExactCurves::new(cfg).map(Arc::new);
        Ok((0..count)
            .map(|_| {
                let mut p = Self::build(cfg, rng);
                p.exact = exact.clone();
                p
            })
            .collect())
    }

    /// A lattice small enough to enumerate (`L` from 2 to 5, so `N <= 25` spins), for checking
    /// the samplers against [`DensityOfStates`]; every other setting is validated as usual.
    /// `None` for other sizes. (Such lattices have no exact curves.)
    pub fn enumerable<R: Rng + ?Sized>(cfg: &IsingConfig, rng: &mut R) -> Option<Self> {
        if !(2..=5).contains(&cfg.size) {
            return None;
        }
        let probe = IsingConfig {
            size: *limits::SIZE.start(),
            ..cfg.clone()
        };
        probe.validate().ok()?;
        Some(Self::build(cfg, rng))
    }

    /// Like `new` without validation or exact curves, for the benchmark and for enumerable
    /// lattices (`L = 2..5`); sizes below 2 are raised to 2.
    fn build<R: Rng + ?Sized>(cfg: &IsingConfig, rng: &mut R) -> Self {
        let l = cfg.size.max(2);
        let n = l * l;
        let bonds = Bonds::new(l, &cfg.coupling);
        let spins: Vec<i8> = match cfg.start {
            Start::Up => vec![1; n],
            Start::Random => {
                let mut v = Vec::with_capacity(n);
                while v.len() < n {
                    let r = rng.next_u64();
                    let k = (n - v.len()).min(64);
                    v.extend((0..k).map(|b| if (r >> b) & 1 == 1 { 1 } else { -1 }));
                }
                v
            }
        };
        let bond_sum = bonds.bond_sum(&spins);
        let mag = spins.iter().map(|&s| i64::from(s)).sum();
        let mut p = Self {
            bonds,
            coupling: cfg.coupling,
            h: cfg.field,
            update: cfg.update,
            best: spins.clone(),
            spins,
            bond_sum,
            mag,
            best_energy: 0.0,
            table: [0; 16],
            table_key: None,
            stack: Vec::new(),
            visit: Vec::new(),
            stamp: 0,
            rbuf: Vec::new(),
            sweeps: 0,
            attempted: 0,
            recent: Recent::default(),
            exact: None,
        };
        p.best_energy = p.energy();
        p
    }

    /// Lattice side `L`.
    pub fn size(&self) -> usize {
        self.bonds.l
    }

    /// External field `h`.
    pub fn field(&self) -> f64 {
        self.h
    }

    /// The Monte Carlo move used by `sweep`.
    pub fn update(&self) -> Update {
        self.update
    }

    /// The couplings.
    pub fn bonds(&self) -> &Bonds {
        &self.bonds
    }

    /// Spins, row-major (`s[y·L + x]`), each ±1.
    pub fn spins(&self) -> &[i8] {
        &self.spins
    }

    /// Total magnetisation `M = Σ s_i` (exact).
    pub fn magnetisation(&self) -> i64 {
        self.mag
    }

    /// `B = Σ_<ij> b_ij s_i s_j` (exact; `E = -scale·B - h·M`).
    pub fn bond_sum(&self) -> i64 {
        self.bond_sum
    }

    /// The energy recomputed from scratch from the spins (equals `energy()` bit for bit).
    pub fn recompute_energy(&self) -> f64 {
        let b = self.bonds.bond_sum(&self.spins);
        let m: i64 = self.spins.iter().map(|&s| i64::from(s)).sum();
        Self::energy_of(self.bonds.scale, self.h, b, m)
    }

    fn energy_of(scale: f64, h: f64, b: i64, m: i64) -> f64 {
        -scale * b as f64 - h * m as f64
    }

    /// Spins and energy recorded by the last `store_best`.
    pub fn best(&self) -> (&[i8], f64) {
        (&self.best, self.best_energy)
    }

    /// `[E/N, |M|/N, M/N]`: the first three of [`OBSERVABLES`].
    pub fn densities(&self) -> [f64; 3] {
        let n = self.spins.len() as f64;
        let m = self.mag as f64 / n;
        [self.energy() / n, m.abs(), m]
    }

    /// What an independent program needs to check the energy and magnetisation (of the
    /// current and of the best state).
    pub fn export_state(&self) -> IsingState {
        IsingState {
            size: self.bonds.l,
            coupling: self.coupling,
            negative_bonds: self.bonds.negative_bonds(),
            bonds_right: self.bonds.right.clone(),
            bonds_down: self.bonds.down.clone(),
            field: self.h,
            spins: self.spins.clone(),
            energy: self.energy(),
            magnetisation: self.mag,
            best_spins: self.best.clone(),
            best_energy: self.best_energy,
        }
    }

    /// Elementary updates attempted since the start (single-spin updates; for Wolff, spins
    /// flipped in clusters): what the benchmark counts.
    pub fn attempted(&self) -> u64 {
        self.attempted
    }

    /// `C` and `chi` per spin from the window of recent sweeps at (nearly) temperature `t`
    /// (see the module doc).
    pub fn fluctuations(&self, t: f64) -> Fluctuations {
        self.recent.fluctuations(t, self.spins.len() as f64)
    }

    /// The exact curves of this lattice, when the model has them (see [`ExactCurves::new`]).
    pub fn exact(&self) -> Option<&Arc<ExactCurves>> {
        self.exact.as_ref()
    }

    /// Writes the lattice as `L·L` RGBA pixels, row-major: up spins [`UP_RGBA`], down spins
    /// [`DOWN_RGBA`]. Paints `min(L², out.len()/4)` pixels.
    pub fn paint_rgba(&self, out: &mut [u8]) {
        let up = u32::from_le_bytes(UP_RGBA);
        let down = u32::from_le_bytes(DOWN_RGBA);
        let diff = up ^ down;
        for (px, &s) in out.chunks_exact_mut(4).zip(&self.spins) {
            // mask = all ones for s = +1, 0 for s = -1 (branch-free).
            let mask = (i32::from(s) >> 1) as u32 ^ u32::MAX;
            px.copy_from_slice(&(down ^ (diff & mask)).to_le_bytes());
        }
    }

    fn ensure_table(&mut self, rule: Rule, t: f64) {
        let key = (t.to_bits(), rule);
        if self.table_key != Some(key) {
            self.table = flip_table(rule, t, self.bonds.scale, self.h);
            self.table_key = Some(key);
        }
    }

    fn apply(&mut self, t: Tally) {
        self.bond_sum -= 2 * t.sn;
        self.mag -= 2 * t.s;
    }

    fn single_spin(&mut self, rule: Rule, order: Order, t: f64, rng: &mut Xoshiro) -> (u64, u64) {
        self.ensure_table(rule, t);
        let n = self.spins.len() as u64;
        let flips = match (order, self.bonds.is_uniform()) {
            (Order::Checkerboard, _) => sweep_checkerboard(
                &mut self.spins,
                &self.bonds,
                &self.table,
                rng,
                &mut self.rbuf,
            ),
            (Order::Random, true) => {
                sweep_random::<false>(&mut self.spins, &self.bonds, &self.table, rng)
            }
            (Order::Random, false) => {
                sweep_random::<true>(&mut self.spins, &self.bonds, &self.table, rng)
            }
        };
        self.bond_sum = self.bonds.bond_sum(&self.spins);
        self.mag = spin_sum(&self.spins);
        (n, flips)
    }

    /// `wolff_clusters(L, T/|j|)` Wolff clusters; returns the number of spins flipped.
    ///
    /// Members are marked (`visit`) when they join and flipped when they are taken off the
    /// stack: the four neighbour spins loaded there give both the exact energy change of that
    /// single flip (`ΔB = -2 s n` with the current spins) and the join tests, which use the
    /// still unflipped spins of unmarked neighbours (bond satisfied: `sign(j)·s_i·s_k > 0`).
    /// Joins are branch-free (they are coin flips the CPU cannot predict). Uniform couplings
    /// only (validated); explicit marks keep frustrated lattices (j < 0, odd L) right.
    fn wolff(&mut self, t: f64, rng: &mut Xoshiro) -> u64 {
        let l = self.bonds.l;
        let n = self.spins.len();
        let j = self.bonds.scale;
        let clusters = wolff_clusters(l, if j == 0.0 { f64::INFINITY } else { t / j.abs() });
        let p_add = if t > 0.0 {
            -(-2.0 * j.abs() / t).exp_m1()
        } else {
            1.0
        };
        let thr = threshold(p_add);
        let sign_j: i8 = if j < 0.0 { -1 } else { 1 };
        let lu = l as u64;
        let mut tally = Tally::default();
        // Every site joins at most once per cluster, and a push past the top is only written
        // (not counted), so N + 1 slots suffice.
        let mut stack = std::mem::take(&mut self.stack);
        stack.resize(n + 1, 0);
        self.visit.resize(n, 0);
        let spins = &mut self.spins[..];
        let visit = &mut self.visit[..];
        let mut flipped = 0u64;
        for _ in 0..clusters {
            self.stamp = self.stamp.wrapping_add(1);
            if self.stamp == 0 {
                visit.fill(0);
                self.stamp = 1;
            }
            let stamp = self.stamp;
            let r = rng.next();
            let x = (((r & 0xFFFF_FFFF) * lu) >> 32) as usize;
            let y = (((r >> 32) * lu) >> 32) as usize;
            visit[y * l + x] = stamp;
            stack[0] = pack(x, y);
            let mut top = 1usize;
            while top > 0 {
                top -= 1;
                let (x, y) = unpack(stack[top]);
                let i = y * l + x;
                let xl = if x == 0 { l - 1 } else { x - 1 };
                let xr = if x + 1 == l { 0 } else { x + 1 };
                let yu = if y == 0 { l - 1 } else { y - 1 };
                let yd = if y + 1 == l { 0 } else { y + 1 };
                let nb = [(xl, y), (xr, y), (x, yu), (x, yd)];
                let v = nb.map(|(a, b)| spins[b * l + a]);
                let s = spins[i];
                let nsum_i = nsum(v[0], v[1], v[2], v[3]);
                tally.sn += i64::from(i32::from(s) * nsum_i);
                tally.s += i64::from(s);
                spins[i] = -s;
                flipped += 1;
                let target = sign_j * s;
                let (r0, r1) = (rng.next(), rng.next());
                let rnd = [r0 as u32, (r0 >> 32) as u32, r1 as u32, (r1 >> 32) as u32];
                for k in 0..4 {
                    let (a, b) = nb[k];
                    let site = b * l + a;
                    let join =
                        (v[k] == target) & (visit[site] != stamp) & (u64::from(rnd[k]) < thr);
                    visit[site] = if join { stamp } else { visit[site] };
                    stack[top] = pack(a, b);
                    top += usize::from(join);
                }
            }
        }
        self.stack = stack;
        self.apply(tally);
        flipped
    }

    fn sweep_impl<R: Rng + ?Sized>(&mut self, t: f64, rng: &mut R) -> Sweep {
        let e0 = self.energy();
        let mut fast = Xoshiro::from_rng(rng);
        let wolff_ok = self.bonds.is_uniform() && self.h == 0.0;
        let (attempted, accepted) = match self.update {
            Update::Metropolis { order } => self.single_spin(Rule::Metropolis, order, t, &mut fast),
            Update::HeatBath { order } => self.single_spin(Rule::Glauber, order, t, &mut fast),
            Update::Wolff if wolff_ok => {
                let f = self.wolff(t, &mut fast);
                (f, f)
            }
            Update::Wolff => {
                // Unreachable through `new` (validate refuses); stay correct anyway.
                debug_assert!(false, "Wolff with a field or a spin glass");
                self.single_spin(Rule::Metropolis, Order::Checkerboard, t, &mut fast)
            }
        };
        self.sweeps += 1;
        self.attempted += attempted;
        let n = self.spins.len() as f64;
        self.recent
            .push([t, self.energy() / n, self.mag.unsigned_abs() as f64 / n]);
        if self.sweeps.is_multiple_of(REFRESH_EVERY) {
            let (b, m) = (
                self.bonds.bond_sum(&self.spins),
                self.spins.iter().map(|&s| i64::from(s)).sum(),
            );
            debug_assert_eq!(
                (b, m),
                (self.bond_sum, self.mag),
                "incremental bookkeeping drifted"
            );
            self.bond_sum = b;
            self.mag = m;
        }
        Sweep {
            de: self.energy() - e0,
            attempted,
            accepted,
        }
    }
}

impl Problem for IsingProblem {
    /// `E = -Σ J_ij s_i s_j - h Σ s_i`, exact (kept as integers `B`, `M`).
    fn energy(&self) -> f64 {
        Self::energy_of(self.bonds.scale, self.h, self.bond_sum, self.mag)
    }

    /// Never called: the Ising problem moves itself with `sweep`. Returns `+inf` (a misrouted
    /// engine would therefore reject) and changes nothing.
    fn propose<R: Rng + ?Sized>(&mut self, _kind: ProposalKind, _sigma: f64, _rng: &mut R) -> f64 {
        f64::INFINITY
    }

    /// No-op (see `propose`).
    fn accept(&mut self) {}

    /// No-op (see `propose`).
    fn reject(&mut self) {}

    fn store_best(&mut self) {
        self.best.copy_from_slice(&self.spins);
        self.best_energy = self.energy();
    }

    /// One sweep (see the module doc): `N` single-spin updates, or Wolff clusters totalling
    /// at least `N` spins. Always `Some`.
    fn sweep<R: Rng + ?Sized>(&mut self, t: f64, rng: &mut R) -> Option<Sweep> {
        Some(self.sweep_impl(t, rng))
    }
}

/// Snapshot for the app's JSON output: enough to recompute energy and magnetisation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IsingState {
    /// Lattice side `L`.
    pub size: usize,
    /// The coupling setting (for the glass: its seed).
    pub coupling: Coupling,
    /// How many of the `2N` bonds are antiferromagnetic (`J_ij < 0`).
    pub negative_bonds: usize,
    /// Glass only: sign of the bond from site `i` to its right neighbour (row-major).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bonds_right: Vec<i8>,
    /// Glass only: sign of the bond from site `i` to the neighbour below (row-major).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bonds_down: Vec<i8>,
    /// External field `h`.
    pub field: f64,
    /// Spins ±1, row-major `s[y·L + x]`.
    pub spins: Vec<i8>,
    /// Energy `E`.
    pub energy: f64,
    /// Total magnetisation `M = Σ s_i`.
    pub magnetisation: i64,
    /// The lowest-energy spins seen (what annealing a spin glass is after), row-major.
    pub best_spins: Vec<i8>,
    /// Their energy.
    pub best_energy: f64,
}

// ---------------------------------------------------------------------------------------------
// Fluctuations over the recent sweeps
// ---------------------------------------------------------------------------------------------

/// Heat capacity and susceptibility per spin from the window of recent sweeps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fluctuations {
    /// `C = N Var(e) / T²` (NaN with fewer than [`WINDOW_MIN`] sweeps in the band).
    pub heat_capacity: f64,
    /// `chi = N Var(|m|) / T` (NaN likewise).
    pub susceptibility: f64,
    /// Sweeps used.
    pub samples: usize,
    /// Whether a linear drift was removed (the temperature changed within the window).
    pub detrended: bool,
}

/// A ring of the last [`WINDOW`] sweeps' `(T, e, |m|)`.
#[derive(Clone, Debug, Default)]
struct Recent {
    rows: Vec<[f64; 3]>,
    next: usize,
}

impl Recent {
    fn push(&mut self, row: [f64; 3]) {
        if self.rows.len() < WINDOW {
            self.rows.push(row);
        } else {
            self.rows[self.next] = row;
        }
        self.next = (self.next + 1) % WINDOW;
    }

    /// The rows, newest first.
    fn newest(&self) -> impl Iterator<Item = &[f64; 3]> {
        let (newer, older) = self.rows.split_at(self.next.min(self.rows.len()));
        newer.iter().rev().chain(older.iter().rev())
    }

    /// `C` and `chi` per spin at `t` for a lattice of `n` spins (see the module doc).
    fn fluctuations(&self, t: f64, n: f64) -> Fluctuations {
        let band = WINDOW_TOLERANCE * t;
        let rows: Vec<[f64; 3]> = self
            .newest()
            .take_while(|r| (r[0] - t).abs() <= band)
            .copied()
            .collect();
        let detrended = rows.iter().any(|r| r[0] != rows[0][0]);
        let (ve, vm) = if rows.len() < WINDOW_MIN || t.is_nan() || t <= 0.0 {
            (f64::NAN, f64::NAN)
        } else {
            (
                residual_variance(rows.iter().map(|r| r[1]), rows.len(), detrended),
                residual_variance(rows.iter().map(|r| r[2]), rows.len(), detrended),
            )
        };
        Fluctuations {
            heat_capacity: n * ve / (t * t),
            susceptibility: n * vm / t,
            samples: rows.len(),
            detrended,
        }
    }
}

/// Sample variance of `len` values (`len >= 3`); with `detrend`, the variance of the
/// residuals about their least-squares line in the index (`n - 2` degrees of freedom).
fn residual_variance(x: impl Iterator<Item = f64> + Clone, len: usize, detrend: bool) -> f64 {
    let n = len as f64;
    let mean = x.clone().sum::<f64>() / n;
    if !detrend {
        return x.map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    }
    let kbar = (n - 1.0) / 2.0;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (k, v) in x.clone().enumerate() {
        let dk = k as f64 - kbar;
        sxy += dk * (v - mean);
        sxx += dk * dk;
    }
    let slope = sxy / sxx;
    x.enumerate()
        .map(|(k, v)| {
            let r = v - mean - slope * (k as f64 - kbar);
            r * r
        })
        .sum::<f64>()
        / (n - 2.0)
}

// ---------------------------------------------------------------------------------------------
// Exact curves for the plots
// ---------------------------------------------------------------------------------------------

/// One temperature's exact values (per spin; NaN where the model has none).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExactPoint {
    /// Temperature `T`.
    pub temperature: f64,
    /// Onsager's infinite-lattice energy per spin.
    pub energy: f64,
    /// Onsager's infinite-lattice heat capacity per spin.
    pub heat_capacity: f64,
    /// Yang's spontaneous magnetisation (ferromagnets only).
    pub magnetisation: f64,
    /// Kaufman's energy per spin of this `L x L` torus.
    pub finite_energy: f64,
    /// Kaufman's heat capacity per spin of this `L x L` torus.
    pub finite_heat_capacity: f64,
}

/// The exact curves of an `L x L` lattice with uniform couplings `j` and no field, tabulated
/// once on a temperature grid that crowds towards `T_c |j|` (finite-size peaks are
/// `~ T_c / L` wide), for the plots. With `K = |j|/T` the model is the `J = 1` model at
/// `T/|j|`: energies scale with `|j|` (`u(T) = |j| u_1(T/|j|)`), heat capacities do not
/// (`c(T) = c_1(T/|j|)`). An antiferromagnet (`j < 0`) on an even torus maps onto the
/// ferromagnet by flipping one sublattice, so its energy and heat capacity are the same;
/// its uniform magnetisation has no Yang curve (the staggered one would).
#[derive(Clone, Debug, PartialEq)]
pub struct ExactCurves {
    /// Lattice side.
    pub size: usize,
    /// The critical temperature `T_c |j|` of this coupling.
    pub critical: f64,
    /// The table, by increasing temperature.
    pub points: Vec<ExactPoint>,
}

/// Points of the exact tables on each side of `T_c`.
const EXACT_SIDE: usize = 120;

impl ExactCurves {
    /// The curves of `cfg`'s lattice, or `None` when no exact solution applies (a spin glass,
    /// a field, `j = 0`, or an antiferromagnet on an odd, frustrated torus).
    pub fn new(cfg: &IsingConfig) -> Option<Self> {
        let Coupling::Ferro { j } = cfg.coupling else {
            return None;
        };
        if cfg.field != 0.0 || j == 0.0 || !j.is_finite() || (j < 0.0 && cfg.size % 2 == 1) {
            return None;
        }
        let (l, a) = (cfg.size, j.abs());
        // Reduced temperatures T_c - d and T_c + d with d geometric from 1e-4 to 1.9
        // (below) and to 8 (above).
        let side = |far: f64| {
            (0..EXACT_SIDE)
                .map(move |k| 1e-4 * (far / 1e-4).powf(k as f64 / (EXACT_SIDE - 1) as f64))
        };
        let mut reduced: Vec<f64> = side(T_C - 0.35).map(|d| T_C - d).collect();
        reduced.extend(side(8.0).map(|d| T_C + d));
        reduced.sort_by(f64::total_cmp);
        let points = reduced
            .into_iter()
            .map(|r| {
                let finite = kaufman(l, r);
                ExactPoint {
                    temperature: r * a,
                    energy: onsager_energy(r) * a,
                    heat_capacity: onsager_heat_capacity(r),
                    magnetisation: if j > 0.0 {
                        yang_magnetisation(r)
                    } else {
                        f64::NAN
                    },
                    finite_energy: finite.map_or(f64::NAN, |f| f.energy_per_spin * a),
                    finite_heat_capacity: finite.map_or(f64::NAN, |f| f.heat_capacity_per_spin),
                }
            })
            .collect();
        Some(Self {
            size: l,
            critical: T_C * a,
            points,
        })
    }

    /// The values at temperature `t`, linearly interpolated in the table; `None` outside it.
    pub fn at(&self, t: f64) -> Option<ExactPoint> {
        let i = self.points.partition_point(|p| p.temperature < t);
        if i == 0 || i >= self.points.len() {
            return (i == 0 && self.points.first().is_some_and(|p| p.temperature == t))
                .then(|| self.points[0]);
        }
        let (a, b) = (&self.points[i - 1], &self.points[i]);
        let w = (t - a.temperature) / (b.temperature - a.temperature);
        let mix = |x: f64, y: f64| x + w * (y - x);
        Some(ExactPoint {
            temperature: t,
            energy: mix(a.energy, b.energy),
            heat_capacity: mix(a.heat_capacity, b.heat_capacity),
            magnetisation: mix(a.magnetisation, b.magnetisation),
            finite_energy: mix(a.finite_energy, b.finite_energy),
            finite_heat_capacity: mix(a.finite_heat_capacity, b.finite_heat_capacity),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// What the UI draws, and the kind
// ---------------------------------------------------------------------------------------------

/// What the UI draws of an Ising lattice.
#[derive(Clone, Debug)]
pub struct IsingView {
    /// Lattice side `L`.
    pub size: usize,
    /// The spins, one byte each (1 up, 0 down), row-major `s[y·L + x]`; empty in a
    /// tempering replica's cheap view.
    pub spins: Vec<u8>,
    /// The couplings.
    pub coupling: Coupling,
    /// External field `h`.
    pub field: f64,
    /// The Monte Carlo move.
    pub update: Update,
    /// Energy per spin now.
    pub energy_per_spin: f64,
    /// Magnetisation per spin now (signed).
    pub magnetisation: f64,
    /// Exact curves for the plots, when the model has them.
    pub exact: Option<Arc<ExactCurves>>,
}

impl Kind for IsingProblem {
    fn observables(&self) -> &'static [Observable] {
        OBSERVABLES
    }

    /// `e`, `|m|`, `m` now, and `C`, `chi` from the window at the chain's temperature.
    fn observe(&mut self, chain: &ChainStats, out: &mut [f64]) {
        let [e, am, m] = self.densities();
        let f = self.fluctuations(chain.temperature);
        let all = [e, am, m, f.heat_capacity, f.susceptibility];
        let k = out.len().min(all.len());
        out[..k].copy_from_slice(&all[..k]);
    }

    fn view(&self, request: &ViewRequest) -> ProblemView {
        let [e, _, m] = self.densities();
        let spins = if request.replica {
            Vec::new()
        } else {
            self.spins.iter().map(|&s| u8::from(s > 0)).collect()
        };
        ProblemView::Ising(IsingView {
            size: self.size(),
            spins,
            coupling: self.coupling,
            field: self.h,
            update: self.update,
            energy_per_spin: e,
            magnetisation: m,
            exact: self.exact.clone(),
        })
    }

    fn state(&self) -> ProblemState {
        ProblemState::Ising(self.export_state())
    }
}

// ---------------------------------------------------------------------------------------------
// Benchmark
// ---------------------------------------------------------------------------------------------

/// Attempted spin updates per nanosecond of `update` on an `l x l` ferromagnet (`j = 1`,
/// `h = 0`, clamped to [`limits::SIZE`]) at `T = T_c`, single thread, fixed seed, for about
/// `seconds` of wall time (after a short warm-up). Wolff counts spins flipped in clusters.
pub fn bench_flips_per_ns(l: usize, update: Update, seconds: f64) -> f64 {
    let cfg = IsingConfig {
        size: l.clamp(*limits::SIZE.start(), *limits::SIZE.end()),
        update,
        ..IsingConfig::default()
    };
    let mut rng = Pcg64Mcg::seed_from_u64(0x15_1A6);
    let mut p = IsingProblem::build(&cfg, &mut rng);
    for _ in 0..3 {
        p.sweep_impl(T_C, &mut rng);
    }
    let start = Instant::now();
    let mut attempted = 0u64;
    loop {
        attempted += p.sweep_impl(T_C, &mut rng).attempted;
        let el = start.elapsed().as_secs_f64();
        if el >= seconds {
            return attempted as f64 / (el * 1e9);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Exact results
// ---------------------------------------------------------------------------------------------

/// `(K₁(k), E₁(k))` by the AGM from modulus `k` and complementary modulus `kp = √(1-k²)`.
fn agm_k_e(k: f64, kp: f64) -> (f64, f64) {
    if kp == 0.0 {
        return (f64::INFINITY, 1.0);
    }
    let (mut a, mut b) = (1.0f64, kp);
    let mut pow = 0.5;
    let mut sum = 0.5 * k * k;
    for _ in 0..64 {
        let c = 0.5 * (a - b);
        if c.abs() <= 0.5 * f64::EPSILON * a {
            break;
        }
        pow *= 2.0;
        sum += pow * c * c;
        let an = 0.5 * (a + b);
        b = (a * b).sqrt();
        a = an;
    }
    let kk = PI / (2.0 * a);
    (kk, kk * (1.0 - sum))
}

/// Complete elliptic integral of the first kind `K(k) = ∫₀^{π/2} dφ/√(1-k² sin²φ)`
/// (modulus `k`, `|k| <= 1`; NaN outside), by the arithmetic–geometric mean.
pub fn ellip_k(k: f64) -> f64 {
    if k.abs() > 1.0 || k.is_nan() {
        return f64::NAN;
    }
    agm_k_e(k, ((1.0 - k) * (1.0 + k)).sqrt()).0
}

/// Complete elliptic integral of the second kind `E(k) = ∫₀^{π/2} √(1-k² sin²φ) dφ`
/// (modulus `k`, `|k| <= 1`; NaN outside), by the arithmetic–geometric mean.
pub fn ellip_e(k: f64) -> f64 {
    if k.abs() > 1.0 || k.is_nan() {
        return f64::NAN;
    }
    agm_k_e(k, ((1.0 - k) * (1.0 + k)).sqrt()).1
}

/// Onsager's elliptic modulus at `K = 1/T`: `(κ, κ'', K₁(κ), E₁(κ))`.
fn onsager_parts(t: f64) -> (f64, f64, f64, f64) {
    let k2 = 2.0 / t;
    let th = k2.tanh();
    let kappa = 2.0 * th / k2.cosh(); // 2 sinh 2K / cosh² 2K, overflow-free
    let kpp = 2.0 * th * th - 1.0;
    let (kk, ee) = agm_k_e(kappa, kpp.abs());
    (th, kpp, kk, ee)
}

/// Onsager's energy per spin of the infinite square lattice (`J = 1`, `h = 0`) at `T > 0`.
pub fn onsager_energy(t: f64) -> f64 {
    let (th, kpp, kk, _) = onsager_parts(t);
    if kpp == 0.0 {
        return -SQRT_2; // T = T_c exactly: κ''·K₁ → 0
    }
    -(1.0 + 2.0 / PI * kpp * kk) / th
}

/// Onsager's heat capacity per spin of the infinite lattice (`J = 1`, `h = 0`); `+inf` at `T_c`.
pub fn onsager_heat_capacity(t: f64) -> f64 {
    let (th, kpp, kk, ee) = onsager_parts(t);
    if kk.is_infinite() {
        return f64::INFINITY;
    }
    let kc = 1.0 / (t * th);
    2.0 / PI * kc * kc * (2.0 * kk - 2.0 * ee - (1.0 - kpp) * (FRAC_PI_2 + kpp * kk))
}

/// Yang's spontaneous magnetisation per spin `(1 - sinh(2/T)^{-4})^{1/8}` below `T_c`, else 0.
pub fn yang_magnetisation(t: f64) -> f64 {
    if t > 0.0 && t < T_C {
        (1.0 - (2.0 / t).sinh().powi(-4)).powf(0.125)
    } else if t > 0.0 {
        0.0
    } else {
        1.0
    }
}

/// Thermodynamics of a finite lattice (per spin where noted).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Thermo {
    /// `ln Z`.
    pub ln_z: f64,
    /// `U/N = <E>/N`.
    pub energy_per_spin: f64,
    /// `C/N = Var(E)/(N T²)`.
    pub heat_capacity_per_spin: f64,
}

/// One factor of a Kaufman term `Z_i = e^{p} f` and the derivatives of `p` and `f` in `K`.
#[derive(Clone, Copy, Debug)]
struct KTerm {
    p: f64,
    p1: f64,
    p2: f64,
    f: f64,
    f1: f64,
    f2: f64,
}

impl KTerm {
    const ONE: KTerm = KTerm {
        p: 0.0,
        p1: 0.0,
        p2: 0.0,
        f: 1.0,
        f1: 0.0,
        f2: 0.0,
    };

    /// Multiplies by `2 cosh x(K)` (any sign of x).
    fn cosh(&mut self, x: f64, x1: f64, x2: f64) {
        let ax = x.abs();
        let e = (-2.0 * ax).exp();
        let tanh = x.signum() * (1.0 - e) / (1.0 + e);
        let sech2 = 4.0 * e / ((1.0 + e) * (1.0 + e));
        self.p += ax + e.ln_1p();
        self.p1 += x1 * tanh;
        self.p2 += x2 * tanh + x1 * x1 * sech2;
    }

    /// Multiplies by `2 sinh x(K)` with `x > 0`.
    fn sinh(&mut self, x: f64, x1: f64, x2: f64) {
        let e = (-2.0 * x).exp();
        let coth = (1.0 + e) / (1.0 - e);
        let csch2 = 4.0 * e / ((1.0 - e) * (1.0 - e));
        self.p += x + (-e).ln_1p();
        self.p1 += x1 * coth;
        self.p2 += x2 * coth - x1 * x1 * csch2;
    }
}

/// Kaufman's exact `ln Z`, energy and heat capacity per spin of the `l x l` torus with `J = 1`,
/// `h = 0` at temperature `t` (see the module doc). `None` for `l < 2` or `t` not in `(0, ∞)`.
/// Verified against enumeration (`l = 3, 4`) and Onsager's limit (`l = 128`); stable for
/// `l` up to well beyond 128 and `0.5 <= t <= 5` (and further).
pub fn kaufman(l: usize, t: f64) -> Option<Thermo> {
    if l < 2 || !(t > 0.0 && t.is_finite()) {
        return None;
    }
    let kk = 1.0 / t;
    let (m, n) = (l as f64, l as f64);
    let spins = m * n;
    let s2 = (2.0 * kk).sinh();
    let c2 = (2.0 * kk).cosh();
    // c(K) = cosh 2K coth 2K = c2²/s2 and its K-derivatives.
    let c1 = 2.0 * c2 * (s2 * s2 - 1.0) / (s2 * s2);
    let cc2 = 4.0 * s2 * (1.0 - 1.0 / (s2 * s2)) + 8.0 * c2 * c2 / (s2 * s2 * s2);
    let mut z = [KTerm::ONE; 4];
    let half_m = 0.5 * m;
    for li in 0..2 * l {
        if li == 0 {
            let g = 2.0 * kk + kk.tanh().ln();
            let g1 = 2.0 + 2.0 / s2;
            let g2 = -4.0 * c2 / (s2 * s2);
            let (x, x1, x2) = (half_m * g, half_m * g1, half_m * g2);
            z[2].cosh(x, x1, x2);
            // Z₄'s factor 2 sinh x may vanish or be negative: keep it as f = 2 sinh(x)·e^{-|x|}.
            let ax = x.abs();
            let e = (-2.0 * ax).exp();
            z[3].p += ax;
            z[3].f = x.signum() * (1.0 - e);
            z[3].f1 = x1 * (1.0 + e);
            z[3].f2 = x2 * (1.0 + e) + x1 * x1 * x.signum() * (1.0 - e);
        } else {
            let theta = PI * li as f64 / n;
            let sh = (0.5 * theta).sin();
            let d = (s2 - 1.0) * (s2 - 1.0) / s2 + 2.0 * sh * sh; // cosh γ - 1
            let sg = (d * (d + 2.0)).sqrt(); // sinh γ
            let g = (d + sg).ln_1p();
            let g1 = c1 / sg;
            let g2 = (cc2 - (1.0 + d) * g1 * g1) / sg;
            let (x, x1, x2) = (half_m * g, half_m * g1, half_m * g2);
            if li % 2 == 1 {
                z[0].cosh(x, x1, x2);
                z[1].sinh(x, x1, x2);
            } else {
                z[2].cosh(x, x1, x2);
                z[3].sinh(x, x1, x2);
            }
        }
    }
    let pmax = z.iter().map(|t| t.p).fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = z.iter().map(|t| (t.p - pmax).exp()).collect();
    let s: f64 = z.iter().zip(&w).map(|(t, w)| w * t.f).sum();
    if s.is_nan() || s <= 0.0 {
        return None;
    }
    let abar: f64 = z
        .iter()
        .zip(&w)
        .map(|(t, w)| w * (t.f1 + t.f * t.p1))
        .sum::<f64>()
        / s;
    let second: f64 = z
        .iter()
        .zip(&w)
        .map(|(t, w)| {
            let dp = t.p1 - abar;
            w * (t.f2 + 2.0 * t.f1 * dp + t.f * (dp * dp + t.p2))
        })
        .sum::<f64>()
        / s;
    let ln_z = -std::f64::consts::LN_2 + 0.5 * spins * (2.0 * s2).ln() + pmax + s.ln();
    let d1 = spins * c2 / s2 + abar;
    let d2 = -2.0 * spins / (s2 * s2) + second;
    Some(Thermo {
        ln_z,
        energy_per_spin: -d1 / spins,
        heat_capacity_per_spin: kk * kk * d2 / spins,
    })
}

/// One level of the exact density of states: `count` states with these `B` and `M`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Level {
    /// `B = Σ_<ij> b_ij s_i s_j` (`E = -scale·B - h·M`).
    pub bond_sum: i64,
    /// `M = Σ s_i`.
    pub magnetisation: i64,
    /// Number of spin configurations with these values.
    pub count: u64,
}

/// Exact density of states `g(B, M)` of a small lattice, by exhaustive enumeration.
#[derive(Clone, Debug, PartialEq)]
pub struct DensityOfStates {
    spins: usize,
    scale: f64,
    levels: Vec<Level>,
}

impl DensityOfStates {
    /// Visits all `2^N` spin configurations of the lattice of `bonds` (any couplings) in
    /// Gray-code order; `None` if `N` exceeds [`limits::ENUM_SPINS`].
    pub fn enumerate(bonds: &Bonds) -> Option<Self> {
        let l = bonds.l;
        let n = l * l;
        if n == 0 || n > limits::ENUM_SPINS || l < 2 {
            return None;
        }
        let mut nb = vec![[(0usize, 0i64); 4]; n];
        for y in 0..l {
            for x in 0..l {
                let i = y * l + x;
                let xl = (x + l - 1) % l;
                let xr = (x + 1) % l;
                let yu = (y + l - 1) % l;
                let yd = (y + 1) % l;
                nb[i] = [
                    (y * l + xl, i64::from(bonds.sign_right(y * l + xl))),
                    (y * l + xr, i64::from(bonds.sign_right(i))),
                    (yu * l + x, i64::from(bonds.sign_down(yu * l + x))),
                    (yd * l + x, i64::from(bonds.sign_down(i))),
                ];
            }
        }
        let mut s = vec![1i64; n];
        let mut b: i64 = bonds.bond_sum(&vec![1i8; n]);
        let mut m = n as i64;
        let nn = n as i64;
        let width = 2 * n + 1;
        let mut counts = vec![0u64; (4 * n + 1) * width];
        let idx = |b: i64, m: i64| ((b + 2 * nn) as usize) * width + (m + nn) as usize;
        counts[idx(b, m)] += 1;
        for k in 1u64..(1u64 << n) {
            let i = k.trailing_zeros() as usize;
            let si = s[i];
            let h: i64 = nb[i].iter().map(|&(j, bj)| bj * s[j]).sum();
            b -= 2 * si * h;
            m -= 2 * si;
            s[i] = -si;
            counts[idx(b, m)] += 1;
        }
        let levels = counts
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(k, &count)| Level {
                bond_sum: (k / width) as i64 - 2 * nn,
                magnetisation: (k % width) as i64 - nn,
                count,
            })
            .collect();
        Some(Self {
            spins: n,
            scale: bonds.scale,
            levels,
        })
    }

    /// The non-empty levels, sorted by `B` then `M`.
    pub fn levels(&self) -> &[Level] {
        &self.levels
    }

    /// Number of spins `N`.
    pub fn spins(&self) -> usize {
        self.spins
    }

    fn energies(&self, h: f64) -> impl Iterator<Item = f64> + '_ {
        self.levels
            .iter()
            .map(move |lv| IsingProblem::energy_of(self.scale, h, lv.bond_sum, lv.magnetisation))
    }

    /// Lowest energy over all states at field `h` (the ground state, also for spin glasses).
    pub fn ground_energy(&self, h: f64) -> f64 {
        self.energies(h).fold(f64::INFINITY, f64::min)
    }

    /// Boltzmann probability of each level (same order as [`Self::levels`]) at `t > 0`, `h`.
    pub fn probabilities(&self, t: f64, h: f64) -> Vec<f64> {
        let e0 = self.ground_energy(h);
        let w: Vec<f64> = self
            .energies(h)
            .zip(&self.levels)
            .map(|(e, lv)| lv.count as f64 * (-(e - e0) / t).exp())
            .collect();
        let z: f64 = w.iter().sum();
        w.into_iter().map(|w| w / z).collect()
    }

    /// Exact `ln Z`, `U/N`, `C/N` at `t > 0`, `h`.
    pub fn thermo(&self, t: f64, h: f64) -> Thermo {
        let e0 = self.ground_energy(h);
        let (mut z, mut s1) = (0.0, 0.0);
        for (e, lv) in self.energies(h).zip(&self.levels) {
            let w = lv.count as f64 * (-(e - e0) / t).exp();
            z += w;
            s1 += w * e;
        }
        let mean = s1 / z;
        let var: f64 = self
            .energies(h)
            .zip(&self.levels)
            .map(|(e, lv)| lv.count as f64 * (-(e - e0) / t).exp() * (e - mean) * (e - mean))
            .sum::<f64>()
            / z;
        let n = self.spins as f64;
        Thermo {
            ln_z: z.ln() - e0 / t,
            energy_per_spin: mean / n,
            heat_capacity_per_spin: var / (t * t * n),
        }
    }

    /// Exact `<|M|>/N` at `t > 0`, `h`.
    pub fn mean_abs_magnetisation(&self, t: f64, h: f64) -> f64 {
        let p = self.probabilities(t, h);
        let m: f64 = self
            .levels
            .iter()
            .zip(&p)
            .map(|(lv, p)| p * lv.magnetisation.abs() as f64)
            .sum();
        m / self.spins as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ----- helpers ---------------------------------------------------------------------------

    /// A problem of any size >= 2 (bypasses the size limit, for enumerable lattices).
    fn small(
        l: usize,
        coupling: Coupling,
        h: f64,
        update: Update,
        seed: u64,
    ) -> (IsingProblem, Pcg64Mcg) {
        let cfg = IsingConfig {
            size: l,
            coupling,
            field: h,
            update,
            start: Start::Random,
        };
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let p = IsingProblem::build(&cfg, &mut rng);
        (p, rng)
    }

    const FERRO: Coupling = Coupling::Ferro { j: 1.0 };
    const MET_CB: Update = Update::Metropolis {
        order: Order::Checkerboard,
    };
    const MET_RND: Update = Update::Metropolis {
        order: Order::Random,
    };
    const HB_CB: Update = Update::HeatBath {
        order: Order::Checkerboard,
    };
    const HB_RND: Update = Update::HeatBath {
        order: Order::Random,
    };

    #[test]
    fn wolff_steps_flip_about_n_spins() {
        // Cooling from hot to cold, the mean number of spins flipped per step stays near N.
        for l in [16, 64] {
            let n = (l * l) as f64;
            let cfg = IsingConfig {
                size: l,
                update: Update::Wolff,
                ..IsingConfig::default()
            };
            let mut rng = Pcg64Mcg::seed_from_u64(l as u64);
            let mut p = IsingProblem::new(&cfg, &mut rng).expect("valid");
            for t in [10.0, 5.0, 3.0, 2.6, 2.4, 2.3, T_C, 2.2, 2.0, 1.5, 0.5] {
                for _ in 0..50 {
                    p.sweep(t, &mut rng);
                }
                let steps = 150;
                let flipped: u64 = (0..steps)
                    .map(|_| p.sweep(t, &mut rng).map_or(0, |s| s.attempted))
                    .sum();
                let ratio = flipped as f64 / (steps as f64 * n);
                println!(
                    "Wolff L={l} T={t}: {} clusters/step, {ratio:.2} N flips/step",
                    wolff_clusters(l, t)
                );
                assert!((0.4..2.5).contains(&ratio), "L={l} T={t}: {ratio}");
            }
        }
        assert_eq!(wolff_clusters(64, 0.0), 1);
        assert_eq!(wolff_clusters(64, f64::NAN), 1);
        assert_eq!(wolff_clusters(64, f64::INFINITY), 4096);
    }

    // ----- 4. exact results against each other ----------------------------------------------

    #[test]
    fn kaufman_matches_enumeration() {
        for l in [2, 3, 4] {
            let dos = DensityOfStates::enumerate(&Bonds::new(l, &FERRO)).expect("enumerable");
            for t in [0.5, 0.8, 1.0, 1.5, 2.0, 2.2, T_C, 2.4, 2.7, 3.0, 4.0, 5.0] {
                let ka = kaufman(l, t).expect("kaufman");
                let en = dos.thermo(t, 0.0);
                let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
                println!(
                    "L={l} T={t}: lnZ {:e} U {:e} C {:e}",
                    rel(ka.ln_z, en.ln_z),
                    rel(ka.energy_per_spin, en.energy_per_spin),
                    rel(ka.heat_capacity_per_spin, en.heat_capacity_per_spin)
                );
                assert!(
                    rel(ka.ln_z, en.ln_z) < 1e-10,
                    "L={l} T={t} lnZ {} vs {}",
                    ka.ln_z,
                    en.ln_z
                );
                assert!(
                    rel(ka.energy_per_spin, en.energy_per_spin) < 1e-10,
                    "L={l} T={t} U"
                );
                assert!(
                    rel(ka.heat_capacity_per_spin, en.heat_capacity_per_spin) < 1e-10,
                    "L={l} T={t} C"
                );
            }
        }
    }

    #[test]
    fn kaufman_is_stable_and_self_consistent_up_to_l128() {
        for l in [8, 32, 64, 128, 256] {
            let mut last_u = f64::NEG_INFINITY;
            for k in 0..=90 {
                let t = 0.5 + 0.05 * k as f64;
                let th = kaufman(l, t).expect("kaufman");
                assert!(
                    th.ln_z.is_finite() && th.heat_capacity_per_spin > 0.0,
                    "L={l} T={t}: {th:?}"
                );
                assert!(
                    th.energy_per_spin > last_u
                        && th.energy_per_spin < 0.0
                        && th.energy_per_spin >= -2.0
                );
                last_u = th.energy_per_spin;
            }
        }
        // Analytic derivatives against central differences of ln Z and U (L = 128).
        let l = 128;
        let n = (l * l) as f64;
        for t in [0.5, 1.0, 2.0, 2.25, T_C, 2.3, 2.5, 3.5, 5.0] {
            let th = kaufman(l, t).expect("kaufman");
            let dk = 1e-5;
            let lz = |k: f64| kaufman(l, 1.0 / k).expect("kaufman").ln_z;
            let u_num = -(lz(1.0 / t + dk) - lz(1.0 / t - dk)) / (2.0 * dk) / n;
            let dt = 1e-5 * t;
            let u = |t: f64| kaufman(l, t).expect("kaufman").energy_per_spin;
            let c_num = (u(t + dt) - u(t - dt)) / (2.0 * dt);
            println!(
                "L=128 T={t}: U {} vs {u_num}; C {} vs {c_num}",
                th.energy_per_spin, th.heat_capacity_per_spin
            );
            assert!((th.energy_per_spin - u_num).abs() < 1e-6, "T={t}: U");
            assert!(
                (th.heat_capacity_per_spin - c_num).abs()
                    < 1e-5 * th.heat_capacity_per_spin.max(1.0),
                "T={t}: C"
            );
        }
    }

    #[test]
    fn onsager_matches_kaufman_l128_away_from_tc() {
        let mut worst = (0.0f64, 0.0f64);
        for t in [0.5, 1.0, 1.5, 2.0, 2.1, 2.45, 2.6, 3.0, 4.0, 5.0] {
            let ka = kaufman(128, t).expect("kaufman");
            let du = (onsager_energy(t) - ka.energy_per_spin).abs();
            let dc = (onsager_heat_capacity(t) - ka.heat_capacity_per_spin).abs();
            worst = (worst.0.max(du), worst.1.max(dc));
            assert!(du < 1e-3 && dc < 1e-3, "T={t}: du={du} dc={dc}");
        }
        println!(
            "Onsager vs Kaufman L=128 away from T_c: max |du| = {:e}, max |dc| = {:e}",
            worst.0, worst.1
        );
        // Near T_c the finite lattice differs, as it must: the peak is finite.
        let ka = kaufman(128, T_C).expect("kaufman");
        assert!((onsager_energy(T_C) + SQRT_2).abs() < 1e-12);
        // c diverges logarithmically: at the f64 nearest T_c it is large but finite.
        assert!(
            onsager_heat_capacity(T_C) > 10.0
                && onsager_heat_capacity(T_C) > ka.heat_capacity_per_spin
        );
        assert!(ka.heat_capacity_per_spin > 2.0);
        assert!(
            (onsager_heat_capacity(2.0)
                - kaufman(512, 2.0).expect("kaufman").heat_capacity_per_spin)
                .abs()
                < 1e-9
        );
    }

    #[test]
    fn onsager_heat_capacity_is_derivative_of_energy() {
        for t in [0.7, 1.5, 2.0, 2.2, 2.35, 3.0, 4.5] {
            let h = 1e-5;
            let num = (onsager_energy(t + h) - onsager_energy(t - h)) / (2.0 * h);
            let c = onsager_heat_capacity(t);
            assert!((num - c).abs() < 1e-6 * c.max(1.0), "T={t}: {num} vs {c}");
        }
        // Limits: ground state energy -2 and zero heat capacity at low T, u -> -2 tanh K... at high T.
        assert!((onsager_energy(0.2) + 2.0).abs() < 1e-8);
        // High-T series u = -2t - 4t³ + O(t⁵), t = tanh(1/T).
        let t = (1.0f64 / 50.0).tanh();
        assert!((onsager_energy(50.0) + 2.0 * t + 4.0 * t.powi(3)).abs() < 1e-7);
    }

    #[test]
    fn elliptic_integrals_match_known_values() {
        assert!((ellip_k(0.0) - FRAC_PI_2).abs() < 1e-15);
        assert!((ellip_e(0.0) - FRAC_PI_2).abs() < 1e-15);
        assert_eq!(ellip_e(1.0), 1.0);
        assert!(ellip_k(1.0).is_infinite());
        // k = 1/√2 (lemniscatic): K = Γ(1/4)²/(4√π), E = K/2 + π/(4K).
        let k = ellip_k(std::f64::consts::FRAC_1_SQRT_2);
        assert!((k - 1.854_074_677_301_371_9).abs() < 1e-14, "{k}");
        let e = ellip_e(std::f64::consts::FRAC_1_SQRT_2);
        assert!((e - 1.350_643_881_047_675_5).abs() < 1e-14, "{e}");
        // k = 1/2 (m = 1/4).
        assert!((ellip_k(0.5) - 1.685_750_354_812_596).abs() < 1e-14);
        assert!((ellip_e(0.5) - 1.467_462_209_339_427_2).abs() < 1e-14);
        // Legendre's relation E K' + E' K - K K' = π/2 for several moduli.
        for k in [0.1f64, 0.3, 0.6, 0.9, 0.99, 0.999_999] {
            let kp = ((1.0 - k) * (1.0 + k)).sqrt();
            let (kk, ee) = (ellip_k(k), ellip_e(k));
            let (kk2, ee2) = (ellip_k(kp), ellip_e(kp));
            assert!(
                (ee * kk2 + ee2 * kk - kk * kk2 - FRAC_PI_2).abs() < 1e-13,
                "k={k}"
            );
        }
        // Near k = 1: K ~ ln(4/k').
        let kp = 1e-8f64;
        let (kk, _) = agm_k_e((1.0 - kp * kp).sqrt(), kp);
        assert!((kk - (4.0 / kp).ln()).abs() < 1e-12);
        assert!(ellip_k(1.5).is_nan());
    }

    #[test]
    fn critical_temperature_and_yang() {
        assert!((T_C - 2.0 / SQRT_2.ln_1p()).abs() < 1e-15);
        assert!((yang_magnetisation(2.0) - 0.911_319_377_877_331).abs() < 1e-9);
        assert_eq!(yang_magnetisation(T_C), 0.0);
        assert_eq!(yang_magnetisation(3.0), 0.0);
        assert!((yang_magnetisation(0.5) - 1.0).abs() < 1e-6);
        assert!(yang_magnetisation(T_C - 1e-6) < 0.2);
    }

    // ----- 5. spin-glass ground states by annealing ------------------------------------------

    #[test]
    fn annealing_finds_spin_glass_ground_states_l4() {
        for (k, seed) in [1u64, 2, 3, 4, 5, 6].into_iter().enumerate() {
            let coupling = Coupling::SpinGlass { seed };
            let h = if k % 3 == 2 { 0.25 } else { 0.0 };
            let dos = DensityOfStates::enumerate(&Bonds::new(4, &coupling)).expect("enumerable");
            let ground = dos.ground_energy(h);
            assert!(
                ground > -32.0 - 16.0 * h.abs(),
                "seed {seed}: instance not frustrated"
            );
            let update = if k % 2 == 0 { MET_CB } else { HB_RND };
            let (mut p, mut rng) = small(4, coupling, h, update, 900 + seed);
            let steps = 3000;
            for s in 0..steps {
                let t = 3.0 * (0.05f64 / 3.0).powf(s as f64 / (steps - 1) as f64);
                p.sweep(t, &mut rng);
                if p.energy() < p.best().1 {
                    p.store_best();
                }
            }
            println!(
                "EA seed {seed} h={h}: ground {ground}, annealed {}",
                p.energy()
            );
            assert_eq!(p.energy(), ground, "seed {seed}");
            assert_eq!(p.best().1, ground);
            assert_eq!(p.recompute_energy(), ground);
        }
    }

    // ----- 6. energy bookkeeping --------------------------------------------------------------

    /// Independent recomputation from `j_right`/`j_down`: (B from signs, M, E summed in f64).
    fn independent(p: &IsingProblem) -> (i64, i64, f64) {
        let (l, s, b) = (p.size(), p.spins(), p.bonds());
        let (mut bs, mut m, mut e) = (0i64, 0i64, 0.0);
        for y in 0..l {
            for x in 0..l {
                let si = s[y * l + x];
                let sr = s[y * l + (x + 1) % l];
                let sd = s[((y + 1) % l) * l + x];
                let (jr, jd) = (b.j_right(x, y), b.j_down(x, y));
                let sg = |j: f64| (j / b.scale()) as i8; // the bond's sign b_ij
                bs += i64::from(sg(jr) * si * sr) + i64::from(sg(jd) * si * sd);
                e -= jr * f64::from(si * sr) + jd * f64::from(si * sd);
                m += i64::from(si);
            }
        }
        (bs, m, e - p.field() * m as f64)
    }

    #[test]
    fn energy_bookkeeping_is_exact_for_every_update() {
        let couplings = [
            (FERRO, 0.0),
            (Coupling::Ferro { j: -0.7 }, 0.3),
            (Coupling::Ferro { j: 1.3 }, -0.45),
            (Coupling::SpinGlass { seed: 11 }, 0.2),
            (Coupling::SpinGlass { seed: 12 }, 0.0),
            (Coupling::Ferro { j: -1.0 }, 0.0),
        ];
        let temps = [0.0, 0.4, 1.0, T_C, 3.5, f64::INFINITY, f64::NAN];
        let mut k = 0;
        for l in [2, 3, 8, 9, 16, 33] {
            for &(coupling, h) in &couplings {
                for update in [MET_CB, MET_RND, HB_CB, HB_RND, Update::Wolff] {
                    if update == Update::Wolff
                        && (h != 0.0 || matches!(coupling, Coupling::SpinGlass { .. }))
                    {
                        continue;
                    }
                    k += 1;
                    let (mut p, mut rng) = small(l, coupling, h, update, 7000 + k);
                    let e_start = p.energy();
                    let mut sum_de = 0.0;
                    for s in 0..300 {
                        let sw = p.sweep(temps[s % temps.len()], &mut rng).expect("sweeps");
                        assert!(sw.accepted <= sw.attempted);
                        assert!(
                            sw.attempted >= (l * l) as u64
                                || update == Update::Wolff && sw.attempted > 0
                        );
                        sum_de += sw.de;
                    }
                    let (b, m, e) = independent(&p);
                    assert_eq!(
                        (p.bond_sum(), p.magnetisation()),
                        (b, m),
                        "L={l} {coupling:?} {update:?}"
                    );
                    assert_eq!(p.energy().to_bits(), p.recompute_energy().to_bits());
                    assert!(
                        (p.energy() - e).abs() <= 1e-12 * (l * l) as f64,
                        "{} vs {e}",
                        p.energy()
                    );
                    if coupling == FERRO
                        || matches!(coupling, Coupling::SpinGlass { .. }) && h == 0.0
                    {
                        assert_eq!(p.energy(), e, "integer couplings: exact");
                    }
                    assert!((e_start + sum_de - p.energy()).abs() < 1e-9 * (l * l) as f64);
                }
            }
        }
    }

    #[test]
    fn zero_temperature_only_goes_downhill_and_infinite_heats_up() {
        for update in [MET_CB, MET_RND, HB_CB, HB_RND] {
            let (mut p, mut rng) = small(32, FERRO, 0.1, update, 5);
            let mut last = p.energy();
            for _ in 0..50 {
                let sw = p.sweep(0.0, &mut rng).expect("sweep");
                assert!(sw.de <= 0.0 && p.energy() <= last);
                last = p.energy();
            }
            assert!(
                p.energy() / 1024.0 < -1.5,
                "{update:?} quench got stuck high: {}",
                p.energy()
            );
            let cold = p.spins().to_vec();
            for _ in 0..50 {
                let sw = p.sweep(f64::INFINITY, &mut rng).expect("sweep");
                if update == MET_CB {
                    assert_eq!(
                        sw.accepted, 1024,
                        "checkerboard Metropolis at T = inf flips all spins"
                    );
                }
            }
            if update == MET_CB {
                // Periodic, not ergodic: an even number of all-spin flips is the identity.
                assert_eq!(p.spins(), &cold[..]);
            } else {
                assert!(
                    p.densities()[0].abs() < 0.2 && p.densities()[1] < 0.2,
                    "{update:?}: {:?}",
                    p.densities()
                );
            }
        }
        // An ordered ferromagnet at T = 0 never changes (Wolff included: clusters flip back and forth
        // but each step flips at least N spins and the energy stays the ground energy).
        for update in [MET_CB, MET_RND, HB_CB, Update::Wolff] {
            let cfg = IsingConfig {
                size: 8,
                update,
                start: Start::Up,
                ..IsingConfig::default()
            };
            let mut rng = Pcg64Mcg::seed_from_u64(1);
            let mut p = IsingProblem::new(&cfg, &mut rng).expect("valid");
            for _ in 0..10 {
                let sw = p.sweep(0.0, &mut rng).expect("sweep");
                assert_eq!(sw.de, 0.0);
            }
            assert_eq!(p.energy(), -128.0);
        }
    }

    // ----- 7. configuration --------------------------------------------------------------------

    #[test]
    fn validation_refuses_bad_configs_with_field_paths() {
        let ok = IsingConfig::default();
        assert_eq!(ok.validate(), Ok(()));
        let bad = |c: IsingConfig| c.validate().expect_err("must be refused");
        let e = bad(IsingConfig {
            size: 7,
            ..ok.clone()
        });
        assert_eq!(
            (e.field.as_str(), e.value.as_str(), e.allowed.as_str()),
            ("size", "7", "8 ..= 1024")
        );
        assert_eq!(
            bad(IsingConfig {
                size: 1025,
                ..ok.clone()
            })
            .field,
            "size"
        );
        assert_eq!(
            bad(IsingConfig {
                field: f64::NAN,
                ..ok.clone()
            })
            .field,
            "field"
        );
        assert_eq!(
            bad(IsingConfig {
                field: 11.0,
                ..ok.clone()
            })
            .field,
            "field"
        );
        assert_eq!(
            bad(IsingConfig {
                coupling: Coupling::Ferro { j: f64::NAN },
                ..ok.clone()
            })
            .field,
            "coupling.j"
        );
        assert_eq!(
            bad(IsingConfig {
                coupling: Coupling::Ferro { j: -20.0 },
                ..ok.clone()
            })
            .field,
            "coupling.j"
        );
        let w = IsingConfig {
            update: Update::Wolff,
            ..ok.clone()
        };
        assert_eq!(w.validate(), Ok(()));
        let e = bad(IsingConfig {
            field: 0.5,
            ..w.clone()
        });
        assert_eq!(e.field, "update");
        assert!(
            e.allowed.contains("Metropolis or HeatBath") && e.allowed.contains("field = 0"),
            "{}",
            e.allowed
        );
        println!("{e}");
        let e = bad(IsingConfig {
            coupling: Coupling::SpinGlass { seed: 1 },
            ..w.clone()
        });
        assert_eq!(e.field, "update");
        assert!(e.allowed.contains("SpinGlass"));
        assert!(
            IsingConfig {
                coupling: Coupling::Ferro { j: -1.0 },
                ..w
            }
            .validate()
            .is_ok()
        );
        // `new` refuses too.
        let mut rng = Pcg64Mcg::seed_from_u64(0);
        assert!(IsingProblem::new(&IsingConfig { size: 7, ..ok }, &mut rng).is_err());
    }

    #[test]
    fn config_reads_from_ron_and_refuses_unknown_fields() {
        let cfg: IsingConfig = ron::from_str(
            "(size: 128, coupling: SpinGlass(seed: 5), field: 0.25, update: HeatBath(order: Random), start: Up)",
        )
        .expect("parses");
        assert_eq!(cfg.size, 128);
        assert_eq!(cfg.coupling, Coupling::SpinGlass { seed: 5 });
        assert_eq!(
            cfg.update,
            Update::HeatBath {
                order: Order::Random
            }
        );
        assert_eq!(cfg.start, Start::Up);
        let d: IsingConfig = ron::from_str("(update: Metropolis())").expect("defaults fill in");
        assert_eq!(d, IsingConfig::default());
        let w: IsingConfig =
            ron::from_str("(update: Wolff, coupling: Ferro(j: -1.0))").expect("parses");
        assert_eq!(w.update, Update::Wolff);
        assert!(ron::from_str::<IsingConfig>("(sise: 64)").is_err());
        assert!(ron::from_str::<IsingConfig>("(coupling: Ferro(j: 1.0, k: 2.0))").is_err());
        assert!(ron::from_str::<IsingConfig>("(update: Metropolis(order: Random, x: 1))").is_err());
        assert!(
            ron::from_str::<IsingConfig>("(seed: 1)").is_err(),
            "the seed is not a config field"
        );
        let back: IsingConfig =
            ron::from_str(&ron::to_string(&cfg).expect("writes")).expect("reads");
        assert_eq!(back, cfg);
    }

    // ----- the rest of the public surface -----------------------------------------------------

    #[test]
    fn same_rng_state_gives_same_result() {
        let run = |seed: u64, update: Update| {
            let cfg = IsingConfig {
                size: 24,
                update,
                ..IsingConfig::default()
            };
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            let mut p = IsingProblem::new(&cfg, &mut rng).expect("valid");
            for _ in 0..20 {
                p.sweep(2.0, &mut rng);
            }
            p.spins().to_vec()
        };
        for update in [MET_CB, MET_RND, HB_CB, HB_RND, Update::Wolff] {
            assert_eq!(run(1, update), run(1, update));
            assert_ne!(run(1, update), run(2, update));
        }
    }

    #[test]
    fn spin_glass_couplings_are_deterministic_and_balanced() {
        let a = Bonds::new(64, &Coupling::SpinGlass { seed: 42 });
        assert_eq!(a, Bonds::new(64, &Coupling::SpinGlass { seed: 42 }));
        assert_ne!(a, Bonds::new(64, &Coupling::SpinGlass { seed: 43 }));
        let neg = a.negative_bonds() as f64;
        let bonds = 2.0 * 64.0 * 64.0;
        assert!(
            (neg - bonds / 2.0).abs() < 4.0 * (bonds / 4.0).sqrt(),
            "{neg}"
        );
        // Right and down signs are not the same draw.
        let same = (0..64)
            .flat_map(|y| (0..64).map(move |x| (x, y)))
            .filter(|&(x, y)| a.j_right(x, y) == a.j_down(x, y))
            .count();
        assert!((same as f64 - 2048.0).abs() < 200.0);
        assert_eq!(
            Bonds::new(8, &Coupling::Ferro { j: -2.0 }).negative_bonds(),
            128
        );
        assert_eq!(
            Bonds::new(8, &Coupling::Ferro { j: -2.0 }).j_down(3, 7),
            -2.0
        );
    }

    #[test]
    fn state_observe_and_problem_surface() {
        let cfg = IsingConfig {
            size: 10,
            coupling: Coupling::SpinGlass { seed: 9 },
            field: 0.5,
            ..IsingConfig::default()
        };
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let mut p = IsingProblem::new(&cfg, &mut rng).expect("valid");
        for _ in 0..5 {
            p.sweep(1.0, &mut rng);
        }
        let st = p.export_state();
        // Recompute E from the state alone, as an outside program would.
        let l = st.size;
        let mut e = 0.0;
        for y in 0..l {
            for x in 0..l {
                let i = y * l + x;
                let s = f64::from(st.spins[i]);
                e -= s * f64::from(st.bonds_right[i]) * f64::from(st.spins[y * l + (x + 1) % l]);
                e -= s * f64::from(st.bonds_down[i]) * f64::from(st.spins[((y + 1) % l) * l + x]);
                e -= st.field * s;
            }
        }
        assert!((e - st.energy).abs() < 1e-9);
        assert_eq!(
            st.magnetisation,
            st.spins.iter().map(|&s| i64::from(s)).sum::<i64>()
        );
        assert_eq!(
            st.negative_bonds,
            st.bonds_right
                .iter()
                .chain(&st.bonds_down)
                .filter(|&&b| b < 0)
                .count()
        );
        let json = serde_json::to_string(&st).expect("serialises");
        assert!(json.contains("\"SpinGlass\"") && json.contains("\"bonds_right\""));
        let ferro = IsingProblem::new(&IsingConfig::default(), &mut rng)
            .expect("valid")
            .export_state();
        assert!(
            !serde_json::to_string(&ferro)
                .expect("serialises")
                .contains("bonds_right")
        );
        let o = p.densities();
        assert_eq!(OBSERVABLES[0].column, "energy_per_spin");
        assert_eq!(o[0], p.energy() / 100.0);
        assert_eq!(o[2], p.magnetisation() as f64 / 100.0);
        assert_eq!(o[1], o[2].abs());
        // propose/accept/reject are inert.
        let before = p.spins().to_vec();
        assert_eq!(p.propose(ProposalKind::All, 1.0, &mut rng), f64::INFINITY);
        p.accept();
        p.reject();
        assert_eq!(p.spins(), &before[..]);
        p.store_best();
        assert_eq!(p.best(), (&before[..], p.energy()));
    }

    #[test]
    fn paint_writes_the_spin_colours() {
        let cfg = IsingConfig {
            size: 16,
            ..IsingConfig::default()
        };
        let mut rng = Pcg64Mcg::seed_from_u64(8);
        let p = IsingProblem::new(&cfg, &mut rng).expect("valid");
        let mut buf = vec![0u8; 16 * 16 * 4];
        p.paint_rgba(&mut buf);
        for (px, &s) in buf.chunks_exact(4).zip(p.spins()) {
            assert_eq!(px, if s > 0 { &UP_RGBA } else { &DOWN_RGBA });
        }
        let mut short = vec![7u8; 10];
        p.paint_rgba(&mut short);
        assert_eq!(&short[8..], &[7, 7]);
    }

    #[test]
    fn flip_tables_hold_the_acceptance_probabilities() {
        let t = 2.0;
        let m = flip_table(Rule::Metropolis, t, 1.0, 0.3);
        let g = flip_table(Rule::Glauber, t, 1.0, 0.3);
        for n in [-4i32, -2, 0, 2, 4] {
            for s in [-1i32, 1] {
                let idx = (n + 4 + (s + 1) / 2) as usize;
                let de = 2.0 * f64::from(s) * (f64::from(n) + 0.3);
                let pm = (-de / t).exp().min(1.0);
                let pg = 1.0 / (1.0 + (de / t).exp());
                assert!((m[idx] as f64 / 4_294_967_296.0 - pm).abs() < 1e-9);
                assert!((g[idx] as f64 / 4_294_967_296.0 - pg).abs() < 1e-9);
            }
        }
        assert_eq!(threshold(1.0), 1 << 32);
        assert_eq!(threshold(0.0), 0);
        assert_eq!(threshold(f64::NAN), 0);
    }

    // ----- 8. the kind: window, exact curves, view ----------------------------------------------

    #[test]
    fn the_window_detrends_a_drift_and_stops_at_a_temperature_change() {
        // Noise of known variance on a linear drift: the detrended variance is the noise's,
        // the plain one would include the drift's (here 100 times larger).
        let mut r = Recent::default();
        let mut x: u64 = 7;
        let mut noise = || {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5 // uniform, variance 1/12
        };
        for k in 0..WINDOW {
            let t = 2.0 - 1e-5 * k as f64; // cooling: 0.5% over the window
            r.push([
                t,
                -1.0 - 0.01 * k as f64 + 0.01 * noise(),
                0.5 + 0.01 * noise(),
            ]);
        }
        let t = 2.0 - 1e-5 * (WINDOW - 1) as f64;
        let f = r.fluctuations(t, 100.0);
        assert!(f.detrended && f.samples == WINDOW, "{f:?}");
        let want = 100.0 * 1e-4 / 12.0; // N Var(noise)
        assert!((f.heat_capacity * t * t / want - 1.0).abs() < 0.1, "{f:?}");
        assert!((f.susceptibility * t / want - 1.0).abs() < 0.1, "{f:?}");
        // At constant T the plain sample variance, exactly.
        let mut c = Recent::default();
        let vals = [1.0, 2.0, 4.0, 7.0];
        for k in 0..WINDOW {
            c.push([1.5, vals[k % 4], 0.0]);
        }
        let f = c.fluctuations(1.5, 10.0);
        let mean = 3.5;
        let var = vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 4.0 * WINDOW as f64
            / (WINDOW - 1) as f64;
        assert!(!f.detrended);
        assert!((f.heat_capacity - 10.0 * var / 2.25).abs() < 1e-9, "{f:?}");
        assert_eq!(f.susceptibility, 0.0);
        // A reheat: only the sweeps at the new temperature count, and too few give NaN.
        for _ in 0..10 {
            c.push([3.0, 1.0, 0.0]);
        }
        let f = c.fluctuations(3.0, 10.0);
        assert_eq!(f.samples, 10);
        assert!(f.heat_capacity.is_nan() && f.susceptibility.is_nan());
        for _ in 0..WINDOW_MIN {
            c.push([3.0, 1.0, 0.0]);
        }
        assert_eq!(c.fluctuations(3.0, 10.0).heat_capacity, 0.0);
        assert!(
            Recent::default()
                .fluctuations(1.0, 4.0)
                .heat_capacity
                .is_nan()
        );
    }

    #[test]
    fn exact_curves_scale_with_j_and_exist_only_where_exact() {
        let cfg = |size: usize, coupling: Coupling, field: f64| IsingConfig {
            size,
            coupling,
            field,
            ..IsingConfig::default()
        };
        let one = ExactCurves::new(&cfg(32, FERRO, 0.0)).expect("ferromagnet");
        assert!((one.critical - T_C).abs() < 1e-12);
        assert!(
            one.points
                .windows(2)
                .all(|w| w[0].temperature < w[1].temperature)
        );
        // Table points are Kaufman and Onsager themselves; in between, close to them.
        for t in [1.2, 2.0, 2.25, 2.3, 3.0, 5.0] {
            let p = one.at(t).expect("in range");
            let k = kaufman(32, t).expect("kaufman");
            assert!(
                (p.finite_energy - k.energy_per_spin).abs() < 2e-3,
                "T={t}: {p:?}"
            );
            assert!(
                (p.finite_heat_capacity - k.heat_capacity_per_spin).abs()
                    < 0.02 * k.heat_capacity_per_spin.max(0.1),
                "T={t}: {p:?} vs {k:?}"
            );
            assert!((p.energy - onsager_energy(t)).abs() < 2e-3);
            assert!((p.magnetisation - yang_magnetisation(t)).abs() < 5e-3);
        }
        assert!(one.at(0.1).is_none() && one.at(50.0).is_none());
        // j = 2: the same curves at twice the temperature, energies doubled, C unchanged.
        let two = ExactCurves::new(&cfg(32, Coupling::Ferro { j: 2.0 }, 0.0)).expect("ferro");
        let (a, b) = (one.at(1.9).expect("in"), two.at(3.8).expect("in"));
        assert!((b.finite_energy - 2.0 * a.finite_energy).abs() < 1e-9);
        assert!((b.finite_heat_capacity - a.finite_heat_capacity).abs() < 1e-9);
        assert!((two.critical - 2.0 * T_C).abs() < 1e-12);
        // The antiferromagnet on an even torus: same energy and C, no uniform order.
        let af = ExactCurves::new(&cfg(32, Coupling::Ferro { j: -1.0 }, 0.0)).expect("even");
        let c = af.at(1.9).expect("in");
        assert_eq!(c.finite_energy, a.finite_energy);
        assert!(c.magnetisation.is_nan());
        assert!(ExactCurves::new(&cfg(33, Coupling::Ferro { j: -1.0 }, 0.0)).is_none());
        assert!(ExactCurves::new(&cfg(32, FERRO, 0.1)).is_none());
        assert!(ExactCurves::new(&cfg(32, Coupling::SpinGlass { seed: 1 }, 0.0)).is_none());
        // Large lattices stay finite over the whole table (the finite-size peak included).
        let big = ExactCurves::new(&cfg(1024, FERRO, 0.0)).expect("ferro");
        assert!(big.points.iter().all(|p| p.finite_energy.is_finite()
            && p.finite_heat_capacity.is_finite()
            && p.finite_heat_capacity >= 0.0));
        let peak = big
            .points
            .iter()
            .max_by(|a, b| a.finite_heat_capacity.total_cmp(&b.finite_heat_capacity))
            .expect("points");
        assert!((peak.temperature / T_C - 1.0).abs() < 2e-3, "{peak:?}");
    }

    #[test]
    fn the_kind_reports_views_state_and_observables() {
        let cfg = IsingConfig {
            size: 12,
            ..IsingConfig::default()
        };
        let mut rng = Pcg64Mcg::seed_from_u64(2);
        let mut ps = IsingProblem::replicas(&cfg, 3, &mut rng).expect("valid");
        assert!(Arc::ptr_eq(
            ps[0].exact().expect("exact"),
            ps[2].exact().expect("exact")
        ));
        assert_ne!(
            ps[0].spins(),
            ps[1].spins(),
            "replicas draw their own spins"
        );
        let p = &mut ps[0];
        for _ in 0..40 {
            p.sweep(2.0, &mut rng);
        }
        let ProblemView::Ising(v) = p.view(&ViewRequest {
            grid: 0,
            replica: false,
        }) else {
            panic!("an Ising view");
        };
        assert_eq!(v.size, 12);
        assert!(
            v.spins
                .iter()
                .zip(p.spins())
                .all(|(&b, &s)| b == u8::from(s > 0))
        );
        assert_eq!(v.magnetisation, p.magnetisation() as f64 / 144.0);
        let ProblemView::Ising(r) = p.view(&ViewRequest {
            grid: 0,
            replica: true,
        }) else {
            panic!("an Ising view");
        };
        assert!(r.spins.is_empty(), "a replica's view is cheap");
        let mut out = [0.0; 5];
        p.observe(
            &ChainStats {
                temperature: 2.0,
                heat_capacity: 0.0,
            },
            &mut out,
        );
        assert_eq!(&out[..3], &p.densities()[..]);
        assert!(out[3] > 0.0 && out[4] > 0.0, "{out:?}");
        assert_eq!(OBSERVABLES.len(), 5);
        p.store_best();
        let ProblemState::Ising(st) = p.state() else {
            panic!("an Ising state");
        };
        assert_eq!((st.best_spins.as_slice(), st.best_energy), p.best());
        // Enumerable lattices: sizes 2 to 5 only, other settings validated.
        let tiny = |size, update| IsingConfig {
            size,
            update,
            field: 0.5,
            ..IsingConfig::default()
        };
        assert!(IsingProblem::enumerable(&tiny(4, MET_CB), &mut rng).is_some());
        assert!(IsingProblem::enumerable(&tiny(6, MET_CB), &mut rng).is_none());
        assert!(IsingProblem::enumerable(&tiny(4, Update::Wolff), &mut rng).is_none());
    }
}
