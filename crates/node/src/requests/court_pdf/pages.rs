//! The blocks of a court file set in A4 pages and written as a PDF: labelled rows in two
//! columns, a heading never alone at a page's foot, long values running on to the next
//! page, and a footer with the page number and the JSON file's hash on every page.

use std::sync::Arc;

use krilla::color::rgb;
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::Document;

use super::super::court_file::CourtFile;
use super::content::{footer, request_id, Block};
use super::fonts::Slot;
use super::text::{Line, Style, Typesetter};
use super::{PdfError, EMBEDDED_NAME};

/// A4, in points.
const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
/// The space kept at the foot of each page for its footer.
const FOOTER: f32 = 40.0;
const LABEL_WIDTH: f32 = 150.0;
const GUTTER: f32 = 12.0;
const BODY_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const VALUE_X: f32 = MARGIN + LABEL_WIDTH + GUTTER;
const VALUE_WIDTH: f32 = BODY_WIDTH - LABEL_WIDTH - GUTTER;
const BOTTOM: f32 = PAGE_HEIGHT - MARGIN - FOOTER;
/// The tallest row kept whole on one page; a taller one runs on to the next.
const KEEP_TOGETHER: f32 = 120.0;

const TITLE: Style = style(Slot::Bold, 16.0, 0);
const HEADING: Style = style(Slot::Bold, 12.0, 0);
const SUBHEADING: Style = style(Slot::Bold, 9.5, 40);
const BODY: Style = style(Slot::Regular, 9.0, 0);
const LABEL: Style = style(Slot::Regular, 8.0, 90);
const MONO: Style = style(Slot::Mono, 7.5, 0);
const FOOT: Style = style(Slot::Regular, 7.0, 90);
const FOOT_MONO: Style = style(Slot::Mono, 6.5, 90);

const fn style(face: Slot, size: f32, gray: u8) -> Style {
    Style { face, size, gray }
}

/// Something placed on a page.
enum Mark {
    /// A line of text whose box starts at `x` (top at `y`) and is `width` wide.
    Text {
        x: f32,
        y: f32,
        width: f32,
        line: Line,
    },
    /// A rule across the body at `y`.
    Rule { y: f32 },
}

/// Places lines on pages, top to bottom.
struct Pager {
    pages: Vec<Vec<Mark>>,
    y: f32,
}

