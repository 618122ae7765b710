//! The vDSO clock mechanism on real processes a libfaketime preload cannot reach: a Go
//! program and a statically linked C program. After a bump their printed wall clock
//! moves by the bump, a strobe flips it, a reset brings it back with the original vDSO
//! bytes; the probes never crash and their monotonic clocks never go backwards.

#[path = "probes/mod.rs"]
mod probes;

use nemesis::clock::vdso;
use nemesis::clock::ClockControl;
use probes::Probe;

/// Tolerance of a skew reading: a line's travel through the pipe and scheduling on a
/// busy 2-core machine.
const TOLERANCE_MS: i64 = 1_000;

fn bump_strobe_and_reset(probe: &mut Probe) {
    let own = vdso::vdso_bytes(std::process::id() as i32).unwrap();
    assert_eq!(vdso::vdso_bytes(probe.pid()).unwrap(), own);
    probe.assert_skew(0, TOLERANCE_MS, "before any fault");

    let clock = ClockControl::vdso("n1");
    let pid = probe.pid();
    clock.set_offset_ms(pid, 30_000).unwrap();
    let patched = clock.patched().unwrap();
    assert!(patched.is_patched().unwrap());
    // This kernel's clock_gettime prologue moves into a stub: reads keep the fast path.
    let cg = patched
        .entries
        .iter()
        .find(|e| e.function == vdso::trampoline::Replaced::ClockGettime)
        .unwrap();
    assert!(
        cg.through_original,
        "clock_gettime fell back to the system call"
    );
    assert_ne!(vdso::vdso_bytes(probe.pid()).unwrap(), own);
    probe.assert_skew(30_000, TOLERANCE_MS, "after bump +30s");

    clock.set_offset_ms(pid, -20_000).unwrap();
    probe.assert_skew(-20_000, TOLERANCE_MS, "after bump -20s");

    // A strobe: flip between +30 s and 0 a few times.
    for _ in 0..3 {
        clock.set_offset_ms(pid, 30_000).unwrap();
        probe.assert_skew(30_000, TOLERANCE_MS, "strobe, up");
        clock.set_offset_ms(pid, 0).unwrap();
        probe.assert_skew(0, TOLERANCE_MS, "strobe, down");
    }

    clock.set_offset_ms(pid, 45_000).unwrap();
    probe.assert_skew(45_000, TOLERANCE_MS, "before the reset");
    clock.reset().unwrap();
    assert!(clock.patched().is_none());
    probe.assert_skew(0, TOLERANCE_MS, "after the reset");
    assert_eq!(
        vdso::vdso_bytes(probe.pid()).unwrap(),
        own,
        "the reset left vDSO bytes changed"
    );

    // Patching again after a reset works (a later fault on the same node).
    clock.set_offset_ms(pid, 10_000).unwrap();
    probe.assert_skew(10_000, TOLERANCE_MS, "second patch");
    drop(clock); // restores
    probe.assert_skew(0, TOLERANCE_MS, "after drop");
    assert_eq!(vdso::vdso_bytes(probe.pid()).unwrap(), own);
    probe.assert_monotonic_and_alive();
}

