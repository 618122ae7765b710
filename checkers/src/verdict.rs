//! Verdicts, check results and the [`Checker`] trait: the seam between a history and
//! the judgement the report and the exit code are made of.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::history::History;

/// What a checker concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The history satisfies the property.
    Valid,
    /// The history violates the property; the evidence proves it.
    Invalid,
    /// Not decided: the budget ran out, or the history does not allow a decision.
    Unknown,
}

impl Verdict {
    /// The worse of two verdicts: invalid, then unknown, then valid.
    pub fn worst(self, other: Verdict) -> Verdict {
        use Verdict::*;
        match (self, other) {
            (Invalid, _) | (_, Invalid) => Invalid,
            (Unknown, _) | (_, Unknown) => Unknown,
            _ => Valid,
        }
    }

    /// The process exit code of DESIGN.md: 0 valid, 1 invalid, 2 unknown.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Valid => 0,
            Verdict::Invalid => 1,
            Verdict::Unknown => 2,
        }
    }

    /// The verdict as written in results.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
            Verdict::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A checker's answer: the verdict, a plain-words summary, and structured evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Which checker, e.g. `linearizable`, `sequential`, `eventual`.
    pub checker: String,
    /// The model the history was judged against, e.g. `cas-register`.
    pub model: String,
    /// valid / invalid / unknown.
    pub verdict: Verdict,
    /// One or two sentences a newcomer understands, e.g.
    /// "not linearizable: 3 of 100 keys; ...".
    pub summary: String,
    /// Structured evidence (shape per checker, documented in its module).
    pub evidence: serde_json::Value,
}

/// Limits on a check. What is not decided within them is `unknown`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Budget {
    /// Stop searching at this instant.
    pub deadline: Option<Instant>,
    /// Stop a search whose memo tables grow past this many bytes (approximate).
    pub memory_bytes: Option<usize>,
}

impl Budget {
    /// A budget with neither deadline nor memory limit.
    pub fn unlimited() -> Budget {
        Budget::default()
    }

    /// Whether the deadline has passed.
    pub fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// Judges a history. Implementations are pure: same history, same answer (unless
/// the budget runs out).
pub trait Checker: Send + Sync {
    /// The checker's name as it appears in results (`linearizable`, ...).
    fn name(&self) -> &str;
    /// Judges `history` within `budget`.
    fn check(&self, history: &History, budget: &Budget) -> CheckResult;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_verdict_is_invalid_then_unknown() {
        use Verdict::*;
        assert_eq!(Valid.worst(Unknown), Unknown);
        assert_eq!(Unknown.worst(Invalid), Invalid);
        assert_eq!(Valid.worst(Valid), Valid);
        assert_eq!(Invalid.exit_code(), 1);
    }
}
