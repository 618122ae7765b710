//! A one-line status on stderr for long work (`faultline check`), shown only on a
//! terminal and never with `--quiet`, so CI logs stay clean.

use std::io::{IsTerminal, Write};

/// A status line that rewrites itself in place.
pub struct Status {
    on: bool,
}

impl Status {
    /// A status line; silent when `quiet` or when stderr is not a terminal.
    pub fn new(quiet: bool) -> Status {
        Status {
            on: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// Whether the line is shown at all.
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Replaces the line with `text`.
    pub fn say(&self, text: &str) {
        if self.on {
            let mut e = std::io::stderr();
            let _ = write!(e, "\r\x1b[2K{text}");
            let _ = e.flush();
        }
    }

    /// Erases the line.
    pub fn clear(&self) {
        self.say("");
    }
}
