//! The PostgreSQL server faultline runs for `--store postgres`: Debian's `postgresql`
//! binaries (found in `/usr/lib/postgresql/<version>/bin` or on `PATH`), a data
//! directory made by `initdb` under `nodes/n1/data`, and `postgres -D` listening on
//! one loopback port, with no Unix socket.
//!
//! PostgreSQL refuses to run as root, so when faultline runs as root both `initdb` and
//! `postgres` run as the unprivileged `postgres` user (Debian's package creates it;
//! so does `scripts/setup.sh`) through `setpriv`, which execs in place: the node's PID
//! is the postmaster's, and the nemesis's signals reach it directly. The data
//! directory is owned by that user; the directories above it must let it pass.
//!
//! Settings: `trust` authentication (loopback only, a throw-away cluster), `fsync=off`
//! (the nemesis kills processes, not the machine: the kernel keeps what was written,
//! so recovery after `kill -9` is still tested), `deadlock_timeout=100ms` (so a
//! deadlock is reported as a failure well within an operation's timeout). Stopped
//! with SIGINT (PostgreSQL's fast shutdown; SIGTERM would wait for clients).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::sys::signal::Signal;
use nix::unistd::{Uid, User};

use crate::cluster::{Launch, NodeSpec, ReadyCheck};

/// The unprivileged user the server runs as when faultline runs as root.
pub const USER: &str = "postgres";

/// Where the PostgreSQL programs are, and who runs them.
#[derive(Clone, Debug)]
pub struct Server {
    /// The directory holding `initdb` and `postgres`.
    pub bin: PathBuf,
    /// The user to switch to (`None`: faultline is not root, runs them as itself).
    pub user: Option<User>,
}

const MISSING: &str =
    "PostgreSQL is not installed (Debian: apt-get install postgresql, or run scripts/setup.sh)";

impl Server {
    /// The installed server, or a one-line reason it cannot run.
    pub fn find() -> Result<Server, String> {
        let bin = bin_dir().ok_or_else(|| MISSING.to_string())?;
        let user = if Uid::effective().is_root() {
            match User::from_name(USER) {
                Ok(Some(u)) => Some(u),
                _ => {
                    return Err(format!(
                        "PostgreSQL will not run as root and there is no \"{USER}\" user to run it as; run scripts/setup.sh (or useradd --system {USER})"
                    ))
                }
            }
        } else {
            None
        };
        Ok(Server { bin, user })
    }

    /// `program` of this installation with `args`, as the server's user.
    pub fn launch(&self, program: &str, args: Vec<String>) -> Launch {
        let program = self.bin.join(program);
        match &self.user {
            Some(u) => {
                let mut wrapped = vec![
                    format!("--reuid={}", u.uid),
                    format!("--regid={}", u.gid),
                    "--init-groups".to_string(),
                    "--".to_string(),
                    program.display().to_string(),
                ];
                wrapped.extend(args);
                Launch {
                    program: PathBuf::from("setpriv"),
                    args: wrapped,
                    env: vec![("HOME".into(), "/tmp".into())],
                    netns: None,
                }
            }
            None => Launch {
                program,
                args,
                env: Vec::new(),
                netns: None,
            },
        }
    }

    /// Makes a fresh cluster in `data` with `initdb` (its output in `log`).
    pub async fn initdb(&self, data: &Path, log: &Path) -> Result<(), String> {
        std::fs::create_dir_all(data)
            .map_err(|e| format!("cannot create {}: {e}", data.display()))?;
        std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot chmod {}: {e}", data.display()))?;
        if let Some(u) = &self.user {
            nix::unistd::chown(data, Some(u.uid), Some(u.gid))
                .map_err(|e| format!("cannot give {} to {USER}: {e}", data.display()))?;
            if let Some(blocked) = unreachable_ancestor(data, u) {
                return Err(format!(
                    "the {USER} user cannot reach {} (directory {} does not let others pass); put --results somewhere others can traverse, or chmod o+x it",
                    data.display(),
                    blocked.display()
                ));
            }
        }
        let launch = self.launch(
            "initdb",
            [
                "-D",
                &data.display().to_string(),
                "-U",
                USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        );
        let out = tokio::process::Command::new(&launch.program)
            .args(&launch.args)
            .envs(launch.env.iter().cloned())
            .output()
            .await
            .map_err(|e| format!("cannot run {}: {e}", launch.display()))?;
        let mut text = out.stdout.clone();
        text.extend_from_slice(&out.stderr);
        let _ = std::fs::write(log, &text);
        if !out.status.success() {
            let tail = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "initdb failed ({}): {}",
                out.status,
                tail.trim().lines().last().unwrap_or("no output")
            ));
        }
        Ok(())
    }

    /// The node that runs the server on `data`, listening on 127.0.0.1:`port`.
    pub fn node(&self, name: &str, data: &Path, port: u16) -> NodeSpec {
        let args = [
            "-D".to_string(),
            data.display().to_string(),
            "-p".to_string(),
            port.to_string(),
        ]
        .into_iter()
        .chain(
            [
                "listen_addresses=127.0.0.1",
                "unix_socket_directories=",
                "fsync=off",
                "max_connections=300",
                "deadlock_timeout=100ms",
            ]
            .into_iter()
            .flat_map(|c| ["-c".to_string(), c.to_string()]),
        )
        .collect();
        NodeSpec {
            name: name.to_string(),
            launch: self.launch("postgres", args),
            ready: ReadyCheck::Tcp(format!("127.0.0.1:{port}")),
            stop_signal: Signal::SIGINT,
            port: Some(port),
        }
    }
}

/// The installation's `bin` directory: the newest `/usr/lib/postgresql/<v>/bin`, or
/// the directory of `postgres` on `PATH`.
pub fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("postgres").is_file() && bin.join("initdb").is_file()).then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|d| d.join("postgres").is_file() && d.join("initdb").is_file())
    })
}

/// The first directory above `path` that `user` may not pass through, if any.
fn unreachable_ancestor(path: &Path, user: &User) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    path.ancestors().skip(1).find_map(|dir| {
        let m = std::fs::metadata(dir).ok()?;
        let mode = m.mode();
        let passes = if m.uid() == user.uid.as_raw() {
            mode & 0o100 != 0
        } else if m.gid() == user.gid.as_raw() {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        (!passes).then(|| dir.to_path_buf())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_run_starts_postgres_as_the_postgres_user_in_place() {
        let server = Server {
            bin: PathBuf::from("/usr/lib/postgresql/15/bin"),
            user: User::from_name("root").ok().flatten(),
        };
        let node = server.node("n1", Path::new("/r/nodes/n1/data"), 5999);
        assert_eq!(node.launch.program, PathBuf::from("setpriv"));
        assert!(node.launch.args.contains(&"--reuid=0".to_string()));
        let i = node.launch.args.iter().position(|a| a == "--").unwrap();
        assert_eq!(
            node.launch.args[i + 1],
            "/usr/lib/postgresql/15/bin/postgres"
        );
        assert!(node
            .launch
            .args
            .contains(&"listen_addresses=127.0.0.1".to_string()));
        assert_eq!(node.stop_signal, Signal::SIGINT);
    }

    #[test]
    fn a_private_directory_above_the_data_is_named() {
        let dir = std::env::temp_dir().join(format!("faultline-pg-unit-{}", std::process::id()));
        let data = dir.join("nodes/n1/data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let nobody = User::from_name("nobody").ok().flatten();
        if let Some(nobody) = nobody {
            assert_eq!(unreachable_ancestor(&data, &nobody), Some(dir.clone()));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
