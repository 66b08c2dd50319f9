//! The desktop app: eframe/egui, one file per view.
//!
//! The app keeps the settings the controls edit (a [`Preset`]), the plotted [`History`]
//! and the latest snapshot. Every user action becomes a [`Command`] collected during the
//! frame and sent to the trainer in one place at its end. Snapshots are drained without
//! blocking at the start of each frame; the trainer wakes the UI through a small waker
//! closure, so neither the trainer nor the simulation knows about egui.

pub mod bench;
mod boundary;
mod compare;
mod concepts;
mod controls;
mod landscape;
mod plots;
mod presets;
mod tempering;

use crate::preset::Preset;
use crate::sim::{Dataset, DecisionGrid, History, ScheduleState, StepRecord};
use crate::trainer::{Command, Snapshot, Trainer};
use std::sync::Arc;

/// Buckets of plotted history kept by the UI (memory stays bounded however long the run).
pub const HISTORY_BUCKETS: usize = 16_384;

/// Runtime view state that is not saved with a session (the saved part is
/// [`crate::preset::ViewConfig`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ViewState {
    /// Plots follow the run (auto-scroll) until the user pans or zooms.
    pub follow: bool,
    /// The Concepts window is open.
    pub concepts: bool,
    /// The keyboard help window is open.
    pub help: bool,
    /// Show the controls the preset hides.
    pub show_hidden: bool,
    /// Temperature of the "Reheat to T" button.
    pub reheat_to: f64,
    /// Show a slice of the network's loss instead of the decision boundary.
    pub show_slice: bool,
    /// Half-width of the loss slice.
    pub slice_span: f64,
    /// Centre the slice on the best parameters.
    pub slice_best: bool,
    /// Refresh the slice every few seconds.
    pub slice_auto: bool,
    /// Show the predictive entropy instead of the class-1 probability.
    pub entropy_map: bool,
    /// The control point being dragged in the schedule editor.
    pub dragging: Option<usize>,
}

impl Default for ViewState {
    fn default() -> Self {
        Self {
            follow: true,
            concepts: false,
            help: false,
            show_hidden: false,
            reheat_to: 0.5,
            show_slice: false,
            slice_span: 1.0,
            slice_best: false,
            slice_auto: false,
            entropy_map: false,
            dragging: None,
        }
    }
}

/// A message for the user: its text and whether it reports an error.
pub type Notice = (String, bool);

/// What the latest snapshot said, kept between snapshots.
#[derive(Clone, Debug)]
pub struct Latest {
    /// Metrics of the latest step.
    pub record: StepRecord,
    /// The schedule in motion.
    pub schedule: ScheduleState,
    /// The data set.
    pub data: Arc<Dataset>,
    /// Whether the trainer is stepping.
    pub playing: bool,
    /// Whether the configured run length was reached.
    pub finished: bool,
    /// Measured steps per second.
    pub steps_per_second: f64,
    /// The step size in force.
    pub step_size: f64,
}

/// What the UI keeps of one trainer's stream: the plotted history, the latest snapshot's
/// news and the decision grid.
pub struct Feed {
    /// Plotted history of the current run.
    pub history: History,
    generation: u64,
    /// The latest snapshot's news.
    pub latest: Option<Latest>,
    grid: Option<Arc<DecisionGrid>>,
    grid_changed: bool,
}

impl Feed {
    fn new() -> Self {
        Self {
            history: History::new(HISTORY_BUCKETS),
            generation: 0,
            latest: None,
            grid: None,
            grid_changed: false,
        }
    }

    /// Takes in what every run reports; true when the run restarted from step 0.
    fn absorb(&mut self, s: &Snapshot) -> bool {
        let restarted = s.generation != self.generation;
        if restarted {
            self.history.clear();
            self.generation = s.generation;
        }
        self.history.append(&s.history);
        if let Some(g) = &s.grid {
            self.grid = Some(Arc::clone(g));
            self.grid_changed = true;
        }
        self.latest = Some(Latest {
            record: s.latest,
            schedule: s.schedule.clone(),
            data: Arc::clone(&s.data),
            playing: s.playing,
            finished: s.finished,
            steps_per_second: s.steps_per_second,
            step_size: s.step_size,
        });
        restarted
    }

    /// Whether the trainer reported that it is stepping.
    pub fn playing(&self) -> bool {
        self.latest.as_ref().is_some_and(|l| l.playing)
    }
}

