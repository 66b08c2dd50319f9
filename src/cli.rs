//! The command line: the GUI by default, `run` (headless), `bench` and `check`.
//!
//! Errors end here: each is printed once, as one line (usage errors included), with any
//! text from a file escaped, and the process exits non-zero. `run` checks every output
//! path before it starts, and streams its CSV files to temporary files beside their
//! targets, renamed over them at the end: memory stays flat however many rows, and a
//! failed run leaves no half-written file.

use crate::preset::Preset;
use crate::sim::config::printable;
use crate::sim::thermo::{CURVE_BINS_PER_DECADE, binned_by_temperature, curve_peak};
use crate::sim::{
    AnyProblem, History, Inexact, Kind, LandscapeProblem, Metric, PlotKind, Run, StepRecord,
    Thermo, limits,
};
use anyhow::bail;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Watch simulated annealing train a tiny neural network.
#[derive(Debug, Parser)]
#[command(name = "annealscope", version, about)]
pub struct Cli {
    /// Open the GUI on this preset instead of the built-in default: a file, or a session
    /// link made by Session > Copy link (`...#p=...`).
    #[arg(long, value_name = "FILE|LINK")]
    pub preset: Option<PathBuf>,
    /// Open the GUI on this lesson (a file, or the name of a built-in lesson) at its first
    /// slide.
    #[arg(long, value_name = "FILE", conflicts_with = "preset")]
    pub lesson: Option<PathBuf>,
    /// The window's size in pixels, e.g. 1920x1080 for a projector (default 1280x800).
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    pub size: Option<[f32; 2]>,
    /// What to do (default: open the GUI).
    #[command(subcommand)]
    pub task: Option<Task>,
}

/// The subcommands.
// Parsed once per process: the size of `run`'s arguments does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Task {
    /// Anneal headless, print a summary and optionally write every K-th step as CSV.
    Run(RunArgs),
    /// Measure proposals per second.
    Bench(BenchArgs),
    /// Validate preset files: exit 0 if all are valid, else one line per problem.
    Check {
        /// Preset files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

/// Arguments of `annealscope run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Preset to run (default: the built-in default): a file, or a session link.
    #[arg(long, value_name = "FILE|LINK")]
    pub preset: Option<PathBuf>,
    /// Number of steps (default: the preset's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000_000_000))]
    pub steps: Option<u64>,
    /// Seed of the network initialisation and the annealer (default: the preset's).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Write the metrics to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// In a landscape run, write the walkers' positions (`step,walker,x,y,energy`) every K-th step.
    #[arg(long, value_name = "FILE.csv")]
    pub samples: Option<PathBuf>,
    /// Write the final state of the problem as JSON (the network's weights and data, the
    /// walkers), so that an independent program can recompute the results.
    #[arg(long, value_name = "FILE.json")]
    pub state: Option<PathBuf>,
    /// Write a figure for slides: the final decision boundary and the T, E and acceptance curves.
    #[arg(long, value_name = "FIG.png")]
    pub png: Option<PathBuf>,
    /// Write every K-th step to the CSV (the last step is always written).
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub every: u64,
    /// Print the summary as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write an animated GIF of the run for slides: `--frames` figures like `--png`'s,
    /// spread evenly over the run (the first at step 0, the last at the end). Never
    /// replaces an existing file.
    #[arg(long, value_name = "FILE.gif")]
    pub gif: Option<PathBuf>,
    /// Frames of the GIF.
    #[arg(long, value_name = "N", default_value_t = 100, requires = "gif", value_parser = clap::value_parser!(u64).range(2..=5000))]
    pub frames: u64,
    /// Frames per second of the GIF (1 to 50).
    #[arg(long, value_name = "F", default_value_t = 10.0, requires = "gif", value_parser = parse_fps)]
    pub fps: f64,
    /// Size in pixels of the GIF's frames (default 960x540) and of the --png figure
    /// (default 1600x900).
    #[arg(long = "size", value_name = "WxH", value_parser = parse_pixels)]
    pub figure_size: Option<[u32; 2]>,
    /// Anneal the network on your own points: a CSV file of `x,y,label` rows (label 0 or
    /// 1, header optional, at most 10000 points), split into train and test as the preset
    /// says.
    #[arg(long, value_name = "FILE.csv")]
    pub data: Option<PathBuf>,
}

