//! A network the subject routes itself. Some subjects carry every message between
//! their nodes through faultline (Maelstrom nodes talk over stdin/stdout, and
//! faultline's router delivers each message), so a partition is a routing decision,
//! not a kernel rule or a proxy: the nemesis hands the partition to the [`Router`].

use crate::partition::Partition;

/// Partitions applied by the subject's own message router.
pub trait Router: Send + Sync {
    /// Cuts every link the partition's grudge names, in both directions (replacing any
    /// earlier cut).
    fn partition(&self, partition: &Partition) -> Result<(), String>;
    /// Removes every cut.
    fn heal(&self) -> Result<(), String>;
}
