//! A binary restricted Boltzmann machine (RBM) on tiny images: exact statistical
//! mechanics by enumeration, learning by the exact gradient, contrastive divergence (CD-k)
//! or persistent CD, block-Gibbs sampling at any temperature, and annealed importance
//! sampling of its partition function for comparison with the exact value.
//!
//! # The model
//!
//! Visible units `v ∈ {0,1}^{n_v}` are the pixels of a `width x height` image (row-major:
//! pixel `(row, col)` is unit `i = row * width + col`, and bit `i` of a pattern mask),
//! hidden units `h ∈ {0,1}^{n_h}`. The energy and the Boltzmann distribution at
//! temperature `T` (`T = 1` is the model) are
//!
//! ```text
//!     E(v, h) = -b . v - c . h - v^T W h,        p_T(v, h) = exp(-E(v, h) / T) / Z(T).
//! ```
//!
//! The layers are conditionally independent: `p(h_j = 1 | v) = sigmoid((c_j + W_j . v) / T)`
//! with `W_j . v = sum_i W_ij v_i`, and `p(v_i = 1 | h) = sigmoid((b_i + W_i . h) / T)`.
//! Summing out `h` gives the *free energy*
//!
//! ```text
//!     p_T(v) = exp(-F_T(v) / T) / Z(T),   F_T(v) = -b . v - T sum_j softplus((c_j + W_j . v) / T),
//! ```
//!
//! with `softplus(x) = ln(1 + e^x)`; at `T = 1`, `F(v) = -b . v - sum_j softplus(c_j + W_j . v)`.
//!
//! # Exact partition function
//!
//! `ln Z(T) = ln sum_v exp(-F_T(v) / T)` is a sum over the *smaller* layer with the other
//! one marginalised analytically (the sum over `h` is symmetric, with the roles of
//! `(b, c, W)` and `(c, b, W^T)` exchanged), at most `2^16 = 65536` terms, accumulated in
//! log-sum-exp form with a running maximum. The fast path ([`RbmModel::ln_z`]) walks the
//! summed layer in Gray-code order, so each term differs from the previous one by one unit
//! `s_i`; the other layer's scaled pre-activations `a_k` then change by one row of `W / T`,
//! and the factors `e_k = exp(a_k)` by precomputed `exp(±W_ik / T)`, so each term is
//! `sb . s + ln prod_k (1 + e_k)`: one logarithm and no exponential per hidden unit.
//! Everything is refreshed from scratch every [`REFRESH_EVERY`] terms (rounding drift); a
//! term whose product overflows is recomputed as a plain sum of softplus terms, and when
//! some `|a_k|` could exceed [`FAST_BOUND`] (huge weights or tiny `T`, where the `e_k` would
//! under- or overflow) the whole sum uses the plain path. [`RbmModel::ln_z_plain`] is the
//! straightforward reference (every term from scratch).
//!
//! # Learning
//!
//! The mean log-likelihood of the data `D` (uniform over the listed patterns, with
//! multiplicity) is `L = -<F(v)>_D - ln Z` at `T = 1`, and its gradient is the difference
//! of data and model moments,
//!
//! ```text
//!     dL/dW_ij = <v_i p_j(v)>_D - <v_i h_j>_model,  dL/db_i = <v_i>_D - <v_i>_model,
//!     dL/dc_j = <p_j(v)>_D - <h_j>_model,           p_j(v) = sigmoid(c_j + W_j . v).
//! ```
//!
//! [`Learning::Exact`] sums the model moments exactly (over the smaller layer, the other
//! analytic). [`Learning::Cd`] (Hinton 2002) replaces them by the moments of `k` block-Gibbs
//! steps started at each data vector; [`Learning::Pcd`] (Tieleman 2008) by those of
//! persistent chains advanced `k` steps per update. The negative-phase hidden moments use
//! the probabilities `p_j(v)` at the final visible sample. One update is
//! `Δθ(t) = μ Δθ(t-1) + lr (∇L - λ W)` (momentum `μ`, weight decay `λ` on `W` only).
//!
//! Reported per update: the exact `L` and `ln Z` after the update; the reconstruction
//! error `mean_{D,i} (v_i - r_i)^2` of the mean-field reconstruction
//! `r_i = sigmoid(b_i + sum_j W_ij p_j(v))`; and the *CD surrogate*
//! `<F(v)>_D - <F(v⁻)>`, the mean free energy of the data minus that of the update's
//! negative samples `v⁻` (CD: the `v_k`; PCD: the chains; exact: one Gibbs step from each
//! data vector, drawn only for this diagnostic), evaluated with the parameters that drew
//! them. Its parameter gradient (with `v⁻` held fixed) is minus the CD update, which is why
//! CD can push it down while `L` gets worse.
//!
//! # Sampling
//!
//! In [`Mode::Sample`] the weights are fixed (given in the config, or trained first,
//! deterministically from the config's seed, by `pretrain` exact-gradient updates with
//! learning rate [`limits::PRETRAIN_LR`]) and `chains` independent block-Gibbs chains run at
//! the engine's temperature `T`. Their energy is the total *joint* energy `E(v, h)` of the
//! chains (the `h` drawn in the sweep with the `v` drawn from it): `C` independent chains
//! at `T` sample `exp(-sum_c E_c / T)`, so parallel tempering exchanges whole sets of
//! chains with the right probability. Per chain (records divide by the number of chains)
//! it is an unbiased estimate of the internal energy
//! `U(T) = <E>_T = -T sum_s p_T(s) (sb . s + sum_k sigmoid(a_k) a_k)`, computed exactly
//! alongside `ln Z(T)` when `T` changes: at once when it moved by more than
//! [`EXACT_REFRESH_JUMP`] (relative) since the last exact values, else at most every
//! [`EXACT_REFRESH_SWEEPS`] sweeps, so that a schedule changing `T` every sweep does not
//! pay for an enumeration every sweep (at 16 x 16 units it costs far more than a sweep).
//! The exact values always say which temperature they belong to.
//!
//! References: G. E. Hinton, *Training products of experts by minimizing contrastive
//! divergence*, Neural Computation 14 (2002); T. Tieleman, *Training restricted Boltzmann
//! machines using approximations to the likelihood gradient*, ICML 2008; D. MacKay,
//! *Information Theory, Inference, and Learning Algorithms* (bars and stripes);
//! R. Salakhutdinov & I. Murray, ICML 2008 (AIS, see [`super::ais`]).

use super::ais::{self, AisAnswer, AisConfig, AisEstimate, ErrorPoint, RbmAis};
use super::config::{RangeError, check};
use super::problem::{Problem, ProposalKind, Sweep};
use super::problems::{
    ChainStats, Kind, Observable, PlotKind, ProblemState, ProblemView, Reply, Request, ViewRequest,
};
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

/// Terms between two from-scratch refreshes of the Gray-code walk.
pub const REFRESH_EVERY: u32 = 1024;

/// The fast path is used only when every scaled pre-activation is bounded by this
/// (`|a_k| < 700` keeps `exp(a_k)` a normal, finite float).
pub const FAST_BOUND: f64 = 700.0;

/// Allowed ranges of the configuration.
pub mod limits {
    use std::ops::RangeInclusive;
    /// Image width and height.
    pub const SIDE: RangeInclusive<usize> = 2..=4;
    /// Hidden units.
    pub const HIDDEN: RangeInclusive<usize> = 1..=16;
    /// Learning rate.
    pub const LR: RangeInclusive<f64> = 1e-6..=10.0;
    /// Gibbs steps per CD / PCD update.
    pub const CD_K: RangeInclusive<usize> = 1..=1000;
    /// Sampling chains and PCD chains.
    pub const CHAINS: RangeInclusive<usize> = 1..=10_000;
    /// Exact-gradient pretraining updates in sampling mode (made when the run is built:
    /// at 16 x 16 units each costs several milliseconds).
    pub const PRETRAIN: RangeInclusive<u64> = 0..=10_000;
    /// Standard deviation of the initial weights.
    pub const INIT_SCALE: RangeInclusive<f64> = 0.0..=2.0;
    /// Momentum.
    pub const MOMENTUM: RangeInclusive<f64> = 0.0..=0.99;
    /// Weight decay.
    pub const WEIGHT_DECAY: RangeInclusive<f64> = 0.0..=1.0;
    /// Number of listed patterns.
    pub const PATTERNS: RangeInclusive<usize> = 1..=4096;
    /// Given weights and biases.
    pub const WEIGHT: RangeInclusive<f64> = -100.0..=100.0;
    /// Learning rate of the pretraining in sampling mode.
    pub const PRETRAIN_LR: f64 = 0.3;
}

/// The data set: binary images, uniform over the listed patterns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Patterns {
    /// Bars and stripes (MacKay): every image whose columns are each all on or all off,
    /// and every image whose rows are; `2^width + 2^height - 2` distinct patterns (all-off
    /// and all-on are both, and counted once): 14 on 3x3, 30 on 4x4.
    #[default]
    BarsAndStripes,
    /// A few hand-made shapes: 3x3 plus, X, frame, T, L; 4x4 digits 0, 1, 4, 7; other sizes
    /// frame, top half, left half, checkerboard and diagonal (duplicates dropped).
    Shapes,
    /// Patterns given as strings of `'0'`/`'1'`, `width * height` long, row-major.
    List(Vec<String>),
}

/// How the model learns (mode [`Mode::Learn`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Learning {
    /// The exact log-likelihood gradient (model moments by enumeration).
    #[default]
    Exact,
    /// Contrastive divergence: `k` Gibbs steps from each data vector.
    Cd {
        /// Gibbs steps.
        k: usize,
    },
    /// Persistent contrastive divergence: `chains` persistent chains, `k` steps per update.
    Pcd {
        /// Gibbs steps per update.
        k: usize,
        /// Number of persistent chains.
        chains: usize,
    },
}

/// What one engine step does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Mode {
    /// One full-batch learning update per step (the engine's temperature is unused); the
    /// energy is the exact negative mean log-likelihood.
    Learn {
        /// The gradient estimator.
        learning: Learning,
        /// Learning rate.
        lr: f64,
    },
    /// Fixed weights; one block-Gibbs sweep of every chain at the engine's temperature per
    /// step; the energy is the chains' mean joint energy `E(v, h)`.
    Sample {
        /// Number of chains.
        chains: usize,
        /// Exact-gradient updates training the weights first (ignored if `weights` is given).
        pretrain: u64,
    },
}

impl Default for Mode {
    fn default() -> Self {
        Mode::Learn {
            learning: Learning::Exact,
            lr: 0.3,
        }
    }
}

/// Weights and biases in the layout of the state file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RbmWeights {
    /// `W`, one row per visible unit (`n_v` rows of `n_h`).
    #[serde(rename = "W")]
    pub w: Vec<Vec<f64>>,
    /// Visible biases `b` (`n_v`).
    pub b: Vec<f64>,
    /// Hidden biases `c` (`n_h`).
    pub c: Vec<f64>,
}

