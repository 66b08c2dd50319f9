//! The travelling salesman's view: the cities with the current tour (solid) and the best
//! tour so far (dashed, in another colour), the tour length and the best length against
//! the step with the known optimum as a line (or, for random cities, the
//! Beardwood-Halton-Hammersley estimate, dashed), and the gap in percent; and the tour's
//! controls (city set, number of cities, move mix, first tour).

use super::kinds::ViewCtx;
use super::pane::RunPane;
use super::plots::series;
use crate::sim::tsp::{Cities, MoveMix, Start, TspConfig, TspView, limits};
use crate::sim::{History, Metric};
use egui::{Color32, RichText, Slider, SliderClamping, Ui};
use egui_plot::{HLine, HoverPosition, Legend, Line, LineStyle, Plot, PlotPoints, Points};

/// Colour of the current tour.
const CURRENT: Color32 = Color32::from_rgb(80, 140, 230);
/// Colour of the best tour (drawn dashed over the current one).
const BEST: Color32 = Color32::from_rgb(255, 170, 40);
/// Colour of the known optimum and of the estimate.
const REFERENCE: Color32 = Color32::from_rgb(150, 150, 150);

/// What the tour view remembers between frames.
pub struct TspUi {
    /// Draw the current tour.
    show_current: bool,
    /// Draw the best tour.
    show_best: bool,
}

impl Default for TspUi {
    fn default() -> Self {
        Self {
            show_current: true,
            show_best: true,
        }
    }
}

/// The closed polyline of `tour` through `cities` (back to the first city).
pub fn closed_path(cities: &[[f64; 2]], tour: &[usize]) -> Vec<[f64; 2]> {
    tour.iter()
        .chain(tour.first())
        .filter_map(|&c| cities.get(c).copied())
        .collect()
}

/// City markers shrink as the cities get denser, so a tour stays readable.
pub fn city_radius(n: usize) -> f32 {
    (12.0 / (n.max(1) as f32).sqrt() * 4.0).clamp(2.0, 5.0)
}

/// A length for people: as many decimals as its size needs.
fn length_text(x: f64) -> String {
    if !x.is_finite() {
        "-".into()
    } else if x.abs() >= 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.4}")
    }
}

/// An axis label: three significant digits.
fn axis_text(x: f64) -> String {
    if x >= 1000.0 {
        format!("{x:.0}")
    } else {
        let decimals = (2 - x.abs().max(1e-300).log10().floor() as i32).clamp(0, 9) as usize;
        format!("{x:.decimals$}")
    }
}

/// The readout line: length, best, the reference and the gaps.
fn readout(v: &TspView) -> String {
    let mut text = format!(
        "length {}   best {}",
        length_text(v.length),
        length_text(v.best_length)
    );
    match (v.known_optimum, v.bhh_estimate) {
        (Some(opt), _) => {
            let opt = if v.tsplib {
                format!("{opt:.0} (TSPLIB: edges rounded)")
            } else {
                length_text(opt)
            };
            text.push_str(&format!(
                "   optimum {opt}   gap {:.2}%   best gap {:.2}%",
                v.gaps[0], v.gaps[1]
            ));
        }
        (None, Some(bhh)) => text.push_str(&format!(
            "   optimum unknown (estimate for n -> inf: {})",
            length_text(bhh)
        )),
        (None, None) => text.push_str("   optimum unknown"),
    }
    text
}

/// One run's cities and tours, and its tour length against the step.
pub fn view_ui(
    ui: &mut Ui,
    pane: &RunPane,
    state: &mut TspUi,
    v: &TspView,
    _ctx: &mut ViewCtx<'_, '_>,
) {
    let label = match &pane.config.problem {
        crate::sim::ProblemConfig::Tsp(c) => c.cities.label(),
        _ => format!("{} cities", v.cities.len()),
    };
    ui.strong(format!("{label} at T = {:.3e}", pane.temperature()));
    ui.label(RichText::new(readout(v)).monospace());
    ui.horizontal(|ui| {
        ui.checkbox(
            &mut state.show_current,
            RichText::new("current tour (solid)")
                .color(CURRENT)
                .strong(),
        )
        .on_hover_text("The tour the annealer is at now: it jitters while T is high");
        ui.checkbox(
            &mut state.show_best,
            RichText::new("best tour (dashed)").color(BEST).strong(),
        )
        .on_hover_text("The shortest tour seen so far");
    });
    let width = ui.available_width();
    let side = width.min(ui.available_height() * 0.68).max(80.0);
    let ink = ui.visuals().strong_text_color();
    Plot::new(format!("tour-{}", pane.side.letter()))
        .data_aspect(1.0)
        .width(width)
        .height(side)
        .show_grid(false)
        .show(ui, |p| {
            if state.show_current {
                p.line(
                    Line::new(
                        "current tour",
                        PlotPoints::from(closed_path(&v.cities, &v.tour)),
                    )
                    .color(CURRENT)
                    .width(2.5),
                );
            }
            if state.show_best && !v.best_tour.is_empty() {
                p.line(
                    Line::new(
                        "best tour",
                        PlotPoints::from(closed_path(&v.cities, &v.best_tour)),
                    )
                    .color(BEST)
                    .width(2.0)
                    .style(LineStyle::Dashed { length: 8.0 }),
                );
            }
            p.points(
                Points::new("cities", v.cities.to_vec())
                    .radius(city_radius(v.cities.len()))
                    .color(ink),
            );
        });
    let height = (ui.available_height() - 4.0).max(60.0);
    length_plot(ui, pane, v, &pane.history, width, height);
}

