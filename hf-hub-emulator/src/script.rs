//! A test's script of a Space (`ScriptedRunner`): its stages, logs and app (`ScriptedApp`). The
//! runtime plays it (`crate::runtime::scripted`); the Space's `host` serves the app.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A scripted build: a sequence of intermediate stages, a final stage, log lines and an app.
///
/// ```
/// use std::time::Duration;
/// use hf_hub_emulator::{ScriptedApp, ScriptedResponse, ScriptedRoute, ScriptedRunner};
/// let runner = ScriptedRunner::running()
///     .build_log("Step 1/3 : FROM python:3.12")
///     .app(ScriptedApp::new()
///         .route(ScriptedRoute::get("/health")
///             .first(2, ScriptedResponse::status(503))
///             .then(ScriptedResponse::json(200, r#"{"status":"ok"}"#)))
///         .cors_origin("https://example.github.io"));
/// let failing = ScriptedRunner::failing("BUILD_ERROR").build_log("ERROR: no matching distribution");
/// // Apps that misbehave, one line each:
/// let leaky = ScriptedRunner::crash_printing_settings();
/// let hostile = ScriptedRunner::running()
///     .hostile_build_log()
///     .app(ScriptedApp::hostile_health("/health"));
/// let broken = ScriptedRunner::build_fails();
/// # let _ = (runner, failing, leaky, hostile, broken);
/// ```
#[derive(Debug, Clone)]
pub struct ScriptedRunner {
    pub(crate) steps: Option<Vec<(String, Duration)>>,
    pub(crate) final_stage: String,
    pub(crate) build_log: Vec<String>,
    pub(crate) run_log: Vec<String>,
    pub(crate) app: ScriptedApp,
    pub(crate) check_repo: bool,
    /// The run log dumps the Space's settings (secrets included) as a crashing app would.
    pub(crate) settings_dump: bool,
    /// The `errorMessage` of an error stage.
    pub(crate) error: ScriptedError,
}

/// The `errorMessage` a scripted error stage reports.
#[derive(Debug, Clone)]
pub(crate) enum ScriptedError {
    /// `scripted <STAGE>`.
    Default,
    /// This text.
    Fixed(String),
    /// The Hub's words for an app that exited with code 1, quoting the run log's tail.
    Exited,
    /// The Hub's words for a build that failed with code 1, quoting the build log's tail.
    BuildFailed,
}

/// Log lines a hostile or careless build prints: ANSI colours and screen control, OSC 8
/// hyperlinks, OSC 0 window titles, OSC 52 clipboard writes, an 8-bit CSI, a carriage return, a
/// NUL and GitHub workflow commands. A client must neutralise them before it prints or renders
/// them ([`ScriptedRunner::hostile_build_log`]; use them as run log lines with
/// [`ScriptedRunner::run_log`]).
pub const HOSTILE_LOG_LINES: [&str; 11] = [
    "\u{1b}[31mERROR\u{1b}[0m: red text from the build",
    "\u{1b}]8;;https://evil.example/phish\u{7}click here\u{1b}]8;;\u{7}",
    "\u{1b}]0;pwned window title\u{7}",
    "\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}",
    "\u{1b}[2J\u{1b}[Hscreen cleared",
    "\u{9b}31m8-bit CSI",
    "progress 10%\rOVERWRITTEN",
    "nul\u{0}byte",
    "::error file=app.py,line=1::forged annotation",
    "##[error]forged error",
    "::add-mask::nothing-to-mask",
];

impl Default for ScriptedRunner {
    fn default() -> Self {
        ScriptedRunner::running()
    }
}

impl ScriptedRunner {
    /// BUILDING -> APP_STARTING -> RUNNING (delays from [`crate::StageDelays`]); the app answers 404 to everything.
    pub fn running() -> Self {
        ScriptedRunner {
            steps: None,
            final_stage: "RUNNING".to_owned(),
            build_log: Vec::new(),
            run_log: Vec::new(),
            app: ScriptedApp::new(),
            check_repo: true,
            settings_dump: false,
            error: ScriptedError::Default,
        }
    }

    /// An app that crashes at start printing its settings the way a pydantic-settings app does:
    /// a `KEY=value` line for each of the Space's secrets and variables (their real values: a
    /// `DATABASE_URL` with its password, a `GEMINI_API_KEY`), then a traceback ending in a
    /// `ValidationError` that quotes each secret's `input_value`. The Space ends in
    /// `RUNTIME_ERROR` with an `errorMessage` quoting the run log's tail, secrets included, as
    /// the Hub quotes a container's log: a client must redact them.
    pub fn crash_printing_settings() -> Self {
        ScriptedRunner {
            settings_dump: true,
            error: ScriptedError::Exited,
            ..ScriptedRunner::failing("RUNTIME_ERROR")
        }
    }

