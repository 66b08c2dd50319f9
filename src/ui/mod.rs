//! The desktop app: eframe/egui, one file per view.
//!
//! [`App`] holds the session's looks (title, description, speed, view settings), one
//! [`RunPane`] per run (A, and B when comparing) and which one the controls edit. Views
//! are functions of what they read that return what they want done as [`Action`]s;
//! [`App::apply`] applies every action in one place at the end of the frame. Snapshots
//! are drained without blocking at the start of each frame; the trainers wake the UI
//! through a small waker closure, so neither the trainer nor the simulation knows egui.
//!
//! The same app runs on a web page. What differs sits in few places: the trainers' driver
//! (a thread each on the desktop; on the web the frame steps them within
//! [`FRAME_BUDGET`]), files (`files.rs`: paths and dialogs on the desktop, upload and
//! download on the web) and the entry point ([`run`] here, `crate::web` on the web).

mod ais;
pub mod bench;
pub mod concepts;
mod controls;
mod files;
pub mod format;
mod ising;
mod key;
pub mod kinds;
mod landscape;
mod network;
pub mod pane;
mod plots;
mod presets;
mod rbm;
pub mod record;
mod tempering;
mod tsp;

pub use pane::RunPane;

use crate::lesson::{Cue, Lesson, View};
use crate::pace::Pace;
use crate::preset::{Control, Preset, ViewConfig};
use crate::sim::{PlotKind, RunConfig, StepRecord};
use crate::trainer::{Command, Driver, Waker};
use format::{clock, number, percent};
use std::path::PathBuf;

/// Which run: the first, or the one compared with it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Side {
    /// Run A.
    #[default]
    A,
    /// Run B.
    B,
}

impl Side {
    /// "A" or "B".
    pub fn letter(self) -> &'static str {
        match self {
            Side::A => "A",
            Side::B => "B",
        }
    }
}

/// Which runs a trainer command goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every run (A, and B when comparing), so that they stay in step.
    Both,
    /// One run.
    Side(Side),
}

/// A message for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The run it is about, if one.
    pub side: Option<Side>,
    /// What happened.
    pub text: String,
    /// It reports an error.
    pub error: bool,
}

impl Notice {
    /// An error.
    pub fn error(side: Option<Side>, text: String) -> Self {
        Self {
            side,
            text,
            error: true,
        }
    }

    /// News that is not an error.
    pub fn info(side: Option<Side>, text: String) -> Self {
        Self {
            side,
            text,
            error: false,
        }
    }
}

/// What the user asked for, applied in one place ([`App::apply`]).
#[derive(Clone, Debug)]
pub enum Action {
    /// A command to the trainer of one run or of both.
    Trainer(Target, Command),
    /// New settings for a run.
    Edit(Side, Box<RunConfig>),
    /// Forget a run's suggested schedule.
    Dismiss(Side),
    /// Replace the session.
    LoadPreset(Box<Preset>),
    /// Replace the session with a preset file's.
    LoadFile(PathBuf),
    /// Save a session to a file.
    Save {
        /// The session.
        preset: Box<Preset>,
        /// Where.
        path: PathBuf,
        /// Replace an existing file.
        overwrite: bool,
    },
    /// Start comparing with a second run on these settings.
    StartCompare(Box<RunConfig>),
    /// Stop comparing.
    StopCompare,
    /// Start a new trainer for a run whose trainer crashed.
    Restart(Side),
    /// Tell the user something.
    Notice(Notice),
    /// Open a lesson at its first slide; the string names its file.
    OpenLesson(Box<Lesson>, String),
    /// Open a lesson file.
    LoadLesson(PathBuf),
    /// Go to this slide of the open lesson (from 0).
    Slide(usize),
    /// Close the lesson (the session stays).
    CloseLesson,
    /// Open a preset or a lesson from a file's contents (an upload on the web).
    OpenText {
        /// The file's name, for messages.
        name: String,
        /// Its bytes.
        bytes: Vec<u8>,
    },
    /// Ask the browser for a file to upload (a preset or a lesson); it arrives later as
    /// [`Action::OpenText`].
    Upload,
    /// Use one's own points from a CSV file's contents (an upload on the web) as the data
    /// set of run `side`'s network.
    OpenPoints {
        /// The run whose data they become.
        side: Side,
        /// The file's name, for messages.
        name: String,
        /// Its bytes.
        bytes: Vec<u8>,
    },
    /// Ask the browser for a CSV file of points for run `side`; it arrives later as
    /// [`Action::OpenPoints`].
    UploadPoints(Side),
}

/// An open lesson and where in it the class is.
#[derive(Clone, Debug)]
pub struct LessonState {
    /// The lesson.
    pub lesson: Lesson,
    /// Its file, for messages.
    pub file: String,
    /// The slide shown, from 0.
    pub index: usize,
}

/// Runtime view state that is not saved with a session (the saved part is
/// [`ViewConfig`]).
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
    /// The formula being typed, before it is applied.
    pub formula_edit: Option<String>,
    /// The time budget for suggested schedules, in seconds.
    pub suggest_seconds: f64,
    /// The presenter's control strip is hidden.
    pub strip_hidden: bool,
    /// The Concepts section to scroll to when the window opens.
    pub concepts_topic: Option<String>,
    /// The path typed for loading one's own points (CSV).
    pub data_path: String,
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
            formula_edit: None,
            suggest_seconds: 10.0,
            strip_hidden: false,
            concepts_topic: None,
            data_path: String::new(),
        }
    }
}

/// Where something was drawn in the last frame (for layout checks).
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    /// What it is: a panel, a run's view, a plot.
    pub name: String,
    /// Its rectangle in logical pixels.
    pub rect: egui::Rect,
}

/// What views read of the looks, and the toggles they may flip.
pub struct Looks<'a> {
    /// The saved view settings.
    pub saved: &'a mut ViewConfig,
    /// The runtime view state.
    pub state: &'a mut ViewState,
    /// The session's pace.
    pub pace: Pace,
    /// Two runs are shown.
    pub comparing: bool,
    /// The run whose controls are shown.
    pub side: Side,
}

impl Looks<'_> {
    /// Whether control `c` is shown (not hidden by the preset, or hidden ones shown).
    pub fn shown(&self, c: Control) -> bool {
        self.state.show_hidden || !self.saved.hidden_controls.contains(&c)
    }
}

