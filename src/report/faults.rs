//! The faults of a run as windows of time: each `start-X` nemesis event paired with
//! the next `stop-X` (a fault never stopped lasts to the end of the history), plus
//! the other nemesis events (`final-reads`, notes) as instants. Every picture shades
//! these windows, and the plain-words verdict says which faults were active when
//! the first anomaly happened.

use checkers::History;

/// A nemesis fault window: from a `start-X` event to the next `stop-X` (or the end).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultWindow {
    /// The fault kind (`partition`, `kill`, `pause`, ...).
    pub kind: String,
    /// Start, ns since the test began.
    pub start: u64,
    /// End, ns.
    pub end: u64,
    /// The nodes it hit, when the event says (`value.nodes`).
    pub nodes: Vec<String>,
    /// A short description of the fault's shape (partition groups, packet rule).
    pub detail: String,
    /// Whether a `stop-X` event ended it (else the history ended first).
    pub stopped: bool,
}

impl FaultWindow {
    /// "a partition (n1 n2 | n3)", "a pause of n1", "a kill of n2 n3".
    pub fn describe(&self) -> String {
        let article = if self.kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        if !self.detail.is_empty() {
            format!("{article} {} ({})", self.kind, self.detail)
        } else if !self.nodes.is_empty() {
            format!("{article} {} of {}", self.kind, self.nodes.join(" "))
        } else {
            format!("{article} {}", self.kind)
        }
    }

    /// Whether the window covers instant `t` (ns).
    pub fn covers(&self, t: u64) -> bool {
        self.start <= t && t <= self.end
    }
}

/// A nemesis event that is not a fault's start or stop (e.g. `final-reads`).
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// When, ns.
    pub time: u64,
    /// The event's `f`.
    pub label: String,
}

/// The fault windows of a history, sorted by start.
pub fn windows(history: &History) -> Vec<FaultWindow> {
    let end = history.end_time();
    let mut open: Vec<FaultWindow> = Vec::new();
    let mut out = Vec::new();
    for e in &history.nemesis {
        let f = e.f.as_str();
        if let Some(kind) = f.strip_prefix("start-") {
            let v = e.value.to_json();
            open.push(FaultWindow {
                kind: kind.to_string(),
                start: e.time,
                end,
                nodes: strings(v.get("nodes")),
                detail: detail(kind, &v),
                stopped: false,
            });
        } else if let Some(kind) = f.strip_prefix("stop-") {
            if let Some(i) = open.iter().position(|w| w.kind == kind) {
                let mut w = open.remove(i);
                w.end = e.time.max(w.start);
                w.stopped = true;
                out.push(w);
            }
        }
    }
    out.extend(open);
    out.sort_by_key(|w| w.start);
    out
}

/// The nemesis events that are neither a start nor a stop.
pub fn markers(history: &History) -> Vec<Marker> {
    history
        .nemesis
        .iter()
        .filter(|e| {
            let f = e.f.as_str();
            !f.starts_with("start-") && !f.starts_with("stop-")
        })
        .map(|e| Marker {
            time: e.time,
            label: e.f.as_str().to_string(),
        })
        .collect()
}

/// "during a partition (n1 n2 | n3)", "during a pause of n1 and a kill of n2", or
/// "with no fault active" for instant `t`.
pub fn during(faults: &[FaultWindow], t: u64) -> String {
    let active: Vec<String> = faults
        .iter()
        .filter(|w| w.covers(t))
        .map(FaultWindow::describe)
        .collect();
    match active.len() {
        0 => "with no fault active".to_string(),
        1 => format!("during {}", active[0]),
        _ => {
            let (last, rest) = active.split_last().expect("two or more");
            format!("during {} and {last}", rest.join(", "))
        }
    }
}

fn strings(v: Option<&serde_json::Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().map(str::to_string).unwrap_or(x.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The partition's groups as "n1 n2 | n3"; a packet rule's settings; else empty.
fn detail(kind: &str, v: &serde_json::Value) -> String {
    if let Some(groups) = v.get("groups").and_then(|g| g.as_array()) {
        return groups
            .iter()
            .map(|g| strings(Some(g)).join(" "))
            .collect::<Vec<_>>()
            .join(" | ");
    }
    if kind == "packet" {
        if let Some(o) = v.as_object() {
            return o
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "nodes" | "mechanism"))
                .map(|(k, x)| format!("{k} {x}"))
                .collect::<Vec<_>>()
                .join(", ");
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(lines: &[&str]) -> History {
        let text = lines.join("\n");
        checkers::read::jsonl::read(std::io::Cursor::new(text), "test").expect("a history")
    }

    #[test]
    fn a_start_pairs_with_the_next_stop_of_the_same_kind() {
        let h = history(&[
            r#"{"index":0,"time":10,"process":"nemesis","type":"info","f":"start-partition","value":{"groups":[["n1","n2"],["n3"]],"nodes":["n1","n2","n3"]}}"#,
            r#"{"index":1,"time":20,"process":"nemesis","type":"info","f":"start-pause","value":{"nodes":["n1"]}}"#,
            r#"{"index":2,"time":30,"process":"nemesis","type":"info","f":"stop-partition","value":null}"#,
            r#"{"index":3,"time":50,"process":"nemesis","type":"info","f":"final-reads","value":null}"#,
        ]);
        let w = windows(&h);
        assert_eq!(w.len(), 2);
        assert_eq!(
            (w[0].kind.as_str(), w[0].start, w[0].end),
            ("partition", 10, 30)
        );
        assert!(w[0].stopped);
        assert_eq!(w[0].describe(), "a partition (n1 n2 | n3)");
        // The pause was never stopped: it lasts to the end of the history.
        assert_eq!((w[1].start, w[1].end, w[1].stopped), (20, 50, false));
        assert_eq!(
            during(&w, 25),
            "during a partition (n1 n2 | n3) and a pause of n1"
        );
        assert_eq!(during(&w, 5), "with no fault active");
        assert_eq!(markers(&h)[0].label, "final-reads");
    }
}
