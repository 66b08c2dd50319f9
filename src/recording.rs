//! Animated GIF recordings for slides: headless ones drawn with the figure renderer
//! (`annealscope run --gif`) and the app's own (Run > Record), written by one encoder.
//!
//! **Size.** Every frame shares one global palette of 255 colours, chosen once from the
//! first frame: a fixed part (greys, the two colour maps of [`crate::colors`], a small
//! colour cube) and the first frame's most frequent other colours, so flat areas keep
//! their exact colour. Each later frame stores only the rectangle that changed since the
//! frame before, and inside it marks unchanged pixels transparent (index 255) over the
//! kept previous frame: long runs of one index, which the GIF's LZW coding packs tightly.
//! A frame identical to the one before is a single transparent pixel, so the frame count
//! and timing stay as asked.
//!
//! **Safety.** A recording is written to a temporary file beside its destination and
//! renamed into place when it ends, never replacing an existing file: a crash leaves no
//! half-written recording under the real name.
//!
//! **In the app**, [`Recorder`] encodes on its own named thread, fed over a small bounded
//! channel: the UI thread only hands over the screenshots it already has, and never
//! waits (a frame offered while the channel is full is dropped, and the previous frame
//! shown longer).

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use std::collections::HashMap;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

/// Palette index of a pixel unchanged since the previous frame.
const TRANSPARENT: u8 = 255;
/// Colours in the palette (index 255 is [`TRANSPARENT`]).
const COLOURS: usize = 255;
/// Screenshots waiting for the encoder thread at most.
const QUEUE: usize = 4;

/// Why a recording could not be made. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file could not be written.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file exists already; recordings never replace one.
    #[error("{file}: already exists; not overwritten")]
    Exists {
        /// The file.
        file: String,
    },
    /// The folder to write into does not exist.
    #[error("{file}: the folder {folder} does not exist")]
    NoFolder {
        /// The file.
        file: String,
        /// Its folder.
        folder: String,
    },
    /// The GIF encoder refused a frame.
    #[error("{file}: could not encode the recording: {message}")]
    Encode {
        /// The file.
        file: String,
        /// The encoder's message.
        message: String,
    },
    /// Frames larger than a GIF allows, or empty.
    #[error("{file}: {width}x{height} pixels cannot be recorded (1 to 65535 a side)")]
    Size {
        /// The file.
        file: String,
        /// Asked width.
        width: usize,
        /// Asked height.
        height: usize,
    },
}

/// What a finished recording holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Where it was written.
    pub path: PathBuf,
    /// Frames written.
    pub frames: u64,
    /// Its length in seconds.
    pub seconds: f64,
    /// Its size in bytes.
    pub bytes: u64,
    /// Frames offered while the encoder was busy, and left out (the app's recorder).
    pub dropped: u64,
    /// Width and height in pixels.
    pub size: [usize; 2],
}

/// Checks that `path` can receive a new recording: its folder exists and no file has its
/// name. Called before a run starts, so a bad path costs nothing.
pub fn check_path(path: &Path) -> Result<(), RecordError> {
    let file = path.display().to_string();
    let folder = folder(path);
    if !folder.is_dir() {
        return Err(RecordError::NoFolder {
            file,
            folder: folder.display().to_string(),
        });
    }
    if path.exists() || path.is_symlink() {
        return Err(RecordError::Exists { file });
    }
    Ok(())
}

fn folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The shared palette: 255 colours and a cache from 6-bit-per-channel colour cells to
/// their nearest palette entry.
struct Palette {
    colours: Vec<[u8; 3]>,
    cache: Vec<u8>,
}

