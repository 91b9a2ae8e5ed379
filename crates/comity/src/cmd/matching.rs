//! `comity match`: stream telemetry through every indicator of a bundle with the compiled
//! engine, and report hits as JSON lines or as STIX sightings. Each observation is matched
//! on its own; indicators that need several observations are also evaluated across all
//! observed-data of one input document (a bundle or list), such a hit naming them all.
//!
//! Input (files, or standard input): a STIX bundle or JSON list of observed-data; or
//! lines, each a JSON object (an SCO, an observed-data or a bundle) or a typed value such
//! as `ipv4-addr 203.0.113.7`, `domain-name evil.example` or
//! `file:hashes.'SHA-256' 9f86…`. A malformed line stops the run with its line number,
//! unless `--keep-going` skips it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use comity_pattern::ast::PathStep;
use comity_pattern::{Engine, IndicatorMeta, Observation, Observations, StixVersion, Timestamp};
use serde_json::{json, Map, Value};

/// Arguments of `comity match`.
#[derive(clap::Args)]
pub struct MatchArgs {
    /// A STIX bundle (or JSON list) whose `indicator` objects with STIX patterns are
    /// matched [default: every indicator stored in the node of --data-dir].
    #[arg(long)]
    pub indicators: Option<PathBuf>,
    #[command(flatten)]
    pub data: crate::config::DataDir,
    /// Telemetry files; standard input when none (or `-`).
    pub inputs: Vec<PathBuf>,
    /// Print one STIX `sighting` per indicator that fired instead of one line per hit.
    #[arg(long)]
    pub sightings: bool,
    /// The identity (this node) put in the sightings' `where_sighted_refs`.
    #[arg(long)]
    pub identity: Option<String>,
    /// Skip malformed lines (reporting each) instead of stopping at the first.
    #[arg(long)]
    pub keep_going: bool,
    /// Observation time for bare SCOs and typed lines (default: now).
    #[arg(long)]
    pub at: Option<String>,
    /// Grammar version of the indicators' patterns.
    #[arg(long, default_value = "2.1")]
    pub stix_version: StixVersion,
    /// No progress or summary on standard error.
    #[arg(long)]
    pub quiet: bool,
}

/// What one indicator's sighting accumulates.
struct Sighted {
    count: u64,
    first: Timestamp,
    last: Timestamp,
    observed_data: Vec<String>,
}

struct Run<'a> {
    args: &'a MatchArgs,
    engine: Engine,
    at: Timestamp,
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    observations: u64,
    hits: u64,
    skipped: u64,
    sighted: HashMap<String, Sighted>,
    started: Instant,
    last_progress: Instant,
}

/// Runs `comity match`.
pub fn run(args: MatchArgs) -> anyhow::Result<ExitCode> {
    if args.sightings && args.identity.is_none() {
        bail!("--sightings needs --identity (this node's identity id, for where_sighted_refs)");
    }
    let at = match &args.at {
        Some(s) => Timestamp::parse(s).with_context(|| format!("--at: not a timestamp: {s}"))?,
        None => now(),
    };
    let started = Instant::now();
    let engine = load_indicators(&args)?;
    if !args.quiet {
        eprintln!(
            "compiled {} indicators in {:.1} ms",
            engine.len(),
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    let mut run = Run {
        args: &args,
        engine,
        at,
        out: std::io::BufWriter::new(std::io::stdout().lock()),
        observations: 0,
        hits: 0,
        skipped: 0,
        sighted: HashMap::new(),
        started: Instant::now(),
        last_progress: Instant::now(),
    };
    let inputs: Vec<PathBuf> = if args.inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };
    for input in &inputs {
        let name = input.display().to_string();
        if name == "-" {
            run.stream(BufReader::new(std::io::stdin().lock()), "stdin")?;
        } else {
            let file = std::fs::File::open(input).with_context(|| format!("opening {name}"))?;
            run.stream(BufReader::new(file), &name)?;
        }
    }
    run.finish()?;
    Ok(ExitCode::SUCCESS)
}

fn now() -> Timestamp {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Timestamp(nanos as i128)
}

fn load_indicators(args: &MatchArgs) -> anyhow::Result<Engine> {
    match &args.indicators {
        Some(path) => {
            let items = super::pattern::read_json_items(path)?;
            let flat = items.iter().flat_map(|item| match item.get("objects") {
                Some(Value::Array(objects)) if item.get("type") == Some(&json!("bundle")) => {
                    objects.iter().collect::<Vec<_>>()
                }
                _ => vec![item],
            });
            compile(args, flat)
        }
        None => {
            let stored = stored_indicators(&args.data)?;
            compile(args, stored.iter())
        }
    }
}

/// The newest version of every indicator in every collection of the node.
fn stored_indicators(data: &crate::config::DataDir) -> anyhow::Result<Vec<Value>> {
    use comity_store::{ObjectFilter, PageRequest, VersionFilter};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = data.open_store()?;
        let filter = ObjectFilter {
            types: vec!["indicator".into()],
            versions: VersionFilter::last(),
            ..ObjectFilter::default()
        };
        let mut found = Vec::new();
        for root in store.api_roots().await? {
            for collection in store.collections(&root.name).await? {
                let mut after = None;
                loop {
                    let page = store
                        .objects(
                            &collection.key(),
                            &filter,
                            &PageRequest { limit: 5000, after },
                        )
                        .await?;
                    for o in &page.items {
                        found.push(serde_json::from_str(&o.json)?);
                    }
                    match page.next {
                        Some(cursor) => after = Some(cursor),
                        None => break,
                    }
                }
            }
        }
        Ok(found)
    })
}

