//! Snapshots of the text and Markdown reports, of the sample reports `hf-deploy-core` keeps for
//! its own JSON snapshots (`report::samples`, feature `samples`).

use hf_deploy_core::report::samples::{build_error, degraded, dry_run, healthy};

use super::{markdown, strip_ansi, text};

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