/// The annealscope app.
pub struct App {
    /// The session's title.
    pub title: String,
    /// The session's description for students.
    pub description: String,
    /// How fast the runs play.
    pub pace: Pace,
    /// The saved view settings.
    pub view: ViewConfig,
    /// Run A.
    pub a: RunPane,
    /// Run B, when comparing.
    pub b: Option<RunPane>,
    /// The run the controls edit.
    pub editing: Side,
    /// Runtime view state.
    pub state: ViewState,
    /// Messages for the user, newest last.
    pub notices: Vec<Notice>,
    /// The lesson being given, if one.
    pub lesson: Option<LessonState>,
    actions: Vec<Action>,
    /// Where the panels and views were drawn in the last frame.
    layout: Vec<Placed>,
    plots: plots::PlotsState,
    presets: presets::PresetsState,
    /// The context, for waking the UI from the trainers.
    ctx: egui::Context,
    applied_scale: f32,
    applied_dark: Option<bool>,
    /// When set, snapshots are no longer taken in (a still picture, for benchmarks).
    pub frozen: bool,
    /// Run > Record: the recorder's settings and the recording in progress.
    pub record: record::RecordUi,
    /// Outcome of screenshot saves, reported from the screenshot callback.
    saved_tx: crossbeam_channel::Sender<Notice>,
    saved_rx: crossbeam_channel::Receiver<Notice>,
    /// The web page's address, which session links point to (on the desktop,
    /// [`crate::link::PAGE`]).
    pub page: String,
    /// Which driver steps the trainers.
    driver: Driver,
    /// Files the browser delivers after the frame that asked for them.
    files: files::Inbox,
}

/// Wall time per frame the cooperative driver may spend stepping, shared between the runs
/// (half each when comparing), so that a page stays responsive at 60 frames a second.
pub const FRAME_BUDGET: web_time::Duration = web_time::Duration::from_millis(8);

/// How much larger everything is in the presenter layout.
const PRESENTER_ZOOM: f32 = 1.25;

/// Notices kept on screen at most (older ones are dropped).
const NOTICES: usize = 4;

impl App {
    /// Starts the trainers of `preset` and builds the app around them. `ctx` is woken by
    /// the trainers whenever a snapshot is sent.
    pub fn new(ctx: &egui::Context, preset: Preset) -> anyhow::Result<Self> {
        Self::with_driver(ctx, preset, Driver::PLATFORM)
    }

    /// [`App::new`] with the trainers stepped by `driver` (the web's cooperative driver can
    /// be tried on the desktop too).
    pub fn with_driver(
        ctx: &egui::Context,
        preset: Preset,
        driver: Driver,
    ) -> anyhow::Result<Self> {
        let a = RunPane::start_with(
            driver,
            Side::A,
            preset.run.clone(),
            preset.pace,
            Some(waker(ctx)),
        )?;
        let (saved_tx, saved_rx) = crossbeam_channel::unbounded();
        let mut app = Self {
            title: preset.title,
            description: preset.description,
            pace: preset.pace,
            view: preset.view,
            a,
            b: None,
            editing: Side::A,
            state: ViewState::default(),
            notices: Vec::new(),
            lesson: None,
            actions: Vec::new(),
            layout: Vec::new(),
            plots: plots::PlotsState::default(),
            presets: presets::PresetsState::default(),
            ctx: ctx.clone(),
            applied_scale: 0.0,
            applied_dark: None,
            frozen: false,
            record: record::RecordUi::default(),
            saved_tx,
            saved_rx,
            page: crate::link::PAGE.to_owned(),
            driver,
            files: files::Inbox::default(),
        };
        app.a.send(Command::SetView(app.view_request()));
        if let Some(b) = preset.compare {
            app.start_compare(b);
        }
        Ok(app)
    }

    /// The whole session as a preset, run B included when comparing.
    pub fn session(&self) -> Preset {
        Preset {
            title: self.title.clone(),
            description: self.description.clone(),
            run: self.a.config.clone(),
            compare: self.b.as_ref().map(|b| b.config.clone()),
            pace: self.pace,
            view: self.view.clone(),
            ..Preset::default()
        }
    }

    /// Queues an action (applied at the end of the frame).
    pub fn act(&mut self, action: Action) {
        self.actions.push(action);
    }

    /// The run the controls edit.
    pub fn edited(&self) -> &RunPane {
        match (&self.b, self.editing) {
            (Some(b), Side::B) => b,
            _ => &self.a,
        }
    }

    /// Run `side`, if there is one.
    pub fn pane(&self, side: Side) -> Option<&RunPane> {
        match side {
            Side::A => Some(&self.a),
            Side::B => self.b.as_ref(),
        }
    }

    fn pane_mut(&mut self, side: Side) -> Option<&mut RunPane> {
        match side {
            Side::A => Some(&mut self.a),
            Side::B => self.b.as_mut(),
        }
    }

    /// The runs shown: A, then B when comparing.
    pub fn panes(&self) -> impl Iterator<Item = &RunPane> {
        std::iter::once(&self.a).chain(self.b.as_ref())
    }

    fn view_request(&self) -> crate::sim::ViewRequest {
        crate::sim::ViewRequest {
            grid: self.view.grid,
            replica: false,
        }
    }

