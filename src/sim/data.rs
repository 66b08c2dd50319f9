//! Two-dimensional, two-class data sets: toy problems drawn from a seed, or one's own
//! points.
//!
//! Every generator first draws the clean points and labels them by its definition (one's
//! own points are taken as given), then adds isotropic Gaussian jitter of standard
//! deviation `noise` to the coordinates, then shuffles and holds out the last
//! `test_fraction` of the points as a test set.

use super::config::{RangeError, check, limits};
use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// One's own labelled point: `(x, y, label)`, the label 0 or 1.
pub type Point = (f32, f32, u8);

/// Which toy problem to draw, or one's own points.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum DataKind {
    /// `x ~ N(0, I)`, label 1 when `x0 * x1 > 0`: the "XOR quadrants" of the reference task.
    #[default]
    Quadrants,
    /// Two concentric circles: class 0 on radius 1, class 1 on radius 0.5.
    Circles,
    /// Two interleaved half circles (as in scikit-learn's `make_moons`).
    Moons,
    /// Two interleaved spiral arms, one per class, each turning 1.75 times.
    Spirals,
    /// Two Gaussian blobs of unit spread centred at (-1.5, -1.5) (class 0) and (1.5, 1.5).
    Blobs,
    /// One's own points, `(x, y, label)` (loaded from a CSV file or clicked in), kept in
    /// the preset; `samples` is then unused. At most [`limits::POINTS`] points, each with
    /// `|x|, |y| <= `[`limits::COORDINATE`].
    ///
    /// [`limits::POINTS`]: super::config::limits::POINTS
    /// [`limits::COORDINATE`]: super::config::limits::COORDINATE
    Points(Vec<Point>),
}

impl DataKind {
    /// The generated kinds, in menu order.
    pub const ALL: [DataKind; 5] = [
        DataKind::Quadrants,
        DataKind::Circles,
        DataKind::Moons,
        DataKind::Spirals,
        DataKind::Blobs,
    ];

    /// A human-readable name.
    pub fn label(&self) -> &'static str {
        match self {
            DataKind::Quadrants => "XOR quadrants",
            DataKind::Circles => "Concentric circles",
            DataKind::Moons => "Two moons",
            DataKind::Spirals => "Two spirals",
            DataKind::Blobs => "Gaussian blobs",
            DataKind::Points(_) => "Your points",
        }
    }

    /// Checks one's own points against [`limits::POINTS`] and [`limits::COORDINATE`];
    /// field paths are relative (`kind.Points[3]`). Generated kinds are always valid.
    ///
    /// [`limits::POINTS`]: super::config::limits::POINTS
    /// [`limits::COORDINATE`]: super::config::limits::COORDINATE
    pub fn validate(&self) -> Result<(), RangeError> {
        let DataKind::Points(points) = self else {
            return Ok(());
        };
        check("kind.Points", points.len(), limits::POINTS).map_err(|e| RangeError {
            value: format!("{} points", e.value),
            allowed: format!("{} points", e.allowed),
            ..e
        })?;
        for (i, &(x, y, label)) in points.iter().enumerate() {
            let c = limits::COORDINATE;
            if !(x.abs() <= c && y.abs() <= c && label <= 1) {
                return Err(RangeError {
                    field: format!("kind.Points[{i}]"),
                    value: format!("({x}, {y}, {label})"),
                    allowed: format!("(x, y, label) with |x|, |y| <= {c:e} and label 0 or 1"),
                });
            }
        }
        Ok(())
    }
}

/// Everything that defines a data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// The generator.
    pub kind: DataKind,
    /// Total number of points, train and test together.
    pub samples: usize,
    /// Standard deviation of the Gaussian jitter added to every coordinate.
    pub noise: f64,
    /// Fraction of the points held out for testing.
    pub test_fraction: f64,
    /// Seed of the generator (independent of the annealer's seed).
    pub seed: u64,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            kind: DataKind::Quadrants,
            samples: 100,
            noise: 0.0,
            test_fraction: 0.0,
            seed: 42,
        }
    }
}

/// Labelled points: `x` has one row per point and two columns; `y` holds 0 or 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Samples {
    /// Coordinates, shape `(n, 2)`.
    pub x: Array2<f32>,
    /// Class labels, 0 or 1.
    pub y: Array1<u8>,
}

impl Samples {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    fn from_points(points: &[([f64; 2], u8)]) -> Self {
        let mut x = Array2::zeros((points.len(), 2));
        for (row, (p, _)) in x.rows_mut().into_iter().zip(points) {
            let mut row = row;
            row[0] = p[0] as f32;
            row[1] = p[1] as f32;
        }
        Self {
            x,
            y: points.iter().map(|(_, label)| *label).collect(),
        }
    }
}

