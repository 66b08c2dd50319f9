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
    mut csv: Option<&mut dyn Write>,
    mut samples: Option<&mut dyn Write>,
    history: &mut History,
    bar: &ProgressBar,
) -> std::io::Result<StepRecord> {
    let observables = run.observables().len();
    if let Some(out) = csv.as_deref_mut() {
        writeln!(out, "{}", StepRecord::csv_header(run.observables()))?;
    }
    if let (Some(out), Some((columns, _))) = (samples.as_deref_mut(), run.problem().samples()) {
        writeln!(out, "step,{columns}")?;
    }
    let total = run.config().steps;
    while !run.finished() {
        let mut record = run.step_recorded();
        let step = record.step;
        if step.is_multiple_of(every) || step == total {
            if let Some(out) = csv.as_deref_mut() {
                record = run.record();
                writeln!(out, "{}", record.csv_row(observables))?;
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
    let r = run_to_end(
        &mut run,
        args.every,
        csv_out,
        samples_out,
        &mut history,
        &bar,
    )?;
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
        let figure = crate::figure::render(&run, &r, &history, &preset.title);
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
    if particles > 1 {
        println!("walkers         {particles}");
    }
    for (o, v) in run.observables().iter().zip(r.observables) {
        println!("{:<15} {}", o.label, observable_text(o.plot, v));
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