impl Palette {
    /// The fixed colours, then the most frequent colours of `first` (RGB rows) not
    /// already close to one.
    fn from_first_frame(first: &[u8]) -> Self {
        let mut colours: Vec<[u8; 3]> = Vec::with_capacity(COLOURS);
        let add = |c: [u8; 3], colours: &mut Vec<[u8; 3]>, near: u32| {
            if colours.len() < COLOURS && colours.iter().all(|p| distance(*p, c) > near) {
                colours.push(c);
            }
        };
        for i in 0..16u32 {
            let v = (i * 255 / 15) as u8;
            add([v, v, v], &mut colours, 0);
        }
        for i in 0..=40 {
            add(crate::colors::probability(i as f32 / 40.0), &mut colours, 0);
        }
        for i in 0..=32 {
            add(crate::colors::energy(i as f32 / 32.0), &mut colours, 0);
        }
        for c in crate::colors::CLASS
            .into_iter()
            .chain([crate::colors::WRONG, crate::colors::CONTOUR])
        {
            add(c, &mut colours, 0);
        }
        for r in 0..4u8 {
            for g in 0..4u8 {
                for b in 0..4u8 {
                    add([r * 85, g * 85, b * 85], &mut colours, 0);
                }
            }
        }
        let mut counts: HashMap<[u8; 3], u32> = HashMap::new();
        for p in first.chunks_exact(3) {
            *counts.entry([p[0], p[1], p[2]]).or_default() += 1;
        }
        let mut frequent: Vec<([u8; 3], u32)> = counts.into_iter().collect();
        frequent.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (c, _) in frequent {
            if colours.len() == COLOURS {
                break;
            }
            add(c, &mut colours, 12);
        }
        Self {
            colours,
            cache: vec![TRANSPARENT; 1 << 18],
        }
    }

    /// The palette index of `c`: the entry nearest to the first colour seen in its cell.
    fn index(&mut self, c: [u8; 3]) -> u8 {
        let cell =
            (usize::from(c[0] >> 2) << 12) | (usize::from(c[1] >> 2) << 6) | usize::from(c[2] >> 2);
        let cached = self.cache[cell];
        if cached != TRANSPARENT {
            return cached;
        }
        let mut best = (u32::MAX, 0u8);
        for (i, p) in self.colours.iter().enumerate() {
            let d = distance(*p, c);
            if d < best.0 {
                best = (d, i as u8);
            }
        }
        self.cache[cell] = best.1;
        best.1
    }

    /// The palette as the GIF stores it: 256 RGB triples, the last one unused.
    fn table(&self) -> Vec<u8> {
        let mut t: Vec<u8> = self.colours.iter().flatten().copied().collect();
        t.resize(256 * 3, 0);
        t
    }
}

/// Squared colour distance weighted for the eye (green most, blue least).
fn distance(a: [u8; 3], b: [u8; 3]) -> u32 {
    let d = |i: usize, w: u32| {
        let v = u32::from(a[i].abs_diff(b[i]));
        w * v * v
    };
    d(0, 3) + d(1, 4) + d(2, 2)
}

/// Writes an animated GIF frame by frame (see the module docs for how it stays small).
pub struct GifWriter {
    path: PathBuf,
    size: [usize; 2],
    /// The temporary file, until the first frame fixes the palette.
    tmp: Option<tempfile::NamedTempFile>,
    encoder: Option<gif::Encoder<BufWriter<tempfile::NamedTempFile>>>,
    palette: Option<Palette>,
    /// The indices shown after the last frame written.
    shown: Vec<u8>,
    /// The latest frame and when it was taken, held until the next says how long it stays.
    pending: Option<(gif::Frame<'static>, f64)>,
    frames: u64,
    /// Centiseconds of delay written so far (delays are rounded so they never drift).
    written_cs: u64,
    /// When the last frame was taken, in seconds from the start.
    last_at: f64,
}

impl GifWriter {
    /// Starts a recording of `width x height` pixels that will end up at `path` (checked
    /// with [`check_path`]); nothing appears under that name before [`GifWriter::finish`].
    pub fn create(path: &Path, width: usize, height: usize) -> Result<Self, RecordError> {
        let file = path.display().to_string();
        if !(1..=65535).contains(&width) || !(1..=65535).contains(&height) {
            return Err(RecordError::Size {
                file,
                width,
                height,
            });
        }
        check_path(path)?;
        let io = |source| RecordError::Io {
            file: file.clone(),
            source,
        };
        let tmp = tempfile::Builder::new()
            .prefix(".annealscope-recording")
            .suffix(".gif.tmp")
            .tempfile_in(folder(path))
            .map_err(io)?;
        // Temporary files are private (0600); a recording gets the usual permissions.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(io)?;
        }
        Ok(Self {
            path: path.to_owned(),
            size: [width, height],
            tmp: Some(tmp),
            encoder: None,
            palette: None,
            shown: Vec::new(),
            pending: None,
            frames: 0,
            written_cs: 0,
            last_at: 0.0,
        })
    }

