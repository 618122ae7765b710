//! Every phase of `faultline run` is undone by a guard: an error or a Ctrl-C in any
//! phase — from the cluster's start to the check — still heals the faults, stops the
//! nodes, checks what was recorded and writes `results.json`, whose `interrupted` names
//! the phase; the exit code is 3. End to end, against the real `faultline` binary and
//! the real reference store `faultline-store`.
//!
//! Real causes where there is one: a node that dies at start (`faultline-store` with a
//! flag it does not know), a nemesis step that fails (a node program that is gone when
//! the nemesis restarts it after a kill), Ctrl-C in the main phase and in the quiesce.
//! Elsewhere the test hooks of docs/architecture.md: `FAULTLINE_TEST_FAIL_PHASE`
//! (the phase fails as it begins) and `FAULTLINE_TEST_HOLD_PHASE` (the phase waits for
//! the Ctrl-C as it begins, so the signal lands inside it).

mod run_common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use run_common::{assert_no_node_left, results, run_dir, scratch, text};

/// `faultline run` in `dir` with `args` and the environment `env`, short phases; the
/// state files go to `dir/state`.
fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_faultline"));
    c.args(["run", "--results"])
        .arg(dir.join("results"))
        .args(["--concurrency", "4"]);
    for (flag, short) in [("--time-limit", "2s"), ("--quiesce", "300ms")] {
        if !args.contains(&flag) {
            c.args([flag, short]);
        }
    }
    c.args(args)
        .env("FAULTLINE_STATE_DIR", dir.join("state"))
        .env_remove("FAULTLINE_TEST_FAIL_PHASE")
        .env_remove("FAULTLINE_TEST_HOLD_PHASE");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Runs `faultline run` to its end.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(dir, args, env).output().expect("faultline runs")
}

/// Runs `faultline run` and sends it SIGINT as soon as it says it entered `phase`.
fn run_interrupted_in(dir: &Path, phase: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut child = command(dir, args, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("faultline starts");
    let stderr = child.stderr.take().unwrap();
    let mut seen = String::new();
    let want = format!("faultline: {phase}");
    let mut sent = false;
    // Read to the end: a closed pipe would fail faultline's own messages.
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if !sent && line.trim_start_matches("\r\x1b[2K") == want {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGINT,
            )
            .unwrap();
            sent = true;
        }
        seen.push_str(&line);
        seen.push('\n');
    }
    let mut o = child.wait_with_output().unwrap();
    o.stderr = seen.into_bytes();
    o
}

/// The run stopped in `phase` (exit 3, `results.json` says so, with `reason` in its
/// reason); the history was checked unless the check itself failed; no node of the
/// run runs; no nemesis state file is left unhealed. The run directory.
fn assert_stopped_in(o: &Output, dir: &Path, phase: &str, reason: &str) -> PathBuf {
    assert_eq!(o.status.code(), Some(3), "{}", text(o));
    let run = run_dir(o);
    let r = results(&run);
    assert_eq!(r["interrupted"]["phase"], phase, "{r:#}\n{}", text(o));
    let said = r["interrupted"]["reason"].as_str().unwrap_or_default();
    assert!(said.contains(reason), "{said}\n{}", text(o));
    let checks = r["checkers"].as_array().map_or(0, Vec::len);
    if phase == "checking" && reason.contains("FAULTLINE_TEST_FAIL_PHASE") {
        assert_eq!(checks, 0, "{r:#}");
        assert_eq!(r["verdict"], "unknown", "{r:#}");
    } else {
        assert!(checks > 0, "the history was not checked: {r:#}");
    }
    assert!(run.join("history.jsonl").is_file());
    assert!(run.join("test.json").is_file());
    let latest = run.parent().unwrap().join("latest");
    assert_eq!(
        std::fs::canonicalize(&latest).ok(),
        std::fs::canonicalize(&run).ok(),
        "latest points to the run"
    );
    assert_no_node_left(&run);
    for e in std::fs::read_dir(dir.join("state"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let state = std::fs::read_to_string(e.path()).unwrap_or_default();
        assert!(
            !state.replace(' ', "").contains("\"healed\":false"),
            "{}: {state}",
            e.path().display()
        );
    }
    run
}

/// Where `faultline-store` is (beside the `faultline` binary).
fn store_program() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_faultline"))
        .parent()
        .unwrap()
        .join("faultline-store")
}