/// Arguments of `annealscope bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Print JSON: a list of {hidden, samples, proposal, proposals_per_s}.
    #[arg(long)]
    pub json: bool,
    /// Seconds to measure each case.
    #[arg(long, value_name = "S", default_value_t = 1.0)]
    pub seconds: f64,
    /// Measure the UI instead: milliseconds of CPU per frame for 10k, 100k and 1M steps of history.
    #[arg(long)]
    pub ui: bool,
    /// Measure how long each shipped preset plays at its own pace on this machine.
    #[arg(long)]
    pub presets: bool,
    /// Measure only the case with this many hidden units (4, 16, 64 or 256).
    #[arg(long, value_name = "H", value_parser = clap::value_parser!(u64).range(*limits::HIDDEN.start() as u64..=*limits::HIDDEN.end() as u64))]
    pub hidden: Option<u64>,
}

/// Parses the arguments, runs, and turns any error into one line on stderr.
pub fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("annealscope: error: {}", printable(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

/// Help and version as clap prints them; a usage error as one line (clap's message
/// without its usage block), exit code 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "annealscope: error: {}",
        usage_line(&e.render().to_string())
    );
    ExitCode::from(2)
}

/// clap's rendered error as one line: the lines before `Usage:`, joined, with the
/// `error: ` prefix dropped and a pointer to `--help`.
pub fn usage_line(rendered: &str) -> String {
    let message: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect();
    let joined = message.join(" ");
    let joined = joined.strip_prefix("error: ").unwrap_or(&joined);
    format!("{} (see --help)", printable(joined))
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.task {
        None => {
            let preset = cli.preset.as_deref().map(load_preset).transpose()?;
            let lesson = cli.lesson.as_deref().map(load_lesson).transpose()?;
            crate::gui(preset, lesson, cli.size)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Task::Run(args)) => run(&args).map(|()| ExitCode::SUCCESS),
        Some(Task::Bench(args)) => bench(&args).map(|()| ExitCode::SUCCESS),
        Some(Task::Check { files }) => Ok(check(&files)),
    }
}

/// A lesson file, or a built-in lesson by name, with the name it goes by.
fn load_lesson(path: &Path) -> anyhow::Result<(crate::lesson::Lesson, String)> {
    if !path.exists()
        && let Some(l) = path.to_str().and_then(crate::lesson::Lesson::builtin)
    {
        return Ok((l, path.display().to_string()));
    }
    Ok((
        crate::lesson::Lesson::load(path)?,
        path.display().to_string(),
    ))
}

/// `WxH` in pixels, each from 200 to 16384.
fn parse_size(s: &str) -> Result<[f32; 2], String> {
    let bad = || format!("`{s}` is not a size: write WxH, e.g. 1920x1080");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    let ok = 200..=16384;
    if !ok.contains(&w) || !ok.contains(&h) {
        return Err(format!(
            "{w}x{h} is out of range: allowed 200..=16384 pixels a side"
        ));
    }
    Ok([w as f32, h as f32])
}

/// A figure's `WxH` in pixels, each side within [`crate::figure::SIDE`].
fn parse_pixels(s: &str) -> Result<[u32; 2], String> {
    let bad = || format!("`{s}` is not a size: write WxH, e.g. 960x540");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    let ok = crate::figure::SIDE;
    if !ok.contains(&w) || !ok.contains(&h) {
        return Err(format!(
            "{w}x{h} is out of range: allowed {}..={} pixels a side",
            ok.start(),
            ok.end()
        ));
    }
    Ok([w, h])
}

/// Frames per second of a GIF: 1 to 50 (its delays count hundredths of a second).
fn parse_fps(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if (1.0..=50.0).contains(&f) => Ok(f),
        Ok(f) => Err(format!(
            "{f} is out of range: allowed 1 ..= 50 frames per second"
        )),
        Err(_) => Err(format!("`{s}` is not a number of frames per second")),
    }
}

/// Default size of `run --gif` frames.
pub const GIF_SIZE: [u32; 2] = [960, 540];

/// The steps a recording of `frames` frames draws over a run of `steps` steps: the first
/// at step 0, the last at the end, evenly spaced between.
pub fn frame_steps(frames: u64, steps: u64) -> Vec<u64> {
    let n = frames.max(2);
    (0..n)
        .map(|k| {
            ((u128::from(k) * u128::from(steps) + u128::from(n - 1) / 2) / u128::from(n - 1)) as u64
        })
        .collect()
}

/// A headless recording in progress: the writer, the steps still to draw and how.
struct GifRecording {
    writer: crate::recording::GifWriter,
    steps: Vec<u64>,
    next: usize,
    fps: f64,
    options: crate::figure::Options,
    title: String,
}

impl GifRecording {
    /// Draws every frame due at the run's current step.
    fn frames_due(&mut self, run: &Run, history: &History) -> std::io::Result<()> {
        let step = run.annealer().steps();
        while self.steps.get(self.next).is_some_and(|&s| s <= step) {
            self.draw(run, history)?;
        }
        Ok(())
    }

