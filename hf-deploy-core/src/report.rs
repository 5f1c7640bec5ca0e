//! The result of a deploy, as data and as JSON.
//!
//! [`DeployReport`] serializes to the object the project's public interface fixes for a
//! deploy's JSON report (`space_id`, `space_url`, `app_url`, `docs_url`, `health_url`,
//! `commit_sha`, `changed`,
//! `stage`, `health`, `secrets_set`, `variables_set`), followed by `error` (only on failure),
//! `cors`, `durations`, `log_tail`, `files`, `warnings` and `dry_run`, and when they apply
//! `local_runtime`, `visibility`, `factory_reboot`, `rolled_back` and `restored_commit`.
//!
//! The report has secret names only, never values. What it quotes from outside (the stage the
//! Hub named, the health answer, the log tail, the error message and the warnings that quote a
//! server or the app, the file names) is a [`RemoteText`], redacted by the run's [`Redactor`]
//! when it was made: its JSON is that redacted text, under the same field names and shapes, and
//! a rendering shows each through the method of its destination. Its text and Markdown
//! renderings live in the binary (`hf-deploy-action/src/render/`): the library only says what
//! happened.

pub use crate::error::utc;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::space::SpaceId;
use crate::untrusted::{Redactor, RemoteText};
use crate::urls::{HealthPath, docs_url};
use crate::verify::{self, CorsResult, Health, ServiceHealth, Verdict, VerifyOutcome};

/// Everything a deploy (or a dry run) found out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeployReport {
    /// `namespace/name`.
    pub space_id: String,
    /// `https://huggingface.co/spaces/namespace/name`.
    pub space_url: String,
    /// The app's base URL, e.g. `https://namespace-name.hf.space`.
    pub app_url: String,
    /// `{app_url}/docs`.
    pub docs_url: String,
    /// `{app_url}{health_path}`.
    pub health_url: String,
    /// The commit now at the Space's `main` (`None` in a dry run or when the push failed).
    pub commit_sha: Option<String>,
    /// True when the push created a new commit.
    pub changed: bool,
    /// The last runtime stage seen (`RUNNING`, `BUILD_ERROR`, ...; an unknown one as the Hub
    /// named it).
    pub stage: Option<RemoteText>,
    /// The health answer; `None` without the wait ([`crate::Field::Wait`] off), in a dry run,
    /// or when none came.
    pub health: Option<HealthSummary>,
    /// Names (never values) of the secrets set.
    pub secrets_set: Vec<String>,
    /// Names of the variables set.
    pub variables_set: Vec<String>,
    /// Names of the secrets found already in place (same value) and left alone.
    #[serde(default)]
    pub secrets_unchanged: Vec<String>,
    /// Names of the variables found already in place (same value) and left alone.
    #[serde(default)]
    pub variables_unchanged: Vec<String>,
    /// What failed, when something did. Serialized only when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ReportError>,
    /// The CORS check, one entry per frontend origin.
    #[serde(default)]
    pub cors: Vec<CorsResult>,
    /// How long each step took.
    #[serde(default)]
    pub durations: Durations,
    /// The last lines of the build or run log (on failure), redacted as one text.
    #[serde(default)]
    pub log_tail: Vec<RemoteText>,
    /// The files the push adds, modifies and removes (the plan).
    #[serde(default)]
    pub files: FileChanges,
    /// Things to look at that did not fail the deploy (they may quote the app, the Hub or a
    /// file name).
    #[serde(default)]
    pub warnings: Vec<RemoteText>,
    /// True for a dry run: nothing was written (reads only).
    #[serde(default)]
    pub dry_run: bool,
    /// A deploy to a local Hub stand-in only: where the Space ran, `docker` or `process`, as
    /// the front end that ran it says. Serialized only when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_runtime: Option<String>,
    /// The Space's visibility after the deploy (`public`, `protected`, `private`), when known.
    /// Serialized only when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    /// True when the deploy rebuilt the Space without the build cache (a factory reboot).
    /// Serialized only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub factory_reboot: bool,
    /// True when an earlier tree was pushed back and verified (without the wait: pushed back):
    /// by a rollback, or by a failed deploy with rollback on failure. Serialized only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rolled_back: bool,
    /// The earlier commit whose tree was pushed back (when one was: also when it did not
    /// verify, then with `rolled_back` false). Serialized only when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_commit: Option<String>,
    /// The Space's head before a rollback (the "from" of `from -> to`); not in the JSON, whose
    /// `commit_sha` is the rollback's commit. For a deploy that rolled back, `commit_sha` is
    /// the failed revision.
    #[serde(skip)]
    pub rolled_back_from: Option<String>,
}

