//! Presets: a whole session saved as one versioned, hand-editable RON file.
//!
//! Loading never panics and never half-succeeds: a file is parsed, its `version`
//! checked, every value validated, and only then handed over. Files of an older version
//! are read by that version's reader ([`v1`]) and converted to today's [`Preset`] without
//! changing their meaning; saving always writes the current version. Every error names the file,
//! the line and column where RON reports one, and the field path. Saving is atomic (a
//! temporary file in the same folder, then a rename) and refuses to replace an existing
//! file unless asked to.

pub mod v1;

use crate::pace::Pace;
use crate::sim::config::{check, printable};
use crate::sim::{RangeError, RunConfig};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The format version this build writes (it reads this one and every older one).
///
/// Version 2: `run.problem` holds either the network (with its `data`) or a landscape;
/// `speed` became `pace` (`Max`, `StepsPerSecond(r)` or `Duration(seconds)`);
/// `view.hidden` became `view.hidden_controls`; `view.plots.accuracy` became
/// `view.plots.observables`.
pub const FORMAT_VERSION: u32 = 2;

/// Largest preset file accepted, in bytes.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The built-in presets shipped in `assets/presets/`, embedded in the binary.
pub const BUILTIN: [(&str, &str); 27] = [
    ("default", include_str!("../../assets/presets/default.ron")),
    (
        "seed-article",
        include_str!("../../assets/presets/seed-article.ron"),
    ),
    ("quench", include_str!("../../assets/presets/quench.ron")),
    ("too-hot", include_str!("../../assets/presets/too-hot.ron")),
    (
        "cosine-restarts",
        include_str!("../../assets/presets/cosine-restarts.ron"),
    ),
    (
        "adaptive",
        include_str!("../../assets/presets/adaptive.ron"),
    ),
    (
        "spirals-wide",
        include_str!("../../assets/presets/spirals-wide.ron"),
    ),
    (
        "circles-tanh",
        include_str!("../../assets/presets/circles-tanh.ron"),
    ),
    (
        "well-slow",
        include_str!("../../assets/presets/well-slow.ron"),
    ),
    (
        "well-quench",
        include_str!("../../assets/presets/well-quench.ron"),
    ),
    (
        "muller-brown",
        include_str!("../../assets/presets/muller-brown.ron"),
    ),
    (
        "rastrigin",
        include_str!("../../assets/presets/rastrigin.ron"),
    ),
    (
        "harmonic",
        include_str!("../../assets/presets/harmonic.ron"),
    ),
    (
        "compare-anneal-vs-quench",
        include_str!("../../assets/presets/compare-anneal-vs-quench.ron"),
    ),
    (
        "compare-sa-vs-langevin",
        include_str!("../../assets/presets/compare-sa-vs-langevin.ron"),
    ),
    (
        "compare-langevin-vs-gd",
        include_str!("../../assets/presets/compare-langevin-vs-gd.ron"),
    ),
    (
        "compare-sa-vs-tempering",
        include_str!("../../assets/presets/compare-sa-vs-tempering.ron"),
    ),
    (
        "tsp-random-100",
        include_str!("../../assets/presets/tsp-random-100.ron"),
    ),
    (
        "tsp-berlin52",
        include_str!("../../assets/presets/tsp-berlin52.ron"),
    ),
    (
        "compare-tsp-anneal-vs-quench",
        include_str!("../../assets/presets/compare-tsp-anneal-vs-quench.ron"),
    ),
    (
        "rbm-exact-vs-cd1",
        include_str!("../../assets/presets/rbm-exact-vs-cd1.ron"),
    ),
    (
        "rbm-cold-vs-tempering",
        include_str!("../../assets/presets/rbm-cold-vs-tempering.ron"),
    ),
    ("rbm-ais", include_str!("../../assets/presets/rbm-ais.ron")),
    (
        "ising-through-tc",
        include_str!("../../assets/presets/ising-through-tc.ron"),
    ),
    (
        "ising-quench",
        include_str!("../../assets/presets/ising-quench.ron"),
    ),
    (
        "compare-ising-wolff-vs-metropolis",
        include_str!("../../assets/presets/compare-ising-wolff-vs-metropolis.ron"),
    ),
    (
        "ising-spin-glass",
        include_str!("../../assets/presets/ising-spin-glass.ron"),
    ),
];

