//! The Concepts window: the sections of [`crate::concepts`], opened from the Help menu or
//! by a lesson at a topic.

use crate::concepts::SECTIONS;

/// The Concepts window, while `open`; scrolled to `topic` (once) if given.
pub fn concepts_window(ctx: &egui::Context, open: &mut bool, topic: &mut Option<String>) {
    egui::Window::new("Concepts")
        .open(open)
        .default_width(520.0)
        .default_height(480.0)
        .vscroll(true)
        .show(ctx, |ui| {
            for (title, text) in SECTIONS {
                let heading = ui.heading(title);
                if topic.as_deref() == Some(title) {
                    heading.scroll_to_me(Some(egui::Align::TOP));
                    heading.highlight();
                }
                ui.label(text);
                ui.add_space(6.0);
            }
        });
    if topic.is_some() {
        *topic = None;
    }
}
