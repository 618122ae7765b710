//! Availability: the fraction of operations that succeeded (`ok`), over the whole
//! run and within each fault window (ops invoked while the fault was active), for
//! the JSON summary and the report.

use checkers::{History, Outcome};
use serde::Serialize;

use super::faults::FaultWindow;

/// How available the store was.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Availability {
    /// Client ops invoked.
    pub ops: u64,
    /// Of them, `ok`.
    pub ok: u64,
    /// `ok / ops` (`None` with no op).
    pub ok_fraction: Option<f64>,
    /// Per fault window, in time order.
    pub per_fault: Vec<FaultAvailability>,
}

/// Availability within one fault window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultAvailability {
    /// The fault in words ("a partition (n1 n2 | n3)").
    pub fault: String,
    /// When it began, s.
    pub from_s: f64,
    /// When it ended, s.
    pub to_s: f64,
    /// Client ops invoked while it was active.
    pub ops: u64,
    /// Of them, `ok`.
    pub ok: u64,
    /// `ok / ops` (`None` with no op).
    pub ok_fraction: Option<f64>,
}

fn fraction(ok: u64, ops: u64) -> Option<f64> {
    (ops > 0).then(|| ok as f64 / ops as f64)
}

/// The availability of `history` overall and in each of its own fault windows (the
/// nemesis events it records: [`super::faults::windows`]), as `faultline check --json`
/// gives it.
pub fn of_history(history: &History) -> Availability {
    of(history, &super::faults::windows(history))
}

/// The availability of `history` overall and in each of `faults`.
pub fn of(history: &History, faults: &[FaultWindow]) -> Availability {
    let count = |keep: &dyn Fn(u64) -> bool| {
        history
            .ops
            .iter()
            .filter(|o| keep(o.invoke_time))
            .fold((0u64, 0u64), |(n, ok), o| {
                (n + 1, ok + u64::from(o.outcome == Outcome::Ok))
            })
    };
    let (ops, ok) = count(&|_| true);
    let per_fault = faults
        .iter()
        .map(|f| {
            let (n, k) = count(&|t| t >= f.start && t < f.end);
            FaultAvailability {
                fault: f.describe(),
                from_s: f.start as f64 / 1e9,
                to_s: f.end as f64 / 1e9,
                ops: n,
                ok: k,
                ok_fraction: fraction(k, n),
            }
        })
        .collect();
    Availability {
        ops,
        ok,
        ok_fraction: fraction(ok, ops),
        per_fault,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkers::read::{read_path, Format};

    #[test]
    fn the_ok_fraction_is_counted_overall_and_within_a_fault() {
        let path = std::env::temp_dir().join(format!("availability-{}.jsonl", std::process::id()));
        std::fs::write(
            &path,
            r#"{"index":0,"time":0,"process":0,"type":"invoke","f":"write","value":1}
{"index":1,"time":1,"process":0,"type":"ok","f":"write","value":1}
{"index":2,"time":10,"process":0,"type":"invoke","f":"write","value":2}
{"index":3,"time":11,"process":0,"type":"fail","f":"write","value":2}
{"index":4,"time":12,"process":0,"type":"invoke","f":"read","value":null}
{"index":5,"time":13,"process":0,"type":"ok","f":"read","value":1}
"#,
        )
        .unwrap();
        let h = read_path(&path, Format::Jsonl).unwrap();
        let _ = std::fs::remove_file(&path);
        let fault = FaultWindow {
            kind: "partition".into(),
            start: 5,
            end: 12,
            nodes: vec![],
            detail: "n1 | n2".into(),
            stopped: true,
        };
        let a = of(&h, &[fault]);
        assert_eq!((a.ops, a.ok), (3, 2));
        assert_eq!(a.per_fault[0].ops, 1);
        assert_eq!(a.per_fault[0].ok_fraction, Some(0.0));
    }
}
