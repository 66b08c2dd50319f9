//! Annealed importance sampling (AIS): estimating a partition function `Z` by walking a
//! population of samples from a tractable base distribution to the target through a
//! ladder of intermediate distributions, and weighting each walk.
//!
//! # The estimator (Neal 2001)
//!
//! Let `f_0` be the unnormalised base density with known normaliser `Z_0`, `f_1` the target
//! with unknown `Z_1`, and `f_beta` a family joining them, sampled at
//! `0 = beta_0 < beta_1 < ... < beta_K = 1`. One AIS run draws `x_1 ~ f_0 / Z_0` and
//! then, for `k = 1 .. K - 1`, draws `x_{k+1} ~ T_k(x_k, .)` from an MCMC kernel that leaves
//! `f_{beta_k}` invariant. Its importance weight is
//!
//! ```text
//!     ln w = sum_{k=1..K} [ ln f_{beta_k}(x_k) - ln f_{beta_{k-1}}(x_k) ],
//! ```
//!
//! and `E[w] = Z_1 / Z_0` exactly, whatever `K` and however badly the kernels mix (only
//! the variance suffers). With `M` independent runs the estimate is the log-mean-exp
//!
//! ```text
//!     ln Z_1 ≈ ln Z_0 + ln( (1/M) sum_m w_m ),
//! ```
//!
//! computed after subtracting the largest `ln w` so that nothing overflows. Its standard
//! error follows from the delta method: with `r_m = w_m / max w`, sample mean `r̄` and
//! sample standard deviation `s_r` (divisor `M - 1`),
//! `SE(ln Z) ≈ s_r / (sqrt(M) r̄)`. The estimator of `ln Z` is biased low by roughly
//! `SE^2 / 2` (Jensen); with heavy-tailed weights the SE itself is an underestimate, which
//! is why the log-weights are returned for a histogram of their spread, together with the
//! effective sample size `ESS = (sum w)^2 / sum w^2`.
//!
//! # Spacings of the ladder
//!
//! [`Spacing::Linear`]: `beta_k = k / K`. [`Spacing::GeometricLinear`]: the first `K / 2`
//! intervals are geometric, from `beta_1 = b_s exp(-(1 - b_s) / b_s)` (≈ 1.2e-5) to
//! `b_s =` [`BETA_SWITCH`] `= 0.1`, and the remaining intervals are linear from `b_s` to 1;
//! the starting value is chosen so that the relative step `Δbeta / beta` is continuous at
//! the switch. Geometric spacing suits tempering from a flat base (the log-weight
//! increments `-Δbeta E / T` have a spread of order `Δbeta / beta` there).
//!
//! # The restricted Boltzmann machine ([`RbmAis`]; Salakhutdinov & Murray 2008)
//!
//! The base is the *base-rate model*: `W = 0`, hidden biases 0, visible biases
//! `b_A,i = logit(p_i)` from the data's mean activations `p_i`, whose normaliser is exact:
//! `ln Z_0 = n_h ln 2 + sum_i softplus(b_A,i)`. The intermediate joint energies are
//! `E_beta(v, h) = (1 - beta) E_A(v) + beta E_B(v, h) / T` with `E_A(v) = -b_A . v` and
//! `E_B` the target RBM at temperature `T`; summing out `h`,
//!
//! ```text
//!     ln f_beta(v) = (1 - beta) b_A . v + beta b . v / T
//!                    + sum_j softplus(beta (c_j + W_j . v) / T),
//! ```
//!
//! which is the base (times `2^{n_h}`) at `beta = 0` and the target at `beta = 1`. The kernel
//! is one block-Gibbs sweep of `E_beta`: `p(h_j = 1 | v) = sigmoid(beta (c_j + W_j . v) / T)`,
//! then `p(v_i = 1 | h) = sigmoid((1 - beta) b_A,i + beta (b_i + W_i . h) / T)`.
//!
//! # Two-dimensional landscapes ([`landscape_ln_z`])
//!
//! The target is `Z(T) = ∫_box exp(-E(x, y) / T) dx dy`. The base is uniform on the box
//! (`ln Z_0 = ln area`), the intermediates are `f_beta = exp(-beta E / T)` on the box, and the
//! kernel is [`LANDSCAPE_MOVES`] random-walk Metropolis moves with Gaussian steps whose
//! widths are a fraction of the box's sides (a move leaving the box is rejected). The
//! fraction starts at a quarter and is tuned for each `beta_k` separately to about
//! [`TARGET_ACCEPTANCE`] by [`PILOT_RUNS`] pilot runs that do not enter the estimate, so the
//! kernels used for the estimate are fixed Metropolis kernels.
//!
//! References: R. M. Neal, *Annealed importance sampling*, Statistics and Computing 11
//! (2001) 125; R. Salakhutdinov & I. Murray, *On the quantitative analysis of deep belief
//! networks*, ICML 2008.

use super::config::{RangeError, check};
use super::problems::{Reply, Request};
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

/// Allowed ranges of the AIS settings.
pub mod limits {
    use std::ops::RangeInclusive;
    /// Number of intervals `K` of the beta ladder (intermediate distributions).
    pub const K: RangeInclusive<usize> = 1..=1_000_000;
    /// Number of independent runs `M` (two at least, for a standard error).
    pub const M: RangeInclusive<usize> = 2..=100_000;
}