    /// Draws the next frame at the run's current step.
    fn draw(&mut self, run: &Run, history: &History) -> std::io::Result<()> {
        // A copy, so that evaluating the observables leaves the run's records alone.
        let mut at = run.clone();
        let record = at.record();
        let img = crate::figure::render_with(&at, &record, history, &self.title, &self.options);
        let seconds = self.next as f64 / self.fps;
        self.writer
            .push(img.as_raw(), seconds)
            .map_err(std::io::Error::other)?;
        self.next += 1;
        Ok(())
    }
}

/// Ends the program quietly when whoever reads its output has stopped reading
/// (`annealscope bench | head -3`), as `cat` ends: printing to a closed pipe would
/// otherwise panic inside `println!`. The exit code is a shell's for a closed pipe
/// (128 + SIGPIPE).
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.starts_with("failed printing to std") && text.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

/// A preset file, or the session in a link made by Session > Copy link (a name that is
/// no file and holds `#p=`).
pub fn load_preset(path: &Path) -> anyhow::Result<Preset> {
    if !path.exists()
        && let Some(text) = path.to_str()
        && crate::link::looks_like_link(text)
    {
        return Ok(crate::link::decode(text)?);
    }
    Ok(Preset::load(path)?)
}

fn load_or_default(path: Option<&Path>) -> anyhow::Result<Preset> {
    Ok(match path {
        Some(p) => load_preset(p)?,
        None => Preset::builtin_default(),
    })
}

/// Runs to the end, writing every `every`-th step (and the last) as CSV to `csv` and the
/// problem's per-particle samples to `samples` if given, and keeping every step's metrics
/// in `history`. Returns the last step's record, with its observables evaluated.
pub fn run_to_end(
    run: &mut Run,
    every: u64,
    csv: Option<&mut dyn Write>,
    samples: Option<&mut dyn Write>,
    history: &mut History,
    bar: &ProgressBar,
) -> std::io::Result<StepRecord> {
    run_to_end_with(run, every, csv, samples, history, bar, |_, _| Ok(()))
}

/// [`run_to_end`], calling `after_step` after every step (with the history up to it).
///
/// The run ends at its last step or where a stopping rule stops it; with stopping rules
/// the CSV has a last column, `stopped_by`, naming the rule on the step it stopped at.
pub fn run_to_end_with(
    run: &mut Run,
    every: u64,
    mut csv: Option<&mut dyn Write>,
    mut samples: Option<&mut dyn Write>,
    history: &mut History,
    bar: &ProgressBar,
    mut after_step: impl FnMut(&mut Run, &History) -> std::io::Result<()>,
) -> std::io::Result<StepRecord> {
    let observables = run.observables().len();
    let rules = run.config().stop.is_some();
    if let Some(out) = csv.as_deref_mut() {
        let stop_column = if rules { ",stopped_by" } else { "" };
        writeln!(
            out,
            "{}{stop_column}",
            StepRecord::csv_header(run.observables())
        )?;
    }
    if let (Some(out), Some((columns, _))) = (samples.as_deref_mut(), run.problem().samples()) {
        writeln!(out, "step,{columns}")?;
    }
    let total = run.config().steps;
    while !run.finished() {
        let mut record = run.step_recorded();
        let step = record.step;
        if step.is_multiple_of(every) || step == total || run.finished() {
            if let Some(out) = csv.as_deref_mut() {
                record = run.record();
                let row = record.csv_row(observables);
                match run.stop_reason() {
                    Some(r) => writeln!(out, "{row},{}", r.rule())?,
                    None if rules => writeln!(out, "{row},")?,
                    None => writeln!(out, "{row}")?,
                }
            }
            if let (Some(out), Some((_, rows))) = (samples.as_deref_mut(), run.problem().samples())
            {
                for row in rows {
                    let cells: Vec<String> = row.iter().map(f64::to_string).collect();
                    writeln!(out, "{step},{}", cells.join(","))?;
                }
            }
        }
        history.push(&record);
        after_step(run, history)?;
        if step.is_multiple_of(1024) {
            bar.set_position(step);
        }
    }
    Ok(run.record())
}

/// A value of an observable as people read it (percent for shares).
fn observable_text(plot: PlotKind, v: f64) -> String {
    match plot {
        PlotKind::Steps { fraction: true, .. } if v.is_finite() => format!("{:.2}%", 100.0 * v),
        _ if v.is_nan() => "-".into(),
        _ => value_text(v),
    }
}

/// A value in the summary: six decimals, or scientific form far from 1 (`1.2e300`, never
/// a 300-digit number).
fn value_text(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || (1e-4..1e6).contains(&a) || !v.is_finite() {
        format!("{v:.6}")
    } else {
        format!("{v:.6e}")
    }
}

