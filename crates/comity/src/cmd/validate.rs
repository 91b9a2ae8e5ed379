//! `comity validate`: checks files of STIX 2.1 content (one object, a JSON list of objects, a
//! bundle, or a TAXII envelope) against the spec and prints one verdict per object.
//! Indicators whose `pattern_type` is `stix` also get their pattern checked by comity-pattern
//! (the patterning grammar sits above comity-stix, so it is joined here).
//! Exit status: 0 all valid, 1 some object invalid, 2 some input unreadable or malformed.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use comity_stix::{validate, validate_bundle, Validation, Violation};
use serde_json::{json, Value};

/// Arguments of `comity validate`.
#[derive(clap::Args)]
pub struct ValidateArgs {
    /// Files holding STIX objects, JSON lists of objects, bundles or TAXII envelopes.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print one JSON object per line: {"file","index","id","valid","errors","warnings"}.
    #[arg(long)]
    pub json: bool,
}

/// How one input file went.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    AllValid,
    SomeInvalid,
    Unusable,
}

/// Runs `comity validate`.
pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut worst = Outcome::AllValid;
    let (mut valid, mut invalid) = (0usize, 0usize);
    for file in &args.files {
        let outcome = match load(file) {
            Ok(content) => {
                let mut any_invalid = false;
                for (index, verdict) in verdicts(&content).into_iter().enumerate() {
                    let (id, validation) = verdict;
                    if validation.is_valid() {
                        valid += 1;
                    } else {
                        invalid += 1;
                        any_invalid = true;
                    }
                    let written = if args.json {
                        print_json(&mut out, file, index, id, &validation)
                    } else {
                        print_text(&mut out, id, &validation)
                    };
                    if let Err(err) = written {
                        return broken_pipe_or(err);
                    }
                }
                if any_invalid {
                    Outcome::SomeInvalid
                } else {
                    Outcome::AllValid
                }
            }
            Err(err) => {
                eprintln!("error: {err:#}");
                Outcome::Unusable
            }
        };
        worst = worst.max(outcome);
    }
    if let Err(err) = out.flush() {
        return broken_pipe_or(err);
    }
    if !args.json {
        eprintln!(
            "{} objects: {valid} valid, {invalid} invalid",
            valid + invalid
        );
    }
    Ok(match worst {
        Outcome::AllValid => ExitCode::SUCCESS,
        Outcome::SomeInvalid => ExitCode::from(1),
        Outcome::Unusable => ExitCode::from(2),
    })
}

/// A closed pipe (`comity validate x | head`) ends the run quietly; other write errors are errors.
fn broken_pipe_or(err: io::Error) -> anyhow::Result<ExitCode> {
    if err.kind() == io::ErrorKind::BrokenPipe {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(err).context("writing to standard output")
    }
}

/// Reads and parses one file, or explains precisely why it cannot be used.
fn load(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let content: Value = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}:{}: malformed JSON: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    let recognised = match &content {
        Value::Array(items) => items.iter().all(Value::is_object),
        Value::Object(map) => {
            map.contains_key("type") || map.get("objects").is_some_and(Value::is_array)
        }
        _ => false,
    };
    if !recognised {
        anyhow::bail!(
            "{}: not a STIX object, a JSON list of objects, a bundle or a TAXII envelope",
            path.display()
        );
    }
    Ok(content)
}

/// One verdict per object: for a bundle, its envelope (only when it has findings) then each
/// object; for a TAXII envelope or a list, each object; else the object itself.
fn verdicts(content: &Value) -> Vec<(Option<&str>, Validation)> {
    fn id(v: &Value) -> Option<&str> {
        v.get("id").and_then(Value::as_str)
    }
    fn each(objects: &[Value]) -> Vec<(Option<&str>, Validation)> {
        objects
            .iter()
            .map(|o| (id(o), validate_with_pattern(o)))
            .collect()
    }
    match content {
        Value::Array(objects) => each(objects),
        Value::Object(map) if map.get("type").and_then(Value::as_str) == Some("bundle") => {
            let envelope = validate_bundle(content);
            let objects = map
                .get("objects")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut out = Vec::with_capacity(objects.len() + 1);
            if !envelope.errors.is_empty() || !envelope.warnings.is_empty() {
                out.push((id(content), envelope));
            }
            out.extend(each(objects));
            out
        }
        Value::Object(map) if !map.contains_key("type") => each(
            map.get("objects")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default(),
        ),
        _ => vec![(id(content), validate_with_pattern(content))],
    }
}

/// `comity_stix::validate`, plus the STIX 2.1 patterning rules for an indicator's `pattern`
/// when its `pattern_type` is `stix` (STIX 2.1 section 4.7: the pattern MUST then be a STIX
/// pattern). Other pattern languages are not checked.
fn validate_with_pattern(obj: &Value) -> Validation {
    let mut validation = validate(obj);
    let is_stix_indicator = obj.get("type").and_then(Value::as_str) == Some("indicator")
        && obj.get("pattern_type").and_then(Value::as_str) == Some("stix");
    let Some(pattern) = obj
        .get("pattern")
        .and_then(Value::as_str)
        .filter(|_| is_stix_indicator)
    else {
        return validation;
    };
    let finding = |rule: &'static str, message: String| Violation {
        object_id: obj.get("id").and_then(Value::as_str).map(str::to_owned),
        path: "pattern".to_owned(),
        rule,
        message,
    };
    match comity_pattern::validate(pattern, comity_pattern::StixVersion::V21) {
        Ok(warnings) => validation.warnings.extend(
            warnings
                .into_iter()
                .map(|w| finding("pattern-warning", w.to_string())),
        ),
        Err(err) => validation.errors.push(finding(
            "pattern-syntax",
            format!("not a valid STIX pattern: {err}"),
        )),
    }
    validation
}

fn print_text(out: &mut impl Write, id: Option<&str>, v: &Validation) -> io::Result<()> {
    let id = id.unwrap_or("<no id>");
    if v.is_valid() {
        writeln!(out, "valid    {id}")?;
    } else {
        writeln!(out, "INVALID  {id}")?;
    }
    for e in &v.errors {
        writeln!(out, "  error    {}", finding(e))?;
    }
    for w in &v.warnings {
        writeln!(out, "  warning  {}", finding(w))?;
    }
    Ok(())
}

fn finding(v: &Violation) -> String {
    let path = if v.path.is_empty() {
        "<object>"
    } else {
        &v.path
    };
    format!("{path}: {} [{}]", v.message, v.rule)
}

fn print_json(
    out: &mut impl Write,
    file: &Path,
    index: usize,
    id: Option<&str>,
    v: &Validation,
) -> io::Result<()> {
    let list = |items: &[Violation]| {
        items
            .iter()
            .map(|f| json!({"path": f.path, "rule": f.rule, "message": f.message}))
            .collect::<Vec<_>>()
    };
    let line = json!({
        "file": file.display().to_string(),
        "index": index,
        "id": id,
        "valid": v.is_valid(),
        "errors": list(&v.errors),
        "warnings": list(&v.warnings),
    });
    writeln!(out, "{line}")
}