/// The switch point `b_s` of [`Spacing::GeometricLinear`].
pub const BETA_SWITCH: f64 = 0.1;

/// Metropolis moves per intermediate distribution in [`landscape_ln_z`].
pub const LANDSCAPE_MOVES: usize = 2;

/// Pilot runs tuning the landscape step widths (not part of the estimate).
pub const PILOT_RUNS: usize = 10;

/// Acceptance rate the landscape step widths are tuned to.
pub const TARGET_ACCEPTANCE: f64 = 0.4;

/// How the inverse temperatures `beta_k` are spread over `[0, 1]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Spacing {
    /// `beta_k = k / K`.
    #[default]
    Linear,
    /// Geometric from about 1.2e-5 to [`BETA_SWITCH`] over the first half of the
    /// intervals, then linear to 1 (see the module documentation).
    GeometricLinear,
}

/// The AIS settings of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AisConfig {
    /// Number of intervals `K` between base and target (`K - 1` intermediate
    /// distributions strictly between them).
    pub k: usize,
    /// Number of independent runs `M`.
    pub m: usize,
    /// Spacing of the beta ladder.
    pub spacing: Spacing,
    /// In the app: estimate again whenever the previous estimate has arrived (at most
    /// every second or so), so the estimate follows the exact value while the model learns.
    pub auto: bool,
}

impl Default for AisConfig {
    /// `K = 1000`, `M = 100`, linear spacing, on demand only.
    fn default() -> Self {
        Self {
            k: 1000,
            m: 100,
            spacing: Spacing::Linear,
            auto: false,
        }
    }
}

impl AisConfig {
    /// Checks the ranges; field paths are relative to this struct (`k`, `m`).
    pub fn validate(&self) -> Result<(), RangeError> {
        check("k", self.k, limits::K)?;
        check("m", self.m, limits::M)
    }
}

/// The ladder `beta_0 = 0 < beta_1 < ... < beta_K = 1` (`K + 1` values; `K` is at least 1).
pub fn schedule(k: usize, spacing: Spacing) -> Vec<f64> {
    let k = k.max(1);
    let kg = match spacing {
        Spacing::Linear => 0,
        Spacing::GeometricLinear => k / 2,
    };
    let mut betas = Vec::with_capacity(k + 1);
    betas.push(0.0);
    if kg == 0 {
        betas.extend((1..=k).map(|i| i as f64 / k as f64));
    } else {
        let bs = BETA_SWITCH;
        let ln_lo = bs.ln() - (1.0 - bs) / bs;
        let ln_hi = bs.ln();
        for i in 1..=kg {
            let f = if kg == 1 {
                1.0
            } else {
                (i - 1) as f64 / (kg - 1) as f64
            };
            betas.push((ln_lo + f * (ln_hi - ln_lo)).exp());
        }
        let kl = k - kg;
        for i in 1..=kl {
            betas.push(bs + (1.0 - bs) * i as f64 / kl as f64);
        }
    }
    if let Some(last) = betas.last_mut() {
        *last = 1.0;
    }
    betas
}

/// An AIS estimate of `ln Z`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AisEstimate {
    /// The estimate `ln Z_0 + ln mean(w)`.
    pub ln_z: f64,
    /// Its delta-method standard error `s_r / (sqrt(M) r̄)`.
    pub std_err: f64,
    /// Effective sample size `(sum w)^2 / sum w^2`, between 1 and `M`.
    pub ess: f64,
    /// `ln w` of every run, in run order (add `ln Z_0` for a per-run estimate of `ln Z`).
    pub log_weights: Vec<f64>,
    /// The base's exact `ln Z_0`.
    pub ln_z0: f64,
    /// Number of intervals `K` used.
    pub k: usize,
}

impl AisEstimate {
    /// Combines log-weights into an estimate (log-mean-exp and delta-method error).
    /// Non-finite log-weights count as zero weight; if no weight is positive the estimate
    /// is `-inf` with an infinite error.
    pub fn from_log_weights(ln_z0: f64, log_weights: Vec<f64>, k: usize) -> Self {
        let m = log_weights.len();
        let max = log_weights
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        if m == 0 || !max.is_finite() {
            return Self {
                ln_z: f64::NEG_INFINITY,
                std_err: f64::INFINITY,
                ess: 0.0,
                log_weights,
                ln_z0,
                k,
            };
        }
        let r: Vec<f64> = log_weights
            .iter()
            .map(|&x| if x.is_finite() { (x - max).exp() } else { 0.0 })
            .collect();
        let mf = m as f64;
        let sum: f64 = r.iter().sum();
        let sum2: f64 = r.iter().map(|x| x * x).sum();
        let mean = sum / mf;
        let var = if m > 1 {
            r.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (mf - 1.0)
        } else {
            f64::INFINITY
        };
        Self {
            ln_z: ln_z0 + max + mean.ln(),
            std_err: (var / mf).sqrt() / mean,
            ess: sum * sum / sum2,
            log_weights,
            ln_z0,
            k,
        }
    }
}

