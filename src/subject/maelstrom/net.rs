//! faultline as the network between Maelstrom nodes: it runs each node as a child
//! process ([`process`](super::process)), reads one JSON message per line from its
//! stdout and routes it by its `dest` alone: to another node's stdin (possibly
//! delayed, or dropped when a partition separates the two or by random loss), to an
//! in-process service (`lin-kv`, `seq-kv`, `lww-kv`), or back to the client waiting
//! for that reply.
//!
//! As in Maelstrom, `src` is the node's to set: a node may send on behalf of a client
//! (a follower forwarding a client's request to its leader with the client as `src`,
//! so that the leader's reply goes straight to the client). The router only checks
//! that `src` is a known node or a client id (`c1`, `c2`, ...), and drops the message
//! otherwise. Partitions and loss apply to the process that actually sent it.
//!
//! A node is reachable only after it answered `init` (and whatever else every node
//! gets before the run, a broadcast `topology`); a node whose process exited is not
//! reachable until it is restarted and has answered them again. Every message is
//! counted ([`NetStats`]). The partition hook ([`Network::partition`],
//! [`Network::heal`]) is how a nemesis cuts this network: faultline itself is the
//! wire.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use rand::Rng;
use serde_json::{json, Value as Json};
use tokio::sync::oneshot;

use super::journal::Journal;
use super::latency::LatencyDist;
use super::process::{self, Inbox};
use super::protocol::Message;
use super::services::{KvService, Strength, SERVICES};
use super::stats::NetStats;
use crate::recorder::Recorder;

mod routing;

/// How the network treats messages between nodes.
#[derive(Clone, Debug, Default)]
pub struct NetConfig {
    /// Each node-to-node message is delayed by this much (on average, as
    /// `latency_dist` draws it).
    pub latency: Duration,
    /// How each message's delay is drawn.
    pub latency_dist: LatencyDist,
    /// Each node-to-node message is dropped with this probability (0..=1).
    pub loss: f64,
    /// How strong the `seq-kv` and `lww-kv` services are.
    pub services: Strength,
}

/// Why a request to a node got no answer.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// No node by that name: the request went nowhere.
    #[error("no node {0}")]
    NoSuchNode(String),
    /// The node is not running (or not initialized yet): the request was never
    /// delivered.
    #[error("node {0} is not running; the request was not delivered")]
    NodeDown(String),
    /// Delivered, but no reply within the timeout: it may or may not have happened.
    #[error("no reply from {node} within {timeout:?}")]
    Timeout {
        /// The node.
        node: String,
        /// How long we waited.
        timeout: Duration,
    },
}

impl NetError {
    /// Whether the request certainly never reached a node (so it did not happen).
    pub fn undelivered(&self) -> bool {
        matches!(self, NetError::NoSuchNode(_) | NetError::NodeDown(_))
    }
}

/// Whether `id` is a client id: `c` followed by digits.
pub fn is_client(id: &str) -> bool {
    id.len() > 1 && id.starts_with('c') && id[1..].bytes().all(|b| b.is_ascii_digit())
}

/// The routing state every node's reader shares.
pub struct Inner {
    names: Vec<String>,
    inboxes: Mutex<HashMap<String, Inbox>>,
    /// Processes being sent `init`: they hear only replies to their own requests to
    /// services.
    handshaking: Mutex<HashMap<String, Inbox>>,
    pending: Mutex<HashMap<(String, u64), oneshot::Sender<Message>>>,
    blocked: Mutex<HashSet<(String, String)>>,
    services: Mutex<HashMap<String, KvService>>,
    config: NetConfig,
    next_id: AtomicU64,
    pub(super) stats: NetStats,
    recorder: Mutex<Option<Recorder>>,
    /// Every message carried, for the report's diagram.
    journal: Journal,
    stopping: AtomicBool,
}

/// One node (its process is replaced in place when the node is restarted).
struct NodeProc {
    name: String,
    pid: AtomicI32,
    generation: AtomicU64,
    child: tokio::sync::Mutex<tokio::process::Child>,
    /// The inbox of a process started but not yet sent `init`.
    fresh: Mutex<Option<Inbox>>,
    log_dir: PathBuf,
}

