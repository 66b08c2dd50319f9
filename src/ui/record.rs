//! Run > Record: the central panel (the problem's view and the live plots) recorded into
//! an animated GIF at a chosen frame rate, written into the working directory beside the
//! screenshots, never replacing a file. A red dot in the menu bar shows that recording is
//! on.
//!
//! The UI thread only asks the backend for a screenshot when a frame is due
//! (`request_screenshot`, as "Save screenshot" does) and hands the image, with the
//! central panel's rectangle, to the recorder's encoder thread
//! ([`crate::recording::Recorder`]) without waiting; cropping, colour mapping and
//! compression happen there.

use super::Notice;
use crate::recording::{Recorder, Shot, Summary};
use std::path::PathBuf;
use web_time::Instant;

/// Frame rates offered.
pub const RATES: [u32; 4] = [5, 10, 15, 25];

/// The recorder's settings and the recording in progress.
pub struct RecordUi {
    /// Frames per second of new recordings.
    pub fps: u32,
    /// Halve each side of the frames (for large windows).
    pub half: bool,
    /// The folder recordings go to: the working directory, like screenshots.
    pub dir: PathBuf,
    active: Option<Active>,
    /// Stopped recordings whose files are still being written.
    finishing: Vec<Recorder>,
}

struct Active {
    recorder: Recorder,
    started: Instant,
    /// Seconds after the start at which the next frame is due.
    next: f64,
}

impl Default for RecordUi {
    fn default() -> Self {
        Self {
            fps: 10,
            half: false,
            dir: PathBuf::from("."),
            active: None,
            finishing: Vec::new(),
        }
    }
}

impl RecordUi {
    /// Seconds since the recording started, while one is on.
    pub fn recording(&self) -> Option<f64> {
        self.active
            .as_ref()
            .map(|a| a.started.elapsed().as_secs_f64())
    }

    /// Whether a stopped recording is still being written.
    pub fn finishing(&self) -> bool {
        !self.finishing.is_empty()
    }

    /// A file name in [`RecordUi::dir`] that no file has yet.
    fn free_path(&self, step: u64) -> Option<PathBuf> {
        (1..1000)
            .map(|k| {
                let name = if k == 1 {
                    format!("annealscope-recording-step{step}.gif")
                } else {
                    format!("annealscope-recording-step{step}-{k}.gif")
                };
                if self.dir == std::path::Path::new(".") {
                    PathBuf::from(name)
                } else {
                    self.dir.join(name)
                }
            })
            .find(|p| !p.exists())
    }

    /// Starts recording (named after run A's `step`); `ctx` is woken when the file is
    /// written.
    pub fn start(&mut self, ctx: &egui::Context, step: u64) -> Result<(), Notice> {
        let Some(path) = self.free_path(step) else {
            return Err(Notice::error(
                None,
                format!("{}: too many recordings here", self.dir.display()),
            ));
        };
        let wake = ctx.clone();
        let recorder = Recorder::start(
            path,
            f64::from(self.fps),
            self.half,
            Some(Box::new(move || wake.request_repaint())),
        )
        .map_err(|e| Notice::error(None, e.to_string()))?;
        self.active = Some(Active {
            recorder,
            started: Instant::now(),
            next: 0.0,
        });
        Ok(())
    }

    /// Stops recording; the file is written in the background and announced by
    /// [`RecordUi::poll`].
    pub fn stop(&mut self) {
        if let Some(mut a) = self.active.take() {
            a.recorder.stop();
            self.finishing.push(a.recorder);
        }
    }

