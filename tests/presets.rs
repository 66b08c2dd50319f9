//! Presets: round trips, malformed files, atomic and consented saves.

use annealscope::pace::Pace;
use annealscope::preset::{Control, FORMAT_VERSION, PlotSet, Preset, PresetError, ViewConfig};
use annealscope::sim::{
    Acceptance, Activation, AnnealerConfig, DataConfig, DataKind, LandscapeConfig, NetworkConfig,
    ProblemConfig, ProposalKind, RunConfig, Sampler, Schedule, StopRules, Surface, TemperingConfig,
};
use proptest::prelude::*;
use std::path::Path;
use std::process::Command;

fn schedule() -> impl Strategy<Value = Schedule> {
    let t = 1e-6f64..1e3;
    prop_oneof![
        (t.clone(), 0.001f64..=1.0).prop_map(|(t0, alpha)| Schedule::Geometric { t0, alpha }),
        (t.clone(), 0.0f64..1e3).prop_map(|(t0, rate)| Schedule::Linear { t0, rate }),
        t.clone().prop_map(|c| Schedule::Logarithmic { c }),
        t.clone().prop_map(|t0| Schedule::Fast { t0 }),
        t.clone().prop_map(|t0| Schedule::Constant { t0 }),
        (t.clone(), 1u64..1_000_000)
            .prop_map(|(t0, period)| Schedule::CosineRestarts { t0, period }),
        (t, 0.001f64..0.999, 1e-6f64..1.0).prop_map(|(t0, target, gain)| Schedule::Adaptive {
            t0,
            target,
            gain
        }),
    ]
}

fn landscape() -> impl Strategy<Value = Option<LandscapeConfig>> {
    let surface = prop_oneof![
        (-2.0f64..2.0).prop_map(|tilt| Surface::DoubleWell { tilt }),
        prop::sample::select(vec![
            Surface::Himmelblau,
            Surface::Rastrigin,
            Surface::Ackley,
            Surface::MullerBrown,
            Surface::Harmonic
        ]),
        prop::sample::select(vec!["x^2 + y^2", "sin(x) * cos(y) + 0.1*x^2"])
            .prop_map(|f| Surface::Formula(f.into())),
    ];
    let bounds = prop::option::of(
        (-10.0f64..0.0, -10.0f64..0.0, 0.1f64..10.0, 0.1f64..10.0)
            .prop_map(|(a, b, c, d)| [[a, b], [c, d]]),
    );
    prop::option::of(
        (
            surface,
            1usize..=1000,
            bounds,
            prop::option::of((0.0f64..=1.0, 0.0f64..=1.0)),
        )
            .prop_map(|(surface, walkers, bounds, start)| {
                // The start, as fractions of the box in force.
                let [lo, hi] = bounds.unwrap_or_else(|| surface.default_bounds());
                LandscapeConfig {
                    surface,
                    walkers,
                    bounds,
                    start: start
                        .map(|(a, b)| [lo[0] + a * (hi[0] - lo[0]), lo[1] + b * (hi[1] - lo[1])]),
                }
            }),
    )
}