/// The RBM run's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RbmConfig {
    /// Image width (visible units `width * height`).
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// Hidden units.
    pub hidden: usize,
    /// The data set.
    pub patterns: Patterns,
    /// Learning or sampling.
    pub mode: Mode,
    /// Standard deviation of the initial weights `W_ij ~ N(0, s^2)` (biases start at 0).
    pub init_scale: f64,
    /// Momentum `μ` of the updates.
    pub momentum: f64,
    /// Weight decay `λ` (on `W` only).
    pub weight_decay: f64,
    /// Seed of the initial weights (and so of the pretrained weights in sampling mode).
    pub seed: u64,
    /// Start from these weights instead of random ones (sampling mode: no pretraining).
    pub weights: Option<RbmWeights>,
    /// Sampling mode: every chain starts in this pattern (`'0'`/`'1'`, row-major) instead
    /// of a uniformly random one.
    pub start: Option<String>,
    /// Annealed importance sampling settings.
    pub ais: AisConfig,
}

impl Default for RbmConfig {
    /// Bars and stripes on 3x3 with 8 hidden units, learned with the exact gradient at
    /// `lr = 0.3`, momentum 0.9: within 0.3 nats of the optimum `-ln 14` after about 150
    /// updates, at about -2.67 after 500 (CD-1 with the same settings stays near -4).
    fn default() -> Self {
        Self {
            width: 3,
            height: 3,
            hidden: 8,
            patterns: Patterns::BarsAndStripes,
            mode: Mode::default(),
            init_scale: 0.1,
            momentum: 0.9,
            weight_decay: 0.0,
            seed: 0,
            weights: None,
            start: None,
            ais: AisConfig::default(),
        }
    }
}

fn field_error(field: String, value: String, allowed: &str) -> RangeError {
    RangeError {
        field,
        value,
        allowed: allowed.to_owned(),
    }
}

impl RbmConfig {
    /// Number of visible units.
    pub fn visible(&self) -> usize {
        self.width * self.height
    }

    /// Checks every field; field paths are relative to the config (`mode.lr`,
    /// `patterns[2]`, `weights.W[1][0]`, `ais.k`, ...).
    pub fn validate(&self) -> Result<(), RangeError> {
        check("width", self.width, limits::SIDE)?;
        check("height", self.height, limits::SIDE)?;
        check("hidden", self.hidden, limits::HIDDEN)?;
        check("init_scale", self.init_scale, limits::INIT_SCALE)?;
        check("momentum", self.momentum, limits::MOMENTUM)?;
        check("weight_decay", self.weight_decay, limits::WEIGHT_DECAY)?;
        self.patterns.masks(self.width, self.height)?;
        match &self.mode {
            Mode::Learn { learning, lr } => {
                check("mode.lr", *lr, limits::LR)?;
                match learning {
                    Learning::Exact => {}
                    Learning::Cd { k } => check("mode.learning.k", *k, limits::CD_K)?,
                    Learning::Pcd { k, chains } => {
                        check("mode.learning.k", *k, limits::CD_K)?;
                        check("mode.learning.chains", *chains, limits::CHAINS)?;
                    }
                }
            }
            Mode::Sample { chains, pretrain } => {
                check("mode.chains", *chains, limits::CHAINS)?;
                check("mode.pretrain", *pretrain, limits::PRETRAIN)?;
            }
        }
        if let Some(start) = &self.start
            && parse_pattern(start, self.visible()).is_none()
        {
            return Err(field_error(
                "start".into(),
                format!("{start:?}"),
                &format!("a string of {} characters '0' or '1'", self.visible()),
            ));
        }
        if let Some(w) = &self.weights {
            RbmModel::from_weights(w).and_then(|m| {
                if m.nv == self.visible() && m.nh == self.hidden {
                    Ok(())
                } else {
                    Err(field_error(
                        "weights.W".into(),
                        format!("{} x {}", m.nv, m.nh),
                        &format!("{} x {} (visible x hidden)", self.visible(), self.hidden),
                    ))
                }
            })?;
        }
        self.ais.validate().map_err(|e| RangeError {
            field: format!("ais.{}", e.field),
            ..e
        })
    }
}

