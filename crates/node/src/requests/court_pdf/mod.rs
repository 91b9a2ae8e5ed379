//! The printable PDF of a request's court file, for a court: every field of the request
//! with its label (and the article that requires it), deadlines in UTC and in both
//! parties' time zones when known, the signed history, the attachments by hash, every
//! event's signature and signer key, and the log entries with their inclusion proofs. Each
//! page's footer carries the page number and the SHA-256 of the JSON court file, and that
//! JSON file itself is embedded in the PDF (`court-file.json`), so the paper copy is tied
//! to the copy `comity request verify` checks.
//!
//! Text is shaped (Arabic joined and right to left, Chinese with its glyphs) and the fonts
//! are embedded as subsets; they are read from the system's fonts at run time (see
//! [`fonts`]), and a missing one is refused with the package to install.

mod content;
mod fonts;
mod pages;
mod text;

use super::court_file::{court_file, CourtFile};
use super::RequestError;
use crate::node::Node;

/// The name of the embedded JSON court file.
pub const EMBEDDED_NAME: &str = "court-file.json";

/// Why a court file could not be printed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// A font the file's text needs is not installed.
    #[error(
        "cannot print {script} text: the font {file} is not installed (install the package {package})"
    )]
    FontMissing {
        /// The script that needs it.
        script: &'static str,
        /// The font file looked for.
        file: &'static str,
        /// The Debian package that provides it.
        package: &'static str,
    },
    /// An installed font could not be read.
    #[error("the {0} font is installed but cannot be read")]
    FontUnreadable(&'static str),
    /// A character that none of the fonts has a glyph for.
    #[error(
        "cannot print the character U+{code:04X} ({0}): none of the fonts Comity prints with \
         (Noto Sans, Noto Naskh Arabic, Noto Sans CJK, DejaVu Sans Mono) has a glyph for it",
        code = u32::from(*.0)
    )]
    NoGlyph(char),
    /// An event of the file is not a signed event.
    #[error("event {n} of the court file is not a signed event: {reason}")]
    Event {
        /// Its place, from 1.
        n: usize,
        /// Why.
        reason: String,
    },
    /// The PDF writer failed.
    #[error("the PDF could not be written: {0}")]
    Writer(String),
}

/// Makes the court file of request `id` for `officer` (as
/// [`court_file`](super::court_file::court_file) does) and prints it: the PDF, with that
/// file's JSON text (the bytes whose SHA-256 it shows) embedded.
pub async fn court_pdf(node: &Node, officer: &str, id: &str) -> Result<Vec<u8>, RequestError> {
    let file = court_file(node, officer, id).await?;
    Ok(render(&file, &file.to_json())?)
}

/// Prints `file`, whose JSON text is `json` (embedded in the PDF, its SHA-256 on every
/// page).
pub fn render(file: &CourtFile, json: &[u8]) -> Result<Vec<u8>, PdfError> {
    let blocks = content::blocks(file, json)?;
    let all_text: String = blocks.iter().map(content::Block::text).collect();
    let fonts = fonts::Fonts::for_text(&all_text)?;
    let typesetter = text::Typesetter::new(&fonts)?;
    pages::print(&typesetter, &blocks, file, json)
}

#[cfg(test)]
mod tests;
