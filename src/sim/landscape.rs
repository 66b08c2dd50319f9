//! Two-dimensional energy landscapes `E(x, y)`, a crowd of independent walkers on them,
//! and their exact statistical mechanics by quadrature on a grid.
//!
//! A landscape run is annealed by the same engine as the network: each annealing step
//! moves one walker (in turn), with `dE` that walker's energy change, so the `M` walkers
//! are `M` independent Metropolis chains at the same temperature. The energy the
//! annealer sees is the walkers' total; plots show the mean. A move that leaves the
//! landscape's box is rejected like an infinite energy (a hard wall), which keeps the
//! stationary distribution the Boltzmann distribution restricted to the box.

use super::config::{RangeError, check, limits};
use super::problem::{Problem, ProposalKind};
use super::problems::{
    ChainStats, Kind, Observable, PlotKind, ProblemState, ProblemView, Reply, Request, ViewRequest,
};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::f64::consts::{E, PI};
use std::sync::Arc;

/// Cells per side of the energy grid the UI draws the surface from.
pub const VIEW_GRID: usize = 160;
/// Positions of walker 0 kept for its trail.
pub const TRAIL: usize = 400;

/// What a landscape run reports besides the walkers' mean energy.
pub const OBSERVABLES: &[Observable] = &[
    Observable {
        column: "heat_capacity",
        label: "C",
        tip: "Heat capacity per walker, Var(E)/T^2 over the walkers' energies: they are M samples at one temperature",
        plot: PlotKind::Temperature {
            title: "heat capacity",
        },
        status: false,
    },
    Observable {
        column: "energy_spread",
        label: "spread of E",
        tip: "Standard deviation of the walkers' energies: how wide the Boltzmann distribution is at this T",
        plot: PlotKind::Steps {
            title: "spread of the walkers' energies",
            fraction: false,
        },
        status: false,
    },
];

/// A built-in surface or a formula.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Surface {
    /// `E = (x^2 - 1)^2 + tilt x + y^2`: two basins near `x = -1` and `x = 1`; a positive
    /// tilt makes the left one deeper.
    DoubleWell {
        /// Slope added along x.
        tilt: f64,
    },
    /// Himmelblau's function `(x^2 + y - 11)^2 + (x + y^2 - 7)^2`: four minima at `E = 0`.
    Himmelblau,
    /// Rastrigin's function `20 + sum (x_i^2 - 10 cos 2 pi x_i)`: a grid of local minima
    /// around the global one, 0 at the origin.
    Rastrigin,
    /// Ackley's function: a nearly flat, dimpled plateau around a deep funnel, 0 at the origin.
    Ackley,
    /// The Müller-Brown potential of theoretical chemistry: three minima of different
    /// depths (-146.70, -108.17, -80.77) joined by saddles.
    MullerBrown,
    /// The harmonic bowl `E = (x^2 + y^2) / 2`, whose Boltzmann distribution is an exact
    /// Gaussian of variance `T`.
    Harmonic,
    /// A formula in `x` and `y`, e.g. `"x^2 + 3*sin(y)"`.
    Formula(String),
}

impl Default for Surface {
    fn default() -> Self {
        Surface::DoubleWell { tilt: 0.3 }
    }
}

/// Müller-Brown parameters: `A, a, b, c, x0, y0` for each of the four terms.
const MB: [[f64; 6]; 4] = [
    [-200.0, -1.0, 0.0, -10.0, 1.0, 0.0],
    [-100.0, -1.0, 0.0, -10.0, 0.0, 0.5],
    [-170.0, -6.5, 11.0, -6.5, -0.5, 1.5],
    [15.0, 0.7, 0.6, 0.7, -1.0, 1.0],
];

/// Why a surface cannot be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("formula `{formula}`: {message}")]
pub struct SurfaceError {
    /// The formula.
    pub formula: String,
    /// What is wrong with it.
    pub message: String,
}

/// A surface ready to evaluate (formulas parsed once).
#[derive(Clone, Debug)]
pub struct Compiled {
    surface: Surface,
    formula: Option<(exmex::FlatEx<f64>, [Option<usize>; 2])>,
}