/// Bars and stripes on a `width x height` grid, as pattern masks (distinct, sorted).
pub fn bars_and_stripes(width: usize, height: usize) -> Vec<u32> {
    let mut out = Vec::new();
    for cols in 0..1u32 << width {
        let mut m = 0;
        for r in 0..height {
            m |= cols << (r * width);
        }
        out.push(m);
    }
    for rows in 0..1u32 << height {
        let mut m = 0;
        for r in 0..height {
            if rows >> r & 1 == 1 {
                m |= ((1u32 << width) - 1) << (r * width);
            }
        }
        out.push(m);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The built-in shapes on a `width x height` grid (see [`Patterns::Shapes`]).
pub fn shapes(width: usize, height: usize) -> Vec<u32> {
    let nv = width * height;
    let list: &[&str] = match (width, height) {
        (3, 3) => &[
            "010111010",
            "101010101",
            "111101111",
            "111010010",
            "100100111",
        ],
        (4, 4) => &[
            "0110100110010110",
            "0010011000100111",
            "1010101011110010",
            "1111000100100100",
        ],
        _ => &[],
    };
    let mut out: Vec<u32> = list.iter().filter_map(|s| parse_pattern(s, nv)).collect();
    if out.is_empty() {
        let mut push = |f: &dyn Fn(usize, usize) -> bool| {
            let mut m = 0u32;
            for r in 0..height {
                for c in 0..width {
                    if f(r, c) {
                        m |= 1 << (r * width + c);
                    }
                }
            }
            if m != 0 && !out.contains(&m) {
                out.push(m);
            }
        };
        push(&|r, c| r == 0 || c == 0 || r + 1 == height || c + 1 == width);
        push(&|r, _| 2 * r < height);
        push(&|_, c| 2 * c < width);
        push(&|r, c| (r + c) % 2 == 0);
        push(&|r, c| r == c);
    }
    out
}

/// Parses a `'0'`/`'1'` string of length `nv` into a mask (bit `i` = character `i`).
pub fn parse_pattern(s: &str, nv: usize) -> Option<u32> {
    if s.len() != nv {
        return None;
    }
    let mut m = 0u32;
    for (i, ch) in s.bytes().enumerate() {
        match ch {
            b'0' => {}
            b'1' => m |= 1 << i,
            _ => return None,
        }
    }
    Some(m)
}

/// The `'0'`/`'1'` string of a mask of `nv` units.
pub fn pattern_string(mask: u32, nv: usize) -> String {
    (0..nv)
        .map(|i| if mask >> i & 1 == 1 { '1' } else { '0' })
        .collect()
}

/// The pixels (0 or 1, row-major) of a mask of `nv` units.
pub fn pattern_pixels(mask: u32, nv: usize) -> Vec<u8> {
    (0..nv).map(|i| (mask >> i & 1) as u8).collect()
}

impl Patterns {
    /// The data as masks, with multiplicity, or why a listed pattern is refused
    /// (field `patterns` for the count, `patterns[i]` for a bad string).
    pub fn masks(&self, width: usize, height: usize) -> Result<Vec<u32>, RangeError> {
        let nv = width * height;
        match self {
            Patterns::BarsAndStripes => Ok(bars_and_stripes(width, height)),
            Patterns::Shapes => Ok(shapes(width, height)),
            Patterns::List(list) => {
                check("patterns", list.len(), limits::PATTERNS)?;
                list.iter()
                    .enumerate()
                    .map(|(i, s)| {
                        parse_pattern(s, nv).ok_or_else(|| {
                            field_error(
                                format!("patterns[{i}]"),
                                format!("{s:?}"),
                                &format!("a string of {nv} characters '0' or '1'"),
                            )
                        })
                    })
                    .collect()
            }
        }
    }
}

/// `ln(1 + e^x)` without overflow.
#[inline]
pub fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// `1 / (1 + e^-x)` without overflow.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// First and second moments of an RBM (or differences of them, for a gradient).
#[derive(Clone, Debug, PartialEq)]
pub struct Moments {
    /// `<v_i>`.
    pub v: Vec<f64>,
    /// `<h_j>`.
    pub h: Vec<f64>,
    /// `<v_i h_j>` at `i * n_h + j`.
    pub vh: Vec<f64>,
}

impl Moments {
    fn zeros(nv: usize, nh: usize) -> Self {
        Self {
            v: vec![0.0; nv],
            h: vec![0.0; nh],
            vh: vec![0.0; nv * nh],
        }
    }

    fn scale(&mut self, f: f64) {
        for x in self.v.iter_mut().chain(&mut self.h).chain(&mut self.vh) {
            *x *= f;
        }
    }

    /// `self - other`, element by element.
    pub fn minus(&self, other: &Moments) -> Moments {
        let d = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x - y).collect();
        Moments {
            v: d(&self.v, &other.v),
            h: d(&self.h, &other.h),
            vh: d(&self.vh, &other.vh),
        }
    }
}

/// The parameters of a binary RBM and its exact statistical mechanics.
#[derive(Clone, Debug, PartialEq)]
pub struct RbmModel {
    /// Visible units `n_v` (at most 16).
    pub nv: usize,
    /// Hidden units `n_h` (at most 16).
    pub nh: usize,
    /// `W`, row-major `n_v x n_h`: `W_ij = w[i * n_h + j]`.
    pub w: Vec<f64>,
    /// Visible biases.
    pub b: Vec<f64>,
    /// Hidden biases.
    pub c: Vec<f64>,
}

/// The sum over one layer, scaled by `1 / T`: terms `sb . s + sum_k softplus(a_k(s))` with
/// `a_k(s) = ob_k + sum_i s_i w_ik`.
struct Layered {
    ns: usize,
    no: usize,
    sb: Vec<f64>,
    ob: Vec<f64>,
    w: Vec<f64>,
}

/// Log-sum-exp accumulator with a running maximum.
#[derive(Clone, Copy)]
struct Lse {
    max: f64,
    sum: f64,
}

impl Lse {
    fn new() -> Self {
        Self {
            max: f64::NEG_INFINITY,
            sum: 0.0,
        }
    }

    /// Adds `exp(x)`; returns the factor by which earlier contributions were rescaled.
    #[inline]
    fn add(&mut self, x: f64) -> f64 {
        if x > self.max {
            let f = (self.max - x).exp();
            self.sum = self.sum * f + 1.0;
            self.max = x;
            f
        } else {
            self.sum += (x - self.max).exp();
            1.0
        }
    }

    fn ln(&self) -> f64 {
        self.max + self.sum.ln()
    }
}

/// `prod_k (1 + e_k)` with four independent partial products.
#[inline]
fn prod_one_plus(e: &[f64]) -> f64 {
    let mut p = [1.0f64; 4];
    let mut chunks = e.chunks_exact(4);
    for ch in &mut chunks {
        for q in 0..4 {
            p[q] *= 1.0 + ch[q];
        }
    }
    for &x in chunks.remainder() {
        p[0] *= 1.0 + x;
    }
    (p[0] * p[1]) * (p[2] * p[3])
}

impl Layered {
    fn new(m: &RbmModel, t: f64) -> Self {
        let inv = 1.0 / t;
        let scale = |x: &[f64]| x.iter().map(|v| v * inv).collect::<Vec<f64>>();
        if m.nv <= m.nh {
            Self {
                ns: m.nv,
                no: m.nh,
                sb: scale(&m.b),
                ob: scale(&m.c),
                w: scale(&m.w),
            }
        } else {
            let mut w = vec![0.0; m.nv * m.nh];
            for i in 0..m.nv {
                for j in 0..m.nh {
                    w[j * m.nv + i] = m.w[i * m.nh + j] * inv;
                }
            }
            Self {
                ns: m.nh,
                no: m.nv,
                sb: scale(&m.c),
                ob: scale(&m.b),
                w,
            }
        }
    }

    fn summed_visible(&self, m: &RbmModel) -> bool {
        self.ns == m.nv && m.nv <= m.nh
    }

    /// Whether every `|a_k(s)|` is below [`FAST_BOUND`] for every `s`.
    fn fast_ok(&self) -> bool {
        (0..self.no).all(|k| {
            let mut bound = self.ob[k].abs();
            for i in 0..self.ns {
                bound += self.w[i * self.no + k].abs();
            }
            bound < FAST_BOUND
        })
    }

    /// Recomputes `a(s)` and returns `sb . s`.
    fn refresh(&self, s: u32, a: &mut [f64]) -> f64 {
        a.copy_from_slice(&self.ob);
        let mut sbs = 0.0;
        for i in 0..self.ns {
            if s >> i & 1 == 1 {
                sbs += self.sb[i];
                for (ak, wk) in a.iter_mut().zip(&self.w[i * self.no..(i + 1) * self.no]) {
                    *ak += wk;
                }
            }
        }
        sbs
    }

    /// Calls `f(s, ln term, sb . s, a, sig)` for every `s` in Gray-code order, where `sig`
    /// holds `sigmoid(a_k)` if `SIG` (else it is empty).
    fn walk<const SIG: bool, F: FnMut(u32, f64, f64, &[f64], &[f64])>(&self, fast: bool, mut f: F) {
        let (ns, no) = (self.ns, self.no);
        let fast = fast && self.fast_ok();
        let mut a = self.ob.clone();
        let mut sbs = 0.0;
        let mut s = 0u32;
        let (ep, em): (Vec<f64>, Vec<f64>) = if fast {
            (
                self.w.iter().map(|x| x.exp()).collect(),
                self.w.iter().map(|x| (-x).exp()).collect(),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let mut e: Vec<f64> = if fast {
            a.iter().map(|x| x.exp()).collect()
        } else {
            Vec::new()
        };
        let mut sig = vec![0.0; if SIG { no } else { 0 }];
        for idx in 0..1u32 << ns {
            if idx > 0 {
                let i = idx.trailing_zeros() as usize;
                s ^= 1 << i;
                if idx % REFRESH_EVERY == 0 {
                    sbs = self.refresh(s, &mut a);
                    for (ek, ak) in e.iter_mut().zip(&a) {
                        *ek = ak.exp();
                    }
                } else {
                    let row = &self.w[i * no..(i + 1) * no];
                    if s >> i & 1 == 1 {
                        sbs += self.sb[i];
                        for (ak, wk) in a.iter_mut().zip(row) {
                            *ak += wk;
                        }
                        if fast {
                            for (ek, fk) in e.iter_mut().zip(&ep[i * no..(i + 1) * no]) {
                                *ek *= fk;
                            }
                        }
                    } else {
                        sbs -= self.sb[i];
                        for (ak, wk) in a.iter_mut().zip(row) {
                            *ak -= wk;
                        }
                        if fast {
                            for (ek, fk) in e.iter_mut().zip(&em[i * no..(i + 1) * no]) {
                                *ek *= fk;
                            }
                        }
                    }
                }
            }
            let mut used_fast = false;
            let mut lt = 0.0;
            if fast {
                let p = prod_one_plus(&e);
                if p.is_finite() {
                    lt = sbs + p.ln();
                    used_fast = true;
                }
            }
            if used_fast {
                if SIG {
                    for (sk, ek) in sig.iter_mut().zip(&e) {
                        *sk = ek / (1.0 + ek);
                    }
                }
            } else if SIG {
                // softplus and sigmoid share z = exp(-|a|)
                lt = sbs;
                for (sk, &ak) in sig.iter_mut().zip(&a) {
                    let z = (-ak.abs()).exp();
                    lt += ak.max(0.0) + z.ln_1p();
                    *sk = if ak >= 0.0 { 1.0 } else { z } / (1.0 + z);
                }
            } else {
                lt = sbs + a.iter().map(|&x| softplus(x)).sum::<f64>();
            }
            f(s, lt, sbs, &a, &sig);
        }
    }

    fn ln_z(&self, fast: bool) -> f64 {
        let mut acc = Lse::new();
        self.walk::<false, _>(fast, |_, lt, _, _, _| {
            acc.add(lt);
        });
        acc.ln()
    }

    fn ln_z_plain(&self) -> f64 {
        let mut acc = Lse::new();
        let mut a = vec![0.0; self.no];
        for s in 0..1u32 << self.ns {
            let sbs = self.refresh(s, &mut a);
            acc.add(sbs + a.iter().map(|&x| softplus(x)).sum::<f64>());
        }
        acc.ln()
    }
}

impl RbmModel {
    /// All parameters zero.
    pub fn zeros(nv: usize, nh: usize) -> Self {
        Self {
            nv,
            nh,
            w: vec![0.0; nv * nh],
            b: vec![0.0; nv],
            c: vec![0.0; nh],
        }
    }

    /// `W_ij ~ N(0, scale^2)`, biases zero.
    pub fn random<R: Rng + ?Sized>(nv: usize, nh: usize, scale: f64, rng: &mut R) -> Self {
        let mut m = Self::zeros(nv, nh);
        for w in &mut m.w {
            let z: f64 = StandardNormal.sample(rng);
            *w = scale * z;
        }
        m
    }

    /// The model of a weights record (field paths `weights.W`, `weights.W[i][j]`, ...).
    pub fn from_weights(wt: &RbmWeights) -> Result<Self, RangeError> {
        let nv = wt.w.len();
        let nh = wt.c.len();
        check("weights.W", nv, 1..=16)?;
        check("weights.c", nh, limits::HIDDEN)?;
        if wt.b.len() != nv {
            return Err(field_error(
                "weights.b".into(),
                format!("{} entries", wt.b.len()),
                &format!("{nv} entries (one per row of W)"),
            ));
        }
        let mut w = Vec::with_capacity(nv * nh);
        for (i, row) in wt.w.iter().enumerate() {
            if row.len() != nh {
                return Err(field_error(
                    format!("weights.W[{i}]"),
                    format!("{} entries", row.len()),
                    &format!("{nh} entries (one per hidden bias)"),
                ));
            }
            for (j, &x) in row.iter().enumerate() {
                check(&format!("weights.W[{i}][{j}]"), x, limits::WEIGHT)?;
                w.push(x);
            }
        }
        for (i, &x) in wt.b.iter().enumerate() {
            check(&format!("weights.b[{i}]"), x, limits::WEIGHT)?;
        }
        for (j, &x) in wt.c.iter().enumerate() {
            check(&format!("weights.c[{j}]"), x, limits::WEIGHT)?;
        }
        Ok(Self {
            nv,
            nh,
            w,
            b: wt.b.clone(),
            c: wt.c.clone(),
        })
    }

    /// The weights record (`W` as rows per visible unit).
    pub fn to_weights(&self) -> RbmWeights {
        RbmWeights {
            w: self.w.chunks(self.nh).map(<[f64]>::to_vec).collect(),
            b: self.b.clone(),
            c: self.c.clone(),
        }
    }

    /// `E(v, h) = -b . v - c . h - v^T W h` for masks `v`, `h`.
    pub fn energy(&self, v: u32, h: u32) -> f64 {
        let mut e = 0.0;
        for i in 0..self.nv {
            if v >> i & 1 == 1 {
                e -= self.b[i];
                for j in 0..self.nh {
                    if h >> j & 1 == 1 {
                        e -= self.w[i * self.nh + j];
                    }
                }
            }
        }
        for j in 0..self.nh {
            if h >> j & 1 == 1 {
                e -= self.c[j];
            }
        }
        e
    }

    /// Hidden pre-activations `c_j + W_j . v`.
    pub fn hidden_input(&self, v: u32) -> Vec<f64> {
        let mut a = self.c.clone();
        for i in 0..self.nv {
            if v >> i & 1 == 1 {
                for (aj, w) in a.iter_mut().zip(&self.w[i * self.nh..(i + 1) * self.nh]) {
                    *aj += w;
                }
            }
        }
        a
    }

    /// Visible pre-activations `b_i + W_i . h` for a real-valued `h` (probabilities allowed).
    pub fn visible_input(&self, h: &[f64]) -> Vec<f64> {
        (0..self.nv)
            .map(|i| {
                let row = &self.w[i * self.nh..(i + 1) * self.nh];
                self.b[i] + row.iter().zip(h).map(|(w, x)| w * x).sum::<f64>()
            })
            .collect()
    }

    /// `F_T(v) = -b . v - T sum_j softplus((c_j + W_j . v) / T)`, so that
    /// `p_T(v) = exp(-F_T(v) / T) / Z(T)`.
    pub fn free_energy(&self, v: u32, t: f64) -> f64 {
        let bv: f64 = (0..self.nv)
            .filter(|i| v >> i & 1 == 1)
            .map(|i| self.b[i])
            .sum();
        -bv - t * self
            .hidden_input(v)
            .iter()
            .map(|&a| softplus(a / t))
            .sum::<f64>()
    }

    /// Exact `ln Z(T)` (fast Gray-code path with its fallbacks; see the module docs).
    pub fn ln_z(&self, t: f64) -> f64 {
        Layered::new(self, t).ln_z(true)
    }

    /// Exact `ln Z(T)` by the plain Gray-code path (softplus for every term).
    pub fn ln_z_gray_plain(&self, t: f64) -> f64 {
        Layered::new(self, t).ln_z(false)
    }

    /// Exact `ln Z(T)`, every term from scratch (the reference path).
    pub fn ln_z_plain(&self, t: f64) -> f64 {
        Layered::new(self, t).ln_z_plain()
    }

    /// Exact `(ln Z(T), U(T))` with `U(T) = <E(v, h)>_T` the internal energy, in one pass.
    pub fn ln_z_and_mean_energy(&self, t: f64) -> (f64, f64) {
        let lay = Layered::new(self, t);
        let mut acc = Lse::new();
        let mut ux = 0.0;
        lay.walk::<true, _>(true, |_, lt, sbs, a, sig| {
            let x = sbs + a.iter().zip(sig).map(|(a, s)| a * s).sum::<f64>();
            let f = acc.add(lt);
            ux = ux * f + x * (lt - acc.max).exp();
        });
        (acc.ln(), -t * ux / acc.sum)
    }

    /// `ln p_T(v)` given `ln Z(T)`.
    pub fn log_p(&self, v: u32, t: f64, ln_z: f64) -> f64 {
        -self.free_energy(v, t) / t - ln_z
    }

    /// `ln p_T(v)` for every visible pattern `v = 0 .. 2^{n_v}` (mask order).
    pub fn log_p_all(&self, t: f64) -> Vec<f64> {
        let ln_z = self.ln_z(t);
        (0..1u32 << self.nv)
            .map(|v| self.log_p(v, t, ln_z))
            .collect()
    }

    /// `F(v)` at `T = 1` of every visible pattern `v = 0 .. 2^{n_v}` (mask order): along
    /// the Gray-code walk when the visible layer is the one summed over (each term of that
    /// walk is `-F(v)`), else pattern by pattern.
    pub fn free_energies(&self) -> Vec<f64> {
        let mut out = vec![0.0; 1 << self.nv];
        let lay = Layered::new(self, 1.0);
        if lay.summed_visible(self) {
            lay.walk::<false, _>(true, |s, lt, _, _, _| out[s as usize] = -lt);
        } else {
            for (v, f) in out.iter_mut().enumerate() {
                *f = self.free_energy(v as u32, 1.0);
            }
        }
        out
    }

    /// Mean of `ln p(v)` over `data` at `T = 1`, given `ln Z(1)`.
    pub fn mean_log_likelihood(&self, data: &[u32], ln_z: f64) -> f64 {
        let s: f64 = data.iter().map(|&v| -self.free_energy(v, 1.0)).sum();
        s / data.len().max(1) as f64 - ln_z
    }

    /// Data moments `<v>`, `<p(h|v)>`, `<v p(h|v)^T>` at `T = 1` over `data`.
    pub fn data_moments(&self, data: &[u32]) -> Moments {
        let mut m = Moments::zeros(self.nv, self.nh);
        for &v in data {
            let p: Vec<f64> = self.hidden_input(v).into_iter().map(sigmoid).collect();
            self.accumulate(&mut m, v, &p, 1.0);
        }
        m.scale(1.0 / data.len().max(1) as f64);
        m
    }

    /// Adds `weight * (v, p, v p^T)` to `m`.
    fn accumulate(&self, m: &mut Moments, v: u32, p: &[f64], weight: f64) {
        for i in 0..self.nv {
            if v >> i & 1 == 1 {
                m.v[i] += weight;
                for (x, pj) in m.vh[i * self.nh..(i + 1) * self.nh].iter_mut().zip(p) {
                    *x += weight * pj;
                }
            }
        }
        for (x, pj) in m.h.iter_mut().zip(p) {
            *x += weight * pj;
        }
    }

    /// Exact model moments `<v>`, `<h>`, `<v h^T>` at temperature `t`, given `ln Z(t)`.
    pub fn model_moments(&self, t: f64, ln_z: f64) -> Moments {
        let lay = Layered::new(self, t);
        let (ns, no) = (lay.ns, lay.no);
        // <s_i o_k> sums p(s) sig_k(s) over the states with bit i set. Split s into its low
        // and high halves: the sums over each half's values of p and p sig (2 x 2^(ns/2)
        // rows) hold everything, and cost 3 no additions per term instead of about
        // (ns/2 + 1) no.
        let lo_bits = ns / 2;
        let (lo_n, hi_n) = (1usize << lo_bits, 1usize << (ns - lo_bits));
        let (mut lo_p, mut hi_p) = (vec![0.0; lo_n], vec![0.0; hi_n]);
        let (mut lo_q, mut hi_q) = (vec![0.0; lo_n * no], vec![0.0; hi_n * no]);
        let mut eo = vec![0.0; no];
        lay.walk::<true, _>(true, |s, lt, _, _, sig| {
            let p = (lt - ln_z).exp();
            let (lo, hi) = (s as usize & (lo_n - 1), s as usize >> lo_bits);
            lo_p[lo] += p;
            hi_p[hi] += p;
            let lq = &mut lo_q[lo * no..(lo + 1) * no];
            let hq = &mut hi_q[hi * no..(hi + 1) * no];
            for (((x, l), h), &sk) in eo.iter_mut().zip(lq).zip(hq).zip(sig) {
                let q = p * sk;
                *x += q;
                *l += q;
                *h += q;
            }
        });
        let mut es = vec![0.0; ns];
        let mut eso = vec![0.0; ns * no];
        for (i, (e, row)) in es.iter_mut().zip(eso.chunks_mut(no)).enumerate() {
            let (bit, ps, qs) = if i < lo_bits {
                (i, &lo_p, &lo_q)
            } else {
                (i - lo_bits, &hi_p, &hi_q)
            };
            for (half, &p) in ps.iter().enumerate() {
                if half >> bit & 1 == 1 {
                    *e += p;
                    for (x, q) in row.iter_mut().zip(&qs[half * no..(half + 1) * no]) {
                        *x += q;
                    }
                }
            }
        }
        if lay.summed_visible(self) {
            Moments {
                v: es,
                h: eo,
                vh: eso,
            }
        } else {
            let mut vh = vec![0.0; self.nv * self.nh];
            for j in 0..self.nh {
                for i in 0..self.nv {
                    vh[i * self.nh + j] = eso[j * self.nv + i];
                }
            }
            Moments { v: eo, h: es, vh }
        }
    }

    /// The exact gradient of the mean log-likelihood of `data` at `T = 1` with respect to
    /// `(W, b, c)`, as moments (`vh` = dL/dW, `v` = dL/db, `h` = dL/dc), given `ln Z(1)`.
    pub fn gradient(&self, data: &[u32], ln_z: f64) -> Moments {
        self.data_moments(data)
            .minus(&self.model_moments(1.0, ln_z))
    }

    /// Samples `h ~ p_T(h | v)`.
    pub fn sample_hidden<R: Rng + ?Sized>(&self, v: u32, t: f64, rng: &mut R) -> u32 {
        let mut h = 0;
        for (j, a) in self.hidden_input(v).into_iter().enumerate() {
            if rng.random::<f64>() < sigmoid(a / t) {
                h |= 1 << j;
            }
        }
        h
    }

    /// Samples `v ~ p_T(v | h)`.
    pub fn sample_visible<R: Rng + ?Sized>(&self, h: u32, t: f64, rng: &mut R) -> u32 {
        let mut v = 0;
        for i in 0..self.nv {
            let row = &self.w[i * self.nh..(i + 1) * self.nh];
            let mut u = self.b[i];
            for (j, w) in row.iter().enumerate() {
                if h >> j & 1 == 1 {
                    u += w;
                }
            }
            if rng.random::<f64>() < sigmoid(u / t) {
                v |= 1 << i;
            }
        }
        v
    }

    /// Mean-field reconstruction error `mean_{data, i} (v_i - r_i)^2` (module docs).
    pub fn reconstruction_error(&self, data: &[u32]) -> f64 {
        let mut s = 0.0;
        for &v in data {
            let p: Vec<f64> = self.hidden_input(v).into_iter().map(sigmoid).collect();
            for (i, u) in self.visible_input(&p).into_iter().enumerate() {
                let d = f64::from(v >> i & 1) - sigmoid(u);
                s += d * d;
            }
        }
        s / (data.len().max(1) * self.nv) as f64
    }

    /// Adds `lr * grad` (minus weight decay), with momentum held in `vel`.
    fn update(&mut self, grad: &Moments, vel: &mut Moments, lr: f64, momentum: f64, decay: f64) {
        for ((w, g), d) in self.w.iter_mut().zip(&grad.vh).zip(&mut vel.vh) {
            *d = momentum * *d + lr * (g - decay * *w);
            *w += *d;
        }
        for ((b, g), d) in self.b.iter_mut().zip(&grad.v).zip(&mut vel.v) {
            *d = momentum * *d + lr * g;
            *b += *d;
        }
        for ((c, g), d) in self.c.iter_mut().zip(&grad.h).zip(&mut vel.h) {
            *d = momentum * *d + lr * g;
            *c += *d;
        }
    }

    /// The moments of negative samples: `v`, `p(h|v)`, `v p(h|v)^T` averaged over `vs`.
    fn sample_moments(&self, vs: &[u32]) -> Moments {
        self.data_moments(vs)
    }

    fn mean_free_energy(&self, vs: &[u32]) -> f64 {
        vs.iter().map(|&v| self.free_energy(v, 1.0)).sum::<f64>() / vs.len().max(1) as f64
    }
}

/// A change of `T` larger than this (relative) refreshes the exact values at `T` at once.
pub const EXACT_REFRESH_JUMP: f64 = 0.01;

/// While `T` keeps changing by less than [`EXACT_REFRESH_JUMP`], the exact values at `T`
/// are refreshed at most every this many sweeps.
pub const EXACT_REFRESH_SWEEPS: u64 = 16;

/// Chains shown in the view at most.
pub const VIEW_CHAINS: usize = 64;

/// Bins of the histogram of the free energies of the patterns outside the data.
pub const FREE_ENERGY_BINS: usize = 40;

/// Offset mixed into the config's seed for the AIS estimate of an exported state.
const STATE_AIS_SEED: u64 = 0x05ee_da15;

/// What a learning run reports besides the energy `-L` (CSV columns, plots, status bar).
pub const LEARN_OBSERVABLES: &[Observable] = &[
    Observable {
        column: "log_likelihood",
        label: "log-likelihood",
        tip: "Exact mean log-likelihood of the data, (1/N) sum_n ln p(v_n) with p(v) = exp(-F(v))/Z, Z summed over every pattern",
        plot: PlotKind::Steps {
            title: "log-likelihood (exact)",
            fraction: false,
        },
        status: true,
    },
    Observable {
        column: "max_log_likelihood",
        label: "best possible",
        tip: "The best any model can reach: the data's own sum_v q(v) ln q(v) (-ln 14 for 3x3 bars and stripes, every pattern equally likely and nothing else)",
        plot: PlotKind::Steps {
            title: "log-likelihood (exact)",
            fraction: false,
        },
        status: false,
    },
    Observable {
        column: "cd_surrogate",
        label: "CD surrogate",
        tip: "<F(data)> - <F(negative samples)>: what contrastive divergence actually pushes down. It can fall while the true log-likelihood gets worse",
        plot: PlotKind::Steps {
            title: "CD surrogate <F(data)> - <F(samples)>",
            fraction: false,
        },
        status: false,
    },
    Observable {
        column: "reconstruction_error",
        label: "reconstruction error",
        tip: "Mean squared difference between each data pixel and its mean-field reconstruction through the hidden layer: cheap, popular, and not the likelihood",
        plot: PlotKind::Steps {
            title: "reconstruction error",
            fraction: false,
        },
        status: false,
    },
    Observable {
        column: "exact_ln_z",
        label: "ln Z",
        tip: "Exact log partition function at T = 1, summed over every pattern of the smaller layer",
        plot: PlotKind::Steps {
            title: "ln Z (exact)",
            fraction: false,
        },
        status: true,
    },
];

/// What a sampling run reports besides the chains' mean joint energy.
pub const SAMPLE_OBSERVABLES: &[Observable] = &[
    Observable {
        column: "chain_energy",
        label: "chains' mean E",
        tip: "Mean joint energy E(v, h) of the Gibbs chains now",
        plot: PlotKind::Steps {
            title: "energy per chain: chains vs exact U(T)",
            fraction: false,
        },
        status: false,
    },
    Observable {
        column: "exact_mean_energy",
        label: "exact U(T)",
        tip: "Exact internal energy <E(v, h)> at the chains' temperature, by enumeration: fair chains fluctuate around it",
        plot: PlotKind::Steps {
            title: "energy per chain: chains vs exact U(T)",
            fraction: false,
        },
        status: true,
    },
    Observable {
        column: "data_patterns_held",
        label: "data patterns held",
        tip: "Share of the distinct data patterns in which at least one chain sits now. Chains stuck in one mode hold one pattern; chains that mix hold them all",
        plot: PlotKind::Steps {
            title: "data patterns held by the chains",
            fraction: true,
        },
        status: true,
    },
    Observable {
        column: "chains_tv",
        label: "distance from p_T",
        tip: "Total-variation distance between the chains' visible patterns now and the exact p_T(v): near 0 for a fair sample (up to the noise of few chains), near 1 for stuck chains",
        plot: PlotKind::Steps {
            title: "chains vs exact p_T(v): total variation",
            fraction: true,
        },
        status: false,
    },
    Observable {
        column: "exact_ln_z",
        label: "ln Z(T)",
        tip: "Exact log partition function at the chains' temperature",
        plot: PlotKind::Steps {
            title: "ln Z (exact)",
            fraction: false,
        },
        status: false,
    },
];

impl RbmConfig {
    /// The observables a problem of this config reports (they depend on the mode).
    pub fn observables(&self) -> &'static [Observable] {
        match self.mode {
            Mode::Learn { .. } => LEARN_OBSERVABLES,
            Mode::Sample { .. } => SAMPLE_OBSERVABLES,
        }
    }
}

/// A data pattern (or any visible pattern) with its statistics, for the UI.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PatternRow {
    /// Mask (bit `i` = pixel `i`, row-major).
    pub mask: u32,
    /// Pixels, 0 or 1, row-major.
    pub pixels: Vec<u8>,
    /// How often it is listed in the data.
    pub count: usize,
    /// Empirical frequency in the data.
    pub empirical: f64,
    /// Exact model probability `p(v)` at `T = 1`.
    pub model: f64,
    /// Free energy `F(v)` at `T = 1`.
    pub free_energy: f64,
}

/// The free energies `F(v)` at `T = 1` of the data patterns against those of every other
/// visible pattern (a histogram), for the UI.
#[derive(Clone, Debug, PartialEq)]
pub struct FreeEnergies {
    /// `F(v)` of each distinct data pattern.
    pub data: Vec<f64>,
    /// Counts of the other patterns in [`FREE_ENERGY_BINS`] equal bins over `range`.
    pub rest: Vec<u32>,
    /// The range of the bins: the lowest and highest `F(v)` of all patterns.
    pub range: [f64; 2],
}

/// What the UI draws of an RBM run.
#[derive(Clone, Debug, PartialEq)]
pub struct RbmView {
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Learning (with which estimator) or sampling.
    pub mode: Mode,
    /// Learning updates or Gibbs sweeps done.
    pub steps: u64,
    /// The temperature of the last sweep (1 when learning).
    pub temperature: f64,
    /// The data patterns, most probable under the model first (empty in a replica's view).
    pub patterns: Vec<PatternRow>,
    /// The model's total probability on the data patterns.
    pub data_mass: f64,
    /// Exact mean log-likelihood of the data.
    pub log_likelihood: f64,
    /// The best possible mean log-likelihood (the data's `sum q ln q`).
    pub max_log_likelihood: f64,
    /// Exact `ln Z` at `T = 1`.
    pub exact_ln_z: f64,
    /// The temperature of the latest exact values at `T` (see the module docs).
    pub exact_t: f64,
    /// Exact `ln Z` at `exact_t`.
    pub exact_ln_z_t: f64,
    /// Each hidden unit's weights over the pixels (row-major images).
    pub receptive_fields: Vec<Vec<f64>>,
    /// The chains' visible states (at most [`VIEW_CHAINS`]).
    pub chains: Vec<u32>,
    /// Number of chains.
    pub chain_count: usize,
    /// The free energies of the data against the rest (`None` in a replica's view).
    pub free_energies: Option<FreeEnergies>,
    /// The run's AIS settings (the app's defaults for `K` and `M`).
    pub ais: AisConfig,
}

/// Everything an independent program needs to recompute `ln Z` and the log-likelihood.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RbmState {
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// Hidden units.
    pub hidden: usize,
    /// `W`, one row per visible unit (pixel `row * width + col`).
    #[serde(rename = "W")]
    pub w: Vec<Vec<f64>>,
    /// Visible biases.
    pub b: Vec<f64>,
    /// Hidden biases.
    pub c: Vec<f64>,
    /// The data patterns, with multiplicity, as `'0'`/`'1'` strings (row-major).
    pub patterns: Vec<String>,
    /// Exact `ln Z` at `T = 1`.
    pub exact_ln_z: f64,
    /// Exact mean log-likelihood of the data at `T = 1`.
    pub log_likelihood: f64,
    /// The temperature of the last sweep (1 in learning mode).
    pub temperature: f64,
    /// Exact `ln Z` at that temperature.
    pub exact_ln_z_at_t: f64,
    /// AIS estimate of `ln Z` at `T = 1` with the config's `K`, `M` and spacing, drawn
    /// from a stream seeded by the config's seed (the same state gives the same estimate).
    pub ais_ln_z: f64,
    /// Its standard error.
    pub ais_std_err: f64,
    /// The `K` and `M` it used.
    pub ais_k: usize,
    /// Number of AIS runs.
    pub ais_m: usize,
    /// Learning updates or Gibbs sweeps done.
    pub steps: u64,
}

