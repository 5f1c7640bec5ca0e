//! The listener, the router, the middleware (request id, faults, request log) and [`Emulator`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post, put};
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::config::EmulatorConfig;
use crate::faults::{FaultAction, Faults};
use crate::hub::{Hub, LoggedRequest};
use crate::util::lock;
use crate::{api, lfs, util};

/// Why the stand-in could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The listener could not be bound.
    #[error("binding the Hub stand-in listener on `{addr}`")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The data directory could not be prepared.
    #[error("preparing the Hub stand-in data directory `{path}`")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A required tool (`git`) is missing.
    #[error(
        "running `{tool}`, which the Hub stand-in needs (install it, or run `scripts/bootstrap.sh`)"
    )]
    ToolMissing {
        /// The tool.
        tool: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The request log file could not be opened.
    #[error("opening the request log file `{path}`")]
    RequestLog {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A connection that the fault middleware can cut.
pub(crate) struct KillStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

impl AsyncRead for KillStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "fault: dropped",
            )));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

pub(crate) struct KillListener(pub(crate) TcpListener);

impl Listener for KillListener {
    type Io = KillStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((s, a)) => {
                    let _ = s.set_nodelay(true);
                    return (
                        KillStream {
                            inner: s,
                            killed: Arc::new(AtomicBool::new(false)),
                        },
                        a,
                    );
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// Handle to cut the connection a request came on.
#[derive(Clone)]
pub(crate) struct ConnKill(Arc<AtomicBool>);

impl Connected<IncomingStream<'_, KillListener>> for ConnKill {
    fn connect_info(stream: IncomingStream<'_, KillListener>) -> Self {
        ConnKill(stream.io().killed.clone())
    }
}

/// A running stand-in.
pub struct Emulator {
    hub: Arc<Hub>,
    url: String,
    server: tokio::task::JoinHandle<()>,
    _tempdir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Binds the listener and starts serving.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let (tempdir, data_dir) = match &config.data_dir {
            Some(d) => (None, d.clone()),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("hf-hub-emulator-")
                    .tempdir()
                    .map_err(|source| EmulatorError::DataDir {
                        path: std::env::temp_dir(),
                        source,
                    })?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let repos_dir = data_dir.join("repos");
        let lfs_dir = data_dir.join("lfs");
        let work_dir = data_dir.join("work");
        for d in [&repos_dir, &lfs_dir, &work_dir] {
            std::fs::create_dir_all(d).map_err(|source| EmulatorError::DataDir {
                path: d.clone(),
                source,
            })?;
        }
        std::process::Command::new("git")
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|source| EmulatorError::ToolMissing {
                tool: "git".to_owned(),
                source,
            })?;
        let log_file = match &config.request_log_file {
            Some(p) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|source| EmulatorError::RequestLog {
                        path: p.clone(),
                        source,
                    })?,
            )),
            None => None,
        };
        let listener =
            TcpListener::bind(config.bind)
                .await
                .map_err(|source| EmulatorError::Bind {
                    addr: config.bind,
                    source,
                })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: config.bind,
                source,
            })?;
        let shown = if addr.ip().is_unspecified() {
            std::net::SocketAddr::from(([127, 0, 0, 1], addr.port()))
        } else {
            addr
        };
        let url = format!("http://{shown}");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap_or_default();
        let hub = Arc::new(Hub {
            tokens: config.tokens.clone(),
            data_dir,
            repos_dir,
            lfs_dir,
            work_dir,
            runner: config.runner.clone(),
            delays: config.stage_delays,
            startup_timeout: config.startup_timeout,
            chunk_size: config.lfs_multipart_chunk_size.max(1),
            base_url: OnceLock::new(),
            spaces: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            log_file,
            faults: Faults::default(),
            shutdown: CancellationToken::new(),
            tasks: Mutex::new(Vec::new()),
            pending_lfs: Mutex::new(HashMap::new()),
            http,
            write_lock: tokio::sync::Mutex::new(()),
            starts: Mutex::new(HashMap::new()),
            free_users: Mutex::new(Default::default()),
            oidc: crate::oauth::Oidc::default(),
            previous_serves: Default::default(),
        });
        let _ = hub.base_url.set(url.clone());
        let mut app = router(hub.clone());
        let latency = config.request_latency;
        if !latency.is_zero() {
            // Every request waits this long before it is handled: a Hub far from the client.
            app = app.layer(axum::middleware::from_fn(
                move |request: axum::extract::Request, next: axum::middleware::Next| async move {
                    tokio::time::sleep(latency).await;
                    next.run(request).await
                },
            ));
        }
        let shutdown = hub.shutdown.clone();
        let server = tokio::spawn(async move {
            let _ = axum::serve(
                KillListener(listener),
                app.into_make_service_with_connect_info::<ConnKill>(),
            )
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        });
        Ok(Emulator {
            hub,
            url,
            server,
            _tempdir: tempdir,
        })
    }

    /// The base URL (`HF_ENDPOINT`), e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Fault injection handle.
    pub fn faults(&self) -> &Faults {
        &self.hub.faults
    }

    /// Every request so far (no tokens, secret values or bodies).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        lock(&self.hub.log).clone()
    }

    /// The bare repository of Space `id` (`namespace/name`), if it exists.
    pub fn space_dir(&self, id: &str) -> Option<PathBuf> {
        let (ns, name) = id.split_once('/')?;
        self.hub.space(ns, name).map(|s| s.repo_dir.clone())
    }

    /// The current runtime stage of Space `id`, if it exists.
    pub fn space_stage(&self, id: &str) -> Option<String> {
        let (ns, name) = id.split_once('/')?;
        self.hub.space(ns, name).map(|s| s.lock().stage.clone())
    }

    /// How many times Space `id` was built or restarted (its creation, each push, restart,
    /// secret, variable or hardware change): on the Hub each of these takes the app down.
    pub fn space_starts(&self, id: &str) -> u64 {
        lock(&self.hub.starts)
            .get(&id.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// Add a Trusted Publisher to Space `id` (`namespace/name`): job tokens of the fake issuer
    /// whose claims match it exactly can be exchanged at `/oauth/token` for a token scoped to
    /// that Space.
    pub fn add_trusted_publisher(&self, id: &str, publisher: crate::oauth::TrustedPublisher) {
        self.hub.oidc.add_publisher(id, publisher);
    }

    /// Give `user` PRO (`true`, the default of every user) or take it away: without PRO,
    /// creating a Docker or Gradio Space on `cpu-basic` answers 402, as the Hub does since
    /// July 2026, whether or not the Space exists.
    pub fn set_pro(&self, user: &str, pro: bool) {
        let mut free = lock(&self.hub.free_users);
        if pro {
            free.remove(&user.to_ascii_lowercase());
        } else {
            free.insert(user.to_ascii_lowercase());
        }
    }

    /// Play the Hub's rolling rebuilds (off by default): a push, restart or settings change of a
    /// Space whose scripted app runs keeps that app serving while the new revision builds and
    /// starts; the stages read `RUNNING_BUILDING` and `RUNNING_APP_STARTING` meanwhile, and a
    /// scripted step named `RUNNING` plays a Hub that has not yet noticed the push. (A process
    /// or container app is stopped with its generation, so only scripted apps keep serving.)
    pub fn set_previous_serves(&self, on: bool) {
        self.hub.previous_serves.store(on, Ordering::SeqCst);
    }

    /// From now on, builds of Space `id` follow `script` (its stages, final stage, logs and
    /// app) instead of the stand-in's runner: a scenario for one Space, e.g. a new revision
    /// whose app answers differently from the one running. Returns `false` when the Space
    /// does not exist.
    pub fn script_space(&self, id: &str, script: crate::ScriptedRunner) -> bool {
        let Some((ns, name)) = id.split_once('/') else {
            return false;
        };
        let Some(space) = self.hub.space(ns, name) else {
            return false;
        };
        space.lock().script = Some(script);
        true
    }

    /// Stop Space `id`'s app and hold it in `stage` (e.g. `SLEEPING`, `DELETING`, `STOPPED`)
    /// until the next push, restart or settings change: the Hub's stages a test cannot
    /// reach through the API. Returns `false` when the Space does not exist.
    pub fn hold_stage(&self, id: &str, stage: &str) -> bool {
        let Some((ns, name)) = id.split_once('/') else {
            return false;
        };
        let Some(space) = self.hub.space(ns, name) else {
            return false;
        };
        crate::runtime::stop(&space, stage);
        true
    }

    /// The `host` URL of Space `id` (its app, through the stand-in's proxy), if it exists.
    pub fn space_host(&self, id: &str) -> Option<String> {
        let (ns, name) = id.split_once('/')?;
        self.hub.space(ns, name).map(|s| s.proxy_url.clone())
    }

    /// Stops the server, the Space proxies and every child process (apps, builds, git).
    pub async fn shutdown(mut self) {
        self.hub.shutdown.cancel();
        let spaces: Vec<_> = lock(&self.hub.spaces).drain().map(|(_, s)| s).collect();
        for s in spaces {
            s.lock().cancel.cancel();
            if let Some(t) = lock(&s.proxy_task).take() {
                t.abort();
            }
        }
        let tasks: Vec<_> = lock(&self.hub.tasks).drain(..).collect();
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
        if matches!(self.hub.runner, crate::config::Runner::Docker(_)) {
            crate::docker::remove_instance_containers(&self.hub).await;
        }
        self.server.abort();
        let _ = (&mut self.server).await;
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.hub.shutdown.cancel();
        self.server.abort();
        if matches!(self.hub.runner, crate::config::Runner::Docker(_)) {
            crate::docker::remove_instance_containers_blocking(&self.hub);
        }
    }
}

fn router(hub: Arc<Hub>) -> Router {
    use api::{commit, git, repos, runtime, settings};
    let spaces = "/api/spaces/{ns}/{name}";
    Router::new()
        // repos
        .route("/api/whoami-v2", get(repos::whoami))
        .route("/api/repos/create", post(repos::create))
        .route("/api/repos/delete", delete(repos::delete_repo))
        .route("/api/validate-yaml", post(repos::validate_yaml))
        .route(spaces, get(repos::space_info))
        .route(
            &format!("{spaces}/revision/{{rev}}"),
            get(repos::space_info_rev),
        )
        .route(&format!("{spaces}/auth-check"), get(repos::auth_check))
        .route(
            &format!("{spaces}/auth-check/write"),
            get(repos::auth_check_write),
        )
        // Space settings
        .route(&format!("{spaces}/settings"), put(settings::settings))
        .route(&format!("{spaces}/sleeptime"), post(settings::sleeptime))
        .route(&format!("{spaces}/hardware"), post(settings::hardware))
        .route(
            &format!("{spaces}/secrets"),
            get(settings::list_secrets)
                .post(settings::add_secret)
                .delete(settings::delete_secret),
        )
        .route(
            &format!("{spaces}/variables"),
            get(settings::list_variables)
                .post(settings::add_variable)
                .delete(settings::delete_variable),
        )
        // runtime
        .route(&format!("{spaces}/host"), get(runtime::host))
        .route(&format!("{spaces}/runtime"), get(runtime::runtime))
        .route(&format!("{spaces}/restart"), post(runtime::restart))
        .route(&format!("{spaces}/pause"), post(runtime::pause))
        .route(&format!("{spaces}/logs/{{kind}}"), get(runtime::logs))
        // commit API
        .route(
            &format!("{spaces}/preupload/{{rev}}"),
            post(commit::preupload),
        )
        .route(&format!("{spaces}/commit/{{rev}}"), post(commit::commit))
        .route(
            &format!("{spaces}/xet-write-token/{{rev}}"),
            get(commit::xet_not_emulated),
        )
        // git smart HTTP and the LFS batch API on the repo URL
        .route("/spaces/{ns}/{repo}/{*rest}", any(git::git_route))
        // LFS transfer targets
        .route("/lfs/upload/{oid}", put(lfs::upload))
        .route("/lfs/multipart/{oid}/complete", post(lfs::complete))
        .route("/lfs/multipart/{oid}/{part}", put(lfs::upload_part))
        .route("/lfs/verify/{ns}/{name}", post(lfs::verify))
        .route("/lfs/objects/{oid}", get(lfs::download))
        .route("/oauth/token", post(api::oauth::token_exchange))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            hub.clone(),
            api::oauth::scope_guard,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(2 * 1024 * 1024 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            hub.clone(),
            middleware,
        ))
        .with_state(hub)
}