/// A data set split into training and test points.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// The points the energy is computed on.
    pub train: Samples,
    /// Held-out points, used only to report test accuracy.
    pub test: Samples,
}

impl Dataset {
    /// Draws the data set `config` describes. Deterministic in `config`.
    pub fn generate(config: &DataConfig) -> Self {
        let mut rng = Pcg64Mcg::seed_from_u64(config.seed);
        let mut points: Vec<([f64; 2], u8)> = match &config.kind {
            DataKind::Points(own) => own
                .iter()
                .map(|&(x, y, label)| ([f64::from(x), f64::from(y)], label))
                .collect(),
            kind => (0..config.samples)
                .map(|i| clean_point(kind, i, &mut rng))
                .collect(),
        };
        let n = points.len();
        if config.noise > 0.0 {
            for (p, _) in &mut points {
                p[0] += config.noise * normal(&mut rng);
                p[1] += config.noise * normal(&mut rng);
            }
        }
        // Fisher-Yates, so the split does not depend on generation order.
        for i in (1..points.len()).rev() {
            points.swap(i, rng.random_range(0..=i));
        }
        let n_test = ((n as f64) * config.test_fraction).floor() as usize;
        let (train, test) = points.split_at(n - n_test.min(n));
        Self {
            train: Samples::from_points(train),
            test: Samples::from_points(test),
        }
    }

    /// The smallest axis-aligned box holding every point, widened by 10% on each side.
    pub fn bounds(&self) -> [[f32; 2]; 2] {
        let mut lo = [f32::INFINITY; 2];
        let mut hi = [f32::NEG_INFINITY; 2];
        for s in [&self.train, &self.test] {
            for row in s.x.rows() {
                for k in 0..2 {
                    lo[k] = lo[k].min(row[k]);
                    hi[k] = hi[k].max(row[k]);
                }
            }
        }
        if !lo[0].is_finite() {
            return [[-1.0, -1.0], [1.0, 1.0]];
        }
        for k in 0..2 {
            let pad = ((hi[k] - lo[k]) * 0.1).max(0.1);
            lo[k] -= pad;
            hi[k] += pad;
        }
        [lo, hi]
    }
}

fn normal(rng: &mut Pcg64Mcg) -> f64 {
    StandardNormal.sample(rng)
}

