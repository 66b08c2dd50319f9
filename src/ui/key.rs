//! Keys that name what a plot shows, drawn beside it rather than over it: a line sample
//! (solid or dashed) or a marker (circle, square, cross, ring; filled or hollow) and its
//! name. Shape as well as colour, so that no distinction rests on colour alone.

use egui::{Color32, Stroke, Ui, pos2, vec2};

/// A marker's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// A disc or circle.
    Circle,
    /// A square.
    Square,
    /// An x.
    Cross,
    /// A wide ring.
    Ring,
}

/// A line sample and its name.
pub fn line(ui: &mut Ui, name: &str, color: Color32, dashed: bool) {
    let (rect, _) = ui.allocate_exact_size(vec2(22.0, 10.0), egui::Sense::hover());
    let y = rect.center().y;
    let stroke = Stroke::new(2.0, color);
    if dashed {
        for k in 0..3 {
            let x = rect.left() + 8.0 * k as f32;
            ui.painter()
                .line_segment([pos2(x, y), pos2(x + 4.0, y)], stroke);
        }
    } else {
        ui.painter()
            .line_segment([rect.left_center(), rect.right_center()], stroke);
    }
    ui.label(name);
}

/// A marker and its name.
pub fn marker(ui: &mut Ui, name: &str, mark: Mark, filled: bool, color: Color32) {
    let (rect, _) = ui.allocate_exact_size(vec2(14.0, 14.0), egui::Sense::hover());
    let c = rect.center();
    let p = ui.painter();
    let stroke = Stroke::new(1.5, color);
    match mark {
        Mark::Circle if filled => {
            p.circle_filled(c, 4.5, color);
        }
        Mark::Circle => {
            p.circle_stroke(c, 4.5, stroke);
        }
        Mark::Ring => {
            p.circle_stroke(c, 6.0, Stroke::new(2.0, color));
        }
        Mark::Square => {
            let r = egui::Rect::from_center_size(c, vec2(8.0, 8.0));
            if filled {
                p.rect_filled(r, 0.0, color);
            } else {
                p.rect_stroke(r, 0.0, stroke, egui::StrokeKind::Inside);
            }
        }
        Mark::Cross => {
            p.line_segment([c + vec2(-4.0, -4.0), c + vec2(4.0, 4.0)], stroke);
            p.line_segment([c + vec2(-4.0, 4.0), c + vec2(4.0, -4.0)], stroke);
        }
    }
    ui.label(name);
}