impl Surface {
    /// The built-in surfaces, in menu order.
    pub fn builtins() -> [Surface; 6] {
        [
            Surface::DoubleWell { tilt: 0.3 },
            Surface::Himmelblau,
            Surface::Rastrigin,
            Surface::Ackley,
            Surface::MullerBrown,
            Surface::Harmonic,
        ]
    }

    /// A human-readable name.
    pub fn label(&self) -> &'static str {
        match self {
            Surface::DoubleWell { .. } => "Tilted double well",
            Surface::Himmelblau => "Himmelblau",
            Surface::Rastrigin => "Rastrigin",
            Surface::Ackley => "Ackley",
            Surface::MullerBrown => "Müller-Brown",
            Surface::Harmonic => "Harmonic bowl",
            Surface::Formula(_) => "Formula",
        }
    }

    /// The box the walkers live in: `[[x_lo, y_lo], [x_hi, y_hi]]`.
    pub fn default_bounds(&self) -> [[f64; 2]; 2] {
        match self {
            Surface::DoubleWell { .. } => [[-2.0, -1.5], [2.0, 1.5]],
            Surface::Himmelblau => [[-5.0, -5.0], [5.0, 5.0]],
            Surface::Rastrigin => [[-5.12, -5.12], [5.12, 5.12]],
            Surface::Ackley => [[-5.0, -5.0], [5.0, 5.0]],
            Surface::MullerBrown => [[-1.5, -0.5], [1.2, 2.0]],
            Surface::Harmonic | Surface::Formula(_) => [[-4.0, -4.0], [4.0, 4.0]],
        }
    }

    /// Parses a formula (built-ins need nothing). Only the variables `x` and `y` are allowed.
    pub fn compile(&self) -> Result<Compiled, SurfaceError> {
        let formula = match self {
            Surface::Formula(text) => {
                use exmex::Express;
                let err = |message: String| SurfaceError {
                    formula: text.clone(),
                    message,
                };
                let ex = exmex::parse::<f64>(text).map_err(|e| err(e.to_string()))?;
                let mut slots = [None, None];
                for (i, name) in ex.var_names().iter().enumerate() {
                    match name.as_str() {
                        "x" => slots[0] = Some(i),
                        "y" => slots[1] = Some(i),
                        other => {
                            return Err(err(format!("unknown variable `{other}`; use x and y")));
                        }
                    }
                }
                let compiled = Compiled {
                    surface: self.clone(),
                    formula: Some((ex, slots)),
                };
                // A formula must give numbers somewhere in its box.
                let [lo, hi] = self.default_bounds();
                let probe =
                    compiled.energy((lo[0] + hi[0]) / 2.0 + 0.123, (lo[1] + hi[1]) / 2.0 + 0.456);
                if probe.is_nan() {
                    return Err(err("it is not a number at the centre of the box".into()));
                }
                return Ok(compiled);
            }
            _ => None,
        };
        Ok(Compiled {
            surface: self.clone(),
            formula,
        })
    }
}

impl Compiled {
    /// The surface.
    pub fn surface(&self) -> &Surface {
        &self.surface
    }

    /// `E(x, y)`.
    pub fn energy(&self, x: f64, y: f64) -> f64 {
        match &self.surface {
            Surface::DoubleWell { tilt } => (x * x - 1.0).powi(2) + tilt * x + y * y,
            Surface::Himmelblau => (x * x + y - 11.0).powi(2) + (x + y * y - 7.0).powi(2),
            Surface::Rastrigin => {
                20.0 + x * x - 10.0 * (2.0 * PI * x).cos() + y * y - 10.0 * (2.0 * PI * y).cos()
            }
            Surface::Ackley => {
                -20.0 * (-0.2 * (0.5 * (x * x + y * y)).sqrt()).exp()
                    - (0.5 * ((2.0 * PI * x).cos() + (2.0 * PI * y).cos())).exp()
                    + E
                    + 20.0
            }
            Surface::MullerBrown => MB
                .iter()
                .map(|&[a_k, a, b, c, x0, y0]| {
                    let (dx, dy) = (x - x0, y - y0);
                    a_k * (a * dx * dx + b * dx * dy + c * dy * dy).exp()
                })
                .sum(),
            Surface::Harmonic => (x * x + y * y) / 2.0,
            Surface::Formula(_) => match &self.formula {
                Some((ex, slots)) => {
                    use exmex::Express;
                    let mut vars = [0.0; 2];
                    let mut n = 0;
                    for (slot, v) in slots.iter().zip([x, y]) {
                        if let Some(i) = slot {
                            vars[*i] = v;
                            n += 1;
                        }
                    }
                    ex.eval(&vars[..n]).unwrap_or(f64::NAN)
                }
                None => f64::NAN,
            },
        }
    }

