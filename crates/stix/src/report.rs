//! Findings of a validation run: `Violation`, `Validation`, and the `Ctx` that collects them.
//! Property paths are built lazily (only when a finding is recorded), so a clean object costs
//! no allocation here.

use std::fmt;

/// One finding: which object, which property, which rule, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The `id` of the object the finding is about, when it has a readable one.
    pub object_id: Option<String>,
    /// Property path such as `external_references[0].source_name`; empty for the whole object.
    pub path: String,
    /// Stable short rule id, e.g. `id-type-mismatch`.
    pub rule: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.object_id.as_deref().unwrap_or("<no id>");
        let path = if self.path.is_empty() {
            "<object>"
        } else {
            &self.path
        };
        write!(f, "{id}: {path}: {} [{}]", self.message, self.rule)
    }
}

/// The verdict on one STIX object: MUST-level errors and SHOULD-level warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validation {
    /// Violations of a MUST of STIX 2.1; any one makes the object invalid.
    pub errors: Vec<Violation>,
    /// Departures from a SHOULD (or deprecated forms); never make the object invalid.
    pub warnings: Vec<Violation>,
}

impl Validation {
    /// True when no MUST of the spec is violated.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// A property path, as a chain of borrowed segments rendered only when a finding needs it.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }

    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        Path::Index(self, index)
    }

    fn render(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Key(parent, key) => {
                parent.render(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Path::Index(parent, index) => {
                parent.render(out);
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.render(&mut out);
        f.write_str(&out)
    }
}

/// Collects the findings about one object; its id is copied only into findings.
pub(crate) struct Ctx<'o> {
    object_id: Option<&'o str>,
    pub(crate) out: Validation,
}

impl<'o> Ctx<'o> {
    pub(crate) fn new(object_id: Option<&'o str>) -> Ctx<'o> {
        Ctx {
            object_id,
            out: Validation::default(),
        }
    }

    fn violation(&self, path: &Path<'_>, rule: &'static str, message: String) -> Violation {
        Violation {
            object_id: self.object_id.map(str::to_owned),
            path: path.to_string(),
            rule,
            message,
        }
    }

    /// Records a MUST-level violation.
    pub(crate) fn error(
        &mut self,
        path: &Path<'_>,
        rule: &'static str,
        message: impl Into<String>,
    ) {
        let v = self.violation(path, rule, message.into());
        self.out.errors.push(v);
    }

    /// Records a SHOULD-level finding.
    pub(crate) fn warn(&mut self, path: &Path<'_>, rule: &'static str, message: impl Into<String>) {
        let v = self.violation(path, rule, message.into());
        self.out.warnings.push(v);
    }
}
