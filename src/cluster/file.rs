//! `--cluster FILE`: a TOML description of any cluster faultline should start.
//!
//! ```toml
//! [cluster]
//! nodes = ["n1", "n2", "n3"]            # or a count: nodes = 3 (named n1..n3)
//! command = "{exe_dir}/faultline-store --node {node} --listen 127.0.0.1:{port} --data-dir {data_dir} {peer_flags}"
//! ready = "http://127.0.0.1:{port}/health"   # or "tcp://127.0.0.1:{port}"
//! client = "http://127.0.0.1:{port}"         # where the HTTP-KV client sends requests
//! stop_signal = "SIGTERM"                    # then SIGKILL after 5 s
//! ready_timeout = "30s"
//! base_port = 7001                           # optional; free ports are chosen otherwise
//!
//! [node.n2]                                  # optional per-node overrides
//! port = 7010
//! ```
//!
//! Placeholders in `command`, `ready` and `client`: `{node}`, `{index}` (0-based),
//! `{port}`, `{peer_ports}` (the other nodes' ports, comma-separated), `{peers}`
//! (`n2=127.0.0.1:7002,n3=...`), `{data_dir}`, `{exe_dir}` (where the faultline
//! executable lives). The token `{peer_flags}` on its own expands to
//! `--peer n2=127.0.0.1:7002 --peer n3=...`. The command is split like a shell would
//! (quotes), but no shell runs it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;
use serde::Deserialize;

use super::{ports, Launch, NodeSpec, ReadyCheck};

/// The most nodes a cluster file may start (all on this machine).
const MAX_NODES: usize = 1000;

