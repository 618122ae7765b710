//! How one node of a cluster is started ([`Launch`]: program, arguments, environment,
//! network namespace) and the words for how it ended.
//!
//! The process itself is [`nemesis::NodeProcess`], the one node process type: its own
//! session and process group, the owner tags (`FAULTLINE_OWNER`, `FAULTLINE_NODE`) in
//! its environment so `faultline cleanup` finds it if the driver dies, its logs, `pid`,
//! `command` and `exit-status` files in `nodes/<node>/`, and a namespace entered with
//! `setns` before `exec` (no `nsenter` wrapper: the PID and the program are the node's).

use std::path::{Path, PathBuf};

pub use nemesis::process::describe;

/// How to start one node: the program, its arguments and environment, and where.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Launch {
    /// The program to run.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// The network namespace (`ip netns` name) to run it in, or the driver's.
    pub netns: Option<String>,
}

impl Launch {
    /// The process spec for node `name`, logging into `log_dir`.
    pub fn spec(&self, name: &str, log_dir: &Path) -> nemesis::ProcessSpec {
        nemesis::ProcessSpec {
            name: name.to_string(),
            program: self.program.clone(),
            args: self.args.clone(),
            env: self.env.clone(),
            cwd: None,
            log_dir: log_dir.to_path_buf(),
            netns: self.netns.clone(),
        }
    }

    /// The command line as a person would type it (for logs and errors).
    pub fn display(&self) -> String {
        let mut parts = vec![self.program.display().to_string()];
        parts.extend(self.args.iter().cloned());
        let line =
            shlex::try_join(parts.iter().map(String::as_str)).unwrap_or_else(|_| parts.join(" "));
        match &self.netns {
            Some(ns) => format!("{line}  (in network namespace {ns})"),
            None => line,
        }
    }
}

/// The last `max` bytes of a node's stderr, for error messages.
pub fn stderr_tail(log_dir: &Path, max: usize) -> String {
    let text = std::fs::read(log_dir.join("stderr.log")).unwrap_or_default();
    let start = text.len().saturating_sub(max);
    String::from_utf8_lossy(&text[start..]).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_launch_in_a_namespace_runs_its_own_program_and_says_where() {
        let l = Launch {
            program: "/usr/bin/etcd".into(),
            args: vec!["--name".into(), "n 1".into()],
            env: vec![("A".into(), "b".into())],
            netns: Some("fl-x-n1".into()),
        };
        let spec = l.spec("n1", Path::new("/r/nodes/n1"));
        assert_eq!(spec.program, PathBuf::from("/usr/bin/etcd"));
        assert_eq!(spec.netns.as_deref(), Some("fl-x-n1"));
        assert_eq!(spec.log_dir, PathBuf::from("/r/nodes/n1"));
        assert_eq!(
            l.display(),
            "/usr/bin/etcd --name 'n 1'  (in network namespace fl-x-n1)"
        );
    }
}
