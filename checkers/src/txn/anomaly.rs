//! The anomalies the transactional checker knows, by name (Adya's and Elle's), and
//! what each means in one line.

use serde::Serialize;

/// One kind of anomaly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Anomaly {
    /// A cycle of write-write dependencies (dirty write).
    G0,
    /// G0 with process-order edges.
    G0Process,
    /// G0 with real-time edges.
    G0Realtime,
    /// A read of a write by a txn that failed (aborted read).
    G1a,
    /// A read of a value a txn later overwrote in the same txn (intermediate read).
    G1b,
    /// A cycle of write-write and write-read dependencies (circular information flow).
    G1c,
    /// G1c with process-order edges.
    G1cProcess,
    /// G1c with real-time edges.
    G1cRealtime,
    /// A cycle with exactly one read-write anti-dependency (read skew).
    GSingle,
    /// G-single with process-order edges.
    GSingleProcess,
    /// G-single with real-time edges.
    GSingleRealtime,
    /// A cycle with two or more anti-dependencies, none adjacent.
    GNonadjacent,
    /// G-nonadjacent with process-order edges.
    GNonadjacentProcess,
    /// G-nonadjacent with real-time edges.
    GNonadjacentRealtime,
    /// A cycle with anti-dependencies on items (write skew and beyond).
    G2Item,
    /// G2-item with process-order edges.
    G2ItemProcess,
    /// G2-item with real-time edges.
    G2ItemRealtime,
    /// A txn's read disagrees with its own earlier reads and writes.
    Internal,
    /// A read saw one appended element twice.
    DuplicateElements,
    /// Two reads of a key saw orders no single history of appends explains.
    IncompatibleOrder,
    /// A txn read its own write before it made it.
    FutureRead,
    /// A committed write was stacked on a failed txn's write.
    DirtyUpdate,
    /// Two committed txns read the same version of a key and both wrote it.
    LostUpdate,
    /// A read saw a value no txn ever wrote.
    UnwrittenRead,
}

use Anomaly::*;

impl Anomaly {
    /// Every anomaly, most severe first.
    pub const EVERY: [Anomaly; 24] = [
        UnwrittenRead,
        DuplicateElements,
        G0,
        G1a,
        G1b,
        IncompatibleOrder,
        DirtyUpdate,
        FutureRead,
        Internal,
        G1c,
        LostUpdate,
        GSingle,
        GNonadjacent,
        G2Item,
        G0Process,
        G1cProcess,
        GSingleProcess,
        GNonadjacentProcess,
        G2ItemProcess,
        G0Realtime,
        G1cRealtime,
        GSingleRealtime,
        GNonadjacentRealtime,
        G2ItemRealtime,
    ];

    /// The name as Elle writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            G0 => "G0",
            G0Process => "G0-process",
            G0Realtime => "G0-realtime",
            G1a => "G1a",
            G1b => "G1b",
            G1c => "G1c",
            G1cProcess => "G1c-process",
            G1cRealtime => "G1c-realtime",
            GSingle => "G-single",
            GSingleProcess => "G-single-process",
            GSingleRealtime => "G-single-realtime",
            GNonadjacent => "G-nonadjacent",
            GNonadjacentProcess => "G-nonadjacent-process",
            GNonadjacentRealtime => "G-nonadjacent-realtime",
            G2Item => "G2-item",
            G2ItemProcess => "G2-item-process",
            G2ItemRealtime => "G2-item-realtime",
            Internal => "internal",
            DuplicateElements => "duplicate-elements",
            IncompatibleOrder => "incompatible-order",
            FutureRead => "future-read",
            DirtyUpdate => "dirty-update",
            LostUpdate => "lost-update",
            UnwrittenRead => "unwritten-read",
        }
    }

    /// One line a newcomer understands.
    pub fn meaning(self) -> &'static str {
        match self {
            G0 | G0Process | G0Realtime => "a cycle of write-write dependencies (dirty write)",
            G1a => "a txn read a write of a txn that failed (aborted read)",
            G1b => "a txn read a value that its writer later overwrote in the same txn (intermediate read)",
            G1c | G1cProcess | G1cRealtime => {
                "a cycle of write-write and write-read dependencies (circular information flow)"
            }
            GSingle | GSingleProcess | GSingleRealtime => {
                "a cycle with exactly one anti-dependency: a txn missed a write that the rest of the cycle saw (read skew)"
            }
            GNonadjacent | GNonadjacentProcess | GNonadjacentRealtime => {
                "a cycle with several anti-dependencies, no two adjacent (it may pass a txn twice)"
            }
            G2Item | G2ItemProcess | G2ItemRealtime => {
                "a cycle of dependencies with adjacent anti-dependencies (write skew)"
            }
            Internal => "a txn's read disagrees with its own earlier reads and writes",
            DuplicateElements => "a read saw one appended element more than once",
            IncompatibleOrder => "two reads of one key saw orders that no single sequence of appends explains",
            FutureRead => "a txn read its own write before it made it",
            DirtyUpdate => "a committed append was stacked on the append of a txn that failed",
            LostUpdate => "two committed txns read the same version of a key and both wrote it",
            UnwrittenRead => "a read saw a value that no txn wrote",
        }
    }

    /// Which edges the cycle may use besides data dependencies: `None` for
    /// non-cycle anomalies.
    pub fn is_cycle(self) -> bool {
        matches!(
            self,
            G0 | G0Process
                | G0Realtime
                | G1c
                | G1cProcess
                | G1cRealtime
                | GSingle
                | GSingleProcess
                | GSingleRealtime
                | GNonadjacent
                | GNonadjacentProcess
                | GNonadjacentRealtime
                | G2Item
                | G2ItemProcess
                | G2ItemRealtime
        )
    }
}

impl std::fmt::Display for Anomaly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