/// The file's shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    cluster: ClusterDoc,
    #[serde(default)]
    node: BTreeMap<String, NodeDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Nodes {
    Count(usize),
    Names(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterDoc {
    nodes: Nodes,
    command: String,
    ready: String,
    client: Option<String>,
    stop_signal: Option<String>,
    ready_timeout: Option<String>,
    base_port: Option<u16>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeDoc {
    command: Option<String>,
    ready: Option<String>,
    client: Option<String>,
    port: Option<u16>,
    stop_signal: Option<String>,
}

/// A cluster file, resolved: node specs, client URLs and the ready timeout.
#[derive(Debug, Clone)]
pub struct ClusterFile {
    /// The node specs, in order.
    pub specs: Vec<NodeSpec>,
    /// Each node's HTTP-KV base URL, in the same order.
    pub clients: Vec<String>,
    /// How long nodes may take to become ready (`None`: the command line's).
    pub ready_timeout: Option<Duration>,
}

/// Reads and resolves `path`; node data directories go under `nodes_dir/<node>/data`.
pub fn load(path: &Path, nodes_dir: &Path) -> Result<ClusterFile, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    parse(&text, nodes_dir).map_err(|e| format!("{shown}: {e}"))
}

/// Resolves the text of a cluster file.
pub fn parse(text: &str, nodes_dir: &Path) -> Result<ClusterFile, String> {
    let doc: FileDoc = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
    let c = &doc.cluster;
    let names: Vec<String> = match &c.nodes {
        Nodes::Count(0) => return Err("[cluster] nodes: expected at least one node".into()),
        Nodes::Count(n) if *n > MAX_NODES => {
            return Err(format!(
                "[cluster] nodes = {n}; expected at most {MAX_NODES} (every node is a process on this machine with a port of its own)"
            ))
        }
        Nodes::Count(n) => (1..=*n).map(|i| format!("n{i}")).collect(),
        Nodes::Names(v) if v.is_empty() => {
            return Err("[cluster] nodes: expected at least one node name".into())
        }
        Nodes::Names(v) => v.clone(),
    };
    if names.len() > MAX_NODES {
        return Err(format!(
            "[cluster] nodes: {} nodes; expected at most {MAX_NODES} (every node is a process on this machine with a port of its own)",
            names.len()
        ));
    }
    for name in doc.node.keys() {
        if !names.contains(name) {
            return Err(format!(
                "[node.{name}]: no node \"{name}\" in [cluster] nodes ({})",
                names.join(", ")
            ));
        }
    }
    let ready_timeout = c
        .ready_timeout
        .as_deref()
        .map(|t| {
            humantime::parse_duration(t).map_err(|e| {
                format!("[cluster] ready_timeout \"{t}\": {e} (expected e.g. \"30s\")")
            })
        })
        .transpose()?;
    let free =
        ports::free_ports(names.len()).map_err(|e| format!("cannot find free ports: {e}"))?;
    let none = NodeDoc::default();
    let port_of = |i: usize, name: &str| -> Result<u16, String> {
        let d = doc.node.get(name).unwrap_or(&none);
        match (d.port, c.base_port) {
            (Some(p), _) => Ok(p),
            (None, Some(b)) => u16::try_from(b as usize + i)
                .map_err(|_| format!("[cluster] base_port {b}: ports run past 65535")),
            (None, None) => Ok(free[i]),
        }
    };
    let ports: Vec<u16> = names
        .iter()
        .enumerate()
        .map(|(i, n)| port_of(i, n))
        .collect::<Result<_, _>>()?;
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let mut specs = Vec::new();
    let mut clients = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let d = doc.node.get(name).unwrap_or(&none);
        let data_dir = nodes_dir.join(name).join("data");
        let peers: Vec<(String, u16)> = names
            .iter()
            .zip(&ports)
            .filter(|(n, _)| *n != name)
            .map(|(n, p)| (n.clone(), *p))
            .collect();
        let vars = Vars {
            node: name,
            index: i,
            port: ports[i],
            peers: &peers,
            data_dir: &data_dir,
            exe_dir: &exe_dir,
        };
        let where_ = |field: &str| match d.command.is_some() && field == "command" {
            true => format!("[node.{name}] {field}"),
            false => format!("[cluster] {field}"),
        };
        let command = d.command.as_deref().unwrap_or(&c.command);
        let tokens = shlex::split(command)
            .ok_or_else(|| format!("{}: unbalanced quotes in \"{command}\"", where_("command")))?;
        let mut argv = Vec::new();
        for t in tokens {
            if t == "{peer_flags}" {
                for (n, p) in &peers {
                    argv.push("--peer".to_string());
                    argv.push(format!("{n}=127.0.0.1:{p}"));
                }
            } else {
                argv.push(
                    vars.expand(&t)
                        .map_err(|e| format!("{}: {e}", where_("command")))?,
                );
            }
        }
        if argv.is_empty() {
            return Err(format!("{}: the command is empty", where_("command")));
        }
        let program = PathBuf::from(argv.remove(0));
        let ready_t = d.ready.as_deref().unwrap_or(&c.ready);
        let ready_s = vars.expand(ready_t).map_err(|e| format!("ready: {e}"))?;
        let ready = if let Some(addr) = ready_s.strip_prefix("tcp://") {
            ReadyCheck::Tcp(addr.to_string())
        } else if ready_s.starts_with("http://") || ready_s.starts_with("https://") {
            ReadyCheck::Http(ready_s)
        } else {
            return Err(format!(
                "ready \"{ready_t}\": expected an http:// URL or tcp://HOST:PORT"
            ));
        };
        let client_t = d
            .client
            .as_deref()
            .or(c.client.as_deref())
            .unwrap_or("http://127.0.0.1:{port}");
        clients.push(vars.expand(client_t).map_err(|e| format!("client: {e}"))?);
        let sig = d
            .stop_signal
            .as_deref()
            .or(c.stop_signal.as_deref())
            .unwrap_or("SIGTERM");
        specs.push(NodeSpec {
            name: name.clone(),
            launch: Launch {
                program,
                args: argv,
                env: Vec::new(),
                netns: None,
            },
            ready,
            stop_signal: parse_signal(sig)?,
            port: Some(ports[i]),
        });
    }
    Ok(ClusterFile {
        specs,
        clients,
        ready_timeout,
    })
}

/// `SIGTERM`, `TERM`, `sigint`, ... as a signal.
fn parse_signal(s: &str) -> Result<Signal, String> {
    let up = s.to_ascii_uppercase();
    let full = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    full.parse::<Signal>().map_err(|_| {
        format!("stop_signal \"{s}\": expected a signal name such as SIGTERM or SIGINT")
    })
}

struct Vars<'a> {
    node: &'a str,
    index: usize,
    port: u16,
    peers: &'a [(String, u16)],
    data_dir: &'a Path,
    exe_dir: &'a Path,
}

