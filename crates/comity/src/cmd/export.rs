//! `comity export`: one collection as a STIX bundle on standard output, as this
//! organisation holds it or as the sharing policy releases it to a peer member.

use std::io::Write;
use std::process::ExitCode;

use comity_node::policy::{Channel, Purpose, Role};
use comity_node::registry::Directory;
use comity_node::release::{Release, Released};
use comity_store::{ObjectFilter, PageRequest, VersionFilter};

use crate::cmd::import::resolve_collection;
use crate::cmd::node::DEFAULT_API_ROOT;
use crate::config::DataDir;

/// Arguments of `comity export`.
#[derive(clap::Args)]
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
    #[command(flatten)]
    data: DataDir,
}

/// Runs `comity export`: one STIX bundle on standard output.
pub async fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = args.data.open_store()?;
    let collection =
        resolve_collection(store.as_ref(), &args.api_root, args.collection.as_deref()).await?;
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
