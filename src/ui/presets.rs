//! The Presets window: built-in presets (embedded in the binary) and the user's own (in
//! the OS config folder), each with its title and description; one click loads and starts
//! it. "Save as" names the current session and asks before replacing a file. On the web
//! the user's files are uploads and downloads (`files.rs`) instead of a folder.

use super::{Action, files};
use crate::preset::{self, BUILTIN, Preset};
use std::path::PathBuf;

/// State of the Presets window.
#[derive(Debug, Default)]
pub struct PresetsState {
    /// The window is open.
    pub open: bool,
    /// The user's presets, as last listed.
    pub user: Vec<(PathBuf, Result<Preset, String>)>,
    /// Name typed for "Save as".
    pub save_name: String,
    /// A save waiting for consent to replace this file.
    pub confirm: Option<(PathBuf, Box<Preset>)>,
    /// Path typed for "Open file".
    pub open_path: String,
}

impl PresetsState {
    /// Lists the user's presets afresh.
    pub fn refresh(&mut self) {
        self.user = preset::user_dir()
            .map(|d| preset::list_dir(&d))
            .unwrap_or_default();
    }

    /// Opens the window (listing the user's presets afresh).
    pub fn open(&mut self) {
        self.refresh();
        self.open = true;
    }
}

/// The Presets window. `session` is the running session, for saving.
pub fn presets_window(
    ctx: &egui::Context,
    state: &mut PresetsState,
    session: impl Fn() -> Preset,
    actions: &mut Vec<Action>,
) {
    if !state.open {
        return;
    }
    let mut open = true;
    egui::Window::new("Presets")
        .open(&mut open)
        .default_width(520.0)
        .default_height(600.0)
        .vscroll(true)
        .show(ctx, |ui| {
            ui.heading("Lessons");
            ui.weak("A sequence of sessions with narration; PageDown and PageUp step through it.");
            for (name, text) in crate::lesson::BUILTIN {
                if let Ok(l) = crate::lesson::Lesson::from_ron(text, name) {
                    ui.horizontal(|ui| {
                        if ui
                            .button("Open")
                            .on_hover_text("Open this lesson at its first slide")
                            .clicked()
                        {
                            actions.push(Action::OpenLesson(
                                Box::new(l.clone()),
                                format!("<built-in lesson {name}>"),
                            ));
                        }
                        ui.strong(&l.title);
                        ui.weak(format!("{} slides", l.slides.len()));
                    });
                }
            }
            ui.separator();
            ui.heading("Built in");
            for (name, text) in BUILTIN {
                if let Ok(p) = Preset::from_ron(text, name) {
                    preset_row(ui, &p, || {
                        actions.push(Action::LoadPreset(Box::new(p.clone())))
                    });
                }
            }
            ui.separator();
            if files::BROWSER {
                ui.heading("Yours");
                ui.weak(
                    "In the browser your sessions are files: \"Save to file...\" downloads this \
                     session, \"Open file...\" uploads a preset or a lesson. The last session \
                     is kept in the browser's storage.",
                );
                ui.horizontal(|ui| {
                    if ui.button("Open file...").clicked() {
                        files::open(actions);
                    }
                    if ui.button("Save to file...").clicked() {
                        files::save(session(), actions);
                    }
                });
                return;
            }
            ui.horizontal(|ui| {
                ui.heading("Yours");
                if ui.small_button("Refresh").clicked() {
                    state.refresh();
                }
            });
            match preset::user_dir() {
                Some(d) => ui.weak(d.display().to_string()),
                None => ui.weak("no config folder on this system"),
            };
            if state.user.is_empty() {
                ui.label("None saved yet.");
            }
            for (path, loaded) in &state.user {
                match loaded {
                    Ok(p) => preset_row(ui, p, || actions.push(Action::LoadFile(path.clone()))),
                    Err(e) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                }
            }
            ui.separator();
            ui.horizontal(|ui| {
                ui.label("Save as");
                ui.text_edit_singleline(&mut state.save_name);
                let target = preset::user_dir()
                    .zip(preset::file_name(&state.save_name))
                    .map(|(d, f)| d.join(f));
                if ui
                    .add_enabled(target.is_some(), egui::Button::new("Save"))
                    .clicked()
                    && let Some(path) = target
                {
                    let mut p = session();
                    p.title = state.save_name.trim().to_owned();
                    actions.push(Action::Save {
                        preset: Box::new(p),
                        path,
                        overwrite: false,
                    });
                }
            });
            if let Some((path, p)) = state.confirm.clone() {
                ui.horizontal(|ui| {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        format!("{} exists. Replace it?", path.display()),
                    );
                    if ui.button("Replace").clicked() {
                        actions.push(Action::Save {
                            preset: p,
                            path,
                            overwrite: true,
                        });
                        state.confirm = None;
                    }
                    if ui.button("Cancel").clicked() {
                        state.confirm = None;
                    }
                });
            }
            ui.horizontal(|ui| {
                if ui.button("Open file...").clicked() {
                    files::open(actions);
                }
                if ui.button("Save to file...").clicked() {
                    files::save(session(), actions);
                }
            });
            ui.horizontal(|ui| {
                ui.label("or a path:");
                ui.text_edit_singleline(&mut state.open_path);
                if ui.button("Open").clicked() {
                    let path = PathBuf::from(state.open_path.trim());
                    let lesson = std::fs::read_to_string(&path)
                        .is_ok_and(|t| crate::lesson::looks_like_lesson(&t));
                    actions.push(if lesson {
                        Action::LoadLesson(path)
                    } else {
                        Action::LoadFile(path)
                    });
                }
            });
        });
    state.open = open;
}

fn preset_row(ui: &mut egui::Ui, p: &Preset, mut on_load: impl FnMut()) {
    ui.horizontal(|ui| {
        if ui
            .button("Load")
            .on_hover_text("Load this session and start it")
            .clicked()
        {
            on_load();
        }
        ui.strong(&p.title);
    });
    if !p.description.is_empty() {
        ui.indent(("desc", &p.title), |ui| {
            ui.weak(&p.description);
        });
    }
}