#[test]
fn a_node_that_dies_at_start_stops_the_others_and_the_empty_history_is_checked() {
    let dir = scratch("guards-dies-at-start");
    let file = dir.join("cluster.toml");
    std::fs::write(
        &file,
        "[cluster]\nnodes = 3\n\
         command = \"{exe_dir}/faultline-store --node {node} --listen 127.0.0.1:{port} --data-dir {data_dir} {peer_flags}\"\n\
         ready = \"http://127.0.0.1:{port}/health\"\n\
         [node.n3]\n\
         command = \"{exe_dir}/faultline-store --node {node} --listen 127.0.0.1:{port} --no-such-flag\"\n",
    )
    .unwrap();
    let o = run(&dir, &["--cluster", file.to_str().unwrap()], &[]);
    let run = assert_stopped_in(&o, &dir, "starting the cluster", "node n3 exited");
    // n1 and n2 had started: they were stopped.
    assert!(run_common::recorded_pids(&run).len() >= 2, "{}", text(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_nemesis_step_that_fails_heals_stops_the_nodes_and_checks_the_history() {
    let dir = scratch("guards-nemesis-fails");
    // A node program that removes itself as it starts: the nemesis cannot restart the
    // node it killed.
    let node = dir.join("node-once.sh");
    std::fs::write(
        &node,
        format!(
            "#!/bin/sh\nrm -f \"$0\"\nexec {} \"$@\"\n",
            store_program().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&node, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let file = dir.join("cluster.toml");
    std::fs::write(
        &file,
        format!(
            "[cluster]\nnodes = 1\n\
             command = \"{} --node {{node}} --listen 127.0.0.1:{{port}} --data-dir {{data_dir}} --n 1 --w 1 --r 1\"\n\
             ready = \"http://127.0.0.1:{{port}}/health\"\n",
            node.display()
        ),
    )
    .unwrap();
    let o = run(
        &dir,
        &[
            "--cluster",
            file.to_str().unwrap(),
            "--nemesis",
            "kill",
            "--nemesis-interval",
            "300ms",
        ],
        &[],
    );
    assert_stopped_in(&o, &dir, "main phase", "the nemesis failed");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_error_in_each_later_phase_still_stops_the_nodes_and_writes_checked_results() {
    for phase in [
        "healing faults",
        "final reads",
        "stopping the cluster",
        "checking",
    ] {
        let dir = scratch(&format!("guards-fail-{}", phase.replace(' ', "-")));
        let o = run(
            &dir,
            &["--nemesis", "pause", "--nemesis-interval", "300ms"],
            &[("FAULTLINE_TEST_FAIL_PHASE", phase)],
        );
        assert_stopped_in(&o, &dir, phase, "FAULTLINE_TEST_FAIL_PHASE");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn ctrl_c_in_each_phase_heals_stops_the_nodes_and_checks_what_was_recorded() {
    // (phase, whether it is held by the test hook until the signal)
    for (phase, held) in [
        ("starting the cluster", true),
        ("main phase", false),
        ("healing faults", true),
        ("quiescing", false),
        ("final reads", true),
        ("stopping the cluster", true),
        ("checking", true),
    ] {
        let dir = scratch(&format!("guards-int-{}", phase.replace(' ', "-")));
        let mut env = Vec::new();
        let mut args = vec!["--nemesis", "pause", "--nemesis-interval", "300ms"];
        if held {
            env.push(("FAULTLINE_TEST_HOLD_PHASE", phase));
        } else {
            // Long enough that the signal lands in the main phase or the quiesce.
            args.extend(["--time-limit", "20s", "--quiesce", "20s"]);
        }
        let o = run_interrupted_in(&dir, phase, &args, &env);
        assert_stopped_in(&o, &dir, phase, "interrupted");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
