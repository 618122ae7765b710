//! `faultline serve`: serve the results directory over HTTP for browsing. Binds
//! 127.0.0.1 by default; answers only `GET`/`HEAD` for files inside the results
//! directory (after percent-decoding and resolving symlinks such as `latest`), and
//! refuses anything else, `..` included, with 403 or 404.

use std::path::{Component, Path, PathBuf};

use clap::Args;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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
pub fn main(args: ServeArgs, _quiet: bool) -> anyhow::Result<i32> {
    let root = args.results.canonicalize().map_err(|e| {
        anyhow::anyhow!(
            "{}: {e}; run `faultline run` first or pass --results DIR",
            args.results.display()
        )
    })?;
    let _ = crate::report::index::write(&root);
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(&args.bind).await.map_err(|e| {
            anyhow::anyhow!("cannot listen on {}: {e}; pick another --bind", args.bind)
        })?;
        println!(
            "serving {} at http://{}/",
            root.display(),
            listener.local_addr()?
        );
        loop {
            let (stream, _) = tokio::select! {
                r = listener.accept() => r?,
                _ = tokio::signal::ctrl_c() => return Ok(0),
            };
            let root = root.clone();
            tokio::spawn(async move {
                if let Err(e) = answer(stream, &root).await {
                    tracing::debug!("serve: {e}");
                }
            });
        }
    })
}

/// Reads one request and answers it.
async fn answer(mut stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let mut buf = vec![0u8; 8192];
    let n = stream.read(&mut buf).await?;
    let head = String::from_utf8_lossy(&buf[..n]);
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, kind, body) = if method != "GET" && method != "HEAD" {
        (405, "text/plain", b"only GET and HEAD\n".to_vec())
    } else {
        match resolve(root, target) {
            Ok(file) => match tokio::fs::read(&file).await {
                Ok(bytes) => (200, content_type(&file), bytes),
                Err(_) => (404, "text/plain", b"not found\n".to_vec()),
            },
            Err(code) => (
                code,
                "text/plain",
                if code == 403 {
                    b"forbidden\n".to_vec()
                } else {
                    b"not found\n".to_vec()
                },
            ),
        }
    };
    let reason = match status {
        200 => "OK",
        403 => "Forbidden",
        405 => "Method Not Allowed",
        _ => "Not Found",
    };
    let header = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(header.as_bytes()).await?;
    if method != "HEAD" {
        stream.write_all(&body).await?;
    }
    stream.shutdown().await
}

/// The file a request target names inside `root`, or the status to answer.
pub fn resolve(root: &Path, target: &str) -> Result<PathBuf, u16> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(path).ok_or(403u16)?;
    let mut rel = PathBuf::new();
    for c in Path::new(&decoded).components() {
        match c {
            Component::Normal(p) => rel.push(p),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return Err(403),
        }
    }
    let mut full = root.join(rel);
    if full.is_dir() {
        full = full.join("index.html");
    }
    let real = full.canonicalize().map_err(|_| 404u16)?;
    if !real.starts_with(root) {
        return Err(403);
    }
    Ok(real)
}

/// Decodes `%XX` escapes; `None` for malformed escapes or a NUL byte.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    if out.contains(&0) {
        return None;
    }
    String::from_utf8(out).ok()
}

fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("jsonl") | Some("log") | Some("txt") => "text/plain; charset=utf-8",
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
        let root = std::env::temp_dir().canonicalize().unwrap();
        assert_eq!(resolve(&root, "/../etc/passwd"), Err(403));
        assert_eq!(resolve(&root, "/%2e%2e/etc/passwd"), Err(403));
        assert_eq!(resolve(&root, "/a/%2E%2E/%2e%2e/etc"), Err(403));
        assert_eq!(resolve(&root, "/%00"), Err(403));
        assert_eq!(resolve(&root, "/no-such-file-here"), Err(404));
    }
}
