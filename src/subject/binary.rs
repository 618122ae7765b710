//! Finding the `faultline-store` program (and other programs shipped with faultline):
//! next to the running executable (`target/<profile>/`), or one directory up (tests
//! run from `target/<profile>/deps/`), or on `PATH`. When it is missing from a source
//! checkout, it is built once with cargo, and faultline says so.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::SubjectError;

/// The path of program `name` shipped with faultline.
pub fn locate(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let mut candidates = vec![dir.join(name)];
    if let Some(up) = dir.parent() {
        candidates.push(up.join(name));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|p| p.join(name)));
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// The path of `faultline-store`, building it with cargo when faultline runs from a
/// source checkout's `target/` directory and the program is missing.
pub fn faultline_store() -> Result<PathBuf, SubjectError> {
    const NAME: &str = "faultline-store";
    if let Some(p) = locate(NAME) {
        return Ok(p);
    }
    let exe = std::env::current_exe()
        .map_err(|e| SubjectError::Config(format!("cannot find the running executable: {e}")))?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let (profile_dir, target_dir) = match (dir.file_name(), dir.parent()) {
        (Some(p), Some(t)) if p == "release" || p == "debug" => (p.to_owned(), t.to_path_buf()),
        _ => {
            return Err(SubjectError::Config(format!(
                "{NAME} was not found next to {} nor on PATH; build it with \
                 `cargo build --release --workspace`",
                exe.display()
            )))
        }
    };
    if !manifest.is_file() {
        return Err(SubjectError::Config(format!(
            "{NAME} was not found next to {}; build it with `cargo build --release --workspace`",
            exe.display()
        )));
    }
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.arg("build")
        .arg("-p")
        .arg("stores")
        .arg("--bin")
        .arg(NAME)
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir);
    if profile_dir == "release" {
        cmd.arg("--release");
    }
    eprintln!(
        "{NAME} is missing next to {}; building it once: {:?}",
        exe.display(),
        cmd
    );
    let status = cmd
        .status()
        .map_err(|e| SubjectError::Config(format!("could not run cargo to build {NAME}: {e}")))?;
    let built = dir.join(NAME);
    if status.success() && built.is_file() {
        Ok(built)
    } else {
        Err(SubjectError::Config(format!(
            "building {NAME} failed ({status}); build it with `cargo build --release --workspace`"
        )))
    }
}
