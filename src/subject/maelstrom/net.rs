//! faultline as the network between Maelstrom nodes: it runs each node as a child
//! process (its own process group), reads one JSON message per line from its stdout
//! and routes it: to another node's stdin (possibly delayed, or dropped when a
//! partition separates the two or by random loss), to an in-process service
//! (`lin-kv`, `seq-kv`, `lww-kv`), or back to the client waiting for that reply.
//! Each node's stderr goes to `nodes/<node>/stderr.log`, lines that are not messages
//! to `nodes/<node>/stdout.log`.
//!
//! The partition hook ([`Network::partition`], [`Network::heal`]) is how a nemesis
//! cuts this network: no firewall is involved, faultline itself is the wire.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use rand::Rng;
use serde_json::{json, Value as Json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use super::protocol::{Message, ProtocolError};
use super::services::{KvService, SERVICES};

/// How the network treats messages between nodes.
#[derive(Clone, Debug, Default)]
pub struct NetConfig {
    /// Each node-to-node message is delayed by this much.
    pub latency: Duration,
    /// Each node-to-node message is dropped with this probability (0..=1).
    pub loss: f64,
}

/// Why a request to a node got no answer.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// No node by that name.
    #[error("no node {0}")]
    NoSuchNode(String),
    /// The node's stdin is closed (it exited).
    #[error("node {0} is not running")]
    NodeDown(String),
    /// No reply within the timeout.
    #[error("no reply from {node} within {timeout:?}")]
    Timeout {
        /// The node.
        node: String,
        /// How long we waited.
        timeout: Duration,
    },
}

/// Counts of what the network did, for the run's description.
#[derive(Debug, Default)]
pub struct NetStats {
    /// Messages delivered between nodes.
    pub delivered: AtomicU64,
    /// Node-to-node messages dropped (partition or loss).
    pub dropped: AtomicU64,
    /// Requests answered by a service.
    pub service_requests: AtomicU64,
    /// Lines on a node's stdout that were not messages.
    pub malformed: AtomicU64,
}

struct Inner {
    names: Vec<String>,
    inboxes: Mutex<HashMap<String, mpsc::UnboundedSender<String>>>,
    pending: Mutex<HashMap<(String, u64), oneshot::Sender<Message>>>,
    blocked: Mutex<HashSet<(String, String)>>,
    services: Mutex<HashMap<String, KvService>>,
    config: NetConfig,
    next_id: AtomicU64,
    stats: NetStats,
}

/// One node process (replaced in place when the node is restarted).
struct NodeProc {
    name: String,
    pid: AtomicI32,
    child: tokio::sync::Mutex<tokio::process::Child>,
    log_dir: PathBuf,
}

/// The running network and its nodes. Cheap to clone.
#[derive(Clone)]
pub struct Network {
    inner: Arc<Inner>,
    procs: Arc<Vec<NodeProc>>,
    bin: Arc<PathBuf>,
    /// Messages every node got after `init` (a broadcast `topology`), sent again to a
    /// restarted node.
    after_init: Arc<Mutex<Vec<Json>>>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("nodes", &self.inner.names)
            .finish()
    }
}