    /// Width and height in pixels.
    pub fn size(&self) -> [usize; 2] {
        self.size
    }

    fn encode_error(&self, e: impl std::fmt::Display) -> RecordError {
        RecordError::Encode {
            file: self.path.display().to_string(),
            message: e.to_string(),
        }
    }

    /// Adds a frame taken `at` seconds after the start (later than the frame before):
    /// `rgb` holds `width x height` pixels, 3 bytes each, row by row from the top.
    pub fn push(&mut self, rgb: &[u8], at: f64) -> Result<(), RecordError> {
        let [w, h] = self.size;
        if rgb.len() != w * h * 3 {
            return Err(self.encode_error(format!(
                "a frame of {} bytes is not {w}x{h} RGB pixels",
                rgb.len()
            )));
        }
        let palette = match &mut self.palette {
            Some(p) => p,
            None => {
                let palette = Palette::from_first_frame(rgb);
                let Some(tmp) = self.tmp.take() else {
                    return Err(self.encode_error("the recording was already finished"));
                };
                let mut encoder =
                    gif::Encoder::new(BufWriter::new(tmp), w as u16, h as u16, &palette.table())
                        .map_err(|e| self.encode_error(e))?;
                encoder
                    .set_repeat(gif::Repeat::Infinite)
                    .map_err(|e| self.encode_error(e))?;
                self.encoder = Some(encoder);
                self.shown = vec![TRANSPARENT; w * h];
                self.palette.insert(palette)
            }
        };
        let indices: Vec<u8> = rgb
            .chunks_exact(3)
            .map(|p| palette.index([p[0], p[1], p[2]]))
            .collect();
        let frame = self.difference(&indices);
        self.write_pending(at)?;
        self.pending = Some((frame, at));
        Ok(())
    }

    /// The frame that turns what is shown into `indices`: the changed rectangle, with
    /// unchanged pixels transparent (one transparent pixel when nothing changed).
    fn difference(&mut self, indices: &[u8]) -> gif::Frame<'static> {
        let [w, h] = self.size;
        let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
        for y in 0..h {
            let row = y * w;
            let (new, old) = (&indices[row..row + w], &self.shown[row..row + w]);
            if new == old {
                continue;
            }
            let first = new.iter().zip(old).position(|(a, b)| a != b).unwrap_or(0);
            let last = new.iter().zip(old).rposition(|(a, b)| a != b).unwrap_or(0);
            x0 = x0.min(first);
            x1 = x1.max(last + 1);
            y0 = y0.min(y);
            y1 = y + 1;
        }
        let still = x1 <= x0;
        let (x0, y0, x1, y1) = if still {
            (0, 0, 1, 1)
        } else {
            (x0, y0, x1, y1)
        };
        let mut buffer = Vec::with_capacity((x1 - x0) * (y1 - y0));
        for y in y0..y1 {
            for x in x0..x1 {
                let i = y * w + x;
                if indices[i] == self.shown[i] {
                    buffer.push(TRANSPARENT);
                } else {
                    buffer.push(indices[i]);
                    self.shown[i] = indices[i];
                }
            }
        }
        gif::Frame {
            left: x0 as u16,
            top: y0 as u16,
            width: (x1 - x0) as u16,
            height: (y1 - y0) as u16,
            transparent: Some(TRANSPARENT),
            dispose: gif::DisposalMethod::Keep,
            buffer: buffer.into(),
            ..gif::Frame::default()
        }
    }

    /// Writes the held frame, shown until `until` seconds.
    fn write_pending(&mut self, until: f64) -> Result<(), RecordError> {
        let Some((mut frame, at)) = self.pending.take() else {
            return Ok(());
        };
        let end_cs = (until.max(at) * 100.0).round() as u64;
        // At least 2 cs: browsers show shorter delays as 10 cs.
        let delay = end_cs
            .saturating_sub(self.written_cs)
            .clamp(2, u64::from(u16::MAX));
        frame.delay = delay as u16;
        self.written_cs += delay;
        self.last_at = at;
        let Some(encoder) = self.encoder.as_mut() else {
            return Ok(());
        };
        if let Err(e) = encoder.write_frame(&frame) {
            return Err(self.encode_error(e));
        }
        self.frames += 1;
        Ok(())
    }

    /// Writes the last frame (shown for `last_for` seconds) and moves the file into place,
    /// never replacing an existing one.
    pub fn finish(mut self, last_for: f64) -> Result<Summary, RecordError> {
        let until = self
            .pending
            .as_ref()
            .map_or(0.0, |(_, at)| at + last_for.max(0.02));
        self.write_pending(until)?;
        let file = self.path.display().to_string();
        let io = |source| RecordError::Io {
            file: file.clone(),
            source,
        };
        let Some(encoder) = self.encoder.take() else {
            return Err(self.encode_error("no frame was recorded"));
        };
        let buffered = encoder.into_inner().map_err(|e| self.encode_error(e))?;
        let tmp = buffered.into_inner().map_err(|e| io(e.into_error()))?;
        tmp.as_file().sync_all().map_err(io)?;
        let bytes = tmp.as_file().metadata().map_err(io)?.len();
        tmp.persist_noclobber(&self.path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                RecordError::Exists { file: file.clone() }
            } else {
                io(e.error)
            }
        })?;
        Ok(Summary {
            path: self.path.clone(),
            frames: self.frames,
            seconds: self.written_cs as f64 / 100.0,
            bytes,
            dropped: 0,
            size: self.size,
        })
    }
}