    /// Applies one action.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Trainer(target, command) => match target {
                Target::Both => {
                    self.a.send(command.clone());
                    if let Some(b) = &self.b {
                        b.send(command);
                    }
                }
                Target::Side(side) => {
                    if let Some(p) = self.pane(side) {
                        p.send(command);
                    }
                }
            },
            Action::Edit(side, config) => {
                if let Some(p) = self.pane_mut(side) {
                    p.config = *config;
                    p.send(Command::SetConfig(Box::new(p.config.clone())));
                }
            }
            Action::Dismiss(side) => {
                if let Some(p) = self.pane_mut(side) {
                    p.suggestion = None;
                }
            }
            Action::LoadPreset(p) => self.load_preset(*p),
            Action::LoadFile(path) => match Preset::load(&path) {
                Ok(p) => self.load_preset(p),
                Err(e) => self.notify(Notice::error(None, e.to_string())),
            },
            Action::Save {
                preset,
                path,
                overwrite,
            } => self.save(*preset, path, overwrite),
            Action::StartCompare(config) => self.start_compare(*config),
            Action::StopCompare => {
                self.b = None;
                self.editing = Side::A;
            }
            Action::Restart(side) => {
                let (pace, waker) = (self.pace, waker(&self.ctx));
                let request = self.view_request();
                if let Some(p) = self.pane_mut(side) {
                    match p.restart(pace, Some(waker)) {
                        Ok(()) => p.send(Command::SetView(request)),
                        Err(e) => {
                            let n = Notice::error(Some(side), e.to_string());
                            self.notify(n);
                        }
                    }
                }
            }
            Action::Notice(n) => self.notify(n),
            Action::OpenLesson(lesson, file) => {
                self.lesson = Some(LessonState {
                    lesson: *lesson,
                    file,
                    index: 0,
                });
                self.go_to_slide(0);
            }
            Action::LoadLesson(path) => match Lesson::load(&path) {
                Ok(l) => self.apply(Action::OpenLesson(Box::new(l), path.display().to_string())),
                Err(e) => self.notify(Notice::error(None, e.to_string())),
            },
            Action::Slide(i) => self.go_to_slide(i),
            Action::CloseLesson => self.lesson = None,
            Action::OpenText { name, bytes } => self.open_text(&name, bytes),
            Action::Upload => files::upload(&self.files, &self.ctx),
            Action::OpenPoints { side, name, bytes } => self.open_points(side, &name, &bytes),
            Action::UploadPoints(side) => files::upload_points(side, &self.files, &self.ctx),
        }
    }

    /// Makes the points of a CSV file's bytes run `side`'s data set (restarting it); a bad
    /// file changes nothing and shows one line naming it and the row.
    fn open_points(&mut self, side: Side, name: &str, bytes: &[u8]) {
        let points = match crate::points::parse_csv(bytes, name) {
            Ok(points) => points,
            Err(e) => return self.notify(Notice::error(Some(side), e.to_string())),
        };
        let Some(pane) = self.pane(side) else { return };
        let mut config = pane.config.clone();
        let crate::sim::ProblemConfig::Network(network) = &mut config.problem else {
            let n = Notice::error(Some(side), format!("{name}: points are data for a network"));
            return self.notify(n);
        };
        let n = points.len();
        network.data.kind = crate::sim::DataKind::Points(points);
        self.apply(Action::Edit(side, Box::new(config)));
        self.notify(Notice::info(
            Some(side),
            format!("Loaded {n} points from {name}"),
        ));
    }

    /// Opens a preset or a lesson from a file's bytes; a bad file leaves the session
    /// untouched and shows one line naming it.
    fn open_text(&mut self, name: &str, bytes: Vec<u8>) {
        if bytes.len() as u64 > crate::preset::MAX_FILE_BYTES {
            let n = Notice::error(
                None,
                format!(
                    "{name}: {} bytes is too large (at most {})",
                    bytes.len(),
                    crate::preset::MAX_FILE_BYTES
                ),
            );
            return self.notify(n);
        }
        let Ok(text) = String::from_utf8(bytes) else {
            return self.notify(Notice::error(None, format!("{name}: not a text file")));
        };
        if crate::lesson::looks_like_lesson(&text) {
            match Lesson::from_ron(&text, name) {
                Ok(l) => self.apply(Action::OpenLesson(Box::new(l), name.to_owned())),
                Err(e) => self.notify(Notice::error(None, e.to_string())),
            }
        } else {
            match Preset::from_ron(&text, name) {
                Ok(p) => self.load_preset(p),
                Err(e) => self.notify(Notice::error(None, e.to_string())),
            }
        }
    }

    /// A link to the running session on the web page (see [`crate::link`]).
    pub fn session_link(&self) -> String {
        // The page's own query (`?bench`) is not part of the session.
        let page = self.page.split(['?', '#']).next().unwrap_or(&self.page);
        crate::link::link(page, &self.session())
    }

    /// Opens slide `i` of the lesson (clamped to its slides): its session from step 0,
    /// then its cues.
    pub fn go_to_slide(&mut self, i: usize) {
        let Some(state) = &mut self.lesson else {
            return;
        };
        let i = i.min(state.lesson.slides.len().saturating_sub(1));
        state.index = i;
        let Some(slide) = state.lesson.slides.get(i).cloned() else {
            return;
        };
        let file = state.file.clone();
        match slide.session(&file) {
            Ok(p) => self.load_preset(p),
            Err(e) => {
                self.notify(Notice::error(None, e.to_string()));
                return;
            }
        }
        // Each slide starts from the plain views, then its cues.
        self.state.show_slice = false;
        self.state.entropy_map = false;
        self.state.concepts = false;
        for cue in slide.cues {
            match cue {
                Cue::Paused => self.a.send(Command::Pause),
                Cue::RunTo(n) => {
                    self.a.send(Command::RunTo(n));
                    if let Some(b) = &self.b {
                        b.send(Command::RunTo(n));
                    }
                }
                Cue::Show(View::LossLandscape) => self.state.show_slice = true,
                Cue::Show(View::Uncertainty) => self.state.entropy_map = true,
                Cue::Show(View::BoltzmannDensity) => self.view.density_underlay = true,
                Cue::Concepts(topic) => {
                    self.state.concepts = true;
                    self.state.concepts_topic = Some(topic);
                }
                Cue::Compare => self.start_compare(self.a.config.clone()),
                Cue::Presenter => self.view.presenter = true,
            }
        }
    }

    /// The lesson bar: the narration in large type, the slide counter, Previous and Next.
    fn lesson_ui(&mut self, ui: &mut egui::Ui) {
        let Some(state) = &self.lesson else {
            return;
        };
        let n = state.lesson.slides.len();
        let i = state.index;
        let narration = state
            .lesson
            .slides
            .get(i)
            .map_or(String::new(), |s| s.narration.clone());
        ui.horizontal(|ui| {
            if ui
                .add_enabled(i > 0, egui::Button::new("Previous"))
                .on_hover_text("PageUp")
                .clicked()
            {
                self.actions.push(Action::Slide(i - 1));
            }
            ui.strong(format!("{} / {n}", i + 1));
            if ui
                .add_enabled(i + 1 < n, egui::Button::new("Next"))
                .on_hover_text("PageDown")
                .clicked()
            {
                self.actions.push(Action::Slide(i + 1));
            }
            ui.add(egui::Label::new(egui::RichText::new(&state.lesson.title).weak()).truncate());
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.small_button("Close lesson").clicked() {
                    self.actions.push(Action::CloseLesson);
                }
            });
        });
        let max = (ui.ctx().content_rect().height() * 0.25).max(40.0);
        egui::ScrollArea::vertical()
            .id_salt("narration")
            .max_height(max)
            .show(ui, |ui| {
                ui.label(
                    egui::RichText::new(narration)
                        .size(ui.style().text_styles[&egui::TextStyle::Heading].size * 0.85),
                );
            });
    }

    /// Shows a notice (replacing an older one about the same run with the same text).
    pub fn notify(&mut self, n: Notice) {
        self.notices.retain(|old| old != &n);
        self.notices.push(n);
        if self.notices.len() > NOTICES {
            self.notices.remove(0);
        }
    }

    /// Starts comparing with a second run on `config` (from step 0, with A restarted too).
    pub fn start_compare(&mut self, config: RunConfig) {
        match RunPane::start_with(
            self.driver,
            Side::B,
            config,
            self.pace,
            Some(waker(&self.ctx)),
        ) {
            Ok(b) => {
                b.send(Command::SetView(self.view_request()));
                self.b = Some(b);
                self.a.send(Command::Reset);
            }
            Err(e) => self.notify(Notice::error(Some(Side::B), e.to_string())),
        }
    }

    /// Replaces the session with `preset` and starts it from step 0.
    pub fn load_preset(&mut self, preset: Preset) {
        self.title = preset.title;
        self.description = preset.description;
        self.pace = preset.pace;
        self.view = preset.view;
        self.b = None;
        self.editing = Side::A;
        self.a.config = preset.run;
        self.a.suggestion = None;
        let request = self.view_request();
        for c in [
            Command::SetPace(self.pace),
            Command::SetView(request),
            Command::Load(Box::new(self.a.config.clone())),
        ] {
            self.a.send(c);
        }
        if let Some(b) = preset.compare {
            // `start_compare` resets A too, so both start together.
            self.start_compare(b);
        }
        self.notices.clear();
        self.applied_scale = 0.0;
        self.applied_dark = None;
    }

    /// Loads a preset file; a bad file leaves the session untouched and shows why.
    pub fn load_file(&mut self, path: &std::path::Path) {
        self.apply(Action::LoadFile(path.to_owned()));
    }

    /// Saves `preset` as `path`, replacing an existing file only with `overwrite` (else
    /// the Presets window asks first).
    fn save(&mut self, preset: Preset, path: PathBuf, overwrite: bool) {
        if let Some(dir) = path.parent()
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            self.notify(Notice::error(None, format!("{}: {e}", dir.display())));
            return;
        }
        match preset.save(&path, overwrite) {
            Ok(()) => {
                self.title = preset.title.clone();
                self.notify(Notice::info(None, format!("Saved {}", path.display())));
                self.presets.confirm = None;
                self.presets.refresh();
            }
            Err(crate::preset::PresetError::Exists { .. }) => {
                self.presets.confirm = Some((path, Box::new(preset)));
            }
            Err(e) => self.notify(Notice::error(None, e.to_string())),
        }
    }

    /// Opens the Presets window.
    pub fn open_presets(&mut self) {
        self.presets.open();
    }

    /// Drains the snapshots that arrived, without waiting.
    pub fn ingest(&mut self) {
        if let Ok(outcome) = self.saved_rx.try_recv() {
            self.notify(outcome);
        }
        for n in self.record.poll() {
            self.notify(n);
        }
        for action in self.files.drain() {
            self.apply(action);
        }
        if self.frozen {
            return;
        }
        // Cooperative trainers step here, within the frame's budget shared between runs.
        let n = if self.b.is_some() { 2 } else { 1 };
        let mut again = None::<web_time::Duration>;
        for pane in self.panes() {
            if let Some(wait) = pane.drive(FRAME_BUDGET / n) {
                again = Some(again.map_or(wait, |a| a.min(wait)));
            }
        }
        if let Some(wait) = again {
            self.ctx.request_repaint_after(wait);
        }
        let mut notices = self.a.ingest();
        if let Some(b) = &mut self.b {
            notices.extend(b.ingest());
        }
        if self.a.history.is_empty() && self.a.latest.is_some() {
            self.state.follow = true;
        }
        for n in notices {
            self.notify(n);
        }
    }

    /// Whether run A's trainer reported that it is stepping.
    pub fn playing(&self) -> bool {
        self.a.playing()
    }

    fn toggle_play(&self) -> Action {
        let c = if self.playing() {
            Command::Pause
        } else {
            Command::Play
        };
        Action::Trainer(Target::Both, c)
    }

    fn reheat(&self) -> Action {
        let t = self.edited().config.annealer.schedule.t0();
        Action::Trainer(Target::Both, Command::SetTemperature(t))
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
        // What presentation clickers send.
        if let Some(l) = &self.lesson {
            let last = l.lesson.slides.len().saturating_sub(1);
            let to = ctx.input(|i| {
                if i.key_pressed(Key::PageDown) {
                    Some((l.index + 1).min(last))
                } else if i.key_pressed(Key::PageUp) {
                    Some(l.index.saturating_sub(1))
                } else if i.key_pressed(Key::Home) {
                    Some(0)
                } else if i.key_pressed(Key::End) {
                    Some(last)
                } else {
                    None
                }
            });
            if let Some(to) = to.filter(|&to| to != l.index) {
                self.act(Action::Slide(to));
            }
        }
        if space {
            self.act(self.toggle_play());
        }
        if step {
            self.act(Action::Trainer(Target::Both, Command::Step(1)));
        }
        if reset {
            self.act(Action::Trainer(Target::Both, Command::Reset));
        }
        if heat {
            self.act(self.reheat());
        }
        if full {
            let now = ctx.input(|i| i.viewport().fullscreen.unwrap_or(false));
            ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(!now));
        }
    }

    fn apply_looks(&mut self, ctx: &egui::Context) {
        // The presenter layout is read from the back of a hall: larger type.
        let scale = self.view.scale
            * if self.view.presenter {
                PRESENTER_ZOOM
            } else {
                1.0
            };
        if self.applied_scale != scale {
            ctx.set_zoom_factor(scale);
            self.applied_scale = scale;
        }
        if self.applied_dark != Some(self.view.dark) {
            ctx.set_theme(if self.view.dark {
                egui::Theme::Dark
            } else {
                egui::Theme::Light
            });
            self.applied_dark = Some(self.view.dark);
        }
    }

    /// One frame of the whole UI.
    pub fn frame(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.apply_looks(&ctx);
        self.ingest();
        self.keyboard(&ctx);
        let grid = self.view.grid;
        self.layout.clear();
        let r = egui::Panel::top("menu").show(ui, |ui| self.menu_ui(ui));
        self.place("menu", r.response.rect);
        if self.view.presenter {
            let r = egui::Panel::top("strip").show(ui, |ui| self.strip_ui(ui));
            self.place("strip", r.response.rect);
        }
        let r = egui::Panel::bottom("status").show(ui, |ui| self.status_ui(ui));
        self.place("status", r.response.rect);
        if self.lesson.is_some() {
            let r = egui::Panel::bottom("lesson").show(ui, |ui| self.lesson_ui(ui));
            self.place("lesson", r.response.rect);
        }
        if !self.view.presenter {
            let width = ctx.content_rect().width();
            let r = egui::Panel::left("controls")
                .resizable(true)
                .default_size((width * 0.26).clamp(220.0, 320.0))
                .max_size(width * 0.45)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| self.controls_ui(ui));
                });
            self.place("controls", r.response.rect);
        }
        let r = egui::CentralPanel::default().show(ui, |ui| self.central_ui(ui));
        self.place("central", r.response.rect);
        self.record.capture(&ctx, r.response.rect);
        concepts::concepts_window(
            &ctx,
            &mut self.state.concepts,
            &mut self.state.concepts_topic,
        );
        let session = self.session();
        presets::presets_window(
            &ctx,
            &mut self.presets,
            || session.clone(),
            &mut self.actions,
        );
        self.help_window(&ctx);
        if self.view.grid != grid {
            self.act(Action::Trainer(
                Target::Both,
                Command::SetView(self.view_request()),
            ));
        }
        let actions = std::mem::take(&mut self.actions);
        if !actions.is_empty() && self.driver == Driver::Cooperative {
            // The trainers take the commands when next driven: in the next frame.
            ctx.request_repaint();
        }
        for action in actions {
            self.apply(action);
        }
    }

    fn place(&mut self, name: &str, rect: egui::Rect) {
        self.layout.push(Placed {
            name: name.to_owned(),
            rect,
        });
    }

    /// Where the panels, views and plots were drawn in the last frame.
    pub fn placed(&self) -> impl Iterator<Item = &Placed> {
        self.layout.iter().chain(&self.plots.placed)
    }

    /// Whether the plots did not fit in the last frame and scroll.
    pub fn plots_scroll(&self) -> bool {
        self.plots.scrolls
    }

    /// The presenter's strip: the title as a caption, and the run controls a lecturer
    /// needs (hideable).
    fn strip_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.add(egui::Label::new(egui::RichText::new(&self.title).heading()).truncate());
        });
        if self.state.strip_hidden {
            if ui
                .small_button("Show controls")
                .on_hover_text("Play, step, reset, reheat and the pace")
                .clicked()
            {
                self.state.strip_hidden = false;
            }
            return;
        }
        ui.horizontal(|ui| {
            let label = if self.playing() { "Pause" } else { "Play" };
            if ui.button(label).on_hover_text("Space").clicked() {
                self.actions.push(self.toggle_play());
            }
            if ui
                .button("Step")
                .on_hover_text("S or Right arrow")
                .clicked()
            {
                self.actions
                    .push(Action::Trainer(Target::Both, Command::Step(1)));
            }
            if ui.button("Reset").on_hover_text("R").clicked() {
                self.actions
                    .push(Action::Trainer(Target::Both, Command::Reset));
            }
            if ui.button("Reheat").on_hover_text("H: back to T0").clicked() {
                self.actions.push(self.reheat());
            }
            let steps = self.a.config.steps;
            if controls::pace_ui(ui, &mut self.pace, steps) {
                self.actions
                    .push(Action::Trainer(Target::Both, Command::SetPace(self.pace)));
            }
            if ui
                .small_button("Hide")
                .on_hover_text("Hide these controls")
                .clicked()
            {
                self.state.strip_hidden = true;
            }
        });
    }

    fn controls_ui(&mut self, ui: &mut egui::Ui) {
        let comparing = self.b.is_some();
        let mut editing = self.editing;
        let pane = match (&self.b, self.editing) {
            (Some(b), Side::B) => b,
            _ => &self.a,
        };
        let mut looks = Looks {
            saved: &mut self.view,
            state: &mut self.state,
            pace: self.pace,
            comparing,
            side: pane.side,
        };
        controls::controls_ui(
            ui,
            pane,
            controls::PanelCtx {
                looks: &mut looks,
                actions: &mut self.actions,
                editing: comparing.then_some(&mut editing),
                pace: &mut self.pace,
            },
        );
        self.editing = editing;
    }

    fn central_ui(&mut self, ui: &mut egui::Ui) {
        let mut dismissed = None;
        for (i, n) in self.notices.iter().enumerate() {
            ui.horizontal(|ui| {
                let color = if n.error {
                    ui.visuals().error_fg_color
                } else {
                    ui.visuals().warn_fg_color
                };
                let text = match n.side {
                    Some(side) if self.b.is_some() => format!("Run {}: {}", side.letter(), n.text),
                    _ => n.text.clone(),
                };
                if ui.small_button("Dismiss").clicked() {
                    dismissed = Some(i);
                }
                ui.add(egui::Label::new(egui::RichText::new(text).color(color)).truncate());
            });
        }
        if let Some(i) = dismissed {
            self.notices.remove(i);
        }
        let actions = &mut self.actions;
        for pane in std::iter::once(&self.a).chain(self.b.as_ref()) {
            if let Some(c) = &pane.crashed {
                let side = pane.side;
                ui.horizontal(|ui| {
                    if ui.button("Restart").clicked() {
                        actions.push(Action::Restart(side));
                    }
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        format!("Run {}: {c}", side.letter()),
                    );
                });
            }
        }
        if !self.description.is_empty() && !self.view.presenter {
            egui::CollapsingHeader::new("About this session")
                .default_open(false)
                .show(ui, |ui| ui.label(&self.description));
        }
        let area = ui.available_rect_before_wrap();
        let comparing = self.b.is_some();
        let n = if comparing { 2.0 } else { 1.0 };
        let gap = ui.spacing().item_spacing.x;
        // The problem's view gets the largest share: beside the plots when the area is
        // wide, above them when it is tall.
        let wide = area.width() >= area.height() * 1.15;
        let (views, column) = if wide {
            let w = (area.width() * if comparing { 0.62 } else { 0.55 })
                .min(area.height() * n)
                .max(area.width() * 0.4);
            let (left, right) = area.split_left_right_at_x(area.left() + w);
            (left, right.with_min_x(right.left() + gap))
        } else {
            let h = (area.height() * 0.55).min(area.width() / n);
            let (top, bottom) = area.split_top_bottom_at_y(area.top() + h);
            (top, bottom.with_min_y(bottom.top() + gap))
        };
        let shown = if self.view.presenter {
            self.view.presenter_plots
        } else {
            self.view.plots
        };
        let mut looks = Looks {
            saved: &mut self.view,
            state: &mut self.state,
            pace: self.pace,
            comparing,
            side: self.editing,
        };
        let (a, b) = (&mut self.a, &mut self.b);
        let mut placed = Vec::new();
        // The views, side by side when comparing.
        let each = (views.width() - gap * (n - 1.0)) / n;
        for (k, pane) in std::iter::once(&mut *a).chain(b.as_mut()).enumerate() {
            let rect = egui::Rect::from_min_size(
                views.min + egui::vec2(k as f32 * (each + gap), 0.0),
                egui::vec2(each, views.height()),
            );
            let mut child = ui.new_child(
                egui::UiBuilder::new()
                    .id_salt(("view", k))
                    .max_rect(rect)
                    .layout(egui::Layout::top_down(egui::Align::Min)),
            );
            child.set_clip_rect(rect.intersect(ui.clip_rect()));
            if comparing {
                child.strong(format!("Run {}", pane.side.letter()));
            }
            let mut ctx = kinds::ViewCtx {
                looks: &mut looks,
                actions: &mut *actions,
            };
            kinds::central_ui(&mut child, pane, &mut ctx);
            placed.push(Placed {
                name: format!("view {}", pane.side.letter()),
                rect: child.min_rect().intersect(rect),
            });
        }
        // The plot column: readouts, the ladder panels, the live plots; it scrolls when
        // they do not fit.
        let mut child = ui.new_child(
            egui::UiBuilder::new()
                .id_salt("plot-column")
                .max_rect(column)
                .layout(egui::Layout::top_down(egui::Align::Min)),
        );
        let title = self.title.as_str();
        let plots = &mut self.plots;
        egui::ScrollArea::vertical()
            .id_salt("plot-column-scroll")
            .auto_shrink(false)
            .max_height(column.height())
            .show(&mut child, |ui| {
                let top = ui.cursor().top();
                // A ladder panel takes at most 40% of the column (30% each when comparing).
                let ladder = column.height() * if comparing { 0.3 } else { 0.4 };
                kinds::readouts_ui(ui, a, &looks, actions);
                tempering::panel_ui(ui, a, comparing, ladder);
                if let Some(b) = b.as_mut() {
                    kinds::readouts_ui(ui, b, &looks, actions);
                    tempering::panel_ui(ui, b, comparing, ladder);
                }
                let used = ui.cursor().top() - top;
                let height = (column.height() - used).max(0.0);
                plots::plots_ui(ui, a, b.as_ref(), &mut looks, plots, shown, height, title);
            });
        placed.push(Placed {
            name: "plot column".into(),
            rect: column,
        });
        self.layout.extend(placed);
        ui.advance_cursor_after_rect(area);
    }

    fn menu_ui(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("Session", |ui| {
                if ui.button("Presets...").clicked() {
                    self.open_presets();
                }
                if ui.button("Reset to default").clicked() {
                    self.act(Action::LoadPreset(Box::new(Preset::builtin_default())));
                }
                ui.separator();
                if ui
                    .button("Copy link")
                    .on_hover_text(
                        "A link to the web page that opens this session (settings, pace and view)",
                    )
                    .clicked()
                {
                    let link = self.session_link();
                    let n = link.len();
                    ui.ctx().copy_text(link);
                    self.notify(Notice::info(
                        None,
                        format!("Copied a link to this session ({n} characters)"),
                    ));
                }
                if ui
                    .button("Copy preset text")
                    .on_hover_text("The session as preset text (RON), to paste into a file")
                    .clicked()
                {
                    ui.ctx().copy_text(self.session().to_ron());
                    self.notify(Notice::info(None, "Copied the session as preset text".into()));
                }
            });
            ui.menu_button("Compare", |ui| {
                if self.b.is_none() {
                    if ui
                        .button("Compare with a copy of this run")
                        .on_hover_text("Run B beside A on its own thread; then pick \"Editing: B\" in the controls and change anything")
                        .clicked()
                    {
                        self.act(Action::StartCompare(Box::new(self.a.config.clone())));
                    }
                } else if ui.button("Stop comparing").clicked() {
                    self.act(Action::StopCompare);
                }
            });
            ui.menu_button("Run", |ui| {
                let label = if self.playing() {
                    "Pause  (Space)"
                } else {
                    "Play  (Space)"
                };
                if ui.button(label).clicked() {
                    self.act(self.toggle_play());
                }
                if ui.button("Step  (S, Right)").clicked() {
                    self.act(Action::Trainer(Target::Both, Command::Step(1)));
                }
                if ui.button("Reset  (R)").clicked() {
                    self.act(Action::Trainer(Target::Both, Command::Reset));
                }
                if ui.button("Reheat to T0  (H)").clicked() {
                    self.act(self.reheat());
                }
                ui.separator();
                if ui.button("Save history as CSV").clicked() {
                    self.save_csv();
                }
                if ui.button("Save screenshot as PNG").clicked() {
                    self.request_screenshot(ui.ctx());
                }
                ui.separator();
                let mut notices = Vec::new();
                self.record.menu_ui(ui, self.a.step(), &mut notices);
                self.actions
                    .extend(notices.into_iter().map(Action::Notice));
            });
            ui.menu_button("View", |ui| {
                ui.checkbox(&mut self.view.presenter, "Presenter layout")
                    .on_hover_text("Hide the controls and give the plots the whole window");
                ui.checkbox(&mut self.view.dark, "Dark theme");
                if !self.view.hidden_controls.is_empty() {
                    ui.checkbox(&mut self.state.show_hidden, "Show hidden controls")
                        .on_hover_text("This preset hides some controls for a simpler demo");
                }
                ui.add(
                    egui::Slider::new(&mut self.view.scale, crate::preset::SCALE)
                        .text("UI scale")
                        .step_by(0.05),
                )
                .on_hover_text("Larger for projectors (Ctrl +/- also zooms)");
                ui.checkbox(&mut self.view.log_temperature, "Log temperature axis");
                ui.checkbox(&mut self.view.log_energy, "Log energy axis");
                if ui.button("Full screen  (F11)").clicked() {
                    let now = ui.ctx().input(|i| i.viewport().fullscreen.unwrap_or(false));
                    ui.ctx()
                        .send_viewport_cmd(egui::ViewportCommand::Fullscreen(!now));
                }
            });
            ui.menu_button("Help", |ui| {
                if ui.button("Concepts").clicked() {
                    self.state.concepts = true;
                }
                if ui.button("Keyboard shortcuts").clicked() {
                    self.state.help = true;
                }
                if ui
                    .button("Benchmark")
                    .on_hover_text(
                        "Measure proposals per second on one thread (4 hidden units, 100 points): about a second",
                    )
                    .clicked()
                {
                    let n = benchmark_notice(1.0);
                    self.notify(n);
                }
            });
            ui.separator();
            self.record.dot_ui(ui);
            ui.strong(&self.title);
        });
    }

    fn status_ui(&mut self, ui: &mut egui::Ui) {
        let pane = self.edited();
        let prefix = if self.b.is_some() {
            format!("{}: ", pane.side.letter())
        } else {
            String::new()
        };
        let Some(l) = &pane.latest else {
            ui.label("Starting...");
            return;
        };
        let r = &l.record;
        let state = match l.stopped {
            Some(s) if !l.playing => format!("stopped ({s})"),
            _ if l.playing => "running".into(),
            _ if l.finished => "finished".into(),
            _ => "paused".into(),
        };
        // (priority, text, tip): the most important fields stay when the bar is narrow.
        let mut fields: Vec<(u8, String, &str)> = vec![
            (0, format!("{prefix}{state}, step {}", r.step), ""),
            (
                1,
                format!("T {}", number(l.schedule.temperature())),
                "temperature",
            ),
            (2, format!("E {}", number(r.energy)), "energy"),
            (
                5,
                format!("best {}", number(r.best_energy)),
                "lowest energy so far",
            ),
            (
                4,
                format!("acceptance {}", percent(r.acceptance_rate)),
                "accepted share of the recent moves",
            ),
        ];
        for (o, v) in l.observables.iter().zip(r.observables) {
            if o.status && v.is_finite() {
                let text = match o.plot {
                    PlotKind::Steps { fraction: true, .. } => format!("{} {}", o.label, percent(v)),
                    _ => format!("{} {}", o.label, number(v)),
                };
                fields.push((6, text, o.tip));
            }
        }
        fields.push((
            8,
            format!("sigma {}", number(l.step_size)),
            "step size in force",
        ));
        fields.push((
            7,
            format!("{} steps/s", number(l.steps_per_second.round())),
            "measured speed",
        ));
        if l.playing && r.step < pane.config.steps {
            let rate = self
                .pace
                .steps_per_second(pane.config.steps)
                .unwrap_or(f64::INFINITY)
                .min(l.steps_per_second.max(1e-9));
            let left = (pane.config.steps - r.step) as f64 / rate;
            fields.push((
                3,
                format!("{} left", clock(left)),
                "wall-clock time to the end of the run at this pace",
            ));
        }
        let font = egui::TextStyle::Body.resolve(ui.style());
        let color = ui.visuals().text_color();
        let widths: Vec<f32> = fields
            .iter()
            .map(|(_, text, _)| {
                ui.fonts_mut(|f| f.layout_no_wrap(text.clone(), font.clone(), color).size().x)
            })
            .collect();
        // A separator and the spacing around it.
        let sep = 2.0 * ui.spacing().item_spacing.x + 1.0;
        let mut order: Vec<usize> = (0..fields.len()).collect();
        order.sort_by_key(|&i| fields[i].0);
        let mut keep = vec![false; fields.len()];
        let mut used = 0.0;
        let room = ui.available_width() - 4.0;
        for i in order {
            let w = widths[i] + if used > 0.0 { sep } else { 0.0 };
            if used + w <= room {
                keep[i] = true;
                used += w;
            }
        }
        ui.horizontal(|ui| {
            let mut first = true;
            for ((_, text, tip), keep) in fields.into_iter().zip(keep) {
                if !keep {
                    continue;
                }
                if !first {
                    ui.separator();
                }
                first = false;
                let label = ui.add(egui::Label::new(text).extend());
                if !tip.is_empty() {
                    label.on_hover_text(tip);
                }
            }
        });
    }

    fn help_window(&mut self, ctx: &egui::Context) {
        egui::Window::new("Keyboard shortcuts")
            .open(&mut self.state.help)
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
    }

    /// Writes run A's plotted history (the last step of each bucket) as CSV into the
    /// working directory, never replacing a file.
    fn save_csv(&mut self) {
        let observables = self.a.latest.as_ref().map_or(&[][..], |l| l.observables);
        let mut text = StepRecord::csv_header(observables);
        text.push('\n');
        for b in self.a.history.buckets() {
            text.push_str(&b.end_record().csv_row(observables.len()));
            text.push('\n');
        }
        let name = format!("annealscope-history-step{}.csv", self.a.step());
        let n = files::save_new(&name, text.as_bytes());
        self.notify(n);
    }

    fn request_screenshot(&mut self, ctx: &egui::Context) {
        let name = format!("annealscope-step{}.png", self.a.step());
        self.notify(Notice::info(None, format!("Saving {name}...")));
        let report = self.saved_tx.clone();
        let wake = ctx.clone();
        ctx.request_screenshot(move |image| {
            let [w, h] = image.size;
            let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
            let mut png = std::io::Cursor::new(Vec::new());
            let outcome = match image::RgbaImage::from_raw(w as u32, h as u32, bytes)
                .map(|b| b.write_to(&mut png, image::ImageFormat::Png))
            {
                Some(Ok(())) => files::save_new(&name, png.get_ref()),
                _ => Notice::error(None, format!("{name}: could not encode the screenshot")),
            };
            let _ = report.send(outcome);
            wake.request_repaint();
        });
    }
}

