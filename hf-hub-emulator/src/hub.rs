//! Shared state of a running stand-in: Spaces, tokens, the request log, the access rules, and the
//! announcement of new revisions (`Hub::new_revision`) that the runtime subscribes to.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use axum::http::HeaderMap;
use axum::response::Response;

use crate::auth::{self, Caller};
use crate::config::{EmulatorConfig, Role, Runner, StageDelays, TokenSpec};
use crate::faults::Faults;
use crate::script::ScriptedApp;
use crate::util::lock;

/// One request as seen by the stand-in. Never holds tokens, secret values or request bodies.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Request path (no query).
    pub path: String,
    /// Raw query string (empty when none).
    pub query: String,
    /// Status answered (0 when the connection was dropped on purpose).
    pub status: u16,
    /// `namespace/name` of the Space the request was about, if any.
    pub space: Option<String>,
    /// When the request arrived (ISO 8601, UTC).
    pub time: String,
    /// For secrets/variables writes: the keys sent (never the values).
    pub keys: Vec<String>,
    /// `true` for a request to a Space's app (its `host` URL), `false` for the Hub API and git.
    pub app: bool,
    /// Milliseconds from the request's arrival (after any injected `request_latency`) to its
    /// answer's head: with `time`, a timeline of a client's round trips.
    pub elapsed_ms: u64,
    /// Request body bytes: `Content-Length`, or for git smart HTTP the body received (a push's
    /// pack size, sent chunked); 0 when unknown.
    pub request_bytes: u64,
    /// The Space-scoped token (Trusted Publisher exchange) the request carried, by its order of
    /// issue from 1 (expired or not); `None` for any other credential or none.
    pub scoped_token: Option<usize>,
}

/// A secret or a variable.
#[derive(Clone)]
pub(crate) struct KeyEntry {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
    pub updated_at: String,
}

/// Log lines of one build or run, with an epoch bumped when the buffer restarts.
#[derive(Default, Clone)]
pub(crate) struct LogBuf {
    pub epoch: u64,
    pub lines: Vec<(String, String)>,
}

impl LogBuf {
    pub(crate) fn reset(&mut self) {
        self.epoch += 1;
        self.lines.clear();
    }
}

/// What the Space's `host` forwards to while RUNNING.
#[derive(Clone)]
pub(crate) enum Upstream {
    None,
    Port(u16),
    Scripted(ScriptedApp),
}

/// Who reads a Space's repository and who reaches its app (hub-2026 §9): `public` (everyone,
/// everyone), `private` (its owner, its owner) and `protected` (its owner, everyone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Visibility {
    Public,
    Private,
    Protected,
}

impl Visibility {
    /// `public`, `private` or `protected`.
    pub(crate) fn parse(value: &str) -> Option<Visibility> {
        match value {
            "public" => Some(Visibility::Public),
            "private" => Some(Visibility::Private),
            "protected" => Some(Visibility::Protected),
            _ => None,
        }
    }

    /// The value the Hub answers in `visibility`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
            Visibility::Protected => "protected",
        }
    }

    /// The repository is private (`private` and `protected`): the Hub answers `"private": true`.
    pub(crate) fn repo_private(self) -> bool {
        self != Visibility::Public
    }

    /// The app answers anyone (`public` and `protected`).
    pub(crate) fn app_public(self) -> bool {
        self != Visibility::Private
    }
}

pub(crate) struct SpaceState {
    pub visibility: Visibility,
    pub sdk: String,
    pub hardware: String,
    /// The sleep time asked for on paid hardware (`-1` = never, the default there); free
    /// hardware's is fixed ([`SpaceState::gc_timeout`]).
    pub sleep_time: i64,
    pub secrets: Vec<KeyEntry>,
    pub variables: Vec<KeyEntry>,
    pub stage: String,
    pub error_message: Option<String>,
    pub generation: u64,
    pub cancel: CancellationToken,
    pub build_log: LogBuf,
    pub run_log: LogBuf,
    pub upstream: Upstream,
    pub last_modified: String,
    /// The previous revision's app still serves while a new one builds or starts
    /// (`RUNNING_BUILDING`, `RUNNING_APP_STARTING`): see `runtime::trigger`.
    pub previous_serves: bool,
    /// This Space's builds follow this script instead of the stand-in's runner
    /// ([`crate::Emulator::script_space`]).
    pub script: Option<crate::script::ScriptedRunner>,
    /// The next build alone follows this script, then `script` again
    /// ([`crate::Emulator::script_next_build`]).
    pub script_once: Option<crate::script::ScriptedRunner>,
    /// How many of the next pushes lose a race to another writer's commit
    /// ([`crate::Emulator::script_push_races`]).
    pub push_races: u32,
    /// How many such commits the other writer made (numbers its files).
    pub races_played: u32,
}

