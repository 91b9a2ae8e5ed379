//! `comity export`: one collection as a STIX bundle on standard output, as this
//! organisation holds it or as the sharing policy releases it to a peer member; its
//! indicators as sensors read them (Suricata or Snort 3 rules, a Zeek Intel file, plain
//! lists, YARA and Sigma rules); or
//! the collection as a MISP feed written to a directory.

use std::io::Write;
use std::process::ExitCode;

use comity_node::detections::{Format, ValueKind};
use comity_node::policy::{Channel, Purpose, Role};
use comity_node::registry::Directory;
use comity_node::release::{Release, Released};
use comity_store::{ObjectFilter, PageRequest, VersionFilter};

use crate::cmd::import::resolve_collection;
use crate::cmd::node::DEFAULT_API_ROOT;
use crate::config::DataDir;

/// Arguments of `comity export`.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  comity export > bundle.json                                   # the default collection, as STIX
  comity export --for-member identity--… --purpose police-cooperation
  comity export --format suricata > comity.rules                # indicators as Suricata rules
  comity export --format snort > comity-snort.rules             # as Snort 3 rules (no file hashes)
  comity export --format list --value-type sha256 > comity-sha256.list
                                                                # the list the hash rules read
  comity export --format zeek-intel > comity.intel              # for Zeek's Intel::read_files
  comity export --format yara > comity.yar                      # hashes, domains, URLs for YARA
  comity export --format sigma > comity-sigma.yml               # Sigma rules for a SIEM
  comity export --format misp-feed --out /srv/misp-feed          # a MISP feed in a directory

Sensor formats take the newest version of each indicator the export channel releases
(TLP:RED from other members never leaves), leave out revoked and expired ones, and skip
patterns a sensor cannot look for as they are (AND, FOLLOWEDBY, qualifiers, NOT, ranges);
the counts go to standard error.")]
pub struct ExportArgs {
    /// Collection id [default: the collection titled `default`].
    #[arg(long)]
    collection: Option<String>,
    /// API root of the collection.
    #[arg(long, default_value = DEFAULT_API_ROOT)]
    api_root: String,
    /// Only these types (repeat the flag for several).
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    /// Every version of each object, not only the newest.
    #[arg(long)]
    all_versions: bool,
    /// Export what this peer member (identity--…) may be sent, instead of this
    /// organisation's own copy: the sharing policy decides for each object.
    #[arg(long, value_name = "MEMBER")]
    for_member: Option<String>,
    /// The purpose of a --for-member export: intelligence, police-cooperation or
    /// judicial-assistance.
    #[arg(long, default_value = "intelligence", requires = "for_member")]
    purpose: String,
    /// What to write: stix (a bundle), for sensors suricata, snort (Snort 3), zeek-intel,
    /// list, yara or sigma, or misp-feed (a MISP feed in the --out directory).
    #[arg(long, default_value = "stix")]
    format: String,
    /// Sensor formats: only values of this type (ipv4, ipv6, domain, url, md5, sha1,
    /// sha256; repeat the flag for several).
    #[arg(long = "value-type", value_name = "TYPE")]
    value_types: Vec<String>,
    /// The directory a misp-feed export writes (made if missing; event files it no
    /// longer holds are removed).
    #[arg(long, value_name = "DIR")]
    out: Option<std::path::PathBuf>,
    #[command(flatten)]
    data: DataDir,
}

