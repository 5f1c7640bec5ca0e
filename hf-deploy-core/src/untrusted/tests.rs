//! [`RemoteText`] on the cases that started it: an app that prints its settings when it
//! crashes, a health answer that forges workflow commands, Markdown from the app, escape
//! sequences in build logs.

use super::*;
use crate::secret::SecretString;

const GEMINI: &str = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY";
const DB_PASSWORD: &str = "s3cr3t-pa55";

fn redactor() -> Redactor {
    Redactor::builder()
        .secret(&SecretString::new(GEMINI))
        .secret(&SecretString::new(format!(
            "postgresql://app:{DB_PASSWORD}@db.example.com:5432/app"
        )))
        .secret(&SecretString::new(concat!(
            "hf",
            "_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
        )))
        .build()
}

/// What pydantic prints when the settings do not validate, as the Hub's run log shows it.
fn crash_log() -> Vec<String> {
    [
        "INFO:     Started server process [1]",
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings",
        "database_url",
        &format!(
            "  Input should be a valid URL [type=url_parsing, input_value='postgresql://app:{DB_PASSWORD}@db', input_type=str]"
        ),
        &format!("GEMINI_API_KEY={GEMINI}"),
        "DATABASE_URL=postgresql://app:s3cr3t-",
        "pa55@db.example.com:5432/app",
    ]
    .iter()
    .map(ToString::to_string)
    .collect()
}