/// The health part of a report: the overall status and each service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthSummary {
    /// `healthy`, `degraded`, `unhealthy`, ... as the app said it.
    pub status: RemoteText,
    /// Each service by name.
    #[serde(default)]
    pub services: BTreeMap<RemoteText, ServiceHealth>,
}

impl From<&Health> for HealthSummary {
    fn from(health: &Health) -> Self {
        HealthSummary {
            status: health.status.clone(),
            services: health.services.clone(),
        }
    }
}

impl HealthSummary {
    /// What the overall status means: the same rule as the deploy's accept step.
    pub fn verdict(&self) -> Verdict {
        verify::verdict(self.status.as_data())
    }

    /// True when the overall status means healthy ([`Verdict::Healthy`]).
    pub fn is_healthy(&self) -> bool {
        self.verdict() == Verdict::Healthy
    }
}

/// `error` of a failed report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportError {
    /// [`Error::kind`], e.g. `space_failed`.
    pub kind: String,
    /// The message with its causes, `: `-separated (it quotes what a server or the app said).
    pub message: RemoteText,
}

impl ReportError {
    /// The report of `error`: its kind, and its message with its causes redacted by
    /// `redactor` (the run's).
    pub fn new(error: &Error, redactor: &Redactor) -> Self {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            let _ = write!(message, ": {cause}");
            source = cause.source();
        }
        ReportError {
            kind: error.kind().to_string(),
            message: RemoteText::new(&message, redactor),
        }
    }
}

/// Milliseconds per step; `None` for a step that did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Durations {
    /// Scaffolding the Space tree.
    pub scaffold_ms: Option<u64>,
    /// Committing and pushing.
    pub push_ms: Option<u64>,
    /// Waiting for the build and start (stage `RUNNING`).
    pub build_ms: Option<u64>,
    /// Waiting for a healthy answer.
    pub health_ms: Option<u64>,
    /// The whole run.
    pub total_ms: Option<u64>,
}

/// Paths the push adds, modifies and removes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileChanges {
    /// New files (names from the source folder).
    pub added: Vec<RemoteText>,
    /// Changed files.
    pub modified: Vec<RemoteText>,
    /// Deleted files (names from the Space's repository).
    pub removed: Vec<RemoteText>,
}

impl FileChanges {
    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }
}

impl DeployReport {
    /// A report with the URLs of `space` filled in: the Space page under `endpoint`, the docs
    /// and health URLs appended to `app_url` (which may carry a path).
    pub fn for_space(
        space: &SpaceId,
        endpoint: &str,
        app_url: &str,
        health_path: &HealthPath,
    ) -> Self {
        let mut report = DeployReport {
            space_id: space.to_string(),
            space_url: space.web_url(endpoint),
            ..DeployReport::default()
        };
        report.set_app_url(app_url, health_path);
        report
    }

    /// The report of the app at `app_url` alone (no Space known).
    pub fn for_app(app_url: &str, health_path: &HealthPath) -> Self {
        let mut report = DeployReport::default();
        report.set_app_url(app_url, health_path);
        report
    }

    /// Set the app URL and the URLs derived from it: docs and health (the one place they are
    /// joined).
    pub(crate) fn set_app_url(&mut self, app_url: &str, health_path: &HealthPath) {
        let app_url = app_url.trim_end_matches('/');
        self.docs_url = docs_url(app_url);
        self.health_url = health_path.url(app_url);
        self.app_url = app_url.to_string();
    }