prop_compose! {
    fn preset()(
        kind in prop::sample::select(DataKind::ALL.to_vec()),
        samples in 4usize..100_000,
        noise in 0.0f64..5.0,
        test_fraction in 0.0f64..0.9,
        data_seed in any::<u64>(),
        hidden in 1usize..=256,
        activation in prop::sample::select(Activation::ALL.to_vec()),
        init_scale in 1e-6f64..10.0,
        weight_decay in 0.0f64..10.0,
        schedule in schedule(),
        t_min in 1e-9f64..1e3,
        step_size in 1e-6f64..10.0,
        proposal in prop::sample::select(ProposalKind::ALL.to_vec()),
        acceptance in prop::sample::select(Acceptance::ALL.to_vec()),
        window in 1usize..1_000_000,
        adapt_step in prop::option::of(0.001f64..0.999),
        sampler in prop::sample::select(vec![Sampler::RandomWalk, Sampler::Langevin, Sampler::Mala]),
        seed in any::<u64>(),
        steps in 1u64..10_000_000_000,
        rate in prop::option::of(1.0f64..1e6),
        grid in 8usize..=256,
        scale in 0.5f32..3.0,
        flags in any::<[bool; 4]>(),
        shown in any::<[bool; 4]>(),
        title in "[ -~]{0,40}",
        description in "\\PC{0,200}",
        landscape in landscape(),
        tempering in prop::option::of((2usize..=32, 1.5f64..100.0, 1u64..1000)),
        hidden_controls in prop::collection::vec(prop::sample::select(vec![Control::Pace, Control::Schedule, Control::StepSize, Control::Network, Control::Data]), 0..4),
        own in prop::option::of(prop::collection::vec((-1e6f32..1e6, -1e6f32..1e6, 0u8..=1), 1..40)),
        stop in prop::option::of((prop::option::of(-1e3f64..1e3), prop::option::of(0.0f64..=1.0), prop::option::of(1u64..1_000_000))),
    ) -> Preset {
        let network = landscape.is_none();
        Preset {
            version: FORMAT_VERSION,
            title,
            description,
            run: RunConfig {
                problem: match landscape {
                    Some(l) => ProblemConfig::Landscape(l),
                    None => ProblemConfig::Network(NetworkConfig {
                        data: DataConfig {
                            kind: own.map_or(kind, DataKind::Points),
                            samples,
                            noise,
                            test_fraction,
                            seed: data_seed,
                        },
                        hidden,
                        activation,
                        init_scale,
                        weight_decay,
                    }),
                },
                annealer: AnnealerConfig { schedule, t_min, step_size, proposal, acceptance, window, adapt_step, sampler },
                tempering: tempering.map(|(replicas, factor, swap_every)| TemperingConfig {
                    replicas,
                    t_max: t_min * factor,
                    swap_every,
                }),
                seed,
                steps,
                // Only the network reports a train accuracy.
                stop: stop.map(|(energy_below, accuracy, patience)| StopRules {
                    energy_below,
                    train_accuracy: accuracy.filter(|_| network),
                    patience,
                }),
            },
            compare: None,
            pace: rate.map_or(Pace::Max, Pace::StepsPerSecond),
            view: ViewConfig {
                grid,
                scale,
                dark: flags[0],
                presenter: flags[1],
                log_temperature: flags[2],
                log_energy: flags[3],
                hidden_controls,
                plots: PlotSet { temperature: shown[0], energy: shown[1], acceptance: shown[2], observables: shown[3], heat_capacity: flags[2] },
                presenter_plots: PlotSet { temperature: shown[3], energy: shown[2], acceptance: shown[1], observables: shown[0], heat_capacity: flags[3] },
                log_landscape: shown[0] ^ flags[0],
                density_underlay: shown[1] ^ flags[1],
            },
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn any_valid_preset_survives_a_ron_round_trip(p in preset()) {
        let text = p.to_ron();
        prop_assert!(text.starts_with("// annealscope preset"));
        let back = Preset::from_ron(&text, "round-trip").map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, p);
    }
}

fn malformed() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

/// Files whose error concerns the whole file, without `// expect:` lines (they cannot
/// hold one), and what their error says.
const WHOLE_FILE: [(&str, &str); 2] = [
    ("binary.ron", "not a text file"),
    ("empty.ron", "the file is empty"),
];

/// What the error about a malformed file must contain: its `// expect: ...` lines.
fn expectations(f: &Path) -> Vec<String> {
    let name = f.file_name().and_then(|n| n.to_str()).expect("name");
    if let Some((_, want)) = WHOLE_FILE.iter().find(|(n, _)| *n == name) {
        return vec![(*want).to_owned()];
    }
    let bytes = std::fs::read(f).expect("read");
    let text = String::from_utf8_lossy(&bytes);
    let want: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("// expect: "))
        .map(str::to_owned)
        .collect();
    assert!(!want.is_empty(), "{name}: no `// expect:` line");
    want
}

