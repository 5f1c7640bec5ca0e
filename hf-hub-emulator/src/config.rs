//! Configuration of the stand-in.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::script::ScriptedRunner;

/// The write token configured by default (user [`DEFAULT_USER`], role write).
pub const DEFAULT_WRITE_TOKEN: &str = "hf_emulator_write_token_0000";
/// The read token configured by default (user [`DEFAULT_USER`], role read).
pub const DEFAULT_READ_TOKEN: &str = "hf_emulator_read_token_0000";
/// The user owning the default tokens.
pub const DEFAULT_USER: &str = "local";

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Read public repos and the user's own private repos; every write is refused.
    Read,
    /// Read and write the user's own namespace.
    Write,
}

impl Role {
    /// The value reported in `auth.accessToken.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
        }
    }
}

/// A token the stand-in accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSpec {
    /// The bearer token / git password.
    pub token: String,
    /// The user (namespace) it belongs to.
    pub user: String,
    /// Its role.
    pub role: Role,
}

impl TokenSpec {
    /// A token for `user` with `role`.
    pub fn new(token: impl Into<String>, user: impl Into<String>, role: Role) -> Self {
        TokenSpec {
            token: token.into(),
            user: user.into(),
            role,
        }
    }
}

impl fmt::Debug for TokenSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSpec")
            .field("token", &"<redacted>")
            .field("user", &self.user)
            .field("role", &self.role)
            .finish()
    }
}

/// Settings of the runner that really runs the pushed app (a Python virtual environment, no Docker).
#[derive(Debug, Clone)]
pub struct RealRunnerConfig {
    /// The Python interpreter used to create virtual environments (default `python3`).
    pub python: PathBuf,
    /// Where virtual environments are cached, keyed by the sha256 of `requirements.txt`.
    pub venv_cache: PathBuf,
}

impl Default for RealRunnerConfig {
    fn default() -> Self {
        RealRunnerConfig {
            python: PathBuf::from("python3"),
            venv_cache: std::env::temp_dir().join("hf-hub-emulator-venvs"),
        }
    }
}

/// Settings of the runner that builds and runs the Space with a real Docker engine.
#[derive(Debug, Clone, Default)]
pub struct DockerRunnerConfig {
    /// `docker build --network` (default: the engine's default network).
    pub build_network: Option<String>,
}

/// How Space builds are carried out.
#[derive(Debug, Clone)]
pub enum Runner {
    /// Check out the commit, pip install `requirements.txt` into a cached venv and run the Dockerfile's `CMD`.
    Real(RealRunnerConfig),
    /// Build the Space's tree with a Docker engine and run the image as the Hub does
    /// (containers labelled `hf-deploy.space=<ns/name>`, removed when the app stops).
    Docker(DockerRunnerConfig),
    /// The test decides the stages, logs and the app's answers.
    Scripted(ScriptedRunner),
}

impl Default for Runner {
    fn default() -> Self {
        Runner::Real(RealRunnerConfig::default())
    }
}

/// Minimum time spent in each intermediate stage, so that clients can observe them.
#[derive(Debug, Clone, Copy)]
pub struct StageDelays {
    /// Minimum time in `BUILDING`.
    pub building: Duration,
    /// Minimum time in `APP_STARTING`.
    pub app_starting: Duration,
}

impl Default for StageDelays {
    fn default() -> Self {
        StageDelays {
            building: Duration::from_millis(200),
            app_starting: Duration::from_millis(200),
        }
    }
}

/// Everything [`crate::Emulator::start`] needs.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address of the API/git listener (`127.0.0.1:0` = any free port).
    pub bind: SocketAddr,
    /// Accepted tokens.
    pub tokens: Vec<TokenSpec>,
    /// Where bare repos and LFS objects live; `None` = a temporary directory removed on shutdown.
    pub data_dir: Option<PathBuf>,
    /// How builds run.
    pub runner: Runner,
    /// Minimum time in intermediate stages.
    pub stage_delays: StageDelays,
    /// When set, every logged request is also appended to this file as one JSON line.
    pub request_log_file: Option<PathBuf>,
    /// LFS objects larger than this are offered the `multipart` transfer (when the client accepts it),
    /// in parts of this size.
    pub lfs_multipart_chunk_size: u64,
    /// Time after which an app that does not accept connections is declared `RUNTIME_ERROR`.
    pub startup_timeout: Duration,
    /// Added to every request before it is handled (API, git and LFS alike), to measure a
    /// client far from the Hub; zero by default.
    pub request_latency: Duration,
    /// The page size of `GET /api/spaces` and `GET …/commits/{rev}` when the request names no
    /// `limit`; `None`: the Hub's (1000 Spaces, 50 commits). Tests set a small one to see a
    /// client follow the `Link` header through several pages.
    pub default_page_size: Option<usize>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tokens: vec![
                TokenSpec::new(DEFAULT_WRITE_TOKEN, DEFAULT_USER, Role::Write),
                TokenSpec::new(DEFAULT_READ_TOKEN, DEFAULT_USER, Role::Read),
            ],
            data_dir: None,
            runner: Runner::default(),
            stage_delays: StageDelays::default(),
            request_log_file: None,
            lfs_multipart_chunk_size: 8 * 1024 * 1024,
            startup_timeout: Duration::from_secs(300),
            request_latency: Duration::ZERO,
            default_page_size: None,
        }
    }
}
