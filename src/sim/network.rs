//! The tiny network: 2 inputs -> `H` hidden units (ReLU or tanh) -> 2 classes (softmax),
//! and its training loss as an annealing energy.
//!
//! The energy is the mean softmax cross-entropy over the training points plus an optional
//! weight decay `lambda * |theta|^2`. With two classes the softmax depends only on the
//! logit difference `m = z1 - z0` (the *margin*), and the cross-entropy of a point with
//! label `y` is `softplus(-s m)` with `s = +1` for `y = 1` and `s = -1` for `y = 0`.
//! Writing it this way is the log-sum-exp trick: it never overflows, however large the
//! logits grow.
//!
//! The parameter vector `theta` is laid out as in the reference implementation:
//! `W1` (2 x H, row-major), `b1` (H), `W2` (H x 2, row-major), `b2` (2).
//!
//! Speed: the margins of all training points are cached. A move of every parameter
//! recomputes them in `O(n H)`; a move of one parameter or one hidden unit changes only
//! that unit's contribution, `m_i += v'_j act(z'_ij) - v_j act(z_ij)`, in `O(n)`. Rounding in
//! these updates is wiped out by a full recomputation every [`REFRESH_EVERY`] such moves.

use super::config::{RangeError, check, limits};
use super::data::{DataConfig, Dataset, Samples};
use super::fastmath::{at_least, exp_neg, fma, ln_ge1, sigmoid, tanh};
use super::problem::{Problem, ProposalKind};
use super::problems::{
    ChainStats, Kind, Observable, PlotKind, ProblemState, ProblemView, Reply, Request, ViewRequest,
};
use ndarray::{Array1, Array2};
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Lanes of the vectorised kernels: data arrays are padded to a multiple of this.
const LANES: usize = 16;

/// Chunks whose `ln(1 + e^-|z|)` terms share one logarithm (factors <= 2, so <= 2^16).
const LOG_GROUP: usize = 16;

/// Accepted incremental moves between two full recomputations of the margins.
pub const REFRESH_EVERY: u32 = 4096;

/// Hidden-layer nonlinearity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// `max(0, z)`.
    #[default]
    Relu,
    /// `tanh(z)`.
    Tanh,
}

impl Activation {
    /// All activations, in menu order.
    pub const ALL: [Activation; 2] = [Activation::Relu, Activation::Tanh];

    /// A human-readable name.
    pub fn label(self) -> &'static str {
        match self {
            Activation::Relu => "ReLU",
            Activation::Tanh => "tanh",
        }
    }
}

/// The network's data, shape, initialisation and regularisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// The data set the loss is computed on.
    pub data: DataConfig,
    /// Hidden width `H`.
    pub hidden: usize,
    /// Hidden nonlinearity.
    pub activation: Activation,
    /// Standard deviation of the initial weights (biases start at zero).
    pub init_scale: f64,
    /// Weight decay `lambda`: the energy gains `lambda * |theta|^2`.
    pub weight_decay: f64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            data: DataConfig::default(),
            hidden: 4,
            activation: Activation::Relu,
            init_scale: 0.01,
            weight_decay: 0.0,
        }
    }
}

impl NetworkConfig {
    /// Checks every value against [`limits`]; field paths are relative (`data.samples`).
    pub fn validate(&self) -> Result<(), RangeError> {
        use limits::*;
        let d = &self.data;
        check("data.samples", d.samples, SAMPLES)?;
        d.kind.validate().map_err(|e| e.within("data"))?;
        check("data.noise", d.noise, NOISE)?;
        check("data.test_fraction", d.test_fraction, TEST_FRACTION)?;
        check("hidden", self.hidden, HIDDEN)?;
        check("init_scale", self.init_scale, INIT_SCALE)?;
        check("weight_decay", self.weight_decay, WEIGHT_DECAY)
    }
}

/// What the network reports besides its loss.
pub const OBSERVABLES: &[Observable] = &[
    Observable {
        column: "train_accuracy",
        label: "train accuracy",
        tip: "Share of the training points on the right side of the boundary",
        plot: PlotKind::Steps {
            title: "accuracy",
            fraction: true,
        },
        status: true,
    },
    Observable {
        column: "test_accuracy",
        label: "test accuracy",
        tip: "Share of the held-out points on the right side of the boundary: generalisation",
        plot: PlotKind::Steps {
            title: "accuracy",
            fraction: true,
        },
        status: true,
    },
    Observable {
        column: "heat_capacity",
        label: "C",
        tip: "Heat capacity C = Var(E)/T^2 of the chain: the variance of its energy about a least-squares line over the last `window` steps (the cooling drift removed), over the window's mean T^2. Blank while meaningless: the window not yet half full after a reheat or a schedule change, T changing by more than a factor 2 across it, or fluctuations no larger than the f32 loss's rounding. Right only near equilibrium (slow cooling), and with weight decay: without it exp(-E/T) over unbounded weights does not normalise, so there is no Boltzmann distribution for C to describe.",
        plot: PlotKind::Temperature {
            title: "heat capacity",
        },
        status: false,
    },
];

