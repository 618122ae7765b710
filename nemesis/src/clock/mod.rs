//! Clock faults: a per-node wall-clock offset that changes while the node runs, without
//! touching the machine's clock. Two mechanisms carry the offset into a node:
//!
//! - [`faketime`]: libfaketime preloaded when the node starts (any dynamically linked
//!   program that reads the clock through libc);
//! - [`vdso`]: a running process's vDSO patched through ptrace (every program, Go and
//!   static binaries included, started by faultline or not).
//!
//! [`ClockMechanism`] names them and picks one per process ([`ClockMechanism::resolve`]);
//! [`ClockControl`] is a node's clock under the one chosen, [`NodeClocks`] all of a
//! run's.

pub mod control;
pub mod faketime;
pub mod mechanism;
pub mod nodes;
pub mod vdso;

use std::time::Duration;

use rand::Rng;

pub use control::{ClockControl, ClockError};
pub use faketime::{ignores_libfaketime, libfaketime, write_offset, NodeClock, LIBFAKETIME};
pub use mechanism::ClockMechanism;
pub use nodes::NodeClocks;

/// A clock change, as a schedule draws it.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum ClockChange {
    /// Jump by this many milliseconds (positive: ahead).
    Bump {
        /// The offset.
        ms: i64,
    },
    /// Flip between +`ms` and 0 every `period_ms`, for as long as the fault lasts.
    Strobe {
        /// The offset.
        ms: i64,
        /// The period.
        period_ms: u64,
    },
    /// Back to the true time.
    Reset,
}

impl ClockChange {
    /// A bump of up to ±`max` or a strobe, drawn from the seed.
    pub fn draw(rng: &mut impl Rng, max: Duration) -> ClockChange {
        let max = max.as_millis().max(2) as i64;
        let ms = rng.gen_range(max / 2..=max) * if rng.gen_bool(0.5) { 1 } else { -1 };
        if rng.gen_bool(0.3) {
            ClockChange::Strobe {
                ms,
                period_ms: rng.gen_range(50..=500),
            }
        } else {
            ClockChange::Bump { ms }
        }
    }
}

/// The wall-clock offset a node reports, in milliseconds (its clock minus ours): an
/// HTTP `GET /health` whose JSON answer has `wall_clock_ms` (the reference store's),
/// corrected by half the round trip. `None` if the node does not answer so.
pub fn observe_offset_ms(addr: std::net::SocketAddr) -> Option<i64> {
    use std::io::{Read, Write};
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    };
    let timeout = Duration::from_millis(500);
    let before = now_ms();
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    s.write_all(format!("GET /health HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .ok()?;
    let mut answer = String::new();
    s.take(64 * 1024).read_to_string(&mut answer).ok()?;
    let after = now_ms();
    let at = answer.find("\"wall_clock_ms\"")?;
    let digits: String = answer[at + "\"wall_clock_ms\"".len()..]
        .trim_start_matches([':', ' '])
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    let theirs: i64 = digits.parse().ok()?;
    Some(theirs - (before + after) / 2)
}