/// A family of unnormalised densities `f_beta` with a tractable base and MCMC kernels,
/// ready for [`run`].
pub trait AisModel {
    /// A point of the state space (with whatever caches the kernel wants).
    type State;
    /// Exact `ln Z_0` of the base `f_0`.
    fn ln_z0(&self) -> f64;
    /// An exact draw from the base distribution `f_0 / Z_0`.
    fn sample_base<R: Rng + ?Sized>(&self, rng: &mut R) -> Self::State;
    /// `ln f_beta(x)`.
    fn log_f(&self, x: &Self::State, beta: f64) -> f64;
    /// One application of a kernel leaving `f_beta` invariant; `stage` is the index `k` of
    /// `beta = beta_k` in the ladder (for stage-dependent step sizes).
    fn transition<R: Rng + ?Sized>(
        &self,
        x: &mut Self::State,
        stage: usize,
        beta: f64,
        rng: &mut R,
    );

    /// One stage of a run: returns `ln f_beta(x) - ln f_prev(x)` and then, if `and_move`,
    /// applies the kernel at `beta` (stage `stage`). Models may override it to share work
    /// between the two.
    fn advance<R: Rng + ?Sized>(
        &self,
        x: &mut Self::State,
        stage: usize,
        prev: f64,
        beta: f64,
        and_move: bool,
        rng: &mut R,
    ) -> f64 {
        let d = self.log_f(x, beta) - self.log_f(x, prev);
        if and_move {
            self.transition(x, stage, beta, rng);
        }
        d
    }
}

/// The log-weight of one AIS run along `betas` (which starts at 0 and ends at 1).
pub fn log_weight<A: AisModel, R: Rng + ?Sized>(model: &A, betas: &[f64], rng: &mut R) -> f64 {
    let mut x = model.sample_base(rng);
    let mut lw = 0.0;
    for k in 1..betas.len() {
        lw += model.advance(&mut x, k, betas[k - 1], betas[k], k + 1 < betas.len(), rng);
    }
    lw
}

/// `runs` independent AIS runs along `betas` and their combined estimate.
pub fn run<A: AisModel, R: Rng + ?Sized>(
    model: &A,
    betas: &[f64],
    runs: usize,
    rng: &mut R,
) -> AisEstimate {
    let lws = (0..runs).map(|_| log_weight(model, betas, rng)).collect();
    AisEstimate::from_log_weights(model.ln_z0(), lws, betas.len().saturating_sub(1))
}

/// `ln(1 + e^x)` without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// `1 / (1 + e^-x)` without overflow.
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Visible biases of the base-rate model, `logit(p_i)`, from the data's mean activations,
/// each clipped to `[1e-3, 1 - 1e-3]` so that the biases stay finite.
pub fn base_rate_biases(means: &[f64]) -> Vec<f64> {
    means
        .iter()
        .map(|&p| {
            let p = p.clamp(1e-3, 1.0 - 1e-3);
            (p / (1.0 - p)).ln()
        })
        .collect()
}

/// AIS from the base-rate model to a binary RBM at temperature `T` (see the module
/// documentation). Weights are `n_v x n_h`, row-major: `W_ij = w[i * n_h + j]`.
///
/// A run keeps the hidden pre-activations `c + W^T v` and the sums `b_A . v`, `b . v`,
/// updated by the visible units that flip, so a stage costs `O(n_v n_h)` additions and
/// `3 n_h + n_v` exponentials or logarithms (the hidden units' `exp(-|beta a_j / T|)` serves
/// both the log-weight increment and their conditional probabilities).
#[derive(Clone, Debug)]
pub struct RbmAis<'a> {
    nv: usize,
    nh: usize,
    w: &'a [f64],
    /// `W^T`, row-major `n_h x n_v`.
    wt: Vec<f64>,
    b: &'a [f64],
    c: &'a [f64],
    base: Vec<f64>,
    t: f64,
}

/// The state of an RBM AIS run: visible units and what is cached about them.
#[derive(Clone, Debug)]
pub struct RbmAisState {
    /// Visible units (0 or 1).
    pub v: Vec<f64>,
    /// `c_j + W_j . v` (unscaled by beta and T).
    a: Vec<f64>,
    /// `b_A . v` and `b . v`.
    base_v: f64,
    bias_v: f64,
    /// Scratch: the hidden units, `exp(-|beta a_j / T|)` and the visible inputs.
    h: Vec<bool>,
    z: Vec<f64>,
    u: Vec<f64>,
}

impl<'a> RbmAis<'a> {
    /// The AIS model for the RBM `(w, b, c)` at temperature `t` with base-rate visible
    /// biases `base` (see [`base_rate_biases`]). Panics in debug builds on mismatched sizes.
    pub fn new(w: &'a [f64], b: &'a [f64], c: &'a [f64], base: Vec<f64>, t: f64) -> Self {
        let (nv, nh) = (b.len(), c.len());
        debug_assert_eq!(w.len(), nv * nh);
        debug_assert_eq!(base.len(), nv);
        let mut wt = vec![0.0; nv * nh];
        for i in 0..nv {
            for j in 0..nh {
                wt[j * nv + i] = w[i * nh + j];
            }
        }
        Self {
            nv,
            nh,
            w,
            wt,
            b,
            c,
            base,
            t,
        }
    }