    /// A build that fails: a Docker build log ending in pip's `No matching distribution`, then
    /// `BUILD_ERROR` with an `errorMessage` quoting the build log's tail, as the Hub does.
    pub fn build_fails() -> Self {
        ScriptedRunner {
            error: ScriptedError::BuildFailed,
            ..ScriptedRunner::failing("BUILD_ERROR")
        }
        .build_log("#5 [2/4] COPY requirements.txt .")
        .build_log("#6 [3/4] RUN pip install --no-cache-dir -r requirements.txt")
        .build_log("#6 1.204 ERROR: Could not find a version that satisfies the requirement fastapi==0.0.0 (from versions: 0.1.0)")
        .build_log("#6 1.205 ERROR: No matching distribution found for fastapi==0.0.0")
        .build_log("#6 ERROR: process \"/bin/sh -c pip install --no-cache-dir -r requirements.txt\" did not complete successfully: exit code: 1")
    }

    /// Adds [`HOSTILE_LOG_LINES`] to the build log: escape sequences and workflow commands.
    pub fn hostile_build_log(mut self) -> Self {
        self.build_log
            .extend(HOSTILE_LOG_LINES.iter().map(|l| (*l).to_owned()));
        self
    }

    /// The `errorMessage` the final stage reports when it is an error (default `scripted <STAGE>`).
    pub fn error_message(mut self, message: &str) -> Self {
        self.error = ScriptedError::Fixed(message.to_owned());
        self
    }

    /// Ends in `stage` (e.g. `BUILD_ERROR`, `RUNTIME_ERROR`) instead of RUNNING.
    pub fn failing(stage: &str) -> Self {
        ScriptedRunner {
            final_stage: stage.to_owned(),
            ..ScriptedRunner::running()
        }
    }

    /// Replaces the default intermediate stages: appends `stage`, held for `delay`.
    pub fn stage(mut self, stage: &str, delay: Duration) -> Self {
        self.steps
            .get_or_insert_with(Vec::new)
            .push((stage.to_owned(), delay));
        self
    }

    /// Sets the final stage.
    pub fn final_stage(mut self, stage: &str) -> Self {
        self.final_stage = stage.to_owned();
        self
    }

    /// Adds a build log line.
    pub fn build_log(mut self, line: &str) -> Self {
        self.build_log.push(line.to_owned());
        self
    }

    /// Adds a run log line (written when the final stage is reached).
    pub fn run_log(mut self, line: &str) -> Self {
        self.run_log.push(line.to_owned());
        self
    }

    /// The app served at the Space's `host` while RUNNING.
    pub fn app(mut self, app: ScriptedApp) -> Self {
        self.app = app;
        self
    }

    /// Skips the README/Dockerfile checks (CONFIG_ERROR / NO_APP_FILE) that run before the script.
    pub fn skip_repo_checks(mut self) -> Self {
        self.check_repo = false;
        self
    }
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub struct ScriptedResponse {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) body: String,
    pub(crate) headers: Vec<(String, String)>,
}

impl ScriptedResponse {
    /// An empty answer with `status`.
    pub fn status(status: u16) -> Self {
        ScriptedResponse {
            status,
            content_type: None,
            body: String::new(),
            headers: Vec::new(),
        }
    }

    /// A JSON answer.
    pub fn json(status: u16, body: &str) -> Self {
        ScriptedResponse {
            status,
            content_type: Some("application/json".to_owned()),
            body: body.to_owned(),
            headers: Vec::new(),
        }
    }

    /// A text answer.
    pub fn text(status: u16, body: &str) -> Self {
        ScriptedResponse {
            status,
            content_type: Some("text/plain; charset=utf-8".to_owned()),
            body: body.to_owned(),
            headers: Vec::new(),
        }
    }