/// The running network and its nodes. Cheap to clone.
#[derive(Clone)]
pub struct Network {
    inner: Arc<Inner>,
    procs: Arc<Vec<NodeProc>>,
    bin: Arc<PathBuf>,
    /// Messages every node gets after `init` and before anything else (a broadcast
    /// `topology`), again after every restart.
    after_init: Arc<Mutex<Vec<Json>>>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("nodes", &self.inner.names)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Network {
    /// Starts `count` nodes running `bin` (named `n0`, `n1`, ...), logs under
    /// `nodes_dir/<node>/`, and routes their messages. Does not send `init`: until
    /// [`Network::init`] no node is reachable.
    pub fn spawn(
        bin: &Path,
        count: usize,
        nodes_dir: &Path,
        config: NetConfig,
    ) -> std::io::Result<Network> {
        let names: Vec<String> = (0..count).map(|i| format!("n{i}")).collect();
        let inner = Arc::new(Inner {
            names: names.clone(),
            inboxes: Mutex::new(HashMap::new()),
            handshaking: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            blocked: Mutex::new(HashSet::new()),
            services: Mutex::new(HashMap::new()),
            config,
            next_id: AtomicU64::new(1),
            stats: NetStats::default(),
            recorder: Mutex::new(None),
            journal: Journal::create(nodes_dir),
            stopping: AtomicBool::new(false),
        });
        let mut procs = Vec::new();
        for name in &names {
            let log_dir = nodes_dir.join(name);
            std::fs::create_dir_all(&log_dir)?;
            std::fs::write(log_dir.join("command"), format!("{}\n", bin.display()))?;
            let (child, inbox) = process::spawn(&inner, bin, name, 1, &log_dir)?;
            procs.push(NodeProc {
                name: name.clone(),
                pid: AtomicI32::new(child.id().map(|p| p as i32).unwrap_or(0)),
                generation: AtomicU64::new(1),
                child: tokio::sync::Mutex::new(child),
                fresh: Mutex::new(Some(inbox)),
                log_dir,
            });
        }
        Ok(Network {
            inner,
            procs: Arc::new(procs),
            bin: Arc::new(bin.to_path_buf()),
            after_init: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Adds a message every node gets right after `init`, before anything else (and
    /// again after a restart). Call before [`Network::init`].
    pub fn remember_after_init(&self, body: Json) {
        lock(&self.after_init).push(body);
    }

    /// Where node exits and failed restarts are recorded, as `nemesis` events.
    pub fn record_to(&self, recorder: Recorder) {
        self.inner.journal.use_clock(recorder.clone());
        *lock(&self.inner.recorder) = Some(recorder);
    }

    /// Records a `nemesis` note `f` with `value` in the history (if recording).
    pub fn note(&self, f: &str, value: Json) {
        self.inner.note(f, value);
    }

    fn proc(&self, name: &str) -> Result<&NodeProc, NetError> {
        self.index(name)
            .map(|i| &self.procs[i])
            .ok_or_else(|| NetError::NoSuchNode(name.to_string()))
    }

    /// The PID (and process group) of node `name`'s current process.
    pub fn pid(&self, name: &str) -> Option<i32> {
        self.proc(name).ok().map(|p| p.pid.load(Ordering::SeqCst))
    }

    /// Whether node `name`'s process has not exited (a paused one runs). Reaps it if
    /// it has.
    pub fn is_running(&self, name: &str) -> bool {
        let Ok(p) = self.proc(name) else {
            return false;
        };
        match p.child.try_lock() {
            Ok(mut child) => matches!(child.try_wait(), Ok(None)),
            // Someone is waiting for it (a stop): not to be restarted now.
            Err(_) => true,
        }
    }

    /// Whether node `name` is reachable: running and initialized.
    pub fn is_reachable(&self, name: &str) -> bool {
        lock(&self.inner.inboxes).contains_key(name)
    }

    /// Starts node `name` again after it exited: a fresh process (a Maelstrom node keeps
    /// its state in memory, so it starts empty, as after a crash), sent `init` and
    /// whatever else every node got after it, and reachable only once it answered
    /// them. Must be called from a thread that may block, with the runtime's other
    /// threads free to run the replies.
    pub fn restart_blocking(
        &self,
        name: &str,
        handle: &tokio::runtime::Handle,
        timeout: Duration,
    ) -> Result<(), String> {
        let p = self.proc(name).map_err(|e| e.to_string())?;
        let inbox = {
            let _entered = handle.enter();
            let generation = p.generation.fetch_add(1, Ordering::SeqCst) + 1;
            let (child, inbox) =
                process::spawn(&self.inner, &self.bin, name, generation, &p.log_dir)
                    .map_err(|e| e.to_string())?;
            p.pid
                .store(child.id().map(|p| p as i32).unwrap_or(0), Ordering::SeqCst);
            let mut slot = p
                .child
                .try_lock()
                .map_err(|_| format!("{name} is being stopped; not restarted"))?;
            *slot = child;
            inbox
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let (net, node) = (self.clone(), name.to_string());
        handle.spawn(async move {
            let _ = tx.send(net.handshake(&node, inbox, timeout).await);
        });
        let bodies = 1 + lock(&self.after_init).len() as u32;
        match rx.recv_timeout(timeout * bodies + Duration::from_millis(500)) {
            Ok(Ok(())) => {
                tracing::info!(node = %name, "maelstrom node restarted");
                Ok(())
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!("restarted {name} did not answer in {timeout:?}")),
        }
    }

    /// The node names, in order.
    pub fn names(&self) -> &[String] {
        &self.inner.names
    }

    /// What the network did so far.
    pub fn stats(&self) -> &NetStats {
        &self.inner.stats
    }

    /// Sends `body` from client `client` to node `node` and waits up to `timeout` for
    /// the reply. The body's `msg_id` is set here. A request to a node that is not
    /// reachable is not sent at all ([`NetError::undelivered`]).
    pub async fn request(
        &self,
        client: &str,
        node: &str,
        body: Json,
        timeout: Duration,
    ) -> Result<Message, NetError> {
        self.inner.stats.ops.fetch_add(1, Ordering::Relaxed);
        let inbox = lock(&self.inner.inboxes).get(node).cloned();
        let inbox = match inbox {
            Some(i) => i,
            None => {
                let now = self.inner.journal.now();
                self.inner.journal.record(client, node, &body, now, None);
                self.inner.stats.client.sent.fetch_add(1, Ordering::Relaxed);
                self.inner
                    .stats
                    .client
                    .dropped
                    .fetch_add(1, Ordering::Relaxed);
                return Err(if self.index(node).is_some() {
                    NetError::NodeDown(node.to_string())
                } else {
                    NetError::NoSuchNode(node.to_string())
                });
            }
        };
        self.request_via(&inbox, client, node, body, timeout).await
    }

    /// Sends `body` from `client` straight into `inbox` (node `node`'s) and waits for
    /// the reply.
    async fn request_via(
        &self,
        inbox: &Inbox,
        client: &str,
        node: &str,
        mut body: Json,
        timeout: Duration,
    ) -> Result<Message, NetError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        if let Some(o) = body.as_object_mut() {
            o.insert("msg_id".into(), id.into());
        }
        let (tx, rx) = oneshot::channel();
        let key = (client.to_string(), id);
        lock(&self.inner.pending).insert(key.clone(), tx);
        let m = Message {
            src: client.to_string(),
            dest: node.to_string(),
            body,
        };
        let counts = &self.inner.stats.client;
        counts.sent.fetch_add(1, Ordering::Relaxed);
        let now = self.inner.journal.now();
        let result = if inbox.tx.send(m.to_line()).is_err() {
            self.inner.journal.record(client, node, &m.body, now, None);
            counts.dropped.fetch_add(1, Ordering::Relaxed);
            Err(NetError::NodeDown(node.to_string()))
        } else {
            self.inner.journal.record(client, node, &m.body, now, now);
            counts.delivered.fetch_add(1, Ordering::Relaxed);
            match tokio::time::timeout(timeout, rx).await {
                Ok(Ok(reply)) => Ok(reply),
                _ => Err(NetError::Timeout {
                    node: node.to_string(),
                    timeout,
                }),
            }
        };
        lock(&self.inner.pending).remove(&key);
        result
    }

    /// Sends node `name`'s process `inbox` its `init` and the messages every node
    /// gets after it, each awaited, then makes it reachable.
    async fn handshake(&self, name: &str, inbox: Inbox, timeout: Duration) -> Result<(), String> {
        let ids = self.inner.names.clone();
        let mut bodies = vec![json!({"type": "init", "node_id": name, "node_ids": ids})];
        bodies.extend(lock(&self.after_init).iter().cloned());
        lock(&self.inner.handshaking).insert(name.to_string(), inbox.clone());
        let answered = self.answer_all(name, &inbox, bodies, timeout).await;
        {
            let mut h = lock(&self.inner.handshaking);
            if h.get(name)
                .is_some_and(|i| i.generation == inbox.generation)
            {
                h.remove(name);
            }
        }
        answered?;
        let p = self.proc(name).map_err(|e| e.to_string())?;
        if p.generation.load(Ordering::SeqCst) == inbox.generation {
            lock(&self.inner.inboxes).insert(name.to_string(), inbox);
        }
        Ok(())
    }

    /// Sends `bodies` one by one to `inbox`, each answered by its `_ok`.
    async fn answer_all(
        &self,
        name: &str,
        inbox: &Inbox,
        bodies: Vec<Json>,
        timeout: Duration,
    ) -> Result<(), String> {
        for body in bodies {
            let kind = body["type"].as_str().unwrap_or("").to_string();
            match self.request_via(inbox, "c0", name, body, timeout).await {
                Ok(m) if m.kind() == Some(&format!("{kind}_ok")) => {}
                Ok(m) => return Err(format!("{name} answered {kind} with {}", m.to_line())),
                Err(e) => {
                    let tail = self
                        .proc(name)
                        .map(|p| crate::cluster::process::stderr_tail(&p.log_dir, 600))
                        .unwrap_or_default();
                    return Err(format!("{name} did not answer {kind}: {e}; stderr: {tail}"));
                }
            }
        }
        Ok(())
    }

    /// Sends every node its `init` (and the messages remembered for after it), waits
    /// for all their answers, and makes the nodes reachable.
    pub async fn init(&self, timeout: Duration) -> Result<(), String> {
        let mut tasks = Vec::new();
        for p in self.procs.iter() {
            let Some(inbox) = lock(&p.fresh).take() else {
                continue;
            };
            let net = self.clone();
            let name = p.name.clone();
            tasks.push(tokio::spawn(async move {
                net.handshake(&name, inbox, timeout).await
            }));
        }
        for t in tasks {
            t.await.map_err(|e| e.to_string())??;
        }
        // Only workload clients' requests are operations.
        self.inner.stats.ops.store(0, Ordering::Relaxed);
        Ok(())
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.inner.names.iter().position(|n| n == name)
    }

    /// Cuts the network into `groups`: messages between nodes of different groups are
    /// dropped (nodes in no group are cut off from everyone). Replaces any earlier cut.
    pub fn partition(&self, groups: &[Vec<String>]) {
        let group_of = |n: &str| groups.iter().position(|g| g.iter().any(|m| m == n));
        let mut blocked = lock(&self.inner.blocked);
        blocked.clear();
        for a in &self.inner.names {
            for b in &self.inner.names {
                if a != b && (group_of(a).is_none() || group_of(a) != group_of(b)) {
                    blocked.insert((a.clone(), b.clone()));
                }
            }
        }
        tracing::info!(?groups, "maelstrom network partitioned");
    }

    /// Cuts exactly the links `grudge` names (for each node, the nodes it cannot hear),
    /// both ways: over a cut link neither side hears the other. Replaces any earlier cut.
    pub fn cut(&self, grudge: &nemesis::Grudge) {
        let mut blocked = lock(&self.inner.blocked);
        blocked.clear();
        for (node, deaf_to) in grudge {
            for other in deaf_to {
                blocked.insert((other.clone(), node.clone()));
                blocked.insert((node.clone(), other.clone()));
            }
        }
        tracing::info!(?grudge, "maelstrom network cut");
    }

    /// Removes every cut.
    pub fn heal(&self) {
        lock(&self.inner.blocked).clear();
    }

    /// Sends `signal` to node `name`'s process group (SIGSTOP pauses, SIGCONT
    /// resumes, SIGKILL kills).
    pub fn signal(&self, name: &str, signal: Signal) -> Result<(), NetError> {
        let pid = self.proc(name)?.pid.load(Ordering::SeqCst);
        let _ = killpg(Pid::from_raw(pid), signal);
        Ok(())
    }

    /// Stops every node (SIGTERM, then SIGKILL after a second) and writes each exit
    /// status to `nodes/<node>/exit-status`. Idempotent.
    pub async fn stop(&self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        for p in self.procs.iter() {
            let pid = Pid::from_raw(p.pid.load(Ordering::SeqCst));
            let _ = killpg(pid, Signal::SIGTERM);
            let _ = killpg(pid, Signal::SIGCONT);
        }
        for p in self.procs.iter() {
            let mut child = p.child.lock().await;
            let status = match tokio::time::timeout(Duration::from_secs(1), child.wait()).await {
                Ok(s) => s.ok(),
                Err(_) => {
                    let _ = killpg(Pid::from_raw(p.pid.load(Ordering::SeqCst)), Signal::SIGKILL);
                    child.wait().await.ok()
                }
            };
            if let Some(s) = status {
                let _ = std::fs::write(
                    p.log_dir.join("exit-status"),
                    format!("{}\n", crate::cluster::process::describe(s)),
                );
            }
            tracing::debug!(node = %p.name, ?status, "maelstrom node stopped");
        }
        lock(&self.inner.inboxes).clear();
        self.inner.journal.flush();
    }

    /// How many messages the journal left out (it was full).
    pub fn journal_left_out(&self) -> u64 {
        self.inner.journal.left_out.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_c_and_digits() {
        for id in ["c0", "c1", "c123"] {
            assert!(is_client(id), "{id}");
        }
        for id in ["c", "n1", "lin-kv", "cx", "c1a", ""] {
            assert!(!is_client(id), "{id}");
        }
    }
}