    /// When a frame is due, asks the backend for a screenshot whose `rect` (logical
    /// pixels: the central panel) goes to the encoder; keeps frames coming while
    /// recording. Never waits.
    pub fn capture(&mut self, ctx: &egui::Context, rect: egui::Rect) {
        let Some(a) = &mut self.active else {
            return;
        };
        let interval = 1.0 / f64::from(self.fps.max(1));
        let now = a.started.elapsed().as_secs_f64();
        if now >= a.next {
            if let Some(feed) = a.recorder.feed() {
                let ppp = ctx.pixels_per_point();
                let crop = egui::Rect::from_min_max(
                    (rect.min.to_vec2() * ppp).to_pos2(),
                    (rect.max.to_vec2() * ppp).to_pos2(),
                );
                ctx.request_screenshot(move |image| {
                    feed.offer(Shot {
                        image,
                        crop,
                        at: now,
                    });
                });
            }
            // The next frame one interval on; after a stall, one interval from now.
            a.next = (a.next + interval).max(now + interval * 0.5);
        }
        let wait = (a.next - a.started.elapsed().as_secs_f64()).max(0.0);
        ctx.request_repaint_after(std::time::Duration::from_secs_f64(wait));
    }

    /// What became of stopped recordings since the last call; never waits.
    pub fn poll(&mut self) -> Vec<Notice> {
        let mut notices = Vec::new();
        self.finishing.retain_mut(|r| match r.outcome() {
            None => true,
            Some(Ok(s)) => {
                notices.push(Notice::info(None, saved(&s)));
                false
            }
            Some(Err(e)) => {
                notices.push(Notice::error(None, e.to_string()));
                false
            }
        });
        notices
    }

    /// The Run menu's entries: Record (or Stop recording), the frame rate, half size.
    pub fn menu_ui(&mut self, ui: &mut egui::Ui, step: u64, notices: &mut Vec<Notice>) {
        if super::files::BROWSER {
            // The encoder needs a thread of its own, which a web page does not have.
            ui.add_enabled(false, egui::Button::new("Record"))
                .on_disabled_hover_text(
                    "Recording needs the desktop app (or `annealscope run --gif` for a headless recording)",
                );
            return;
        }
        if self.active.is_some() {
            if ui.button("Stop recording").clicked() {
                self.stop();
                ui.close();
            }
            return;
        }
        if ui
            .button("Record")
            .on_hover_text("Record the view and the live plots into an animated GIF in the working directory, until Run > Stop recording")
            .clicked()
        {
            if let Err(n) = self.start(ui.ctx(), step) {
                notices.push(n);
            }
            ui.close();
        }
        ui.horizontal(|ui| {
            ui.label("Frame rate:");
            for r in RATES {
                ui.selectable_value(&mut self.fps, r, format!("{r}/s"));
            }
        });
        ui.checkbox(&mut self.half, "Half size").on_hover_text(
            "Halve the width and height of the recording (smaller files from large windows)",
        );
    }

    /// The red dot and the recording's length, while recording.
    pub fn dot_ui(&self, ui: &mut egui::Ui) {
        let Some(seconds) = self.recording() else {
            return;
        };
        let size = ui.text_style_height(&egui::TextStyle::Body);
        let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
        ui.painter().circle_filled(
            rect.center(),
            size * 0.35,
            egui::Color32::from_rgb(220, 30, 30),
        );
        ui.label(format!("REC {}", super::format::clock(seconds)))
            .on_hover_text("Recording the view and the plots: Run > Stop recording");
    }
}

impl Drop for RecordUi {
    /// A recording on when the app closes is finished and written (waiting a few
    /// seconds at most for the encoder).
    fn drop(&mut self) {
        self.stop();
        for r in &mut self.finishing {
            let _ = r.wait(std::time::Duration::from_secs(10));
        }
    }
}

/// The notice for a written recording.
fn saved(s: &Summary) -> String {
    let mut text = format!(
        "Saved {} ({} frames, {}x{}, {:.1} s, {:.1} MB)",
        s.path.display(),
        s.frames,
        s.size[0],
        s.size[1],
        s.seconds,
        s.bytes as f64 / 1e6
    );
    if s.dropped > 0 {
        text.push_str(&format!(
            "; {} frames came while the encoder was busy and were left out",
            s.dropped
        ));
    }
    text
}
