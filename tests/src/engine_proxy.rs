//! A proxy in front of the real Docker engine (`DOCKER_HOST=tcp://127.0.0.1:PORT` to the engine's
//! unix socket) that fails the next `POST`s to given routes (an image build, a container's
//! creation) one fault each, in order, then passes everything through: a fault while an engine
//! is in use, where [`crate::fake_engine`] covers the probe. Each connection carries one request
//! (`Connection: close` is set, so the CLI opens a new one for the next request and each request
//! is seen); upgraded connections (BuildKit's session, attach) are passed through untouched.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UnixStream};

use crate::fake_engine::{Server, listen, read_head};

/// The route of `POST /v1.41/build?…` (an image build).
pub const BUILD: &str = "/build";
/// The route of `POST /v1.41/containers/create?…` (`docker run`).
pub const CREATE: &str = "/containers/create";

/// What the proxy answers a request to its route with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProxyFault {
    /// A 500 with the engine's JSON `message` ([`PROXY_FAULT_MESSAGE`]).
    Status500,
    /// The connection closed without an answer.
    Cut,
}

/// The message of the proxy's 500.
pub const PROXY_FAULT_MESSAGE: &str = "engine proxy: failed on purpose (fault injected)";

/// A running proxy; stops (its connections with it) when dropped.
pub struct EngineProxy {
    /// `tcp://127.0.0.1:PORT`, for `DOCKER_HOST`.
    pub host: String,
    faults: Arc<Mutex<VecDeque<(&'static str, ProxyFault)>>>,
    _server: Server,
}

/// The engine's socket: `DOCKER_HOST` when it is a `unix://` address, else the default one.
pub fn engine_socket() -> PathBuf {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/var/run/docker.sock"))
}

impl EngineProxy {
    /// A proxy to the engine at `socket` that fails the next `POST`s with `faults` (a route,
    /// [`BUILD`] or [`CREATE`], and its fault), in order: the first fault waits for its route.
    pub async fn start(socket: PathBuf, faults: &[(&'static str, ProxyFault)]) -> EngineProxy {
        let faults = Arc::new(Mutex::new(faults.iter().copied().collect::<VecDeque<_>>()));
        let pending = faults.clone();
        let server = listen(move |stream| serve(stream, socket.clone(), pending.clone())).await;
        EngineProxy {
            host: server.host.clone(),
            faults,
            _server: server,
        }
    }

    /// The faults not used yet.
    pub fn faults_left(&self) -> usize {
        self.faults.lock().expect("the fault queue").len()
    }
}

async fn serve(
    mut client: TcpStream,
    socket: PathBuf,
    faults: Arc<Mutex<VecDeque<(&'static str, ProxyFault)>>>,
) {
    let Some((head, end)) = read_head(&mut client).await else {
        return;
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut words = text.split_whitespace();
    let (method, path) = (
        words.next().unwrap_or_default(),
        words.next().unwrap_or_default(),
    );
    let route = path.split('?').next().unwrap_or_default();
    if method == "POST" {
        let fault = {
            let mut queue = faults.lock().expect("the fault queue");
            match queue.front() {
                Some((suffix, _)) if route.ends_with(suffix) => queue.pop_front().map(|(_, f)| f),
                _ => None,
            }
        };
        match fault {
            Some(ProxyFault::Cut) => return,
            Some(ProxyFault::Status500) => {
                let body = serde_json::json!({ "message": PROXY_FAULT_MESSAGE }).to_string();
                let answer = format!(
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = client.write_all(answer.as_bytes()).await;
                let _ = client.shutdown().await;
                return;
            }
            None => {}
        }
    }
    let Ok(mut engine) = UnixStream::connect(&socket).await else {
        return;
    };
    let upgrade = text
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("upgrade:"));
    let forwarded = if upgrade {
        text
    } else {
        let mut lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
            .collect();
        lines.push("Connection: close");
        lines.join("\r\n")
    };
    let mut out = forwarded.into_bytes();
    out.extend_from_slice(&head[end..]);
    if engine.write_all(&out).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut engine).await;
}
