//! Files in and out, where the desktop and the web differ: on the desktop, paths in the
//! working directory and the desktop's file dialogs; on the web, the browser's own upload
//! (rfd's asynchronous dialog) and download. The rest of the UI reaches files only
//! through here.

use super::{Action, Notice};
use crate::preset::Preset;

/// Results of file dialogs that finish after the frame that opened them (the browser's
/// upload), delivered to the app as actions between frames.
#[derive(Debug)]
pub struct Inbox {
    /// Only the browser's upload sends here.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    tx: crossbeam_channel::Sender<Action>,
    rx: crossbeam_channel::Receiver<Action>,
}

impl Default for Inbox {
    fn default() -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        Self { tx, rx }
    }
}

impl Inbox {
    /// The actions delivered since the last call; never blocks.
    pub fn drain(&self) -> Vec<Action> {
        self.rx.try_iter().collect()
    }
}

/// Saves `bytes` as a new file called `name`: on the desktop into the working directory,
/// never replacing a file; on the web as a download. Returns what to tell the user.
pub fn save_new(name: &str, bytes: &[u8]) -> Notice {
    #[cfg(target_arch = "wasm32")]
    {
        match crate::web::download(name, bytes) {
            Ok(()) => Notice::info(None, format!("Downloaded {name}")),
            Err(e) => Notice::error(None, format!("{name}: could not download it: {e}")),
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let path = std::path::PathBuf::from(name);
        match crate::preset::write_atomic(&path, bytes, false) {
            Ok(()) => Notice::info(None, format!("Saved {}", path.display())),
            Err(e) => Notice::error(None, e.to_string()),
        }
    }
}

/// Whether files are the browser's (upload and download) rather than paths.
pub const BROWSER: bool = cfg!(target_arch = "wasm32");

/// "Open file...": on the desktop, the desktop's dialog for a preset file; on the web,
/// the browser's upload of a preset or a lesson (it arrives as [`Action::OpenText`]).
pub fn open(actions: &mut Vec<Action>) {
    #[cfg(target_arch = "wasm32")]
    actions.push(Action::Upload);
    #[cfg(not(target_arch = "wasm32"))]
    match native_dialog(|| {
        rfd::FileDialog::new()
            .add_filter("annealscope preset", &["ron"])
            .pick_file()
    }) {
        Dialog::Picked(p) => actions.push(Action::LoadFile(p)),
        Dialog::Cancelled => {}
        Dialog::Unavailable => actions.push(Action::Notice(Notice::info(None, NO_DIALOG.into()))),
    }
}

/// "Save to file...": on the desktop, the desktop's dialog, then a save that asks before
/// replacing; on the web, a download of the preset's text.
pub fn save(preset: Preset, actions: &mut Vec<Action>) {
    let name = crate::preset::file_name(&preset.title).unwrap_or_else(|| "session.ron".into());
    #[cfg(target_arch = "wasm32")]
    actions.push(Action::Notice(save_new(&name, preset.to_ron().as_bytes())));
    #[cfg(not(target_arch = "wasm32"))]
    match native_dialog(|| {
        rfd::FileDialog::new()
            .add_filter("annealscope preset", &["ron"])
            .set_file_name(&name)
            .save_file()
    }) {
        Dialog::Picked(path) => actions.push(Action::Save {
            preset: Box::new(preset),
            path,
            overwrite: false,
        }),
        Dialog::Cancelled => {}
        Dialog::Unavailable => actions.push(Action::Notice(Notice::info(None, NO_DIALOG.into()))),
    }
}

/// Asks the browser for a file (a preset or a lesson) and delivers its contents to
/// `inbox` as [`Action::OpenText`], waking `ctx`. Nothing happens on the desktop, whose
/// dialogs answer at once ([`open`]).
pub fn upload(inbox: &Inbox, ctx: &egui::Context) {
    browser_upload(
        ("annealscope preset or lesson", &["ron"]),
        inbox,
        ctx,
        |name, bytes| Action::OpenText { name, bytes },
    );
}

/// Asks the browser for a file matching `filter` (a name and extensions) and delivers
/// `action(name, bytes)` to `inbox` once it is read, waking `ctx`. Nothing happens on the
/// desktop.
fn browser_upload(
    filter: (&'static str, &'static [&'static str]),
    inbox: &Inbox,
    ctx: &egui::Context,
    action: impl FnOnce(String, Vec<u8>) -> Action + 'static,
) {
    #[cfg(target_arch = "wasm32")]
    {
        let (tx, ctx) = (inbox.tx.clone(), ctx.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let Some(file) = rfd::AsyncFileDialog::new()
                .add_filter(filter.0, filter.1)
                .pick_file()
                .await
            else {
                return;
            };
            let name = file.file_name();
            let bytes = file.read().await;
            let _ = tx.send(action(name, bytes));
            ctx.request_repaint();
        });
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (filter, inbox, ctx, action);
}

/// "Browse..." for one's own points (a CSV file) for run `side`: on the desktop, the
/// desktop's dialog, whose path is returned to be read at once; on the web, the browser's
/// upload (it arrives as [`Action::OpenPoints`]).
pub fn pick_points(side: super::Side, actions: &mut Vec<Action>) -> Option<std::path::PathBuf> {
    #[cfg(target_arch = "wasm32")]
    {
        actions.push(Action::UploadPoints(side));
        None
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = side;
        match native_dialog(|| {
            rfd::FileDialog::new()
                .add_filter("points (x,y,label)", &["csv", "txt"])
                .pick_file()
        }) {
            Dialog::Picked(p) => Some(p),
            Dialog::Cancelled => None,
            Dialog::Unavailable => {
                let text = "This desktop offers no file dialog (no XDG portal): type the CSV \
                            file's path and press Load points.";
                actions.push(Action::Notice(Notice::info(None, text.into())));
                None
            }
        }
    }
}

/// Asks the browser for a CSV file of points and delivers it to `inbox` as
/// [`Action::OpenPoints`] for run `side`, waking `ctx`. Nothing happens on the desktop.
pub fn upload_points(side: super::Side, inbox: &Inbox, ctx: &egui::Context) {
    browser_upload(
        ("points (x,y,label)", &["csv", "txt"]),
        inbox,
        ctx,
        move |name, bytes| Action::OpenPoints { side, name, bytes },
    );
}

#[cfg(not(target_arch = "wasm32"))]
const NO_DIALOG: &str = "This desktop offers no file dialog (no XDG portal). Type a path \
below, or use the preset lists above.";

#[cfg(not(target_arch = "wasm32"))]
enum Dialog {
    Picked(std::path::PathBuf),
    Cancelled,
    Unavailable,
}

/// Runs a native file dialog. Without an XDG portal rfd returns at once with nothing; a
/// person needs longer than that to cancel, which tells the two apart.
#[cfg(not(target_arch = "wasm32"))]
fn native_dialog(show: impl FnOnce() -> Option<std::path::PathBuf>) -> Dialog {
    let started = std::time::Instant::now();
    match show() {
        Some(p) => Dialog::Picked(p),
        None if started.elapsed() < std::time::Duration::from_millis(250) => Dialog::Unavailable,
        None => Dialog::Cancelled,
    }
}