/// Compiles the indicators among `objects` into one engine.
fn compile<'a>(args: &MatchArgs, flat: impl Iterator<Item = &'a Value>) -> anyhow::Result<Engine> {
    let mut engine = Engine::new();
    let mut other_types = 0;
    for sdo in flat {
        if sdo.get("type").and_then(Value::as_str) != Some("indicator") {
            continue;
        }
        let pattern_type = sdo
            .get("pattern_type")
            .and_then(Value::as_str)
            .unwrap_or("stix");
        if pattern_type != "stix" {
            other_types += 1;
            continue;
        }
        let meta = IndicatorMeta::from_indicator(sdo).context("an indicator without an id")?;
        let pattern = sdo
            .get("pattern")
            .and_then(Value::as_str)
            .with_context(|| format!("{}: no pattern", meta.id))?;
        let id = meta.id.clone();
        engine
            .add(meta, pattern, args.stix_version)
            .with_context(|| format!("{id}: pattern {pattern:?}"))?;
    }
    if other_types > 0 && !args.quiet {
        eprintln!("skipped {other_types} indicators whose pattern_type is not stix");
    }
    Ok(engine)
}

/// An SCO from a typed line: `TYPE VALUE` (the `value` property) or `TYPE:PATH VALUE`.
fn typed_line(line: &str) -> anyhow::Result<Value> {
    let (head, value) = line
        .split_once(char::is_whitespace)
        .context("expected `TYPE VALUE` or `TYPE:PATH VALUE`")?;
    let value = value.trim();
    let spec = if head.contains(':') {
        head.to_string()
    } else {
        format!("{head}:value")
    };
    let path = comity_pattern::parse_object_path(&spec).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut leaf = match serde_json::from_str::<Value>(value) {
        Ok(v @ (Value::Number(_) | Value::Bool(_))) if path.steps.len() == 1 => v,
        _ => Value::String(value.to_string()),
    };
    for step in path.steps[1..].iter().rev() {
        let PathStep::Key(k) = step else {
            bail!("a typed line's path may only hold property names");
        };
        let mut m = Map::new();
        m.insert(k.clone(), leaf);
        leaf = Value::Object(m);
    }
    let PathStep::Key(first) = &path.steps[0] else {
        bail!("a typed line's path must start with a property name");
    };
    Ok(json!({"type": path.object_type, first.clone(): leaf}))
}