/// An output file of `run`, checked and opened before the run starts. It is written to
/// a temporary file in the same folder, renamed over its target by [`Output::finish`]; a
/// run that fails leaves the target as it was (and the temporary file is removed).
pub struct Output {
    /// How the user named it: the flag and the path as given.
    name: String,
    path: PathBuf,
    file: BufWriter<tempfile::NamedTempFile>,
}

impl Output {
    /// Checks that `path` (given with `flag`) can be written, before any work is done:
    /// its folder exists, the target is a regular file if it exists, and a file can be
    /// created beside it. The error is one line naming the flag and the path as given.
    pub fn create(flag: &str, path: &Path) -> anyhow::Result<Self> {
        let name = format!("{flag} {}", path.display());
        if path.file_name().is_none() {
            bail!("{name}: not a file name");
        }
        if let Ok(meta) = std::fs::metadata(path)
            && !meta.is_file()
        {
            bail!(
                "{name}: {} is {}, not a file to write",
                path.display(),
                crate::preset::file_kind(&meta)
            );
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        match std::fs::metadata(&dir) {
            Err(_) => bail!("{name}: the folder {} does not exist", dir.display()),
            Ok(m) if !m.is_dir() => bail!("{name}: {} is not a folder", dir.display()),
            Ok(_) => {}
        }
        let file = tempfile::Builder::new()
            .prefix(".annealscope-")
            .suffix(".part")
            .tempfile_in(&dir)
            .map_err(|e| anyhow::anyhow!("{name}: cannot write in {} ({e})", dir.display()))?;
        if let Some(p) = crate::preset::saved_permissions(path) {
            file.as_file()
                .set_permissions(p)
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        }
        Ok(Self {
            name,
            path: path.to_owned(),
            file: BufWriter::new(file),
        })
    }

    /// Where the rows go: errors name the output.
    fn writer(&mut self) -> Named<'_> {
        Named {
            name: &self.name,
            inner: &mut self.file,
        }
    }

    /// Writes `bytes` (for outputs made whole at the end).
    fn write_all(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.writer().write_all(bytes)?;
        Ok(())
    }

    /// Flushes, syncs and renames the file over its target.
    pub fn finish(self) -> anyhow::Result<()> {
        let name = self.name;
        let fail = |e: std::io::Error| anyhow::anyhow!("{name}: {e}");
        let file = self.file.into_inner().map_err(|e| fail(e.into_error()))?;
        file.as_file().sync_all().map_err(fail)?;
        file.persist(&self.path).map_err(|e| fail(e.error))?;
        Ok(())
    }
}

/// A writer whose errors name the output they concern.
struct Named<'a> {
    name: &'a str,
    inner: &'a mut dyn Write,
}

impl Write for Named<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let name = self.name;
        self.inner
            .write(buf)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{name}: {e}")))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let name = self.name;
        self.inner
            .flush()
            .map_err(|e| std::io::Error::new(e.kind(), format!("{name}: {e}")))
    }
}

/// The outputs of `run`, each checked and opened, refusing two that name the same file
/// or one that would replace the preset being run.
fn outputs(args: &RunArgs) -> anyhow::Result<[Option<Output>; 4]> {
    let wanted = [
        ("--csv", &args.csv),
        ("--samples", &args.samples),
        ("--state", &args.state),
        ("--png", &args.png),
        ("--gif", &args.gif),
    ];
    // The same file however it is spelled: its folder resolved, then its name.
    let key = |p: &Path| {
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        dir.canonicalize()
            .ok()
            .zip(p.file_name())
            .map(|(d, f)| d.join(f))
    };
    let mut seen: Vec<(String, Option<PathBuf>)> = Vec::new();
    if let Some(p) = &args.preset {
        seen.push((format!("--preset {}", p.display()), key(p)));
    }
    for (flag, path) in wanted {
        let Some(path) = path else { continue };
        let k = key(path);
        if let Some((other, _)) = seen.iter().find(|(_, o)| o.is_some() && *o == k) {
            bail!("{flag} {}: the same file as {other}", path.display());
        }
        seen.push((format!("{flag} {}", path.display()), k));
    }
    let open = |flag: &str, path: &Option<PathBuf>| {
        path.as_deref().map(|p| Output::create(flag, p)).transpose()
    };
    Ok([
        open("--csv", &args.csv)?,
        open("--samples", &args.samples)?,
        open("--state", &args.state)?,
        open("--png", &args.png)?,
    ])
}