#[derive(Clone, Debug, PartialEq)]
enum Run {
    Learn { learning: Learning, lr: f64 },
    Sample,
}

/// An RBM as an annealscope problem: learning (one update per step) or sampling (one
/// Gibbs sweep of all chains per step at the engine's temperature).
///
/// `propose` returns NaN (the engine rejects it) and `accept`/`reject` do nothing: the
/// problem only moves through [`Problem::sweep`].
#[derive(Clone, Debug)]
pub struct RbmProblem {
    width: usize,
    height: usize,
    model: RbmModel,
    data: Vec<u32>,
    /// Distinct data patterns with their counts, in mask order.
    distinct: Vec<(u32, usize)>,
    run: Run,
    mode: Mode,
    momentum: f64,
    weight_decay: f64,
    vel: Moments,
    ais_cfg: AisConfig,
    seed: u64,
    ln_z: f64,
    log_likelihood: f64,
    reconstruction_error: f64,
    cd_surrogate: f64,
    /// Temperature of the last sweep.
    t: f64,
    /// Temperature of the exact values below, and sweeps since they were computed.
    exact_t: f64,
    exact_age: u64,
    ln_z_t: f64,
    mean_energy_t: f64,
    chains_v: Vec<u32>,
    chains_h: Vec<u32>,
    /// Total joint energy of the chains.
    chain_total: f64,
    best: Option<(f64, RbmModel, Vec<u32>)>,
    steps: u64,
}