impl Run<'_> {
    fn stream(&mut self, mut reader: impl BufRead, name: &str) -> anyhow::Result<()> {
        let mut first = Vec::new();
        reader.read_until(b'\n', &mut first)?;
        let first_text = String::from_utf8_lossy(&first);
        let starts_json = matches!(first_text.trim_start().chars().next(), Some('{' | '['));
        let complete_line = serde_json::from_str::<Value>(first_text.trim()).is_ok();
        if starts_json && !complete_line {
            // A pretty-printed document: read it whole.
            let mut rest = first;
            reader.read_to_end(&mut rest)?;
            let text = std::str::from_utf8(&rest)
                .map_err(|e| anyhow::anyhow!("{name}: not UTF-8 (byte {})", e.valid_up_to()))?;
            let doc: Value =
                serde_json::from_str(text).with_context(|| format!("{name}: invalid JSON"))?;
            return self.json_value(&doc).with_context(|| name.to_string());
        }
        let mut line_no = 1;
        let mut buf = first;
        loop {
            if !buf.is_empty() {
                if let Err(e) = self.line(&buf) {
                    if !self.args.keep_going {
                        bail!("{name}: line {line_no}: {e:#}");
                    }
                    self.skipped += 1;
                    eprintln!("{name}: line {line_no}: skipped: {e:#}");
                }
            }
            buf.clear();
            if reader.read_until(b'\n', &mut buf)? == 0 {
                return Ok(());
            }
            line_no += 1;
        }
    }

    fn line(&mut self, raw: &[u8]) -> anyhow::Result<()> {
        let text = std::str::from_utf8(raw)
            .map_err(|e| anyhow::anyhow!("not UTF-8 (byte {})", e.valid_up_to()))?;
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            return Ok(());
        }
        if text.starts_with('{') || text.starts_with('[') {
            let v: Value = serde_json::from_str(text).context("invalid JSON")?;
            return self.json_value(&v);
        }
        let sco = typed_line(text)?;
        self.sco(&sco)
    }

    /// A bundle, a list, an observed-data or an SCO.
    fn json_value(&mut self, v: &Value) -> anyhow::Result<()> {
        let items: Vec<Value> = match v {
            Value::Array(list) => list.clone(),
            Value::Object(_) => vec![v.clone()],
            _ => bail!("expected a JSON object or list"),
        };
        let has_observed_data = |o: &Value| match o.get("type").and_then(Value::as_str) {
            Some("observed-data") => true,
            Some("bundle") => o
                .get("objects")
                .and_then(Value::as_array)
                .is_some_and(|objs| {
                    objs.iter()
                        .any(|x| x.get("type") == Some(&json!("observed-data")))
                }),
            _ => false,
        };
        if items.iter().any(has_observed_data) {
            let observations = Observations::from_json(&items, StixVersion::V21)?;
            let base = self.observations;
            for o in &observations.items {
                self.observe(o)?;
            }
            return self.across(&observations, base);
        }
        for item in &items {
            match item.get("objects").and_then(Value::as_array) {
                Some(objects) if item.get("type") == Some(&json!("bundle")) => {
                    for sco in objects {
                        self.sco(sco)?;
                    }
                }
                _ => self.sco(item)?,
            }
        }
        Ok(())
    }

    fn sco(&mut self, sco: &Value) -> anyhow::Result<()> {
        if sco.get("type").and_then(Value::as_str).is_none() {
            bail!("an object without a 'type'");
        }
        let key = sco.get("id").and_then(Value::as_str).unwrap_or("0");
        let o = Observation::new(None, self.at, self.at, 1, vec![(key, sco)]);
        self.observe(&o)
    }

    fn observe(&mut self, o: &Observation<'_>) -> anyhow::Result<()> {
        self.observations += 1;
        let hits: Vec<String> = self
            .engine
            .matches(o)
            .into_iter()
            .map(|h| h.indicator.id.clone())
            .collect();
        for id in hits {
            self.hits += 1;
            if self.args.sightings {
                let s = self.sighted.entry(id).or_insert(Sighted {
                    count: 0,
                    first: o.first,
                    last: o.last,
                    observed_data: Vec::new(),
                });
                s.count += o.count;
                s.first = s.first.min(o.first);
                s.last = s.last.max(o.last);
                if let Some(od) = o.id {
                    if !s.observed_data.iter().any(|x| x == od) {
                        s.observed_data.push(od.to_string());
                    }
                }
            } else {
                let hit = json!({
                    "indicator": id,
                    "observation": self.observations,
                    "observed_data": o.id,
                    "first_observed": o.first.to_string(),
                    "last_observed": o.last.to_string(),
                });
                writeln!(self.out, "{hit}")?;
            }
        }
        if !self.args.quiet && self.last_progress.elapsed() > Duration::from_secs(2) {
            self.last_progress = Instant::now();
            eprintln!("{}", self.summary());
        }
        Ok(())
    }

    /// Indicators that need several observations (AND, FOLLOWEDBY, REPEATS … across
    /// observed-data) are evaluated over all observed-data of one input document, taking
    /// those seen while the indicator was valid. Bindings of a single observation were
    /// already reported by the engine.
    fn across(&mut self, observations: &Observations<'_>, base: u64) -> anyhow::Result<()> {
        let items = &observations.items;
        if items.len() < 2 {
            return Ok(());
        }
        let mut found = Vec::new();
        for (meta, matcher) in self.engine.indicators() {
            if matcher.is_single_observation() {
                continue;
            }
            let valid: Vec<usize> = (0..items.len())
                .filter(|&i| meta.active_during(items[i].first, items[i].last))
                .collect();
            if valid.len() < 2 {
                continue;
            }
            let subset = Observations {
                items: valid.iter().map(|&i| items[i].clone()).collect(),
            };
            if let Ok(Some(binding)) = matcher.find(&subset) {
                if binding.len() >= 2 {
                    found.push((
                        meta.id.clone(),
                        binding.iter().map(|&k| valid[k]).collect::<Vec<_>>(),
                    ));
                }
            }
        }
        for (id, binding) in found {
            self.hits += 1;
            let first = binding
                .iter()
                .map(|&i| items[i].first)
                .min()
                .unwrap_or(self.at);
            let last = binding
                .iter()
                .map(|&i| items[i].last)
                .max()
                .unwrap_or(self.at);
            let ids: Vec<&str> = binding.iter().filter_map(|&i| items[i].id).collect();
            if self.args.sightings {
                let s = self.sighted.entry(id).or_insert(Sighted {
                    count: 0,
                    first,
                    last,
                    observed_data: Vec::new(),
                });
                s.count += 1;
                s.first = s.first.min(first);
                s.last = s.last.max(last);
                for od in ids {
                    if !s.observed_data.iter().any(|x| x == od) {
                        s.observed_data.push(od.to_string());
                    }
                }
            } else {
                let numbers: Vec<u64> = binding.iter().map(|&i| base + i as u64 + 1).collect();
                let hit = json!({
                    "indicator": id,
                    "observations": numbers,
                    "observed_data": ids,
                    "first_observed": first.to_string(),
                    "last_observed": last.to_string(),
                });
                writeln!(self.out, "{hit}")?;
            }
        }
        Ok(())
    }

    fn summary(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        format!(
            "{} observations, {} hits, {} skipped lines in {:.2} s ({:.0} observations/s)",
            self.observations,
            self.hits,
            self.skipped,
            secs,
            self.observations as f64 / secs.max(1e-9)
        )
    }

    fn finish(mut self) -> anyhow::Result<()> {
        if self.args.sightings {
            let created = now().to_string();
            let mut ids: Vec<&String> = self.sighted.keys().collect();
            ids.sort();
            for id in ids {
                let s = &self.sighted[id];
                let mut sighting = json!({
                    "type": "sighting",
                    "spec_version": "2.1",
                    "id": format!("sighting--{}", uuid::Uuid::new_v4()),
                    "created": created,
                    "modified": created,
                    "sighting_of_ref": id,
                    "count": s.count.min(999_999_999),
                    "first_seen": s.first.to_string(),
                    "last_seen": s.last.to_string(),
                    "where_sighted_refs": [self.args.identity],
                });
                if !s.observed_data.is_empty() {
                    sighting["observed_data_refs"] = json!(s.observed_data);
                }
                writeln!(self.out, "{sighting}")?;
            }
        }
        self.out.flush()?;
        if !self.args.quiet {
            eprintln!("{}", self.summary());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_lines_become_scos() {
        assert_eq!(
            typed_line("ipv4-addr 203.0.113.7").unwrap(),
            json!({"type": "ipv4-addr", "value": "203.0.113.7"})
        );
        assert_eq!(
            typed_line("file:hashes.'SHA-256' 9f86").unwrap(),
            json!({"type": "file", "hashes": {"SHA-256": "9f86"}})
        );
        assert!(typed_line("ipv4-addr").is_err());
        assert!(typed_line("file:hashes[0] x").is_err());
    }
}
