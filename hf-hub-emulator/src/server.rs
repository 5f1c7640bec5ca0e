//! [`Emulator`]: a running stand-in (its state, its API listener, its lifecycle).

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::EmulatorConfig;
use crate::faults::Faults;
use crate::foreign::ForeignHost;
use crate::hub::{Hub, LoggedRequest};
use crate::util::lock;
use crate::{api, listener, runtime};

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

/// A Space's secrets and variables ([`Emulator::space_settings`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceSettings {
    /// The secrets, by key.
    pub secrets: Vec<SettingEntry>,
    /// The variables, by key.
    pub variables: Vec<SettingEntry>,
}

/// One secret or variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingEntry {
    /// Its key.
    pub key: String,
    /// Its value.
    pub value: String,
    /// Its description (where hf-deploy keeps a secret's fingerprint).
    pub description: Option<String>,
}

/// A running stand-in.
pub struct Emulator {
    hub: Arc<Hub>,
    url: String,
    server: tokio::task::JoinHandle<()>,
    foreign: tokio::task::JoinHandle<()>,
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
        let (tempdir, data_dir) = data_dir(&config)?;
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
        let (listener, url) = bind(&config).await?;
        let hub = Arc::new(Hub::new(&config, data_dir, log_file));
        runtime::subscribe(&hub);
        let _ = hub.base_url.set(url.clone());
        let mut app = api::router(hub.clone());
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
        let server = listener::serve(listener, app, hub.shutdown.clone());
        let foreign = hub
            .foreign
            .start(hub.shutdown.clone())
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                source,
            })?;
        Ok(Emulator {
            hub,
            url,
            server,
            foreign,
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

    /// The value of Space `id`'s secret `key`, as its app sees it in its environment (the API
    /// never shows it): for a test of what a deploy wrote.
    pub fn secret_value(&self, id: &str, key: &str) -> Option<String> {
        let (ns, name) = id.split_once('/')?;
        let space = self.hub.space(ns, name)?;
        let state = space.lock();
        state
            .secrets
            .iter()
            .find(|entry| entry.key == key)
            .map(|entry| entry.value.clone())
    }

    /// The current runtime stage of Space `id`, if it exists.
    pub fn space_stage(&self, id: &str) -> Option<String> {
        let (ns, name) = id.split_once('/')?;
        self.hub.space(ns, name).map(|s| s.lock().stage.clone())
    }

    /// Space `id`'s secrets and variables as the stand-in holds them (values included, for tests
    /// that check what a deploy left behind), each sorted by key; `None` when there is no such
    /// Space.
    pub fn space_settings(&self, id: &str) -> Option<SpaceSettings> {
        let (ns, name) = id.split_once('/')?;
        let space = self.hub.space(ns, name)?;
        let state = space.lock();
        let entries = |list: &[crate::hub::KeyEntry]| {
            let mut out: Vec<SettingEntry> = list
                .iter()
                .map(|e| SettingEntry {
                    key: e.key.clone(),
                    value: e.value.clone(),
                    description: e.description.clone(),
                })
                .collect();
            out.sort_by(|a, b| a.key.cmp(&b.key));
            out
        };
        Some(SpaceSettings {
            secrets: entries(&state.secrets),
            variables: entries(&state.variables),
        })
    }

    /// Set Space `id`'s last change (`lastModified` in its info and in the listing) to `at`, an
    /// ISO-8601 time: a test's Space that has not changed for weeks. False when there is no
    /// such Space.
    pub fn set_last_modified(&self, id: &str, at: &str) -> bool {
        let Some((ns, name)) = id.split_once('/') else {
            return false;
        };
        match self.hub.space(ns, name) {
            Some(space) => {
                space.lock().last_modified = at.to_string();
                true
            }
            None => false,
        }
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

    /// The next build of Space `id` alone follows `script`; the builds after it follow the
    /// Space's script or the runner again: a revision that fails (a build error, a crash at
    /// start) followed by one that works, as a rollback needs. Returns `false` when the Space
    /// does not exist.
    pub fn script_next_build(&self, id: &str, script: crate::ScriptedRunner) -> bool {
        let Some((ns, name)) = id.split_once('/') else {
            return false;
        };
        let Some(space) = self.hub.space(ns, name) else {
            return false;
        };
        space.lock().script_once = Some(script);
        true
    }

    /// The next `n` pushes to Space `id` lose a race: just before each is taken, another writer
    /// (author `other-writer`) commits a file of its own (`other-writer/{k}.txt`) on top of
    /// `main`, so the real receive-pack refuses the push as the Hub refuses one whose `main`
    /// moved meanwhile. Each such commit is a new revision (it builds). A new call replaces
    /// the count left (`0` ends the races); returns `false` when the Space does not exist.
    pub fn script_push_races(&self, id: &str, n: u32) -> bool {
        let Some((ns, name)) = id.split_once('/') else {
            return false;
        };
        let Some(space) = self.hub.space(ns, name) else {
            return false;
        };
        space.lock().push_races = n;
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
        runtime::stop(&space, stage);
        true
    }

    /// The foreign host: another loopback port (another origin) that records every request it
    /// gets and answers 200 `{}` (or [`ForeignHost::set_status`]). Redirect faults
    /// ([`crate::FaultRule::redirect_to_foreign`]) and [`Emulator::point_lfs_at_foreign_host`]
    /// send clients there; [`ForeignHost::credentials_seen`] tells whether any credential came.
    pub fn foreign_host(&self) -> &ForeignHost {
        &self.hub.foreign
    }

    /// From now on the LFS batch answer points its `upload` (basic and multipart targets)
    /// and/or `verify` `href` at the foreign host, as a hostile or broken LFS server could: a
    /// client must not send its Hub credentials there (the actions carry no `header` of their
    /// own). `false, false` restores the stand-in's own targets.
    pub fn point_lfs_at_foreign_host(&self, upload: bool, verify: bool) {
        self.hub.lfs_foreign.0.store(upload, Ordering::SeqCst);
        self.hub.lfs_foreign.1.store(verify, Ordering::SeqCst);
    }

    /// The next Space-scoped tokens of the token exchange live these lifetimes, in order (and
    /// its answer's `expires_in` says so); later ones live the Hub's 3600 s. A test's knob for a
    /// token that expires mid-run.
    pub fn set_scoped_token_lifetimes(&self, lifetimes: &[std::time::Duration]) {
        self.hub.oidc.set_lifetimes(lifetimes);
    }

    /// The `expires_in` the token exchange (`POST /oauth/token`) answers from now on, as raw JSON
    /// inserted verbatim (e.g. `18446744073709551615`, `1e30`, `-1`, `"3600"`); `None` restores
    /// the Hub's `3600`. The scoped token itself still lives 3600 s: only the number a client
    /// reads changes.
    pub fn set_token_expires_in(&self, raw_json: Option<&str>) {
        self.hub.oidc.set_expires_in(raw_json.map(str::to_owned));
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
        runtime::shut_down(&self.hub).await;
        self.server.abort();
        self.foreign.abort();
        let _ = (&mut self.server).await;
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.hub.shutdown.cancel();
        self.server.abort();
        self.foreign.abort();
        runtime::shut_down_blocking(&self.hub);
    }
}

/// The data directory (the configured one, else a temporary one removed with the stand-in) with
/// its `repos`, `lfs` and `work` folders.
fn data_dir(
    config: &EmulatorConfig,
) -> Result<(Option<tempfile::TempDir>, PathBuf), EmulatorError> {
    let (tempdir, data_dir) = match &config.data_dir {
        Some(d) => (None, d.clone()),
        None => {
            // Private (0700): it holds the Spaces' repositories and build folders.
            let mut builder = tempfile::Builder::new();
            builder.prefix("hf-hub-emulator-");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                builder.permissions(std::fs::Permissions::from_mode(0o700));
            }
            let t = builder.tempdir().map_err(|source| EmulatorError::DataDir {
                path: std::env::temp_dir(),
                source,
            })?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    for d in [
        data_dir.join("repos"),
        data_dir.join("lfs"),
        data_dir.join("work"),
    ] {
        std::fs::create_dir_all(&d).map_err(|source| EmulatorError::DataDir { path: d, source })?;
    }
    Ok((tempdir, data_dir))
}

/// The API listener and the stand-in's URL (loopback when bound to an unspecified address).
async fn bind(config: &EmulatorConfig) -> Result<(TcpListener, String), EmulatorError> {
    let listener = TcpListener::bind(config.bind)
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
    Ok((listener, format!("http://{shown}")))
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