/// How the session is shown (kept with the run so a lecture looks the same on reload).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ViewConfig {
    /// Side of the decision-boundary grid.
    pub grid: usize,
    /// UI scale, larger for projectors.
    pub scale: f32,
    /// Dark theme (else light).
    pub dark: bool,
    /// Presenter layout: no control panel, the plots get the window.
    pub presenter: bool,
    /// Temperature plot on a log axis.
    pub log_temperature: bool,
    /// Energy plot on a log axis.
    pub log_energy: bool,
    /// Controls hidden from students (View > Show hidden controls brings them back).
    pub hidden_controls: Vec<Control>,
    /// Which live plots are shown.
    pub plots: PlotSet,
    /// Which plots the presenter layout shows: the two or three that tell the story.
    pub presenter_plots: PlotSet,
    /// Landscape colours on a log scale of `E - E_min`.
    pub log_landscape: bool,
    /// Draw the exact Boltzmann density under the walkers instead of the energy.
    pub density_underlay: bool,
}

/// Which live plots are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlotSet {
    /// Temperature and the planned schedule.
    pub temperature: bool,
    /// Energy and best energy.
    pub energy: bool,
    /// Windowed acceptance rate.
    pub acceptance: bool,
    /// The problem's own observables plotted against the step (the network's accuracy).
    pub observables: bool,
    /// Heat capacity from the energy fluctuations, against the temperature.
    pub heat_capacity: bool,
}

impl PlotSet {
    /// Temperature, energy and acceptance: the story of most runs.
    pub const STORY: PlotSet = PlotSet {
        temperature: true,
        energy: true,
        acceptance: true,
        observables: false,
        heat_capacity: false,
    };
}

impl Default for PlotSet {
    fn default() -> Self {
        Self {
            temperature: true,
            energy: true,
            acceptance: true,
            observables: true,
            heat_capacity: true,
        }
    }
}

/// A control (or group of controls) a preset can hide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Control {
    /// The pace (duration, steps per second or as fast as possible); version 1 called
    /// it `Speed`.
    #[serde(alias = "Speed")]
    Pace,
    /// The run length.
    RunLength,
    /// The schedule and its parameters.
    Schedule,
    /// The temperature floor.
    TMin,
    /// The step size.
    StepSize,
    /// The proposal kind.
    Proposal,
    /// The acceptance rule.
    Acceptance,
    /// The reheat button.
    Reheat,
    /// The whole Network group.
    Network,
    /// The whole Data group (and the seed).
    Data,
}

impl Default for ViewConfig {
    fn default() -> Self {
        Self {
            grid: 128,
            scale: 1.0,
            dark: true,
            presenter: false,
            log_temperature: true,
            log_energy: true,
            hidden_controls: Vec::new(),
            plots: PlotSet::default(),
            presenter_plots: PlotSet::STORY,
            log_landscape: true,
            density_underlay: false,
        }
    }
}

/// Allowed UI scales.
pub const SCALE: std::ops::RangeInclusive<f32> = 0.5..=3.0;

/// A saved session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Preset {
    /// Format version; files from a newer version are refused.
    pub version: u32,
    /// A short title.
    pub title: String,
    /// A paragraph for students: what to watch for.
    pub description: String,
    /// Everything that defines the run.
    pub run: RunConfig,
    /// A second run compared side by side with the first (compare mode).
    pub compare: Option<RunConfig>,
    /// How fast the run plays.
    pub pace: Pace,
    /// How the session is shown.
    pub view: ViewConfig,
}

impl Default for Preset {
    fn default() -> Self {
        Self {
            version: FORMAT_VERSION,
            title: "Untitled".into(),
            description: String::new(),
            run: RunConfig::default(),
            compare: None,
            pace: Pace::default(),
            view: ViewConfig::default(),
        }
    }
}