/// Tour length and best length against the step (log axis), with the known optimum as a
/// line, or the BHH estimate dashed.
fn length_plot(ui: &mut Ui, pane: &RunPane, v: &TspView, history: &History, w: f32, h: f32) {
    let last = pane.step().max(1) as f64;
    let columns = (w.max(100.0) as usize).min(1000);
    let current = series(history, Metric::ENERGY, 0.0, last, columns, true);
    let best = series(history, Metric::BEST_ENERGY, 0.0, last, columns, true);
    Plot::new(format!("tour-length-{}", pane.side.letter()))
        .width(w)
        .height(h)
        .legend(Legend::default())
        .y_axis_formatter(|m, _| axis_text(10f64.powf(m.value)))
        .label_formatter(|pos| {
            let (name, p) = match pos {
                HoverPosition::NearDataPoint {
                    plot_name,
                    position,
                    ..
                } => (*plot_name, position),
                HoverPosition::Elsewhere { position } => ("", position),
            };
            let sep = if name.is_empty() { "" } else { "\n" };
            Some(format!(
                "{name}{sep}step {:.0}\nlength {}",
                p.x,
                length_text(10f64.powf(p.y))
            ))
        })
        .y_axis_min_width(48.0)
        .show(ui, |p| {
            p.line(
                Line::new("tour length", PlotPoints::from(current))
                    .color(CURRENT)
                    .width(1.5),
            );
            p.line(
                Line::new("best length", PlotPoints::from(best))
                    .color(BEST)
                    .width(2.0),
            );
            match (v.known_optimum, v.bhh_estimate) {
                (Some(opt), _) if opt > 0.0 => {
                    let name = if v.tsplib {
                        format!("optimum {opt:.0} (TSPLIB)")
                    } else {
                        format!("optimum {}", length_text(opt))
                    };
                    p.hline(HLine::new(name, opt.log10()).color(REFERENCE).width(2.0));
                }
                (None, Some(bhh)) if bhh > 0.0 => {
                    p.hline(
                        HLine::new(
                            format!("estimate for n -> inf: {}", length_text(bhh)),
                            bhh.log10(),
                        )
                        .color(REFERENCE)
                        .style(LineStyle::dashed_loose()),
                    );
                }
                _ => {}
            }
        });
}

/// The kinds of city set, in menu order, with their names.
fn city_sets(current: &Cities) -> Vec<(&'static str, Cities)> {
    let n = match current {
        Cities::Grid { .. } | Cities::Berlin52 | Cities::List(_) => 100,
        other => other.n(),
    };
    let seed = match current {
        Cities::Uniform { seed, .. } | Cities::Clustered { seed, .. } => *seed,
        _ => 1,
    };
    let mut sets = vec![
        ("Random (uniform)", Cities::Uniform { n, seed }),
        (
            "Clustered",
            Cities::Clustered {
                n,
                clusters: 6.min(n),
                seed,
            },
        ),
        ("Circle (optimum known)", Cities::Circle { n }),
        ("Grid (optimum known)", Cities::Grid { side: 8 }),
        ("berlin52 (TSPLIB, optimum 7542)", Cities::Berlin52),
    ];
    if let Cities::List(_) = current {
        sets.push(("Listed in the preset", current.clone()));
    }
    sets
}

/// Which entry of [`city_sets`] `c` is.
fn same_set(a: &Cities, b: &Cities) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