impl RbmProblem {
    /// Builds the problem: initial weights from `cfg.seed` (or `cfg.weights`), pretraining
    /// in sampling mode, chains initialised from `rng` (uniform random, or all at
    /// `cfg.start`, in sampling mode; random data patterns for PCD).
    pub fn new<R: Rng + ?Sized>(cfg: &RbmConfig, rng: &mut R) -> Result<Self, RangeError> {
        let mut all = Self::build(cfg, 1, rng)?;
        all.pop()
            .ok_or_else(|| field_error("count".into(), "0".into(), "1"))
    }

    /// `count` copies (tempering replicas) sharing the weights, which are made (and in
    /// sampling mode pretrained) once; each copy's chains are drawn from `rng` in turn.
    pub fn build<R: Rng + ?Sized>(
        cfg: &RbmConfig,
        count: usize,
        rng: &mut R,
    ) -> Result<Vec<Self>, RangeError> {
        let base = Self::base(cfg)?;
        Ok((0..count).map(|_| base.with_chains(cfg, rng)).collect())
    }

    /// The problem without chains: weights made and pretrained, exact values current.
    fn base(cfg: &RbmConfig) -> Result<Self, RangeError> {
        cfg.validate()?;
        let data = cfg.patterns.masks(cfg.width, cfg.height)?;
        let (nv, nh) = (cfg.visible(), cfg.hidden);
        let model = match &cfg.weights {
            Some(w) => RbmModel::from_weights(w)?,
            None => {
                let mut seeded = Pcg64Mcg::seed_from_u64(cfg.seed);
                RbmModel::random(nv, nh, cfg.init_scale, &mut seeded)
            }
        };
        let run = match &cfg.mode {
            Mode::Learn { learning, lr } => Run::Learn {
                learning: learning.clone(),
                lr: *lr,
            },
            Mode::Sample { .. } => Run::Sample,
        };
        let mut distinct: Vec<(u32, usize)> = Vec::new();
        let mut sorted = data.clone();
        sorted.sort_unstable();
        for v in sorted {
            match distinct.last_mut() {
                Some((m, c)) if *m == v => *c += 1,
                _ => distinct.push((v, 1)),
            }
        }
        let mut p = Self {
            width: cfg.width,
            height: cfg.height,
            model,
            data,
            distinct,
            run,
            mode: cfg.mode.clone(),
            momentum: cfg.momentum,
            weight_decay: cfg.weight_decay,
            vel: Moments::zeros(nv, nh),
            ais_cfg: cfg.ais.clone(),
            seed: cfg.seed,
            ln_z: 0.0,
            log_likelihood: 0.0,
            reconstruction_error: 0.0,
            cd_surrogate: f64::NAN,
            t: 1.0,
            exact_t: 1.0,
            exact_age: 0,
            ln_z_t: 0.0,
            mean_energy_t: f64::NAN,
            chains_v: Vec::new(),
            chains_h: Vec::new(),
            chain_total: 0.0,
            best: None,
            steps: 0,
        };
        if let Mode::Sample { pretrain, .. } = cfg.mode
            && cfg.weights.is_none()
        {
            p.pretrain(pretrain);
            p.vel = Moments::zeros(nv, nh);
        }
        p.refresh();
        if matches!(p.run, Run::Sample) {
            let (lz, u) = p.model.ln_z_and_mean_energy(1.0);
            p.ln_z_t = lz;
            p.mean_energy_t = u;
        }
        Ok(p)
    }

