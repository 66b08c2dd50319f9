//! The Presets window: built-in presets (embedded in the binary) and the user's own (in
//! the OS config folder), each with its title and description; one click loads and starts
//! it. "Save as" names the current session and asks before replacing a file.

use super::App;
use crate::preset::{self, BUILTIN, Preset};
use crate::trainer::Command;
use std::path::{Path, PathBuf};

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
    pub confirm: Option<PathBuf>,
    /// Path typed for "Open file".
    pub open_path: String,
}

impl App {
    /// Replaces the session with `preset` and starts it from step 0.
    pub fn load_preset(&mut self, preset: Preset) {
        self.preset = preset;
        self.compare = None;
        if let Some(b) = self.preset.compare.clone() {
            // `start_compare` resets A too, so both start together.
            self.start_compare(b);
        }
        self.command(Command::SetConfig(Box::new(self.preset.run.clone())));
        self.command(Command::SetSpeed(self.preset.speed));
        self.command(Command::SetGrid(self.preset.view.grid));
        self.command(Command::Reset);
        self.command(Command::Play);
        self.notice = None;
        self.applied_scale = 0.0;
        self.applied_dark = None;
    }

    /// Loads a preset file; a bad file leaves the session untouched and shows why.
    pub fn load_file(&mut self, path: &Path) {
        match Preset::load(path) {
            Ok(p) => self.load_preset(p),
            Err(e) => self.notice = Some((e.to_string(), true)),
        }
    }

    fn refresh_user_presets(&mut self) {
        self.presets.user = preset::user_dir()
            .map(|d| preset::list_dir(&d))
            .unwrap_or_default();
    }

    /// Saves the session as `path`, replacing an existing file only with `overwrite`.
    fn save_to(&mut self, path: PathBuf, overwrite: bool) {
        if let Some(dir) = path.parent()
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            self.notice = Some((format!("{}: {e}", dir.display()), true));
            return;
        }
        match self.session().save(&path, overwrite) {
            Ok(()) => {
                self.notice = Some((format!("Saved {}", path.display()), false));
                self.presets.confirm = None;
                self.refresh_user_presets();
            }
            Err(preset::PresetError::Exists { .. }) => self.presets.confirm = Some(path),
            Err(e) => self.notice = Some((e.to_string(), true)),
        }
    }

    pub(super) fn presets_window(&mut self, ctx: &egui::Context) {
        if !self.presets.open {
            return;
        }
        let mut open = true;
        let mut load: Option<Preset> = None;
        let mut load_path: Option<PathBuf> = None;
        egui::Window::new("Presets")
            .open(&mut open)
            .default_width(520.0)
            .default_height(600.0)
            .vscroll(true)
            .show(ctx, |ui| {
                ui.heading("Built in");
                for (name, text) in BUILTIN {
                    if let Ok(p) = Preset::from_ron(text, name) {
                        preset_row(ui, &p, || load = Some(p.clone()));
                    }
                }
                ui.separator();
                ui.horizontal(|ui| {
                    ui.heading("Yours");
                    if ui.small_button("Refresh").clicked() {
                        self.refresh_user_presets();
                    }
                });
                match preset::user_dir() {
                    Some(d) => ui.weak(d.display().to_string()),
                    None => ui.weak("no config folder on this system"),
                };
                if self.presets.user.is_empty() {
                    ui.label("None saved yet.");
                }
                for (path, loaded) in &self.presets.user {
                    match loaded {
                        Ok(p) => preset_row(ui, p, || load_path = Some(path.clone())),
                        Err(e) => {
                            ui.colored_label(ui.visuals().error_fg_color, e);
                        }
                    }
                }
                ui.separator();
                ui.horizontal(|ui| {
                    ui.label("Save as");
                    ui.text_edit_singleline(&mut self.presets.save_name);
                    let target = preset::user_dir()
                        .zip(preset::file_name(&self.presets.save_name))
                        .map(|(d, f)| d.join(f));
                    if ui
                        .add_enabled(target.is_some(), egui::Button::new("Save"))
                        .clicked()
                        && let Some(path) = target
                    {
                        self.preset.title = self.presets.save_name.trim().to_owned();
                        self.save_to(path, false);
                    }
                });
                if let Some(path) = self.presets.confirm.clone() {
                    ui.horizontal(|ui| {
                        ui.colored_label(
                            ui.visuals().warn_fg_color,
                            format!("{} exists. Replace it?", path.display()),
                        );
                        if ui.button("Replace").clicked() {
                            self.save_to(path, true);
                        }
                        if ui.button("Cancel").clicked() {
                            self.presets.confirm = None;
                        }
                    });
                }
                ui.horizontal(|ui| {
                    if ui.button("Open file...").clicked() {
                        match native_dialog(|| {
                            rfd::FileDialog::new()
                                .add_filter("annealscope preset", &["ron"])
                                .pick_file()
                        }) {
                            Dialog::Picked(p) => load_path = Some(p),
                            Dialog::Cancelled => {}
                            Dialog::Unavailable => self.notice = Some((NO_DIALOG.into(), false)),
                        }
                    }
                    if ui.button("Save to file...").clicked() {
                        let name = preset::file_name(&self.preset.title)
                            .unwrap_or_else(|| "session.ron".into());
                        match native_dialog(|| {
                            rfd::FileDialog::new()
                                .add_filter("annealscope preset", &["ron"])
                                .set_file_name(&name)
                                .save_file()
                        }) {
                            Dialog::Picked(p) => self.save_to(p, false),
                            Dialog::Cancelled => {}
                            Dialog::Unavailable => self.notice = Some((NO_DIALOG.into(), false)),
                        }
                    }
                });
                ui.horizontal(|ui| {
                    ui.label("or a path:");
                    ui.text_edit_singleline(&mut self.presets.open_path);
                    if ui.button("Open").clicked() {
                        load_path = Some(PathBuf::from(self.presets.open_path.trim()));
                    }
                });
            });
        self.presets.open = open;
        if let Some(p) = load {
            self.load_preset(p);
        }
        if let Some(path) = load_path {
            self.load_file(&path);
        }
    }

    /// Opens the Presets window (listing the user's presets afresh).
    pub fn open_presets(&mut self) {
        self.refresh_user_presets();
        self.presets.open = true;
    }
}

const NO_DIALOG: &str = "This desktop offers no file dialog (no XDG portal). Type a path \
below, or use the preset lists above.";

enum Dialog {
    Picked(PathBuf),
    Cancelled,
    Unavailable,
}

/// Runs a native file dialog. Without an XDG portal rfd returns at once with nothing; a
/// person needs longer than that to cancel, which tells the two apart.
fn native_dialog(show: impl FnOnce() -> Option<PathBuf>) -> Dialog {
    let started = std::time::Instant::now();
    match show() {
        Some(p) => Dialog::Picked(p),
        None if started.elapsed() < std::time::Duration::from_millis(250) => Dialog::Unavailable,
        None => Dialog::Cancelled,
    }
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
