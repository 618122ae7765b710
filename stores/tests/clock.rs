//! LWW under clock skew: a node whose wall clock (skewed by libfaketime) runs behind has
//! its writes ignored, even causally later ones. Skips if libfaketime is not installed.

mod common;

use common::Cluster;
use serde_json::json;

const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

#[tokio::test]
async fn under_lww_a_node_with_a_slow_clock_loses_even_a_causally_later_write() {
    if !std::path::Path::new(LIBFAKETIME).exists() {
        println!("skipping: {LIBFAKETIME} not installed (Debian package libfaketime)");
        return;
    }
    let skewed = vec![
        ("LD_PRELOAD".to_string(), LIBFAKETIME.to_string()),
        ("FAKETIME".to_string(), "-5s".to_string()),
        ("FAKETIME_DONT_FAKE_MONOTONIC".to_string(), "1".to_string()),
    ];
    let c = Cluster::start_with_env(
        3,
        &["--conflict", "lww"],
        vec![skewed, Vec::new(), Vec::new()],
    )
    .await;
    let behind = c.health(1).await["wall_clock_ms"].as_i64().unwrap()
        - c.health(0).await["wall_clock_ms"].as_i64().unwrap();
    assert!(
        (4_000..6_000).contains(&behind),
        "n1 should be ~5 s behind n2, is {behind} ms"
    );

    assert_eq!(
        c.post(1, "/kv/write", json!({"key": "k", "value": "first"}))
            .await
            .0,
        200
    );
    let (_, read) = c.post(0, "/kv/read", json!({"key": "k"})).await;
    assert_eq!(read["value"], "first");
    // n1 writes with the context it read: causally after "first", yet 5 s older by its clock.
    let body = json!({"key": "k", "value": "second", "context": read["context"]});
    assert_eq!(c.post(0, "/kv/write", body).await.0, 200);
    assert_eq!(
        c.post(2, "/kv/read", json!({"key": "k"})).await.1["value"],
        "first"
    );

    // The same sequence in siblings mode keeps the causally later write.
    let c = Cluster::start(3, &["--conflict", "siblings"]).await;
    c.post(1, "/kv/write", json!({"key": "k", "value": "first"}))
        .await;
    let (_, read) = c.post(0, "/kv/read", json!({"key": "k"})).await;
    let body = json!({"key": "k", "value": "second", "context": read["context"]});
    c.post(0, "/kv/write", body).await;
    assert_eq!(
        c.post(2, "/kv/read", json!({"key": "k"})).await.1["value"],
        "second"
    );
}