    /// A copy of `self` with its own chains drawn from `rng`.
    fn with_chains<R: Rng + ?Sized>(&self, cfg: &RbmConfig, rng: &mut R) -> Self {
        let mut p = self.clone();
        let nv = p.model.nv;
        let full = if nv >= 32 { u32::MAX } else { (1u32 << nv) - 1 };
        match &cfg.mode {
            Mode::Sample { chains, .. } => {
                let start = cfg.start.as_deref().and_then(|s| parse_pattern(s, nv));
                p.chains_v = (0..*chains)
                    .map(|_| start.unwrap_or_else(|| rng.random::<u32>() & full))
                    .collect();
                let m = &p.model;
                p.chains_h = p
                    .chains_v
                    .iter()
                    .map(|&v| m.sample_hidden(v, 1.0, rng))
                    .collect();
                p.chain_total = p.total_chain_energy();
            }
            Mode::Learn {
                learning: Learning::Pcd { chains, .. },
                ..
            } => {
                p.chains_v = (0..*chains)
                    .map(|_| p.data[rng.random_range(0..p.data.len())])
                    .collect();
                p.chains_h = vec![0; *chains];
            }
            Mode::Learn { .. } => {}
        }
        p
    }

    /// `n` exact-gradient updates with [`limits::PRETRAIN_LR`] (deterministic).
    fn pretrain(&mut self, n: u64) {
        let mut ln_z = self.model.ln_z(1.0);
        for _ in 0..n {
            let g = self.model.gradient(&self.data, ln_z);
            self.model.update(
                &g,
                &mut self.vel,
                limits::PRETRAIN_LR,
                self.momentum,
                self.weight_decay,
            );
            ln_z = self.model.ln_z(1.0);
        }
    }

    /// Recomputes the exact `T = 1` quantities from scratch.
    fn refresh(&mut self) {
        self.ln_z = self.model.ln_z(1.0);
        self.log_likelihood = self.model.mean_log_likelihood(&self.data, self.ln_z);
        self.reconstruction_error = self.model.reconstruction_error(&self.data);
        if matches!(self.run, Run::Learn { .. }) {
            self.ln_z_t = self.ln_z;
        }
    }

    /// Recomputes `ln Z(t)` and `U(t)` if `t` moved enough since the last time (see the
    /// module docs); `sweep` counts a sweep towards the next refresh.
    fn refresh_exact_at(&mut self, t: f64, sweep: bool) {
        self.exact_age += u64::from(sweep);
        if t == self.exact_t {
            return;
        }
        let jump = (t / self.exact_t).ln().abs() > EXACT_REFRESH_JUMP;
        if jump || self.exact_age >= EXACT_REFRESH_SWEEPS {
            let (lz, u) = self.model.ln_z_and_mean_energy(t);
            self.ln_z_t = lz;
            self.mean_energy_t = u;
            self.exact_t = t;
            self.exact_age = 0;
        }
    }

    fn total_chain_energy(&self) -> f64 {
        self.chains_v
            .iter()
            .zip(&self.chains_h)
            .map(|(&v, &h)| self.model.energy(v, h))
            .sum::<f64>()
    }

    /// One learning update (see the module docs).
    fn learn_step<R: Rng + ?Sized>(&mut self, learning: &Learning, lr: f64, rng: &mut R) {
        let m = &self.model;
        let pos = m.data_moments(&self.data);
        let (neg, negatives) = match *learning {
            Learning::Exact => {
                let neg = m.model_moments(1.0, self.ln_z);
                let recon: Vec<u32> = self
                    .data
                    .iter()
                    .map(|&v| {
                        let h = m.sample_hidden(v, 1.0, rng);
                        m.sample_visible(h, 1.0, rng)
                    })
                    .collect();
                (neg, recon)
            }
            Learning::Cd { k } => {
                let vk: Vec<u32> = self
                    .data
                    .iter()
                    .map(|&v0| {
                        let mut v = v0;
                        for _ in 0..k {
                            let h = m.sample_hidden(v, 1.0, rng);
                            v = m.sample_visible(h, 1.0, rng);
                        }
                        v
                    })
                    .collect();
                (m.sample_moments(&vk), vk)
            }
            Learning::Pcd { k, .. } => {
                for (v, h) in self.chains_v.iter_mut().zip(&mut self.chains_h) {
                    for _ in 0..k {
                        *h = m.sample_hidden(*v, 1.0, rng);
                        *v = m.sample_visible(*h, 1.0, rng);
                    }
                }
                (m.sample_moments(&self.chains_v), self.chains_v.clone())
            }
        };
        self.cd_surrogate = m.mean_free_energy(&self.data) - m.mean_free_energy(&negatives);
        let grad = pos.minus(&neg);
        self.model
            .update(&grad, &mut self.vel, lr, self.momentum, self.weight_decay);
        self.refresh();
        if matches!(learning, Learning::Pcd { .. }) {
            self.chain_total = self.total_chain_energy();
        }
    }

    /// One block-Gibbs sweep (`h` then `v`) of every chain at temperature `t`; returns
    /// the number of units that changed.
    fn gibbs_sweep<R: Rng + ?Sized>(&mut self, t: f64, rng: &mut R) -> u64 {
        let m = &self.model;
        let mut changed = 0u64;
        for (v, h) in self.chains_v.iter_mut().zip(&mut self.chains_h) {
            let nh = m.sample_hidden(*v, t, rng);
            let nv = m.sample_visible(nh, t, rng);
            changed += u64::from((nh ^ *h).count_ones() + (nv ^ *v).count_ones());
            *h = nh;
            *v = nv;
        }
        changed
    }

    /// The model.
    pub fn model(&self) -> &RbmModel {
        &self.model
    }

    /// The data patterns (masks, with multiplicity).
    pub fn data(&self) -> &[u32] {
        &self.data
    }

    /// Image width.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Image height.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Whether the problem samples (else it learns).
    pub fn sampling(&self) -> bool {
        matches!(self.run, Run::Sample)
    }

    /// Exact `ln Z` at `T = 1` of the current weights.
    pub fn exact_ln_z(&self) -> f64 {
        self.ln_z
    }

    /// Exact mean log-likelihood of the data at `T = 1`.
    pub fn log_likelihood(&self) -> f64 {
        self.log_likelihood
    }

    /// The best possible mean log-likelihood: that of the data's own empirical
    /// distribution, `sum_v q(v) ln q(v)` (`-ln N` for `N` distinct patterns).
    pub fn max_log_likelihood(&self) -> f64 {
        let n = self.data.len() as f64;
        self.distinct
            .iter()
            .map(|&(_, c)| {
                let q = c as f64 / n;
                q * q.ln()
            })
            .sum()
    }

    /// The temperature of the last sweep (1 before any, and always 1 in learning mode).
    pub fn temperature(&self) -> f64 {
        self.t
    }

    /// The temperature of the latest exact values at `T`, and `(ln Z, U)` there.
    pub fn exact_at_t(&self) -> (f64, f64, f64) {
        (self.exact_t, self.ln_z_t, self.mean_energy_t)
    }

    /// The CD surrogate of the last update (NaN before any and in sampling mode).
    pub fn cd_surrogate(&self) -> f64 {
        self.cd_surrogate
    }

    /// The mean-field reconstruction error of the data.
    pub fn reconstruction_error(&self) -> f64 {
        self.reconstruction_error
    }

    /// Share of the distinct data patterns held by at least one chain now.
    pub fn data_patterns_held(&self) -> f64 {
        let mut held: Vec<u32> = self
            .chains_v
            .iter()
            .copied()
            .filter(|v| self.distinct.binary_search_by_key(v, |&(m, _)| m).is_ok())
            .collect();
        held.sort_unstable();
        held.dedup();
        held.len() as f64 / self.distinct.len().max(1) as f64
    }

    /// Total-variation distance between the chains' visible patterns now and the exact
    /// `p_T(v)` at the temperature of the latest exact values:
    /// `sum_v max(0, q(v) - p_T(v))` over the patterns the chains occupy (`q` their share).
    pub fn chains_tv(&self) -> f64 {
        let n = self.chains_v.len();
        if n == 0 {
            return f64::NAN;
        }
        let mut sorted = self.chains_v.clone();
        sorted.sort_unstable();
        let mut tv = 0.0;
        let mut i = 0;
        while i < n {
            let v = sorted[i];
            let j = sorted[i..].iter().take_while(|&&x| x == v).count();
            let q = j as f64 / n as f64;
            let p = self.model.log_p(v, self.exact_t, self.ln_z_t).exp();
            tv += (q - p).max(0.0);
            i += j;
        }
        tv
    }

    /// The current weights.
    pub fn weights(&self) -> RbmWeights {
        self.model.to_weights()
    }

    /// The weights at the lowest energy recorded by `store_best`.
    pub fn best_weights(&self) -> Option<RbmWeights> {
        self.best.as_ref().map(|(_, m, _)| m.to_weights())
    }

    /// The lowest energy recorded by `store_best`.
    pub fn best_energy(&self) -> Option<f64> {
        self.best.as_ref().map(|(e, _, _)| *e)
    }

    /// Each hidden unit's receptive field: `W_ij` over the pixels `i` (row-major image).
    pub fn receptive_fields(&self) -> Vec<Vec<f64>> {
        let m = &self.model;
        (0..m.nh)
            .map(|j| (0..m.nv).map(|i| m.w[i * m.nh + j]).collect())
            .collect()
    }

    /// The chains' current visible states as masks (sampling mode, and PCD's chains).
    pub fn chain_masks(&self) -> &[u32] {
        &self.chains_v
    }

    /// The chains' current hidden states as masks (drawn in the last sweep).
    pub fn chain_hidden(&self) -> &[u32] {
        &self.chains_h
    }

    fn row(&self, mask: u32, count: usize) -> PatternRow {
        let nv = self.model.nv;
        PatternRow {
            mask,
            pixels: pattern_pixels(mask, nv),
            count,
            empirical: count as f64 / self.data.len().max(1) as f64,
            model: self.model.log_p(mask, 1.0, self.ln_z).exp(),
            free_energy: self.model.free_energy(mask, 1.0),
        }
    }

    /// The distinct data patterns with empirical frequency, exact model probability and
    /// free energy at `T = 1`, most probable first.
    pub fn pattern_table(&self) -> Vec<PatternRow> {
        let mut rows: Vec<PatternRow> =
            self.distinct.iter().map(|&(m, c)| self.row(m, c)).collect();
        rows.sort_by(|a, b| b.model.total_cmp(&a.model));
        rows
    }

    /// The `n` most probable visible patterns of the model at `T = 1` (data or not).
    pub fn top_patterns(&self, n: usize) -> Vec<PatternRow> {
        let logp = self.model.log_p_all(1.0);
        let mut idx: Vec<u32> = (0..logp.len() as u32).collect();
        idx.sort_by(|&a, &b| logp[b as usize].total_cmp(&logp[a as usize]));
        idx.into_iter()
            .take(n)
            .map(|m| {
                let c = self
                    .distinct
                    .binary_search_by_key(&m, |&(v, _)| v)
                    .map_or(0, |k| self.distinct[k].1);
                self.row(m, c)
            })
            .collect()
    }

