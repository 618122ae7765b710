//! The patching process dies with SIGKILL while a probe is patched (the driver's death,
//! simulated by the `faultline-vdso` helper): the probe keeps the skewed clock, the
//! state file records the patch, and healing that state file — what `faultline cleanup`
//! does for every state file of a dead owner — puts the original vDSO bytes back: they
//! equal a fresh process's, and the probe's clock reads true time again.

#[path = "probes/mod.rs"]
mod probes;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use nemesis::clock::vdso;
use probes::Probe;

#[test]
fn a_patch_left_by_a_killed_helper_is_restored_from_its_state_file() {
    let dir = probes::temp_dir("cleanup");
    let state_dir = dir.join("state");
    let program = probes::build_static_c(&dir);
    let probe = Probe::start(&program, &[]);
    let fresh = Probe::start(&program, &[]);
    let original = vdso::vdso_bytes(fresh.pid()).unwrap();

    let mut helper = Command::new(env!("CARGO_BIN_EXE_faultline-vdso"))
        .args([
            "patch",
            &probe.pid().to_string(),
            "--offset-ms",
            "30000",
            "--node",
            "n9",
        ])
        .env("FAULTLINE_STATE_DIR", &state_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(helper.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), format!("patched {}", probe.pid()));
    probe.assert_skew(30_000, 1_000, "patched by the helper");

    // The driver dies: no chance to restore anything.
    helper.kill().unwrap();
    helper.wait().unwrap();
    probe.assert_skew(30_000, 1_000, "after the helper's death");
    assert_ne!(vdso::vdso_bytes(probe.pid()).unwrap(), original);

    let files: Vec<_> = std::fs::read_dir(&state_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let state = nemesis::state::read(&files[0]).unwrap();
    assert!(!state.owner.unwrap().is_alive(), "the owner should be dead");
    assert_eq!(state.vdso_patches.len(), 1);
    assert_eq!(state.vdso_patches[0].pid, probe.pid());
    assert_eq!(state.vdso_patches[0].node.as_deref(), Some("n9"));

    let report = nemesis::cleanup::heal_recorded(&state);
    assert!(report.errors.is_empty(), "{report:?}");
    assert!(
        report.healed.iter().any(|h| h.contains("vDSO restored")),
        "{report:?}"
    );
    assert_eq!(vdso::vdso_bytes(probe.pid()).unwrap(), original);
    probe.assert_skew(0, 1_000, "after cleanup");
    // A second heal finds the process original and does nothing wrong.
    assert!(nemesis::cleanup::heal_recorded(&state).errors.is_empty());
    assert_eq!(vdso::vdso_bytes(probe.pid()).unwrap(), original);

    drop(probe);
    drop(fresh);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_helper_that_ends_normally_restores_the_process_and_finishes_its_state_file() {
    let dir = probes::temp_dir("helper-ok");
    let state_dir = dir.join("state");
    let program = probes::build_static_c(&dir);
    let probe = Probe::start(&program, &[]);
    let original = vdso::vdso_bytes(std::process::id() as i32).unwrap();
    let mut helper = Command::new(env!("CARGO_BIN_EXE_faultline-vdso"))
        .args(["patch", &probe.pid().to_string()])
        .env("FAULTLINE_STATE_DIR", &state_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = helper.stdin.take().unwrap();
    let mut out = BufReader::new(helper.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("patched"), "{line}");
    probe.assert_skew(0, 1_000, "patched at offset 0");
    use std::io::Write;
    writeln!(stdin, "offset -7000").unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ok");
    probe.assert_skew(-7_000, 1_000, "offset -7s");
    writeln!(stdin, "offset seven").unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("error"), "{line}");
    drop(stdin); // end of input: restore and exit
    assert!(helper.wait().unwrap().success());
    probe.assert_skew(0, 1_000, "after the helper ended");
    assert_eq!(vdso::vdso_bytes(probe.pid()).unwrap(), original);
    let left = std::fs::read_dir(&state_dir).unwrap().flatten().count();
    assert_eq!(left, 0, "the helper left its state file");
    drop(probe);
    let _ = std::fs::remove_dir_all(&dir);
}
