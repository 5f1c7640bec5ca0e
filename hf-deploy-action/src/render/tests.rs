//! Snapshots of the text and Markdown reports (moved from `hf-deploy-core`, content unchanged).

use std::collections::BTreeMap;

use hf_deploy_core::report::{DeployReport, Durations, FileChanges, HealthSummary};
use hf_deploy_core::verify::{CorsResult, ServiceHealth};
use hf_deploy_core::{Error, SpaceId};

use super::{markdown, strip_ansi, text};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

pub(super) fn base() -> DeployReport {
    let space = SpaceId::parse("alice/rag-chatbot", "--space").expect("space id");
    let mut report = DeployReport::for_space(
        &space,
        "https://huggingface.co",
        "https://alice-rag-chatbot.hf.space/",
        "/api/health",
    );
    report.commit_sha = Some(SHA.into());
    report.changed = true;
    report.stage = Some("RUNNING".into());
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

fn service(status: &str, detail: Option<&str>) -> ServiceHealth {
    ServiceHealth {
        status: status.into(),
        detail: detail.map(String::from),
    }
}

pub(super) fn healthy() -> DeployReport {
    let mut report = base();
    report.health = Some(HealthSummary {
        status: "healthy".into(),
        services: [
            ("fastapi", "ok"),
            ("gemini", "ok"),
            ("postgres", "ok"),
            ("qdrant", "ok"),
        ]
        .into_iter()
        .map(|(n, s)| (n.to_string(), service(s, None)))
        .collect(),
    });
    report.cors = vec![CorsResult {
        origin: "https://alice.github.io".into(),
        allowed: true,
        preflight_status: Some(200),
        allow_origin: Some("https://alice.github.io".into()),
        detail: "preflight 200 and GET allow it (`Access-Control-Allow-Origin: https://alice.github.io`)".into(),
    }];
    report
}

pub(super) fn degraded() -> DeployReport {
    let mut report = base();
    report.changed = false;
    report.health = Some(HealthSummary {
        status: "degraded".into(),
        services: BTreeMap::from([
            ("fastapi".to_string(), service("ok", None)),
            (
                "qdrant".to_string(),
                service(
                    "error",
                    Some("qdrant answered 404 Not Found: the cluster may be suspended"),
                ),
            ),
            ("postgres".to_string(), service("not_configured", None)),
        ]),
    });
    report.cors = vec![CorsResult {
        origin: "https://bob.vercel.app".into(),
        allowed: false,
        preflight_status: Some(400),
        allow_origin: None,
        detail: "the preflight answered 400; the preflight has no `Access-Control-Allow-Origin`"
            .into(),
    }];
    report.warnings = vec!["health is `degraded`; accepted because of `--allow-degraded`".into()];
    report
}

pub(super) fn build_error() -> DeployReport {
    let mut report = base();
    report.health = None;
    report.durations.health_ms = None;
    report.set_error(&Error::SpaceFailed {
        stage: "BUILD_ERROR".into(),
        log_tail: vec![
            "Step 5/9 : RUN pip install --no-cache-dir -r requirements.txt".into(),
            "\x1b[91mERROR: Could not find a version that satisfies the requirement torch==9.9\x1b[0m".into(),
            "see the README: ```pip install``` needs a ````fence```` | pipe <b>html</b>".into(),
            "```".into(),
            "error: subprocess-exited-with-error".into(),
        ],
    });
    report
}

pub(super) fn dry_run() -> DeployReport {
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
        added: vec!["Dockerfile".into(), ".dockerignore".into()],
        modified: vec!["README.md".into(), "app/main.py".into()],
        removed: vec!["old_main.py".into()],
    };
    report.warnings = vec!["`.env` is not pushed (excluded from the Space)".into()];
    report
}

#[test]
fn report_text_snapshots() {
    for (name, report) in [
        ("healthy", healthy()),
        ("degraded", degraded()),
        ("build_error", build_error()),
        ("dry_run", dry_run()),
    ] {
        insta::assert_snapshot!(format!("report_text_{name}"), text::render(&report, false));
    }
}

#[test]
fn report_markdown_snapshots() {
    for (name, report) in [
        ("healthy", healthy()),
        ("degraded", degraded()),
        ("build_error", build_error()),
        ("dry_run", dry_run()),
    ] {
        insta::assert_snapshot!(format!("report_markdown_{name}"), markdown::render(&report));
    }
}

#[test]
fn report_color_only_when_asked() {
    for report in [healthy(), degraded(), build_error(), dry_run()] {
        let plain = text::render(&report, false);
        let colored = text::render(&report, true);
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(colored.contains("\x1b["));
        assert_eq!(strip_ansi(&colored), plain);
    }
}

#[test]
fn report_log_fence_is_longer_than_any_backtick_run() {
    let markdown = markdown::render(&build_error());
    // The log has a run of 4 backticks: the fence is 5, and it opens and closes once.
    assert_eq!(markdown.matches("`````text\n").count(), 1);
    assert!(markdown.contains("\n`````\n\n</details>"));
    assert!(!markdown.contains("``````"));
}

#[test]
fn report_markdown_stays_under_the_limit_by_cutting_the_log_first() {
    let mut report = build_error();
    report.log_tail = (0..50_000)
        .map(|i| format!("log line {i:05} {}", "x".repeat(40)))
        .collect();
    let markdown = markdown::render(&report);
    assert!(markdown.len() <= markdown::MAX_MARKDOWN_BYTES);
    assert!(
        markdown.contains("log line 49999"),
        "the newest lines are kept"
    );
    assert!(
        !markdown.contains("log line 00000 "),
        "the oldest lines are cut"
    );
    assert!(markdown.contains("earlier lines cut</summary>"));
    assert!(markdown.contains("#### Error"), "everything else is kept");

    let comment = markdown::render_within(&report, 65_536);
    assert!(comment.len() <= 65_536);
    assert!(comment.trim_end().ends_with("</details>"));

    // Even without room for any log line, the limit holds.
    let tiny = markdown::render_within(&report, 300);
    assert!(tiny.len() <= 300, "{}", tiny.len());
}

#[test]
fn report_markdown_template_is_strict() {
    let env = markdown::environment();
    let template = env
        .get_template(markdown::TEMPLATE.0)
        .expect("template parses");
    let error = template
        .render(minijinja::context! { headline => "x" })
        .expect_err("a missing value is an error, not an empty string");
    assert_eq!(error.kind(), minijinja::ErrorKind::UndefinedError);
}