    /// The free energies of the data patterns against a histogram of all the others.
    pub fn free_energy_histogram(&self) -> FreeEnergies {
        let all = self.model.free_energies();
        let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let width = (hi - lo).max(1e-12) / FREE_ENERGY_BINS as f64;
        let mut rest = vec![0u32; FREE_ENERGY_BINS];
        let mut data = Vec::with_capacity(self.distinct.len());
        let mut d = self.distinct.iter().peekable();
        for (v, &f) in all.iter().enumerate() {
            if d.peek().is_some_and(|&&(m, _)| m as usize == v) {
                data.push(f);
                d.next();
            } else if f.is_finite() {
                let b = (((f - lo) / width) as usize).min(FREE_ENERGY_BINS - 1);
                rest[b] += 1;
            }
        }
        FreeEnergies {
            data,
            rest,
            range: [lo, hi],
        }
    }

    /// Exact `p_T(v)` of every visible pattern (mask order, `2^{n_v}` values).
    pub fn exact_p_v(&self, t: f64) -> Vec<f64> {
        self.model.log_p_all(t).into_iter().map(f64::exp).collect()
    }

    /// The AIS model at temperature `t` (base rates from the data).
    fn ais_model(&self, t: f64) -> RbmAis<'_> {
        let m = &self.model;
        let n = self.data.len().max(1) as f64;
        let means: Vec<f64> = (0..m.nv)
            .map(|i| self.data.iter().filter(|&&v| v >> i & 1 == 1).count() as f64 / n)
            .collect();
        RbmAis::new(&m.w, &m.b, &m.c, ais::base_rate_biases(&means), t)
    }

    /// AIS estimate of `ln Z(t)` with `k` intervals and `m` runs (spacing from the config).
    pub fn ais_estimate<R: Rng + ?Sized>(
        &self,
        t: f64,
        k: usize,
        m: usize,
        rng: &mut R,
    ) -> AisEstimate {
        let betas = ais::schedule(k, self.ais_cfg.spacing);
        ais::run(&self.ais_model(t), &betas, m, rng)
    }

    /// AIS error against the exact `ln Z(t)` for each `K` in `ks` (`m` runs, the config's
    /// spacing), averaged over `repeats` estimates.
    pub fn ais_error_vs_k<R: Rng + ?Sized>(
        &self,
        t: f64,
        ks: &[usize],
        m: usize,
        repeats: usize,
        rng: &mut R,
    ) -> Vec<ErrorPoint> {
        let exact = self.model.ln_z(t);
        ais::error_vs_k(
            ks,
            repeats,
            exact,
            |k, r| self.ais_estimate(t, k, m, r),
            rng,
        )
    }

    /// The temperature AIS runs at when asked for `t`: the model's own `T = 1` when
    /// learning, else `t` clamped like a sweep's.
    fn ais_temperature(&self, t: f64) -> f64 {
        if self.sampling() { clamp_t(t) } else { 1.0 }
    }
}

/// A sweep's temperature: clamped to `[1e-12, 1e12]`, NaN taken as `1e-12`.
fn clamp_t(t: f64) -> f64 {
    if t > 1e-12 { t.min(1e12) } else { 1e-12 }
}

impl Problem for RbmProblem {
    /// Learning: the exact negative mean log-likelihood `-L` (T = 1). Sampling: the chains'
    /// total joint energy `sum_c E(v_c, h_c)`.
    fn energy(&self) -> f64 {
        match self.run {
            Run::Learn { .. } => -self.log_likelihood,
            Run::Sample => self.chain_total,
        }
    }

    /// Unused: returns NaN, which the engine rejects.
    fn propose<R: Rng + ?Sized>(&mut self, _kind: ProposalKind, _sigma: f64, _rng: &mut R) -> f64 {
        f64::NAN
    }

    /// Unused (no pending candidate).
    fn accept(&mut self) {}

    /// Unused (no pending candidate).
    fn reject(&mut self) {}

    /// Keeps the current weights (learning) or chain states (sampling) and the energy.
    fn store_best(&mut self) {
        self.best = Some((self.energy(), self.model.clone(), self.chains_v.clone()));
    }

    /// Learning: one full-batch update (`t` unused). Sampling: one block-Gibbs sweep of
    /// every chain at `t` (clamped to `[1e-12, 1e12]`; NaN is taken as 1e-12), and the exact
    /// `ln Z(t)` and `U(t)` when due (see the module docs).
    fn sweep<R: Rng + ?Sized>(&mut self, t: f64, rng: &mut R) -> Option<Sweep> {
        let before = self.energy();
        self.steps += 1;
        match self.run.clone() {
            Run::Learn { learning, lr } => {
                self.learn_step(&learning, lr, rng);
                Some(Sweep {
                    de: self.energy() - before,
                    attempted: 1,
                    accepted: 1,
                })
            }
            Run::Sample => {
                let t = clamp_t(t);
                let changed = self.gibbs_sweep(t, rng);
                self.chain_total = self.total_chain_energy();
                self.t = t;
                self.refresh_exact_at(t, true);
                Some(Sweep {
                    de: self.energy() - before,
                    attempted: (self.chains_v.len() * (self.model.nv + self.model.nh)) as u64,
                    accepted: changed,
                })
            }
        }
    }
}

