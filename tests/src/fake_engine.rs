//! A fake Docker engine on a loopback TCP port (`DOCKER_HOST=tcp://127.0.0.1:PORT`): enough of
//! the Engine API for `docker version` (`/_ping` with the `Api-Version` header the CLI negotiates
//! down to, `/version`) and for a stand-in's shutdown (`/containers/json`: none), or, while a
//! [`EngineFault`] is set, that fault on every request. Plain HTTP/1.1 on raw sockets: each
//! connection is a task the fake aborts when dropped, so that an answer it holds back (a slow
//! fault) never keeps a test waiting.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// The message a faulty engine sends (with an escape sequence the client must not print).
pub const ENGINE_MESSAGE: &str = "fake engine: overloaded \u{1b}[31mnow";

/// What the engine does to every request while set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EngineFault {
    /// 429 with `Retry-After` (seconds).
    RateLimited(u64),
    /// This status, with a JSON `message` as the engine writes it.
    Status(u16),
    /// A 200 head announcing a longer body than is sent, then the connection closed.
    ResetMidAnswer,
    /// No answer at all (the connection held open).
    Slow,
}

/// One request the fake engine read: method and path.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineRequest {
    /// `GET`, `HEAD`, `POST`...
    pub method: String,
    /// The path with its query.
    pub path: String,
}

/// A running fake engine; stops (every connection with it) when dropped.
pub struct FakeEngine {
    /// `tcp://127.0.0.1:PORT`, for `DOCKER_HOST`.
    pub host: String,
    fault: Arc<Mutex<Option<EngineFault>>>,
    requests: Arc<Mutex<Vec<EngineRequest>>>,
    _server: Server,
}

impl FakeEngine {
    /// Starts the engine, with `fault` on every request (`None`: a working engine).
    pub async fn start(fault: Option<EngineFault>) -> FakeEngine {
        let fault = Arc::new(Mutex::new(fault));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (f, r) = (fault.clone(), requests.clone());
        let server = listen(move |stream| serve(stream, f.clone(), r.clone())).await;
        FakeEngine {
            host: server.host.clone(),
            fault,
            requests,
            _server: server,
        }
    }

    /// Sets or clears the fault for the requests to come.
    pub fn set_fault(&self, fault: Option<EngineFault>) {
        *self.fault.lock().expect("the fault lock") = fault;
    }

    /// Every request read so far.
    pub fn requests(&self) -> Vec<EngineRequest> {
        self.requests.lock().expect("the request log").clone()
    }
}

/// A loopback TCP server (`host`: `tcp://127.0.0.1:PORT`); every connection ends when it is
/// dropped.
pub(crate) struct Server {
    pub(crate) host: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves each connection with `serve`, in a task of its own.
pub(crate) async fn listen<F, Fut>(serve: F) -> Server
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback server");
    let host = format!(
        "tcp://{}",
        listener.local_addr().expect("the server's address")
    );
    let task = tokio::spawn(async move {
        // Dropped with the accept loop (the task aborted): every connection ends with it.
        let mut connections = JoinSet::new();
        while let Ok((stream, _)) = listener.accept().await {
            connections.spawn(serve(stream));
            while connections.try_join_next().is_some() {}
        }
    });
    Server { host, task }
}

/// A request's head: the bytes read (the head, and whatever came after it) and where the head
/// ends (its `\r\n\r\n`); `None` when the connection ends first or the head passes 64 KiB.
pub(crate) async fn read_head(stream: &mut TcpStream) -> Option<(Vec<u8>, usize)> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some((head, end));
        }
        if head.len() > 64 * 1024 {
            return None;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn serve(
    mut stream: TcpStream,
    fault: Arc<Mutex<Option<EngineFault>>>,
    requests: Arc<Mutex<Vec<EngineRequest>>>,
) {
    // One request per connection is enough for the CLI (it opens another when this one closes).
    let Some((head, end)) = read_head(&mut stream).await else {
        return;
    };
    let text = String::from_utf8_lossy(&head[..end]);
    let mut words = text.split_whitespace();
    let request = EngineRequest {
        method: words.next().unwrap_or_default().to_owned(),
        path: words.next().unwrap_or_default().to_owned(),
    };
    requests
        .lock()
        .expect("the request log")
        .push(request.clone());
    let fault = *fault.lock().expect("the fault lock");
    let answer = match fault {
        Some(EngineFault::Slow) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        Some(EngineFault::ResetMidAnswer) => {
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\nContent-Length: 400\r\n\r\n{\"Version\":\"20."
                .to_vec()
        }
        Some(EngineFault::RateLimited(after)) => {
            failure(429, "Too Many Requests", &format!("Retry-After: {after}\r\n"), &request)
        }
        Some(EngineFault::Status(code)) => failure(code, "Engine Trouble", "", &request),
        None => working(&request),
    };
    let _ = stream.write_all(&answer).await;
    let _ = stream.shutdown().await;
}

/// An error answer as the engine writes one: a JSON `message` (no body to a `HEAD`).
fn failure(code: u16, reason: &str, extra: &str, request: &EngineRequest) -> Vec<u8> {
    let body = serde_json::json!({ "message": ENGINE_MESSAGE }).to_string();
    answer(code, reason, extra, &body, request.method == "HEAD")
}

/// A working engine's answers.
fn working(request: &EngineRequest) -> Vec<u8> {
    let path = request.path.split('?').next().unwrap_or_default();
    let head = request.method == "HEAD";
    let ping_headers = "Api-Version: 1.41\r\nDocker-Experimental: false\r\nOstype: linux\r\n";
    if path == "/_ping" || path.ends_with("/_ping") {
        return answer(200, "OK", ping_headers, "OK", head);
    }
    if path.ends_with("/version") {
        let body = serde_json::json!({
            "Version": "20.10.99-fake",
            "ApiVersion": "1.41",
            "MinAPIVersion": "1.12",
            "GitCommit": "fake",
            "GoVersion": "go1.19",
            "Os": "linux",
            "Arch": "amd64",
            "KernelVersion": "6.0",
            "BuildTime": "2026-01-01T00:00:00.000000000+00:00",
            "Components": [{"Name": "Engine", "Version": "20.10.99-fake", "Details": {"ApiVersion": "1.41", "MinAPIVersion": "1.12"}}]
        });
        return answer(200, "OK", "Api-Version: 1.41\r\n", &body.to_string(), head);
    }
    if path.ends_with("/containers/json") {
        return answer(200, "OK", "Api-Version: 1.41\r\n", "[]", head);
    }
    let body = serde_json::json!({ "message": "page not found" }).to_string();
    answer(404, "Not Found", "", &body, head)
}

fn answer(code: u16, reason: &str, extra: &str, body: &str, head: bool) -> Vec<u8> {
    let shown = if head { "" } else { body };
    format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{shown}",
        body.len()
    )
    .into_bytes()
}