    /// Flips visible unit `i` of `x` to `on`, updating the caches.
    fn set_visible(&self, x: &mut RbmAisState, i: usize, on: bool) {
        let sign = if on { 1.0 } else { -1.0 };
        x.v[i] = if on { 1.0 } else { 0.0 };
        x.base_v += sign * self.base[i];
        x.bias_v += sign * self.b[i];
        let row = &self.w[i * self.nh..(i + 1) * self.nh];
        for (a, &w) in x.a.iter_mut().zip(row) {
            *a += sign * w;
        }
    }

    /// Samples the hidden units given `z_j = exp(-|x_j|)`, `x_j = beta a_j / T`, then the
    /// visible units at `beta`.
    fn gibbs<R: Rng + ?Sized>(&self, x: &mut RbmAisState, beta: f64, rng: &mut R) {
        let bt = beta / self.t;
        for ((h, &z), &a) in x.h.iter_mut().zip(&x.z).zip(&x.a) {
            // sigmoid(y) = 1 / (1 + z) for y >= 0, z / (1 + z) below, z = exp(-|y|)
            let p = if a >= 0.0 { 1.0 } else { z } / (1.0 + z);
            *h = rng.random::<f64>() < p;
        }
        x.u.copy_from_slice(self.b);
        for (j, &on) in x.h.iter().enumerate() {
            if on {
                let row = &self.wt[j * self.nv..(j + 1) * self.nv];
                for (u, &w) in x.u.iter_mut().zip(row) {
                    *u += w;
                }
            }
        }
        for i in 0..self.nv {
            let p = sigmoid((1.0 - beta) * self.base[i] + bt * x.u[i]);
            let on = rng.random::<f64>() < p;
            if on != (x.v[i] > 0.5) {
                self.set_visible(x, i, on);
            }
        }
    }
}

impl AisModel for RbmAis<'_> {
    type State = RbmAisState;

    fn ln_z0(&self) -> f64 {
        self.nh as f64 * std::f64::consts::LN_2
            + self.base.iter().map(|&x| softplus(x)).sum::<f64>()
    }

    fn sample_base<R: Rng + ?Sized>(&self, rng: &mut R) -> RbmAisState {
        let mut x = RbmAisState {
            v: vec![0.0; self.nv],
            a: self.c.to_vec(),
            base_v: 0.0,
            bias_v: 0.0,
            h: vec![false; self.nh],
            z: vec![0.0; self.nh],
            u: vec![0.0; self.nv],
        };
        for i in 0..self.nv {
            if rng.random::<f64>() < sigmoid(self.base[i]) {
                self.set_visible(&mut x, i, true);
            }
        }
        x
    }

    fn log_f(&self, x: &RbmAisState, beta: f64) -> f64 {
        let bt = beta / self.t;
        (1.0 - beta) * x.base_v + bt * x.bias_v + x.a.iter().map(|&a| softplus(bt * a)).sum::<f64>()
    }

    fn transition<R: Rng + ?Sized>(
        &self,
        x: &mut RbmAisState,
        _stage: usize,
        beta: f64,
        rng: &mut R,
    ) {
        let bt = beta / self.t;
        for (z, &a) in x.z.iter_mut().zip(&x.a) {
            *z = (-(bt * a).abs()).exp();
        }
        self.gibbs(x, beta, rng);
    }

    fn advance<R: Rng + ?Sized>(
        &self,
        x: &mut RbmAisState,
        _stage: usize,
        prev: f64,
        beta: f64,
        and_move: bool,
        rng: &mut R,
    ) -> f64 {
        let (bt, bp) = (beta / self.t, prev / self.t);
        let mut d = (prev - beta) * x.base_v + (bt - bp) * x.bias_v;
        for (z, &a) in x.z.iter_mut().zip(&x.a) {
            let (y, yp) = (bt * a, bp * a);
            *z = (-y.abs()).exp();
            // softplus(y) = max(y, 0) + ln(1 + exp(-|y|))
            d += y.max(0.0) + z.ln_1p() - softplus(yp);
        }
        if and_move {
            self.gibbs(x, beta, rng);
        }
        d
    }
}

/// AIS on a two-dimensional landscape (see [`landscape_ln_z`]).
pub struct LandscapeAis<'a> {
    energy: &'a dyn Fn(f64, f64) -> f64,
    bounds: [[f64; 2]; 2],
    t: f64,
    /// Step width, as a fraction of the box's sides, at each stage `k` (index 0 unused).
    fractions: Vec<f64>,
}

/// A walker on a landscape: position and cached energy (NaN stored as +inf).
#[derive(Clone, Copy, Debug)]
pub struct Walker {
    /// Position `(x, y)`.
    pub pos: [f64; 2],
    /// `E(x, y)`.
    pub e: f64,
}

impl<'a> LandscapeAis<'a> {
    /// The AIS model for `exp(-E / T)` on the box `[[xlo, ylo], [xhi, yhi]]` with step
    /// fractions `fractions[k]` at stage `k` (see [`landscape_ln_z`], which tunes them).
    pub fn new(
        energy: &'a dyn Fn(f64, f64) -> f64,
        bounds: [[f64; 2]; 2],
        t: f64,
        fractions: Vec<f64>,
    ) -> Self {
        Self {
            energy,
            bounds,
            t,
            fractions,
        }
    }

