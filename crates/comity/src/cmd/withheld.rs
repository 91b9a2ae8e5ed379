//! Telling people what the sharing policy withheld from which peer: per peer, how many
//! objects by which rule, with one example each (the rules are the README's sharing rules).

use comity_node::federation::plan::Withheld;

/// The lines that report `withheld`, each peer named by `name_of`, indented by `indent`.
pub fn lines(withheld: &Withheld, indent: &str, name_of: impl Fn(&str) -> String) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<&str> = None;
    for ((peer, rule), tally) in &withheld.0 {
        if current != Some(peer.as_str()) {
            let total: u64 = withheld
                .0
                .iter()
                .filter(|((p, _), _)| p == peer)
                .map(|(_, t)| t.count)
                .sum();
            out.push(format!(
                "{indent}withheld from {}: {total} objects",
                name_of(peer)
            ));
            current = Some(peer.as_str());
        }
        out.push(format!(
            "{indent}  {} by rule {}, e.g. {}: {}",
            tally.count,
            rule.as_str(),
            tally.example,
            tally.reason
        ));
    }
    out
}