    /// Record `error` (and, for a failed Space, its log tail), its text redacted by `redactor`
    /// (the run's).
    pub fn set_error(&mut self, error: &Error, redactor: &Redactor) {
        if let Error::SpaceFailed { stage, log_tail } = error {
            self.stage = Some(stage.to_remote(redactor));
            if self.log_tail.is_empty() {
                self.log_tail = log_tail.redacted_by(redactor).lines();
            }
        }
        self.error = Some(ReportError::new(error, redactor));
    }

    /// Record what [`verify::verify_app`] found (health, its wait, CORS, warnings) and return
    /// its error, if any; the report's [`outcome`](Self::outcome) then agrees with it.
    pub fn record_verification(&mut self, outcome: VerifyOutcome) -> Option<Error> {
        self.health = outcome.health.as_ref().map(HealthSummary::from);
        self.durations.health_ms =
            Some(u64::try_from(outcome.health_elapsed.as_millis()).unwrap_or(u64::MAX));
        self.cors = outcome.cors;
        self.warnings.extend(outcome.warnings);
        outcome.error
    }

    /// The one-word outcome a rendering leads with.
    pub fn outcome(&self) -> Outcome {
        if self.error.is_some() {
            Outcome::Failed
        } else if self.dry_run {
            Outcome::DryRun
        } else {
            match &self.health {
                None => Outcome::NotVerified,
                Some(health) if health.is_healthy() && self.cors.iter().all(|c| c.allowed) => {
                    Outcome::Healthy
                }
                Some(_) => Outcome::Degraded,
            }
        }
    }
}

/// How a deploy ended, as the renderers headline it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Healthy, and every origin passes CORS.
    Healthy,
    /// Answering, but not healthy (accepted as degraded health was allowed) or an origin is
    /// blocked.
    Degraded,
    /// Pushed, but not waited for (the wait was off).
    NotVerified,
    /// A dry run.
    DryRun,
    /// Something failed: see `error`.
    Failed,
}

/// Sample reports (healthy, degraded, a build error, a dry run) for the snapshot tests of this
/// crate and of the front ends that render reports. Not part of the API: built only for tests
/// (feature `samples`).
#[cfg(any(test, feature = "samples"))]
#[doc(hidden)]
pub mod samples {
    use std::collections::BTreeMap;

    use super::*;
    use crate::verify::{CorsResult, ServiceHealth};

    /// Text from outside, for a sample.
    pub fn text(text: &str) -> RemoteText {
        RemoteText::new(text, &Redactor::none())
    }

    pub const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    pub fn base() -> DeployReport {
        let space = SpaceId::parse("alice/rag-chatbot", crate::Field::Space).expect("space id");
        let mut report = DeployReport::for_space(
            &space,
            "https://huggingface.co",
            "https://alice-rag-chatbot.hf.space/",
            &HealthPath::default(),
        );
        report.commit_sha = Some(SHA.into());
        report.changed = true;
        report.stage = Some(text("RUNNING"));
        report.secrets_set = vec![
            "ALLOWED_ORIGINS".into(),
            "DATABASE_URL".into(),
            "GEMINI_API_KEY".into(),
            "QDRANT_URL".into(),
        ];
        report.variables_set = vec!["LOG_LEVEL".into()];
        report.durations = Durations {
            scaffold_ms: Some(42),
            push_ms: Some(2310),
            build_ms: Some(95_400),
            health_ms: Some(3200),
            total_ms: Some(101_000),
        };
        report
    }

    pub fn service(status: &str, detail: Option<&str>) -> ServiceHealth {
        ServiceHealth {
            status: text(status),
            detail: detail.map(text),
        }
    }

    pub fn healthy() -> DeployReport {
        let mut report = base();
        report.health = Some(HealthSummary {
            status: text("healthy"),
            services: [
                ("fastapi", "ok"),
                ("gemini", "ok"),
                ("postgres", "ok"),
                ("qdrant", "ok"),
            ]
            .into_iter()
            .map(|(n, s)| (text(n), service(s, None)))
            .collect(),
        });
        report.cors = vec![CorsResult {
            origin: "https://alice.github.io".into(),
            allowed: true,
            preflight_status: Some(200),
            allow_origin: Some(text("https://alice.github.io")),
            detail: text(
                "preflight 200 and GET allow it (`Access-Control-Allow-Origin: https://alice.github.io`)",
            ),
        }];
        report
    }