/// Point `i` before jitter, with its label.
fn clean_point(kind: &DataKind, i: usize, rng: &mut Pcg64Mcg) -> ([f64; 2], u8) {
    match kind {
        DataKind::Quadrants => {
            let p = [normal(rng), normal(rng)];
            (p, u8::from(p[0] * p[1] > 0.0))
        }
        DataKind::Circles => {
            let label = (i % 2) as u8;
            let r = if label == 1 { 0.5 } else { 1.0 };
            let a = rng.random_range(0.0..2.0 * PI);
            ([r * a.cos(), r * a.sin()], label)
        }
        DataKind::Moons => {
            let label = (i % 2) as u8;
            let a = rng.random_range(0.0..PI);
            let p = if label == 0 {
                [a.cos(), a.sin()]
            } else {
                [1.0 - a.cos(), 0.5 - a.sin()]
            };
            (p, label)
        }
        DataKind::Spirals => {
            let label = (i % 2) as u8;
            // Radius grows with the angle; the second arm is the first turned by pi.
            let t = rng.random_range(0.0..1.0f64).sqrt();
            let angle = t * 3.5 * PI + f64::from(label) * PI;
            let r = 2.0 * t;
            ([r * angle.cos(), r * angle.sin()], label)
        }
        DataKind::Blobs => {
            let label = (i % 2) as u8;
            let c = if label == 1 { 1.5 } else { -1.5 };
            ([c + normal(rng), c + normal(rng)], label)
        }
        // Taken as given by `Dataset::generate`.
        DataKind::Points(own) => own.get(i).map_or(([0.0, 0.0], 0), |&(x, y, label)| {
            ([f64::from(x), f64::from(y)], label)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(kind: DataKind) -> Dataset {
        Dataset::generate(&DataConfig {
            kind,
            samples: 400,
            noise: 0.0,
            test_fraction: 0.25,
            seed: 7,
        })
    }

    fn points(d: &Dataset) -> impl Iterator<Item = ([f64; 2], u8)> + '_ {
        [&d.train, &d.test].into_iter().flat_map(|s| {
            s.x.rows()
                .into_iter()
                .zip(s.y.iter())
                .map(|(r, &y)| ([f64::from(r[0]), f64::from(r[1])], y))
                .collect::<Vec<_>>()
        })
    }

    #[test]
    fn split_sizes_follow_test_fraction() {
        let d = clean(DataKind::Quadrants);
        assert_eq!(d.train.len(), 300);
        assert_eq!(d.test.len(), 100);
    }

    #[test]
    fn quadrant_labels_follow_the_sign_of_the_product() {
        let d = clean(DataKind::Quadrants);
        for (p, y) in points(&d) {
            assert_eq!(y, u8::from(p[0] * p[1] > 0.0), "{p:?}");
        }
        let ones = points(&d).filter(|(_, y)| *y == 1).count();
        assert!((150..250).contains(&ones), "balanced classes, got {ones}");
    }

    #[test]
    fn circle_labels_follow_the_radius() {
        for (p, y) in points(&clean(DataKind::Circles)) {
            let r = p[0].hypot(p[1]);
            let expected = if y == 1 { 0.5 } else { 1.0 };
            assert!((r - expected).abs() < 1e-6, "{p:?} {y}");
        }
    }

    #[test]
    fn moon_labels_follow_their_arcs() {
        for (p, y) in points(&clean(DataKind::Moons)) {
            let (cx, cy) = if y == 0 { (0.0, 0.0) } else { (1.0, 0.5) };
            assert!(((p[0] - cx).hypot(p[1] - cy) - 1.0).abs() < 1e-6);
            assert!(if y == 0 {
                p[1] >= -1e-6
            } else {
                p[1] <= 0.5 + 1e-6
            });
        }
    }

    #[test]
    fn spiral_arms_are_point_reflections_of_each_other() {
        for (p, y) in points(&clean(DataKind::Spirals)) {
            let r = p[0].hypot(p[1]);
            let t = r / 2.0;
            let angle = t * 3.5 * PI + f64::from(y) * PI;
            assert!((p[0] - r * angle.cos()).abs() < 1e-6 && (p[1] - r * angle.sin()).abs() < 1e-6);
        }
    }

    #[test]
    fn blob_labels_match_the_nearer_centre_mostly() {
        let d = clean(DataKind::Blobs);
        let nearer = points(&d)
            .filter(|(p, y)| u8::from(p[0] + p[1] > 0.0) == *y)
            .count();
        // Centres 3*sqrt(2) apart with unit spread: about 98.3% lie on their side.
        assert!(nearer > 380, "{nearer} of 400");
    }

    #[test]
    fn generation_is_deterministic_in_the_seed() {
        let cfg = DataConfig {
            noise: 0.1,
            ..DataConfig::default()
        };
        assert_eq!(Dataset::generate(&cfg), Dataset::generate(&cfg));
        let other = DataConfig {
            seed: 43,
            ..cfg.clone()
        };
        assert_ne!(Dataset::generate(&cfg), Dataset::generate(&other));
    }

    #[test]
    fn own_points_are_split_as_given_and_deterministically() {
        let own: Vec<Point> = (0..40)
            .map(|i| (i as f32, -(i as f32), (i % 2) as u8))
            .collect();
        let cfg = DataConfig {
            kind: DataKind::Points(own.clone()),
            samples: 4,
            test_fraction: 0.25,
            ..DataConfig::default()
        };
        let d = Dataset::generate(&cfg);
        assert_eq!((d.train.len(), d.test.len()), (30, 10));
        let mut got: Vec<Point> = points(&d)
            .map(|(p, y)| (p[0] as f32, p[1] as f32, y))
            .collect();
        got.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(got, own, "every point once, unchanged, with its label");
        assert_eq!(d, Dataset::generate(&cfg));
        let reshuffled = Dataset::generate(&DataConfig { seed: 1, ..cfg });
        assert_ne!(d.test, reshuffled.test, "the seed decides the split");
    }

    #[test]
    fn own_points_are_validated_with_their_index() {
        let bad = DataKind::Points(vec![(0.0, 0.0, 0), (1.0, 1.0, 2)]);
        let e = bad.validate().expect_err("label 2");
        assert_eq!(e.field, "kind.Points[1]");
        assert_eq!(e.value, "(1, 1, 2)");
        let e = DataKind::Points(vec![(f32::NAN, 0.0, 1)])
            .validate()
            .expect_err("NaN");
        assert_eq!(e.field, "kind.Points[0]");
        let e = DataKind::Points(vec![(0.0, 2e6, 1)])
            .validate()
            .expect_err("far");
        assert_eq!(e.field, "kind.Points[0]");
        let e = DataKind::Points(Vec::new()).validate().expect_err("empty");
        assert_eq!(
            (e.field.as_str(), e.value.as_str()),
            ("kind.Points", "0 points")
        );
        let many = DataKind::Points(vec![(0.0, 0.0, 0); 10_001]);
        assert_eq!(many.validate().expect_err("too many").value, "10001 points");
        assert_eq!(
            DataKind::Points(vec![(0.0, 0.0, 0); 10_000]).validate(),
            Ok(())
        );
    }
}