/// Why a preset could not be loaded or saved. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// The file could not be read or written.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{file}: too large for a preset ({size} bytes or more; at most {MAX_FILE_BYTES})")]
    TooLarge {
        /// The file.
        file: String,
        /// Its size, or as much of it as was read.
        size: u64,
    },
    /// Not a regular file (a folder, a named pipe, a device): never read.
    #[error("{file}: not a regular file ({kind}); a preset is a text file")]
    NotAFile {
        /// The file.
        file: String,
        /// What it is instead.
        kind: &'static str,
    },
    /// The file is not UTF-8 text.
    #[error("{file}: not a text file (invalid UTF-8 at byte {at})")]
    NotText {
        /// The file.
        file: String,
        /// Offset of the first bad byte.
        at: usize,
    },
    /// RON could not parse it, or a field has the wrong type or name.
    #[error("{file}:{line}:{column}: {}{message}", field_prefix(.field))]
    Syntax {
        /// The file.
        file: String,
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// Dotted path of the field, when known.
        field: Option<String>,
        /// RON's description.
        message: String,
    },
    /// Written by a newer annealscope.
    #[error(
        "{file}: format version {found} is newer than this annealscope reads (at most {FORMAT_VERSION}); update annealscope"
    )]
    Version {
        /// The file.
        file: String,
        /// The version in the file.
        found: u32,
    },
    /// A value is out of range.
    #[error("{file}: `{}` = {} is out of range: allowed {}", .error.field, .error.value, .error.allowed)]
    Range {
        /// The file.
        file: String,
        /// The bad field.
        error: RangeError,
    },
    /// Saving would replace an existing file without consent.
    #[error("{file}: already exists; not overwritten")]
    Exists {
        /// The file.
        file: String,
    },
    /// A built-in preset was asked for by a name that none has.
    #[error(
        "{file}: no built-in preset is called {name:?} (see the Presets window or assets/presets)"
    )]
    Missing {
        /// The file that asked.
        file: String,
        /// The name asked for.
        name: String,
    },
}

fn field_prefix(field: &Option<String>) -> String {
    match field {
        Some(f) if !f.is_empty() && f != "?" && f != "." => format!("`{f}`: "),
        _ => String::new(),
    }
}

#[derive(Deserialize)]
struct VersionOnly {
    #[serde(default)]
    version: u32,
}

/// Reads a text file of at most [`MAX_FILE_BYTES`] (a preset or a lesson). Anything but
/// a regular file (a folder, a named pipe, a device) is refused before it is opened, and
/// at most [`MAX_FILE_BYTES`] + 1 bytes are read whatever size the file reports, so no
/// input hangs or reads without bound.
pub fn read_text(path: &Path) -> Result<String, PresetError> {
    use std::io::Read;
    let file = printable(&path.display().to_string()).into_owned();
    let io = |source| PresetError::Io {
        file: file.clone(),
        source,
    };
    let not_a_file = |meta: &std::fs::Metadata| {
        (!meta.is_file()).then(|| PresetError::NotAFile {
            file: file.clone(),
            kind: file_kind(meta),
        })
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if let Some(e) = not_a_file(&meta) {
        return Err(e);
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(PresetError::TooLarge {
            file,
            size: meta.len(),
        });
    }
    let opened = std::fs::File::open(path).map_err(io)?;
    // What was opened may not be what was looked at (the path may have changed).
    if let Some(e) = not_a_file(&opened.metadata().map_err(io)?) {
        return Err(e);
    }
    let mut bytes = Vec::new();
    opened
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(PresetError::TooLarge {
            file,
            size: bytes.len() as u64,
        });
    }
    String::from_utf8(bytes).map_err(|e| PresetError::NotText {
        file: file.clone(),
        at: e.utf8_error().valid_up_to(),
    })
}

