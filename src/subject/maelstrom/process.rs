//! One Maelstrom node's process: started in its own process group with its stdin and
//! stdout piped to faultline, its stderr in `nodes/<node>/stderr.log`, and lines on
//! its stdout that are not messages in `nodes/<node>/stdout.log`.
//!
//! A process is wired in two steps. [`spawn`] starts it and returns its [`Inbox`]
//! (the writer to its stdin) *without* making it reachable: the network sends `init`
//! (and, for broadcast, `topology`) through that inbox alone, and installs it for
//! everyone else only once the node has answered them. So a fresh or restarted node
//! never sees a peer's or a client's message before its `init`. When the process
//! closes its stdout (it exited), its inbox is removed again: requests sent to it
//! from then on are known never to have been delivered.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::net::Inner;
use super::protocol::{Message, ProtocolError};

/// The writer to one process's stdin; `generation` tells a restarted node's processes
/// apart.
#[derive(Clone, Debug)]
pub struct Inbox {
    /// Which of the node's processes this is (1 for the first, +1 per restart).
    pub generation: u64,
    /// Lines to write to its stdin.
    pub tx: mpsc::UnboundedSender<String>,
}

/// Starts node `name`'s process (its `generation`-th) in its own process group,
/// logging under `log_dir`, reading its stdout into the router. Returns the child and
/// its not yet installed inbox.
pub fn spawn(
    inner: &Arc<Inner>,
    bin: &Path,
    name: &str,
    generation: u64,
    log_dir: &Path,
) -> std::io::Result<(tokio::process::Child, Inbox)> {
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
    tokio::spawn(write_lines(stdin, rx));
    tokio::spawn(read_lines(
        inner.clone(),
        name.to_string(),
        generation,
        pid,
        stdout,
        log_dir.join("stdout.log"),
    ));
    Ok((child, Inbox { generation, tx }))
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
    generation: u64,
    pid: u32,
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
    // Its stdout closed: the process exited (or will not speak again).
    inner.exited(&name, generation, pid);
}