/// Runs `comity export`: one STIX bundle on standard output.
pub async fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = args.data.open_store()?;
    let collection =
        resolve_collection(store.as_ref(), &args.api_root, args.collection.as_deref()).await?;
    if args.format == "misp-feed" {
        return misp_feed(store.as_ref(), &collection, &args).await;
    }
    if args.out.is_some() {
        anyhow::bail!("--out goes with --format misp-feed; other formats go to standard output");
    }
    if args.format != "stix" {
        let format: Format = args.format.parse().map_err(|_| {
            anyhow::anyhow!(
                "unknown format {:?}: expected stix, {}, or misp-feed",
                args.format,
                Format::names()
            )
        })?;
        return detections(store.as_ref(), &collection, format, &args).await;
    }
    if !args.value_types.is_empty() {
        anyhow::bail!(
            "--value-type goes with the sensor formats ({})",
            Format::names()
        );
    }
    let filter = ObjectFilter {
        types: args.types,
        versions: if args.all_versions {
            VersionFilter::all()
        } else {
            VersionFilter::last()
        },
        ..ObjectFilter::default()
    };
    let registry = Directory::new(store.as_ref());
    let federation = registry.federation().await?;
    let release = match &args.for_member {
        Some(member) => {
            if !federation.peers.contains_key(member.as_str()) {
                anyhow::bail!("{member:?} is not a registered peer member");
            }
            let purpose: Purpose = args.purpose.parse().map_err(anyhow::Error::msg)?;
            Release::for_member(federation, member, None, Channel::FederationSend, purpose)
        }
        None => {
            let purpose = federation.local_purpose();
            Release::for_user(federation, Role::Admin, Channel::Export, purpose)
        }
    }
    .from_origin(collection.origin.as_deref());
    let mut withheld = std::collections::BTreeMap::<&str, u64>::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write!(
        out,
        "{{\"type\":\"bundle\",\"id\":\"bundle--{}\",\"objects\":[",
        uuid::Uuid::new_v4()
    )?;
    let mut after = None;
    let mut count = 0u64;
    loop {
        let page = store
            .objects(
                &collection.key(),
                &filter,
                &PageRequest { limit: 5000, after },
            )
            .await?;
        for o in &page.items {
            let json = match release.object(&o.json) {
                Released::Allowed(json) => json,
                Released::Denied(denial) => {
                    *withheld.entry(denial.rule.as_str()).or_default() += 1;
                    continue;
                }
            };
            if count > 0 {
                out.write_all(b",")?;
            }
            out.write_all(b"\n")?;
            out.write_all(json.as_bytes())?;
            count += 1;
        }
        match page.next {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    out.write_all(b"\n]}\n")?;
    out.flush()?;
    eprintln!(
        "Exported {count} objects from collection {}.",
        collection.id
    );
    for (rule, n) in withheld {
        eprintln!("Withheld by the sharing policy ({rule}): {n} objects.");
    }
    Ok(ExitCode::SUCCESS)
}

/// The release of `collection` to this organisation's own users, through the export
/// channel.
async fn own_release(
    store: &dyn comity_store::Store,
    collection: &comity_store::Collection,
) -> anyhow::Result<Release> {
    let federation = Directory::new(store).federation().await?;
    let purpose = federation.local_purpose();
    Ok(
        Release::for_user(federation, Role::Admin, Channel::Export, purpose)
            .from_origin(collection.origin.as_deref()),
    )
}

/// `comity export --format misp-feed --out DIR`: the collection as a MISP feed.
async fn misp_feed(
    store: &dyn comity_store::Store,
    collection: &comity_store::Collection,
    args: &ExportArgs,
) -> anyhow::Result<ExitCode> {
    if args.for_member.is_some()
        || args.all_versions
        || !args.types.is_empty()
        || !args.value_types.is_empty()
    {
        anyhow::bail!(
            "--for-member, --all-versions, --type and --value-type do not go with --format \
             misp-feed; it exports the newest version of each object for this organisation"
        );
    }
    let dir = args
        .out
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("--format misp-feed needs --out DIR"))?;
    let release = own_release(store, collection).await?;
    let feed = comity_node::misp_feed::export(store, collection, &release).await?;
    feed.write(dir)
        .map_err(|e| anyhow::anyhow!("cannot write the feed into {}: {e}", dir.display()))?;
    eprintln!(
        "Exported {} events ({} attributes) from {} objects of collection {} into {}.",
        feed.events.len(),
        feed.attributes,
        feed.objects,
        collection.id,
        dir.display()
    );
    if feed.withheld > 0 {
        eprintln!("Withheld by the sharing policy: {} objects.", feed.withheld);
    }
    if feed.skipped > 0 {
        eprintln!(
            "Skipped {} objects no MISP attribute holds; the first:",
            feed.skipped
        );
        for (id, why) in &feed.skipped_examples {
            eprintln!("  {id}: {why}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `comity export --format suricata|snort|zeek-intel|list|yara|sigma`: the collection's indicators as this
/// organisation's sensors read them.
async fn detections(
    store: &dyn comity_store::Store,
    collection: &comity_store::Collection,
    format: Format,
    args: &ExportArgs,
) -> anyhow::Result<ExitCode> {
    if args.for_member.is_some() || args.all_versions || !args.types.is_empty() {
        anyhow::bail!(
            "--for-member, --all-versions and --type go with --format stix; sensor formats \
             export the newest version of each indicator for this organisation"
        );
    }
    let kinds = args
        .value_types
        .iter()
        .map(|t| t.parse::<ValueKind>().map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let release = own_release(store, collection).await?;
    let exported = comity_node::detections::export(
        store,
        &[(collection.key(), release)],
        format,
        &kinds,
        time::OffsetDateTime::now_utc(),
    )
    .await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    out.write_all(exported.text.as_bytes())?;
    out.flush()?;
    eprintln!(
        "Exported {} values from {} indicators of collection {} as {}.",
        exported.values,
        exported.indicators,
        collection.id,
        format.as_str()
    );
    if exported.withheld > 0 {
        eprintln!(
            "Withheld by the sharing policy: {} indicators.",
            exported.withheld
        );
    }
    if exported.skipped > 0 {
        eprintln!(
            "Skipped {} indicators no sensor can look for as they are, or expired; the first:",
            exported.skipped
        );
        for (id, why) in &exported.skipped_examples {
            eprintln!("  {id}: {why}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