fn assert_no_secret(shown: &str) {
    for secret in [GEMINI, DB_PASSWORD, "hf_AbCdEf", "pa55@db", "AIzaSy"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn a_crash_log_shows_no_secret_in_any_destination() {
    let log = RemoteText::log_tail(&crash_log(), 50, 4096, &redactor());
    assert!(!log.is_truncated());
    for shown in [
        log.terminal(),
        log.workflow_log(),
        log.workflow_command_data(),
        log.markdown_inline(),
        log.markdown_code_block("text"),
        log.as_data().to_string(),
        format!("{log:?}"),
        serde_json::to_string(&log).expect("json"),
    ] {
        assert_no_secret(&shown);
    }
    assert!(log.as_data().contains("GEMINI_API_KEY=***\n"));
    assert!(log.as_data().ends_with("DATABASE_URL=***\n***"));
    assert!(
        log.as_data()
            .contains("input_value='postgresql://app:***@db'")
    );
}

#[test]
fn a_tail_that_starts_inside_a_secret_shows_none_of_it() {
    // The tail's last line is the second half of the URL: the context before it finds it.
    let log = RemoteText::log_tail(&crash_log(), 1, 4096, &redactor());
    assert!(log.is_truncated());
    assert_eq!(log.as_data(), "***");
    // Without the context (the log itself starts there), the edge rule finds the piece.
    let cut = RemoteText::log_tail(&["MBWY and more", "x"], 2, 4096, &redactor());
    assert_eq!(cut.as_data(), "*** and more\nx");
    let cut = RemoteText::log_tail(&["BWY and more", "x"], 2, 4096, &redactor());
    assert_eq!(cut.as_data(), "BWY and more\nx", "three characters: left");
}

#[test]
fn a_tail_keeps_its_last_lines_and_bytes() {
    let lines: Vec<String> = (1..=10).map(|n| format!("line {n}")).collect();
    let none = Redactor::none();
    assert_eq!(
        RemoteText::log_tail(&lines, 3, 4096, &none).as_data(),
        "line 8\nline 9\nline 10"
    );
    assert_eq!(
        RemoteText::log_tail(&lines, 3, 9, &none).as_data(),
        "9\nline 10"
    );
    assert_eq!(RemoteText::log_tail(&lines, 0, 4096, &none).as_data(), "");
    assert_eq!(
        RemoteText::log_tail(&lines[..2], 5, 4096, &none).as_data(),
        "line 1\nline 2"
    );
    assert!(!RemoteText::log_tail(&lines[..2], 5, 4096, &none).is_truncated());
    let empty: [&str; 0] = [];
    assert!(RemoteText::log_tail(&empty, 5, 4096, &none).is_empty());
}

#[test]
fn a_cap_that_cuts_a_secret_shows_none_of_it() {
    let body = format!("bad key {GEMINI} and more text");
    let text = RemoteText::with_max_bytes(&body, &redactor(), "bad key ".len() + 10);
    assert!(text.is_truncated());
    assert_eq!(text.as_data(), "bad key *** and mo");
    // Raw text that already ends in a piece of a value (an upstream cut).
    let text = RemoteText::new(&body[.."bad key ".len() + 10], &redactor());
    assert!(!text.is_truncated());
    assert_eq!(text.as_data(), "bad key ***");
}

#[test]
fn a_cap_keeps_characters_whole() {
    let text = RemoteText::with_max_bytes("ééé", &Redactor::none(), 3);
    assert_eq!(text.as_data(), "é");
    assert!(text.is_truncated());
    let huge = "x".repeat(RemoteText::DEFAULT_MAX_BYTES * 4);
    assert_eq!(
        RemoteText::new(&huge, &Redactor::none()).as_data().len(),
        RemoteText::DEFAULT_MAX_BYTES
    );
}

#[test]
fn a_forged_health_status_is_no_output_and_no_command() {
    let status = RemoteText::new(
        "healthy\n::error file=app/main.py,line=1::forged\n::stop-commands::abc",
        &redactor(),
    );
    let vocabulary = ["healthy", "degraded", "unhealthy", "unknown"];
    assert_eq!(status.output_word(&vocabulary, "unknown"), "unknown");
    assert_eq!(
        status.workflow_log(),
        "healthy\n\\::error file=app/main.py,line=1::forged\n\\::stop-commands::abc"
    );
    assert_eq!(
        status.workflow_command_data(),
        "healthy%0A::error file=app/main.py,line=1::forged%0A::stop-commands::abc"
    );
    let plain = RemoteText::new(" Healthy \n", &redactor());
    assert_eq!(plain.output_word(&vocabulary, "unknown"), "healthy");
}

#[test]
fn markdown_from_the_app_is_inert() {
    let detail = RemoteText::new(
        "see [fix](https://phish.example) ![x](https://tracker.example/p.png) @someone #12\n<img src=x>",
        &redactor(),
    );
    let line = detail.markdown_inline();
    for live in ["](", "@someone", "#12", "https://", "\n"] {
        assert!(!line.contains(live), "{live} in {line}");
    }
    assert!(line.contains("\\<img src\\=x\\>"), "{line}");
    let block = RemoteText::new("```\nbreak out\n```", &redactor()).markdown_code_block("text");
    assert_eq!(block, "~~~text\n```\nbreak out\n```\n~~~\n");
}

#[test]
fn build_log_escapes_never_reach_the_terminal() {
    let line = RemoteText::new(
        "\u{1b}[32mStep 3/7\u{1b}[0m \u{1b}]8;;https://x\u{7}link\u{1b}]8;;\u{7}\u{1b}[2J\rdone\u{202e}",
        &redactor(),
    );
    assert_eq!(line.terminal(), "Step 3/7 link\ndone\\u{202e}");
}

#[test]
fn a_secret_split_by_an_escape_sequence_is_redacted_once_the_sequence_is_gone() {
    let text = RemoteText::new(
        &format!("key {}\u{1b}[0m{}", &GEMINI[..20], &GEMINI[20..]),
        &redactor(),
    );
    assert_eq!(text.terminal(), "key ***");
    assert_eq!(text.markdown_inline(), "key \\*\\*\\*");
    assert!(!text.markdown_code_block("").contains(&GEMINI[..20]));
}

#[test]
fn an_escaping_that_writes_a_secret_shows_the_mark_alone() {
    // A pathological value: what the Markdown escaping writes for `a[b]c`.
    let r = Redactor::builder()
        .secret(&SecretString::new("a\\[b\\]c"))
        .build();
    let text = RemoteText::new("a[b]c", &r);
    assert_eq!(text.as_data(), "a[b]c");
    assert_eq!(text.markdown_inline(), "\\*\\*\\*");
}

#[test]
fn debug_and_json_show_the_redacted_text_escaped() {
    let text = RemoteText::new(&format!("key={GEMINI}\u{1b}[0m\u{202e}"), &redactor());
    assert_eq!(
        format!("{text:?}"),
        "RemoteText(\"key=***\\u{1b}[0m\\u{202e}\")"
    );
    assert_eq!(
        serde_json::to_string(&text).expect("json"),
        "\"key=***\\u001b[0m\u{202e}\""
    );
    assert_eq!(text, RemoteText::new(text.as_data(), &Redactor::none()));
}

#[test]
fn a_debug_frame_that_completes_a_secret_shows_the_mark_alone() {
    // Found by the long property run: the text ends with two characters of a value whose rest
    // is the `")` that Debug writes after it.
    let r = Redactor::builder()
        .secret(&SecretString::new("\u{10fbb}G\")"))
        .build();
    let text = RemoteText::new("\u{10fbb}G", &r);
    assert_eq!(text.as_data(), "\u{10fbb}G");
    assert_eq!(format!("{text:?}"), "RemoteText(\"***\")");
}

#[test]
fn a_code_span_of_app_text_is_inert_and_redacted() {
    let name = RemoteText::new(
        &format!("<script>|`x`\n[a](https://b) key={GEMINI}"),
        &redactor(),
    );
    let span = name.markdown_code_span();
    assert_eq!(span, "``<script>\\|`x` [a](https://b) key=***``");
    assert_eq!(RemoteText::new("", &redactor()).markdown_code_span(), "");
}

#[test]
fn lines_split_a_tail_redacted_whole() {
    let log = RemoteText::log_tail(&crash_log(), 3, 4096, &redactor());
    let lines = log.lines();
    assert_eq!(lines.len(), 3);
    for line in &lines {
        assert_no_secret(&line.terminal());
    }
    assert_eq!(lines[1].as_data(), "DATABASE_URL=***");
    assert_eq!(lines[2].as_data(), "***");
    assert!(RemoteText::new("", &redactor()).lines().is_empty());
}

#[test]
fn a_text_read_back_from_json_is_data() {
    let text = RemoteText::new(&format!("status {GEMINI}\u{1b}[31m"), &redactor());
    let json = serde_json::to_string(&text).expect("json");
    let back: RemoteText = serde_json::from_str(&json).expect("read back");
    assert_eq!(back, text);
    assert_eq!(back.terminal(), "status ***");
}