impl Network {
    /// Starts `count` nodes running `bin` (named `n0`, `n1`, ...), logs under
    /// `nodes_dir/<node>/`, and routes their messages. Does not send `init`.
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
            pending: Mutex::new(HashMap::new()),
            blocked: Mutex::new(HashSet::new()),
            services: Mutex::new(HashMap::new()),
            config,
            next_id: AtomicU64::new(1),
            stats: NetStats::default(),
        });
        let mut procs = Vec::new();
        for name in &names {
            let log_dir = nodes_dir.join(name);
            std::fs::create_dir_all(&log_dir)?;
            std::fs::write(log_dir.join("command"), format!("{}\n", bin.display()))?;
            let child = spawn_node(&inner, bin, name, &log_dir)?;
            procs.push(NodeProc {
                name: name.clone(),
                pid: AtomicI32::new(child.id().map(|p| p as i32).unwrap_or(0)),
                child: tokio::sync::Mutex::new(child),
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

    /// Remembers a message every node got after `init`, to send again to a node that
    /// is restarted.
    pub fn remember_after_init(&self, body: Json) {
        self.after_init
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(body);
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

    /// Starts node `name` again after it exited: a fresh process (a Maelstrom node keeps
    /// its state in memory, so it starts empty, as after a crash), wired to the network,
    /// sent `init` and whatever else every node got after it. Must be called from a
    /// thread that may block, with the runtime's other threads free to run the replies.
    pub fn restart_blocking(
        &self,
        name: &str,
        handle: &tokio::runtime::Handle,
        timeout: Duration,
    ) -> Result<(), String> {
        let p = self.proc(name).map_err(|e| e.to_string())?;
        {
            let _entered = handle.enter();
            let child =
                spawn_node(&self.inner, &self.bin, name, &p.log_dir).map_err(|e| e.to_string())?;
            p.pid
                .store(child.id().map(|p| p as i32).unwrap_or(0), Ordering::SeqCst);
            let mut slot = p
                .child
                .try_lock()
                .map_err(|_| format!("{name} is being stopped; not restarted"))?;
            *slot = child;
        }
        let ids = self.inner.names.clone();
        let mut bodies = vec![json!({"type": "init", "node_id": name, "node_ids": ids})];
        bodies.extend(
            self.after_init
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned(),
        );
        for body in bodies {
            let (tx, rx) = std::sync::mpsc::channel();
            let (net, node) = (self.clone(), name.to_string());
            handle.spawn(async move {
                let _ = tx.send(net.request("c0", &node, body, timeout).await);
            });
            match rx.recv_timeout(timeout + Duration::from_millis(500)) {
                Ok(Ok(m)) if m.kind().is_some_and(|k| k.ends_with("_ok")) => {}
                Ok(Ok(m)) => return Err(format!("restarted {name} answered {}", m.to_line())),
                Ok(Err(e)) => return Err(format!("restarted {name}: {e}")),
                Err(_) => return Err(format!("restarted {name} did not answer in {timeout:?}")),
            }
        }
        tracing::info!(node = %name, "maelstrom node restarted");
        Ok(())
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
    /// the reply. The body's `msg_id` is set here.
    pub async fn request(
        &self,
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
        self.inner
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), tx);
        let m = Message {
            src: client.to_string(),
            dest: node.to_string(),
            body,
        };
        let sent = self.inner.deliver(node, m.to_line());
        let result = match sent {
            Err(e) => Err(e),
            Ok(()) => match tokio::time::timeout(timeout, rx).await {
                Ok(Ok(reply)) => Ok(reply),
                _ => Err(NetError::Timeout {
                    node: node.to_string(),
                    timeout,
                }),
            },
        };
        self.inner
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        result
    }

    /// Sends every node its `init` and waits for all `init_ok`s.
    pub async fn init(&self, timeout: Duration) -> Result<(), String> {
        let ids = self.inner.names.clone();
        let mut tasks = Vec::new();
        for name in &ids {
            let body = json!({"type": "init", "node_id": name, "node_ids": ids});
            let net = self.clone();
            let name = name.clone();
            tasks.push(tokio::spawn(async move {
                let r = net.request("c0", &name, body, timeout).await;
                (name, r)
            }));
        }
        for t in tasks {
            let (name, r) = t.await.map_err(|e| e.to_string())?;
            match r {
                Ok(m) if m.kind() == Some("init_ok") => {}
                Ok(m) => return Err(format!("{name} answered init with {}", m.to_line())),
                Err(e) => {
                    let tail = crate::cluster::process::stderr_tail(
                        &self.procs[self.index(&name).unwrap_or(0)].log_dir,
                        600,
                    );
                    return Err(format!("{name} did not answer init: {e}; stderr: {tail}"));
                }
            }
        }
        Ok(())
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.inner.names.iter().position(|n| n == name)
    }

    /// Cuts the network into `groups`: messages between nodes of different groups are
    /// dropped (nodes in no group are cut off from everyone). Replaces any earlier cut.
    pub fn partition(&self, groups: &[Vec<String>]) {
        let group_of = |n: &str| groups.iter().position(|g| g.iter().any(|m| m == n));
        let mut blocked = self.inner.blocked.lock().unwrap_or_else(|e| e.into_inner());
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
        let mut blocked = self.inner.blocked.lock().unwrap_or_else(|e| e.into_inner());
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
        self.inner
            .blocked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
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
        self.inner
            .inboxes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

impl Inner {
    fn deliver(&self, node: &str, line: String) -> Result<(), NetError> {
        let inboxes = self.inboxes.lock().unwrap_or_else(|e| e.into_inner());
        let tx = inboxes
            .get(node)
            .ok_or_else(|| NetError::NoSuchNode(node.to_string()))?;
        tx.send(line)
            .map_err(|_| NetError::NodeDown(node.to_string()))
    }

    /// Routes one message a node sent.
    fn route(self: &Arc<Self>, from: &str, mut m: Message) {
        // A node may only speak for itself.
        m.src = from.to_string();
        if self.names.contains(&m.dest) {
            let cut = self
                .blocked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&(m.src.clone(), m.dest.clone()));
            let lost = self.config.loss > 0.0 && rand::thread_rng().gen_bool(self.config.loss);
            if cut || lost {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            self.stats.delivered.fetch_add(1, Ordering::Relaxed);
            let line = m.to_line();
            if self.config.latency.is_zero() {
                let _ = self.deliver(&m.dest, line);
            } else {
                let me = self.clone();
                let dest = m.dest.clone();
                let latency = self.config.latency;
                tokio::spawn(async move {
                    tokio::time::sleep(latency).await;
                    let _ = me.deliver(&dest, line);
                });
            }
        } else if SERVICES.contains(&m.dest.as_str()) {
            self.stats.service_requests.fetch_add(1, Ordering::Relaxed);
            let body = self
                .services
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(m.dest.clone())
                .or_default()
                .handle(&m);
            let reply = m.reply(body);
            let _ = self.deliver(from, reply.to_line());
        } else if let Some(id) = m.in_reply_to() {
            let waiter = self
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&(m.dest.clone(), id));
            match waiter {
                Some(w) => {
                    let _ = w.send(m);
                }
                None => tracing::debug!(%from, dest = %m.dest, id, "a reply nobody waits for"),
            }
        } else {
            tracing::debug!(%from, dest = %m.dest, "a message to an unknown destination");
        }
    }
}

/// Starts node `name`'s process in its own process group, logging under `log_dir`, and
/// wires its stdin and stdout to the network (replacing any earlier inbox).
fn spawn_node(
    inner: &Arc<Inner>,
    bin: &Path,
    name: &str,
    log_dir: &Path,
) -> std::io::Result<tokio::process::Child> {
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_dir.join("stderr.log"))?;
    let mut child = tokio::process::Command::new(bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot start {}: {e}", bin.display()))
        })?;
    let pid = child.id().unwrap_or(0);
    // One line per process the node ran as (restarts append).
    let mut pids = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_dir.join("pid"))?;
    writeln!(pids, "{pid}")?;
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::unbounded_channel();
    inner
        .inboxes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(name.to_string(), tx);
    tokio::spawn(write_lines(stdin, rx));
    tokio::spawn(read_lines(
        inner.clone(),
        name.to_string(),
        stdout,
        log_dir.join("stdout.log"),
    ));
    Ok(child)
}

async fn write_lines(
    mut stdin: tokio::process::ChildStdin,
    mut rx: mpsc::UnboundedReceiver<String>,
) {
    while let Some(mut line) = rx.recv().await {
        line.push('\n');
        if stdin.write_all(line.as_bytes()).await.is_err() || stdin.flush().await.is_err() {
            break;
        }
    }
}

async fn read_lines(
    inner: Arc<Inner>,
    name: String,
    stdout: tokio::process::ChildStdout,
    garbage: PathBuf,
) {
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        match Message::parse(&line) {
            Ok(m) => inner.route(&name, m),
            Err(ProtocolError::Malformed { reason, .. }) => {
                inner.stats.malformed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(node = %name, %reason, "a line on stdout is not a Maelstrom message");
                if let Ok(mut f) = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&garbage)
                {
                    let _ = writeln!(f, "{line}");
                }
            }
        }
    }
}
