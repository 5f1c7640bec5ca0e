//! The comment and the summary as whole documents: the comment's parts and marker, one
//! redacted log tail, and the one size budget.

use hf_deploy_core::report::samples::{build_error, dry_run, healthy, text};
use hf_deploy_core::report::{DeployReport, HealthSummary};
use hf_deploy_core::verify::ServiceHealth;
use hf_deploy_core::{Redactor, SecretString};

use super::{Comment, EndOutcome, Ended, MAX_CHARS, comment, ended, summary};

const MARKER: &str = "<!-- hf-deploy:space=alice/rag-chatbot -->";

fn failed_comment(report: &DeployReport, redactor: &Redactor) -> String {
    comment(&Comment {
        report,
        space: "alice/rag-chatbot",
        succeeded: false,
        head_sha: Some("0123456789abcdef"),
        run_url: None,
        marker: MARKER,
        redactor,
    })
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

#[test]
fn comment_has_a_header_the_report_the_log_a_footer_and_the_marker_last() {
    let mut report = build_error();
    report.log_tail = vec![text("step 1"), text("````"), text("```python")];
    let body = failed_comment(&report, &Redactor::none());
    assert!(
        body.starts_with(
            "### \u{274c} Hugging Face Space `alice/rag-chatbot` failed to deploy\n\n### \u{274c} Deploy of `alice/rag-chatbot` failed\n\n| | |\n"
        ),
        "{body}"
    );
    assert!(
        body.contains("\n~~~text\nstep 1\n````\n```python\n~~~\n"),
        "a fence no line closes: {body}"
    );
    assert_eq!(body.matches("<details>").count(), 1, "one log tail: {body}");
    assert!(
        body.ends_with(&format!(
            "</details>\n\n<sub>Deployed by hf-deploy for commit `0123456`</sub>\n\n{MARKER}\n"
        )),
        "{body}"
    );

    let ok = comment(&Comment {
        report: &healthy(),
        space: "alice/rag-chatbot",
        succeeded: true,
        head_sha: None,
        run_url: Some("https://x.example/run"),
        marker: MARKER,
        redactor: &Redactor::none(),
    });
    assert!(
        ok.starts_with(
            "### \u{2705} Hugging Face Space `alice/rag-chatbot` deployed\n\n### \u{2705} "
        ),
        "{ok}"
    );
    assert!(!ok.contains("<details>"), "{ok}");
    assert!(
        ok.ends_with(&format!(
            "<sub>Deployed by hf-deploy for [workflow run](https://x.example/run)</sub>\n\n{MARKER}\n"
        )),
        "{ok}"
    );
    let both = comment(&Comment {
        head_sha: Some("abcdef0123"),
        ..Comment {
            report: &healthy(),
            space: "alice/rag-chatbot",
            succeeded: true,
            head_sha: None,
            run_url: Some("https://x.example/run"),
            marker: MARKER,
            redactor: &Redactor::none(),
        }
    });
    assert!(
        both.contains("for commit `abcdef0` · [workflow run](https://x.example/run)</sub>"),
        "{both}"
    );
}

#[test]
fn the_log_tail_is_shown_once_and_redacted_in_comment_and_summary() {
    let secrets = [
        SecretString::new("AIzaSyD-gemini-secret-value"),
        SecretString::new("qdrant-api-key-987"),
        SecretString::new("ab"),
    ];
    let redactor = Redactor::builder().secrets(&secrets).build();
    let mut report = build_error();
    report.log_tail = vec![
        text("Traceback (most recent call last):"),
        text(
            "  settings: GEMINI_API_KEY=AIzaSyD-gemini-secret-value QDRANT_API_KEY=qdrant-api-key-987",
        ),
        // A secret split by a colour escape is still found.
        text("key: qdrant-api-\u{1b}[1mkey-987\u{1b}[0m"),
        text("RuntimeError: ```boom``` ab"),
    ];
    for text in [
        failed_comment(&report, &redactor),
        summary(&report, &redactor),
    ] {
        assert_eq!(text.matches("<details>").count(), 1, "{text}");
        assert!(
            text.contains("GEMINI_API_KEY=*** QDRANT_API_KEY=***"),
            "{text}"
        );
        assert!(text.contains("key: ***\n"), "{text}");
        assert!(
            text.contains("```boom``` ***\n"),
            "a secret under 4 characters, as the last word of the log: {text}"
        );
        for secret in ["AIzaSyD-gemini-secret-value", "qdrant-api-key-987"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}

/// The comment of a preview ended by its pull request's closing.
fn closed(space: &str, merged: bool, deleted: bool, marker: &str) -> String {
    ended(
        &Ended {
            space,
            merged,
            label_removed: None,
            outcome: if deleted {
                EndOutcome::Deleted
            } else {
                EndOutcome::Gone
            },
            marker,
        },
        &Redactor::none(),
    )
}

#[test]
fn closed_comment_says_what_happened_to_the_preview() {
    let marker = "<!-- hf-deploy:space=alice/rag-chatbot-pr-17 -->";
    assert_eq!(
        closed("alice/rag-chatbot-pr-17", true, true, marker),
        format!(
            "### \u{1f5d1}\u{fe0f} Hugging Face Space preview deleted\n\nThe pull request was merged; preview deleted: the Space `alice/rag-chatbot-pr-17` was removed.\n\n{marker}\n"
        )
    );
    let gone = closed("alice/rag-chatbot-pr-17", false, false, marker);
    assert!(
        gone.contains(
            "The pull request was closed; the preview Space `alice/rag-chatbot-pr-17` was already gone."
        ),
        "{gone}"
    );
    assert!(gone.ends_with(&format!("{marker}\n")));
}

#[test]
fn a_preview_left_in_place_or_unlabeled_says_why() {
    let marker = "<!-- hf-deploy:space=alice/rag-chatbot-pr-17 -->";
    let kept = ended(
        &Ended {
            space: "alice/rag-chatbot-pr-17",
            merged: false,
            label_removed: None,
            outcome: EndOutcome::Kept {
                found: Some("mallory/other#3 `@team` <img src=x>"),
                expected: "alice/app#17",
            },
            marker,
        },
        &Redactor::none(),
    );
    assert!(
        kept.starts_with("### \u{26a0}\u{fe0f} Hugging Face Space preview left in place\n\n"),
        "{kept}"
    );
    assert!(
        kept.contains(
            "the Space `alice/rag-chatbot-pr-17` was left in place: it carries the preview mark"
        ) && kept.contains("not `alice/app#17`"),
        "{kept}"
    );
    assert!(
        kept.contains("``mallory/other#3 `@team` <img src=x>``"),
        "the Hub's value is a code span no backtick inside closes: {kept}"
    );
    let unmarked = ended(
        &Ended {
            space: "alice/rag-chatbot-pr-17",
            merged: true,
            label_removed: None,
            outcome: EndOutcome::Kept {
                found: None,
                expected: "alice/app#17",
            },
            marker,
        },
        &Redactor::none(),
    );
    assert!(
        unmarked.contains("was merged; the Space `alice/rag-chatbot-pr-17` was left in place: it carries no preview mark"),
        "{unmarked}"
    );
    let unlabeled = ended(
        &Ended {
            space: "alice/rag-chatbot-pr-17",
            merged: false,
            label_removed: Some("preview"),
            outcome: EndOutcome::Deleted,
            marker,
        },
        &Redactor::none(),
    );
    assert!(
        unlabeled.contains("The pull request lost the label `preview`; preview deleted"),
        "{unlabeled}"
    );
    assert!(unlabeled.ends_with(&format!("{marker}\n")));
}

#[test]
fn summary_stays_under_the_budget_by_cutting_the_log() {
    let mut report = build_error();
    report.log_tail = (0..50_000)
        .map(|i| text(&format!("log line {i:05} {}", "x".repeat(40))))
        .collect();
    let markdown = summary(&report, &Redactor::none());
    assert!(chars(&markdown) <= MAX_CHARS, "{}", chars(&markdown));
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
    assert!(
        markdown.ends_with("`\n\n</details>\n"),
        "{}",
        &markdown[markdown.len() - 40..]
    );
    // The cut is the smallest that fits: one more log line would not.
    let kept = markdown.matches("\nlog line ").count();
    assert!(
        chars(&markdown) + 56 > MAX_CHARS,
        "{kept} lines kept in {} characters",
        chars(&markdown)
    );
}

#[test]
fn comment_cuts_the_file_list_first_then_the_log_never_the_marker() {
    let mut report = dry_run();
    report.files.added = (0..5_000)
        .map(|i| text(&format!("app/module_{i:04}.py")))
        .collect();
    report.log_tail = (0..100)
        .map(|i| text(&format!("log line {i:03}")))
        .collect();
    let body = failed_comment(&report, &Redactor::none());
    assert!(chars(&body) <= MAX_CHARS, "{}", chars(&body));
    assert!(
        body.contains("5000 added, 2 modified, 1 removed"),
        "the counts stay"
    );
    assert!(
        body.contains("- added: `app/module_0000.py`"),
        "the list starts as it was"
    );
    assert!(!body.contains("module_4999.py"), "its end is cut");
    assert!(body.contains("more, not listed"), "{body}");
    assert!(
        body.contains("log line 000") && body.contains("log line 099"),
        "the log is whole while files could go"
    );
    assert!(!body.contains("earlier lines cut"));
    assert!(body.ends_with(&format!("{MARKER}\n")));

    report.log_tail = (0..20_000)
        .map(|i| text(&format!("log line {i:05}")))
        .collect();
    let body = failed_comment(&report, &Redactor::none());
    assert!(chars(&body) <= MAX_CHARS, "{}", chars(&body));
    assert!(!body.contains("- added:"), "every file line went first");
    assert!(
        body.contains("- … and 5003 more, not listed"),
        "{}",
        &body[..2000]
    );
    assert!(body.contains("log line 19999") && !body.contains("log line 00000"));
    assert!(body.contains("earlier lines cut</summary>"));
    assert!(body.ends_with(&format!("{MARKER}\n")));
}

#[test]
fn a_report_too_large_without_files_and_log_keeps_its_headline_and_marker() {
    let mut report = healthy();
    let services = (0..3_000)
        .map(|i| {
            (
                text(&format!("service-{i:04}")),
                ServiceHealth {
                    status: text("error"),
                    detail: Some(text(&"d".repeat(100))),
                },
            )
        })
        .collect();
    report.health = Some(HealthSummary {
        status: text("unhealthy"),
        services,
    });
    report.log_tail = vec![text("a log line")];
    let markdown = summary(&report, &Redactor::none());
    assert!(chars(&markdown) <= MAX_CHARS);
    assert!(markdown.starts_with("### "), "{markdown}");
    assert!(markdown.contains("too large to show here"), "{markdown}");
    assert!(!markdown.contains("service-0000"));
    let body = failed_comment(&report, &Redactor::none());
    assert!(chars(&body) <= MAX_CHARS);
    assert!(body.contains("too large to show here"), "{body}");
    assert!(body.ends_with(&format!("{MARKER}\n")), "{body}");
}
