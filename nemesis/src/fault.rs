//! The kinds of fault.

use std::fmt;

/// A fault the nemesis can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fault {
    /// `kill -9` the node's process group; heal: restart it on the same data dir.
    Kill,
    /// `SIGSTOP` the node's process group; heal: `SIGCONT`.
    Pause,
}

impl Fault {
    /// Every fault this build can inject.
    pub const ALL: &'static [Fault] = &[Fault::Kill, Fault::Pause];

    /// The name used on the command line and in history events.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Kill => "kill",
            Fault::Pause => "pause",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Fault, String> {
        match s {
            "kill" => Ok(Fault::Kill),
            "pause" => Ok(Fault::Pause),
            "partition" | "clock" | "packet" => Err(format!(
                "the {s} fault is not available in this build yet; available: kill, pause"
            )),
            other => Err(format!(
                "unknown fault \"{other}\"; expected kill or pause (partition, clock and packet are planned)"
            )),
        }
    }
}
