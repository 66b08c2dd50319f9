//! The command line: the GUI by default, `run` (headless), `bench` and `check`.
//!
//! Errors end here: each is printed once, as one line, and the process exits non-zero.

use crate::preset::Preset;
use crate::sim::{History, Kind, PlotKind, Run, StepRecord};
use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Watch simulated annealing train a tiny neural network.
#[derive(Debug, Parser)]
#[command(name = "annealscope", version, about)]
pub struct Cli {
    /// Open the GUI on this preset instead of the built-in default.
    #[arg(long, value_name = "FILE")]
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
    /// Preset to run (default: the built-in default).
    #[arg(long, value_name = "FILE")]
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
    /// Measure only the case with this many hidden units.
    #[arg(long, value_name = "H")]
    pub hidden: Option<usize>,
    /// Measure how long each shipped preset plays at its own pace on this machine.
    #[arg(long)]
    pub presets: bool,
}

/// Parses the arguments, runs, and turns any error into one line on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("annealscope: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.task {
        None => {
            let preset = cli.preset.as_deref().map(Preset::load).transpose()?;
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

fn load_or_default(path: Option<&Path>) -> anyhow::Result<Preset> {
    Ok(match path {
        Some(p) => Preset::load(p)?,
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
        _ => format!("{v:.6}"),
    }
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
    let bar = ProgressBar::new(preset.run.steps);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut history = History::new(4096);
    let (mut csv, mut samples) = (Vec::new(), Vec::new());
    let csv_out: Option<&mut dyn Write> = args.csv.as_ref().map(|_| &mut csv as &mut dyn Write);
    let samples_out: Option<&mut dyn Write> = args
        .samples
        .as_ref()
        .map(|_| &mut samples as &mut dyn Write);
    if let Some(g) = &mut gif {
        g.frames_due(&run, &history)?;
    }
    let r = run_to_end_with(
        &mut run,
        args.every,
        csv_out,
        samples_out,
        &mut history,
        &bar,
        |run, history| match &mut gif {
            Some(g) => g.frames_due(run, history),
            None => Ok(()),
        },
    )?;
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
    for (path, bytes) in [(&args.csv, &csv), (&args.samples, &samples)] {
        if let Some(path) = path {
            crate::preset::write_atomic(path, bytes, true)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if let Some(path) = &args.state {
        let json = serde_json::to_string_pretty(&run.state())?;
        crate::preset::write_atomic(path, json.as_bytes(), true)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.png {
        let options = crate::figure::Options {
            size: args.figure_size.unwrap_or(crate::figure::SIZE),
            steps: None,
        };
        let figure = crate::figure::render_with(&run, &r, &history, &preset.title, &options);
        let mut png = std::io::Cursor::new(Vec::new());
        figure.write_to(&mut png, image::ImageFormat::Png)?;
        crate::preset::write_atomic(path, png.get_ref(), true)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let a = run.annealer();
    let particles = run.problem().particles();
    println!("preset          {}", preset.title);
    println!("steps           {}", r.step);
    println!("temperature     {:.6e}", a.temperature());
    let per = if particles > 1 {
        " (mean per walker)"
    } else {
        ""
    };
    println!("final energy    {:.6}{per}", r.energy);
    println!("best energy     {:.6}", r.best_energy);
    println!(
        "acceptance      {:.4} (overall), {:.4} (last {} steps)",
        a.acceptance_overall(),
        r.acceptance_rate,
        a.config().window
    );
    println!("non-finite      {}", a.non_finite());
    match run.stop_reason() {
        Some(reason) => println!("stopped         at step {}: {reason}", reason.step()),
        None if preset.run.stop.is_some() => {
            println!("stopped         no rule was met: ran all {} steps", r.step)
        }
        None => {}
    }
    if particles > 1 {
        println!("walkers         {particles}");
    }
    for (o, v) in run.observables().iter().zip(r.observables) {
        println!("{:<15} {}", o.label, observable_text(o.plot, v));
    }
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
    println!("steps/s         {:.0}", r.step as f64 / seconds.max(1e-9));
    Ok(())
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
    if args.json {
        let results = crate::bench::run_all(args.seconds, args.hidden)?;
        println!("{}", serde_json::to_string_pretty(&results)?);
        return Ok(());
    }
    println!(
        "{:>6} {:>7} {:>8} {:>14}",
        "hidden", "samples", "proposal", "proposals/s"
    );
    for (hidden, samples) in crate::bench::cases(args.hidden) {
        for (kind, name) in [
            (crate::sim::ProposalKind::All, "all"),
            (crate::sim::ProposalKind::One, "one"),
        ] {
            let rate = crate::bench::measure(hidden, samples, kind, args.seconds)?;
            println!("{hidden:>6} {samples:>7} {name:>8} {rate:>14.0}");
        }
    }
    if args.hidden.is_none_or(|h| h == 4) {
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
            Ok(what) => println!("{}: {what}", f.display()),
            Err(e) => {
                ok = false;
                eprintln!("{e}");
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
