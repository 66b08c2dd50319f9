//! Session links: a whole session (a [`Preset`]) carried in a URL's fragment, so that a
//! link opens the same session on the web page, and `annealscope --preset LINK` opens it
//! on the desktop.
//!
//! The fragment is `#p=` followed by the preset as compact RON, compressed with zlib
//! (DEFLATE with an Adler-32 checksum, RFC 1950 and 1951) and written in URL-safe base64
//! without padding (RFC 4648, section 5), so it needs no escaping in a URL. The checksum
//! makes a truncated or altered link fail with one clear line instead of loading something
//! else. The text inside goes through the same versioned reader and validation as a
//! preset file. The fragment never reaches a server: the page decodes it in the browser.
//!
//! Depends on the preset format only; no UI, no platform.

use crate::preset::{MAX_FILE_BYTES, Preset, PresetError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// What starts the fragment of a session link (after the `#`).
pub const KEY: &str = "p=";

/// Where the desktop's links point: the web page's address, set when building with
/// `ANNEALSCOPE_WEB_URL`, else the address `tests/web/serve` serves the page on. The web
/// page itself uses its own address.
pub const PAGE: &str = match option_env!("ANNEALSCOPE_WEB_URL") {
    Some(url) => url,
    None => "http://localhost:8000/",
};

/// The name a link goes by in error messages.
const SOURCE: &str = "link";

/// Why a link could not be opened. Each reads as one line starting with `link:`.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// No `#p=` fragment.
    #[error("link: it holds no session (expected `#{KEY}` followed by the session)")]
    NoSession,
    /// Longer than any session can be.
    #[error("link: {0} characters is too long for a session (at most {max})", max = max_chars())]
    TooLong(usize),
    /// Not URL-safe base64.
    #[error("link: damaged or truncated (the session is not URL-safe base64: {0})")]
    Base64(String),
    /// The compressed session does not unpack (truncated, altered, or too large).
    #[error("link: damaged or truncated (the session does not unpack: {0})")]
    Unpack(String),
    /// The unpacked session is not text.
    #[error("link: damaged (the session is not UTF-8 text)")]
    NotText,
    /// The session's text is not a valid preset.
    #[error(transparent)]
    Preset(#[from] PresetError),
}

/// The longest fragment accepted, in characters: a preset file's limit, base64-encoded.
const fn max_chars() -> usize {
    (MAX_FILE_BYTES as usize).div_ceil(3) * 4
}

/// The fragment (without the `#`) that carries `preset`.
pub fn fragment(preset: &Preset) -> String {
    let text = ron::to_string(preset).unwrap_or_else(|_| preset.to_ron());
    let packed = miniz_oxide::deflate::compress_to_vec_zlib(text.as_bytes(), 9);
    format!("{KEY}{}", URL_SAFE_NO_PAD.encode(packed))
}

/// A link to `preset` on the page at `page` (any fragment of `page` is replaced).
pub fn link(page: &str, preset: &Preset) -> String {
    let base = page.split('#').next().unwrap_or(page);
    format!("{base}#{}", fragment(preset))
}

/// Whether `text` is meant as a session link (a URL or fragment with `#p=`, or a bare
/// `p=` fragment), rather than a file name.
pub fn looks_like_link(text: &str) -> bool {
    let t = text.trim();
    t.contains(&format!("#{KEY}")) || t.starts_with(KEY)
}

/// The session in a link: a whole URL, `#p=...` or `p=...`. Whitespace inside is ignored
/// (a link wrapped by a mail program still opens).
pub fn decode(text: &str) -> Result<Preset, LinkError> {
    let fragment = match text.split_once('#') {
        Some((_, f)) => f,
        None => text,
    };
    let fragment: String = fragment.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(body) = fragment.strip_prefix(KEY) else {
        return Err(LinkError::NoSession);
    };
    if body.len() > max_chars() {
        return Err(LinkError::TooLong(body.len()));
    }
    let packed = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|e| LinkError::Base64(e.to_string()))?;
    let bytes =
        miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&packed, MAX_FILE_BYTES as usize)
            .map_err(|e| LinkError::Unpack(unpack_error(&e)))?;
    let text = String::from_utf8(bytes).map_err(|_| LinkError::NotText)?;
    Ok(Preset::from_ron(&text, SOURCE)?)
}

/// miniz_oxide's error status in words.
fn unpack_error(e: &miniz_oxide::inflate::DecompressError) -> String {
    use miniz_oxide::inflate::TINFLStatus;
    match e.status {
        TINFLStatus::FailedCannotMakeProgress => "it ends too early".into(),
        TINFLStatus::Adler32Mismatch => "its checksum does not match".into(),
        TINFLStatus::HasMoreOutput => {
            format!("it unpacks to more than {MAX_FILE_BYTES} bytes")
        }
        _ => "it is not zlib data".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_round_trips_the_default_and_names_its_fragment() {
        let p = Preset::builtin_default();
        let url = link("http://example.org/annealscope/?x#old", &p);
        assert!(
            url.starts_with("http://example.org/annealscope/?x#p="),
            "{url}"
        );
        assert!(looks_like_link(&url));
        assert_eq!(decode(&url).expect("decodes"), p);
        assert_eq!(decode(&fragment(&p)).expect("bare fragment"), p);
        assert!(!looks_like_link("assets/presets/default.ron"));
    }

    #[test]
    fn damaged_links_give_one_line_naming_the_link() {
        let f = fragment(&Preset::builtin_default());
        let cases = [
            ("http://example.org/".to_owned(), "holds no session"),
            (f[..f.len() / 2].to_owned(), "damaged or truncated"),
            (format!("{f}A"), "damaged or truncated"),
            (f.replace('A', "*"), "not URL-safe base64"),
            (format!("{KEY}{}", "A".repeat(max_chars() + 1)), "too long"),
        ];
        for (text, want) in cases {
            let e = decode(&text).expect_err("refused").to_string();
            assert!(e.starts_with("link:"), "{e}");
            assert!(e.contains(want), "{want}: {e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }
}
