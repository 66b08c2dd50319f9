//! Lessons: a sequence of sessions prepared in advance and walked through in front of a
//! class, one RON file each.
//!
//! A lesson has a title and an ordered list of slides. Each slide names a preset (a
//! built-in one by name, or one written inline), carries a short narration shown in a
//! large caption bar, and optional cues: start paused, run to a step and pause, show a
//! view, open the Concepts window at a topic, compare with a copy, the presenter layout.
//! Loading checks every slide, so a missing preset or a bad cue is one line naming the
//! file and the slide.

use crate::preset::{self, Preset, PresetError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Slides a lesson may have.
pub const SLIDES: std::ops::RangeInclusive<usize> = 1..=200;

/// The lessons shipped in `assets/lessons/`, embedded in the binary.
pub const BUILTIN: [(&str, &str); 6] = [
    (
        "article-fixed",
        include_str!("../assets/lessons/article-fixed.ron"),
    ),
    ("boltzmann", include_str!("../assets/lessons/boltzmann.ron")),
    ("schedules", include_str!("../assets/lessons/schedules.ron")),
    (
        "phase-transitions",
        include_str!("../assets/lessons/phase-transitions.ron"),
    ),
    ("salesman", include_str!("../assets/lessons/salesman.ron")),
    (
        "boltzmann-machines",
        include_str!("../assets/lessons/boltzmann-machines.ron"),
    ),
];

/// A lesson: a title and its slides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lesson {
    /// Format version; files from a newer version are refused.
    pub version: u32,
    /// The lesson's title.
    pub title: String,
    /// The slides, in order.
    pub slides: Vec<Slide>,
}

impl Default for Lesson {
    fn default() -> Self {
        Self {
            version: FORMAT_VERSION,
            title: "Untitled lesson".into(),
            slides: Vec::new(),
        }
    }
}

/// One step of a lesson.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slide {
    /// The session the slide opens.
    pub preset: Source,
    /// What the lecturer says, shown in the caption bar.
    pub narration: String,
    /// What happens when the slide opens.
    #[serde(default)]
    pub cues: Vec<Cue>,
}

/// Where a slide's session comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Source {
    /// A built-in preset, by name (`"default"`, `"well-slow"`, ...).
    Builtin(String),
    /// A preset written out in the lesson.
    Inline(Box<Preset>),
}

/// Something that happens when a slide opens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Cue {
    /// The run starts paused.
    Paused,
    /// The run plays to this step, then pauses.
    RunTo(u64),
    /// Show one of the views.
    Show(View),
    /// Open the Concepts window at the section with this title.
    Concepts(String),
    /// Compare with a copy of the run (run B), to be changed live.
    Compare,
    /// Switch to the presenter layout.
    Presenter,
}

/// The views a cue can open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    /// A slice of the network's loss landscape.
    LossLandscape,
    /// The network's uncertainty map (predictive entropy).
    Uncertainty,
    /// The exact Boltzmann density under a landscape's walkers.
    BoltzmannDensity,
}

