//! `faultline serve`: serve the results directory over HTTP for browsing (axum on
//! tokio). Binds 127.0.0.1 by default. Answers only `GET`/`HEAD`, only for files
//! inside the results directory: the path is percent-decoded, a `..` segment
//! (plain or encoded) is refused with 403, and the file's real path (symlinks
//! such as `latest` resolved) must still be inside the results directory. The index
//! is re-rendered when asked for, so new runs show up; a directory without an
//! `index.html` gets a listing.

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::Response;
use clap::Args;
use maud::{html, DOCTYPE};

/// Arguments of `faultline serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The results directory to serve.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// The address to listen on (loopback by default; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
}

/// Runs `faultline serve` until interrupted.
pub fn main(args: ServeArgs, quiet: bool) -> anyhow::Result<i32> {
    let root = args.results.canonicalize().map_err(|e| {
        anyhow::anyhow!(
            "{}: {e}; run `faultline run` first or pass --results DIR",
            args.results.display()
        )
    })?;
    anyhow::ensure!(root.is_dir(), "{} is not a directory", root.display());
    if let Err(e) = crate::report::index::write(&root) {
        tracing::warn!("the results index could not be written: {e:#}");
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.bind)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}; pick another --bind", args.bind))?;
        let addr: SocketAddr = listener.local_addr()?;
        if !addr.ip().is_loopback() && !quiet {
            eprintln!(
                "faultline serve: listening on {addr}, reachable from other machines; the results may hold your stores' data"
            );
        }
        // The first line says where: scripts and tests read it.
        println!("serving {} at http://{addr}/", root.display());
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(Arc::new(root));
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok(0)
    })
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(text))
        .expect("a valid response")
}

/// Answers one request.
async fn answer(State(root): State<Arc<PathBuf>>, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        r.headers_mut()
            .insert(header::ALLOW, "GET, HEAD".parse().expect("a header value"));
        return r;
    }
    let path = uri.path().to_string();
    if matches!(path.as_str(), "/" | "/index.html") {
        let r = root.clone();
        let _ = tokio::task::spawn_blocking(move || crate::report::index::write(&r)).await;
    }
    let target = match resolve(&root, &path) {
        Ok(t) => t,
        Err(Refused::Outside) => {
            return plain(
                StatusCode::FORBIDDEN,
                "forbidden: outside the results directory\n",
            )
        }
        Err(Refused::Missing) => return plain(StatusCode::NOT_FOUND, "not found\n"),
    };
    let (kind, body) = match target {
        Target::File(file) => match tokio::fs::read(&file).await {
            Ok(bytes) => (content_type(&file), bytes),
            Err(_) => return plain(StatusCode::NOT_FOUND, "not found\n"),
        },
        Target::Dir(dir) => {
            let r = root.clone();
            let listing = tokio::task::spawn_blocking(move || listing(&r, &dir))
                .await
                .unwrap_or_default();
            ("text/html; charset=utf-8", listing.into_bytes())
        }
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, kind)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::CONTENT_SECURITY_POLICY, crate::report::page::CSP)
        .body(Body::from(body))
        .expect("a valid response")
}

/// Why a request target is not answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// It names something outside the results directory (403).
    Outside,
    /// Nothing is there (404).
    Missing,
}

/// What a request target names inside the results directory.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// A file (a directory's `index.html` when it has one).
    File(PathBuf),
    /// A directory without an `index.html`.
    Dir(PathBuf),
}

/// The file or directory a request path names inside `root` (canonical).
pub fn resolve(root: &Path, path: &str) -> Result<Target, Refused> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| Refused::Outside)?;
    if decoded.contains('\0') {
        return Err(Refused::Outside);
    }
    let mut rel = PathBuf::new();
    for c in Path::new(decoded.as_ref()).components() {
        match c {
            Component::Normal(p) => rel.push(p),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return Err(Refused::Outside),
        }
    }
    let real = root
        .join(rel)
        .canonicalize()
        .map_err(|_| Refused::Missing)?;
    if !real.starts_with(root) {
        return Err(Refused::Outside);
    }
    if real.is_dir() {
        let index = real.join("index.html");
        return Ok(match index.canonicalize() {
            Ok(i) if i.starts_with(root) && i.is_file() => Target::File(i),
            Ok(_) => return Err(Refused::Outside),
            Err(_) => Target::Dir(real),
        });
    }
    Ok(Target::File(real))
}

/// A listing of directory `dir` (inside `root`), links relative to the root.
fn listing(root: &Path, dir: &Path) -> String {
    let mut entries: Vec<(String, bool)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, e.path().is_dir())
        })
        .collect();
    entries.sort();
    let base = dir.strip_prefix(root).unwrap_or(Path::new(""));
    let href = |name: &str| {
        let p = base.join(name);
        let parts: Vec<String> = p
            .components()
            .map(|c| {
                percent_encoding::utf8_percent_encode(
                    &c.as_os_str().to_string_lossy(),
                    percent_encoding::NON_ALPHANUMERIC,
                )
                .to_string()
            })
            .collect();
        format!("/{}", parts.join("/"))
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "faultline results: /" (base.display().to_string()) } }
            body style="font:14px system-ui,sans-serif;margin:24px" {
                h1 { "/" (base.display().to_string()) }
                p { a href="/" { "all runs" } }
                ul {
                    @for (name, is_dir) in &entries {
                        li { a href=(href(name)) { (name) @if *is_dir { "/" } } }
                    }
                }
            }
        }
    }
    .into_string()
}

fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("jsonl") | Some("log") | Some("txt") | Some("toml") | Some("edn") => {
            "text/plain; charset=utf-8"
        }
        Some("xml") => "application/xml",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_climb_out_of_the_results_are_refused() {
        let base =
            std::env::temp_dir().join(format!("faultline-serve-unit-{}", std::process::id()));
        let root = base.join("results");
        std::fs::create_dir_all(root.join("t/run")).unwrap();
        std::fs::write(root.join("t/run/report.html"), "r").unwrap();
        std::fs::write(base.join("secret"), "s").unwrap();
        std::os::unix::fs::symlink("run", root.join("t/latest")).unwrap();
        std::os::unix::fs::symlink("../../secret", root.join("t/escape")).unwrap();
        let root = root.canonicalize().unwrap();
        for bad in [
            "/../secret",
            "/%2e%2e/secret",
            "/t/%2E%2E/%2e%2e/secret",
            "/t/..%2f..%2fsecret",
            "/%2e%2e%2fsecret",
            "/t/escape",
            "/%00",
            "/%ff",
        ] {
            assert_eq!(resolve(&root, bad), Err(Refused::Outside), "{bad}");
        }
        assert_eq!(resolve(&root, "/nothing-here"), Err(Refused::Missing));
        let real = root.join("t/run/report.html");
        assert_eq!(
            resolve(&root, "/t/latest/report.html"),
            Ok(Target::File(real.clone()))
        );
        assert_eq!(
            resolve(&root, "/t/run/report%2Ehtml"),
            Ok(Target::File(real))
        );
        assert_eq!(resolve(&root, "/t"), Ok(Target::Dir(root.join("t"))));
        std::fs::remove_dir_all(&base).unwrap();
    }
}
