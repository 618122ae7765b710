//! A failover as a store carries it out: the seam by which a store with a primary
//! (Redis) offers [`crate::Fault::Failover`] to the nemesis. The nemesis decides when
//! (the schedule), records the start and the stop as history events, and heals it
//! like every other fault (after its hold, at the end of the main phase, on error,
//! on Ctrl-C, on drop); the store knows how to take its primary down, promote a
//! replica and bring the old primary back.

/// What one failover did: written into the history's `start-failover` /
/// `stop-failover` events.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Promotion {
    /// The node that was primary and was taken down.
    pub old: String,
    /// The node promoted in its place.
    pub new: String,
    /// What happened, in words ("n2 promoted; n1 killed after 500ms").
    pub said: String,
}

/// A store's own failover, offered to the nemesis.
///
/// Both calls block until done (they may take seconds: a detection delay, a
/// sentinels' election); the nemesis calls them off the async executor's threads.
pub trait Failover: Send + Sync {
    /// The node that is primary now: the one a failover takes down.
    fn primary(&self) -> String;
    /// How the store fails over (`manual`, `sentinel`), for the history.
    fn how(&self) -> &'static str;
    /// Takes the primary down and has a replica promoted in its place (the other
    /// replicas following it); returns once clients write to the new primary.
    fn fail_over(&self) -> Result<Promotion, String>;
    /// Brings the primary the last failover took down back, as a replica of the new
    /// one; what it did, in words, or `None` when no failover is outstanding.
    /// Idempotent: a second call after a heal does nothing.
    fn heal(&self) -> Result<Option<String>, String>;
}
