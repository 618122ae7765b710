//! One node's connection to one peer: a persistent peer stream (see `wire`) that many
//! replica calls share, re-opened after it breaks or a call on it times out.
//!
//! The stream starts as an HTTP/1.1 request on the peer's one port
//! (`GET /internal/stream`, `Upgrade: faultline-peer/1`); after `101 Switching
//! Protocols` both sides speak frames. A writer task coalesces queued frames into one
//! write, so concurrent calls cost one syscall between them, not one each.
//!
//! A call that times out discards the connection: after a partition or a pause the
//! old socket may sit in TCP back-off for seconds, while a fresh one works as soon as
//! the network does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use tokio::time::{timeout_at, Instant};

use crate::wire::{self, Reply, Request};

type Pending = Mutex<HashMap<u64, oneshot::Sender<Reply>>>;

/// One open stream. Dropping the last handle stops its tasks and closes the socket.
struct Conn {
    frames: mpsc::UnboundedSender<Vec<u8>>,
    pending: Arc<Pending>,
    broken: Arc<AtomicBool>,
    next_id: AtomicU64,
    tasks: [AbortHandle; 2],
}

impl Drop for Conn {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The link from this node to one peer.
pub struct Link {
    peer: String,
    addr: String,
    conn: tokio::sync::Mutex<Option<Arc<Conn>>>,
}

impl Link {
    /// A link to `peer` at `addr` (`HOST:PORT`, an `http://` prefix is ignored); no
    /// connection is made until the first call.
    pub fn new(peer: &str, addr: &str) -> Link {
        let addr = addr.strip_prefix("http://").unwrap_or(addr);
        Link {
            peer: peer.to_string(),
            addr: addr.trim_end_matches('/').to_string(),
            conn: tokio::sync::Mutex::new(None),
        }
    }