    /// The step fractions per stage.
    pub fn fractions(&self) -> &[f64] {
        &self.fractions
    }

    fn eval(&self, x: f64, y: f64) -> f64 {
        let e = (self.energy)(x, y);
        if e.is_nan() { f64::INFINITY } else { e }
    }

    fn inside(&self, p: [f64; 2]) -> bool {
        let [[xlo, ylo], [xhi, yhi]] = self.bounds;
        p[0] >= xlo && p[0] <= xhi && p[1] >= ylo && p[1] <= yhi
    }

    /// One Metropolis move at `beta` with step fraction `f`; returns whether it was accepted.
    fn metropolis<R: Rng + ?Sized>(&self, w: &mut Walker, beta: f64, f: f64, rng: &mut R) -> bool {
        let [[xlo, ylo], [xhi, yhi]] = self.bounds;
        let zx: f64 = StandardNormal.sample(rng);
        let zy: f64 = StandardNormal.sample(rng);
        let p = [
            w.pos[0] + f * (xhi - xlo) * zx,
            w.pos[1] + f * (yhi - ylo) * zy,
        ];
        if !self.inside(p) {
            return false;
        }
        let e = self.eval(p[0], p[1]);
        let de = e - w.e;
        let ok = de <= 0.0 || rng.random::<f64>() < (-beta * de / self.t).exp();
        if ok {
            *w = Walker { pos: p, e };
        }
        ok
    }
}

impl AisModel for LandscapeAis<'_> {
    type State = Walker;

    fn ln_z0(&self) -> f64 {
        let [[xlo, ylo], [xhi, yhi]] = self.bounds;
        ((xhi - xlo) * (yhi - ylo)).ln()
    }

    fn sample_base<R: Rng + ?Sized>(&self, rng: &mut R) -> Walker {
        let [[xlo, ylo], [xhi, yhi]] = self.bounds;
        let x = xlo + (xhi - xlo) * rng.random::<f64>();
        let y = ylo + (yhi - ylo) * rng.random::<f64>();
        Walker {
            pos: [x, y],
            e: self.eval(x, y),
        }
    }

    fn log_f(&self, w: &Walker, beta: f64) -> f64 {
        if beta == 0.0 {
            0.0
        } else {
            -beta * w.e / self.t
        }
    }

    fn transition<R: Rng + ?Sized>(&self, w: &mut Walker, stage: usize, beta: f64, rng: &mut R) {
        let f = self.fractions.get(stage).copied().unwrap_or(0.25);
        for _ in 0..LANDSCAPE_MOVES {
            self.metropolis(w, beta, f, rng);
        }
    }
}

/// Tunes the landscape step fractions per stage by [`PILOT_RUNS`] pilot runs: within a run
/// the fraction adapts after every move towards [`TARGET_ACCEPTANCE`] (carried from stage
/// to stage), and each stage's final value is the geometric mean over the pilot runs.
fn tune_fractions<R: Rng + ?Sized>(model: &mut LandscapeAis, betas: &[f64], rng: &mut R) {
    let n = betas.len();
    let mut log_sum = vec![0.0; n];
    for run in 0..PILOT_RUNS {
        let mut w = model.sample_base(rng);
        let mut f: f64 = 0.25;
        for k in 1..n.saturating_sub(1) {
            if run > 0 {
                f = (log_sum[k] / run as f64).exp();
            }
            for _ in 0..LANDSCAPE_MOVES {
                let acc = model.metropolis(&mut w, betas[k], f, rng);
                let a = if acc { 1.0 } else { 0.0 };
                f = (f * (0.5 * (a - TARGET_ACCEPTANCE)).exp()).clamp(1e-6, 0.5);
            }
            log_sum[k] += f.ln();
        }
    }
    model.fractions = log_sum
        .iter()
        .map(|s| (s / PILOT_RUNS as f64).exp())
        .collect();
}

/// AIS estimate of `ln ∫_box exp(-E(x, y) / T) dx dy` from the uniform distribution on the
/// box `[[xlo, ylo], [xhi, yhi]]` (see the module documentation), with `cfg.k` intervals
/// spaced by `cfg.spacing` and `cfg.m` runs (after [`PILOT_RUNS`] pilot runs tuning the
/// step widths). A non-positive or NaN `t` or a degenerate box gives a NaN estimate.
pub fn landscape_ln_z<R: Rng + ?Sized>(
    energy: &dyn Fn(f64, f64) -> f64,
    bounds: [[f64; 2]; 2],
    t: f64,
    cfg: &AisConfig,
    rng: &mut R,
) -> AisEstimate {
    let betas = schedule(cfg.k, cfg.spacing);
    let [[xlo, ylo], [xhi, yhi]] = bounds;
    if !(t > 0.0 && xhi > xlo && yhi > ylo && (xhi - xlo) * (yhi - ylo) < f64::INFINITY) {
        return AisEstimate {
            ln_z: f64::NAN,
            std_err: f64::NAN,
            ess: 0.0,
            log_weights: Vec::new(),
            ln_z0: f64::NAN,
            k: cfg.k,
        };
    }
    let mut model = LandscapeAis::new(energy, bounds, t, Vec::new());
    tune_fractions(&mut model, &betas, rng);
    run(&model, &betas, cfg.m, rng)
}