fn space_of(path: &str) -> Option<String> {
    let rest = path
        .strip_prefix("/api/spaces/")
        .or_else(|| path.strip_prefix("/spaces/"))?;
    let mut it = rest.split('/');
    let ns = it.next()?;
    let name = it.next()?.trim_end_matches(".git");
    (!ns.is_empty() && !name.is_empty()).then(|| format!("{ns}/{name}"))
}

async fn middleware(State(hub): State<Arc<Hub>>, req: Request, next: Next) -> Response {
    apply_faults_and_log(&hub, None, req, next).await
}

/// Middleware of a Space's app listener.
pub(crate) async fn app_middleware(
    State((hub, space)): State<(Arc<Hub>, String)>,
    req: Request,
    next: Next,
) -> Response {
    apply_faults_and_log(&hub, Some(space), req, next).await
}

/// Faults, request id and the request log. `app_space` is set for a Space's app listener.
async fn apply_faults_and_log(
    hub: &Hub,
    app_space: Option<String>,
    req: Request,
    next: Next,
) -> Response {
    let app = app_space.is_some();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let trace = req
        .headers()
        .get("x-amzn-trace-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let conn = req
        .extensions()
        .get::<ConnectInfo<ConnKill>>()
        .map(|c| c.0.clone());
    let arrived = std::time::Instant::now();
    let request_bytes = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut entry = LoggedRequest {
        method: method.clone(),
        path: path.clone(),
        query,
        status: 0,
        space: app_space.or_else(|| space_of(&path)),
        time: util::now_iso(),
        keys: Vec::new(),
        app,
        elapsed_ms: 0,
        request_bytes,
    };
    let mut resp = None;
    if let Some((action, latency)) = hub.faults.take(&method, &path, app) {
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match action {
            FaultAction::Pass => {}
            FaultAction::Status(code) => {
                let status =
                    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                resp = Some(util::hub_error(
                    status,
                    None,
                    "Injected fault: the Hub stand-in failed this request on purpose",
                ));
            }
            FaultAction::RateLimited { retry_after } => {
                let mut r = util::hub_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    None,
                    "You have exceeded our hourly quotas for action 'api'. Retry later.",
                );
                let h = r.headers_mut();
                if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                    h.insert("retry-after", v);
                }
                if let Ok(v) = HeaderValue::from_str(&format!("\"api\";r=0;t={retry_after}")) {
                    h.insert("ratelimit", v);
                }
                h.insert(
                    "ratelimit-policy",
                    HeaderValue::from_static("\"fixed window\";\"api\";q=1000;w=300"),
                );
                resp = Some(r);
            }
            FaultAction::Drop => {
                if let Some(c) = conn {
                    c.0.store(true, Ordering::SeqCst);
                }
                entry.elapsed_ms = arrived.elapsed().as_millis() as u64;
                hub.record(entry);
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        }
    }
    let mut resp = match resp {
        Some(r) => r,
        None => next.run(req).await,
    };
    if let Some(keys) = resp.extensions_mut().remove::<api::LoggedKeys>() {
        entry.keys = keys.0;
    }
    if let Some(bytes) = resp.extensions_mut().remove::<api::LoggedBodyBytes>() {
        entry.request_bytes = bytes.0;
    }
    entry.elapsed_ms = arrived.elapsed().as_millis() as u64;
    if app {
        entry.status = resp.status().as_u16();
        hub.record(entry);
        return resp;
    }
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&util::request_id(trace.as_deref())) {
        h.insert("x-request-id", v);
    }
    h.insert("x-powered-by", HeaderValue::from_static("huggingface-moon"));
    h.insert(
        "access-control-expose-headers",
        HeaderValue::from_static("X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,Accept-Ranges,Content-Range"),
    );
    entry.status = resp.status().as_u16();
    hub.record(entry);
    resp
}

#[cfg(test)]
mod latency_tests {
    use std::time::{Duration, Instant};

    use crate::config::{DEFAULT_WRITE_TOKEN, EmulatorConfig};

    use super::Emulator;

    #[tokio::test]
    async fn request_latency_delays_every_request() {
        let latency = Duration::from_millis(200);
        let emulator = Emulator::start(EmulatorConfig {
            request_latency: latency,
            ..EmulatorConfig::default()
        })
        .await
        .expect("start the stand-in");
        let client = reqwest::Client::new();
        for path in ["/api/whoami-v2", "/no/such/route"] {
            let started = Instant::now();
            let response = client
                .get(format!("{}{path}", emulator.url()))
                .bearer_auth(DEFAULT_WRITE_TOKEN)
                .send()
                .await
                .expect("request");
            assert!(
                started.elapsed() >= latency,
                "{path}: {:?}",
                started.elapsed()
            );
            assert!(
                response.status().as_u16() < 500,
                "{path}: {}",
                response.status()
            );
        }
        emulator.shutdown().await;
    }
}