    /// `(dE/dx, dE/dy)`: analytic for the built-ins, central differences for formulas.
    pub fn gradient(&self, x: f64, y: f64) -> [f64; 2] {
        match &self.surface {
            Surface::DoubleWell { tilt } => [4.0 * x * (x * x - 1.0) + tilt, 2.0 * y],
            Surface::Himmelblau => {
                let (u, v) = (x * x + y - 11.0, x + y * y - 7.0);
                [4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v]
            }
            Surface::Rastrigin => [
                2.0 * x + 20.0 * PI * (2.0 * PI * x).sin(),
                2.0 * y + 20.0 * PI * (2.0 * PI * y).sin(),
            ],
            Surface::Ackley => {
                let r = (0.5 * (x * x + y * y)).sqrt();
                let e1 = (-0.2 * r).exp();
                let e2 = (0.5 * ((2.0 * PI * x).cos() + (2.0 * PI * y).cos())).exp();
                // d/dx of -20 exp(-0.2 r), r = sqrt((x^2 + y^2)/2): 2 e1 x / r.
                let radial = if r > 0.0 { 4.0 * e1 / r } else { 0.0 };
                [
                    radial * 0.5 * x + e2 * PI * (2.0 * PI * x).sin(),
                    radial * 0.5 * y + e2 * PI * (2.0 * PI * y).sin(),
                ]
            }
            Surface::MullerBrown => {
                let mut g = [0.0; 2];
                for &[a_k, a, b, c, x0, y0] in &MB {
                    let (dx, dy) = (x - x0, y - y0);
                    let e = a_k * (a * dx * dx + b * dx * dy + c * dy * dy).exp();
                    g[0] += e * (2.0 * a * dx + b * dy);
                    g[1] += e * (b * dx + 2.0 * c * dy);
                }
                g
            }
            Surface::Harmonic => [x, y],
            Surface::Formula(_) => {
                let h = 1e-6;
                [
                    (self.energy(x + h, y) - self.energy(x - h, y)) / (2.0 * h),
                    (self.energy(x, y + h) - self.energy(x, y - h)) / (2.0 * h),
                ]
            }
        }
    }

    /// `E` on a `g x g` grid over `bounds`: row `r` is `y = y_lo + r dy`, column `c` is
    /// `x = x_lo + c dx`, cell centres (so the grid is a midpoint quadrature rule).
    pub fn grid(&self, bounds: [[f64; 2]; 2], g: usize) -> EnergyGrid {
        let [lo, hi] = bounds;
        let (dx, dy) = ((hi[0] - lo[0]) / g as f64, (hi[1] - lo[1]) / g as f64);
        let mut e = Vec::with_capacity(g * g);
        for r in 0..g {
            for c in 0..g {
                e.push(self.energy(lo[0] + (c as f64 + 0.5) * dx, lo[1] + (r as f64 + 0.5) * dy));
            }
        }
        EnergyGrid {
            bounds,
            side: g,
            energy: e,
        }
    }
}

/// Energies at the cell centres of a square grid.
#[derive(Clone, Debug, PartialEq)]
pub struct EnergyGrid {
    /// `[[x_lo, y_lo], [x_hi, y_hi]]`.
    pub bounds: [[f64; 2]; 2],
    /// Cells per side.
    pub side: usize,
    /// `E` per cell, row-major, rows from `y_lo` up.
    pub energy: Vec<f64>,
}

/// The thermodynamics of a distribution at temperature `T`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thermo {
    /// Partition function `Z = integral exp(-E/T) dx dy`.
    pub z: f64,
    /// Free energy `F = -T ln Z`.
    pub free_energy: f64,
    /// Mean energy `U = <E>`.
    pub mean_energy: f64,
    /// Entropy `S = (U - F) / T`.
    pub entropy: f64,
    /// Heat capacity `C = Var(E) / T^2`.
    pub heat_capacity: f64,
}