/// Parses RON text into `T`, with the field path and position of any error; `file` names
/// the text in errors.
pub fn parse<T: serde::de::DeserializeOwned>(text: &str, file: &str) -> Result<T, PresetError> {
    let syntax = |e: ron::error::SpannedError, field: Option<String>| {
        let (line, column) = (e.span.start.line, e.span.start.col);
        let (field, message) = explain(text, line, column, &e.code, field);
        PresetError::Syntax {
            file: printable(file).into_owned(),
            line,
            column,
            field: field.map(|f| printable(&f).into_owned()),
            message: printable(&message).into_owned(),
        }
    };
    let mut de = ron::Deserializer::from_str(text).map_err(|e| syntax(e, None))?;
    let value: T = match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => v,
        Err(e) => {
            let field = e.path().to_string();
            let spanned = de.span_error(e.into_inner());
            return Err(syntax(spanned, Some(field)));
        }
    };
    if let Err(e) = de.end() {
        return Err(syntax(de.span_error(e), None));
    }
    Ok(value)
}

/// The byte offset of a position RON reports (line from 1, column from 1 in characters).
fn offset(text: &str, line: usize, column: usize) -> usize {
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    text[start..]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(i, _)| start + i)
}

/// The value that starts at byte `at` (after white space), as an error quotes it: one
/// bracket, or everything up to the next white space, comma, colon or bracket, cut to 40
/// characters; a minus sign just before `at` is included.
fn token_at(text: &str, at: usize) -> String {
    let rest = text[at..].trim_start();
    let sign = if text[..at].ends_with('-') { "-" } else { "" };
    let token: String = match rest.chars().next() {
        None => return "the end of the file".into(),
        Some(c @ ('(' | '[' | '{' | ')' | ']' | '}')) => c.to_string(),
        Some(_) => rest
            .chars()
            .take_while(|c| !c.is_whitespace() && !",:()[]{}".contains(*c))
            .take(40)
            .collect(),
    };
    format!("`{sign}{}`", printable(&token))
}

/// The name before byte `at`, skipping white space backwards (`""` if none).
fn name_before(text: &str, at: usize) -> (&str, usize) {
    let head = text[..at].trim_end();
    let start = head
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_alphanumeric() || c == '_')
        .last()
        .map_or(head.len(), |(i, _)| i);
    (&head[start..], start)
}

/// The field whose value starts at byte `at`: the name before the `:` before it.
fn field_before(text: &str, at: usize) -> Option<&str> {
    let head = text[..at].trim_end();
    let head = head.strip_suffix(':')?;
    let (name, _) = name_before(head, head.len());
    (!name.is_empty()).then_some(name)
}

/// RON's error in words a preset's author can act on, with the field it concerns: a
/// number where a whole number was wanted, a value after a name that takes none, a
/// negative or too large count. RON reports some of these at the *next* field (a path
/// ending in `?`); the field is then found before the error's position.
fn explain(
    text: &str,
    line: usize,
    column: usize,
    code: &ron::Error,
    field: Option<String>,
) -> (Option<String>, String) {
    use ron::Error as E;
    let at = offset(text, line, column);
    let mut field = field.map(|f| {
        let mut f = f.as_str();
        while let Some(rest) = f.strip_suffix(".?").or_else(|| f.strip_suffix('?')) {
            f = rest;
        }
        f.to_owned()
    });
    let name_the = |field: &mut Option<String>, name: Option<&str>| {
        if let (Some(f), Some(name)) = (field.as_mut(), name)
            && *f != name
            && !f.ends_with(&format!(".{name}"))
            && !f.ends_with(']')
        {
            if !f.is_empty() {
                f.push('.');
            }
            f.push_str(name);
        }
    };
    let found = token_at(text, at);
    let message = match code {
        E::ExpectedComma | E::ExpectedStructLikeEnd | E::ExpectedArrayEnd | E::ExpectedMapEnd => {
            let next = text[at..].chars().next();
            let digits = text[..at]
                .char_indices()
                .rev()
                .take_while(|&(_, c)| c.is_ascii_digit() || c == '-')
                .last()
                .map(|(i, _)| i);
            match (next, digits) {
                (Some('.' | 'e' | 'E'), Some(start)) => {
                    name_the(&mut field, field_before(text, start));
                    format!("expected a whole number, found {}", token_at(text, start))
                }
                (Some('('), _) => {
                    let (name, start) = name_before(text, at);
                    if name.starts_with(char::is_uppercase) {
                        name_the(&mut field, field_before(text, start));
                        format!("`{name}` takes no value in parentheses; write `{name}` alone")
                    } else {
                        code.to_string()
                    }
                }
                _ => format!("expected `,` or a closing bracket, found {found}"),
            }
        }
        E::InvalidIntegerDigit { .. } | E::ExpectedInteger => {
            format!("expected a whole number, found {found}")
        }
        E::IntegerOutOfBounds if found.starts_with("`-") => {
            format!("expected a whole number of at least 0, found {found}")
        }
        E::IntegerOutOfBounds => format!("{found} is too large a number for this field"),
        E::ExpectedFloat => format!("expected a number, found {found}"),
        E::ExpectedBoolean => format!("expected `true` or `false`, found {found}"),
        E::ExpectedOption => format!("expected `Some(...)` or `None`, found {found}"),
        E::ExpectedString => format!("expected text in double quotes, found {found}"),
        other => other.to_string(),
    };
    (field.filter(|f| !f.is_empty()), message)
}