/// Number of parameters of a network of hidden width `h`.
pub fn param_count(h: usize) -> usize {
    5 * h + 2
}

/// One hidden unit as the margin sees it: `v * act(a x0 + b x1 + c)`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Unit {
    a: f32,
    b: f32,
    c: f32,
    v: f32,
}

#[inline]
fn unit(theta: &[f32], h: usize, j: usize) -> Unit {
    Unit {
        a: theta[j],
        b: theta[h + j],
        c: theta[2 * h + j],
        v: theta[3 * h + 2 * j + 1] - theta[3 * h + 2 * j],
    }
}

fn units(theta: &[f32], h: usize) -> Vec<Unit> {
    let mut out = Vec::with_capacity(h);
    fill_units(theta, h, &mut out);
    out
}

/// The units of `theta` into `out`, reusing its allocation (the per-step path).
#[inline]
fn fill_units(theta: &[f32], h: usize, out: &mut Vec<Unit>) {
    out.clear();
    out.extend((0..h).map(|j| unit(theta, h, j)));
}

fn output_bias(theta: &[f32], h: usize) -> f32 {
    theta[5 * h + 1] - theta[5 * h]
}

/// Points in structure-of-arrays form, padded with zero-weight points to a multiple of
/// [`LANES`]: `s` is +1 for class 1, -1 for class 0 and 0 for padding.
#[derive(Clone, Debug, PartialEq)]
struct Points {
    x0: Vec<f32>,
    x1: Vec<f32>,
    s: Vec<f32>,
    n: usize,
}

impl Points {
    fn new(samples: &Samples) -> Self {
        let n = samples.len();
        let padded = n.div_ceil(LANES) * LANES;
        let mut p = Self {
            x0: vec![0.0; padded],
            x1: vec![0.0; padded],
            s: vec![0.0; padded],
            n,
        };
        for (i, row) in samples.x.rows().into_iter().enumerate() {
            p.x0[i] = row[0];
            p.x1[i] = row[1];
            p.s[i] = if samples.y[i] == 1 { 1.0 } else { -1.0 };
        }
        p
    }

    fn grid(bounds: [[f32; 2]; 2], g: usize) -> Self {
        let padded = (g * g).div_ceil(LANES) * LANES;
        let mut p = Self {
            x0: vec![0.0; padded],
            x1: vec![0.0; padded],
            s: vec![0.0; padded],
            n: g * g,
        };
        let [lo, hi] = bounds;
        let step = |k: usize| {
            if g > 1 {
                (hi[k] - lo[k]) / (g - 1) as f32
            } else {
                0.0
            }
        };
        for row in 0..g {
            for col in 0..g {
                p.x0[row * g + col] = lo[0] + col as f32 * step(0);
                p.x1[row * g + col] = lo[1] + row as f32 * step(1);
            }
        }
        p
    }
}

#[inline(always)]
fn act<const TANH: bool>(z: f32) -> f32 {
    if TANH { tanh(z) } else { at_least(z, 0.0) }
}

/// `out_i = d + sum_j v_j act(a_j x0_i + b_j x1_i + c_j)` for every (padded) point.
fn margins_into<const TANH: bool>(pts: &Points, units: &[Unit], d: f32, out: &mut [f32]) {
    let (x0, _) = pts.x0.as_chunks::<LANES>();
    let (x1, _) = pts.x1.as_chunks::<LANES>();
    let (out, _) = out.as_chunks_mut::<LANES>();
    for ((o, xa), xb) in out.iter_mut().zip(x0).zip(x1) {
        let mut acc = [d; LANES];
        for u in units {
            for l in 0..LANES {
                acc[l] = fma(
                    u.v,
                    act::<TANH>(fma(u.a, xa[l], fma(u.b, xb[l], u.c))),
                    acc[l],
                );
            }
        }
        *o = acc;
    }
}