impl EnergyGrid {
    /// Area of one cell.
    pub fn cell_area(&self) -> f64 {
        let [lo, hi] = self.bounds;
        (hi[0] - lo[0]) * (hi[1] - lo[1]) / (self.side * self.side) as f64
    }

    /// Exact thermodynamics at `T` by midpoint quadrature. Energies are shifted by their
    /// minimum before exponentiating, so no `exp` overflows however low `T`.
    pub fn thermo(&self, t: f64) -> Thermo {
        let e_min = self.energy.iter().cloned().fold(f64::INFINITY, f64::min);
        let (mut w_sum, mut we, mut we2) = (0.0, 0.0, 0.0);
        for &e in &self.energy {
            let d = e - e_min;
            let w = (-d / t).exp();
            w_sum += w;
            we += w * d;
            we2 += w * d * d;
        }
        let mean_d = we / w_sum;
        let var = (we2 / w_sum - mean_d * mean_d).max(0.0);
        let ln_z = w_sum.ln() + self.cell_area().ln() - e_min / t;
        let free_energy = -t * ln_z;
        let mean_energy = mean_d + e_min;
        Thermo {
            z: ln_z.exp(),
            free_energy,
            mean_energy,
            entropy: (mean_energy - free_energy) / t,
            heat_capacity: var / (t * t),
        }
    }

    /// The Boltzmann probability of each cell at `T` (sums to 1).
    pub fn boltzmann(&self, t: f64) -> Vec<f64> {
        let e_min = self.energy.iter().cloned().fold(f64::INFINITY, f64::min);
        let w: Vec<f64> = self
            .energy
            .iter()
            .map(|e| (-(e - e_min) / t).exp())
            .collect();
        let s: f64 = w.iter().sum();
        w.into_iter().map(|w| w / s).collect()
    }

    /// The cell holding `(x, y)`, if inside.
    pub fn cell(&self, x: f64, y: f64) -> Option<usize> {
        let [lo, hi] = self.bounds;
        let fx = (x - lo[0]) / (hi[0] - lo[0]);
        let fy = (y - lo[1]) / (hi[1] - lo[1]);
        if !(0.0..1.0).contains(&fx) || !(0.0..1.0).contains(&fy) {
            return None;
        }
        let g = self.side;
        Some(((fy * g as f64) as usize).min(g - 1) * g + ((fx * g as f64) as usize).min(g - 1))
    }
}

/// Estimates from the walkers at temperature `T`: mean energy and heat capacity
/// `Var(E)/T^2` directly; entropy from the histogram of their positions over the grid's
/// box, `S = -sum p ln(p / dA) + (K - 1)/(2M)` (plug-in estimate with the Miller-Madow
/// bias correction, `K` occupied cells, about four walkers per cell); `F = U - T S` and
/// `Z = exp(-F/T)`.
pub fn walker_thermo(grid: &EnergyGrid, walkers: &[[f64; 2]], energies: &[f64], t: f64) -> Thermo {
    let n = energies.len().max(1) as f64;
    let mean = energies.iter().sum::<f64>() / n;
    let var = energies.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / n;
    let side = ((n / 4.0).sqrt() as usize).clamp(2, grid.side.max(2));
    let bins = EnergyGrid {
        bounds: grid.bounds,
        side,
        energy: Vec::new(),
    };
    let mut counts = vec![0u32; side * side];
    for w in walkers {
        if let Some(c) = bins.cell(w[0], w[1]) {
            counts[c] += 1;
        }
    }
    let area = bins.cell_area();
    let occupied = counts.iter().filter(|&&c| c > 0).count() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * (p / area).ln()
        })
        .sum::<f64>()
        + (occupied - 1.0) / (2.0 * n);
    let free_energy = mean - t * entropy;
    Thermo {
        z: (-free_energy / t).exp(),
        free_energy,
        mean_energy: mean,
        entropy,
        heat_capacity: var / (t * t),
    }
}

/// Settings of a landscape run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LandscapeConfig {
    /// The surface.
    pub surface: Surface,
    /// Number of walkers `M`.
    pub walkers: usize,
    /// The box, `[[x_lo, y_lo], [x_hi, y_hi]]` (default: the surface's own).
    pub bounds: Option<[[f64; 2]; 2]>,
    /// Where the walkers start (default: spread uniformly over the box).
    pub start: Option<[f64; 2]>,
}

