//! Compare mode: a second run (B) beside the first (A), each on its own trainer thread.
//! Its curves are overlaid on A's live plots and its decision boundary is drawn beside
//! A's; the control panel edits either side.

use super::{App, Feed};
use crate::sim::RunConfig;
use crate::trainer::{Command, Trainer};

/// The second run.
pub struct Compare {
    trainer: Trainer,
    /// B's settings.
    pub config: RunConfig,
    /// What B's trainer has reported.
    pub feed: Feed,
    pub(super) texture: Option<egui::TextureHandle>,
    /// The control panel edits B instead of A.
    pub editing: bool,
    /// B's parallel-tempering panel, when B tempers.
    pub(super) tempering: super::tempering::TemperingState,
    /// B's walkers and their textures, when B is a landscape run.
    pub(super) landscape: super::landscape::LandscapeState,
}

impl Compare {
    /// Starts B on `config`; `ctx` is woken by its snapshots.
    pub fn start(
        ctx: &egui::Context,
        config: RunConfig,
        speed: crate::trainer::Speed,
    ) -> anyhow::Result<Self> {
        let waker_ctx = ctx.clone();
        let trainer = Trainer::spawn(
            config.clone(),
            speed,
            Some(Box::new(move || waker_ctx.request_repaint())),
        )?;
        Ok(Self {
            trainer,
            config,
            feed: Feed::new(),
            texture: None,
            editing: false,
            tempering: super::tempering::TemperingState::default(),
            landscape: super::landscape::LandscapeState::default(),
        })
    }

    /// Drains B's snapshots without waiting.
    pub(super) fn ingest(&mut self) {
        let snapshots: Vec<_> = self.trainer.snapshots().collect();
        for s in snapshots {
            let restarted = self.feed.absorb(&s);
            self.tempering
                .absorb(s.latest.step, s.tempering.clone(), restarted);
            self.landscape.absorb(s.landscape.clone());
            if s.error.is_some() {
                self.config = s.config.clone();
            }
        }
    }

    /// Sends a command to B's trainer.
    pub fn send(&self, c: Command) {
        self.trainer.send(c);
    }
}

impl App {
    /// Starts comparing with a copy of the current run (B starts identical; change it with
    /// "Editing: B").
    pub fn start_compare(&mut self, config: RunConfig) {
        match Compare::start(&self.ctx, config, self.preset.speed) {
            Ok(c) => {
                self.compare = Some(c);
                self.command(Command::Reset);
            }
            Err(e) => self.notice = Some((e.to_string(), true)),
        }
    }
}