/// [`error_vs_k`] for [`landscape_ln_z`]: `repeats` estimates with `m` runs and the given
/// spacing at each `K` in `ks`, against the exact `ln Z` (e.g. from quadrature).
#[allow(clippy::too_many_arguments)]
pub fn landscape_error_vs_k<R: Rng + ?Sized>(
    energy: &dyn Fn(f64, f64) -> f64,
    bounds: [[f64; 2]; 2],
    t: f64,
    exact_ln_z: f64,
    ks: &[usize],
    m: usize,
    spacing: Spacing,
    repeats: usize,
    rng: &mut R,
) -> Vec<ErrorPoint> {
    error_vs_k(
        ks,
        repeats,
        exact_ln_z,
        |k, r| {
            let cfg = AisConfig {
                k,
                m,
                spacing,
                auto: false,
            };
            landscape_ln_z(energy, bounds, t, &cfg, r)
        },
        rng,
    )
}

/// The accuracy of an estimator at one `K` (see [`error_vs_k`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ErrorPoint {
    /// Number of intervals `K`.
    pub k: usize,
    /// Mean of `|ln Ẑ - ln Z|` over the repeats.
    pub mean_abs_error: f64,
    /// Root mean square of `ln Ẑ - ln Z`.
    pub rms_error: f64,
    /// Mean of `ln Ẑ - ln Z` (negative: AIS's downward bias).
    pub mean_error: f64,
    /// Mean of the reported standard errors.
    pub mean_std_err: f64,
}

/// The error of `estimate(K, rng)` against the exact `ln Z` for each `K` in `ks`, averaged
/// over `repeats` independent estimates (for a plot of error versus `K`).
pub fn error_vs_k<R, F>(
    ks: &[usize],
    repeats: usize,
    exact_ln_z: f64,
    mut estimate: F,
    rng: &mut R,
) -> Vec<ErrorPoint>
where
    R: Rng + ?Sized,
    F: FnMut(usize, &mut R) -> AisEstimate,
{
    let n = repeats.max(1) as f64;
    ks.iter()
        .map(|&k| {
            let (mut abs, mut sq, mut err, mut se) = (0.0, 0.0, 0.0, 0.0);
            for _ in 0..repeats.max(1) {
                let e = estimate(k, rng);
                let d = e.ln_z - exact_ln_z;
                abs += d.abs();
                sq += d * d;
                err += d;
                se += e.std_err;
            }
            ErrorPoint {
                k,
                mean_abs_error: abs / n,
                rms_error: (sq / n).sqrt(),
                mean_error: err / n,
                mean_std_err: se / n,
            }
        })
        .collect()
}

/// Most `K x M` an answer to a request computes per estimate (larger requests get a
/// smaller `K`), so that no question stalls the trainer for long (about a second at
/// 16 x 16 units).
pub const MAX_WORK: usize = 2_000_000;

/// Most transitions an error-versus-`K` answer computes in all (larger requests get a
/// smaller `M`).
pub const MAX_ERRORS_WORK: usize = 4_000_000;

/// `(K ladder, M, repeats)` of an error-versus-`K` request within [`MAX_ERRORS_WORK`].
pub fn clamp_errors_request(k_max: usize, m: usize, repeats: usize) -> (Vec<usize>, usize, usize) {
    let (k_max, m) = clamp_request(k_max, m);
    let repeats = repeats.clamp(1, 100);
    let ks = k_ladder(k_max);
    let per_run: usize = ks.iter().sum::<usize>() * repeats;
    let m = m
        .min(MAX_ERRORS_WORK / per_run.max(1))
        .max(*limits::M.start());
    (ks, m, repeats)
}

/// `(K, M)` within [`limits`] and with `K M <=` [`MAX_WORK`] (`K` is reduced).
pub fn clamp_request(k: usize, m: usize) -> (usize, usize) {
    let m = m.clamp(*limits::M.start(), *limits::M.end());
    let k = k
        .clamp(*limits::K.start(), *limits::K.end())
        .min(MAX_WORK / m)
        .max(1);
    (k, m)
}

/// The `K` values of an error-versus-`K` curve up to `k_max`: 1, 3, 10, 30, 100, ...
/// (and `k_max` itself).
pub fn k_ladder(k_max: usize) -> Vec<usize> {
    let mut ks = Vec::new();
    let mut decade = 1usize;
    while decade <= k_max {
        for k in [decade, 3 * decade] {
            if k <= k_max {
                ks.push(k);
            }
        }
        decade = decade.saturating_mul(10);
    }
    if ks.last() != Some(&k_max) {
        ks.push(k_max.max(1));
    }
    ks
}