impl SpaceState {
    /// The runtime's `gcTimeout`: 48 h on free hardware whatever was asked for; on paid
    /// hardware the sleep time asked for, `None` (never sleeps) when none or `-1`.
    pub(crate) fn gc_timeout(&self) -> Option<u64> {
        if self.hardware == crate::util::FREE_HARDWARE {
            return Some(crate::util::FREE_SLEEP_SECONDS);
        }
        u64::try_from(self.sleep_time).ok()
    }
}

pub(crate) struct Space {
    pub id: String,
    pub ns: String,
    pub name: String,
    pub mongo_id: String,
    pub created_at: String,
    pub repo_dir: PathBuf,
    pub proxy_url: String,
    pub st: Mutex<SpaceState>,
    pub changed: watch::Sender<u64>,
    pub proxy_task: Mutex<Option<JoinHandle<()>>>,
}

impl Space {
    pub(crate) fn lock(&self) -> MutexGuard<'_, SpaceState> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes log followers.
    pub(crate) fn bump(&self) {
        self.changed.send_modify(|v| *v += 1);
    }

    pub(crate) fn subdomain(&self) -> String {
        crate::util::subdomain(&self.id)
    }
}

/// Hears of a Space's new revision (see [`Hub::new_revision`]).
pub(crate) type RevisionListener = Box<dyn Fn(&Arc<Hub>, &Arc<Space>) + Send + Sync>;

pub(crate) struct Hub {
    pub tokens: Vec<TokenSpec>,
    pub data_dir: PathBuf,
    pub repos_dir: PathBuf,
    pub lfs_dir: PathBuf,
    pub work_dir: PathBuf,
    pub runner: Runner,
    pub delays: StageDelays,
    pub startup_timeout: Duration,
    pub chunk_size: u64,
    /// [`EmulatorConfig::default_page_size`].
    pub page_size: Option<usize>,
    pub base_url: OnceLock<String>,
    pub spaces: Mutex<HashMap<String, Arc<Space>>>,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub log_file: Option<Mutex<std::fs::File>>,
    pub faults: Faults,
    pub shutdown: CancellationToken,
    pub tasks: Mutex<Vec<JoinHandle<()>>>,
    pub pending_lfs: Mutex<HashMap<String, u64>>,
    pub http: reqwest::Client,
    pub write_lock: tokio::sync::Mutex<()>,
    /// Builds and restarts per Space id (lowercase): create, push, restart, every secret,
    /// variable or hardware change. Tests read it to see that a redeploy restarted nothing.
    pub starts: Mutex<HashMap<String, u64>>,
    /// Users without PRO (lowercase): see `plans.rs`.
    pub free_users: Mutex<std::collections::HashSet<String>>,
    /// The fake OIDC issuer, Trusted Publishers and Space-scoped tokens: see `oauth.rs` (the
    /// engine) and `api/oauth.rs` (the routes).
    pub oidc: crate::oauth::Oidc,
    /// When set, a Space that runs keeps serving its previous revision while a new one builds
    /// and starts, as the Hub does ([`crate::Emulator::set_previous_serves`]).
    pub previous_serves: std::sync::atomic::AtomicBool,
    /// Who hears of new revisions: the runtime (`crate::runtime::subscribe`).
    pub revision_listeners: Mutex<Vec<RevisionListener>>,
    /// The foreign host (another loopback port): where redirect faults and hostile LFS
    /// answers send clients.
    pub foreign: crate::foreign::ForeignHost,
    /// The LFS batch answer's upload (`.0`) and verify (`.1`) targets point at the foreign host
    /// ([`crate::Emulator::point_lfs_at_foreign_host`]).
    pub lfs_foreign: (std::sync::atomic::AtomicBool, std::sync::atomic::AtomicBool),
}