const TIP_SETS: &str = "Which cities to visit. On a circle and on a grid the optimal tour is known (the polygon, a serpentine), and so is berlin52's (7542, proven); for random cities it is not. Changing it restarts the run.";
const TIP_MIX: &str = "Relative weights of the moves: 2-opt reverses a stretch of the tour (replacing two edges), swap exchanges two cities (four edges), or-opt moves 1-3 cities elsewhere. Each is drawn symmetrically, so Metropolis samples exp(-L/T) whatever the mix; 2-opt is the move that untangles crossings.";

/// The tour's settings. True when anything changed.
pub fn controls_ui(ui: &mut Ui, c: &mut TspConfig) -> bool {
    let mut changed = false;
    ui.separator();
    ui.heading("Cities");
    let sets = city_sets(&c.cities);
    let selected = sets
        .iter()
        .find(|(_, s)| same_set(s, &c.cities))
        .map_or("?", |(name, _)| *name);
    egui::ComboBox::from_label("City set")
        .selected_text(selected)
        .show_ui(ui, |ui| {
            for (name, set) in sets {
                let on = same_set(&set, &c.cities);
                if ui.selectable_label(on, name).clicked() && !on {
                    c.cities = set;
                    changed = true;
                }
            }
        })
        .response
        .on_hover_text(TIP_SETS);
    let slider_n = |ui: &mut Ui, n: &mut usize| {
        ui.add(
            Slider::new(n, limits::N)
                .clamping(SliderClamping::Never)
                .logarithmic(true)
                .text("Cities"),
        )
        .on_hover_text("Number of cities. Changing it restarts the run.")
        .changed()
    };
    match &mut c.cities {
        Cities::Uniform { n, seed } => {
            changed |= slider_n(ui, n);
            changed |= ui
                .add(egui::DragValue::new(seed).prefix("City seed: "))
                .on_hover_text("Seeds the positions of the cities (the run's seed draws the first tour and the moves)")
                .changed();
        }
        Cities::Clustered { n, clusters, seed } => {
            changed |= slider_n(ui, n);
            changed |= ui
                .add(
                    Slider::new(clusters, limits::CLUSTERS)
                        .clamping(SliderClamping::Never)
                        .logarithmic(true)
                        .text("Clusters"),
                )
                .changed();
            changed |= ui
                .add(egui::DragValue::new(seed).prefix("City seed: "))
                .changed();
        }
        Cities::Circle { n } => changed |= slider_n(ui, n),
        Cities::Grid { side } => {
            changed |= ui
                .add(
                    Slider::new(side, limits::SIDE)
                        .clamping(SliderClamping::Never)
                        .text("Grid side"),
                )
                .on_hover_text("side x side cities; the optimum is side^2 h for even sides, (side^2 - 1 + sqrt 2) h for odd ones")
                .changed();
        }
        Cities::Berlin52 | Cities::List(_) => {}
    }
    ui.label("Move mix (relative weights)")
        .on_hover_text(TIP_MIX);
    let MoveMix {
        two_opt,
        swap,
        or_opt,
    } = &mut c.moves;
    for (w, name) in [(two_opt, "2-opt"), (swap, "swap"), (or_opt, "or-opt")] {
        changed |= ui
            .add(
                Slider::new(w, 0.0..=1.0)
                    .clamping(SliderClamping::Never)
                    .text(name),
            )
            .on_hover_text(TIP_MIX)
            .changed();
    }
    let mut given = c.start == Start::Given;
    if ui
        .checkbox(&mut given, "Start from the listed order")
        .on_hover_text("Else the first tour is a random permutation. On the circle the listed order is already optimal.")
        .changed()
    {
        c.start = if given { Start::Given } else { Start::Random };
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_is_closed_and_skips_nothing() {
        let cities = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]];
        let path = closed_path(&cities, &[2, 0, 1]);
        assert_eq!(path, vec![[1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]);
        assert!(closed_path(&cities, &[]).is_empty());
    }

    #[test]
    fn axis_labels_have_three_significant_digits() {
        assert_eq!(axis_text(7.1234), "7.12");
        assert_eq!(axis_text(10.0), "10.0");
        assert_eq!(axis_text(52.31), "52.3");
        assert_eq!(axis_text(0.0123), "0.0123");
        assert_eq!(axis_text(7544.37), "7544");
    }

    #[test]
    fn every_city_set_is_offered_and_valid() {
        for current in [
            Cities::default(),
            Cities::Berlin52,
            Cities::Grid { side: 3 },
            Cities::List(vec![[0.0, 0.0]; 5]),
        ] {
            let sets = city_sets(&current);
            assert!(sets.iter().any(|(_, s)| same_set(s, &current)));
            for (name, s) in sets {
                assert_eq!(s.validate(), Ok(()), "{name}");
            }
        }
    }
}