    pub fn degraded() -> DeployReport {
        let mut report = base();
        report.changed = false;
        report.health = Some(HealthSummary {
            status: text("degraded"),
            services: BTreeMap::from([
                (text("fastapi"), service("ok", None)),
                (
                    text("qdrant"),
                    service(
                        "error",
                        Some("qdrant answered 404 Not Found: the cluster may be suspended"),
                    ),
                ),
                (text("postgres"), service("not_configured", None)),
            ]),
        });
        report.cors = vec![CorsResult {
            origin: "https://bob.vercel.app".into(),
            allowed: false,
            preflight_status: Some(400),
            allow_origin: None,
            detail: text(
                "the preflight answered 400; the preflight has no `Access-Control-Allow-Origin`",
            ),
        }];
        report.warnings = vec![text(
            "health is `degraded`; accepted because of `--allow-degraded`",
        )];
        report
    }

    pub fn build_error() -> DeployReport {
        let mut report = base();
        report.health = None;
        report.durations.health_ms = None;
        report.set_error(
            &Error::SpaceFailed {
                stage: crate::hub::SpaceStage::BuildError,
                log_tail: text(
                    "Step 5/9 : RUN pip install --no-cache-dir -r requirements.txt\n\
                     \x1b[91mERROR: Could not find a version that satisfies the requirement torch==9.9\x1b[0m\n\
                     see the README: ```pip install``` needs a ````fence```` | pipe <b>html</b>\n\
                     ```\n\
                     error: subprocess-exited-with-error",
                ),
            },
            &Redactor::none(),
        );
        report
    }

    pub fn dry_run() -> DeployReport {
        let mut report = base();
        report.dry_run = true;
        report.commit_sha = None;
        report.changed = true;
        report.stage = None;
        report.durations = Durations {
            scaffold_ms: Some(12),
            total_ms: Some(15),
            ..Durations::default()
        };
        report.files = FileChanges {
            added: vec![text("Dockerfile"), text(".dockerignore")],
            modified: vec![text("README.md"), text("app/main.py")],
            removed: vec![text("old_main.py")],
        };
        report.warnings = vec![text("`.env` is not pushed (excluded from the Space)")];
        report
    }
}

#[cfg(test)]
mod tests {
    use super::samples::*;
    use super::*;