/// The annealscope app.
pub struct App {
    trainer: Trainer,
    /// The settings the controls edit; sent to the trainer when they change.
    pub preset: Preset,
    /// What the trainer has reported.
    pub feed: Feed,
    texture: Option<egui::TextureHandle>,
    /// A second run compared with the first, when comparing.
    pub compare: Option<compare::Compare>,
    /// The context, for waking the UI from a second trainer.
    ctx: egui::Context,
    /// Looks.
    pub view: ViewState,
    /// A message for the user.
    pub notice: Option<Notice>,
    commands: Vec<Command>,
    plots: plots::PlotsState,
    presets: presets::PresetsState,
    landscape: landscape::LandscapeState,
    tempering: tempering::TemperingState,
    /// The formula being typed, before it is applied.
    formula_edit: Option<String>,
    /// The latest loss slice, its texture (when current) and when one was last asked for.
    slice: Option<Arc<crate::trainer::LossSlice>>,
    slice_texture: Option<egui::TextureHandle>,
    slice_fresh: bool,
    slice_asked: Option<std::time::Instant>,
    /// A suggested schedule waiting for the user to apply or dismiss it.
    suggestion: Option<crate::sim::suggest::Suggestion>,
    /// The time budget for suggested schedules, in seconds.
    suggest_seconds: f64,
    applied_scale: f32,
    applied_dark: Option<bool>,
    /// When set, snapshots are no longer taken in (a still picture, for benchmarks).
    pub frozen: bool,
    /// Outcome of screenshot saves, reported from the screenshot callback.
    saved_tx: crossbeam_channel::Sender<Notice>,
    saved_rx: crossbeam_channel::Receiver<Notice>,
}

impl App {
    /// Starts a trainer on `preset` and builds the app around it. `ctx` is woken by
    /// the trainer whenever a snapshot is sent.
    pub fn new(ctx: &egui::Context, preset: Preset) -> anyhow::Result<Self> {
        let waker_ctx = ctx.clone();
        let waker: crate::trainer::Waker = Box::new(move || waker_ctx.request_repaint());
        let trainer = Trainer::spawn(preset.run.clone(), preset.speed, Some(waker))?;
        trainer.send(Command::SetGrid(preset.view.grid));
        let (saved_tx, saved_rx) = crossbeam_channel::unbounded();
        let mut app = Self {
            trainer,
            preset,
            feed: Feed::new(),
            texture: None,
            compare: None,
            ctx: ctx.clone(),
            view: ViewState::default(),
            notice: None,
            commands: Vec::new(),
            plots: plots::PlotsState::default(),
            presets: presets::PresetsState::default(),
            landscape: landscape::LandscapeState::default(),
            tempering: tempering::TemperingState::default(),
            formula_edit: None,
            slice: None,
            slice_texture: None,
            slice_fresh: false,
            slice_asked: None,
            suggestion: None,
            suggest_seconds: 10.0,
            applied_scale: 0.0,
            applied_dark: None,
            frozen: false,
            saved_tx,
            saved_rx,
        };
        if let Some(b) = app.preset.compare.clone() {
            app.start_compare(b);
        }
        Ok(app)
    }

    /// Queues a command for the trainer (sent at the end of the frame).
    pub fn command(&mut self, c: Command) {
        self.commands.push(c);
    }

    /// Sends the edited run settings to the trainer.
    fn push_config(&mut self) {
        self.commands
            .push(Command::SetConfig(Box::new(self.preset.run.clone())));
    }

    /// The whole session as a preset, run B included when comparing.
    pub fn session(&mut self) -> &Preset {
        self.preset.compare = self.compare.as_ref().map(|c| c.config.clone());
        &self.preset
    }

    /// The settings the control panel edits: B's while editing B, else A's.
    fn edited_run(&self) -> &crate::sim::RunConfig {
        match &self.compare {
            Some(c) if c.editing => &c.config,
            _ => &self.preset.run,
        }
    }

    /// Applies edited settings to the side being edited.
    fn set_edited_run(&mut self, run: crate::sim::RunConfig) {
        match &mut self.compare {
            Some(c) if c.editing => {
                c.config = run;
                c.send(Command::SetConfig(Box::new(c.config.clone())));
            }
            _ => {
                self.preset.run = run;
                self.push_config();
            }
        }
    }

