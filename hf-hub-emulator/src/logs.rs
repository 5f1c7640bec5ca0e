//! Build and run logs as Server-Sent Events.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::json;

use crate::hub::{Hub, Space};
use crate::runtime::is_intermediate;

const KEEP_ALIVE: Duration = Duration::from_secs(10);
const GRACE: Duration = Duration::from_millis(1500);

fn event(line: &str, ts: &str) -> Bytes {
    Bytes::from(format!(
        "data: {}\n\n",
        json!({ "data": line, "timestamp": ts })
    ))
}

/// `GET /api/spaces/{id}/logs/{build|run}`: replays the buffer, then follows. With `follow=false` the
/// stream ends once the buffer is drained; otherwise it ends a short grace after the phase is over
/// (build: stage no longer BUILDING; run: app no longer starting or running).
pub(crate) fn sse(hub: Arc<Hub>, space: Arc<Space>, run: bool, follow: bool) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    let shutdown = hub.shutdown.clone();
    tokio::spawn(async move {
        let mut changed = space.changed.subscribe();
        let mut epoch = None;
        let mut sent = 0usize;
        let mut over_since: Option<tokio::time::Instant> = None;
        loop {
            let (batch, over) = {
                let st = space.lock();
                let buf = if run { &st.run_log } else { &st.build_log };
                if epoch != Some(buf.epoch) {
                    epoch = Some(buf.epoch);
                    sent = 0;
                }
                let batch: Vec<Bytes> = buf.lines[sent.min(buf.lines.len())..]
                    .iter()
                    .map(|(l, t)| event(l, t))
                    .collect();
                sent = buf.lines.len();
                let over = if run {
                    !is_intermediate(&st.stage) && st.stage != "RUNNING"
                } else {
                    !is_intermediate(&st.stage) || st.stage == "APP_STARTING"
                };
                (batch, over)
            };
            for b in batch {
                if tx.send(Ok(b)).await.is_err() {
                    return;
                }
            }
            if !follow {
                return;
            }
            if over {
                let since = *over_since.get_or_insert_with(tokio::time::Instant::now);
                if since.elapsed() >= GRACE {
                    return;
                }
            } else {
                over_since = None;
            }
            let wait = if over_since.is_some() {
                GRACE / 3
            } else {
                KEEP_ALIVE
            };
            tokio::select! {
                r = changed.changed() => if r.is_err() { return },
                _ = tokio::time::sleep(wait) => {
                    if over_since.is_none() && tx.send(Ok(Bytes::from_static(b"data: \n\n"))).await.is_err() {
                        return;
                    }
                }
                _ = shutdown.cancelled() => return,
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}