/// `out_i = m_i + dd + new.v act(new . x_i) - old.v act(old . x_i)`: the margins after one
/// unit changed from `old` to `new` and the output bias difference by `dd`. Kept out of
/// its caller so that the kernel's register allocation does not depend on the code
/// around it (inlined, it ran about 7% slower).
#[inline(never)]
fn update_margins<const TANH: bool>(
    pts: &Points,
    m: &[f32],
    old: Unit,
    new: Unit,
    dd: f32,
    out: &mut [f32],
) {
    let (x0, _) = pts.x0.as_chunks::<LANES>();
    let (x1, _) = pts.x1.as_chunks::<LANES>();
    let (m, _) = m.as_chunks::<LANES>();
    let (out, _) = out.as_chunks_mut::<LANES>();
    for (((o, mi), xa), xb) in out.iter_mut().zip(m).zip(x0).zip(x1) {
        for l in 0..LANES {
            let before = old.v * act::<TANH>(fma(old.a, xa[l], fma(old.b, xb[l], old.c)));
            let after = fma(
                new.v,
                act::<TANH>(fma(new.a, xa[l], fma(new.b, xb[l], new.c))),
                -before,
            );
            o[l] = mi[l] + dd + after;
        }
    }
}

/// Sum over real points of `softplus(-s_i m_i)`, the total cross-entropy.
///
/// `softplus(z) = max(z, 0) + ln(1 + e^-|z|)`; the logarithms of [`LOG_GROUP`] chunks are
/// summed as the logarithm of a product, `sum ln(1 + u_i) = ln prod (1 + u_i)` (each
/// factor is in (1, 2], so the product cannot overflow), which takes one `ln` per group
/// instead of one per point. The sums run in [`LANES`] fixed partial sums, so rounding does
/// not depend on the vector width. A padding point has `s = 0`, so `z = 0` and it adds
/// exactly `ln 2`, taken off at the end.
fn cross_entropy_sum(pts: &Points, m: &[f32]) -> f64 {
    let (m, _) = m.as_chunks::<LANES>();
    let (s, _) = pts.s.as_chunks::<LANES>();
    let mut acc = [0.0f32; LANES];
    for (mg, sg) in m.chunks(LOG_GROUP).zip(s.chunks(LOG_GROUP)) {
        let mut prod = [1.0f32; LANES];
        for (mc, sc) in mg.iter().zip(sg) {
            for l in 0..LANES {
                let z = -sc[l] * mc[l];
                // Written as a select rather than `max` so that a NaN margin (a diverged
                // network) poisons the sum instead of vanishing.
                acc[l] += if z < 0.0 { 0.0 } else { z };
                prod[l] *= 1.0 + exp_neg(-z.abs());
            }
        }
        for l in 0..LANES {
            acc[l] += ln_ge1(prod[l]);
        }
    }
    let padding = (pts.s.len() - pts.n) as f64;
    acc.iter().map(|&a| f64::from(a)).sum::<f64>() - padding * std::f64::consts::LN_2
}

/// Fraction of real points whose predicted class (margin > 0 means class 1) is right.
fn accuracy_of(pts: &Points, m: &[f32]) -> f64 {
    if pts.n == 0 {
        return f64::NAN;
    }
    let correct = m[..pts.n]
        .iter()
        .zip(&pts.s)
        .filter(|&(&mi, &si)| (mi > 0.0) == (si > 0.0))
        .count();
    correct as f64 / pts.n as f64
}

fn sum_sq(theta: &[f32]) -> f64 {
    theta.iter().map(|&t| f64::from(t) * f64::from(t)).sum()
}

/// What the pending candidate changed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pending {
    None,
    /// Every parameter: the candidate is in `cand`.
    All,
    /// The first `len` parameters listed in `idx` take the values in `vals`.
    Some {
        idx: [usize; 5],
        vals: [f32; 5],
        len: usize,
    },
}

/// The network's training loss as a [`Problem`], with the caches that make moves cheap.
#[derive(Clone, Debug)]
pub struct NetworkProblem {
    /// The data set, shared by the replicas of a run (for views and export).
    data: Arc<Dataset>,
    /// Train and test accuracy of the current state, until the next accepted move.
    accuracy: Option<(f64, f64)>,
    h: usize,
    activation: Activation,
    weight_decay: f64,
    train: Points,
    test: Points,
    theta: Vec<f32>,
    best: Vec<f32>,
    /// Candidate parameters of an all-parameter move.
    cand: Vec<f32>,
    margins: Vec<f32>,
    cand_margins: Vec<f32>,
    sum_sq: f64,
    cand_sum_sq: f64,
    energy: f64,
    cand_energy: f64,
    pending: Pending,
    since_refresh: u32,
    /// The hidden units of the parameters being evaluated (scratch, kept to save an
    /// allocation per step).
    units: Vec<Unit>,
}