impl Kind for RbmProblem {
    fn observables(&self) -> &'static [Observable] {
        match self.run {
            Run::Learn { .. } => LEARN_OBSERVABLES,
            Run::Sample => SAMPLE_OBSERVABLES,
        }
    }

    /// Every value is kept current by the step (or is cheap): observed every step.
    fn observe_every(&self) -> u64 {
        1
    }

    /// In sampling mode the exact values follow the temperature of the slot the chains
    /// now sit in (`chain.temperature`): after a tempering exchange it differs from the
    /// one they were last swept at (by a ladder step, so they are refreshed at once).
    fn observe(&mut self, chain: &ChainStats, out: &mut [f64]) {
        if self.sampling() && chain.temperature > 0.0 && chain.temperature != self.exact_t {
            self.refresh_exact_at(clamp_t(chain.temperature), false);
        }
        let values = match self.run {
            Run::Learn { .. } => vec![
                self.log_likelihood,
                self.max_log_likelihood(),
                self.cd_surrogate,
                self.reconstruction_error,
                self.ln_z,
            ],
            Run::Sample => vec![
                self.chain_total / self.chains_v.len().max(1) as f64,
                self.mean_energy_t,
                self.data_patterns_held(),
                self.chains_tv(),
                self.ln_z_t,
            ],
        };
        for (o, v) in out.iter_mut().zip(values) {
            *o = v;
        }
    }

    fn particles(&self) -> usize {
        match self.run {
            Run::Learn { .. } => 1,
            Run::Sample => self.chains_v.len().max(1),
        }
    }

    fn view(&self, request: &ViewRequest) -> ProblemView {
        let full = !request.replica;
        let patterns = if full {
            self.pattern_table()
        } else {
            Vec::new()
        };
        ProblemView::Rbm(RbmView {
            width: self.width,
            height: self.height,
            hidden: self.model.nh,
            mode: self.mode.clone(),
            steps: self.steps,
            temperature: self.t,
            data_mass: patterns.iter().map(|r| r.model).sum(),
            patterns,
            log_likelihood: self.log_likelihood,
            max_log_likelihood: self.max_log_likelihood(),
            exact_ln_z: self.ln_z,
            exact_t: self.exact_t,
            exact_ln_z_t: self.ln_z_t,
            receptive_fields: if full {
                self.receptive_fields()
            } else {
                Vec::new()
            },
            chains: self.chains_v.iter().copied().take(VIEW_CHAINS).collect(),
            chain_count: self.chains_v.len(),
            free_energies: full.then(|| self.free_energy_histogram()),
            ais: self.ais_cfg.clone(),
        })
    }

    /// AIS of `ln Z` at the model's temperature (see [`RbmProblem::ais_estimate`]).
    fn answer(&self, request: &Request, seed: u64) -> Option<Reply> {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        match *request {
            Request::Ais { k, m, t } => {
                let t = self.ais_temperature(t);
                let (k, m) = ais::clamp_request(k, m);
                Some(Reply::Ais(AisAnswer {
                    estimate: self.ais_estimate(t, k, m, &mut rng),
                    exact_ln_z: self.model.ln_z(t),
                    temperature: t,
                    base: "the base-rate model (W = 0, visible biases from the data)",
                }))
            }
            Request::AisErrors {
                k_max,
                m,
                repeats,
                t,
            } => {
                let t = self.ais_temperature(t);
                let (ks, m, repeats) = ais::clamp_errors_request(k_max, m, repeats);
                Some(Reply::AisErrors(ais::AisErrors {
                    points: self.ais_error_vs_k(t, &ks, m, repeats, &mut rng),
                    m,
                    temperature: t,
                }))
            }
            _ => None,
        }
    }

    fn state(&self) -> ProblemState {
        let nv = self.model.nv;
        let wt = self.model.to_weights();
        let (k, m) = ais::clamp_request(self.ais_cfg.k, self.ais_cfg.m);
        let mut rng = Pcg64Mcg::seed_from_u64(self.seed ^ STATE_AIS_SEED);
        let est = self.ais_estimate(1.0, k, m, &mut rng);
        ProblemState::Rbm(RbmState {
            width: self.width,
            height: self.height,
            hidden: self.model.nh,
            w: wt.w,
            b: wt.b,
            c: wt.c,
            patterns: self.data.iter().map(|&v| pattern_string(v, nv)).collect(),
            exact_ln_z: self.ln_z,
            log_likelihood: self.log_likelihood,
            temperature: self.t,
            exact_ln_z_at_t: self.model.ln_z(self.t),
            ais_ln_z: est.ln_z,
            ais_std_err: est.std_err,
            ais_k: k,
            ais_m: m,
            steps: self.steps,
        })
    }

    fn samples(&self) -> Option<(&'static str, Vec<Vec<f64>>)> {
        if !self.sampling() {
            return None;
        }
        let rows = (self.chains_v.iter().zip(&self.chains_h).enumerate())
            .map(|(i, (&v, &h))| {
                vec![
                    i as f64,
                    f64::from(v),
                    f64::from(h),
                    self.model.energy(v, h),
                ]
            })
            .collect();
        Some(("chain,visible_mask,hidden_mask,energy", rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_ln_z(m: &RbmModel, t: f64) -> f64 {
        let mut terms = Vec::new();
        for v in 0..1u32 << m.nv {
            for h in 0..1u32 << m.nh {
                terms.push(-m.energy(v, h) / t);
            }
        }
        let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        max + terms.iter().map(|x| (x - max).exp()).sum::<f64>().ln()
    }

    #[test]
    fn bars_and_stripes_counts() {
        assert_eq!(bars_and_stripes(3, 3).len(), 14);
        assert_eq!(bars_and_stripes(4, 4).len(), 30);
        assert_eq!(bars_and_stripes(2, 2).len(), 6);
        assert_eq!(bars_and_stripes(4, 2).len(), 18);
        for m in bars_and_stripes(3, 3) {
            let s = pattern_string(m, 9);
            let rows: Vec<&str> = vec![&s[0..3], &s[3..6], &s[6..9]];
            let stripes = rows.iter().all(|r| *r == "000" || *r == "111");
            let bars = rows.iter().all(|r| *r == rows[0]);
            assert!(stripes || bars, "{s}");
        }
    }

    #[test]
    fn shapes_are_distinct_and_nonempty() {
        for w in 2..=4 {
            for h in 2..=4 {
                let s = shapes(w, h);
                assert!(s.len() >= 2, "{w}x{h}");
                let mut d = s.clone();
                d.sort_unstable();
                d.dedup();
                assert_eq!(d.len(), s.len());
                assert!(s.iter().all(|&m| m != 0 && m < 1 << (w * h)));
            }
        }
    }

    #[test]
    fn patterns_round_trip() {
        let s = "0110100110010110";
        let m = parse_pattern(s, 16).expect("valid");
        assert_eq!(pattern_string(m, 16), s);
        assert_eq!(parse_pattern("012", 3), None);
        assert_eq!(parse_pattern("01", 3), None);
    }

    #[test]
    fn ln_z_small_matches_brute_force_both_orientations() {
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        for (nv, nh) in [(4, 2), (2, 4), (3, 3), (5, 1)] {
            let mut m = RbmModel::random(nv, nh, 1.5, &mut rng);
            for x in m.b.iter_mut().chain(&mut m.c) {
                *x = rng.random::<f64>() * 2.0 - 1.0;
            }
            for t in [1.0, 0.3, 3.0] {
                let want = brute_ln_z(&m, t);
                for got in [m.ln_z(t), m.ln_z_plain(t), m.ln_z_gray_plain(t)] {
                    assert!(
                        (got - want).abs() < 1e-10 * want.abs().max(1.0),
                        "{nv}x{nh} T={t}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn mean_energy_matches_brute_force() {
        let mut rng = Pcg64Mcg::seed_from_u64(4);
        for (nv, nh) in [(4, 3), (3, 4)] {
            let mut m = RbmModel::random(nv, nh, 1.0, &mut rng);
            m.b[0] = 0.7;
            m.c[1] = -0.4;
            for t in [1.0, 0.5] {
                let lz = brute_ln_z(&m, t);
                let mut u = 0.0;
                for v in 0..1u32 << nv {
                    for h in 0..1u32 << nh {
                        let e = m.energy(v, h);
                        u += e * (-e / t - lz).exp();
                    }
                }
                let (lz2, u2) = m.ln_z_and_mean_energy(t);
                assert!((lz - lz2).abs() < 1e-10);
                assert!((u - u2).abs() < 1e-10, "{u} vs {u2}");
            }
        }
    }

    #[test]
    fn model_moments_match_brute_force_for_odd_and_even_layers() {
        let mut rng = Pcg64Mcg::seed_from_u64(5);
        for (nv, nh) in [(5, 7), (7, 3), (1, 4), (4, 1), (6, 6)] {
            let mut m = RbmModel::random(nv, nh, 1.0, &mut rng);
            for x in m.b.iter_mut().chain(&mut m.c) {
                *x = rng.random::<f64>() * 2.0 - 1.0;
            }
            let t = 0.7;
            let lz = brute_ln_z(&m, t);
            let got = m.model_moments(t, lz);
            let mut want = Moments::zeros(nv, nh);
            for v in 0..1u32 << nv {
                for h in 0..1u32 << nh {
                    let p = (-m.energy(v, h) / t - lz).exp();
                    for i in 0..nv {
                        let vi = f64::from(v >> i & 1);
                        want.v[i] += p * vi;
                        for j in 0..nh {
                            want.vh[i * nh + j] += p * vi * f64::from(h >> j & 1);
                        }
                    }
                    for j in 0..nh {
                        want.h[j] += p * f64::from(h >> j & 1);
                    }
                }
            }
            let d = got.minus(&want);
            let worst =
                d.v.iter()
                    .chain(&d.h)
                    .chain(&d.vh)
                    .fold(0.0f64, |a, x| a.max(x.abs()));
            assert!(worst < 1e-12, "{nv}x{nh}: {worst}");
        }
    }

    #[test]
    fn free_energies_of_every_pattern_match_one_by_one_in_both_orientations() {
        let mut rng = Pcg64Mcg::seed_from_u64(8);
        // 4 x 6 sums over the visible layer (the Gray-code walk), 6 x 3 pattern by pattern.
        for (nv, nh) in [(4, 6), (6, 3), (5, 5)] {
            let mut m = RbmModel::random(nv, nh, 1.3, &mut rng);
            for x in m.b.iter_mut().chain(&mut m.c) {
                *x = rng.random::<f64>() * 2.0 - 1.0;
            }
            let all = m.free_energies();
            assert_eq!(all.len(), 1 << nv);
            for (v, f) in all.iter().enumerate() {
                let want = m.free_energy(v as u32, 1.0);
                assert!((f - want).abs() < 1e-10, "{nv}x{nh} v={v}: {f} vs {want}");
            }
        }
    }

    fn sampler(chains: usize, start: Option<&str>) -> RbmProblem {
        let cfg = RbmConfig {
            mode: Mode::Sample {
                chains,
                pretrain: 200,
            },
            start: start.map(str::to_owned),
            ..RbmConfig::default()
        };
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        RbmProblem::new(&cfg, &mut rng).expect("valid")
    }

    #[test]
    fn exact_values_at_t_are_throttled_while_t_creeps_and_refreshed_on_a_jump() {
        let mut p = sampler(4, None);
        let mut rng = Pcg64Mcg::seed_from_u64(2);
        let mut t = 1.0;
        let mut refreshes = 0;
        for _ in 0..64 {
            // 0.05% per sweep: 16 sweeps stay below the 1% jump.
            t *= 0.9995;
            let before = p.exact_at_t().0;
            p.sweep(t, &mut rng);
            let (et, lz, u) = p.exact_at_t();
            if et != before {
                refreshes += 1;
                let (want_lz, want_u) = p.model().ln_z_and_mean_energy(et);
                assert_eq!((lz, u), (want_lz, want_u), "values belong to their T");
            }
            assert!(
                (et / t).ln().abs() <= EXACT_REFRESH_JUMP,
                "never far behind"
            );
        }
        assert_eq!(refreshes, 64 / EXACT_REFRESH_SWEEPS as usize);
        p.sweep(0.5, &mut rng);
        assert_eq!(p.exact_at_t().0, 0.5, "a jump refreshes at once");
        // A tempering exchange puts the chains at another slot's temperature.
        let stats = ChainStats {
            temperature: 0.7,
            heat_capacity: 0.0,
        };
        let mut out = [0.0; 5];
        p.observe(&stats, &mut out);
        assert_eq!(p.exact_at_t().0, 0.7);
        assert_eq!(out[4], p.model().ln_z(0.7));
    }

    #[test]
    fn chains_in_one_data_pattern_hold_one_pattern_at_the_distance_it_implies() {
        let p = sampler(10, Some("111000000"));
        let v = parse_pattern("111000000", 9).expect("valid");
        assert!(p.chain_masks().iter().all(|&c| c == v));
        assert!((p.data_patterns_held() - 1.0 / 14.0).abs() < 1e-12);
        let (t, lz, _) = p.exact_at_t();
        let want = 1.0 - p.model().log_p(v, t, lz).exp();
        assert!((p.chains_tv() - want).abs() < 1e-12);
        assert_eq!(p.particles(), 10);
        let total: f64 = p
            .chain_masks()
            .iter()
            .zip(p.chain_hidden())
            .map(|(&v, &h)| p.model().energy(v, h))
            .sum();
        assert!(
            (p.energy() - total).abs() < 1e-9,
            "the energy is the chains' total"
        );
    }

    #[test]
    fn replicas_share_their_pretrained_weights_and_draw_their_own_chains() {
        let cfg = RbmConfig {
            mode: Mode::Sample {
                chains: 8,
                pretrain: 50,
            },
            ..RbmConfig::default()
        };
        let mut rng = Pcg64Mcg::seed_from_u64(4);
        let all = RbmProblem::build(&cfg, 3, &mut rng).expect("valid");
        let single = RbmProblem::new(&cfg, &mut Pcg64Mcg::seed_from_u64(9)).expect("valid");
        assert!(all.iter().all(|p| p.weights() == single.weights()));
        assert_ne!(all[0].chain_masks(), all[1].chain_masks());
    }

    #[test]
    fn validation_names_fields() {
        let bad = |f: &dyn Fn(&mut RbmConfig)| {
            let mut c = RbmConfig::default();
            f(&mut c);
            c.validate().expect_err("should be refused").field
        };
        assert!(RbmConfig::default().validate().is_ok());
        assert_eq!(bad(&|c| c.width = 5), "width");
        assert_eq!(bad(&|c| c.height = 1), "height");
        assert_eq!(bad(&|c| c.hidden = 0), "hidden");
        assert_eq!(bad(&|c| c.hidden = 17), "hidden");
        assert_eq!(
            bad(&|c| c.patterns = Patterns::List(vec!["010101010".into(), "01010101".into()])),
            "patterns[1]"
        );
        assert_eq!(
            bad(&|c| c.patterns = Patterns::List(vec!["01010101x".into()])),
            "patterns[0]"
        );
        assert_eq!(bad(&|c| c.patterns = Patterns::List(vec![])), "patterns");
        assert_eq!(
            bad(&|c| c.mode = Mode::Learn {
                learning: Learning::Exact,
                lr: f64::NAN
            }),
            "mode.lr"
        );
        assert_eq!(
            bad(&|c| c.mode = Mode::Learn {
                learning: Learning::Cd { k: 0 },
                lr: 0.1
            }),
            "mode.learning.k"
        );
        assert_eq!(
            bad(&|c| c.mode = Mode::Learn {
                learning: Learning::Pcd { k: 1, chains: 0 },
                lr: 0.1
            }),
            "mode.learning.chains"
        );
        assert_eq!(
            bad(&|c| c.mode = Mode::Sample {
                chains: 0,
                pretrain: 0
            }),
            "mode.chains"
        );
        assert_eq!(bad(&|c| c.init_scale = f64::NAN), "init_scale");
        assert_eq!(bad(&|c| c.momentum = 1.0), "momentum");
        assert_eq!(bad(&|c| c.weight_decay = -0.1), "weight_decay");
        assert_eq!(bad(&|c| c.start = Some("0101".into())), "start");
        assert_eq!(bad(&|c| c.ais.k = 0), "ais.k");
        assert_eq!(bad(&|c| c.ais.m = 1), "ais.m");
        let mut w = RbmModel::zeros(9, 8).to_weights();
        w.w[2][3] = f64::NAN;
        assert_eq!(bad(&|c| c.weights = Some(w.clone())), "weights.W[2][3]");
        let w = RbmModel::zeros(9, 7).to_weights();
        assert_eq!(bad(&|c| c.weights = Some(w.clone())), "weights.W");
        let mut w = RbmModel::zeros(9, 8).to_weights();
        w.w[4].pop();
        assert_eq!(bad(&|c| c.weights = Some(w.clone())), "weights.W[4]");
        let mut rng = Pcg64Mcg::seed_from_u64(0);
        let c = RbmConfig {
            width: 7,
            ..RbmConfig::default()
        };
        assert_eq!(
            RbmProblem::new(&c, &mut rng).err().map(|e| e.field),
            Some("width".into())
        );
    }
}