#[test]
fn a_go_programs_wall_clock_follows_bumps_and_strobes_and_comes_back_on_reset() {
    let dir = probes::temp_dir("go");
    let mut probe = Probe::start(&probes::build_go(&dir), &[]);
    bump_strobe_and_reset(&mut probe);
    drop(probe);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_static_c_programs_wall_clock_follows_bumps_and_strobes_and_comes_back_on_reset() {
    let dir = probes::temp_dir("c");
    let mut probe = Probe::start(&probes::build_static_c(&dir), &[]);
    bump_strobe_and_reset(&mut probe);
    drop(probe);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_system_call_replacements_skew_every_clock_function_of_a_static_c_program() {
    let dir = probes::temp_dir("syscall");
    let probe = Probe::start(&probes::build_static_c(&dir), &[]);
    let own = vdso::vdso_bytes(std::process::id() as i32).unwrap();
    let p = vdso::patch_with(probe.pid(), None, vdso::Replacement::ThroughSyscall).unwrap();
    assert!(p.entries.iter().all(|e| !e.through_original));
    for ms in [30_000, -30_000, 0, 90_000] {
        p.set_offset_ns(ms * 1_000_000).unwrap();
        probe.assert_skew(ms, TOLERANCE_MS, "through the system call");
    }
    p.restore().unwrap();
    probe.assert_skew(0, TOLERANCE_MS, "restored");
    assert_eq!(vdso::vdso_bytes(probe.pid()).unwrap(), own);
    drop(probe);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_process_already_patched_is_refused_and_so_is_this_process() {
    let dir = probes::temp_dir("refuse");
    let probe = Probe::start(&probes::build_static_c(&dir), &[]);
    let first = vdso::patch(probe.pid(), None).unwrap();
    let again = vdso::patch(probe.pid(), None).unwrap_err();
    assert!(
        matches!(again, vdso::VdsoError::AlreadyPatched(_)),
        "{again}"
    );
    first.restore().unwrap();
    // Restoring twice is harmless.
    first.restore().unwrap();
    let me = vdso::patch(std::process::id() as i32, None).unwrap_err();
    assert!(matches!(me, vdso::VdsoError::Refused(_)), "{me}");
    assert!(matches!(
        vdso::patch(1, None).unwrap_err(),
        vdso::VdsoError::Refused(_)
    ));
    drop(probe);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_program_in_its_own_network_namespace_is_patched_from_the_host() {
    let dir = probes::temp_dir("netns");
    let program = probes::build_static_c(&dir);
    // `unshare --net` execs the probe in a new network namespace: same PID.
    let mut probe = Probe::start(
        std::path::Path::new("/usr/bin/unshare"),
        &["--net", program.to_str().unwrap()],
    );
    let ns = |pid: i32| std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    assert_ne!(ns(probe.pid()), ns(std::process::id() as i32));
    let clock = ClockControl::vdso("n1");
    let pid = probe.pid();
    clock.set_offset_ms(pid, -30_000).unwrap();
    probe.assert_skew(-30_000, TOLERANCE_MS, "patched across namespaces");
    clock.reset().unwrap();
    probe.assert_skew(0, TOLERANCE_MS, "reset across namespaces");
    probe.assert_monotonic_and_alive();
    drop(probe);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn programs_reading_the_clock_in_a_tight_loop_survive_repeated_patching() {
    let dir = probes::temp_dir("stress");
    for program in [probes::build_static_c(&dir), probes::build_go(&dir)] {
        let mut child = std::process::Command::new(&program)
            .arg("bench")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let pid = child.id() as i32;
        for i in 0..25 {
            let p = vdso::patch(pid, None).unwrap();
            p.set_offset_ns(i * 1_000_000_000).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(5));
            p.restore().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(
            child.try_wait().unwrap().is_none(),
            "{} died under repeated patching: {:?}",
            program.display(),
            child.try_wait()
        );
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_vdso_clock_control_follows_its_node_to_a_new_process_and_resets_on_drop() {
    use nemesis::clock::{ClockControl, ClockMechanism};
    let dir = probes::temp_dir("control");
    let program = probes::build_static_c(&dir);
    let own = vdso::vdso_bytes(std::process::id() as i32).unwrap();
    let clock = ClockControl::vdso("n2");
    assert_eq!(clock.mechanism(), ClockMechanism::Vdso);
    let first = Probe::start(&program, &[]);
    clock.set_offset_ms(first.pid(), 0).unwrap();
    assert!(clock.patched().is_none(), "an offset of 0 patches nothing");
    clock.set_offset_ms(first.pid(), 20_000).unwrap();
    first.assert_skew(20_000, TOLERANCE_MS, "first process");
    assert_eq!(clock.patched().unwrap().pid, first.pid());
    // The node restarts: a new process, unpatched, which the next change patches.
    drop(first);
    let second = Probe::start(&program, &[]);
    second.assert_skew(0, TOLERANCE_MS, "new process before a change");
    clock.set_offset_ms(second.pid(), -20_000).unwrap();
    second.assert_skew(-20_000, TOLERANCE_MS, "new process");
    assert_eq!(clock.patched().unwrap().pid, second.pid());
    drop(clock);
    second.assert_skew(0, TOLERANCE_MS, "after drop");
    assert_eq!(vdso::vdso_bytes(second.pid()).unwrap(), own);
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_thread_blocked_in_a_system_call_resumes_it_untouched_after_patch_and_restore() {
    use std::io::{BufRead, BufReader, Write};
    // cat blocks in read(2) on its stdin; sleep blocks in clock_nanosleep(2).
    let mut cat = std::process::Command::new("cat")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let mut sleep = std::process::Command::new("sleep")
        .arg("1")
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    for pid in [cat.id() as i32, sleep.id() as i32] {
        let p = vdso::patch(pid, None).unwrap();
        p.set_offset_ns(3_600_000_000_000).unwrap();
        p.restore().unwrap();
    }
    let mut stdin = cat.stdin.take().unwrap();
    writeln!(stdin, "still reading").unwrap();
    let mut line = String::new();
    BufReader::new(cat.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "still reading\n", "the interrupted read lost its way");
    drop(stdin);
    assert!(cat.wait().unwrap().success());
    // The interrupted sleep restarts for what was left of its second, no more, no less.
    assert!(sleep.wait().unwrap().success());
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(950) && took < std::time::Duration::from_secs(3),
        "sleep 1 took {took:?}"
    );
}

#[test]
fn a_paused_process_is_patched_and_stays_paused_until_resumed() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let dir = probes::temp_dir("paused");
    let mut probe = Probe::start(&probes::build_static_c(&dir), &[]);
    let pid = Pid::from_raw(probe.pid());
    kill(pid, Signal::SIGSTOP).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let p = vdso::patch(probe.pid(), None).unwrap();
    p.set_offset_ns(30_000_000_000).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(
        nemesis::process::proc_state(probe.pid()),
        Some('T'),
        "the patch resumed a paused process"
    );
    kill(pid, Signal::SIGCONT).unwrap();
    probe.assert_skew(30_000, TOLERANCE_MS, "resumed after the patch");
    p.restore().unwrap();
    probe.assert_skew(0, TOLERANCE_MS, "restored");
    probe.assert_monotonic_and_alive();
    drop(probe);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn patching_a_child_while_another_thread_polls_its_status_neither_hangs_nor_reports_an_exit() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let dir = probes::temp_dir("poll");
    let child = std::process::Command::new(probes::build_static_c(&dir))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    assert!(vdso::forked::is_our_child(pid));
    let child = Arc::new(Mutex::new(child));
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (child, done) = (child.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some(status) = child.lock().unwrap().try_wait().unwrap() {
                    return Some(status);
                }
            }
            None
        })
    };
    for i in 0..20 {
        let p = vdso::patch(pid, None).unwrap();
        p.set_offset_ns(i * 1_000_000).unwrap();
        p.restore().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let seen = watcher.join().unwrap();
    assert!(seen.is_none(), "the watcher saw the node 'exit': {seen:?}");
    let mut child = child.lock().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