impl NetworkProblem {
    /// A freshly initialised network on `data`: weights `N(0, init_scale^2)` drawn from
    /// `rng` (first `W1`, then `W2`), biases zero.
    pub fn new<R: Rng + ?Sized>(config: &NetworkConfig, data: &Dataset, rng: &mut R) -> Self {
        Self::with_data(config, Arc::new(data.clone()), rng)
    }

    /// `count` networks on the data set of `config` (drawn once), initialised one after
    /// the other from `rng`.
    pub fn build<R: Rng + ?Sized>(config: &NetworkConfig, count: usize, rng: &mut R) -> Vec<Self> {
        let data = Arc::new(Dataset::generate(&config.data));
        (0..count)
            .map(|_| Self::with_data(config, Arc::clone(&data), rng))
            .collect()
    }

    fn with_data<R: Rng + ?Sized>(config: &NetworkConfig, data: Arc<Dataset>, rng: &mut R) -> Self {
        let h = config.hidden.max(1);
        let mut theta = vec![0.0f32; param_count(h)];
        let scale = config.init_scale as f32;
        let (w1, rest) = theta.split_at_mut(2 * h);
        let w2 = &mut rest[h..3 * h];
        for w in w1.iter_mut().chain(w2.iter_mut()) {
            let z: f32 = StandardNormal.sample(rng);
            *w = scale * z;
        }
        Self::from_parts(config, data, theta)
    }

    /// A network on `data` with the given parameters (length `5 H + 2`).
    pub fn with_params(config: &NetworkConfig, data: &Dataset, theta: Vec<f32>) -> Self {
        Self::from_parts(config, Arc::new(data.clone()), theta)
    }

    fn from_parts(config: &NetworkConfig, data: Arc<Dataset>, theta: Vec<f32>) -> Self {
        let h = config.hidden.max(1);
        debug_assert_eq!(theta.len(), param_count(h));
        let train = Points::new(&data.train);
        let test = Points::new(&data.test);
        let padded = train.x0.len();
        let mut p = Self {
            data,
            accuracy: None,
            h,
            activation: config.activation,
            weight_decay: config.weight_decay,
            test,
            train,
            best: theta.clone(),
            cand: theta.clone(),
            theta,
            margins: vec![0.0; padded],
            cand_margins: vec![0.0; padded],
            sum_sq: 0.0,
            cand_sum_sq: 0.0,
            energy: 0.0,
            cand_energy: 0.0,
            pending: Pending::None,
            since_refresh: 0,
            units: Vec::with_capacity(h),
        };
        p.refresh();
        p
    }

    /// Recomputes the margins and the energy from scratch.
    fn refresh(&mut self) {
        self.margins_for(&self.theta.clone(), Which::Current);
        self.sum_sq = sum_sq(&self.theta);
        self.energy = self.energy_from(&self.margins, self.sum_sq);
        self.since_refresh = 0;
    }

    fn margins_for(&mut self, theta: &[f32], which: Which) {
        fill_units(theta, self.h, &mut self.units);
        let d = output_bias(theta, self.h);
        let out = match which {
            Which::Current => &mut self.margins,
            Which::Candidate => &mut self.cand_margins,
        };
        match self.activation {
            Activation::Relu => margins_into::<false>(&self.train, &self.units, d, out),
            Activation::Tanh => margins_into::<true>(&self.train, &self.units, d, out),
        }
    }

    fn energy_from(&self, margins: &[f32], sum_sq: f64) -> f64 {
        let n = self.train.n.max(1) as f64;
        cross_entropy_sum(&self.train, margins) / n + self.weight_decay * sum_sq
    }

    /// Hidden width.
    pub fn hidden(&self) -> usize {
        self.h
    }

    /// The current parameters.
    pub fn params(&self) -> &[f32] {
        &self.theta
    }

    /// The parameters of the lowest energy seen.
    pub fn best_params(&self) -> &[f32] {
        &self.best
    }

    /// The energy recomputed from scratch, without caches (for checks).
    pub fn energy_from_scratch(&self) -> f64 {
        let mut copy = self.clone();
        copy.refresh();
        copy.energy
    }

    /// Accuracy on the training points.
    pub fn train_accuracy(&self) -> f64 {
        accuracy_of(&self.train, &self.margins)
    }

    /// Accuracy on the held-out points (NaN when there are none).
    pub fn test_accuracy(&self) -> f64 {
        let mut m = vec![0.0; self.test.x0.len()];
        self.margins_on(&self.test, &self.theta, &mut m);
        accuracy_of(&self.test, &m)
    }

