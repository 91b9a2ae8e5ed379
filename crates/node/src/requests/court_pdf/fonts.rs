//! The fonts a court file is printed with, found at run time among the system's fonts
//! (nothing is bundled): Noto Sans for Latin, Greek and Cyrillic, DejaVu Sans Mono for
//! hashes, keys and proofs, Noto Naskh Arabic for Arabic script and Noto Sans CJK SC for
//! Chinese, Japanese and Korean. The Arabic and CJK fonts are needed only when the file
//! holds those scripts. A font that is needed and missing is refused with the Debian
//! package that provides it; a character no font has a glyph for is refused too, so a
//! paper copy never shows an empty box where the file holds text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustybuzz::ttf_parser;

use super::PdfError;

/// Where fonts are looked for, recursively.
const FONT_DIRS: &[&str] = &["/usr/share/fonts", "/usr/local/share/fonts"];
/// How deep below those the search goes.
const MAX_DEPTH: usize = 5;

/// One of the fonts the file is printed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Slot {
    /// Body text.
    Regular,
    /// Titles, headings and labels.
    Bold,
    /// Hashes, keys, signatures and proofs.
    Mono,
    /// Arabic script.
    Arabic,
    /// Chinese, Japanese and Korean.
    Cjk,
}

impl Slot {
    const ALL: [Slot; 5] = [
        Slot::Regular,
        Slot::Bold,
        Slot::Mono,
        Slot::Arabic,
        Slot::Cjk,
    ];

    /// The file, the family inside it (for collections), and the Debian package.
    fn source(self) -> (&'static str, Option<&'static str>, &'static str) {
        match self {
            Slot::Regular => ("NotoSans-Regular.ttf", None, "fonts-noto-core"),
            Slot::Bold => ("NotoSans-Bold.ttf", None, "fonts-noto-core"),
            Slot::Mono => ("DejaVuSansMono.ttf", None, "fonts-dejavu-core"),
            Slot::Arabic => ("NotoNaskhArabic-Regular.ttf", None, "fonts-noto-core"),
            Slot::Cjk => (
                "NotoSansCJK-Regular.ttc",
                Some("Noto Sans CJK SC"),
                "fonts-noto-cjk",
            ),
        }
    }

    fn script(self) -> &'static str {
        match self {
            Slot::Arabic => "Arabic",
            Slot::Cjk => "Chinese, Japanese or Korean",
            _ => "Latin",
        }
    }
}

/// The script class of a character, as far as the choice of font goes.
pub(super) fn script_slot(c: char) -> Option<Slot> {
    match c as u32 {
        0x0600..=0x06FF | 0x0750..=0x077F | 0x0870..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => {
            Some(Slot::Arabic)
        }
        0x1100..=0x11FF
        | 0x2E80..=0x2FFF
        | 0x3000..=0x30FF
        | 0x3130..=0x318F
        | 0x31C0..=0x9FFF
        | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF
        | 0xFF00..=0xFFEF
        | 0x20000..=0x3134F => Some(Slot::Cjk),
        _ => None,
    }
}

/// A loaded font: its bytes, its face index, and the handle the PDF writer embeds (subset).
pub(super) struct FontFile {
    data: Arc<Vec<u8>>,
    index: u32,
    /// The PDF writer's handle.
    pub(super) pdf: krilla::text::Font,
}

impl FontFile {
    /// The shaping face.
    pub(super) fn face(&self) -> Option<rustybuzz::Face<'_>> {
        rustybuzz::Face::from_slice(&self.data, self.index)
    }
}

/// The fonts of one printing.
pub(super) struct Fonts {
    files: HashMap<Slot, FontFile>,
}

impl Fonts {
    /// Loads the fonts needed to print `text`: always the Latin and monospace ones, the
    /// Arabic and CJK ones when `text` holds those scripts.
    pub(super) fn for_text(text: &str) -> Result<Fonts, PdfError> {
        let dirs: Vec<PathBuf> = FONT_DIRS.iter().map(PathBuf::from).collect();
        Fonts::for_text_in(text, &dirs)
    }