fn run(args: &RunArgs) -> anyhow::Result<()> {
    let mut preset = load_or_default(args.preset.as_deref())?;
    if let Some(steps) = args.steps {
        preset.run.steps = steps;
    }
    if let Some(seed) = args.seed {
        preset.run.seed = seed;
    }
    if let Some(path) = &args.data {
        let points = crate::points::load_csv(path)?;
        let crate::sim::ProblemConfig::Network(net) = &mut preset.run.problem else {
            anyhow::bail!(
                "--data needs a preset that anneals the network (this one anneals {})",
                preset.run.problem.label()
            );
        };
        net.data.kind = crate::sim::DataKind::Points(points);
    }
    anyhow::ensure!(
        args.figure_size.is_none() || args.gif.is_some() || args.png.is_some(),
        "--size needs --gif or --png"
    );
    // Checked before the run, so a bad path costs nothing.
    let mut gif = match &args.gif {
        Some(path) => {
            let [w, h] = args.figure_size.unwrap_or(GIF_SIZE);
            Some(GifRecording {
                writer: crate::recording::GifWriter::create(path, w as usize, h as usize)?,
                steps: frame_steps(args.frames, preset.run.steps),
                next: 0,
                fps: args.fps,
                options: crate::figure::Options {
                    size: [w, h],
                    steps: Some(preset.run.steps),
                },
                title: preset.title.clone(),
            })
        }
        None => None,
    };
    let mut run = Run::new(preset.run.clone())?;
    anyhow::ensure!(
        args.samples.is_none() || run.problem().samples().is_some(),
        "--samples needs a problem with particles, such as a landscape preset (this one anneals the network)"
    );
    let [mut csv, mut samples, state, png] = outputs(args)?;
    let bar = ProgressBar::new(preset.run.steps);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut history = History::new(4096);
    if let Some(g) = &mut gif {
        g.frames_due(&run, &history)?;
    }
    let r = {
        let mut csv_out = csv.as_mut().map(Output::writer);
        let mut samples_out = samples.as_mut().map(Output::writer);
        run_to_end_with(
            &mut run,
            args.every,
            csv_out.as_mut().map(|w| w as &mut dyn Write),
            samples_out.as_mut().map(|w| w as &mut dyn Write),
            &mut history,
            &bar,
            |run, history| match &mut gif {
                Some(g) => g.frames_due(run, history),
                None => Ok(()),
            },
        )?
    };
    let recorded = match gif {
        Some(mut g) => {
            // A run stopped by a rule ends its recording at the step it stopped at.
            if run.stop_reason().is_some() && g.next < g.steps.len() {
                g.draw(&run, &history)?;
            }
            Some(g.writer.finish(1.0 / g.fps)?)
        }
        None => None,
    };
    if let Some(mut out) = state {
        out.write_all(serde_json::to_string_pretty(&run.state())?.as_bytes())?;
        out.finish()?;
    }
    if let Some(mut out) = png {
        let options = crate::figure::Options {
            size: args.figure_size.unwrap_or(crate::figure::SIZE),
            steps: None,
        };
        let figure = crate::figure::render_with(&run, &r, &history, &preset.title, &options);
        let mut bytes = std::io::Cursor::new(Vec::new());
        figure.write_to(&mut bytes, image::ImageFormat::Png)?;
        out.write_all(bytes.get_ref())?;
        out.finish()?;
    }
    for out in [csv, samples].into_iter().flatten() {
        out.finish()?;
    }
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let summary = Summary::of(&run, &r, &history, &preset.title, seconds);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        summary.print(&run);
        if let Some(g) = recorded {
            println!(
                "recording       {}: {} frames, {}x{}, {:.1} s, {:.2} MB",
                g.path.display(),
                g.frames,
                g.size[0],
                g.size[1],
                g.seconds,
                g.bytes as f64 / 1e6
            );
        }
    }
    Ok(())
}

/// One of the thermodynamic quantities.
type Field = fn(&Thermo) -> f64;

/// Exact readouts, or why they could not be computed.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum ExactOut {
    Exact(Thermo),
    Inexact { inexact: String },
}

impl From<Result<Thermo, Inexact>> for ExactOut {
    fn from(r: Result<Thermo, Inexact>) -> Self {
        match r {
            Ok(t) => ExactOut::Exact(t),
            Err(e) => ExactOut::Inexact { inexact: e.reason },
        }
    }
}

/// A heat-capacity maximum: where, and how high.
#[derive(Debug, Serialize)]
struct PeakOut {
    temperature: f64,
    heat_capacity: f64,
    /// False when the largest value is at an end of the temperatures scanned (or, for the
    /// exact curve, less than 2% above both ends: a plateau), where `temperature` means
    /// little.
    interior: bool,
}