/// A waker that repaints `ctx`.
fn waker(ctx: &egui::Context) -> Waker {
    let ctx = ctx.clone();
    Box::new(move || ctx.request_repaint())
}

/// Key of the last session in eframe's storage.
const SESSION_KEY: &str = "session";

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        #[cfg(target_arch = "wasm32")]
        crate::web::watch(self, _frame);
        self.frame(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        // The preset's own text, so that a restored session goes through the same
        // versioned reader and validation as a file.
        storage.set_string(SESSION_KEY, self.session().to_ron());
    }
}

/// The session to open when no preset is given: the last one, from eframe's saved text
/// (read, checked and converted exactly as a preset file is), or the built-in default,
/// with a notice saying why the saved one was refused.
pub fn restored_session(saved: Option<&str>) -> (Preset, Option<Notice>) {
    let Some(text) = saved else {
        return (Preset::builtin_default(), None);
    };
    match Preset::from_ron(text, "<last session>") {
        Ok(p) => (p, None),
        Err(e) => (
            Preset::builtin_default(),
            Some(Notice::error(
                None,
                format!("{e}; opened the built-in default instead"),
            )),
        ),
    }
}

/// Builds the app as eframe starts it: on `preset` if given; else, unless `refused` says
/// why the session asked for could not be opened, on the last session (saved on exit in
/// eframe's storage: a file on the desktop, the browser's storage on the web); else on the
/// built-in default. Then opens `lesson` if given.
pub fn create(
    cc: &eframe::CreationContext<'_>,
    preset: Option<Preset>,
    refused: Option<String>,
    lesson: Option<(Lesson, String)>,
) -> anyhow::Result<App> {
    let (preset, notice) = match (preset, refused) {
        (Some(p), _) => (p, None),
        (None, Some(e)) => (
            Preset::builtin_default(),
            Some(Notice::error(
                None,
                format!("{e}; opened the built-in default instead"),
            )),
        ),
        (None, None) => restored_session(
            cc.storage
                .and_then(|s| s.get_string(SESSION_KEY))
                .as_deref(),
        ),
    };
    let mut app = App::new(&cc.egui_ctx, preset)?;
    if let Some(n) = notice {
        app.notify(n);
    }
    if let Some((lesson, name)) = lesson {
        app.apply(Action::OpenLesson(Box::new(lesson), name));
    }
    Ok(app)
}