impl Pager {
    fn new() -> Self {
        Pager {
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Makes room for `height` points, on a new page if this one has not that much left.
    fn room(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > MARGIN {
            self.new_page();
        }
    }

    fn mark(&mut self, mark: Mark) {
        self.pages.last_mut().expect("a page").push(mark);
    }

    /// Places `lines` across the body.
    fn lines(&mut self, lines: Vec<Line>) {
        for line in lines {
            let h = line.style.leading();
            self.room(h);
            let y = self.y;
            self.mark(Mark::Text {
                x: MARGIN,
                y,
                width: BODY_WIDTH,
                line,
            });
            self.y += h;
        }
    }

    /// Places a label's lines beside its value's, pair by pair; a row of a few lines is
    /// kept on one page.
    fn row(&mut self, label: Vec<Line>, value: Vec<Line>) {
        let n = label.len().max(value.len());
        let whole: f32 = label
            .iter()
            .chain(&value)
            .map(|l| l.style.leading())
            .fold(0.0, f32::max)
            * n as f32;
        if whole <= KEEP_TOGETHER {
            self.room(whole);
        }
        let mut label = label.into_iter();
        let mut value = value.into_iter();
        for _ in 0..n {
            let (l, v) = (label.next(), value.next());
            let h = l
                .iter()
                .chain(&v)
                .map(|x| x.style.leading())
                .fold(0.0, f32::max);
            self.room(h);
            let y = self.y;
            if let Some(line) = l {
                self.mark(Mark::Text {
                    x: MARGIN,
                    y,
                    width: LABEL_WIDTH,
                    line,
                });
            }
            if let Some(line) = v {
                self.mark(Mark::Text {
                    x: VALUE_X,
                    y,
                    width: VALUE_WIDTH,
                    line,
                });
            }
            self.y += h;
        }
        self.y += 2.0;
    }
}

/// Sets `blocks` in pages and writes the PDF, with `json` embedded.
pub(super) fn print(
    typesetter: &Typesetter<'_>,
    blocks: &[Block],
    file: &CourtFile,
    json: &[u8],
) -> Result<Vec<u8>, PdfError> {
    let mut pager = Pager::new();
    for block in blocks {
        match block {
            Block::Title(t) => {
                pager.lines(typesetter.set(t, TITLE, BODY_WIDTH)?);
                pager.y += 4.0;
            }
            Block::Heading(t) => {
                // A heading keeps a few lines of its section with it.
                pager.room(HEADING.leading() + 12.0 + 4.0 * BODY.leading());
                pager.y += 12.0;
                pager.lines(typesetter.set(t, HEADING, BODY_WIDTH)?);
                let y = pager.y;
                pager.mark(Mark::Rule { y });
                pager.y += 6.0;
            }
            Block::Subheading(t) => {
                pager.room(SUBHEADING.leading() + 6.0 + 3.0 * BODY.leading());
                pager.y += 6.0;
                pager.lines(typesetter.set(t, SUBHEADING, BODY_WIDTH)?);
            }
            Block::Paragraph(t) => {
                pager.lines(typesetter.set(t, BODY, BODY_WIDTH)?);
                pager.y += 4.0;
            }
            Block::Row { label, value, mono } => {
                let value_style = if *mono { MONO } else { BODY };
                pager.row(
                    typesetter.set(label, LABEL, LABEL_WIDTH)?,
                    typesetter.set(value, value_style, VALUE_WIDTH)?,
                );
            }
        }
    }

    let id = request_id(file);
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!("Court file of {id}"))
            .creator("Comity".into()),
    );
    let count = pager.pages.len();
    for (i, marks) in pager.pages.into_iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
            .ok_or_else(|| PdfError::Writer("bad page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for mark in &marks {
            draw(&mut surface, typesetter, mark);
        }
        let [first, second] = footer(file, json, i + 1, count);
        let mut y = PAGE_HEIGHT - MARGIN - FOOT.leading() - FOOT_MONO.leading();
        for line in typesetter
            .set(&first, FOOT, BODY_WIDTH)?
            .into_iter()
            .chain(typesetter.set(&second, FOOT_MONO, BODY_WIDTH)?)
        {
            let h = line.style.leading();
            draw(
                &mut surface,
                typesetter,
                &Mark::Text {
                    x: MARGIN,
                    y,
                    width: BODY_WIDTH,
                    line,
                },
            );
            y += h;
        }
        surface.finish();
        page.finish();
    }
    document.embed_file(EmbeddedFile {
        path: EMBEDDED_NAME.into(),
        mime_type: MimeType::new("application/json"),
        description: Some(
            "The machine-verifiable court file this PDF prints (comity request verify)".into(),
        ),
        association_kind: AssociationKind::Source,
        data: krilla::Data::from(Arc::new(json.to_vec())),
        modification_date: None,
        compress: Some(true),
        location: None,
    });
    document
        .finish()
        .map_err(|e| PdfError::Writer(format!("{e:?}")))
}

fn draw(surface: &mut Surface<'_>, typesetter: &Typesetter<'_>, mark: &Mark) {
    match mark {
        Mark::Text { x, y, width, line } => {
            let start = if line.rtl { x + width - line.width } else { *x };
            let baseline = y + line.style.size;
            let g = line.style.gray;
            surface.set_fill(Some(Fill {
                paint: rgb::Color::new(g, g, g).into(),
                ..Fill::default()
            }));
            for run in &line.runs {
                let Some(font) = typesetter.fonts().get(run.slot) else {
                    continue;
                };
                surface.draw_glyphs(
                    Point::from_xy(start + run.x, baseline),
                    &run.glyphs,
                    font.pdf.clone(),
                    &run.text,
                    line.style.size,
                    false,
                );
            }
        }
        Mark::Rule { y } => {
            let mut path = PathBuilder::new();
            path.move_to(MARGIN, *y);
            path.line_to(PAGE_WIDTH - MARGIN, *y);
            if let Some(path) = path.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: rgb::Color::new(150, 150, 150).into(),
                    width: 0.5,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
    }
}
