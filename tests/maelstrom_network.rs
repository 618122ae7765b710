//! End-to-end on faultline's Maelstrom network with real node processes: `init`
//! and `echo` (the smoke test), the partition hook, and `unique-ids` judged for a
//! correct and a broken node.

use std::path::{Path, PathBuf};
use std::time::Duration;

use checkers::Verdict;
use faultline::subject::maelstrom::net::{NetConfig, Network};
use faultline::subject::maelstrom::unique_ids;
use serde_json::json;

fn node(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/maelstrom_nodes")
        .join(name)
}

fn have_python() -> bool {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

async fn start(bin: &str, count: usize, test: &str) -> Network {
    let dir = std::env::temp_dir().join(format!("faultline-mnet-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let net = Network::spawn(&node(bin), count, &dir, NetConfig::default()).unwrap();
    net.init(Duration::from_secs(10)).await.unwrap();
    net
}

const T: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_answers_init_and_echoes_what_it_was_sent() {
    if !have_python() {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let net = start("echo.py", 3, "echo").await;
    for n in ["n0", "n1", "n2"] {
        let r = net
            .request(
                "c1",
                n,
                json!({"type": "echo", "echo": format!("hi {n}")}),
                T,
            )
            .await
            .unwrap();
        assert_eq!(r.kind(), Some("echo_ok"));
        assert_eq!(r.body["echo"], json!(format!("hi {n}")));
        assert_eq!(r.src, n);
    }
    // An unknown request gets Maelstrom's not-supported error.
    let r = net
        .request("c1", "n0", json!({"type": "nope"}), T)
        .await
        .unwrap();
    assert_eq!(r.body["code"], json!(10));
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_keeps_gossip_from_crossing_until_it_heals() {
    if !have_python() {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let net = start("g_set.py", 3, "partition").await;
    net.partition(&[vec!["n0".into()], vec!["n1".into(), "n2".into()]]);
    let add = json!({"type": "add", "element": ["k", 1]});
    assert_eq!(
        net.request("c1", "n0", add, T).await.unwrap().kind(),
        Some("add_ok")
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let read = || json!({"type": "read"});
    let r = net.request("c2", "n1", read(), T).await.unwrap();
    assert_eq!(r.body["value"], json!([]), "gossip crossed the partition");
    assert!(
        net.stats()
            .server
            .dropped
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    net.heal();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        let r = net.request("c2", "n1", read(), T).await.unwrap();
        if r.body["value"] == json!([["k", 1]]) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "n1 never learned the add"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_made_of_node_and_counter_are_unique() {
    if !have_python() {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let net = start("unique_ids.py", 3, "ids-good").await;
    let r = unique_ids::generate(&net, 100, T).await;
    net.stop().await;
    assert_eq!(r.acknowledged, 300, "{r:?}");
    assert_eq!(r.verdict, Verdict::Valid, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_from_a_bare_per_node_counter_collide_across_nodes() {
    if !have_python() {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let net = start("unique_ids_counter.py", 3, "ids-bad").await;
    let r = unique_ids::generate(&net, 50, T).await;
    net.stop().await;
    assert_eq!(r.verdict, Verdict::Invalid, "{r:?}");
    assert_eq!(r.duplicates.len(), 50, "{r:?}");
}