    /// A health answer with hostile content (200 JSON): a `status` of
    /// `"healthy\n::error file=x::forged"` (a forged workflow command on its second line), and
    /// service details carrying Markdown links and images, an @-mention, an issue reference,
    /// HTML (`<img onerror>`, `<script>`, a comment), a Markdown table, ANSI colours and an OSC 8
    /// hyperlink, in a service's status, error and name.
    pub fn hostile_health() -> Self {
        let body = serde_json::json!({
            "status": "healthy\n::error file=x::forged",
            "services": {
                "postgres": {
                    "status": "error",
                    "error": "[click me](https://evil.example/phish) ![tracker](https://evil.example/pixel.png) @octocat #1 <img src=x onerror=alert(1)> <!-- hidden --> \u{1b}[31mred\u{1b}[0m \u{1b}]8;;https://evil.example\u{7}link\u{1b}]8;;\u{7}"
                },
                "qdrant": {
                    "status": "ok\n::warning::forged",
                    "detail": "| forged | table |\n|---|---|\n| a | b |"
                },
                "<script>alert(1)</script>": "ok",
                "gemini": {"status": "error", "error": "line one\r\n::set-output name=x::forged\n##[error]forged"}
            }
        });
        ScriptedResponse::json(200, &body.to_string())
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// A route of a [`ScriptedApp`]: the first answers, then a steady answer.
///
/// The request counter is shared by every clone of the route (so a test can keep one and read
/// [`ScriptedRoute::hits`]), across all Spaces and restarts of one stand-in.
#[derive(Debug, Clone)]
pub struct ScriptedRoute {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) first: Vec<ScriptedResponse>,
    pub(crate) then: ScriptedResponse,
    pub(crate) hits: Arc<AtomicUsize>,
}

impl ScriptedRoute {
    /// A route for `method` (`*` = any) and exact `path`; answers 200 with an empty body until told otherwise.
    pub fn new(method: &str, path: &str) -> Self {
        ScriptedRoute {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            first: Vec::new(),
            then: ScriptedResponse::status(200),
            hits: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A `GET` route.
    pub fn get(path: &str) -> Self {
        ScriptedRoute::new("GET", path)
    }

    /// A `POST` route.
    pub fn post(path: &str) -> Self {
        ScriptedRoute::new("POST", path)
    }

    /// The first `n` requests get `response`.
    pub fn first(mut self, n: usize, response: ScriptedResponse) -> Self {
        self.first.extend(std::iter::repeat_n(response, n));
        self
    }

    /// Every later request gets `response`.
    pub fn then(mut self, response: ScriptedResponse) -> Self {
        self.then = response;
        self
    }

    /// How many requests this route has answered.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub(crate) fn answer(&self) -> ScriptedResponse {
        let n = self.hits.fetch_add(1, Ordering::SeqCst);
        self.first
            .get(n)
            .cloned()
            .unwrap_or_else(|| self.then.clone())
    }
}

/// The app of a scripted Space.
#[derive(Debug, Clone, Default)]
pub struct ScriptedApp {
    pub(crate) routes: Vec<ScriptedRoute>,
    pub(crate) cors_origins: Vec<String>,
}

impl ScriptedApp {
    /// An app answering 404 everywhere.
    pub fn new() -> Self {
        ScriptedApp::default()
    }

    /// An app whose `GET path` answers [`ScriptedResponse::hostile_health`].
    pub fn hostile_health(path: &str) -> Self {
        ScriptedApp::new().route(ScriptedRoute::get(path).then(ScriptedResponse::hostile_health()))
    }

    /// Adds a route (first match wins).
    pub fn route(mut self, route: ScriptedRoute) -> Self {
        self.routes.push(route);
        self
    }

    /// Answers CORS requests (incl. preflight `OPTIONS`) from `origin` like FastAPI's CORSMiddleware.
    pub fn cors_origin(mut self, origin: &str) -> Self {
        self.cors_origins.push(origin.to_owned());
        self
    }

    pub(crate) fn respond(
        &self,
        method: &str,
        path: &str,
        origin: Option<&str>,
    ) -> ScriptedResponse {
        let allowed = origin.filter(|o| self.cors_origins.iter().any(|c| c == o || c == "*"));
        if method == "OPTIONS" {
            if let Some(o) = allowed {
                return ScriptedResponse::text(200, "OK")
                    .header("access-control-allow-origin", o)
                    .header(
                        "access-control-allow-methods",
                        "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT",
                    )
                    .header(
                        "access-control-allow-headers",
                        "content-type, authorization",
                    )
                    .header("access-control-max-age", "600")
                    .header("vary", "Origin");
            }
            if origin.is_some() {
                return ScriptedResponse::text(400, "Disallowed CORS origin")
                    .header("vary", "Origin");
            }
        }
        let mut resp = self
            .routes
            .iter()
            .find(|r| (r.method == "*" || r.method == method) && r.path == path)
            .map(ScriptedRoute::answer)
            .unwrap_or_else(|| ScriptedResponse::json(404, r#"{"detail":"Not Found"}"#));
        if let Some(o) = allowed {
            resp = resp
                .header("access-control-allow-origin", o)
                .header("vary", "Origin");
        }
        resp
    }
}