    fn margins_on(&self, pts: &Points, theta: &[f32], out: &mut [f32]) {
        let units = units(theta, self.h);
        let d = output_bias(theta, self.h);
        match self.activation {
            Activation::Relu => margins_into::<false>(pts, &units, d, out),
            Activation::Tanh => margins_into::<true>(pts, &units, d, out),
        }
    }

    /// Class-1 probability on a `g x g` grid spanning `bounds` (`[[x_lo, y_lo], [x_hi, y_hi]]`):
    /// row `r` is `y = y_lo + r dy`, column `c` is `x = x_lo + c dx`.
    pub fn probability_grid(&self, theta: &[f32], bounds: [[f32; 2]; 2], g: usize) -> Array2<f32> {
        let pts = Points::grid(bounds, g);
        let mut m = vec![0.0; pts.x0.len()];
        self.margins_on(&pts, theta, &mut m);
        Array2::from_shape_fn((g, g), |(r, c)| sigmoid(m[r * g + c]))
    }

    /// The energy of arbitrary parameters `theta` (same length as [`Self::params`]).
    pub fn energy_at(&self, theta: &[f32]) -> f64 {
        let mut m = vec![0.0; self.train.x0.len()];
        self.margins_on(&self.train, theta, &mut m);
        self.energy_from(&m, sum_sq(theta))
    }

    /// The indices of hidden unit `j`'s parameters: its two input weights, its bias and its
    /// two output weights.
    pub fn unit_indices(&self, j: usize) -> [usize; 5] {
        let h = self.h;
        [j, h + j, 2 * h + j, 3 * h + 2 * j, 3 * h + 2 * j + 1]
    }

    /// The filters of the network in the sense of Li et al. (2018): per layer, each
    /// unit's incoming weights. Hidden unit `j`: its two input weights `W1[., j]`; output
    /// unit `k`: its `H` weights `W2[., k]`. Biases belong to no filter.
    pub fn filters(&self) -> Vec<Vec<usize>> {
        let h = self.h;
        let mut filters: Vec<Vec<usize>> = (0..h).map(|j| vec![j, h + j]).collect();
        filters.extend((0..2).map(|k| (0..h).map(|j| 3 * h + 2 * j + k).collect()));
        filters
    }

    /// Two random directions in parameter space with filter normalisation (Li et al.
    /// 2018, "Visualizing the Loss Landscape of Neural Nets"): a Gaussian direction is
    /// rescaled filter by filter ([`NetworkProblem::filters`]: each hidden unit's incoming
    /// weights, each output unit's incoming weights) to the norm of that filter in
    /// `theta`, `d_f <- d_f / |d_f| * |theta_f|`, so a step of 1 along it changes every
    /// filter by its own scale; the bias directions are zero, as in the paper.
    pub fn filter_normalised_directions<R: Rng + ?Sized>(
        &self,
        theta: &[f32],
        rng: &mut R,
    ) -> [Vec<f32>; 2] {
        let filters = self.filters();
        [0, 1].map(|_| {
            let mut d = vec![0.0f32; theta.len()];
            for filter in &filters {
                let raw: Vec<f32> = filter.iter().map(|_| StandardNormal.sample(rng)).collect();
                let norm_d = raw.iter().map(|v| v * v).sum::<f32>().sqrt();
                let norm_t = filter
                    .iter()
                    .map(|&i| theta[i] * theta[i])
                    .sum::<f32>()
                    .sqrt();
                for (&i, r) in filter.iter().zip(&raw) {
                    d[i] = r / norm_d.max(f32::MIN_POSITIVE) * norm_t;
                }
            }
            d
        })
    }

    /// `L(theta + a d1 + b d2)` on a `g x g` grid of `(a, b)` in `[-span, span]^2`, rows
    /// from `b = -span` up.
    pub fn loss_slice(&self, theta: &[f32], d: &[Vec<f32>; 2], span: f64, g: usize) -> Vec<f64> {
        let mut point = theta.to_vec();
        let step = |i: usize| -span + 2.0 * span * i as f64 / (g.max(2) - 1) as f64;
        let mut out = Vec::with_capacity(g * g);
        for r in 0..g {
            for c in 0..g {
                let (a, b) = (step(c) as f32, step(r) as f32);
                for (k, p) in point.iter_mut().enumerate() {
                    *p = theta[k] + a * d[0][k] + b * d[1][k];
                }
                out.push(self.energy_at(&point));
            }
        }
        out
    }

