//! Session links: every shipped preset survives the trip through a link's fragment, the
//! desktop's Session > Copy link makes a link that opens the same session, the command
//! line opens links, and a damaged link gives one clear line.

use annealscope::link;
use annealscope::preset::{BUILTIN, Preset};
use annealscope::ui::App;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::process::Command;

#[test]
fn the_fragment_round_trips_every_shipped_preset() {
    let mut longest = (0, "");
    for (name, text) in BUILTIN {
        let preset = Preset::from_ron(text, name).expect("shipped presets load");
        let url = link::link(link::PAGE, &preset);
        assert!(url.starts_with(&format!("{}#p=", link::PAGE)), "{url}");
        let fragment = url.split_once('#').expect("a fragment").1;
        assert!(
            fragment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_=".contains(&b)),
            "{name}: the fragment needs no escaping in a URL"
        );
        assert_eq!(link::decode(&url).expect(name), preset, "{name}");
        if url.len() > longest.0 {
            longest = (url.len(), name);
        }
    }
    // Short enough for any browser, chat program or QR code of a few kilobytes.
    assert!(
        longest.0 < 4000,
        "{} is {} characters",
        longest.1,
        longest.0
    );
}

#[test]
fn copy_link_in_the_app_copies_a_link_that_opens_the_same_session() {
    let mut preset = Preset::builtin("compare-sa-vs-langevin").expect("shipped");
    preset.view.dark = false;
    let app = App::new(&egui::Context::default(), preset.clone()).expect("app starts");
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut App| app.frame(ui), app);
    h.step();
    h.get_by_label("Session").click();
    h.run_steps(2);
    h.get_by_label("Copy link").click();
    h.step();
    let copied: Vec<String> = h
        .output()
        .platform_output
        .commands
        .iter()
        .filter_map(|c| match c {
            egui::OutputCommand::CopyText(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    let [url] = &copied[..] else {
        panic!("one copied text, not {copied:?}")
    };
    let opened = link::decode(url).expect("the copied link opens");
    assert_eq!(opened, h.state().session());
    assert_eq!(opened.compare, preset.compare, "run B travels too");
    assert!(!opened.view.dark, "and the view");
}

fn annealscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_annealscope"))
        .args(args)
        .output()
        .expect("runs")
}

#[test]
fn the_command_line_runs_the_session_of_a_link() {
    let preset = Preset::builtin("well-slow").expect("shipped");
    let url = link::link("https://example.org/annealscope/", &preset);
    let out = annealscope(&["run", "--preset", &url, "--steps", "300"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&preset.title), "{stdout}");
    assert!(stdout.contains("walkers"), "a landscape run: {stdout}");
    // The same run from the preset's file prints the same numbers.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("well-slow.ron");
    std::fs::write(&file, preset.to_ron()).expect("write");
    let from_file = annealscope(&[
        "run",
        "--preset",
        file.to_str().expect("utf-8"),
        "--steps",
        "300",
    ]);
    let numbers = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with("steps/s"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        numbers(&stdout),
        numbers(&String::from_utf8_lossy(&from_file.stdout))
    );
}

#[test]
fn a_truncated_link_is_refused_in_one_line() {
    let url = link::link(link::PAGE, &Preset::builtin_default());
    let cut = &url[..url.len() - 40];
    for args in [
        vec!["run", "--preset", cut, "--steps", "10"],
        vec!["--preset", cut],
    ] {
        let out = annealscope(&args);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("annealscope: error: link: damaged or truncated"),
            "{stderr}"
        );
    }
}
