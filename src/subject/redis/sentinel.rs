//! Failover by real `redis-sentinel`s: three sentinels that faultline starts, each
//! monitoring the primary (`sentinel monitor faultline 127.0.0.1 PORT 2`,
//! `down-after-milliseconds 1000`, `failover-timeout 2000`: when the sentinels' vote
//! splits, each votes for itself, the attempt is abandoned after the failover timeout
//! and retried after twice that, so a short timeout keeps a split vote from taking
//! longer than a short run), logs under `nodes/s1..s3/`. faultline only asks
//! them which node is the primary (`SENTINEL get-master-addr-by-name faultline`).

use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::cluster::{ports, Cluster, Launch, NodeSpec, ReadyCheck};
use crate::subject::SubjectError;

/// The name the sentinels know the primary by.
pub const MASTER: &str = "faultline";

/// Running sentinels.
#[derive(Debug)]
pub struct Sentinels {
    /// Their processes.
    pub cluster: Cluster,
    /// Their ports.
    pub ports: Vec<u16>,
}

/// Starts three sentinels watching the primary on `primary_port`.
pub async fn start(
    nodes_dir: &Path,
    primary_port: u16,
    ready_timeout: Duration,
) -> Result<Sentinels, SubjectError> {
    let program = crate::subject::binary::locate("redis-sentinel").ok_or_else(|| {
        SubjectError::Config(
            "redis-sentinel is not installed (Debian: apt-get install redis-sentinel)".into(),
        )
    })?;
    let ports = ports::free_ports(3)
        .map_err(|e| SubjectError::Config(format!("cannot find free ports: {e}")))?;
    let mut specs = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let name = format!("s{}", i + 1);
        let dir = nodes_dir.join(&name);
        std::fs::create_dir_all(&dir)
            .map_err(|e| SubjectError::Config(format!("{}: {e}", dir.display())))?;
        let conf = dir.join("sentinel.conf");
        let text = format!(
            "port {port}\nbind 127.0.0.1\nprotected-mode no\ndir {}\n\
             sentinel monitor {MASTER} 127.0.0.1 {primary_port} 2\n\
             sentinel down-after-milliseconds {MASTER} 1000\n\
             sentinel failover-timeout {MASTER} 2000\n\
             sentinel parallel-syncs {MASTER} 2\n",
            dir.display()
        );
        std::fs::write(&conf, text)
            .map_err(|e| SubjectError::Config(format!("{}: {e}", conf.display())))?;
        specs.push(NodeSpec {
            name,
            launch: Launch {
                program: program.clone(),
                args: vec![conf.display().to_string()],
                env: Vec::new(),
                netns: None,
            },
            ready: ReadyCheck::Tcp(format!("127.0.0.1:{port}")),
            stop_signal: Signal::SIGTERM,
            port: Some(*port),
        });
    }
    let cluster = Cluster::start(specs, nodes_dir, ready_timeout).await?;
    Ok(Sentinels { cluster, ports })
}

/// The primary's port as the first sentinel that answers says.
pub async fn primary_port(sentinels: &[u16]) -> Option<u16> {
    for port in sentinels {
        if let Ok(v) = super::command(*port, &["SENTINEL", "get-master-addr-by-name", MASTER]).await
        {
            if let Ok(addr) = redis::from_redis_value::<Vec<String>>(&v) {
                if let Some(p) = addr.get(1).and_then(|p| p.parse().ok()) {
                    return Some(p);
                }
            }
        }
    }
    None
}