/// A screenshot for the app's recorder: the window as the backend read it back, the part
/// to keep, and when it was taken.
pub struct Shot {
    /// The whole window, in physical pixels.
    pub image: Arc<egui::ColorImage>,
    /// The rectangle kept, in physical pixels.
    pub crop: egui::Rect,
    /// Seconds since the recording started.
    pub at: f64,
}

/// A recording in progress in the app: a named encoder thread fed screenshots over a
/// bounded channel. The first screenshot fixes the size; later ones are cropped to it.
pub struct Recorder {
    shots: Option<Sender<Shot>>,
    done: Receiver<Result<Summary, RecordError>>,
    thread: Option<JoinHandle<()>>,
    dropped: Arc<AtomicU64>,
    path: PathBuf,
}

impl Recorder {
    /// Starts a recording that will be written to `path` (which must not exist), at
    /// `fps` frames a second, halving each side when `half`. `wake` is called when the
    /// recording is written.
    pub fn start(
        path: PathBuf,
        fps: f64,
        half: bool,
        wake: Option<Box<dyn Fn() + Send>>,
    ) -> Result<Self, RecordError> {
        check_path(&path)?;
        let (tx, rx) = bounded::<Shot>(QUEUE);
        let (done_tx, done) = bounded(1);
        let dropped = Arc::new(AtomicU64::new(0));
        let target = path.clone();
        let counted = Arc::clone(&dropped);
        let thread = std::thread::Builder::new()
            .name("annealscope-recorder".into())
            .spawn(move || {
                let mut outcome = encode(&target, &rx, fps, half);
                if let Ok(s) = &mut outcome {
                    s.dropped = counted.load(Ordering::Relaxed);
                }
                let _ = done_tx.send(outcome);
                if let Some(w) = wake {
                    w();
                }
            })
            .map_err(|source| RecordError::Io {
                file: path.display().to_string(),
                source,
            })?;
        Ok(Self {
            shots: Some(tx),
            done,
            thread: Some(thread),
            dropped,
            path,
        })
    }

    /// Where the recording goes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A handle that offers screenshots to the encoder without ever waiting (for a
    /// screenshot callback); `None` once stopped.
    pub fn feed(&self) -> Option<Feed> {
        Some(Feed {
            shots: self.shots.clone()?,
            dropped: Arc::clone(&self.dropped),
        })
    }

    /// Stops taking screenshots; the encoder writes the file once the last one offered
    /// has been encoded.
    pub fn stop(&mut self) {
        self.shots = None;
    }

    /// Whether [`Recorder::stop`] was called.
    pub fn stopped(&self) -> bool {
        self.shots.is_none()
    }

    /// Waits up to `timeout` for the outcome (when the app closes).
    pub fn wait(&mut self, timeout: std::time::Duration) -> Option<Result<Summary, RecordError>> {
        let outcome = self.done.recv_timeout(timeout).ok()?;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        Some(outcome)
    }