    /// `grad E(theta)` by backpropagation, given the training margins of `theta`:
    /// with `g_i = dE/dm_i = -s_i sigmoid(-s_i m_i) / n`, the output weights get
    /// `+-sum g_i act(z_ij)`, the output biases `+-sum g_i`, and each hidden unit's input
    /// weights and bias `sum g_i v_j act'(z_ij) (x0_i, x1_i, 1)`; plus `2 lambda theta`.
    pub fn gradient_at(&self, theta: &[f32], margins: &[f32]) -> Vec<f64> {
        let h = self.h;
        let pts = &self.train;
        let n = pts.n.max(1) as f64;
        let gm: Vec<f64> = (0..pts.n)
            .map(|i| {
                let s = f64::from(pts.s[i]);
                let m = f64::from(margins[i]);
                -s / (1.0 + (s * m).exp()) / n
            })
            .collect();
        let mut g = vec![0.0f64; theta.len()];
        let tanh = self.activation == Activation::Tanh;
        for j in 0..h {
            let u = unit(theta, h, j);
            let (mut ga, mut gb, mut gc, mut gv) = (0.0, 0.0, 0.0, 0.0);
            for (i, &gmi) in gm.iter().enumerate() {
                let z = f64::from(u.a) * f64::from(pts.x0[i])
                    + f64::from(u.b) * f64::from(pts.x1[i])
                    + f64::from(u.c);
                let (act, slope) = if tanh {
                    let t = z.tanh();
                    (t, 1.0 - t * t)
                } else if z > 0.0 {
                    (z, 1.0)
                } else {
                    (0.0, 0.0)
                };
                gv += gmi * act;
                let gz = gmi * f64::from(u.v) * slope;
                ga += gz * f64::from(pts.x0[i]);
                gb += gz * f64::from(pts.x1[i]);
                gc += gz;
            }
            g[j] = ga;
            g[h + j] = gb;
            g[2 * h + j] = gc;
            g[3 * h + 2 * j] = -gv;
            g[3 * h + 2 * j + 1] = gv;
        }
        let gd: f64 = gm.iter().sum();
        g[5 * h] = -gd;
        g[5 * h + 1] = gd;
        for (gk, &tk) in g.iter_mut().zip(theta) {
            *gk += 2.0 * self.weight_decay * f64::from(tk);
        }
        g
    }

    /// `grad E` at the current parameters.
    pub fn gradient(&self) -> Vec<f64> {
        self.gradient_at(&self.theta, &self.margins)
    }

    /// Class-1 probability of each of `samples` under parameters `theta`.
    pub fn probabilities(&self, theta: &[f32], samples: &Samples) -> Vec<f32> {
        let pts = Points::new(samples);
        let mut m = vec![0.0; pts.x0.len()];
        self.margins_on(&pts, theta, &mut m);
        m[..pts.n].iter().map(|&z| sigmoid(z)).collect()
    }

    /// The current parameters as an ndarray vector.
    pub fn params_array(&self) -> Array1<f32> {
        Array1::from(self.theta.clone())
    }

    fn propose_all<R: Rng + ?Sized>(&mut self, sigma: f32, rng: &mut R) -> f64 {
        for (c, &t) in self.cand.iter_mut().zip(&self.theta) {
            let z: f32 = StandardNormal.sample(rng);
            *c = t + sigma * z;
        }
        // A separate pass: accumulating inside the sampling loop kept the sum in memory.
        let ss = sum_sq(&self.cand);
        let cand = std::mem::take(&mut self.cand);
        self.margins_for(&cand, Which::Candidate);
        self.cand = cand;
        self.cand_sum_sq = ss;
        self.pending = Pending::All;
        self.energy_from(&self.cand_margins, ss)
    }

    /// Moves the parameters listed in `idx` (all within hidden unit `j`, or the output
    /// biases) and evaluates the candidate in `O(n)`.
    fn propose_local<R: Rng + ?Sized>(
        &mut self,
        j: usize,
        idx: &[usize],
        sigma: f32,
        rng: &mut R,
    ) -> f64 {
        let h = self.h;
        let old = unit(&self.theta, h, j);
        let old_d = output_bias(&self.theta, h);
        let mut vals = [0.0f32; 5];
        let mut ss = self.sum_sq;
        for (k, &i) in idx.iter().enumerate() {
            let z: f32 = StandardNormal.sample(rng);
            vals[k] = self.theta[i] + sigma * z;
            ss += f64::from(vals[k]) * f64::from(vals[k]) - f64::from(self.theta[i]).powi(2);
        }
        // Read the candidate unit through a tiny overlay instead of copying theta.
        let get = |i: usize| {
            idx.iter()
                .position(|&x| x == i)
                .map_or(self.theta[i], |k| vals[k])
        };
        let new = Unit {
            a: get(j),
            b: get(h + j),
            c: get(2 * h + j),
            v: get(3 * h + 2 * j + 1) - get(3 * h + 2 * j),
        };
        let dd = (get(5 * h + 1) - get(5 * h)) - old_d;
        match self.activation {
            Activation::Relu => update_margins::<false>(
                &self.train,
                &self.margins,
                old,
                new,
                dd,
                &mut self.cand_margins,
            ),
            Activation::Tanh => update_margins::<true>(
                &self.train,
                &self.margins,
                old,
                new,
                dd,
                &mut self.cand_margins,
            ),
        }
        let mut list = [0usize; 5];
        list[..idx.len()].copy_from_slice(idx);
        self.pending = Pending::Some {
            idx: list,
            vals,
            len: idx.len(),
        };
        self.cand_sum_sq = ss;
        self.energy_from(&self.cand_margins, ss)
    }
}