/// A problem's answer to [`Request::Ais`]: the estimate and the exact value beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct AisAnswer {
    /// The AIS estimate (with every run's log-weight).
    pub estimate: AisEstimate,
    /// The exact `ln Z` at the same temperature (enumeration, or quadrature on a grid).
    pub exact_ln_z: f64,
    /// The temperature of both.
    pub temperature: f64,
    /// What the annealing started from.
    pub base: &'static str,
}

/// A problem's answer to [`Request::AisErrors`]: the error of AIS against the exact
/// `ln Z` as `K` grows.
#[derive(Clone, Debug, PartialEq)]
pub struct AisErrors {
    /// One point per `K`.
    pub points: Vec<ErrorPoint>,
    /// Runs per estimate.
    pub m: usize,
    /// The temperature.
    pub temperature: f64,
}

/// `ln Z(T)` of a landscape by midpoint quadrature: `energies` at the cell centres of
/// cells of area `cell_area`, summed in log-sum-exp form (no overflow at any `T`).
pub fn quadrature_ln_z(energies: &[f64], cell_area: f64, t: f64) -> f64 {
    let e_min = energies.iter().copied().fold(f64::INFINITY, f64::min);
    let sum: f64 = energies.iter().map(|&e| (-(e - e_min) / t).exp()).sum();
    sum.ln() + cell_area.ln() - e_min / t
}