/// Runs the binary with `args`, killing it if it takes more than 20 s (nothing may hang).
fn run_bounded(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_annealscope"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().expect("waits").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} hangs");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.wait_with_output().expect("output")
}

/// Every file of the corpus is refused by `check`, by `run` and by the app's loader with
/// one line naming the file and (for a bad value or field) the field path, saying what
/// its `// expect:` lines say, with no control character; nothing panics or hangs, and
/// the app's session is left alone.
#[test]
fn every_malformed_file_is_refused_in_one_line_naming_the_file_and_the_field() {
    use annealscope::ui::App;
    let files = malformed();
    assert!(files.len() >= 60, "{} files", files.len());
    let with_field = files
        .iter()
        .filter(|f| expectations(f).iter().any(|e| e.starts_with('`')))
        .count();
    assert!(with_field >= 60, "{with_field} files name a field");
    let mut app = App::new(&egui::Context::default(), Preset::builtin_default()).expect("app");
    let title = app.title.clone();
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).expect("name");
        let want = expectations(f);
        let check = |what: &str, line: &str| {
            assert!(line.contains(name), "{what} {name}: {line}");
            for w in &want {
                assert!(
                    line.contains(w.as_str()),
                    "{what} {name}: {line}\n  wanted: {w}"
                );
            }
            assert!(
                !line.chars().any(char::is_control) && !line.contains('\u{202e}'),
                "{what} {name}: raw control characters: {line:?}"
            );
        };
        let err = Preset::load(f).expect_err(name).to_string();
        check("load", &err);
        for args in [
            vec!["check"],
            vec!["run", "--steps", "10", "--preset"],
            vec!["--preset"],
        ] {
            let mut args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
            args.push(f.as_os_str());
            let out = run_bounded(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{name}: accepted by {args:?}");
            assert_eq!(stderr.trim_end().lines().count(), 1, "{name}: {stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
            check(&format!("{:?}", args[0]), stderr.trim_end());
        }
        app.notices.clear();
        app.load_file(f);
        let [notice] = app.notices.as_slice() else {
            panic!("{name}: {:?}", app.notices);
        };
        assert!(notice.error, "{name}");
        check("app", &notice.text);
        assert_eq!(app.title, title, "{name}: the session is left alone");
    }
}

#[test]
fn errors_name_the_field_and_where_ron_says_it_is() {
    let e = Preset::from_ron("(run: (network: (hidden: \"x\")))", "f.ron").expect_err("bad");
    match e {
        PresetError::Syntax {
            line,
            column,
            field,
            ..
        } => {
            assert_eq!((line, column), (1, 25));
            assert_eq!(field.as_deref(), Some("run.network.hidden"));
        }
        other => panic!("{other}"),
    }
    let e = Preset::from_ron(
        "(run: (annealer: (schedule: Geometric(t0: 1.0, alpha: 2.0))))",
        "f.ron",
    )
    .expect_err("bad")
    .to_string();
    assert_eq!(
        e,
        "f.ron: `run.annealer.schedule.alpha` = 2 is out of range: allowed 0.001 ..= 1"
    );
}

#[test]
fn fields_left_out_take_their_defaults() {
    let p = Preset::from_ron("(title: \"short\")", "f.ron").expect("valid");
    assert_eq!(p.run, RunConfig::default());
    assert_eq!(p.view, ViewConfig::default());
}

#[test]
fn saving_never_replaces_a_file_without_consent() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("mine.ron");
    let first = Preset {
        title: "first".into(),
        ..Preset::default()
    };
    first.save(&path, false).expect("new file");
    let second = Preset {
        title: "second".into(),
        ..Preset::default()
    };
    assert!(matches!(
        second.save(&path, false),
        Err(PresetError::Exists { .. })
    ));
    assert_eq!(Preset::load(&path).expect("intact").title, "first");
    second.save(&path, true).expect("consented");
    assert_eq!(Preset::load(&path).expect("replaced").title, "second");
    // No temporary files are left behind.
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
}