/// What `annealscope run` reports at the end, as text or (`--json`) one JSON object.
#[derive(Debug, Serialize)]
struct Summary {
    preset: String,
    steps: u64,
    /// The temperature of the last step (the readouts' temperature).
    temperature: f64,
    /// The final energy (per walker on a landscape).
    energy: f64,
    best_energy: f64,
    /// Over the whole run.
    acceptance: f64,
    /// Over the last `window` steps.
    acceptance_window: f64,
    window: usize,
    train_accuracy: Option<f64>,
    test_accuracy: Option<f64>,
    /// Every observable of the last step by CSV column (NaN, meaningless, as null).
    observables: BTreeMap<&'static str, f64>,
    /// The heat capacity against T over the run (the CSV's `heat_capacity`, averaged in
    /// bins of 1/10 decade of T), at its maximum.
    heat_capacity_peak: Option<PeakOut>,
    /// Candidates with a non-finite energy inside the box (all replicas).
    non_finite: u64,
    /// Landscapes: proposals that left the box (all replicas).
    outside_box: Option<u64>,
    particles: usize,
    /// Landscapes: exact readouts at `temperature` by adaptive quadrature.
    exact: Option<ExactOut>,
    /// Landscapes: the walkers' estimates at `temperature`.
    walkers: Option<Thermo>,
    /// Landscapes: the exact heat-capacity maximum over the schedule's temperatures.
    exact_heat_capacity_peak: Option<ExactPeakOut>,
    /// Why the run stopped before its last step (a stopping rule), if it did.
    stopped: Option<StoppedOut>,
    steps_per_second: f64,
}

/// A stopping rule that ended the run.
#[derive(Debug, Serialize)]
struct StoppedOut {
    step: u64,
    rule: &'static str,
    reason: String,
}

/// The exact peak, or why not.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum ExactPeakOut {
    Exact(PeakOut),
    Inexact { inexact: String },
}

impl Summary {
    fn of(run: &Run, r: &StepRecord, history: &History, title: &str, seconds: f64) -> Self {
        let a = run.annealer();
        let observables = run.observables();
        let value = |column: &str| {
            observables
                .iter()
                .position(|o| o.column == column)
                .map(|i| r.observables[i])
        };
        let engine = run.engine();
        let landscapes: Vec<&LandscapeProblem> = (0..engine.len())
            .filter_map(|i| match engine.slot(i).0 {
                AnyProblem::Landscape(l) => Some(&**l),
                _ => None,
            })
            .collect();
        let all_non_finite: u64 = (0..engine.len())
            .map(|i| engine.slot(i).1.non_finite())
            .sum();
        let outside: u64 = landscapes.iter().map(|l| l.outside()).sum();
        let heat_capacity_peak = observables
            .iter()
            .position(|o| matches!(o.plot, PlotKind::Temperature { .. }))
            .and_then(|i| {
                let k = Metric::observable(i).0;
                let t = Metric::TEMPERATURE.0;
                let points = history.buckets().iter().map(|b| (b.end[t], b.end[k]));
                curve_peak(&binned_by_temperature(points, CURVE_BINS_PER_DECADE))
            })
            .map(|(t, c, interior)| PeakOut {
                temperature: t,
                heat_capacity: c,
                interior,
            });
        let t = r.temperature;
        let readouts = run.landscape().map(|l| l.readouts(t));
        let exact_peak =
            run.landscape().map(
                |l| match l.exact().heat_capacity_peak(run.temperatures().range) {
                    Ok(p) => ExactPeakOut::Exact(PeakOut {
                        temperature: p.t,
                        heat_capacity: p.thermo.heat_capacity,
                        interior: p.interior && p.prominence > 0.02 * p.thermo.heat_capacity,
                    }),
                    Err(e) => ExactPeakOut::Inexact { inexact: e.reason },
                },
            );
        Summary {
            preset: printable(title).into_owned(),
            steps: r.step,
            temperature: t,
            energy: r.energy,
            best_energy: r.best_energy,
            acceptance: a.acceptance_overall(),
            acceptance_window: r.acceptance_rate,
            window: a.config().window,
            train_accuracy: value("train_accuracy"),
            test_accuracy: value("test_accuracy"),
            observables: observables
                .iter()
                .zip(r.observables)
                .map(|(o, v)| (o.column, v))
                .collect(),
            heat_capacity_peak,
            non_finite: all_non_finite - outside.min(all_non_finite),
            outside_box: (!landscapes.is_empty()).then_some(outside),
            particles: run.problem().particles(),
            exact: readouts.as_ref().map(|r| r.exact.clone().into()),
            walkers: readouts.map(|r| r.walkers),
            exact_heat_capacity_peak: exact_peak,
            stopped: run.stop_reason().map(|s| StoppedOut {
                step: s.step(),
                rule: s.rule(),
                reason: s.to_string(),
            }),
            steps_per_second: r.step as f64 / seconds.max(1e-9),
        }
    }

