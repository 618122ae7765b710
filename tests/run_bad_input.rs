//! `faultline run` with bad input: each is a clear error, exit code 3, and no node
//! process is left running.

mod run_common;

use std::net::TcpListener;

use run_common::{alive, faultline, recorded_pids};

fn scratch(name: &str) -> std::path::PathBuf {
    run_common::scratch(&format!("bad-{name}"))
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn a_malformed_cluster_file_is_an_error_naming_the_file_and_line() {
    let dir = scratch("malformed");
    let file = dir.join("cluster.toml");
    std::fs::write(
        &file,
        "[cluster]\nnodes = 3\ncommand = 5\nready = \"tcp://x\"\n",
    )
    .unwrap();
    let o = faultline(&[
        "run",
        "--cluster",
        file.to_str().unwrap(),
        "--results",
        dir.join("r").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("cluster.toml") && e.contains("line 3"), "{e}");
    assert!(e.contains("expected a string"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_node_that_never_becomes_ready_is_an_error_and_is_stopped() {
    let dir = scratch("never-ready");
    let file = dir.join("cluster.toml");
    // `sleep` never listens on its port, so the TCP ready check never succeeds.
    std::fs::write(
        &file,
        "[cluster]\nnodes = 2\ncommand = \"sleep 600\"\nready = \"tcp://127.0.0.1:{port}\"\nready_timeout = \"1500ms\"\n",
    )
    .unwrap();
    let results = dir.join("r");
    let o = faultline(&[
        "run",
        "--cluster",
        file.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("did not become ready"), "{e}");
    let pids = recorded_pids(&results);
    assert_eq!(pids.len(), 2, "both nodes were started: {pids:?}");
    for pid in pids {
        assert!(!alive(pid), "node process {pid} is still running");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_port_in_use_is_an_error_before_any_node_starts() {
    let dir = scratch("port");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let file = dir.join("cluster.toml");
    std::fs::write(
        &file,
        format!("[cluster]\nnodes = 2\ncommand = \"sleep 600\"\nready = \"tcp://127.0.0.1:{{port}}\"\n\n[node.n2]\nport = {port}\n"),
    )
    .unwrap();
    let results = dir.join("r");
    let o = faultline(&[
        "run",
        "--cluster",
        file.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("port {port} for node n2 is already in use")),
        "{}",
        stderr(&o)
    );
    assert!(recorded_pids(&results).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_node_that_exits_at_once_is_reported_with_its_stderr() {
    let dir = scratch("exits");
    let file = dir.join("cluster.toml");
    std::fs::write(
        &file,
        "[cluster]\nnodes = 1\ncommand = \"sh -c 'echo cannot bind >&2; exit 7'\"\nready = \"tcp://127.0.0.1:{port}\"\n",
    )
    .unwrap();
    let results = dir.join("r");
    let o = faultline(&[
        "run",
        "--cluster",
        file.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("exited (exited 7)") && e.contains("cannot bind"),
        "{e}"
    );
    let status = std::fs::read_dir(results.join("cluster-file-kv"))
        .unwrap()
        .flatten()
        .map(|d| d.path().join("nodes/n1/exit-status"))
        .find(|p| p.exists())
        .expect("an exit-status file");
    assert_eq!(std::fs::read_to_string(status).unwrap().trim(), "exited 7");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_stores_and_workloads_are_errors() {
    let dir = scratch("unknown");
    let r = dir.join("r");
    let o = faultline(&["run", "--store", "nosuch", "--results", r.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("unknown store \"nosuch\""),
        "{}",
        stderr(&o)
    );
    let o = faultline(&[
        "run",
        "--workload",
        "bank",
        "--results",
        r.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("unknown workload \"bank\""),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
