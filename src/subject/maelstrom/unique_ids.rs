//! Maelstrom's `unique-ids` workload: clients ask nodes to `generate` an id, and
//! every acknowledged id must differ from every other (totally available: each node
//! answers alone). [`generate`] drives it; [`check`] judges the ids.

use std::collections::HashMap;
use std::time::Duration;

use checkers::Verdict;
use serde_json::{json, Value as Json};

use super::net::Network;

/// What a unique-ids run found.
#[derive(Clone, Debug, PartialEq)]
pub struct UniqueIds {
    /// The verdict: invalid iff some id was handed out twice.
    pub verdict: Verdict,
    /// How many ids were acknowledged.
    pub acknowledged: usize,
    /// Each duplicated id with how many times it was handed out.
    pub duplicates: Vec<(Json, usize)>,
    /// How many requests got no (or an error) answer.
    pub failed: usize,
}

/// Sends `per_node` `generate` requests to every node (concurrently across nodes),
/// and judges the answers.
pub async fn generate(net: &Network, per_node: usize, timeout: Duration) -> UniqueIds {
    let mut tasks = Vec::new();
    for (i, node) in net.names().iter().enumerate() {
        let net = net.clone();
        let node = node.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for _ in 0..per_node {
                let r = net
                    .request(
                        &format!("c{}", i + 1),
                        &node,
                        json!({"type": "generate"}),
                        timeout,
                    )
                    .await;
                out.push(match r {
                    Ok(m) if m.kind() == Some("generate_ok") => m.body.get("id").cloned(),
                    _ => None,
                });
            }
            out
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.extend(t.await.unwrap_or_default());
    }
    let failed = answers.iter().filter(|a| a.is_none()).count();
    let ids: Vec<Json> = answers.into_iter().flatten().collect();
    check(&ids, failed)
}

/// Judges acknowledged `ids`: invalid iff two are equal.
pub fn check(ids: &[Json], failed: usize) -> UniqueIds {
    let mut counts: HashMap<String, (Json, usize)> = HashMap::new();
    for id in ids {
        counts.entry(id.to_string()).or_insert((id.clone(), 0)).1 += 1;
    }
    let mut duplicates: Vec<(Json, usize)> = counts.into_values().filter(|(_, n)| *n > 1).collect();
    duplicates.sort_by_key(|(id, _)| id.to_string());
    let verdict = if ids.is_empty() {
        Verdict::Unknown
    } else if duplicates.is_empty() {
        Verdict::Valid
    } else {
        Verdict::Invalid
    };
    UniqueIds {
        verdict,
        acknowledged: ids.len(),
        duplicates,
        failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_handed_out_twice_is_invalid_and_named() {
        let r = check(&[json!(1), json!("a"), json!(1)], 0);
        assert_eq!(r.verdict, Verdict::Invalid);
        assert_eq!(r.duplicates, vec![(json!(1), 2)]);
        assert_eq!(check(&[json!(1), json!(2)], 0).verdict, Verdict::Valid);
        assert_eq!(check(&[], 3).verdict, Verdict::Unknown);
    }
}