/// Where in the file a syntax error lies (line, column), for comparing two readings.
fn position(e: &PresetError) -> (usize, usize) {
    match e {
        PresetError::Syntax { line, column, .. } => (*line, *column),
        _ => (0, 0),
    }
}

impl Preset {
    /// The built-in default session (a setting that learns the XOR quadrants).
    pub fn builtin_default() -> Self {
        Self::builtin("default").unwrap_or_default()
    }

    /// A built-in preset by name.
    pub fn builtin(name: &str) -> Option<Self> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        Self::from_ron(text, &format!("<built-in {name}>")).ok()
    }

    /// Parses and validates preset text of any version this build reads; `file` names it
    /// in errors. A file without a `version` is read as today's format, or as version 1
    /// if only that reading succeeds.
    pub fn from_ron(text: &str, file: &str) -> Result<Self, PresetError> {
        if text.trim().is_empty() {
            return Err(PresetError::Syntax {
                file: file.to_owned(),
                line: 1,
                column: 1,
                field: None,
                message: "the file is empty; a preset is a RON struct `( ... )`".into(),
            });
        }
        // The version first, so a newer file gets the right message rather than
        // "unknown field".
        let version = ron::from_str::<VersionOnly>(text).map_or(0, |v| v.version);
        if version > FORMAT_VERSION {
            return Err(PresetError::Version {
                file: file.to_owned(),
                found: version,
            });
        }
        let old = |p: v1::PresetV1| {
            let preset = p.into_current();
            preset.validate(file).map_err(|e| match e {
                PresetError::Range { file, error } => PresetError::Range {
                    file,
                    error: RangeError {
                        field: v1::field_path(&error.field),
                        ..error
                    },
                },
                other => other,
            })?;
            Ok(preset)
        };
        match version {
            1 => old(parse::<v1::PresetV1>(text, file)?),
            0 => match parse::<Preset>(text, file) {
                Ok(p) => {
                    p.validate(file)?;
                    Ok(p)
                }
                // Neither: report the reading that got further into the file.
                Err(now) => match parse::<v1::PresetV1>(text, file) {
                    Ok(p) => old(p),
                    Err(then) if position(&then) > position(&now) => Err(then),
                    Err(_) => Err(now),
                },
            },
            _ => {
                let p = parse::<Preset>(text, file)?;
                p.validate(file)?;
                Ok(p)
            }
        }
    }

    /// Checks the version and every value's range.
    pub fn validate(&self, file: &str) -> Result<(), PresetError> {
        if self.version > FORMAT_VERSION {
            return Err(PresetError::Version {
                file: file.to_owned(),
                found: self.version,
            });
        }
        self.run.validate().map_err(|error| PresetError::Range {
            file: file.to_owned(),
            error: RangeError {
                field: format!("run.{}", error.field),
                ..error
            },
        })?;
        if let Some(b) = &self.compare {
            b.validate().map_err(|error| PresetError::Range {
                file: file.to_owned(),
                error: RangeError {
                    field: format!("compare.{}", error.field),
                    ..error
                },
            })?;
        }
        let range = |error| PresetError::Range {
            file: file.to_owned(),
            error,
        };
        self.pace.validate().map_err(|e| range(e.within("pace")))?;
        check("view.scale", self.view.scale, SCALE).map_err(range)?;
        check("view.grid", self.view.grid, crate::sim::limits::GRID).map_err(range)?;
        Ok(())
    }

    /// Reads, parses and validates a preset file. Anything but a regular file (a folder,
    /// a named pipe, a device) is refused before it is opened, and at most
    /// [`MAX_FILE_BYTES`] + 1 bytes are read whatever size the file reports, so no input
    /// hangs or reads without bound.
    pub fn load(path: &Path) -> Result<Self, PresetError> {
        let text = read_text(path)?;
        Self::from_ron(&text, &printable(&path.display().to_string()))
    }

    /// The preset as pretty RON, with a comment saying what the file is.
    pub fn to_ron(&self) -> String {
        let pretty = ron::ser::PrettyConfig::new()
            .struct_names(false)
            .separate_tuple_members(false)
            .indentor("    ");
        let body = ron::ser::to_string_pretty(self, pretty)
            .unwrap_or_else(|e| format!("// could not serialise: {e}\n"));
        format!(
            "// annealscope preset (format version {FORMAT_VERSION}).\n\
             // Open it in annealscope, or run it headless: annealscope run --preset FILE\n\
             // Fields left out take their defaults; `annealscope check FILE` validates it.\n{body}\n"
        )
    }

    /// Saves atomically. Refuses to replace an existing file unless `overwrite`.
    pub fn save(&self, path: &Path, overwrite: bool) -> Result<(), PresetError> {
        write_atomic(path, self.to_ron().as_bytes(), overwrite)
    }
}