    /// [`Self::for_text`] with the fonts found under `dirs`.
    fn for_text_in(text: &str, dirs: &[PathBuf]) -> Result<Fonts, PdfError> {
        let mut needed = vec![Slot::Regular, Slot::Bold, Slot::Mono];
        for slot in [Slot::Arabic, Slot::Cjk] {
            if text.chars().any(|c| script_slot(c) == Some(slot)) {
                needed.push(slot);
            }
        }
        let names: Vec<&str> = needed.iter().map(|s| s.source().0).collect();
        let found = find_files(dirs, &names);
        let mut files = HashMap::new();
        for slot in needed {
            let (name, family, package) = slot.source();
            let missing = || PdfError::FontMissing {
                script: slot.script(),
                file: name,
                package,
            };
            let path = found.get(name).ok_or_else(missing)?;
            files.insert(slot, load(path, family).ok_or_else(missing)?);
        }
        Ok(Fonts { files })
    }

    /// The font in `slot`, when loaded.
    pub(super) fn get(&self, slot: Slot) -> Option<&FontFile> {
        self.files.get(&slot)
    }

    /// The slots loaded, in a fixed order.
    pub(super) fn slots(&self) -> impl Iterator<Item = Slot> + '_ {
        Slot::ALL.into_iter().filter(|s| self.files.contains_key(s))
    }
}

/// Reads the font at `path`; in a collection, the face of `family`.
fn load(path: &Path, family: Option<&str>) -> Option<FontFile> {
    let data = Arc::new(std::fs::read(path).ok()?);
    let index = match family {
        None => 0,
        Some(family) => {
            let count = ttf_parser::fonts_in_collection(&data).unwrap_or(1);
            (0..count).find(|&i| {
                ttf_parser::Face::parse(&data, i).is_ok_and(|face| {
                    face.names().into_iter().any(|n| {
                        n.name_id == ttf_parser::name_id::FAMILY
                            && n.to_string().as_deref() == Some(family)
                    })
                })
            })?
        }
    };
    let pdf = krilla::text::Font::new(krilla::Data::from(data.clone()), index)?;
    Some(FontFile { data, index, pdf })
}

/// The paths of the files named `names` under `dirs` (the first found of each).
fn find_files(dirs: &[PathBuf], names: &[&str]) -> HashMap<String, PathBuf> {
    let mut found = HashMap::new();
    let mut stack: Vec<(PathBuf, usize)> = dirs.iter().map(|d| (d.clone(), 0)).collect();
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if depth < MAX_DEPTH {
                    stack.push((path, depth + 1));
                }
            } else if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                if names.contains(&name) && !found.contains_key(name) {
                    found.insert(name.to_owned(), path);
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_choose_their_fonts() {
        assert_eq!(script_slot('a'), None);
        assert_eq!(script_slot('é'), None);
        assert_eq!(script_slot('ه'), Some(Slot::Arabic));
        assert_eq!(script_slot('请'), Some(Slot::Cjk));
        assert_eq!(script_slot('。'), Some(Slot::Cjk));
        assert_eq!(script_slot('한'), Some(Slot::Cjk));
    }

    #[test]
    fn a_missing_font_is_refused_with_the_package_to_install() {
        let empty = tempfile::tempdir().unwrap();
        let dirs = [empty.path().to_path_buf()];
        let e = Fonts::for_text_in("plain text", &dirs).err().unwrap();
        assert_eq!(
            e.to_string(),
            "cannot print Latin text: the font NotoSans-Regular.ttf is not installed \
             (install the package fonts-noto-core)"
        );
        // With the Latin fonts there (copies of the system's), Chinese still needs its own.
        let latin = tempfile::tempdir().unwrap();
        for slot in [Slot::Regular, Slot::Bold, Slot::Mono] {
            let name = slot.source().0;
            let from = find_files(
                &FONT_DIRS.iter().map(PathBuf::from).collect::<Vec<_>>(),
                &[name],
            );
            std::fs::copy(&from[name], latin.path().join(name)).unwrap();
        }
        let dirs = [latin.path().to_path_buf()];
        assert!(Fonts::for_text_in("plain text", &dirs).is_ok());
        let e = Fonts::for_text_in("请求", &dirs).err().unwrap();
        assert_eq!(
            e,
            PdfError::FontMissing {
                script: "Chinese, Japanese or Korean",
                file: "NotoSansCJK-Regular.ttc",
                package: "fonts-noto-cjk",
            }
        );
        assert!(e
            .to_string()
            .ends_with("(install the package fonts-noto-cjk)"));
        let e = Fonts::for_text_in("الهيئة", &dirs).err().unwrap();
        assert!(e.to_string().contains("fonts-noto-core"), "{e}");
    }
}
