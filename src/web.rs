//! The web page (built for `wasm32` only): starts the same app on the page's canvas,
//! opens the session a link carries in its fragment, measures speed with `?bench`, and
//! does what only a browser does (downloads, the tab's title).
//!
//! The page (`assets/web/index.html`) has a `<canvas id="annealscope">`, a `<p id="status">` for
//! words before the app draws, and a `<pre id="bench">` where `?bench` writes its result
//! as JSON (a list of `{hidden, samples, proposal, proposals_per_s}`, as
//! `annealscope bench --json`). There are no threads: the trainers step cooperatively
//! within the frame's budget (see [`crate::trainer`]).

use crate::preset::Preset;
use crate::ui::{Action, App, Notice};
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// The id of the page's canvas.
pub const CANVAS_ID: &str = "annealscope";

/// Seconds `?bench` measures each of its two cases (all parameters moving, one moving).
pub const BENCH_SECONDS: f64 = 2.0;

thread_local! {
    /// The fragment the app last took in (a new one loads its session).
    static SEEN_HASH: RefCell<String> = RefCell::default();
    /// The tab's title as last set.
    static SEEN_TITLE: RefCell<String> = RefCell::default();
}

/// Starts the app on the page; called by the binary's `main` on `wasm32`.
pub fn start() {
    wasm_bindgen_futures::spawn_local(async {
        if let Err(e) = run().await {
            status(Some(&format!("annealscope could not start: {e}")));
        }
    });
}

async fn run() -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let document = window.document().ok_or("no document")?;
    let canvas = document
        .get_element_by_id(CANVAS_ID)
        .ok_or("the page has no canvas")?
        .dyn_into::<web_sys::HtmlCanvasElement>()
        .map_err(|_| format!("#{CANVAS_ID} is not a canvas"))?;
    let location = window.location();
    let mut bench = None;
    if wants_bench(&location.search().unwrap_or_default()) {
        status(Some("Measuring proposals per second on one thread..."));
        // Let the page show that before the measurement holds the thread.
        sleep(50).await;
        bench = Some(match crate::bench::run_all(BENCH_SECONDS, Some(4)) {
            Ok(results) => {
                let json = serde_json::to_string(&results).unwrap_or_default();
                set_text("bench", &json);
                Notice::info(None, crate::ui::bench_summary(&results))
            }
            Err(e) => Notice::error(None, format!("benchmark: {e}")),
        });
    }
    let hash = location.hash().unwrap_or_default();
    let (preset, refused) = opening(&hash);
    SEEN_HASH.with(|s| *s.borrow_mut() = hash);
    let href = location.href().unwrap_or_default();
    let page = href.split('#').next().unwrap_or_default().to_owned();
    eframe::WebRunner::new()
        .start(
            canvas,
            eframe::WebOptions::default(),
            Box::new(move |cc| {
                let mut app = crate::ui::create(cc, preset, refused, None)?;
                app.page = page;
                if let Some(n) = bench {
                    app.notify(n);
                }
                Ok(Box::new(app))
            }),
        )
        .await
        .map_err(|e| e.as_string().unwrap_or_else(|| format!("{e:?}")))?;
    status(None);
    Ok(())
}

/// Whether the page's query (`?bench`, `?x&bench`) asks for the benchmark.
fn wants_bench(query: &str) -> bool {
    query
        .trim_start_matches('?')
        .split('&')
        .any(|p| p == "bench" || p.starts_with("bench="))
}

/// What a fragment opens: its session, or why it cannot (then the default opens).
/// An empty fragment opens the last session.
fn opening(hash: &str) -> (Option<Preset>, Option<String>) {
    let fragment = hash.trim_start_matches('#');
    if fragment.is_empty() {
        return (None, None);
    }
    match crate::link::decode(fragment) {
        Ok(p) => (Some(p), None),
        Err(e) => (None, Some(e.to_string())),
    }
}

/// Called each frame: a new fragment (a link pasted into the address bar) loads its
/// session, and the tab's title follows the session's.
pub fn watch(app: &mut App, _frame: &eframe::Frame) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let hash = window.location().hash().unwrap_or_default();
    let new = SEEN_HASH.with(|s| {
        let mut s = s.borrow_mut();
        let new = *s != hash;
        if new {
            s.clone_from(&hash);
        }
        new
    });
    if new {
        match opening(&hash) {
            (Some(p), _) => app.act(Action::LoadPreset(Box::new(p))),
            (None, Some(e)) => app.notify(Notice::error(None, e)),
            (None, None) => {}
        }
    }
    let title = format!("{} - annealscope", app.title);
    let changed = SEEN_TITLE.with(|s| {
        let mut s = s.borrow_mut();
        let changed = *s != title;
        if changed {
            s.clone_from(&title);
        }
        changed
    });
    if changed && let Some(document) = window.document() {
        document.set_title(&title);
    }
}

/// Hands `bytes` to the browser as a download called `name`.
pub fn download(name: &str, bytes: &[u8]) -> Result<(), String> {
    let js = |e: JsValue| e.as_string().unwrap_or_else(|| format!("{e:?}"));
    let parts = js_sys::Array::new();
    parts.push(&js_sys::Uint8Array::from(bytes));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(js)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a = document
        .create_element("a")
        .map_err(js)?
        .dyn_into::<web_sys::HtmlAnchorElement>()
        .map_err(|_| "not a link")?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    // Free the blob once the browser has taken it.
    let revoke = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    }
    Ok(())
}

/// Shows `text` in the page's status line, or hides the line.
fn status(text: Option<&str>) {
    let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("status"))
    else {
        return;
    };
    match text {
        Some(t) => {
            el.set_text_content(Some(t));
            let _ = el.remove_attribute("hidden");
        }
        None => {
            let _ = el.set_attribute("hidden", "");
        }
    }
}

/// Sets the text of the page's element `id` and shows it.
fn set_text(id: &str, text: &str) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
    {
        el.set_text_content(Some(text));
        let _ = el.remove_attribute("hidden");
    }
}

/// Waits `ms` milliseconds without holding the page.
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
