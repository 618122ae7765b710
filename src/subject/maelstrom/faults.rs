//! What the nemesis may do to Maelstrom nodes: kill, stop, pause and restart their
//! processes ([`MaelstromNode`]), and partition the network faultline routes for them
//! ([`Network`] as a [`nemesis::Router`]). A restarted node is a fresh process that
//! gets `init` again: Maelstrom nodes keep their state in memory, so a kill is a crash
//! that loses it. A restart that fails is recorded, never a reason to stop the run.

use std::time::Duration;

use nix::sys::signal::Signal;

use super::net::Network;

/// One Maelstrom node, as the nemesis sees it.
pub struct MaelstromNode {
    net: Network,
    name: String,
    handle: tokio::runtime::Handle,
    /// How long a restarted node has to answer `init`.
    ready_timeout: Duration,
}

impl MaelstromNode {
    /// Node `name` of `net`; restarts run on the runtime behind `handle`.
    pub fn new(
        net: Network,
        name: &str,
        handle: tokio::runtime::Handle,
        ready_timeout: Duration,
    ) -> MaelstromNode {
        MaelstromNode {
            net,
            name: name.to_string(),
            handle,
            ready_timeout,
        }
    }

    fn signal(&self, signal: Signal) -> Result<(), String> {
        self.net
            .signal(&self.name, signal)
            .map_err(|e| format!("{signal} to {}: {e}", self.name))
    }

    /// Waits up to `limit` for the process to exit; whether it did.
    fn exited_within(&self, limit: Duration) -> bool {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if !self.net.is_running(&self.name) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        !self.net.is_running(&self.name)
    }
}

impl nemesis::Node for MaelstromNode {
    fn name(&self) -> &str {
        &self.name
    }

    fn pid(&self) -> i32 {
        self.net.pid(&self.name).unwrap_or(0)
    }

    fn is_running(&self) -> bool {
        self.net.is_running(&self.name)
    }

    fn kill(&self) -> Result<(), String> {
        self.signal(Signal::SIGKILL)?;
        if self.exited_within(Duration::from_secs(5)) {
            Ok(())
        } else {
            Err(format!("node {} survived SIGKILL", self.name))
        }
    }

    fn stop(&self) -> Result<(), String> {
        self.signal(Signal::SIGTERM)?;
        self.signal(Signal::SIGCONT)?;
        if self.exited_within(Duration::from_secs(2)) {
            Ok(())
        } else {
            self.kill()
        }
    }

    fn pause(&self) -> Result<(), String> {
        self.signal(Signal::SIGSTOP)
    }

    fn resume(&self) -> Result<(), String> {
        self.signal(Signal::SIGCONT)
    }

    /// A restart that fails (the new process exits, or never answers `init`) is a
    /// fault of the node, not of the test: it is recorded as a `restart-failed`
    /// nemesis event and the node stays unreachable; the run goes on and is judged.
    fn restart(&self) -> Result<(), String> {
        if let Err(e) = self
            .net
            .restart_blocking(&self.name, &self.handle, self.ready_timeout)
        {
            tracing::warn!(node = %self.name, error = %e, "maelstrom node restart failed");
            self.net.note(
                "restart-failed",
                serde_json::json!({"node": self.name, "error": e}),
            );
        }
        Ok(())
    }
}

impl nemesis::Router for Network {
    fn partition(&self, partition: &nemesis::Partition) -> Result<(), String> {
        self.cut(&partition.grudge);
        Ok(())
    }

    fn heal(&self) -> Result<(), String> {
        Network::heal(self);
        Ok(())
    }
}