/// A landscape's answer to an AIS request: [`landscape_ln_z`] from the uniform
/// distribution on `bounds`, against the quadrature `ln Z` on the grid of `energies`
/// (cells of `cell_area`). Other requests get `None`.
pub fn landscape_answer(
    request: &Request,
    energy: &dyn Fn(f64, f64) -> f64,
    bounds: [[f64; 2]; 2],
    exact_ln_z: &dyn Fn(f64) -> f64,
    seed: u64,
) -> Option<Reply> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    match *request {
        Request::Ais { k, m, t } => {
            let (k, m) = clamp_request(k, m);
            let cfg = AisConfig {
                k,
                m,
                spacing: Spacing::GeometricLinear,
                auto: false,
            };
            Some(Reply::Ais(AisAnswer {
                estimate: landscape_ln_z(energy, bounds, t, &cfg, &mut rng),
                exact_ln_z: exact_ln_z(t),
                temperature: t,
                base: "the uniform distribution on the box",
            }))
        }
        Request::AisErrors {
            k_max,
            m,
            repeats,
            t,
        } => {
            let (ks, m, repeats) = clamp_errors_request(k_max, m, repeats);
            let exact = exact_ln_z(t);
            Some(Reply::AisErrors(AisErrors {
                points: landscape_error_vs_k(
                    energy,
                    bounds,
                    t,
                    exact,
                    &ks,
                    m,
                    Spacing::GeometricLinear,
                    repeats,
                    &mut rng,
                ),
                m,
                temperature: t,
            }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    #[test]
    fn schedules_are_increasing_from_zero_to_one() {
        for spacing in [Spacing::Linear, Spacing::GeometricLinear] {
            for k in [1, 2, 3, 10, 1000] {
                let b = schedule(k, spacing);
                assert_eq!(b.len(), k + 1);
                assert_eq!(b[0], 0.0);
                assert_eq!(b[k], 1.0);
                assert!(b.windows(2).all(|w| w[1] > w[0]), "{spacing:?} {k}: {b:?}");
            }
        }
        let g = schedule(1000, Spacing::GeometricLinear);
        assert!((g[1] - 0.1 * (-9.0f64).exp()).abs() < 1e-12);
        assert!((g[500] - BETA_SWITCH).abs() < 1e-12);
        // relative step continuous at the switch
        let r_geo = g[500] / g[499];
        let r_lin = g[501] / g[500];
        assert!((r_geo.ln() - r_lin.ln()).abs() < 1e-3, "{r_geo} {r_lin}");
    }

    #[test]
    fn log_mean_exp_and_delta_method() {
        // equal weights: estimate ln Z0 + lw, zero error, full ESS
        let e = AisEstimate::from_log_weights(1.0, vec![2.0; 10], 5);
        assert!((e.ln_z - 3.0).abs() < 1e-12);
        assert!(e.std_err.abs() < 1e-12);
        assert!((e.ess - 10.0).abs() < 1e-9);
        // two weights 1 and e: mean (1+e)/2, sd of r = (1, e)/e
        let e = AisEstimate::from_log_weights(0.0, vec![0.0, 1.0], 1);
        let want = ((1.0 + std::f64::consts::E) / 2.0).ln();
        assert!((e.ln_z - want).abs() < 1e-12);
        let r = [(-1.0f64).exp(), 1.0];
        let mean = (r[0] + r[1]) / 2.0;
        let sd = ((r[0] - mean).powi(2) + (r[1] - mean).powi(2)).sqrt();
        assert!((e.std_err - sd / 2f64.sqrt() / mean).abs() < 1e-12);
        // huge log-weights do not overflow
        let e = AisEstimate::from_log_weights(0.0, vec![1e4, 1e4], 1);
        assert!((e.ln_z - 1e4).abs() < 1e-9);
    }

    #[test]
    fn rbm_ais_with_zero_weights_is_exact() {
        // With W = 0 and the base's visible biases equal to the target's, every
        // log-weight increment is independent of v: the estimate has no variance.
        let (nv, nh) = (5, 3);
        let w = vec![0.0; nv * nh];
        let b = vec![0.3, -0.2, 0.0, 1.0, -1.5];
        let c = vec![0.5, -0.5, 0.1];
        let base = b.clone();
        let model = RbmAis::new(&w, &b, &c, base, 1.0);
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        let est = run(&model, &schedule(10, Spacing::Linear), 5, &mut rng);
        let exact: f64 = b.iter().map(|&x| softplus(x)).sum::<f64>()
            + c.iter().map(|&x| softplus(x)).sum::<f64>();
        assert!((est.ln_z - exact).abs() < 1e-9, "{} vs {exact}", est.ln_z);
        assert!(est.std_err < 1e-9);
    }

    #[test]
    fn k_ladders_and_request_limits() {
        assert_eq!(k_ladder(1000), vec![1, 3, 10, 30, 100, 300, 1000]);
        assert_eq!(k_ladder(500), vec![1, 3, 10, 30, 100, 300, 500]);
        assert_eq!(k_ladder(1), vec![1]);
        assert_eq!(k_ladder(0), vec![1]);
        assert_eq!(clamp_request(1000, 100), (1000, 100));
        assert_eq!(clamp_request(0, 0), (1, 2));
        let (k, m) = clamp_request(usize::MAX, usize::MAX);
        assert!(k * m <= MAX_WORK && k >= 1 && m == *limits::M.end());
        let (ks, m, r) = clamp_errors_request(1000, 100, 5);
        assert_eq!(
            (ks.len(), m, r),
            (7, 100, 5),
            "the app's request is untouched"
        );
        let (ks, m, r) = clamp_errors_request(usize::MAX, usize::MAX, usize::MAX);
        let work: usize = ks.iter().sum::<usize>() * m * r;
        assert!(work <= MAX_ERRORS_WORK || m == *limits::M.start(), "{work}");
    }

    #[test]
    fn quadrature_of_the_harmonic_bowl_is_two_pi_t_at_any_t() {
        for t in [1.0f64, 0.1, 1e-3] {
            // E = (x^2 + y^2)/2 + 500 on a fine midpoint grid over +-10 sqrt(T): no overflow
            // or underflow however cold.
            let (g, half) = (400usize, 10.0 * t.sqrt());
            let h = 2.0 * half / g as f64;
            let mut e = Vec::with_capacity(g * g);
            for r in 0..g {
                for c in 0..g {
                    let (x, y) = (-half + (c as f64 + 0.5) * h, -half + (r as f64 + 0.5) * h);
                    e.push(0.5 * (x * x + y * y) + 500.0);
                }
            }
            let got = quadrature_ln_z(&e, h * h, t);
            let want = (2.0 * std::f64::consts::PI * t).ln() - 500.0 / t;
            assert!(
                (got - want).abs() < 1e-6 * want.abs(),
                "T={t}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn rbm_ais_caches_follow_the_visible_units() {
        let (nv, nh) = (7, 5);
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let w: Vec<f64> = (0..nv * nh)
            .map(|_| rng.random::<f64>() * 2.0 - 1.0)
            .collect();
        let b: Vec<f64> = (0..nv).map(|_| rng.random::<f64>() - 0.5).collect();
        let c: Vec<f64> = (0..nh).map(|_| rng.random::<f64>() - 0.5).collect();
        let base = base_rate_biases(&[0.2, 0.5, 0.7, 0.4, 0.9, 0.1, 0.5]);
        let t = 0.8;
        let model = RbmAis::new(&w, &b, &c, base.clone(), t);
        // ln f_beta(v) written out from scratch.
        let direct = |v: &[f64], beta: f64| {
            let mut s = 0.0;
            for i in 0..nv {
                s += v[i] * ((1.0 - beta) * base[i] + beta * b[i] / t);
            }
            for j in 0..nh {
                let a = c[j] + (0..nv).map(|i| v[i] * w[i * nh + j]).sum::<f64>();
                s += softplus(beta * a / t);
            }
            s
        };
        let mut x = model.sample_base(&mut rng);
        let mut prev = 0.0;
        for k in 1..=200 {
            let beta = f64::from(k) / 200.0;
            let want = direct(&x.v, beta) - direct(&x.v, prev);
            let got = model.advance(&mut x, k as usize, prev, beta, true, &mut rng);
            assert!((got - want).abs() < 1e-10, "stage {k}: {got} vs {want}");
            assert!((model.log_f(&x, beta) - direct(&x.v, beta)).abs() < 1e-10);
            prev = beta;
        }
    }

    #[test]
    fn landscape_flat_energy_is_exact() {
        let e = |_: f64, _: f64| 2.0;
        let mut rng = Pcg64Mcg::seed_from_u64(2);
        let cfg = AisConfig {
            k: 20,
            m: 5,
            spacing: Spacing::GeometricLinear,
            auto: false,
        };
        let est = landscape_ln_z(&e, [[-1.0, 0.0], [3.0, 2.0]], 0.5, &cfg, &mut rng);
        let exact = 8f64.ln() - 2.0 / 0.5;
        assert!((est.ln_z - exact).abs() < 1e-9, "{} vs {exact}", est.ln_z);
    }
}