#[derive(Clone, Copy)]
enum Which {
    Current,
    Candidate,
}

impl Problem for NetworkProblem {
    fn energy(&self) -> f64 {
        self.energy
    }

    /// The f32 kernel's rounding: against an f64 computation of the same loss the cached
    /// energy was off by at most `1.5e-7 |E|` and `5e-9` absolute over annealing runs of
    /// 4 to 64 hidden units and 100 to 10 000 points (incremental updates included).
    fn energy_resolution(&self) -> f64 {
        2e-7 * self.energy.abs() + 1e-8
    }

    fn propose<R: Rng + ?Sized>(&mut self, kind: ProposalKind, sigma: f64, rng: &mut R) -> f64 {
        let sigma = sigma as f32;
        let h = self.h;
        let e = match kind {
            ProposalKind::All => self.propose_all(sigma, rng),
            ProposalKind::One => {
                let i = rng.random_range(0..param_count(h));
                // The hidden unit the parameter belongs to (any unit for the output biases).
                let j = match i {
                    i if i < 3 * h => i % h,
                    i if i < 5 * h => (i - 3 * h) / 2,
                    _ => 0,
                };
                self.propose_local(j, &[i], sigma, rng)
            }
            ProposalKind::Unit => {
                let j = rng.random_range(0..h);
                let idx = [j, h + j, 2 * h + j, 3 * h + 2 * j, 3 * h + 2 * j + 1];
                self.propose_local(j, &idx, sigma, rng)
            }
        };
        self.cand_energy = e;
        e - self.energy
    }

    fn accept(&mut self) {
        self.accuracy = None;
        match self.pending {
            Pending::None => return,
            Pending::All => {
                std::mem::swap(&mut self.theta, &mut self.cand);
            }
            Pending::Some { idx, vals, len } => {
                for k in 0..len {
                    self.theta[idx[k]] = vals[k];
                }
                self.since_refresh += 1;
            }
        }
        std::mem::swap(&mut self.margins, &mut self.cand_margins);
        self.sum_sq = self.cand_sum_sq;
        self.energy = self.cand_energy;
        self.pending = Pending::None;
        if self.since_refresh >= REFRESH_EVERY {
            self.refresh();
        }
    }

    fn reject(&mut self) {
        self.pending = Pending::None;
    }

    fn store_best(&mut self) {
        self.best.copy_from_slice(&self.theta);
    }

    fn propose_langevin<R: Rng + ?Sized>(
        &mut self,
        eta: f64,
        t: f64,
        rng: &mut R,
    ) -> Option<(f64, f64)> {
        let g = self.gradient();
        let noise = (2.0 * eta * t).sqrt();
        for ((c, &th), &gk) in self.cand.iter_mut().zip(&self.theta).zip(&g) {
            let z: f64 = StandardNormal.sample(rng);
            *c = (f64::from(th) - eta * gk + noise * z) as f32;
        }
        let cand = std::mem::take(&mut self.cand);
        self.margins_for(&cand, Which::Candidate);
        let g_cand = self.gradient_at(&cand, &self.cand_margins);
        let x: Vec<f64> = self.theta.iter().map(|&v| f64::from(v)).collect();
        let y: Vec<f64> = cand.iter().map(|&v| f64::from(v)).collect();
        let log_q = super::problem::langevin_log_q(&x, &y, &g_cand, eta, t)
            - super::problem::langevin_log_q(&y, &x, &g, eta, t);
        self.cand_sum_sq = sum_sq(&cand);
        self.cand = cand;
        self.pending = Pending::All;
        let e = self.energy_from(&self.cand_margins, self.cand_sum_sq);
        self.cand_energy = e;
        Some((e - self.energy, log_q))
    }
}

