//! `--cluster FILE`: a cluster described in TOML ([`crate::cluster::file`]) whose nodes
//! speak the HTTP-KV protocol. faultline starts, watches and stops its processes.

use std::path::{Path, PathBuf};

use crate::cluster::{file, Cluster};
use crate::recorder::Recorder;

use super::http::HttpNodes;
use super::{FaultSurface, Started, Subject, SubjectConfig, SubjectError};

/// A cluster started from a cluster file.
#[derive(Debug)]
pub struct ClusterFileSubject {
    path: PathBuf,
    config: SubjectConfig,
    file: file::ClusterFile,
    nodes: HttpNodes,
    cluster: Option<Cluster>,
}

impl ClusterFileSubject {
    /// Reads `path`; errors name the file and the line.
    pub fn load(path: &Path, config: &SubjectConfig) -> Result<ClusterFileSubject, SubjectError> {
        let f = file::load(path, &config.nodes_dir).map_err(SubjectError::Config)?;
        let names = f.specs.iter().map(|s| s.name.clone()).collect();
        let nodes = HttpNodes::new(names, f.clients.clone(), config.op_timeout)?;
        Ok(ClusterFileSubject {
            path: path.to_path_buf(),
            config: config.clone(),
            file: f,
            nodes,
            cluster: None,
        })
    }
}

#[async_trait::async_trait]
impl Subject for ClusterFileSubject {
    fn name(&self) -> &str {
        "cluster-file"
    }

    async fn start(&mut self, _recorder: Recorder) -> Result<Started, SubjectError> {
        let timeout = self.file.ready_timeout.unwrap_or(self.config.ready_timeout);
        let cluster =
            Cluster::start(self.file.specs.clone(), &self.config.nodes_dir, timeout).await?;
        let faults = FaultSurface::of_cluster(&cluster);
        self.cluster = Some(cluster);
        Ok(self.nodes.started(faults))
    }

    async fn stop(&mut self) {
        if let Some(c) = &self.cluster {
            c.stop().await;
        }
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "store": "cluster-file",
            "file": self.path.display().to_string(),
            "nodes": self.file.specs.iter().zip(self.nodes.urls()).map(|(s, url)| serde_json::json!({
                "name": s.name,
                "command": s.launch.display(),
                "ready": s.ready.to_string(),
                "client": url,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The kind `--cluster FILE` starts.
pub struct Kind;

/// The kind the plan uses for `--cluster FILE`.
pub static KIND: Kind = Kind;

impl super::kind::StoreKind for Kind {
    fn name(&self) -> &'static str {
        "cluster-file"
    }

    fn about(&self) -> &'static str {
        "a cluster described in a TOML file (--cluster FILE) whose nodes speak HTTP-KV"
    }

    fn workloads(&self) -> &'static [&'static str] {
        workloads::HTTP_KV_NAMES
    }

    fn faults(&self, _settings: &super::kind::StoreSettings) -> &'static [nemesis::Fault] {
        &[
            nemesis::Fault::Kill,
            nemesis::Fault::Stop,
            nemesis::Fault::Pause,
        ]
    }

    fn check(&self, _s: &super::kind::StoreSettings) -> Result<(), String> {
        Ok(())
    }

    fn open(&self, config: &SubjectConfig) -> Result<Box<dyn Subject>, SubjectError> {
        let file = config.cluster_file.as_deref().ok_or_else(|| {
            SubjectError::Config("the cluster-file store needs --cluster FILE".into())
        })?;
        Ok(Box::new(ClusterFileSubject::load(file, config)?))
    }
}
