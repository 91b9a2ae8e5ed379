//! Text set into lines: each paragraph is split where the Unicode line breaking algorithm
//! allows (UAX #14), or anywhere inside a word too long for the line (a hash); each line is
//! reordered for display by the Unicode bidirectional algorithm (UAX #9), so Arabic reads
//! right to left among left-to-right text; each run of one direction and one font is shaped
//! with HarfBuzz's rules (rustybuzz), which joins Arabic letters and picks CJK glyphs.

use std::ops::Range;

use krilla::text::{GlyphId, KrillaGlyph};
use rustybuzz::{Direction, UnicodeBuffer};
use unicode_bidi::BidiInfo;
use unicode_linebreak::linebreaks;

use super::fonts::{script_slot, Fonts, Slot};
use super::PdfError;

/// How text is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Style {
    /// The font for Latin text (Arabic and CJK always take theirs).
    pub(super) face: Slot,
    /// Points.
    pub(super) size: f32,
    /// Gray level, 0 black to 255 white.
    pub(super) gray: u8,
}

impl Style {
    /// The height of a line of this style.
    pub(super) fn leading(&self) -> f32 {
        self.size * 1.4
    }
}

/// A shaped run of one font and one direction, in visual order.
pub(super) struct Run {
    /// Its font.
    pub(super) slot: Slot,
    /// Its text (the glyphs' clusters index into it).
    pub(super) text: String,
    /// Its glyphs, left to right.
    pub(super) glyphs: Vec<KrillaGlyph>,
    /// Where it starts, from the line's start, in points.
    pub(super) x: f32,
}

/// A line set for display.
pub(super) struct Line {
    /// Its runs, left to right.
    pub(super) runs: Vec<Run>,
    /// Its width in points.
    pub(super) width: f32,
    /// Whether its paragraph reads right to left (it is then set flush right).
    pub(super) rtl: bool,
    /// How it is set.
    pub(super) style: Style,
}

/// Sets text in lines of at most `width` points.
pub(super) struct Typesetter<'f> {
    fonts: &'f Fonts,
    faces: Vec<(Slot, rustybuzz::Face<'f>)>,
}

impl<'f> Typesetter<'f> {
    /// A typesetter with `fonts`.
    pub(super) fn new(fonts: &'f Fonts) -> Result<Self, PdfError> {
        let faces = fonts
            .slots()
            .map(|slot| {
                fonts
                    .get(slot)
                    .and_then(|f| f.face())
                    .map(|face| (slot, face))
                    .ok_or(PdfError::FontUnreadable(slot_name(slot)))
            })
            .collect::<Result<_, _>>()?;
        Ok(Typesetter { fonts, faces })
    }