    #[test]
    fn report_json_has_exactly_the_interface_fields() {
        let json = serde_json::to_value(healthy()).expect("serialize");
        let keys: Vec<&str> = json
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "space_id",
                "space_url",
                "app_url",
                "docs_url",
                "health_url",
                "commit_sha",
                "changed",
                "stage",
                "health",
                "secrets_set",
                "variables_set",
                "secrets_unchanged",
                "variables_unchanged",
                "cors",
                "durations",
                "log_tail",
                "files",
                "warnings",
                "dry_run",
            ]
        );
        assert_eq!(json["health"]["status"], "healthy");
        assert_eq!(json["docs_url"], "https://alice-rag-chatbot.hf.space/docs");
        assert_eq!(
            json["health_url"],
            "https://alice-rag-chatbot.hf.space/api/health"
        );
        insta::assert_json_snapshot!("report_json_healthy", healthy());

        let failed = serde_json::to_value(build_error()).expect("serialize");
        assert_eq!(failed["error"]["kind"], "space_failed");
        assert_eq!(
            failed["error"]["message"],
            "the Space ended in stage BUILD_ERROR"
        );
        assert_eq!(failed["stage"], "BUILD_ERROR");
        assert_eq!(failed["health"], serde_json::Value::Null);
        assert_eq!(failed["log_tail"].as_array().map(Vec::len), Some(5));
    }

    #[test]
    fn report_json_round_trips_and_reads_the_interface_example() {
        for report in [healthy(), degraded(), build_error(), dry_run()] {
            let text = serde_json::to_string(&report).expect("serialize");
            let back: DeployReport = serde_json::from_str(&text).expect("deserialize");
            assert_eq!(back, report);
        }
        // The example of interface.md, as a client would parse it.
        let example = r#"{"space_id": "ns/name", "space_url": "https://huggingface.co/spaces/ns/name",
 "app_url": "https://ns-name.hf.space", "docs_url": "https://ns-name.hf.space/docs",
 "health_url": "https://ns-name.hf.space/api/health", "commit_sha": "0123456789abcdef0123456789abcdef01234567",
 "changed": true, "stage": "RUNNING",
 "health": {"status": "healthy", "services": {"fastapi": {"status": "ok"}}},
 "secrets_set": ["GEMINI_API_KEY"], "variables_set": ["LOG_LEVEL"]}"#;
        let parsed: DeployReport = serde_json::from_str(example).expect("interface example");
        assert_eq!(parsed.outcome(), Outcome::Healthy);
        assert!(parsed.error.is_none() && !parsed.dry_run);
    }

    /// The report's text from outside is `RemoteText` now; its JSON is what it was when those
    /// fields were `String`s: the same names, strings, lists of strings and maps keyed by
    /// string (this is the JSON of the build-error sample as the `String` fields wrote it).
    #[test]
    fn report_json_keeps_its_shape_with_remote_text() {
        let json = serde_json::to_value(build_error()).expect("serialize");
        assert_eq!(json["stage"], "BUILD_ERROR");
        assert_eq!(
            json["log_tail"],
            serde_json::json!([
                "Step 5/9 : RUN pip install --no-cache-dir -r requirements.txt",
                "\u{1b}[91mERROR: Could not find a version that satisfies the requirement torch==9.9\u{1b}[0m",
                "see the README: ```pip install``` needs a ````fence```` | pipe <b>html</b>",
                "```",
                "error: subprocess-exited-with-error"
            ])
        );
        assert_eq!(
            json["error"],
            serde_json::json!({"kind": "space_failed", "message": "the Space ended in stage BUILD_ERROR"})
        );
        let degraded = serde_json::to_value(degraded()).expect("serialize");
        assert_eq!(
            degraded["health"],
            serde_json::json!({"status": "degraded", "services": {
                "fastapi": {"status": "ok"},
                "postgres": {"status": "not_configured"},
                "qdrant": {"status": "error", "detail": "qdrant answered 404 Not Found: the cluster may be suspended"}
            }})
        );
        assert_eq!(
            degraded["cors"][0],
            serde_json::json!({"origin": "https://bob.vercel.app", "allowed": false,
                "preflight_status": 400, "allow_origin": null,
                "detail": "the preflight answered 400; the preflight has no `Access-Control-Allow-Origin`"})
        );
        assert_eq!(
            degraded["warnings"],
            serde_json::json!(["health is `degraded`; accepted because of `--allow-degraded`"])
        );
        let plan = serde_json::to_value(dry_run()).expect("serialize");
        assert_eq!(
            plan["files"],
            serde_json::json!({"added": ["Dockerfile", ".dockerignore"],
                "modified": ["README.md", "app/main.py"], "removed": ["old_main.py"]})
        );
    }

    /// The run's secrets are redacted out of the error and the log tail the report records.
    #[test]
    fn a_failed_space_is_recorded_redacted() {
        let redactor = Redactor::builder()
            .secret(&crate::SecretString::new("AIzaSy-report-secret-1"))
            .build();
        let mut report = DeployReport::default();
        report.set_error(
            &Error::SpaceFailed {
                stage: crate::hub::SpaceStage::RuntimeError,
                log_tail: text("boot\nGEMINI_API_KEY=AIzaSy-report-secret-1\nexit 1"),
            },
            &redactor,
        );
        let json = serde_json::to_string(&report).expect("serialize");
        assert!(!json.contains("report-secret"), "{json}");
        assert_eq!(report.log_tail[1], "GEMINI_API_KEY=***");
        assert_eq!(
            report.stage.as_ref().map(RemoteText::as_data),
            Some("RUNTIME_ERROR")
        );
    }

    #[test]
    fn report_error_message_carries_the_cause_chain() {
        let error = Error::io(
            "read",
            "backend/app/main.py",
            std::io::Error::other("permission denied"),
        );
        let reported = ReportError::new(&error, &Redactor::none());
        assert_eq!(reported.kind, "io");
        assert_eq!(
            reported.message.as_data(),
            "failed to read `backend/app/main.py`: permission denied"
        );
    }
}