impl Hub {
    /// The state of a stand-in configured by `config`, its data in `data_dir`, its request log
    /// also written to `log_file`.
    pub(crate) fn new(
        config: &EmulatorConfig,
        data_dir: PathBuf,
        log_file: Option<Mutex<std::fs::File>>,
    ) -> Hub {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap_or_default();
        Hub {
            tokens: config.tokens.clone(),
            repos_dir: data_dir.join("repos"),
            lfs_dir: data_dir.join("lfs"),
            work_dir: data_dir.join("work"),
            data_dir,
            runner: config.runner.clone(),
            delays: config.stage_delays,
            startup_timeout: config.startup_timeout,
            chunk_size: config.lfs_multipart_chunk_size.max(1),
            page_size: config.default_page_size,
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
            revision_listeners: Mutex::new(Vec::new()),
            foreign: crate::foreign::ForeignHost::new(
                config.tokens.iter().map(|t| t.token.clone()).collect(),
            ),
            lfs_foreign: Default::default(),
        }
    }

    pub(crate) fn base_url(&self) -> &str {
        self.base_url
            .get()
            .map(String::as_str)
            .unwrap_or("http://127.0.0.1")
    }

    pub(crate) fn caller_for_token(&self, token: &str) -> Option<Caller> {
        self.tokens
            .iter()
            .find(|t| t.token == token)
            .map(|t| Caller {
                user: t.user.clone(),
                role: t.role,
                scope: None,
            })
            .or_else(|| self.oidc.caller(token))
    }

    /// The caller behind a request's credentials: `Ok(None)` = anonymous; `Err` = credentials
    /// present but malformed or unknown (the Hub's 401).
    // The error is the HTTP answer itself, built once per request: boxing it buys nothing.
    #[allow(clippy::result_large_err)]
    pub(crate) fn caller(&self, headers: &HeaderMap) -> Result<Option<Caller>, Response> {
        match auth::token(headers)? {
            None => Ok(None),
            Some(token) => self
                .caller_for_token(&token)
                .map(Some)
                .ok_or_else(auth::invalid_credentials),
        }
    }

    pub(crate) fn space(&self, ns: &str, name: &str) -> Option<Arc<Space>> {
        let key = format!("{ns}/{name}").to_ascii_lowercase();
        lock(&self.spaces).get(&key).cloned()
    }

    /// `listener` hears of every new revision from now on.
    pub(crate) fn on_new_revision(&self, listener: RevisionListener) {
        lock(&self.revision_listeners).push(listener);
    }

    /// Announces that `space`'s `main` moved to a new commit (a push, an HTTP commit): its
    /// `lastModified` is now, and every listener hears of it before this returns (the runtime
    /// has started the new generation when the push or commit is answered, as the Hub shows
    /// BUILDING then).
    pub(crate) fn new_revision(self: &Arc<Self>, space: &Arc<Space>) {
        space.lock().last_modified = crate::util::now_iso();
        for listener in lock(&self.revision_listeners).iter() {
            listener(self, space);
        }
    }

    pub(crate) fn spawn(&self, fut: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(fut);
        let mut tasks = lock(&self.tasks);
        tasks.retain(|t| !t.is_finished());
        tasks.push(handle);
    }

    pub(crate) fn record(&self, entry: LoggedRequest) {
        if let Some(f) = &self.log_file {
            if let Ok(line) = serde_json::to_string(&entry) {
                use std::io::Write;
                let _ = writeln!(lock(f), "{line}");
            }
        }
        lock(&self.log).push(entry);
    }

    pub(crate) fn lfs_object_path(&self, oid: &str) -> Option<PathBuf> {
        (oid.len() == 64 && oid.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| self.lfs_dir.join(oid.to_ascii_lowercase()))
    }

    pub(crate) fn lfs_has(&self, oid: &str, size: Option<u64>) -> bool {
        self.lfs_object_path(oid)
            .and_then(|p| std::fs::metadata(p).ok())
            .is_some_and(|m| size.is_none_or(|s| m.len() == s))
    }
}

pub(crate) fn can_read(space: &SpaceState, ns: &str, caller: Option<&Caller>) -> bool {
    !space.visibility.repo_private() || caller.is_some_and(|c| owner(c).eq_ignore_ascii_case(ns))
}

pub(crate) fn can_write(ns: &str, caller: Option<&Caller>) -> bool {
    caller.is_some_and(|c| c.role == Role::Write && owner(c).eq_ignore_ascii_case(ns))
}

/// The namespace a caller acts in: its user's, or for a Space-scoped token that Space's (the
/// scope guard in `api/oauth.rs` keeps such a token to its one Space).
fn owner(caller: &Caller) -> &str {
    match &caller.scope {
        Some(scope) => scope.split('/').next().unwrap_or(""),
        None => &caller.user,
    }
}
