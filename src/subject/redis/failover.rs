//! Redis's failover, offered to the nemesis as [`nemesis::Failover`]
//! (`--nemesis failover`); `--redis-failover` says who carries it out.
//!
//! - `manual` (the default), what an operator or a failover script does when it
//!   believes the primary is gone: the next node is promoted (`REPLICAOF NO ONE`) and
//!   the other replicas re-pointed at it while the old primary, cut off from its
//!   replicas but not from its clients, still accepts writes for the detection delay
//!   (`--redis-detection-ms`); then the old primary is killed and clients move to the
//!   new one. Acknowledged writes the old primary took after the promotion are lost.
//! - `sentinel`: the primary is killed and the three [`super::sentinel`]s elect a
//!   replica; clients move once the sentinels name it.
//!
//! The heal restarts the old primary (no persistence: it comes back empty) and makes it
//! a replica of the new one (`REPLICAOF`; a full resync replaces its data).

use std::sync::atomic::Ordering;
use std::time::Duration;

use nemesis::Promotion;

use super::{command, sentinel, RedisControl};

/// How long the sentinels may take to elect a new primary (room for a split vote).
const ELECTION_DEADLINE: Duration = Duration::from_secs(15);

/// How long a restarted old primary may take to answer again.
const RESTART_DEADLINE: Duration = Duration::from_secs(5);

fn name(i: usize) -> String {
    format!("n{}", i + 1)
}

/// Runs `f` to completion on a runtime of its own, on a thread of its own: the nemesis
/// calls a failover from blocking code (also while healing on drop), where the run's
/// runtime cannot be entered.
fn on_own_runtime<T: Send>(
    f: impl std::future::Future<Output = Result<T, String>> + Send,
) -> Result<T, String> {
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start a runtime for the failover: {e}"))?
                .block_on(f)
        })
        .join()
        .unwrap_or_else(|_| Err("the failover's thread panicked".into()))
    })
}

impl RedisControl {
    /// Promotes the next node, re-points the others, and kills the old primary after
    /// the detection delay.
    async fn manual_failover(&self) -> Result<Promotion, String> {
        let old = self.primary();
        let n = self.ports.len();
        if n < 2 {
            return Err("a failover needs at least one replica".into());
        }
        let new = (old + 1) % n;
        let new_port = self.ports[new].to_string();
        command(self.ports[new], &["REPLICAOF", "NO", "ONE"])
            .await
            .map_err(|e| format!("cannot promote {}: {e}", name(new)))?;
        for i in (0..n).filter(|&i| i != old && i != new) {
            let _ = command(self.ports[i], &["REPLICAOF", "127.0.0.1", &new_port]).await;
        }
        tracing::info!(
            old = old + 1,
            new = new + 1,
            "redis: replica promoted; old primary still serves for the detection delay"
        );
        tokio::time::sleep(self.detection).await;
        let cluster = self.cluster.get().ok_or("the cluster is not running")?;
        self.mark_down(old);
        cluster.nodes()[old].kill_now();
        self.primary.store(new, Ordering::SeqCst);
        Ok(Promotion {
            old: name(old),
            new: name(new),
            said: format!(
                "{} promoted; {} killed after {:?}",
                name(new),
                name(old),
                self.detection
            ),
        })
    }

    /// Kills the primary and waits until the sentinels elect a new one; clients move
    /// to it.
    async fn sentinel_failover(&self, sentinels: &[u16]) -> Result<Promotion, String> {
        let old = self.primary();
        let cluster = self.cluster.get().ok_or("the cluster is not running")?;
        let killed = tokio::time::Instant::now();
        self.mark_down(old);
        cluster.nodes()[old].kill_now();
        let new = loop {
            if let Some(p) = sentinel::primary_port(sentinels).await {
                if let Some(i) = self
                    .ports
                    .iter()
                    .position(|&q| q == p)
                    .filter(|&i| i != old)
                {
                    break i;
                }
            }
            if killed.elapsed() > ELECTION_DEADLINE {
                return Err(format!(
                    "the sentinels did not elect a new primary within {ELECTION_DEADLINE:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let took = killed.elapsed();
        self.primary.store(new, Ordering::SeqCst);
        Ok(Promotion {
            old: name(old),
            new: name(new),
            said: format!(
                "{} killed; the sentinels promoted {} after {took:?}",
                name(old),
                name(new)
            ),
        })
    }

    /// Notes that node `old` is down until the heal brings it back.
    fn mark_down(&self, old: usize) {
        *self.down.lock().unwrap_or_else(|e| e.into_inner()) = Some(old);
    }

    /// Restarts the node the last failover took down as a replica of the primary.
    async fn heal_failover(&self) -> Result<Option<String>, String> {
        let Some(old) = self.down.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return Ok(None);
        };
        let cluster = self.cluster.get().ok_or("the cluster is not running")?;
        let node = &cluster.nodes()[old];
        if !node.is_running() {
            node.restart()
                .map_err(|e| format!("cannot restart {}: {e}", name(old)))?;
        }
        let new = self.primary();
        if new == old {
            // No replica was promoted (the failover failed): it is the primary again.
            return Ok(Some(format!("{} restarted, still the primary", name(old))));
        }
        let new_port = self.ports[new].to_string();
        let deadline = tokio::time::Instant::now() + RESTART_DEADLINE;
        while command(self.ports[old], &["REPLICAOF", "127.0.0.1", &new_port])
            .await
            .is_err()
        {
            if tokio::time::Instant::now() > deadline {
                return Err(format!(
                    "{} did not come back after the failover",
                    name(old)
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Some(format!(
            "{} restarted as a replica of {}",
            name(old),
            name(new)
        )))
    }
}

impl nemesis::Failover for RedisControl {
    fn primary(&self) -> String {
        name(RedisControl::primary(self))
    }

    fn how(&self) -> &'static str {
        if self.sentinels.get().is_some() {
            "sentinel"
        } else {
            "manual"
        }
    }

    fn fail_over(&self) -> Result<Promotion, String> {
        on_own_runtime(async {
            match self.sentinels.get() {
                Some(s) => self.sentinel_failover(s).await,
                None => self.manual_failover().await,
            }
        })
    }

    fn heal(&self) -> Result<Option<String>, String> {
        on_own_runtime(self.heal_failover())
    }
}
