//! Proxy links: partitions and packet faults without root. Every directed peer link
//! (node A reaching node B's service) is a userspace TCP proxy on loopback; A is
//! configured with the proxy's address for B. A cut refuses new connections (accepted,
//! then reset) and severs open ones with a reset; a heal lets connections through
//! again. Packet faults are applied per direction: bytes flowing from X to Y get link
//! X→Y's delay, loss and bandwidth cap.
//!
//! The listeners are bound when the network is created and stay bound for the whole
//! run, so no other program can take their ports while a link is cut.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::packet::PacketFault;

/// The state of one directed link (bytes flowing `from` → `to`).
#[derive(Debug)]
struct Link {
    cut: AtomicBool,
    /// Bumped on every cut: open connections on the link end at once.
    sever: watch::Sender<u64>,
    packet: Mutex<PacketFault>,
    bytes: AtomicU64,
}

impl Link {
    fn new() -> Link {
        Link {
            cut: AtomicBool::new(false),
            sever: watch::channel(0).0,
            packet: Mutex::new(PacketFault::default()),
            bytes: AtomicU64::new(0),
        }
    }

    fn packet(&self) -> PacketFault {
        *self.packet.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type Pair = (String, String);

/// The proxies of a cluster. Dropping it stops every proxy (the listeners close).
#[derive(Debug)]
pub struct ProxyNet {
    links: BTreeMap<Pair, Arc<Link>>,
    /// `proxies[(from, to)][service]`: the proxy address `from` uses to reach `to`.
    addrs: BTreeMap<Pair, Vec<SocketAddr>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for ProxyNet {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl ProxyNet {
    /// Binds a proxy for every (from, to, service) between `nodes`, where
    /// `targets[i][s]` is node i's service s. Must be called within a tokio runtime.
    pub async fn start(nodes: &[String], targets: &[Vec<SocketAddr>]) -> std::io::Result<ProxyNet> {
        let mut net = ProxyNet {
            links: BTreeMap::new(),
            addrs: BTreeMap::new(),
            tasks: Vec::new(),
        };
        for a in nodes {
            for b in nodes {
                if a != b {
                    net.links
                        .insert((a.clone(), b.clone()), Arc::new(Link::new()));
                }
            }
        }
        for (i, from) in nodes.iter().enumerate() {
            for (j, to) in nodes.iter().enumerate() {
                if i == j {
                    continue;
                }
                let mut addrs = Vec::new();
                for target in &targets[j] {
                    let listener = TcpListener::bind("127.0.0.1:0").await?;
                    addrs.push(listener.local_addr()?);
                    let up = net.links[&(from.clone(), to.clone())].clone();
                    let down = net.links[&(to.clone(), from.clone())].clone();
                    net.tasks
                        .push(tokio::spawn(accept_loop(listener, *target, up, down)));
                }
                net.addrs.insert((from.clone(), to.clone()), addrs);
            }
        }
        Ok(net)
    }

    /// The proxy addresses `from` uses to reach `to`, per service.
    pub fn addrs(&self, from: &str, to: &str) -> Option<&[SocketAddr]> {
        self.addrs
            .get(&(from.to_string(), to.to_string()))
            .map(Vec::as_slice)
    }

    fn link(&self, from: &str, to: &str) -> Option<&Arc<Link>> {
        self.links.get(&(from.to_string(), to.to_string()))
    }

    /// Cuts the connections between `a` and `b`, both ways: open ones are reset, new
    /// ones refused, until [`ProxyNet::heal`].
    pub fn cut(&self, a: &str, b: &str) {
        for (x, y) in [(a, b), (b, a)] {
            if let Some(l) = self.link(x, y) {
                l.cut.store(true, Ordering::SeqCst);
                l.sever.send_modify(|n| *n += 1);
            }
        }
    }

    /// Lets every link through again.
    pub fn heal(&self) {
        for l in self.links.values() {
            l.cut.store(false, Ordering::SeqCst);
        }
    }

    /// Whether `a` and `b` are cut apart.
    pub fn is_cut(&self, a: &str, b: &str) -> bool {
        self.link(a, b)
            .is_some_and(|l| l.cut.load(Ordering::SeqCst))
    }

    /// Sets the packet faults of bytes flowing `from` → `to`.
    pub fn set_packet(&self, from: &str, to: &str, fault: PacketFault) {
        if let Some(l) = self.link(from, to) {
            *l.packet.lock().unwrap_or_else(|e| e.into_inner()) = fault;
        }
    }

    /// Clears every packet fault.
    pub fn clear_packets(&self) {
        for l in self.links.values() {
            *l.packet.lock().unwrap_or_else(|e| e.into_inner()) = PacketFault::default();
        }
    }

    /// Bytes carried `from` → `to` so far.
    pub fn bytes(&self, from: &str, to: &str) -> u64 {
        self.link(from, to)
            .map_or(0, |l| l.bytes.load(Ordering::Relaxed))
    }
}

async fn accept_loop(listener: TcpListener, target: SocketAddr, up: Arc<Link>, down: Arc<Link>) {
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        if up.cut.load(Ordering::SeqCst) || down.cut.load(Ordering::SeqCst) {
            reset(&inbound);
            continue;
        }
        let (up, down) = (up.clone(), down.clone());
        tokio::spawn(async move {
            let _ = inbound.set_nodelay(true);
            let outbound = match tokio::time::timeout(
                Duration::from_secs(2),
                TcpStream::connect(target),
            )
            .await
            {
                Ok(Ok(s)) => s,
                _ => {
                    reset(&inbound);
                    return;
                }
            };
            let _ = outbound.set_nodelay(true);
            connection(inbound, outbound, up, down).await;
        });
    }
}

fn reset(s: &TcpStream) {
    let _ = s.set_zero_linger();
}

/// How one direction of a connection ended.
enum End {
    /// Its reader saw end of file (the close was passed on).
    Eof,
    /// A read or write failed.
    Broken,
    /// A chunk was lost: the connection is severed.
    Lost,
}

async fn connection(inbound: TcpStream, outbound: TcpStream, up: Arc<Link>, down: Arc<Link>) {
    let mut sever_up = up.sever.subscribe();
    let mut sever_down = down.sever.subscribe();
    let (mut ir, mut iw) = inbound.into_split();
    let (mut or, mut ow) = outbound.into_split();
    let severed = {
        let both = async {
            let (a, b) = tokio::join!(
                direction(&mut ir, &mut ow, &up),
                direction(&mut or, &mut iw, &down)
            );
            matches!(a, End::Lost | End::Broken) || matches!(b, End::Lost | End::Broken)
        };
        tokio::select! {
            broken = both => broken,
            _ = sever_up.changed() => true,
            _ = sever_down.changed() => true,
        }
    };
    if severed {
        reset(ir.as_ref());
        reset(or.as_ref());
    }
}

/// Copies `r` to `w` with the link's packet faults, until end of file.
async fn direction(r: &mut OwnedReadHalf, w: &mut OwnedWriteHalf, link: &Link) -> End {
    let (tx, mut rx) = mpsc::channel::<(Option<Instant>, Vec<u8>)>(64);
    let reader = async move {
        let mut last: Option<Instant> = None;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match r.read(&mut buf).await {
                Ok(0) => return End::Eof,
                Ok(n) => n,
                Err(_) => return End::Broken,
            };
            let fault = link.packet();
            let mut release = None;
            if fault.is_active() {
                let (lost, delay) = {
                    let mut rng = rand::thread_rng();
                    let lost =
                        fault.loss > 0.0 && rand::Rng::gen_bool(&mut rng, fault.loss.min(1.0));
                    (lost, fault.sample_delay(&mut rng))
                };
                if lost {
                    return End::Lost;
                }
                if !delay.is_zero() {
                    // A TCP stream keeps its order: never release before the last chunk.
                    let at = (Instant::now() + delay).max(last.unwrap_or_else(Instant::now));
                    last = Some(at);
                    release = Some(at);
                }
            }
            if tx.send((release, buf[..n].to_vec())).await.is_err() {
                return End::Broken;
            }
        }
    };
    let writer = async {
        let mut next_free = Instant::now();
        while let Some((at, chunk)) = rx.recv().await {
            if let Some(at) = at {
                tokio::time::sleep_until(at).await;
            }
            if w.write_all(&chunk).await.is_err() {
                return false;
            }
            link.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            if let Some(rate) = link.packet().rate.filter(|r| *r > 0) {
                let cost = Duration::from_secs_f64(chunk.len() as f64 / rate as f64);
                next_free = next_free.max(Instant::now()) + cost;
                tokio::time::sleep_until(next_free).await;
            }
        }
        let _ = w.shutdown().await;
        true
    };
    let (end, written) = tokio::join!(reader, writer);
    match end {
        End::Eof if !written => End::Broken,
        e => e,
    }
}
