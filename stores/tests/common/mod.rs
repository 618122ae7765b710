//! A real cluster of `faultline-store` processes on loopback for end-to-end tests.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One node's process and settings.
pub struct NodeProc {
    pub name: String,
    pub port: u16,
    pub child: Option<Child>,
}

/// A cluster of real store processes.
pub struct Cluster {
    pub nodes: Vec<NodeProc>,
    pub dir: tempfile::TempDir,
    pub extra: Vec<String>,
    pub http: reqwest::Client,
    /// Extra environment per node index (e.g. libfaketime).
    pub envs: Vec<Vec<(String, String)>>,
}

impl Cluster {
    /// Starts `n` nodes with the extra flags, and waits until all answer /health.
    pub async fn start(n: usize, extra: &[&str]) -> Cluster {
        Cluster::start_with_env(n, extra, vec![Vec::new(); n]).await
    }

    /// Starts `n` nodes, node `i` with the extra environment `envs[i]`.
    pub async fn start_with_env(
        n: usize,
        extra: &[&str],
        envs: Vec<Vec<(String, String)>>,
    ) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let nodes = (1..=n)
            .map(|i| NodeProc {
                name: format!("n{i}"),
                port: free_port(),
                child: None,
            })
            .collect();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let mut c = Cluster {
            nodes,
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            http,
            envs,
        };
        for i in 0..n {
            c.spawn(i);
        }
        for i in 0..n {
            c.wait_up(i).await;
        }
        c
    }

    pub fn data_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(&self.nodes[i].name)
    }

    /// Starts node `i` (again).
    pub fn spawn(&mut self, i: usize) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_faultline-store"));
        cmd.arg("--node").arg(&self.nodes[i].name);
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{}", self.nodes[i].port));
        cmd.arg("--data-dir").arg(self.data_dir(i));
        for (j, p) in self.nodes.iter().enumerate() {
            if j != i {
                cmd.arg("--peer")
                    .arg(format!("{}=127.0.0.1:{}", p.name, p.port));
            }
        }
        cmd.args(&self.extra);
        cmd.envs(self.envs[i].iter().map(|(k, v)| (k, v)));
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        self.nodes[i].child = Some(cmd.spawn().expect("spawn faultline-store"));
    }

    /// Waits until node `i` answers /health.
    pub async fn wait_up(&self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let url = format!("http://127.0.0.1:{}/health", self.nodes[i].port);
        while Instant::now() < deadline {
            if let Ok(r) = self.http.get(&url).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        panic!("node {} did not come up", self.nodes[i].name);
    }

    /// SIGKILLs node `i`.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// SIGTERMs node `i` and returns its exit status.
    pub fn terminate(&mut self, i: usize) -> std::process::ExitStatus {
        let mut c = self.nodes[i].child.take().expect("running");
        let pid = nix::unistd::Pid::from_raw(c.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        c.wait().unwrap()
    }

    /// Sends `signal` to node `i` (e.g. SIGSTOP / SIGCONT to pause and resume it).
    pub fn signal(&self, i: usize, signal: nix::sys::signal::Signal) {
        let c = self.nodes[i].child.as_ref().expect("running");
        let pid = nix::unistd::Pid::from_raw(c.id() as i32);
        nix::sys::signal::kill(pid, signal).unwrap();
    }

    /// Restarts node `i` (after kill/terminate) and waits for it.
    pub async fn restart(&mut self, i: usize) {
        self.spawn(i);
        self.wait_up(i).await;
    }

    /// Waits long enough for in-flight replication (a coordinator keeps sending after
    /// it answered W) to reach or fail on every node, so a node restarted next did not
    /// get it by luck.
    pub async fn settle(&self) {
        tokio::time::sleep(Duration::from_millis(400)).await;
    }

    /// POSTs `body` to `path` on node `i`: (status, body).
    pub async fn post(&self, i: usize, path: &str, body: Value) -> (u16, Value) {
        let url = format!("http://127.0.0.1:{}{}", self.nodes[i].port, path);
        let r = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// GET /health of node `i`.
    pub async fn health(&self, i: usize) -> Value {
        let url = format!("http://127.0.0.1:{}/health", self.nodes[i].port);
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The versions node `i` itself holds for `key` (no quorum, no repair).
    pub async fn local(&self, i: usize, key: &str) -> Vec<Value> {
        let (s, b) = self
            .post(i, "/internal/get", json!({"from": "test", "key": key}))
            .await;
        assert_eq!(s, 200, "{b}");
        b["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["value"].clone())
            .collect()
    }

    /// Polls until `f` holds, or panics after `secs` seconds with `what`.
    pub async fn eventually<F, Fut>(&self, secs: u64, what: &str, mut f: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if f().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for: {what}");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}