    /// The outcome, once the file is written (or failed); never waits.
    pub fn outcome(&mut self) -> Option<Result<Summary, RecordError>> {
        let outcome = self.done.try_recv().ok()?;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        Some(outcome)
    }
}

/// Offers screenshots to a [`Recorder`]'s encoder; cheap to clone and to move into a
/// screenshot callback.
#[derive(Clone)]
pub struct Feed {
    shots: Sender<Shot>,
    dropped: Arc<AtomicU64>,
}

impl Feed {
    /// Hands `shot` to the encoder, or drops it (and counts it) when the encoder is behind.
    pub fn offer(&self, shot: Shot) {
        match self.shots.try_send(shot) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// The encoder thread's work: every screenshot until the channel closes, into one GIF.
fn encode(
    path: &Path,
    shots: &Receiver<Shot>,
    fps: f64,
    half: bool,
) -> Result<Summary, RecordError> {
    let mut writer: Option<GifWriter> = None;
    let mut rgb = Vec::new();
    for shot in shots.iter() {
        let [w, h] = match &writer {
            Some(wr) => wr.size(),
            None => {
                let (w, h) = crop_size(&shot, half);
                let wr = writer.insert(GifWriter::create(path, w, h)?);
                wr.size()
            }
        };
        crop_rgb(&shot, half, [w, h], &mut rgb);
        if let Some(wr) = writer.as_mut() {
            wr.push(&rgb, shot.at)?;
        }
    }
    match writer {
        Some(w) => w.finish(1.0 / fps.max(0.1)),
        None => Err(RecordError::Encode {
            file: path.display().to_string(),
            message: "no frame was recorded".into(),
        }),
    }
}

/// The crop rectangle within the image, in whole pixels: `(x, y, width, height)`.
fn crop_rect(shot: &Shot) -> (usize, usize, usize, usize) {
    let [iw, ih] = shot.image.size;
    let r = shot.crop;
    let x0 = (r.min.x.round().max(0.0) as usize).min(iw);
    let y0 = (r.min.y.round().max(0.0) as usize).min(ih);
    let x1 = (r.max.x.round().max(0.0) as usize).clamp(x0, iw);
    let y1 = (r.max.y.round().max(0.0) as usize).clamp(y0, ih);
    (x0, y0, x1 - x0, y1 - y0)
}

/// The recording's size for a first screenshot.
fn crop_size(shot: &Shot, half: bool) -> (usize, usize) {
    let (_, _, w, h) = crop_rect(shot);
    if half {
        ((w / 2).max(1), (h / 2).max(1))
    } else {
        (w.max(1), h.max(1))
    }
}

/// The kept part of `shot` as RGB rows of `size` (halved by averaging 2 x 2 blocks when
/// `half`); where the screenshot is smaller (a resized window), black.
fn crop_rgb(shot: &Shot, half: bool, size: [usize; 2], out: &mut Vec<u8>) {
    let [w, h] = size;
    out.clear();
    out.resize(w * h * 3, 0);
    let (x0, y0, cw, ch) = crop_rect(shot);
    let [iw, _] = shot.image.size;
    let px = |x: usize, y: usize| shot.image.pixels[(y0 + y) * iw + x0 + x];
    let k = if half { 2 } else { 1 };
    for y in 0..h.min(ch / k) {
        for x in 0..w.min(cw / k) {
            let o = (y * w + x) * 3;
            if half {
                let ps = [
                    px(2 * x, 2 * y),
                    px(2 * x + 1, 2 * y),
                    px(2 * x, 2 * y + 1),
                    px(2 * x + 1, 2 * y + 1),
                ];
                for c in 0..3 {
                    let sum: u32 = ps.iter().map(|p| u32::from(p.to_array()[c])).sum();
                    out[o + c] = ((sum + 2) / 4) as u8;
                }
            } else {
                let p = px(x, y).to_array();
                out[o..o + 3].copy_from_slice(&p[..3]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes a GIF into its frames composed on the canvas, as RGBA.
    fn decode(path: &Path) -> (usize, usize, Vec<Vec<u8>>, Vec<u16>) {
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::RGBA);
        let file = std::fs::File::open(path).expect("written");
        let mut d = options.read_info(file).expect("a GIF");
        let (w, h) = (usize::from(d.width()), usize::from(d.height()));
        let mut canvas = vec![0u8; w * h * 4];
        let (mut frames, mut delays) = (Vec::new(), Vec::new());
        while let Some(f) = d.read_next_frame().expect("a frame") {
            for y in 0..usize::from(f.height) {
                for x in 0..usize::from(f.width) {
                    let s = (y * usize::from(f.width) + x) * 4;
                    if f.buffer[s + 3] == 0 {
                        continue;
                    }
                    let t = ((y + usize::from(f.top)) * w + x + usize::from(f.left)) * 4;
                    canvas[t..t + 4].copy_from_slice(&f.buffer[s..s + 4]);
                }
            }
            frames.push(canvas.clone());
            delays.push(f.delay);
        }
        (w, h, frames, delays)
    }

    #[test]
    fn frames_decode_to_what_was_pushed_with_their_timing() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("t.gif");
        let (w, h) = (40, 30);
        let mut g = GifWriter::create(&path, w, h).expect("create");
        let mut frames = Vec::new();
        for i in 0..5usize {
            let mut rgb = vec![255u8; w * h * 3];
            // A moving block in one of the class colours on white; frame 3 repeats 2.
            let k = if i == 3 { 2 } else { i };
            for y in 10..20 {
                for x in 5 * k..5 * k + 8 {
                    rgb[(y * w + x) * 3..(y * w + x) * 3 + 3]
                        .copy_from_slice(&crate::colors::CLASS[1]);
                }
            }
            frames.push(rgb.clone());
            g.push(&rgb, i as f64 * 0.1).expect("push");
        }
        let s = g.finish(0.1).expect("finish");
        assert_eq!((s.frames, s.size), (5, [w, h]));
        assert!((s.seconds - 0.5).abs() < 1e-9, "{}", s.seconds);
        let (dw, dh, decoded, delays) = decode(&path);
        assert_eq!((dw, dh), (w, h));
        assert_eq!(delays, vec![10; 5]);
        for (got, want) in decoded.iter().zip(&frames) {
            for (g, p) in got.chunks_exact(4).zip(want.chunks_exact(3)) {
                assert_eq!(&g[..3], p, "palette colours are exact here");
            }
        }
    }

    #[test]
    fn never_replaces_a_file_and_needs_its_folder() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("there.gif");
        std::fs::write(&path, b"keep").expect("write");
        let e = GifWriter::create(&path, 10, 10).err().expect("exists");
        assert!(matches!(e, RecordError::Exists { .. }), "{e}");
        let e = check_path(&dir.path().join("no/such/dir.gif")).expect_err("no folder");
        assert!(matches!(e, RecordError::NoFolder { .. }), "{e}");
        // A file that appears while recording is not replaced either.
        let late = dir.path().join("late.gif");
        let mut g = GifWriter::create(&late, 4, 4).expect("create");
        g.push(&[0u8; 48], 0.0).expect("push");
        std::fs::write(&late, b"keep").expect("write");
        assert!(matches!(g.finish(0.1), Err(RecordError::Exists { .. })));
        assert_eq!(std::fs::read(&late).expect("read"), b"keep");
        assert_eq!(std::fs::read(&path).expect("read"), b"keep");
        // No temporary file is left behind.
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
        assert_eq!(left.len(), 2);
    }

    #[test]
    fn the_recorder_thread_crops_halves_and_writes() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("app.gif");
        let mut r = Recorder::start(path.clone(), 10.0, true, None).expect("start");
        let feed = r.feed().expect("running");
        for k in 0..3u8 {
            let image = egui::ColorImage::new(
                [100, 80],
                vec![egui::Color32::from_rgb(10 * k, 200, 30); 100 * 80],
            );
            feed.offer(Shot {
                image: Arc::new(image),
                crop: egui::Rect::from_min_max(egui::pos2(10.0, 20.0), egui::pos2(70.0, 60.0)),
                at: f64::from(k) * 0.1,
            });
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        drop(feed);
        r.stop();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let s = loop {
            if let Some(o) = r.outcome() {
                break o.expect("written");
            }
            assert!(std::time::Instant::now() < deadline, "the encoder finishes");
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert_eq!(s.size, [30, 20]);
        assert_eq!(s.frames + s.dropped, 3);
        let (w, h, frames, _) = decode(&path);
        assert_eq!((w, h), (30, 20));
        assert_eq!(frames.len() as u64, s.frames);
    }
}
