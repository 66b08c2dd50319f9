//! The palette shared by the app and the headless figures.

/// Class colours: blue for class 0, orange for class 1 (distinguishable with the common
/// forms of colour blindness).
pub const CLASS: [[u8; 3]; 2] = [[33, 102, 172], [230, 97, 1]];

/// Colour of misclassified-point markers.
pub const WRONG: [u8; 3] = [220, 0, 0];

/// Colour of the 0.5 contour.
pub const CONTOUR: [u8; 3] = [20, 20, 20];

fn lerp(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let f = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    [f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2])]
}

/// Diverging palette for the class-1 probability: class-0 blue through a light neutral
/// at `p = 0.5` to class-1 orange.
pub fn probability(p: f32) -> [u8; 3] {
    const LO: [u8; 3] = [103, 169, 207];
    const MID: [u8; 3] = [245, 245, 245];
    const HI: [u8; 3] = [244, 165, 130];
    if p < 0.5 {
        lerp(LO, MID, p * 2.0)
    } else {
        lerp(MID, HI, (p - 0.5) * 2.0)
    }
}

/// The decision grid as RGB rows, top row = highest `y`, with the 0.5 contour drawn where
/// the predicted class changes between neighbouring cells.
pub fn grid_pixels(p: &ndarray::Array2<f32>) -> Vec<[u8; 3]> {
    let (rows, cols) = p.dim();
    let mut pixels = Vec::with_capacity(rows * cols);
    for r in (0..rows).rev() {
        for c in 0..cols {
            let class = p[[r, c]] >= 0.5;
            let edge = (c + 1 < cols && (p[[r, c + 1]] >= 0.5) != class)
                || (r + 1 < rows && (p[[r + 1, c]] >= 0.5) != class);
            pixels.push(if edge {
                CONTOUR
            } else {
                probability(p[[r, c]])
            });
        }
    }
    pixels
}

/// Colour of walkers drawn on a landscape.
pub const WALKER: [u8; 3] = [255, 255, 255];

/// Sequential palette for energies scaled to `[0, 1]`: dark blue (low) through teal to
/// pale yellow (high).
pub fn energy(t: f32) -> [u8; 3] {
    const STOPS: [[u8; 3]; 4] = [
        [33, 17, 80],
        [33, 110, 140],
        [90, 190, 120],
        [250, 240, 170],
    ];
    let t = t.clamp(0.0, 1.0) * 3.0;
    let i = (t.floor() as usize).min(2);
    lerp(STOPS[i], STOPS[i + 1], t - i as f32)
}

/// Contour levels drawn on energy maps.
pub const LEVELS: f64 = 12.0;

/// Energies on a `g x g` grid (rows from low `y` up) as RGB rows, top row = highest `y`,
/// with contour lines between [`LEVELS`] equal steps of the colour scale. With `log`, the
/// scale is `ln(1 + E - E_min)`, so deep basins and high ridges both stay visible;
/// otherwise it is linear in `E`.
pub fn energy_pixels(e: &[f64], g: usize, log: bool) -> Vec<[u8; 3]> {
    let lo = e
        .iter()
        .cloned()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let scaled: Vec<f64> = e
        .iter()
        .map(|v| {
            let d = (v - lo).max(0.0);
            if log { d.ln_1p() } else { d }
        })
        .collect();
    let hi = scaled
        .iter()
        .cloned()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
        .max(1e-12);
    let level = |i: usize| ((scaled[i] / hi).min(1.0) * LEVELS).floor();
    let mut out = Vec::with_capacity(g * g);
    for r in (0..g).rev() {
        for c in 0..g {
            let i = r * g + c;
            let edge =
                (c + 1 < g && level(i + 1) != level(i)) || (r + 1 < g && level(i + g) != level(i));
            let color = energy((scaled[i] / hi) as f32);
            out.push(if edge {
                color.map(|v| (f32::from(v) * 0.55) as u8)
            } else {
                color
            });
        }
    }
    out
}