impl Vars<'_> {
    fn expand(&self, t: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = t;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("unclosed '{{' in \"{t}\""))?;
            let name = &rest[open + 1..open + close];
            out.push_str(&match name {
                "node" => self.node.to_string(),
                "index" => self.index.to_string(),
                "port" => self.port.to_string(),
                "host" => "127.0.0.1".to_string(),
                "peer_ports" => self
                    .peers
                    .iter()
                    .map(|(_, p)| p.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                "peers" => self
                    .peers
                    .iter()
                    .map(|(n, p)| format!("{n}=127.0.0.1:{p}"))
                    .collect::<Vec<_>>()
                    .join(","),
                "data_dir" => self.data_dir.display().to_string(),
                "exe_dir" => self.exe_dir.display().to_string(),
                other => {
                    return Err(format!(
                        "unknown placeholder {{{other}}} in \"{t}\"; expected one of {{node}} {{index}} \
                         {{port}} {{host}} {{peer_ports}} {{peers}} {{peer_flags}} {{data_dir}} {{exe_dir}}"
                    ))
                }
            });
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[cluster]
nodes = ["a", "b"]
command = "store --name {node} --port {port} --peers {peers} --dir '{data_dir}' {peer_flags}"
ready = "tcp://127.0.0.1:{port}"
base_port = 9100
stop_signal = "INT"
ready_timeout = "3s"

[node.b]
port = 9200
"#;

    #[test]
    fn a_cluster_file_expands_its_templates_per_node() {
        let f = parse(GOOD, Path::new("/r/nodes")).unwrap();
        assert_eq!(f.specs.len(), 2);
        let a = &f.specs[0];
        assert_eq!(a.launch.program, PathBuf::from("store"));
        assert_eq!(
            a.launch.args,
            [
                "--name",
                "a",
                "--port",
                "9100",
                "--peers",
                "b=127.0.0.1:9200",
                "--dir",
                "/r/nodes/a/data",
                "--peer",
                "b=127.0.0.1:9200"
            ]
        );
        assert_eq!(f.specs[1].port, Some(9200));
        assert_eq!(a.ready, ReadyCheck::Tcp("127.0.0.1:9100".into()));
        assert_eq!(a.stop_signal, Signal::SIGINT);
        assert_eq!(f.clients[1], "http://127.0.0.1:9200");
        assert_eq!(f.ready_timeout, Some(Duration::from_secs(3)));
    }

    #[test]
    fn a_bad_cluster_file_names_the_line_and_what_was_expected() {
        let e = parse(
            "[cluster]\nnodes = 2\ncommand = 5\nready = \"tcp://x\"\n",
            Path::new("/"),
        )
        .unwrap_err();
        assert!(e.contains("line 3"), "{e}");
        let e = parse(
            "[cluster]\nnodes = 2\ncommand = \"x {nope}\"\nready = \"tcp://x\"\n",
            Path::new("/"),
        )
        .unwrap_err();
        assert!(e.contains("unknown placeholder {nope}"), "{e}");
        let e = parse(
            "[cluster]\nnodes = 1\ncommand = \"x\"\nready = \"x\"\ncolour = 1\n",
            Path::new("/"),
        )
        .unwrap_err();
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn a_cluster_of_absurdly_many_nodes_is_refused_before_anything_is_allocated() {
        // Found while writing the cluster_toml fuzz target: a node count from the file
        // sized every list of the cluster (a memory exhaustion, not an error).
        for nodes in ["99999999999999", "1001"] {
            let text =
                format!("[cluster]\nnodes = {nodes}\ncommand = \"x\"\nready = \"tcp://x\"\n");
            let e = parse(&text, Path::new("/")).unwrap_err();
            assert!(e.contains("expected at most 1000"), "{e}");
        }
        let many = format!(
            "[cluster]\nnodes = [{}]\ncommand = \"x\"\nready = \"tcp://x\"\n",
            (0..1001)
                .map(|i| format!("\"n{i}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(parse(&many, Path::new("/"))
            .unwrap_err()
            .contains("expected at most 1000"));
    }
}