    /// Drains the snapshots that arrived, without waiting.
    pub fn ingest(&mut self) {
        if let Ok(outcome) = self.saved_rx.try_recv() {
            self.notice = Some(outcome);
        }
        if self.frozen {
            return;
        }
        let snapshots: Vec<Snapshot> = self.trainer.snapshots().collect();
        for s in snapshots {
            self.absorb(s);
        }
    }

    fn absorb(&mut self, s: Snapshot) {
        let restarted = self.feed.absorb(&s);
        if restarted {
            self.view.follow = true;
        }
        self.tempering
            .absorb(s.latest.step, s.tempering.clone(), restarted);
        self.landscape.absorb(s.landscape);
        if let Some(suggestion) = s.suggestion {
            match suggestion {
                Ok(sg) => self.suggestion = Some(sg),
                Err(e) => self.notice = Some((e, true)),
            }
        }
        if let Some(slice) = s.slice {
            self.slice = Some(slice);
            self.slice_fresh = true;
        }
        if s.restarted {
            self.notice = Some((
                "Hidden width, data or seed changed: the run restarted from step 0.".into(),
                false,
            ));
        }
        if let Some(e) = s.error {
            self.notice = Some((e, true));
            self.preset.run = s.config.clone();
        }
    }

    /// Whether the trainer reported that it is stepping.
    pub fn playing(&self) -> bool {
        self.feed.playing()
    }

    fn toggle_play(&mut self) {
        let c = if self.playing() {
            Command::Pause
        } else {
            Command::Play
        };
        self.command(c);
    }

    fn reheat(&mut self) {
        let t = self.preset.run.annealer.schedule.t0();
        self.command(Command::SetTemperature(t));
    }