/// Measures proposals per second on this thread at (hidden 4, samples 100) for about
/// `seconds` in all, and says so in a notice.
pub fn benchmark_notice(seconds: f64) -> Notice {
    match crate::bench::run_all(seconds / 2.0, Some(4)) {
        Ok(r) => Notice::info(None, bench_summary(&r)),
        Err(e) => Notice::error(None, format!("benchmark: {e}")),
    }
}

/// One line saying what a benchmark at (hidden 4, samples 100) measured.
pub fn bench_summary(results: &[crate::bench::BenchResult]) -> String {
    let rate = |p: &str| {
        results
            .iter()
            .find(|b| b.proposal == p)
            .map_or(0.0, |b| b.proposals_per_s)
    };
    format!(
        "Benchmark, one thread, 4 hidden units on 100 points: {} proposals/s moving all parameters, {} moving one",
        number(rate("all").round()),
        number(rate("one").round())
    )
}

/// Opens the window and runs the app until it is closed: on `preset` if given, else on
/// the last session (saved on exit), else on the built-in default.
#[cfg(not(target_arch = "wasm32"))]
pub fn run(
    preset: Option<Preset>,
    lesson: Option<(Lesson, String)>,
    size: Option<[f32; 2]>,
) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("annealscope")
            .with_inner_size(size.unwrap_or([1280.0, 800.0]))
            .with_min_inner_size([800.0, 500.0]),
        ..Default::default()
    };
    eframe::run_native(
        "annealscope",
        options,
        Box::new(|cc| Ok(Box::new(create(cc, preset, None, lesson)?))),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trainer::Trainer;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use std::time::{Duration, Instant};

    fn until(h: &mut Harness<'static, App>, what: &str, pred: impl Fn(&App) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pred(h.state()) {
            assert!(Instant::now() < deadline, "{what} not reached");
            std::thread::sleep(Duration::from_millis(10));
            h.step();
        }
    }

    #[test]
    fn a_crashed_trainer_is_shown_with_a_restart_button_that_works() {
        let app = App::new(&egui::Context::default(), Preset::builtin_default()).expect("starts");
        let mut h = Harness::builder()
            .with_size(egui::vec2(1280.0, 800.0))
            .build_ui_state(|ui, app: &mut App| app.frame(ui), app);
        until(&mut h, "a first step", |a| a.a.step() > 0);
        h.state_mut()
            .a
            .replace_trainer(Trainer::panicking("boom in the trainer"));
        until(&mut h, "the crash", |a| a.a.crashed.is_some());
        h.step();
        let shown = "Run A: the trainer stopped unexpectedly: boom in the trainer";
        assert!(
            h.query_by_label_contains(shown).is_some(),
            "the crash is shown"
        );
        assert!(
            h.state()
                .notices
                .iter()
                .any(|n| n.error && n.text.contains("boom in the trainer")),
            "and noticed"
        );
        h.get_by_label("Restart").click();
        h.step();
        until(&mut h, "the restart", |a| a.a.crashed.is_none());
        let at = h.state().a.step();
        until(&mut h, "steps after the restart", |a| a.a.step() > at);
        assert!(
            h.query_by_label_contains(shown).is_none(),
            "no longer shown"
        );
    }
}