#[test]
fn a_failed_write_leaves_the_old_file_intact() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("kept.ron");
    let old = Preset {
        title: "old".into(),
        ..Preset::default()
    };
    old.save(&path, false).expect("saved");
    // A target whose folder is a file cannot be written.
    let bad = path.join("inside.ron");
    assert!(matches!(old.save(&bad, true), Err(PresetError::Io { .. })));
    assert_eq!(Preset::load(&path).expect("intact"), old);
}

/// Every shipped preset of format version 1, kept as it was released, loads unchanged in
/// meaning: both runs follow exactly the trajectories recorded before the format changed
/// (the step, temperature, energy, best energy and acceptance columns of every
/// `steps/1000`-th step, and the last).
#[test]
fn version_1_presets_load_and_run_the_same_trajectories() {
    use annealscope::cli::run_to_end;
    use annealscope::sim::{History, Run};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    assert!(files.len() >= 17, "the whole corpus");
    let mut sides = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        assert!(text.contains("version: 1,"), "{f:?} is a version-1 file");
        let preset = Preset::load(f).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(preset.version, FORMAT_VERSION, "converted");
        let stem = f.file_stem().and_then(|s| s.to_str()).expect("name");
        for (config, csv) in [
            (Some(&preset.run), format!("{stem}.csv")),
            (preset.compare.as_ref(), format!("{stem}-b.csv")),
        ] {
            let Some(config) = config else { continue };
            let expected =
                std::fs::read_to_string(dir.join(&csv)).unwrap_or_else(|_| panic!("{csv}"));
            let mut run = Run::new(config.clone()).expect("valid");
            let every = (config.steps / 1000).max(1);
            let mut out = Vec::new();
            let bar = indicatif::ProgressBar::hidden();
            run_to_end(
                &mut run,
                every,
                Some(&mut out),
                None,
                &mut History::new(64),
                &bar,
            )
            .expect("runs");
            let got = String::from_utf8(out).expect("text");
            let core = |line: &str| line.split(',').take(5).collect::<Vec<_>>().join(",");
            let got: Vec<String> = got.lines().map(core).collect();
            let want: Vec<String> = expected.lines().map(core).collect();
            assert_eq!(got.len(), want.len(), "{csv}: rows");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g, w, "{csv}");
            }
            sides += 1;
        }
    }
    assert_eq!(
        sides,
        files.len() + 4,
        "A of every preset and B of the four comparisons"
    );
}

/// The shipped presets are today's format of the released version-1 ones: the same runs.
#[test]
fn shipped_presets_run_what_their_version_1_files_ran() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1");
    for (name, _) in annealscope::preset::BUILTIN {
        let old = dir.join(format!("{name}.ron"));
        if !old.exists() {
            continue; // added after version 1
        }
        let old = Preset::load(&old).unwrap_or_else(|e| panic!("{e}"));
        let new = Preset::builtin(name).expect("shipped");
        assert_eq!(new.run, old.run, "{name}");
        assert_eq!(new.compare, old.compare, "{name}");
        assert_eq!(new.title, old.title, "{name}");
    }
}

/// Issue 10, item 8: a shipped network preset without weight decay does not claim to
/// sample the Boltzmann distribution (with a bounded loss over unbounded weights,
/// `exp(-E/T)` does not normalise: there is none to sample).
#[test]
fn no_preset_promises_a_boltzmann_distribution_the_network_does_not_have() {
    use annealscope::sim::ProblemConfig;
    for (name, _) in annealscope::preset::BUILTIN {
        let p = Preset::builtin(name).expect("shipped");
        let runs = std::iter::once(&p.run).chain(p.compare.as_ref());
        let undecayed = runs
            .into_iter()
            .any(|r| matches!(&r.problem, ProblemConfig::Network(n) if n.weight_decay == 0.0));
        if !undecayed {
            continue;
        }
        let text = p.description.to_lowercase();
        for claim in [
            "sample the boltzmann",
            "samples the boltzmann",
            "through the boltzmann distribution",
        ] {
            assert!(
                !text.contains(claim),
                "{name}: \"{claim}\" without weight decay"
            );
        }
    }
}