    fn keyboard(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        use egui::Key;
        let (space, step, reset, heat, full) = ctx.input(|i| {
            (
                i.key_pressed(Key::Space),
                i.key_pressed(Key::S) || i.key_pressed(Key::ArrowRight),
                i.key_pressed(Key::R),
                i.key_pressed(Key::H),
                i.key_pressed(Key::F11),
            )
        });
        if space {
            self.toggle_play();
        }
        if step {
            self.command(Command::Step(1));
        }
        if reset {
            self.command(Command::Reset);
        }
        if heat {
            self.reheat();
        }
        if full {
            let now = ctx.input(|i| i.viewport().fullscreen.unwrap_or(false));
            ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(!now));
        }
    }

    fn apply_looks(&mut self, ctx: &egui::Context) {
        if self.applied_scale != self.preset.view.scale {
            ctx.set_zoom_factor(self.preset.view.scale);
            self.applied_scale = self.preset.view.scale;
        }
        if self.applied_dark != Some(self.preset.view.dark) {
            ctx.set_theme(if self.preset.view.dark {
                egui::Theme::Dark
            } else {
                egui::Theme::Light
            });
            self.applied_dark = Some(self.preset.view.dark);
        }
    }

    /// One frame of the whole UI.
    pub fn frame(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.apply_looks(&ctx);
        self.ingest();
        if let Some(b) = &mut self.compare
            && !self.frozen
        {
            b.ingest();
        }
        self.keyboard(&ctx);
        egui::Panel::top("menu").show(ui, |ui| self.menu_ui(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_ui(ui));
        if !self.preset.view.presenter {
            egui::Panel::left("controls")
                .resizable(true)
                .default_size(300.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| self.controls_ui(ui));
                });
        }
        egui::CentralPanel::default().show(ui, |ui| self.central_ui(ui));
        self.concepts_window(&ctx);
        self.presets_window(&ctx);
        self.help_window(&ctx);
        for c in self.commands.drain(..) {
            // Running, stepping, resetting, speed and temperature act on both runs of a
            // comparison, so they stay in step; settings go to the side being edited.
            if let Some(b) = &self.compare
                && matches!(
                    c,
                    Command::Play
                        | Command::Pause
                        | Command::Step(_)
                        | Command::Reset
                        | Command::SetSpeed(_)
                        | Command::SetTemperature(_)
                        | Command::SetGrid(_)
                )
            {
                b.send(c.clone());
            }
            self.trainer.send(c);
        }
    }

    fn central_ui(&mut self, ui: &mut egui::Ui) {
        if let Some((text, is_error)) = self.notice.clone() {
            ui.horizontal(|ui| {
                let color = if is_error {
                    ui.visuals().error_fg_color
                } else {
                    ui.visuals().warn_fg_color
                };
                ui.colored_label(color, text);
                if ui.small_button("Dismiss").clicked() {
                    self.notice = None;
                }
            });
        }
        if !self.preset.description.is_empty() {
            egui::CollapsingHeader::new("About this session")
                .default_open(false)
                .show(ui, |ui| ui.label(&self.preset.description));
        }
        let size = ui.available_size();
        let left = (size.x * 0.45).min(size.y);
        ui.horizontal_top(|ui| {
            ui.allocate_ui_with_layout(
                egui::vec2(left, size.y),
                egui::Layout::top_down(egui::Align::Min),
                |ui| {
                    if self.landscape.latest.is_some() {
                        self.landscape_ui(ui);
                    } else {
                        self.network_view_ui(ui);
                    }
                },
            );
            ui.allocate_ui_with_layout(
                egui::vec2(ui.available_width(), size.y),
                egui::Layout::top_down(egui::Align::Min),
                |ui| self.plots_ui(ui),
            );
        });
    }

    fn menu_ui(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("Session", |ui| {
                if ui.button("Presets...").clicked() {
                    self.open_presets();
                }
                if ui.button("Reset to default").clicked() {
                    self.load_preset(Preset::builtin_default());
                }
            });
            ui.menu_button("Compare", |ui| {
                if self.compare.is_none() {
                    if ui
                        .button("Compare with a copy of this run")
                        .on_hover_text("Run B beside A on its own thread; then pick \"Editing: B\" in the controls and change anything")
                        .clicked()
                    {
                        let config = self.preset.run.clone();
                        self.start_compare(config);
                    }
                } else if ui.button("Stop comparing").clicked() {
                    self.compare = None;
                    self.preset.compare = None;
                }
            });
            ui.menu_button("Run", |ui| {
                let label = if self.playing() {
                    "Pause  (Space)"
                } else {
                    "Play  (Space)"
                };
                if ui.button(label).clicked() {
                    self.toggle_play();
                }
                if ui.button("Step  (S, Right)").clicked() {
                    self.command(Command::Step(1));
                }
                if ui.button("Reset  (R)").clicked() {
                    self.command(Command::Reset);
                }
                if ui.button("Reheat to T0  (H)").clicked() {
                    self.reheat();
                }
                ui.separator();
                if ui.button("Save history as CSV").clicked() {
                    self.save_csv();
                }
                if ui.button("Save screenshot as PNG").clicked() {
                    self.request_screenshot(ui.ctx());
                }
            });
            ui.menu_button("View", |ui| {
                ui.checkbox(&mut self.preset.view.presenter, "Presenter layout")
                    .on_hover_text("Hide the controls and give the plots the whole window");
                ui.checkbox(&mut self.preset.view.dark, "Dark theme");
                if !self.preset.view.hidden.is_empty() {
                    ui.checkbox(&mut self.view.show_hidden, "Show hidden controls")
                        .on_hover_text("This preset hides some controls for a simpler demo");
                }
                ui.add(
                    egui::Slider::new(&mut self.preset.view.scale, crate::preset::SCALE)
                        .text("UI scale")
                        .step_by(0.05),
                )
                .on_hover_text("Larger for projectors (Ctrl +/- also zooms)");
                ui.checkbox(
                    &mut self.preset.view.log_temperature,
                    "Log temperature axis",
                );
                ui.checkbox(&mut self.preset.view.log_energy, "Log energy axis");
                if ui.button("Full screen  (F11)").clicked() {
                    let now = ui.ctx().input(|i| i.viewport().fullscreen.unwrap_or(false));
                    ui.ctx()
                        .send_viewport_cmd(egui::ViewportCommand::Fullscreen(!now));
                }
            });
            ui.menu_button("Help", |ui| {
                if ui.button("Concepts").clicked() {
                    self.view.concepts = true;
                }
                if ui.button("Keyboard shortcuts").clicked() {
                    self.view.help = true;
                }
            });
            ui.separator();
            ui.strong(&self.preset.title);
        });
    }

    fn status_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let Some(l) = &self.feed.latest else {
                ui.label("Starting...");
                return;
            };
            let r = &l.record;
            let state = if l.playing {
                "running"
            } else if l.finished {
                "finished"
            } else {
                "paused"
            };
            ui.label(format!("{state}  |  step {}", r.step));
            ui.separator();
            ui.label(format!("{:.0} steps/s", l.steps_per_second));
            ui.separator();
            ui.label(format!("T = {:.3e}", l.schedule.temperature()));
            ui.separator();
            ui.label(format!("E = {:.5}", r.energy));
            ui.separator();
            ui.label(format!("best E = {:.5}", r.best_energy));
            ui.separator();
            ui.label(format!("acceptance {:.1}%", 100.0 * r.acceptance_rate));
            ui.separator();
            ui.label(format!("sigma = {:.3e}", l.step_size));
            if r.train_accuracy.is_finite() {
                ui.separator();
                ui.label(format!("train accuracy {:.1}%", 100.0 * r.train_accuracy));
            }
            if r.test_accuracy.is_finite() {
                ui.separator();
                ui.label(format!("test accuracy {:.1}%", 100.0 * r.test_accuracy));
            }
        });
    }

    fn help_window(&mut self, ctx: &egui::Context) {
        let mut open = self.view.help;
        egui::Window::new("Keyboard shortcuts")
            .open(&mut open)
            .resizable(false)
            .show(ctx, |ui| {
                egui::Grid::new("keys").striped(true).show(ui, |ui| {
                    for (k, what) in [
                        ("Space", "play / pause"),
                        ("S or Right", "one step"),
                        ("R", "reset to step 0"),
                        ("H", "reheat to T0"),
                        ("F11", "full screen"),
                        ("Ctrl + / Ctrl -", "zoom the whole UI"),
                    ] {
                        ui.monospace(k);
                        ui.label(what);
                        ui.end_row();
                    }
                });
            });
        self.view.help = open;
    }

    /// Writes the plotted history (the last step of each bucket) as CSV next to the
    /// working directory, never replacing a file.
    fn save_csv(&mut self) {
        let mut text = String::from(StepRecord::CSV_HEADER);
        text.push('\n');
        for b in self.feed.history.buckets() {
            text.push_str(&b.end_record().csv_row());
            text.push('\n');
        }
        let step = self.feed.latest.as_ref().map_or(0, |l| l.record.step);
        let path = std::path::PathBuf::from(format!("annealscope-history-step{step}.csv"));
        self.notice = Some(
            match crate::preset::write_atomic(&path, text.as_bytes(), false) {
                Ok(()) => (format!("Saved {}", path.display()), false),
                Err(e) => (e.to_string(), true),
            },
        );
    }

    fn request_screenshot(&mut self, ctx: &egui::Context) {
        let step = self.feed.latest.as_ref().map_or(0, |l| l.record.step);
        let path = std::path::PathBuf::from(format!("annealscope-step{step}.png"));
        self.notice = Some((format!("Saving {}...", path.display()), false));
        let report = self.saved_tx.clone();
        let wake = ctx.clone();
        ctx.request_screenshot(move |image| {
            let [w, h] = image.size;
            let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
            let mut png = std::io::Cursor::new(Vec::new());
            let outcome = match image::RgbaImage::from_raw(w as u32, h as u32, bytes)
                .map(|b| b.write_to(&mut png, image::ImageFormat::Png))
            {
                Some(Ok(())) => match crate::preset::write_atomic(&path, png.get_ref(), false) {
                    Ok(()) => (format!("Saved {}", path.display()), false),
                    Err(e) => (e.to_string(), true),
                },
                _ => (
                    format!("{}: could not encode the screenshot", path.display()),
                    true,
                ),
            };
            let _ = report.send(outcome);
            wake.request_repaint();
        });
    }
}

/// Key of the last session in eframe's storage.
const SESSION_KEY: &str = "session";

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SESSION_KEY, self.session());
    }
}

/// Opens the window and runs the app until it is closed: on `preset` if given, else on
/// the last session (saved on exit), else on the built-in default.
pub fn run(preset: Option<Preset>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("annealscope")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([800.0, 500.0]),
        ..Default::default()
    };
    eframe::run_native(
        "annealscope",
        options,
        Box::new(|cc| {
            let preset = preset
                .or_else(|| {
                    let restored: Preset = eframe::get_value(cc.storage?, SESSION_KEY)?;
                    restored
                        .validate("<last session>")
                        .is_ok()
                        .then_some(restored)
                })
                .unwrap_or_else(Preset::builtin_default);
            Ok(Box::new(App::new(&cc.egui_ctx, preset)?))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}