/// Why a lesson cannot be used. Each names the file (and the slide).
#[derive(Debug, thiserror::Error)]
pub enum LessonError {
    /// The file could not be read, or is not RON of a lesson.
    #[error(transparent)]
    File(#[from] PresetError),
    /// A slide is wrong.
    #[error("{file}: slide {slide}: {message}")]
    Slide {
        /// The file.
        file: String,
        /// The slide, from 1.
        slide: usize,
        /// What is wrong.
        message: String,
    },
    /// The lesson as a whole is wrong.
    #[error("{file}: {message}")]
    Lesson {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
}

impl Lesson {
    /// A built-in lesson by name.
    pub fn builtin(name: &str) -> Option<Self> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        Self::from_ron(text, &format!("<built-in lesson {name}>")).ok()
    }

    /// Parses and checks lesson text; `file` names it in errors.
    pub fn from_ron(text: &str, file: &str) -> Result<Self, LessonError> {
        let lesson: Lesson = preset::parse(text, file)?;
        lesson.validate(file)?;
        Ok(lesson)
    }

    /// Reads and checks a lesson file (with the same limits as presets).
    pub fn load(path: &Path) -> Result<Self, LessonError> {
        let text = preset::read_text(path)?;
        Self::from_ron(&text, &path.display().to_string())
    }

    /// Checks the version, the number of slides and every slide: its preset exists and is
    /// valid, and its cues make sense for it.
    pub fn validate(&self, file: &str) -> Result<(), LessonError> {
        let whole = |message: String| LessonError::Lesson {
            file: file.to_owned(),
            message,
        };
        if self.version > FORMAT_VERSION {
            return Err(whole(format!(
                "lesson format version {} is newer than this annealscope reads (at most {FORMAT_VERSION}); update annealscope",
                self.version
            )));
        }
        if !SLIDES.contains(&self.slides.len()) {
            return Err(whole(format!(
                "{} slides: a lesson has {} ..= {}",
                self.slides.len(),
                SLIDES.start(),
                SLIDES.end()
            )));
        }
        for (i, slide) in self.slides.iter().enumerate() {
            let bad = |message: String| LessonError::Slide {
                file: file.to_owned(),
                slide: i + 1,
                message,
            };
            let preset = slide.session(file).map_err(|e| bad(e.to_string()))?;
            for cue in &slide.cues {
                match cue {
                    Cue::Concepts(topic) if !crate::concepts::has_topic(topic) => {
                        return Err(bad(format!(
                            "no Concepts section is called {topic:?} (one of: {})",
                            crate::concepts::topics().join(", ")
                        )));
                    }
                    Cue::RunTo(0) => return Err(bad("RunTo(0): run to a step after 0".into())),
                    Cue::RunTo(n) if *n > preset.run.steps => {
                        return Err(bad(format!(
                            "RunTo({n}) is beyond the run's {} steps",
                            preset.run.steps
                        )));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

impl Slide {
    /// The session this slide opens; `file` names the lesson in errors.
    pub fn session(&self, file: &str) -> Result<Preset, PresetError> {
        match &self.preset {
            Source::Builtin(name) => Preset::builtin(name).ok_or_else(|| PresetError::Missing {
                file: file.to_owned(),
                name: name.clone(),
            }),
            Source::Inline(p) => {
                p.validate(file)?;
                Ok((**p).clone())
            }
        }
    }
}

/// Whether `text` is a lesson rather than a preset (it has slides).
pub fn looks_like_lesson(text: &str) -> bool {
    text.contains("slides")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_lesson_loads() {
        for (name, text) in BUILTIN {
            let lesson = Lesson::from_ron(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert!(lesson.slides.len() >= 3, "{name}");
        }
    }

    #[test]
    fn a_missing_preset_or_a_bad_cue_names_the_slide() {
        let text = r#"(title: "t", slides: [
            (preset: Builtin("default"), narration: "fine"),
            (preset: Builtin("no-such-preset"), narration: "oops"),
        ])"#;
        let e = Lesson::from_ron(text, "l.ron")
            .expect_err("missing")
            .to_string();
        assert!(e.starts_with("l.ron: slide 2: "), "{e}");
        assert!(e.contains("no-such-preset"), "{e}");
        let text =
            r#"(slides: [(preset: Builtin("default"), narration: "", cues: [RunTo(99999999)])])"#;
        let e = Lesson::from_ron(text, "l.ron")
            .expect_err("too far")
            .to_string();
        assert!(e.contains("slide 1") && e.contains("RunTo"), "{e}");
        let text =
            r#"(slides: [(preset: Builtin("default"), narration: "", cues: [Concepts("Nope")])])"#;
        let e = Lesson::from_ron(text, "l.ron")
            .expect_err("topic")
            .to_string();
        assert!(e.contains("slide 1") && e.contains("Nope"), "{e}");
        let e = Lesson::from_ron("(slides: [])", "l.ron")
            .expect_err("empty")
            .to_string();
        assert!(e.contains("0 slides"), "{e}");
    }
}