/// What a file that is not a regular file is, in words.
pub fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a plain file"
}

/// The permissions a file saved as `path` gets: those of the file it replaces, or the
/// usual ones of a new file (temporary files are private, 0600).
pub fn saved_permissions(path: &Path) -> Option<std::fs::Permissions> {
    match std::fs::metadata(path) {
        Ok(m) => Some(m.permissions()),
        Err(_) => default_permissions(),
    }
}

#[cfg(unix)]
fn default_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<std::fs::Permissions> {
    None
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a
/// crash leaves either the old file or the new one, never a mix. Without `overwrite` an
/// existing file is left alone and [`PresetError::Exists`] returned.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<(), PresetError> {
    let file = path.display().to_string();
    let io = |source| PresetError::Io {
        file: file.clone(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
    if let Some(p) = saved_permissions(path) {
        tmp.as_file().set_permissions(p).map_err(io)?;
    }
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    if overwrite {
        tmp.persist(path).map_err(|e| io(e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                PresetError::Exists { file: file.clone() }
            } else {
                io(e.error)
            }
        })?;
    }
    Ok(())
}

/// Environment variable that overrides the folder of the user's own presets.
pub const DIR_ENV: &str = "ANNEALSCOPE_PRESET_DIR";

/// The folder of the user's own presets: `$ANNEALSCOPE_PRESET_DIR`, else `presets/` in the
/// OS config directory (e.g. `~/.config/annealscope/presets` on Linux).
pub fn user_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(DIR_ENV) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "annealscope").map(|d| d.config_dir().join("presets"))
}

/// The user's presets in `dir`, sorted by file name, each loaded or with its error.
pub fn list_dir(dir: &Path) -> Vec<(PathBuf, Result<Preset, String>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let loaded = Preset::load(&p).map_err(|e| e.to_string());
            (p, loaded)
        })
        .collect()
}

/// A file name for a preset called `name`: letters, digits, `-` and `_` kept, spaces made
/// `-`, everything else dropped; `None` if nothing is left.
pub fn file_name(name: &str) -> Option<String> {
    let stem: String = name
        .trim()
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            ' ' => Some('-'),
            _ => None,
        })
        .take(64)
        .collect();
    (!stem.is_empty()).then(|| format!("{stem}.ron"))
}
