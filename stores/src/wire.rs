//! The peer stream's wire format: length-prefixed JSON frames carrying numbered
//! requests and replies, so many replica calls share one TCP connection.
//!
//! A frame is a 4-byte big-endian length followed by that many bytes of JSON
//! (`{"id":7,"body":{"get":{"from":"n1","key":"k"}}}`). Replies carry the id of their
//! request and may arrive in any order.

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::version::Version;

/// The largest frame either side accepts (a bigger length means a broken peer).
pub const MAX_FRAME: usize = 64 << 20;

/// Flush at most this many queued bytes per write.
const BATCH_BYTES: usize = 256 << 10;

/// The `Upgrade` token that turns an HTTP connection into a peer stream.
pub const UPGRADE_TOKEN: &str = "faultline-peer/1";

/// The path a peer asks to upgrade.
pub const STREAM_PATH: &str = "/internal/stream";

/// A call from one replica to another.
// Externally tagged (`{"put":{...}}`): an internally tagged enum would make serde
// buffer every frame before decoding it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Merge `versions` into the receiver's copy of `key`; with `hint_for`, the receiver
    /// is a sloppy-quorum fallback that also keeps a hint for that node.
    Put {
        /// The sending node.
        from: String,
        /// The key.
        key: String,
        /// The versions to merge.
        versions: Vec<Version>,
        /// The node this fallback write is meant for.
        hint_for: Option<String>,
    },
    /// The receiver's versions of `key`.
    Get {
        /// The sending node.
        from: String,
        /// The key.
        key: String,
    },
}

/// The answer to a [`Request`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// The put is applied (and durable as `--fsync` promises).
    Stored,
    /// The versions a replica holds.
    Versions {
        /// The versions.
        versions: Vec<Version>,
    },
    /// The receiver failed to apply the request.
    Failed {
        /// What went wrong.
        error: String,
    },
}

#[derive(Serialize, Deserialize)]
struct Frame<T> {
    id: u64,
    body: T,
}

/// Encodes one frame (length prefix included).
pub fn encode<T: Serialize>(id: u64, body: &T) -> Vec<u8> {
    let mut out = vec![0u8; 4];
    serde_json::to_writer(&mut out, &Frame { id, body }).expect("frames serialise");
    let len = (out.len() - 4) as u32;
    out[..4].copy_from_slice(&len.to_be_bytes());
    out
}

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The connection failed or closed.
    #[error("peer stream: {0}")]
    Io(#[from] std::io::Error),
    /// The length prefix is beyond [`MAX_FRAME`].
    #[error("peer stream: frame of {0} bytes is over the limit")]
    TooLarge(usize),
    /// The frame is not the JSON expected.
    #[error("peer stream: bad frame ({0})")]
    Bad(#[from] serde_json::Error),
}

/// Reads one frame; `Ok(None)` at a clean end of stream between frames.
pub async fn read<T, R>(reader: &mut R) -> Result<Option<(u64, T)>, WireError>
where
    T: for<'de> Deserialize<'de>,
    R: AsyncRead + Unpin,
{
    let mut len = [0u8; 4];
    match reader.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(WireError::TooLarge(len));
    }
    let mut buf = vec![0u8; len];
    reader.read_exact(&mut buf).await?;
    let frame: Frame<T> = serde_json::from_slice(&buf)?;
    Ok(Some((frame.id, frame.body)))
}

/// Writes queued (encoded) frames until the queue closes, as many per write as are
/// waiting; stops at the first failed write.
pub async fn write_frames<W: AsyncWrite + Unpin>(
    mut out: W,
    mut queue: mpsc::UnboundedReceiver<Vec<u8>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some(frame) = queue.recv().await {
        buf.extend_from_slice(&frame);
        // Let the tasks that are ready run first: under load they queue more frames,
        // and one write then carries them all.
        tokio::task::yield_now().await;
        while buf.len() < BATCH_BYTES {
            match queue.try_recv() {
                Ok(more) => buf.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        out.write_all(&buf).await?;
        buf.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn frames_written_back_to_back_read_back_in_order() {
        let put = Request::Put {
            from: "n1".into(),
            key: "k".into(),
            versions: vec![Version {
                ctx: Default::default(),
                value: json!({"a": [1, "é"]}),
                ts: 3,
                actor: "n1#0".into(),
                dot: 1,
            }],
            hint_for: Some("n3".into()),
        };
        let get = Request::Get {
            from: "n2".into(),
            key: "x".into(),
        };
        let mut bytes = encode(1, &put);
        bytes.extend(encode(2, &get));
        let mut r = &bytes[..];
        assert_eq!(read(&mut r).await.unwrap(), Some((1, put)));
        assert_eq!(read(&mut r).await.unwrap(), Some((2, get)));
        assert_eq!(read::<Request, _>(&mut r).await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_oversized_or_garbled_frame_is_an_error_not_a_panic() {
        let mut r = &[0xffu8, 0xff, 0xff, 0xff][..];
        assert!(matches!(
            read::<Reply, _>(&mut r).await,
            Err(WireError::TooLarge(_))
        ));
        let mut bytes = 5u32.to_be_bytes().to_vec();
        bytes.extend(b"nope!");
        let mut r = &bytes[..];
        assert!(matches!(
            read::<Reply, _>(&mut r).await,
            Err(WireError::Bad(_))
        ));
        let mut cut = encode(9, &Reply::Stored);
        cut.truncate(cut.len() - 2);
        let mut r = &cut[..];
        assert!(read::<Reply, _>(&mut r).await.is_err());
    }
}