    fn face(&self, slot: Slot) -> Option<&rustybuzz::Face<'f>> {
        self.faces.iter().find(|(s, _)| *s == slot).map(|(_, f)| f)
    }

    fn has_glyph(&self, slot: Slot, c: char) -> bool {
        self.face(slot).is_some_and(|f| f.glyph_index(c).is_some())
    }

    /// The font for `c` in text set in `style`, after a character set in `prev`.
    fn slot_for(&self, c: char, style: Style, prev: Option<Slot>) -> Result<Slot, PdfError> {
        let neutral = c.is_whitespace() || c.is_ascii_punctuation() || c.is_ascii_digit();
        let choices = [
            script_slot(c),
            prev.filter(|_| neutral),
            Some(style.face),
            Some(Slot::Regular),
            Some(Slot::Cjk),
        ];
        choices
            .into_iter()
            .flatten()
            .find(|&s| self.has_glyph(s, c))
            .ok_or(PdfError::NoGlyph(c))
    }

    /// The text split in runs of one font each (byte ranges of `text`).
    fn font_runs(&self, text: &str, style: Style) -> Result<Vec<(Slot, Range<usize>)>, PdfError> {
        let mut runs: Vec<(Slot, Range<usize>)> = Vec::new();
        for (i, c) in text.char_indices() {
            let slot = self.slot_for(c, style, runs.last().map(|r| r.0))?;
            match runs.last_mut() {
                Some((s, r)) if *s == slot => r.end = i + c.len_utf8(),
                _ => runs.push((slot, i..i + c.len_utf8())),
            }
        }
        Ok(runs)
    }

    /// Shapes `text` in one font and direction: its glyphs left to right.
    fn shape(&self, slot: Slot, text: &str, rtl: bool) -> Vec<KrillaGlyph> {
        let Some(face) = self.face(slot) else {
            return Vec::new();
        };
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        buffer.set_direction(if rtl {
            Direction::RightToLeft
        } else {
            Direction::LeftToRight
        });
        let shaped = rustybuzz::shape(face, &[], buffer);
        let em = face.units_per_em() as f32;
        let infos = shaped.glyph_infos();
        let positions = shaped.glyph_positions();
        // Each glyph covers its cluster: from its cluster's start to the next cluster's.
        let mut starts: Vec<usize> = infos.iter().map(|i| i.cluster as usize).collect();
        starts.sort_unstable();
        starts.dedup();
        let end_of = |start: usize| {
            starts
                .iter()
                .find(|&&s| s > start)
                .copied()
                .unwrap_or(text.len())
        };
        infos
            .iter()
            .zip(positions)
            .map(|(info, pos)| {
                let start = info.cluster as usize;
                KrillaGlyph::new(
                    GlyphId::new(info.glyph_id),
                    pos.x_advance as f32 / em,
                    pos.x_offset as f32 / em,
                    pos.y_offset as f32 / em,
                    pos.y_advance as f32 / em,
                    start..end_of(start),
                    None,
                )
            })
            .collect()
    }

    /// The width of `text` in points.
    fn measure(&self, text: &str, style: Style) -> Result<f32, PdfError> {
        let mut width = 0.0;
        for (slot, range) in self.font_runs(text, style)? {
            width += advance(&self.shape(slot, &text[range], false), style.size);
        }
        Ok(width)
    }

    /// Sets `text` in lines at most `width` points wide (one paragraph a line of `text`).
    pub(super) fn set(&self, text: &str, style: Style, width: f32) -> Result<Vec<Line>, PdfError> {
        let clean = printable(text);
        let mut lines = Vec::new();
        for paragraph in clean.split('\n') {
            if paragraph.trim().is_empty() {
                lines.push(Line {
                    runs: Vec::new(),
                    width: 0.0,
                    rtl: false,
                    style,
                });
                continue;
            }
            let bidi = BidiInfo::new(paragraph, None);
            let Some(para) = bidi.paragraphs.first() else {
                continue;
            };
            for range in self.break_lines(paragraph, style, width)? {
                lines.push(self.display(&bidi, para, range, style)?);
            }
        }
        Ok(lines)
    }

    /// Where `paragraph` breaks into lines at most `width` wide: byte ranges.
    fn break_lines(
        &self,
        paragraph: &str,
        style: Style,
        width: f32,
    ) -> Result<Vec<Range<usize>>, PdfError> {
        let mut pieces: Vec<Range<usize>> = Vec::new();
        let mut start = 0;
        // Mandatory breaks are already paragraph ends (see `printable`).
        for (at, _) in linebreaks(paragraph) {
            if at > start {
                pieces.push(start..at);
                start = at;
            }
        }
        let mut lines: Vec<Range<usize>> = Vec::new();
        let mut line: Option<(Range<usize>, f32)> = None;
        for piece in pieces {
            let text = &paragraph[piece.clone()];
            let w = self.measure(text, style)?;
            let ink = self.measure(text.trim_end(), style)?;
            match line.take() {
                Some((mut current, cw)) if cw + ink <= width => {
                    current.end = piece.end;
                    line = Some((current, cw + w));
                }
                previous => {
                    lines.extend(previous.map(|(r, _)| r));
                    if ink <= width {
                        line = Some((piece, w));
                    } else {
                        // A word longer than the line: broken between characters.
                        let mut current = piece.start..piece.start;
                        let mut cw = 0.0;
                        for (i, c) in text.char_indices() {
                            let cw1 = self.measure(&c.to_string(), style)?;
                            if cw + cw1 > width && current.end > current.start {
                                lines.push(current.clone());
                                current = piece.start + i..piece.start + i;
                                cw = 0.0;
                            }
                            current.end = piece.start + i + c.len_utf8();
                            cw += cw1;
                        }
                        line = Some((current, cw));
                    }
                }
            }
        }
        lines.extend(line.map(|(r, _)| r));
        Ok(lines)
    }

    /// The line `range` of a paragraph in display order, shaped.
    fn display(
        &self,
        bidi: &BidiInfo<'_>,
        para: &unicode_bidi::ParagraphInfo,
        range: Range<usize>,
        style: Style,
    ) -> Result<Line, PdfError> {
        let text = bidi.text;
        let trimmed = range.start..range.start + text[range.clone()].trim_end().len();
        let (levels, runs) = bidi.visual_runs(para, trimmed);
        let mut out = Vec::new();
        let mut x = 0.0;
        for run in runs {
            let rtl = levels[run.start].is_rtl();
            let mut pieces = self.font_runs(&text[run.clone()], style)?;
            if rtl {
                pieces.reverse();
            }
            for (slot, piece) in pieces {
                let piece_text = &text[run.start + piece.start..run.start + piece.end];
                let glyphs = self.shape(slot, piece_text, rtl);
                let w = advance(&glyphs, style.size);
                out.push(Run {
                    slot,
                    text: piece_text.to_owned(),
                    glyphs,
                    x,
                });
                x += w;
            }
        }
        Ok(Line {
            runs: out,
            width: x,
            rtl: para.level.is_rtl(),
            style,
        })
    }

    /// The fonts.
    pub(super) fn fonts(&self) -> &'f Fonts {
        self.fonts
    }
}

/// The width of `glyphs` at `size`.
fn advance(glyphs: &[KrillaGlyph], size: f32) -> f32 {
    glyphs
        .iter()
        .map(|g| krilla::text::Glyph::x_advance(g, size))
        .sum()
}

/// `text` with every line or paragraph separator as `\n`, tabs as spaces and other
/// control characters written as their code points, so every character printed has a
/// glyph.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.replace("\r\n", "\n").chars() {
        match c {
            '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                out.push('\n')
            }
            '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn slot_name(slot: Slot) -> &'static str {
    match slot {
        Slot::Regular => "regular",
        Slot::Bold => "bold",
        Slot::Mono => "monospace",
        Slot::Arabic => "Arabic",
        Slot::Cjk => "CJK",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_written_out() {
        assert_eq!(
            printable("a\tb\r\n\u{7}c\rd\u{2028}e"),
            "a b\n<U+0007>c\nd\ne"
        );
    }
}