/// The decision boundary: the class-1 probability over a square grid of the input plane.
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionGrid {
    /// `[[x_lo, y_lo], [x_hi, y_hi]]`.
    pub bounds: [[f32; 2]; 2],
    /// `p[[row, col]]` at `x = x_lo + col dx`, `y = y_lo + row dy`.
    pub p: Array2<f32>,
    /// Class-1 probability at each training point.
    pub train_p: Vec<f32>,
    /// Class-1 probability at each test point.
    pub test_p: Vec<f32>,
}

/// What the UI draws of a network: its data and (when asked for) its boundary.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkView {
    /// The data set.
    pub data: Arc<Dataset>,
    /// The decision boundary on the requested grid.
    pub grid: Option<Arc<DecisionGrid>>,
}

/// A 2D slice of the network's loss.
#[derive(Clone, Debug, PartialEq)]
pub struct LossSlice {
    /// Loss on a `side x side` grid of `(a, b)` in `[-span, span]^2`, rows from `b = -span`.
    pub values: Vec<f64>,
    /// Cells per side.
    pub side: usize,
    /// Half-width.
    pub span: f64,
    /// Centred on the best parameters (else the current ones).
    pub best: bool,
}

/// Cells per side of a loss slice.
pub const SLICE_GRID: usize = 61;

/// A network's state for export: its parameters and its data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkState {
    /// Hidden width `H`.
    pub hidden: usize,
    /// The hidden nonlinearity.
    pub activation: Activation,
    /// `W1` (2 x H, row-major), `b1` (H), `W2` (H x 2, row-major), `b2` (2).
    pub params: Vec<f32>,
    /// The parameters of the lowest energy seen, in the same layout.
    pub best_params: Vec<f32>,
    /// Training points as `[x, y, label]`.
    pub train: Vec<[f32; 3]>,
    /// Test points as `[x, y, label]`.
    pub test: Vec<[f32; 3]>,
}

fn labelled(s: &Samples) -> Vec<[f32; 3]> {
    s.x.rows()
        .into_iter()
        .zip(s.y.iter())
        .map(|(r, &y)| [r[0], r[1], f32::from(y)])
        .collect()
}

impl NetworkProblem {
    /// The data set.
    pub fn data(&self) -> &Arc<Dataset> {
        &self.data
    }

    /// The class-1 probability of the current network on a `g x g` grid over the data.
    pub fn decision_grid(&self, g: usize) -> DecisionGrid {
        let bounds = self.data.bounds();
        let theta = &self.theta;
        DecisionGrid {
            bounds,
            p: self.probability_grid(theta, bounds, g),
            train_p: self.probabilities(theta, &self.data.train),
            test_p: self.probabilities(theta, &self.data.test),
        }
    }

    /// Train and test accuracy of the current state (cached until a move is accepted).
    pub fn accuracies(&mut self) -> (f64, f64) {
        if let Some(a) = self.accuracy {
            return a;
        }
        let a = (self.train_accuracy(), self.test_accuracy());
        self.accuracy = Some(a);
        a
    }
}

impl Kind for NetworkProblem {
    fn observables(&self) -> &'static [Observable] {
        OBSERVABLES
    }

    fn observe(&mut self, chain: &ChainStats, out: &mut [f64]) {
        let (train, test) = self.accuracies();
        out.copy_from_slice(&[train, test, chain.heat_capacity]);
    }

    fn view(&self, request: &ViewRequest) -> ProblemView {
        ProblemView::Network(NetworkView {
            data: Arc::clone(&self.data),
            grid: (request.grid > 0 && !request.replica)
                .then(|| Arc::new(self.decision_grid(request.grid.min(limits::GRID_MAX)))),
        })
    }

    fn answer(&self, request: &Request, seed: u64) -> Option<Reply> {
        let Request::LossSlice { span, best } = *request else {
            return None;
        };
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
        let theta = if best { &self.best } else { &self.theta };
        let dirs = self.filter_normalised_directions(theta, &mut rng);
        Some(Reply::LossSlice(LossSlice {
            values: self.loss_slice(theta, &dirs, span, SLICE_GRID),
            side: SLICE_GRID,
            span,
            best,
        }))
    }

    fn state(&self) -> ProblemState {
        ProblemState::Network(NetworkState {
            hidden: self.h,
            activation: self.activation,
            params: self.theta.clone(),
            best_params: self.best.clone(),
            train: labelled(&self.data.train),
            test: labelled(&self.data.test),
        })
    }
}
