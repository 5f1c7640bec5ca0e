//! Snapshots of the text and Markdown reports, of the sample reports `hf-deploy-core` keeps for
//! its own JSON snapshots (`report::samples`, feature `samples`).

use hf_deploy_core::report::samples::{build_error, degraded, dry_run, healthy};
use hf_deploy_core::{Redactor, RemoteText};

use super::{markdown, text};

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
        insta::assert_snapshot!(
            format!("report_markdown_{name}"),
            markdown::summary(&report, &Redactor::none())
        );
    }
}

#[test]
fn report_color_only_when_asked() {
    for report in [healthy(), degraded(), build_error(), dry_run()] {
        let plain = text::render(&report, false);
        let colored = text::render(&report, true);
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(colored.contains("\x1b["));
        let uncoloured = RemoteText::with_max_bytes(&colored, &Redactor::none(), usize::MAX);
        assert_eq!(uncoloured.terminal(), plain);
    }
}

#[test]
fn report_log_fence_is_longer_than_any_backtick_run() {
    let markdown = markdown::summary(&build_error(), &Redactor::none());
    // The log has a run of 4 backticks and none of tildes: the fence is 3 tildes, and it
    // opens and closes once.
    assert_eq!(markdown.matches("~~~text\n").count(), 1);
    assert!(markdown.contains("\n~~~\n\n</details>"));
    assert!(!markdown.contains("~~~~"));
}

#[test]
fn report_markdown_template_is_strict() {
    let env = markdown::environment(&Redactor::none());
    for (name, _) in markdown::TEMPLATES {
        let template = env.get_template(name).expect("template parses");
        let error = template
            .render(minijinja::context! { headline => "x" })
            .expect_err("a missing value is an error, not an empty string");
        assert_eq!(error.kind(), minijinja::ErrorKind::UndefinedError, "{name}");
    }
}