    fn print(&self, run: &Run) {
        println!("preset          {}", self.preset);
        println!("steps           {}", self.steps);
        println!("temperature     {:.6e}", self.temperature);
        let per = if self.particles > 1 {
            " (mean per walker)"
        } else {
            ""
        };
        println!("final energy    {:.6}{per}", self.energy);
        println!("best energy     {:.6}", self.best_energy);
        println!(
            "acceptance      {:.4} (overall), {:.4} (last {} steps)",
            self.acceptance, self.acceptance_window, self.window
        );
        println!(
            "non-finite      {} (candidates whose energy is NaN or infinite)",
            self.non_finite
        );
        if let Some(n) = self.outside_box {
            println!("outside the box {n} (proposals rejected at the box's wall)");
        }
        match &self.stopped {
            Some(s) => println!("stopped         at step {}: {}", s.step, s.reason),
            None if run.config().stop.is_some() => {
                println!(
                    "stopped         no rule was met: ran all {} steps",
                    self.steps
                )
            }
            None => {}
        }
        if self.particles > 1 {
            println!("walkers         {}", self.particles);
        }
        for o in run.observables() {
            let v = self.observables.get(o.column).copied().unwrap_or(f64::NAN);
            println!("{:<15} {}", o.label, observable_text(o.plot, v));
        }
        if let Some(p) = &self.heat_capacity_peak {
            let edge = if p.interior {
                ""
            } else {
                " (at an end of the run's T)"
            };
            println!(
                "C peak          C = {:.6} at T = {:.4e}{edge} (binned over the run)",
                p.heat_capacity, p.temperature
            );
        }
        if let (Some(exact), Some(walkers)) = (&self.exact, &self.walkers) {
            println!(
                "readouts at T = {:.6e}: exact (adaptive quadrature) | walkers (M = {}; S by Kozachenko-Leonenko)",
                self.temperature, self.particles
            );
            let rows: [(&str, Field); 5] = [
                ("ln Z", |t| t.ln_z),
                ("F = -T ln Z", |t| t.free_energy),
                ("<E>", |t| t.mean_energy),
                ("S", |t| t.entropy),
                ("C", |t| t.heat_capacity),
            ];
            for (name, f) in rows {
                let e = match exact {
                    ExactOut::Exact(th) => format!("{:>16.6}", f(th)),
                    ExactOut::Inexact { .. } => format!("{:>16}", "-"),
                };
                println!("  {name:<13} {e} | {:>16.6}", f(walkers));
            }
            if let ExactOut::Inexact { inexact } = exact {
                println!("  exact values unavailable: {inexact}");
            }
        }
        match &self.exact_heat_capacity_peak {
            Some(ExactPeakOut::Exact(p)) if p.interior => println!(
                "exact C peak    C = {:.6} at T = {:.4e}",
                p.heat_capacity, p.temperature
            ),
            Some(ExactPeakOut::Exact(p)) => println!(
                "exact C peak    none inside the schedule's T (largest C = {:.6} at T = {:.4e})",
                p.heat_capacity, p.temperature
            ),
            Some(ExactPeakOut::Inexact { inexact }) => {
                println!("exact C peak    unavailable: {inexact}")
            }
            None => {}
        }
        println!("steps/s         {:.0}", self.steps_per_second);
    }
}

