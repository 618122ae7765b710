//! `faultline-store`: faultline's reference stores — leaderless (Dynamo style, the
//! default) or, with `--mode primary-backup`, one primary shipping its log to backups
//! (`primary_backup`), or with `--mode multi-leader` every node a leader replicating
//! asynchronously (`multi_leader`), or with `--mode two-phase-commit` keys sharded over
//! the nodes and transactions by two-phase commit (`two_phase_commit`). One process per node; HTTP/JSON for clients (docs/http-kv.md), a framed peer stream on the same
//! port between peers (`wire`, `link`).

mod actor;
mod anti_entropy;
mod config;
mod coordinator;
mod group_commit;
mod handoff;
mod http;
mod link;
mod merkle;
mod multi_leader;
mod node;
mod ops;
mod primary_backup;
mod record_log;
mod replica;
mod ring;
mod storage;
mod two_phase_commit;
mod version;
mod wire;

use std::time::Duration;

use anyhow::Context;
use clap::Parser;

use crate::config::{Args, Fsync, Mode};
use crate::node::Node;
use crate::storage::Storage;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    if let Err(e) = args.validate() {
        eprintln!("faultline-store: {e}");
        std::process::exit(2);
    }
    match args.mode {
        Mode::PrimaryBackup => return primary_backup::run(args, shutdown_signal()).await,
        Mode::MultiLeader => return multi_leader::run(args, shutdown_signal()).await,
        Mode::TwoPhaseCommit => return two_phase_commit::run(args, shutdown_signal()).await,
        Mode::Leaderless => {}
    }
    let window = Duration::from_micros(args.fsync_window_us);
    let storage = Storage::open(&args.data_dir, args.conflict, args.fsync, window)
        .with_context(|| format!("opening data dir {}", args.data_dir.display()))?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let node = Node::new(args.clone(), storage)?;
    tracing::info!(node = %node.name, listen = %args.listen, ring = ?node.ring.nodes(),
        n = args.n, w = args.w, r = args.r, conflict = ?args.conflict, "faultline-store up");

    if args.hinted_handoff.on() {
        tokio::spawn(handoff::run(node.clone(), Duration::from_millis(200)));
    }
    if args.anti_entropy_interval_ms > 0 {
        let every = Duration::from_millis(args.anti_entropy_interval_ms);
        tokio::spawn(anti_entropy::run(node.clone(), every));
    }
    if args.fsync == Fsync::Interval {
        let n = node.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let n = n.clone();
                match tokio::task::spawn_blocking(move || n.storage.sync()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "fsync failed"),
                    Err(e) => tracing::error!(error = %e, "fsync task failed"),
                }
            }
        });
    }

    let app = http::routes()
        .merge(replica::routes())
        .with_state(node.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    node.storage.sync()?;
    tracing::info!("stopped cleanly");
    Ok(())
}
