//! Who owns a fault or a node: the faultline process that started it, named by its PID
//! and its start time (so a reused PID is not mistaken for the owner).
//!
//! Every node faultline spawns carries [`ENV_OWNER`] and [`ENV_NODE`] in its
//! environment, and every state file names its owner: `faultline cleanup` heals only
//! what belongs to an owner that is gone, never what a live run is using.

use std::fmt;

/// The environment variable naming a node's owner (`<pid>:<start>`).
pub const ENV_OWNER: &str = "FAULTLINE_OWNER";
/// The environment variable naming the node (`n1`).
pub const ENV_NODE: &str = "FAULTLINE_NODE";

/// A process, identified across PID reuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Owner {
    /// Its PID.
    pub pid: i32,
    /// Its start time in clock ticks since boot (`/proc/<pid>/stat`, field 22).
    pub start: u64,
}

impl Owner {
    /// This process.
    pub fn current() -> Owner {
        let pid = std::process::id() as i32;
        Owner {
            pid,
            start: start_time(pid).unwrap_or(0),
        }
    }

    /// Whether this process still runs (same PID, same start time).
    pub fn is_alive(&self) -> bool {
        match start_time(self.pid) {
            Some(s) => s == self.start || self.start == 0,
            None => false,
        }
    }

    /// Parses `<pid>:<start>`.
    pub fn parse(s: &str) -> Option<Owner> {
        let (pid, start) = s.trim().split_once(':')?;
        Some(Owner {
            pid: pid.parse().ok()?,
            start: start.parse().ok()?,
        })
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.pid, self.start)
    }
}

/// The start time of `pid` in clock ticks since boot, if it exists (and is no zombie).
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); field 22 is index 19.
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// The `(owner, node)` tags of a running process, read from its environment.
pub fn tags_of(pid: i32) -> Option<(Owner, String)> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let mut owner = None;
    let mut node = None;
    for var in env.split(|b| *b == 0) {
        let var = String::from_utf8_lossy(var);
        if let Some(v) = var
            .strip_prefix(ENV_OWNER)
            .and_then(|v| v.strip_prefix('='))
        {
            owner = Owner::parse(v);
        } else if let Some(v) = var.strip_prefix(ENV_NODE).and_then(|v| v.strip_prefix('=')) {
            node = Some(v.to_string());
        }
    }
    Some((owner?, node?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_made_up_one_is_not() {
        let me = Owner::current();
        assert!(me.start > 0);
        assert!(me.is_alive());
        assert_eq!(Owner::parse(&me.to_string()), Some(me));
        let other = Owner {
            pid: me.pid,
            start: me.start + 1,
        };
        assert!(!other.is_alive());
    }
}