fn bench(args: &BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.seconds.is_finite() && (0.01..=600.0).contains(&args.seconds),
        "--seconds must be between 0.01 and 600, got {}",
        args.seconds
    );
    if args.presets {
        for (name, seconds) in crate::bench::preset_durations(args.seconds.min(1.0))? {
            println!("{name:<28} plays in {seconds:>6.1} s");
        }
        return Ok(());
    }
    if args.ui {
        for steps in crate::ui::bench::LENGTHS {
            let ms = crate::ui::bench::frame_ms(steps, 100, false)?;
            println!("history {steps} steps: {ms:.2} ms/frame");
        }
        let fresh = crate::ui::bench::ising_frame_ms(100, true)?;
        let same = crate::ui::bench::ising_frame_ms(100, false)?;
        println!(
            "ising lattice 1024 x 1024: {fresh:.2} ms/frame with a new lattice every frame, {same:.2} ms/frame unchanged"
        );
        let ms = crate::ui::bench::frame_ms(1_000_000, 100, true)?;
        println!("compare mode, two histories of 1000000 steps: {ms:.2} ms/frame");
        let ms = crate::ui::bench::two_trainers_frame_ms(args.seconds.max(2.0))?;
        println!("compare mode with both trainers running flat out: {ms:.2} ms/frame (wall clock)");
        let (headless, with_ui) = crate::ui::bench::trainer_throughput(args.seconds.max(2.0))?;
        println!(
            "trainer: {headless:.0} steps/s headless, {with_ui:.0} steps/s with the UI at 60 frames/s ({:.0}%)",
            100.0 * with_ui / headless
        );
        let dir = tempfile::tempdir()?;
        let r = crate::ui::bench::recording_cost(args.seconds.max(2.0), dir.path())?;
        let s = &r.summary;
        println!(
            "recording at 10 frames/s: {:.2} ms/frame on the UI thread, slowest {:.1} ms (not recording: {:.2}, slowest {:.1} ms); {} frames of {}x{} in {:.1} s, {:.2} MB, {} dropped",
            r.recording_ms,
            r.worst_ms,
            r.idle_ms,
            r.idle_worst_ms,
            s.frames,
            s.size[0],
            s.size[1],
            s.seconds,
            s.bytes as f64 / 1e6,
            s.dropped
        );
        return Ok(());
    }
    let hidden = args.hidden.map(|h| h as usize);
    if let Some(h) = hidden
        && crate::bench::cases(Some(h)).next().is_none()
    {
        let cases: Vec<String> = crate::bench::CASES
            .iter()
            .map(|(h, _)| h.to_string())
            .collect();
        bail!(
            "--hidden {h}: no benchmark case has {h} hidden units (the cases have {})",
            cases.join(", ")
        );
    }
    if args.json {
        let results = crate::bench::run_all(args.seconds, hidden)?;
        println!("{}", serde_json::to_string_pretty(&results)?);
        return Ok(());
    }
    println!(
        "{:>6} {:>7} {:>8} {:>14}",
        "hidden", "samples", "proposal", "proposals/s"
    );
    for (hidden, samples) in crate::bench::cases(hidden) {
        for (kind, name) in [
            (crate::sim::ProposalKind::All, "all"),
            (crate::sim::ProposalKind::One, "one"),
        ] {
            let rate = crate::bench::measure(hidden, samples, kind, args.seconds)?;
            println!("{hidden:>6} {samples:>7} {name:>8} {rate:>14.0}");
        }
    }
    if hidden.is_none_or(|h| h == 4) {
        let pt = crate::bench::measure_tempering(4, 100, 8, args.seconds)?;
        println!("parallel tempering, 8 replicas at (4, 100): {pt:.0} replica-steps/s");
    }
    if args.hidden.is_none() {
        for (n, moves, name) in crate::bench::tsp_cases() {
            let engine = crate::bench::measure_tsp(n, &moves, args.seconds)?;
            let bare = crate::bench::measure_tsp_bare(n, &moves, args.seconds)?;
            println!(
                "tsp {n} cities {name}: {engine:.0} proposals/s (bare loop without the engine: {bare:.0})"
            );
        }
        let ms = crate::bench::rbm_exact_ln_z_ms(16, 16, args.seconds.min(1.0));
        println!("RBM exact ln Z, 16 visible x 16 hidden (65536 terms): {ms:.3} ms");
        let ms = crate::bench::rbm_ais_ms(1000, 100);
        println!("RBM AIS estimate of ln Z, 16 x 16, K = 1000, M = 100: {ms:.1} ms");
        let l = crate::bench::ISING_SIZE;
        for b in crate::bench::ising_all(args.seconds)? {
            println!(
                "ising L={l} {}: {:.3} flips/ns (through the engine; module loop {:.3})",
                b.update, b.engine, b.module
            );
        }
        let r = crate::bench::ising_reference_flips_per_ns(l, args.seconds);
        println!("ising L={l} textbook Metropolis (reference, random sites): {r:.3} flips/ns");
    }
    Ok(())
}

fn check(files: &[PathBuf]) -> ExitCode {
    let mut ok = true;
    for f in files {
        // A lesson has slides; anything else is read as a preset.
        let lesson =
            crate::preset::read_text(f).is_ok_and(|t| crate::lesson::looks_like_lesson(&t));
        let outcome = if lesson {
            crate::lesson::Lesson::load(f)
                .map(|l| format!("lesson, {} slides ({})", l.slides.len(), l.title))
                .map_err(|e| e.to_string())
        } else {
            Preset::load(f)
                .map(|p| format!("ok ({})", p.title))
                .map_err(|e| e.to_string())
        };
        match outcome {
            Ok(what) => println!(
                "{}: {}",
                printable(&f.display().to_string()),
                printable(&what)
            ),
            Err(e) => {
                ok = false;
                eprintln!("{}", printable(&e.to_string()));
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
