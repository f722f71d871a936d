//! `explain`: the physical plan as text.

use super::ChainEdge;
use crate::config::Config;
use std::fmt::Write as _;
use std::sync::Arc;

/// The chain of a stage and each of its edges' tier.
pub(crate) fn chain_line(
    s: &mut String,
    indent: &str,
    config: &Config,
    names: &[Arc<str>],
    edges: &[ChainEdge],
) {
    if names.is_empty() {
        return;
    }
    let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let _ = writeln!(s, "{indent}  chain: {}", list.join(" -> "));
    for (from, to, size) in edges {
        let (tier, cost) = crate::operator::chain::choose(config.tiers, *size);
        let why = match cost {
            Some(c) => format!(
                "cost model: fused {:.2} ns/record, batch boundary {:.2} ns/record, measured \
                 for {}-byte records",
                c.l4_ns, c.l3_ns, c.bytes
            ),
            None => format!("forced by Config::tiers = {:?}", config.tiers),
        };
        let what = match tier {
            crate::operator::tier::Tier::L4 => "L4 fused (direct call per record)",
            crate::operator::tier::Tier::L3 => "L3 batch boundary (one dynamic call per batch)",
        };
        let _ = writeln!(
            s,
            "{indent}    edge `{from}` -> `{to}` ({size} B/record): {what}  [{why}]"
        );
    }
}