    /// Sends `req` and waits for its reply until `deadline`. An error means the outcome
    /// is unknown: the peer may or may not have applied a put.
    pub async fn call(&self, req: &Request, deadline: Instant) -> Result<Reply, String> {
        let conn = match timeout_at(deadline, self.connection()).await {
            Ok(c) => c?,
            Err(_) => return Err(format!("connecting to {} timed out", self.addr)),
        };
        let id = conn.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&conn.pending).insert(id, tx);
        if conn.frames.send(wire::encode(id, req)).is_err() || conn.broken.load(Ordering::SeqCst) {
            lock(&conn.pending).remove(&id);
            self.discard(&conn);
            return Err("peer stream closed".into());
        }
        match timeout_at(deadline, rx).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(_)) => {
                self.discard(&conn);
                Err("peer stream closed before the reply".into())
            }
            Err(_) => {
                lock(&conn.pending).remove(&id);
                self.discard(&conn);
                Err("timed out".into())
            }
        }
    }

    /// The open stream, or a new one.
    async fn connection(&self) -> Result<Arc<Conn>, String> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            if !c.broken.load(Ordering::SeqCst) {
                return Ok(c.clone());
            }
        }
        *slot = None;
        let c =
            Arc::new(self.open().await.map_err(|e| {
                format!("opening peer stream to {} at {}: {e}", self.peer, self.addr)
            })?);
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Forgets `conn` so the next call reconnects. Never waits: if another call holds the
    /// slot (it is connecting), it sees `broken` and replaces the stream itself.
    fn discard(&self, conn: &Arc<Conn>) {
        conn.broken.store(true, Ordering::SeqCst);
        if let Ok(mut slot) = self.conn.try_lock() {
            if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
                *slot = None;
            }
        }
    }

    async fn open(&self) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(&self.addr).await?;
        stream.set_nodelay(true)?;
        let (read, mut write) = stream.into_split();
        let head = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: {}\r\n\r\n",
            wire::STREAM_PATH,
            self.addr,
            wire::UPGRADE_TOKEN
        );
        write.write_all(head.as_bytes()).await?;
        let mut read = BufReader::new(read);
        let mut status = String::new();
        read.read_line(&mut status).await?;
        if !status.starts_with("HTTP/1.1 101") {
            return Err(std::io::Error::other(format!(
                "peer refused the stream upgrade: {}",
                status.trim_end()
            )));
        }
        loop {
            let mut line = String::new();
            if read.read_line(&mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if line == "\r\n" {
                break;
            }
        }
        let pending: Arc<Pending> = Arc::default();
        let broken = Arc::new(AtomicBool::new(false));
        let (frames, queue) = mpsc::unbounded_channel();
        let failed = broken.clone();
        let writer = tokio::spawn(async move {
            if let Err(e) = wire::write_frames(write, queue).await {
                tracing::debug!(error = %e, "peer stream write failed");
                failed.store(true, Ordering::SeqCst);
            }
        });
        let reader = tokio::spawn(read_replies(read, pending.clone(), broken.clone()));
        Ok(Conn {
            frames,
            pending,
            broken,
            next_id: AtomicU64::new(0),
            tasks: [writer.abort_handle(), reader.abort_handle()],
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn read_replies(
    mut input: BufReader<OwnedReadHalf>,
    pending: Arc<Pending>,
    broken: Arc<AtomicBool>,
) {
    loop {
        match wire::read::<Reply, _>(&mut input).await {
            Ok(Some((id, reply))) => {
                if let Some(tx) = lock(&pending).remove(&id) {
                    let _ = tx.send(reply);
                }
            }
            Ok(None) => break,
            Err(e) => {
                tracing::debug!(error = %e, "peer stream read failed");
                break;
            }
        }
    }
    broken.store(true, Ordering::SeqCst);
    // Dropping the senders wakes every waiting call with "closed".
    lock(&pending).clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    /// A stand-in peer: accepts streams and answers every get with its key as the
    /// value, except that on its first connection it goes silent (a black hole) when
    /// `silent_first` is set. Returns its address and a count of connections.
    async fn peer(silent_first: bool) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (sock, _) = listener.accept().await.unwrap();
                let n = count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(sock, silent_first && n == 0));
            }
        });
        (addr, accepted)
    }

    async fn serve(sock: TcpStream, silent: bool) {
        let (read, mut write) = sock.into_split();
        let mut read = BufReader::new(read);
        let mut line = String::new();
        while read.read_line(&mut line).await.unwrap() > 0 && !line.ends_with("\r\n\r\n") {}
        assert!(line.contains("Upgrade: faultline-peer/1"), "{line}");
        write
            .write_all(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: faultline-peer/1\r\n\r\n")
            .await
            .unwrap();
        if silent {
            let mut sink = Vec::new();
            let _ = read.read_to_end(&mut sink).await;
            return;
        }
        let mut held = Vec::new();
        while let Ok(Some((id, req))) = wire::read::<Request, _>(&mut read).await {
            let Request::Get { key, .. } = req else {
                panic!("only gets here")
            };
            held.push((id, key));
            // Answer in batches and in reverse, as a busy peer would.
            if held.len() == 4 {
                for (id, key) in held.drain(..).rev() {
                    let versions = vec![crate::version::Version {
                        ctx: Default::default(),
                        value: key.into(),
                        ts: 0,
                        actor: "p#0".into(),
                        dot: id,
                    }];
                    write
                        .write_all(&wire::encode(id, &Reply::Versions { versions }))
                        .await
                        .unwrap();
                }
            }
        }
    }

    fn get(key: &str) -> Request {
        Request::Get {
            from: "n1".into(),
            key: key.into(),
        }
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_share_one_connection_and_each_gets_its_own_reply() {
        let (addr, accepted) = peer(false).await;
        let link = Arc::new(Link::new("p", &format!("http://{addr}")));
        let mut calls = Vec::new();
        for i in 0..64 {
            let link = link.clone();
            calls.push(tokio::spawn(async move {
                (i, link.call(&get(&format!("k{i}")), soon()).await)
            }));
        }
        for c in calls {
            let (i, reply) = c.await.unwrap();
            let Ok(Reply::Versions { versions }) = reply else {
                panic!("call {i}: {reply:?}")
            };
            assert_eq!(versions[0].value, serde_json::json!(format!("k{i}")));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_call_that_times_out_drops_the_connection_and_the_next_call_reconnects() {
        let (addr, accepted) = peer(true).await;
        let link = Link::new("p", &addr);
        let short = Instant::now() + Duration::from_millis(200);
        assert_eq!(link.call(&get("a"), short).await, Err("timed out".into()));
        // The fresh connection answers (in batches of 4).
        let reqs = ["a", "b", "c", "d"].map(get);
        let (a, b, c, d) = tokio::join!(
            link.call(&reqs[0], soon()),
            link.call(&reqs[1], soon()),
            link.call(&reqs[2], soon()),
            link.call(&reqs[3], soon())
        );
        for reply in [a, b, c, d] {
            assert!(matches!(reply, Ok(Reply::Versions { .. })), "{reply:?}");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_peer_that_refuses_the_upgrade_is_a_clear_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 512];
            let _ = sock.read(&mut buf).await;
            let _ = sock.write_all(b"HTTP/1.1 404 Not Found\r\n\r\n").await;
        });
        let err = Link::new("p", &addr)
            .call(&get("a"), soon())
            .await
            .unwrap_err();
        assert!(
            err.contains("refused the stream upgrade: HTTP/1.1 404"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_peer_that_is_down_fails_fast() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        drop(listener);
        let err = Link::new("p", &addr)
            .call(&get("a"), soon())
            .await
            .unwrap_err();
        assert!(err.contains("opening peer stream to p"), "{err}");
    }
}