impl Default for LandscapeConfig {
    fn default() -> Self {
        Self {
            surface: Surface::default(),
            walkers: 200,
            bounds: None,
            start: None,
        }
    }
}

impl LandscapeConfig {
    /// Checks every value; field paths are relative (`walkers`).
    pub fn validate(&self) -> Result<(), RangeError> {
        check("walkers", self.walkers, limits::WALKERS)?;
        self.surface
            .compile()
            .map_err(super::config::surface_error)?;
        if let Some([lo, hi]) = self.bounds {
            for k in 0..2 {
                let ok = lo[k].is_finite() && hi[k].is_finite() && lo[k] < hi[k];
                if !ok {
                    return Err(RangeError {
                        field: "bounds".into(),
                        value: format!("{:?}", [lo, hi]),
                        allowed: "[[x_lo, y_lo], [x_hi, y_hi]] with lo < hi, finite".into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The box in force.
    pub fn bounds(&self) -> [[f64; 2]; 2] {
        self.bounds.unwrap_or_else(|| self.surface.default_bounds())
    }
}

/// `M` walkers on a surface, as one [`Problem`] whose energy is their total.
#[derive(Clone, Debug)]
pub struct LandscapeProblem {
    surface: Compiled,
    bounds: [[f64; 2]; 2],
    walkers: Vec<[f64; 2]>,
    energies: Vec<f64>,
    total: f64,
    best: Vec<[f64; 2]>,
    next: usize,
    pending: Option<(usize, [f64; 2], f64)>,
    /// The last proposal: walker, from, to, accepted (for drawing moves in slow mode).
    last_move: Option<([f64; 2], [f64; 2], bool)>,
    moves_since_refresh: u32,
    /// Recent positions of walker 0, oldest first.
    trail: VecDeque<[f64; 2]>,
    /// `E` on a grid over the box, for drawing (shared by a run's replicas).
    grid: Arc<EnergyGrid>,
}

impl LandscapeProblem {
    /// Places the walkers (uniformly in the box, or all at `start`), drawing from `rng`.
    pub fn new<R: Rng + ?Sized>(
        config: &LandscapeConfig,
        rng: &mut R,
    ) -> Result<Self, SurfaceError> {
        let surface = config.surface.compile()?;
        let grid = Arc::new(surface.grid(config.bounds(), VIEW_GRID));
        Ok(Self::place(config, surface, grid, rng))
    }

    /// `count` crowds on the surface of `config` (compiled and gridded once), placed one
    /// after the other from `rng`.
    pub fn build<R: Rng + ?Sized>(
        config: &LandscapeConfig,
        count: usize,
        rng: &mut R,
    ) -> Result<Vec<Self>, RangeError> {
        let surface = config
            .surface
            .compile()
            .map_err(super::config::surface_error)?;
        let grid = Arc::new(surface.grid(config.bounds(), VIEW_GRID));
        Ok((0..count)
            .map(|_| Self::place(config, surface.clone(), Arc::clone(&grid), rng))
            .collect())
    }

    fn place<R: Rng + ?Sized>(
        config: &LandscapeConfig,
        surface: Compiled,
        grid: Arc<EnergyGrid>,
        rng: &mut R,
    ) -> Self {
        let bounds = config.bounds();
        let [lo, hi] = bounds;
        let walkers: Vec<[f64; 2]> = (0..config.walkers.max(1))
            .map(|_| {
                config.start.unwrap_or_else(|| {
                    [
                        lo[0] + (hi[0] - lo[0]) * rng.random::<f64>(),
                        lo[1] + (hi[1] - lo[1]) * rng.random::<f64>(),
                    ]
                })
            })
            .collect();
        let energies: Vec<f64> = walkers.iter().map(|w| surface.energy(w[0], w[1])).collect();
        Self {
            total: energies.iter().sum(),
            best: walkers.clone(),
            surface,
            bounds,
            walkers,
            energies,
            next: 0,
            pending: None,
            last_move: None,
            moves_since_refresh: 0,
            trail: VecDeque::with_capacity(TRAIL),
            grid,
        }
    }

    /// Notes walker 0's position after its turn.
    fn note_trail(&mut self, walker: usize) {
        if walker == 0 {
            if self.trail.len() == TRAIL {
                self.trail.pop_front();
            }
            self.trail.push_back(self.walkers[0]);
        }
    }

    /// Walker positions.
    pub fn walkers(&self) -> &[[f64; 2]] {
        &self.walkers
    }

    /// Walker energies.
    pub fn energies(&self) -> &[f64] {
        &self.energies
    }

    /// Number of walkers.
    pub fn len(&self) -> usize {
        self.walkers.len()
    }

    /// Always false: there is at least one walker.
    pub fn is_empty(&self) -> bool {
        self.walkers.is_empty()
    }

    /// The compiled surface.
    pub fn surface(&self) -> &Compiled {
        &self.surface
    }

    /// The box.
    pub fn bounds(&self) -> [[f64; 2]; 2] {
        self.bounds
    }

    /// The last proposal: from, to, and whether it was accepted.
    pub fn last_move(&self) -> Option<([f64; 2], [f64; 2], bool)> {
        self.last_move
    }

    fn inside(&self, p: [f64; 2]) -> bool {
        let [lo, hi] = self.bounds;
        (lo[0]..=hi[0]).contains(&p[0]) && (lo[1]..=hi[1]).contains(&p[1])
    }
}

impl Problem for LandscapeProblem {
    fn energy(&self) -> f64 {
        self.total
    }

    fn propose<R: Rng + ?Sized>(&mut self, kind: ProposalKind, sigma: f64, rng: &mut R) -> f64 {
        let i = self.next;
        self.next = (self.next + 1) % self.walkers.len();
        let mut p = self.walkers[i];
        match kind {
            ProposalKind::All | ProposalKind::Unit => {
                for v in &mut p {
                    let z: f64 = StandardNormal.sample(rng);
                    *v += sigma * z;
                }
            }
            ProposalKind::One => {
                let k = rng.random_range(0..2);
                let z: f64 = StandardNormal.sample(rng);
                p[k] += sigma * z;
            }
        }
        let e = if self.inside(p) {
            self.surface.energy(p[0], p[1])
        } else {
            f64::INFINITY
        };
        self.pending = Some((i, p, e));
        self.last_move = Some((self.walkers[i], p, false));
        // The walker's own change: one walker at a non-finite energy cannot freeze the rest.
        e - self.energies[i]
    }

    fn accept(&mut self) {
        if let Some((i, p, e)) = self.pending.take() {
            self.total += e - self.energies[i];
            self.walkers[i] = p;
            self.energies[i] = e;
            if let Some(m) = &mut self.last_move {
                m.2 = true;
            }
            self.moves_since_refresh += 1;
            // Re-add the total now and then so rounding cannot drift.
            if self.moves_since_refresh >= 1 << 16 {
                self.total = self.energies.iter().sum();
                self.moves_since_refresh = 0;
            }
            self.note_trail(i);
        }
    }

    fn reject(&mut self) {
        if let Some((i, ..)) = self.pending.take() {
            self.note_trail(i);
        }
    }

    fn store_best(&mut self) {
        self.best.copy_from_slice(&self.walkers);
    }

    fn propose_langevin<R: Rng + ?Sized>(
        &mut self,
        eta: f64,
        t: f64,
        rng: &mut R,
    ) -> Option<(f64, f64)> {
        let i = self.next;
        self.next = (self.next + 1) % self.walkers.len();
        let x = self.walkers[i];
        let g = self.surface.gradient(x[0], x[1]);
        let noise = (2.0 * eta * t).sqrt();
        let mut y = x;
        for k in 0..2 {
            let z: f64 = StandardNormal.sample(rng);
            y[k] = x[k] - eta * g[k] + noise * z;
        }
        let e = if self.inside(y) {
            self.surface.energy(y[0], y[1])
        } else {
            f64::INFINITY
        };
        let gy = self.surface.gradient(y[0], y[1]);
        let log_q = super::problem::langevin_log_q(&x, &y, &gy, eta, t)
            - super::problem::langevin_log_q(&y, &x, &g, eta, t);
        self.pending = Some((i, y, e));
        self.last_move = Some((x, y, false));
        Some((e - self.energies[i], log_q))
    }
}

/// What the UI draws of a landscape run.
#[derive(Clone, Debug, PartialEq)]
pub struct LandscapeView {
    /// The surface.
    pub surface: Surface,
    /// `E` on a grid over the box (the same for the whole run).
    pub grid: Arc<EnergyGrid>,
    /// Walker positions.
    pub walkers: Vec<[f64; 2]>,
    /// Walker energies.
    pub energies: Vec<f64>,
    /// Recent positions of walker 0, oldest first.
    pub trail: Vec<[f64; 2]>,
    /// The last proposal: from, to, accepted.
    pub last_move: Option<([f64; 2], [f64; 2], bool)>,
}

/// A landscape run's state for export.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LandscapeState {
    /// The surface.
    pub surface: Surface,
    /// The box, `[[x_lo, y_lo], [x_hi, y_hi]]`.
    pub bounds: [[f64; 2]; 2],
    /// Walker positions.
    pub walkers: Vec<[f64; 2]>,
    /// Walker energies.
    pub energies: Vec<f64>,
    /// Walker positions when their total energy was lowest.
    pub best_walkers: Vec<[f64; 2]>,
}

impl Kind for LandscapeProblem {
    fn observables(&self) -> &'static [Observable] {
        OBSERVABLES
    }

    fn observe(&mut self, chain: &ChainStats, out: &mut [f64]) {
        let n = self.energies.len();
        let mean = self.total / n as f64;
        let t = chain.temperature;
        // The walkers are n samples at one temperature: their spread is the fluctuation.
        // A single walker is a single chain: the engine's windowed estimate.
        let (c, spread) = if n > 1 {
            let var = self
                .energies
                .iter()
                .map(|e| (e - mean).powi(2))
                .sum::<f64>()
                / (n - 1) as f64;
            (var / (t * t), var.sqrt())
        } else {
            (chain.heat_capacity, f64::NAN)
        };
        out.copy_from_slice(&[c, spread]);
    }

    fn particles(&self) -> usize {
        self.walkers.len()
    }

    fn view(&self, request: &ViewRequest) -> ProblemView {
        ProblemView::Landscape(LandscapeView {
            surface: self.surface.surface().clone(),
            grid: Arc::clone(&self.grid),
            walkers: self.walkers.clone(),
            energies: self.energies.clone(),
            trail: if request.replica {
                Vec::new()
            } else {
                self.trail.iter().copied().collect()
            },
            last_move: self.last_move,
        })
    }

    /// AIS of `ln Z(T)` from the uniform distribution on the box, against the quadrature
    /// on the view's grid ([`super::ais::landscape_answer`]).
    fn answer(&self, request: &Request, seed: u64) -> Option<Reply> {
        let energy = |x: f64, y: f64| self.surface.energy(x, y);
        let grid = &self.grid;
        super::ais::landscape_answer(
            request,
            &energy,
            self.bounds,
            &grid.energy,
            grid.cell_area(),
            seed,
        )
    }

    fn samples(&self) -> Option<(&'static str, Vec<Vec<f64>>)> {
        let rows = (self.walkers.iter().zip(&self.energies).enumerate())
            .map(|(i, (w, &e))| vec![i as f64, w[0], w[1], e])
            .collect();
        Some(("walker,x,y,energy", rows))
    }

    fn state(&self) -> ProblemState {
        ProblemState::Landscape(LandscapeState {
            surface: self.surface.surface().clone(),
            bounds: self.bounds,
            walkers: self.walkers.clone(),
            energies: self.energies.clone(),
            best_walkers: self.best.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(s: Surface) -> Compiled {
        s.compile().expect("compiles")
    }

    /// Newton-free local minimisation by gradient descent with backtracking.
    fn descend(c: &Compiled, mut p: [f64; 2]) -> [f64; 2] {
        let mut step = 1e-3;
        for _ in 0..200_000 {
            let g = c.gradient(p[0], p[1]);
            let q = [p[0] - step * g[0], p[1] - step * g[1]];
            if c.energy(q[0], q[1]) < c.energy(p[0], p[1]) {
                p = q;
                step *= 1.2;
            } else {
                step *= 0.5;
                if step < 1e-16 {
                    break;
                }
            }
        }
        p
    }

    #[test]
    fn himmelblau_has_its_four_published_minima() {
        let c = compiled(Surface::Himmelblau);
        for m in [
            [3.0, 2.0],
            [-2.805118, 3.131312],
            [-3.779310, -3.283186],
            [3.584428, -1.848126],
        ] {
            assert!(c.energy(m[0], m[1]).abs() < 1e-4, "{m:?}");
            let found = descend(&c, m);
            assert!(
                (found[0] - m[0]).abs() < 1e-4 && (found[1] - m[1]).abs() < 1e-4,
                "{m:?} -> {found:?}"
            );
        }
        assert_eq!(c.energy(3.0, 2.0), 0.0);
    }

    #[test]
    fn muller_brown_has_its_published_minima() {
        let c = compiled(Surface::MullerBrown);
        for (m, e) in [
            ([-0.558, 1.442], -146.70),
            ([0.623, 0.028], -108.17),
            ([-0.050, 0.467], -80.77),
        ] {
            let found = descend(&c, m);
            // Published to three decimals in position and two in energy.
            assert!(
                (found[0] - m[0]).abs() < 1e-3 && (found[1] - m[1]).abs() < 1e-3,
                "{m:?} -> {found:?}"
            );
            assert!((c.energy(found[0], found[1]) - e).abs() < 1e-2, "{m:?}");
        }
    }

    #[test]
    fn rastrigin_and_ackley_are_zero_at_the_origin_and_above_elsewhere() {
        for s in [Surface::Rastrigin, Surface::Ackley] {
            let c = compiled(s.clone());
            assert!(c.energy(0.0, 0.0).abs() < 1e-12, "{s:?}");
            for (x, y) in [(0.5, 0.0), (1.0, 1.0), (-2.0, 0.3), (0.01, -0.01)] {
                assert!(c.energy(x, y) > 1e-4, "{s:?} at {x},{y}");
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let h = 1e-6;
        for s in Surface::builtins() {
            let c = compiled(s.clone());
            for (x, y) in [(0.3, -0.7), (-1.1, 0.9), (0.05, 1.3), (0.7, 0.2)] {
                let g = c.gradient(x, y);
                let fd = [
                    (c.energy(x + h, y) - c.energy(x - h, y)) / (2.0 * h),
                    (c.energy(x, y + h) - c.energy(x, y - h)) / (2.0 * h),
                ];
                for k in 0..2 {
                    assert!(
                        (g[k] - fd[k]).abs() < 1e-5 * (1.0 + fd[k].abs()),
                        "{s:?} at {x},{y}: {g:?} vs {fd:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn formulas_evaluate_and_bad_ones_are_refused() {
        let c = compiled(Surface::Formula("x^2 + 3*sin(y)".into()));
        assert!((c.energy(2.0, 0.5) - (4.0 + 3.0 * 0.5f64.sin())).abs() < 1e-12);
        let only_y = compiled(Surface::Formula("y*y".into()));
        assert_eq!(only_y.energy(5.0, 3.0), 9.0);
        let e = Surface::Formula("x + z".into()).compile().expect_err("z");
        assert!(e.to_string().contains("unknown variable `z`"));
        assert!(Surface::Formula("x +* (".into()).compile().is_err());
    }

    #[test]
    fn harmonic_bowl_quadrature_matches_the_exact_gaussian() {
        let c = compiled(Surface::Harmonic);
        let grid = c.grid([[-12.0, -12.0], [12.0, 12.0]], 400);
        for t in [0.5, 1.0, 2.0] {
            let th = grid.thermo(t);
            let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
            assert!(rel(th.z, 2.0 * PI * t) < 1e-3, "Z at {t}: {}", th.z);
            assert!(rel(th.mean_energy, t) < 1e-3, "<E> at {t}");
            assert!(rel(th.heat_capacity, 1.0) < 1e-3, "C at {t}");
            assert!((th.free_energy - (-t * (2.0 * PI * t).ln())).abs() < 1e-3);
            // S = (U - F)/T = 1 + ln(2 pi T).
            assert!((th.entropy - (1.0 + (2.0 * PI * t).ln())).abs() < 1e-3);
        }
    }
}
