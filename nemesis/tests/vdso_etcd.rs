//! etcd (Debian's `/usr/bin/etcd`, a Go program that libfaketime cannot reach) under
//! the vDSO mechanism: its own log timestamps move by the bump and come back on reset,
//! and it keeps serving throughout. A log line is provoked on demand by asking for a
//! defragmentation (`POST /v3/maintenance/defragment`), which etcd logs with its clock.

#[path = "probes/mod.rs"]
mod probes;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nemesis::clock::vdso;
use nemesis::clock::ClockControl;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn defragment(port: u16) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let body = "{}";
    write!(
        s,
        "POST /v3/maintenance/defragment HTTP/1.0\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    Ok(answer)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The time of a capnslog line (`2026-12-01 20:56:44.246128 N | …`, UTC), in ms.
fn line_time_ms(line: &str) -> Option<i64> {
    let (date, rest) = line.split_once(' ')?;
    let time = rest.split(' ').next()?;
    let d: Vec<i64> = date
        .split('-')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let (hms, frac) = time.split_once('.')?;
    let t: Vec<i64> = hms
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    if d.len() != 3 || t.len() != 3 {
        return None;
    }
    let micros: i64 = frac.get(..6)?.parse().ok()?;
    let secs = days_from_civil(d[0], d[1], d[2]) * 86_400 + t[0] * 3600 + t[1] * 60 + t[2];
    Some(secs * 1000 + micros / 1000)
}

/// Provokes a defragmentation and returns how far etcd's log timestamp of it is from
/// our clock at that moment, in ms.
fn logged_skew_ms(port: u16, log: &Path) -> i64 {
    let before = std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .count();
    let ours = probes::now_ns() / 1_000_000;
    let answer = defragment(port).expect("etcd answers");
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(t) = text
            .lines()
            .skip(before)
            .find(|l| l.contains("starting to defragment"))
            .and_then(line_time_ms)
        {
            return t - ours;
        }
        assert!(Instant::now() < deadline, "etcd logged no defragmentation");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn etcds_log_timestamps_move_by_the_bump_and_come_back_on_reset() {
    let etcd = Path::new("/usr/bin/etcd");
    assert!(
        etcd.exists(),
        "etcd is not installed (scripts/setup.sh installs etcd-server)"
    );
    let dir = probes::temp_dir("etcd");
    let (client, peer) = (free_port(), free_port());
    let log = dir.join("etcd.log");
    let c = format!("http://127.0.0.1:{client}");
    let p = format!("http://127.0.0.1:{peer}");
    let mut child = Command::new(etcd)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args([
            "--name",
            "n1",
            "--listen-client-urls",
            &c,
            "--advertise-client-urls",
            &c,
        ])
        .args([
            "--listen-peer-urls",
            &p,
            "--initial-advertise-peer-urls",
            &p,
        ])
        .args(["--initial-cluster", &format!("n1={p}")])
        .env("TZ", "UTC")
        .env("ETCD_UNSUPPORTED_ARCH", std::env::consts::ARCH)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while defragment(client).is_err() {
        assert!(Instant::now() < deadline, "etcd never answered");
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = child.id() as i32;
    let original = vdso::vdso_bytes(std::process::id() as i32).unwrap();
    let tolerance = 1_000;

    let s = logged_skew_ms(client, &log);
    assert!(s.abs() <= tolerance, "before: etcd's log is {s} ms off");

    let clock = ClockControl::vdso("n1");
    clock.set_offset_ms(pid, 30_000).unwrap();
    let s = logged_skew_ms(client, &log);
    assert!(
        (s - 30_000).abs() <= tolerance,
        "after bump +30s: etcd's log is {s} ms off"
    );

    clock.set_offset_ms(pid, -15_000).unwrap();
    let s = logged_skew_ms(client, &log);
    assert!(
        (s + 15_000).abs() <= tolerance,
        "after bump -15s: etcd's log is {s} ms off"
    );

    clock.reset().unwrap();
    let s = logged_skew_ms(client, &log);
    assert!(
        s.abs() <= tolerance,
        "after reset: etcd's log is {s} ms off"
    );
    assert_eq!(vdso::vdso_bytes(pid).unwrap(), original);
    assert!(child.try_wait().unwrap().is_none(), "etcd died");

    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn capnslog_timestamps_are_read_as_utc_milliseconds() {
    assert_eq!(line_time_ms("1970-01-01 00:00:01.500000 N | x"), Some(1500));
    assert_eq!(
        line_time_ms("2026-12-01 20:56:44.246128 N | etcdserver"),
        Some(1_796_158_604_246)
    );
    assert_eq!(line_time_ms("not a log line"), None);
}
