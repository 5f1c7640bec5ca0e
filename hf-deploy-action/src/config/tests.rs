//! Reading `hf-deploy.toml`: every error names `file:line:column`, the key, and what is allowed.

use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
    ConfigFile::parse(text, Path::new("/repo/hf-deploy.toml"), "hf-deploy.toml")
}

/// The error of `text`, as `place | message | hint`.
fn error(text: &str) -> String {
    let error = parse(text).expect_err("a bad file");
    format!(
        "{} | {} | {}",
        error.place(),
        error.message,
        error.hint.unwrap_or_default()
    )
}

const FULL: &str = r#"
# Two backends, one Space each.
[[space]]
space = "alice/rag-chatbot"
source = "backend"
secrets = ["GEMINI_API_KEY", "DATABASE_URL"]
variables = { LOG_LEVEL = "INFO", WORKERS = 2, DEBUG = false }
frontend-url = ["https://my-book.vercel.app", "http://localhost:3000"]
health-path = "/api/health"
timeout-minutes = 30
private = true
title = "RAG Chatbot"
emoji = "🤖"
color-from = "blue"

[[space]]
space = "alice/search"
source = "services/search"
frontend-url = "https://search.example.com"
wait = false
"#;

#[test]
fn reads_every_kind_of_value() {
    let file = parse(FULL).expect("valid");
    assert_eq!(file.entries.len(), 2);
    let first = &file.entries[0];
    assert_eq!(first.space.value, "alice/rag-chatbot");
    assert_eq!(first.space.at, Location { line: 4, column: 9 });
    assert_eq!(first.text("source").map(|(t, _)| t), Some("backend"));
    let secrets: Vec<&str> = first
        .list("secrets")
        .iter()
        .map(|i| i.value.as_str())
        .collect();
    assert_eq!(secrets, ["GEMINI_API_KEY", "DATABASE_URL"]);
    let variables: Vec<(&str, &str)> = first
        .table("variables")
        .iter()
        .map(|(k, v)| (k.value.as_str(), v.value.as_str()))
        .collect();
    assert_eq!(
        variables,
        [("LOG_LEVEL", "INFO"), ("WORKERS", "2"), ("DEBUG", "false")]
    );
    assert_eq!(first.minutes().map(|(m, _)| m), Some(30));
    assert_eq!(first.flag("private").map(|(f, _)| f), Some(true));
    assert_eq!(first.list("frontend-url").len(), 2);
    let second = &file.entries[1];
    assert_eq!(
        second.list("frontend-url")[0].value,
        "https://search.example.com"
    );
    assert_eq!(second.flag("wait").map(|(f, _)| f), Some(false));
    assert_eq!(
        file.source_of(second),
        Path::new("/repo/services/search"),
        "relative to the file's folder"
    );
    let bare = parse("[[space]]\nspace = \"a/b\"\n").expect("valid");
    assert_eq!(file.dir(), Path::new("/repo"));
    assert_eq!(bare.source_of(&bare.entries[0]), Path::new("/repo/backend"));
}

#[test]
fn unknown_keys_are_named_with_the_keys_allowed() {
    let text = error("[[space]]\nspace = \"a/b\"\nhealth_path = \"/health\"\n");
    assert!(
        text.starts_with("hf-deploy.toml:3:1 | unknown key `health_path` | did you mean `health-path`? The keys are: `hf-endpoint`, `space`, `source`"),
        "{text}"
    );
    let text = error("[[space]]\nspace = \"a/b\"\n  colour = \"red\"\n");
    assert!(
        text.starts_with("hf-deploy.toml:3:3 | unknown key `colour` | the keys are: "),
        "{text}"
    );
    let text = error("title = \"x\"\n[[space]]\nspace = \"a/b\"\n");
    assert_eq!(
        text,
        "hf-deploy.toml:1:1 | unknown key `title` at the top level | put `title` inside a `[[space]]` table: every setting belongs to one Space"
    );
}

#[test]
fn wrong_types_say_what_is_allowed() {
    for (text, expected) in [
        (
            "[[space]]\nspace = \"a/b\"\ntimeout-minutes = \"20\"\n",
            "hf-deploy.toml:3:19 | `timeout-minutes` must be a whole number of minutes (1 to 1440), not a string | ",
        ),
        (
            "[[space]]\nspace = \"a/b\"\nprivate = \"yes\"\n",
            "hf-deploy.toml:3:11 | `private` must be `true` or `false`, not a string | ",
        ),
        (
            "[[space]]\nspace = \"a/b\"\nvariables = [\"LOG_LEVEL=INFO\"]\n",
            "hf-deploy.toml:3:13 | `variables` must be a table, e.g. `{ LOG_LEVEL = \"INFO\" }`, not an array | ",
        ),
        (
            "[[space]]\nspace = \"a/b\"\nfrontend-url = [\"https://a.example.com\", 3]\n",
            "hf-deploy.toml:3:42 | an item of `frontend-url` is an integer; each must be a string | ",
        ),
        (
            "[[space]]\nspace = 7\n",
            "hf-deploy.toml:2:9 | `space` must be a string, not an integer | ",
        ),
        (
            "[[space]]\nspace = \"a/b\"\ntimeout-minutes = -5\n",
            "hf-deploy.toml:3:19 | `timeout-minutes` must be a whole number of minutes (1 to 1440), not `-5` | ",
        ),
        (
            "[[space]]\nspace = \"a/b\"\nvariables = { A = [1] }\n",
            "hf-deploy.toml:3:19 | `variables.A` is an array; a variable's value is a string, a number or a boolean | ",
        ),
    ] {
        assert_eq!(error(text), expected);
    }
}

#[test]
fn bad_values_are_found_by_the_library_rule_at_their_place() {
    for (text, expected) in [
        (
            "[[space]]\nspace = \"a/b\"\nhealth-path = \"api/health\"\n",
            "hf-deploy.toml:3:15 | invalid `health-path`: `api/health` does not start with `/` | give the path part of the URL, e.g. `/api/health`",
        ),
        (
            "[[space]]\nspace = \"a/b\"\nfrontend-url = [\"https://ok.example.com\", \"https://bad.example.com/path\"]\n",
            "hf-deploy.toml:3:43 | invalid `frontend-url`: ",
        ),
        (
            "[[space]]\nspace = \"not a space\"\n",
            "hf-deploy.toml:2:9 | invalid `space`: ",
        ),
        (
            "[[space]]\nspace = \"a/b\"\ntimeout-minutes = 0\n",
            "hf-deploy.toml:3:19 | invalid `timeout-minutes`: `0` is not a whole number of minutes between 1 and 1440",
        ),
        (
            "[[space]]\nspace = \"a/b\"\ncolor-from = \"orange\"\n",
            "hf-deploy.toml:3:14 | invalid `color-from`: `orange` is not a colour the Hub accepts",
        ),
        (
            "[[space]]\nspace = \"a/b\"\nsecrets = [\"OK\", \"NOT-A-NAME\"]\n",
            "hf-deploy.toml:3:18 | invalid `secrets`: `NOT-A-NAME` is not a valid key",
        ),
        (
            "[[space]]\nspace = \"a/b\"\nvariables = { LOG_LEVEL = \" INFO\" }\n",
            "hf-deploy.toml:3:27 | invalid `variables`: the value of `LOG_LEVEL` starts or ends with whitespace",
        ),
        (
            "[[space]]\nspace = \"a/b\"\napp-url = \"ftp://x.example.com\"\n",
            "hf-deploy.toml:3:11 | invalid `app-url`: ",
        ),
        (
            "[[space]]\nspace = \"a/b\"\nvisibility = \"secret\"\n",
            "hf-deploy.toml:3:14 | invalid `visibility`: ",
        ),
        (
            "[[space]]\nspace = \"a/b\"\nsleep-time = 0\n",
            "hf-deploy.toml:3:14 | invalid `sleep-time`: `0` is not a number of seconds",
        ),
        (
            "[[space]]\nspace = \"a/b\"\nsleep-time = \"3600\"\n",
            "hf-deploy.toml:3:14 | `sleep-time` must be a whole number of seconds (1 to a year), or -1 (never), not a string",
        ),
        (
            "[[space]]\nspace = \"a/b\"\nfactory-reboot = \"yes\"\n",
            "hf-deploy.toml:3:18 | `factory-reboot` must be `true` or `false`, not a string",
        ),
        (
            "[[space]]\nspace = \"a/b\"\nallow-forks = 1\n",
            "hf-deploy.toml:3:15 | `allow-forks` must be `true` or `false`, not an integer",
        ),
        (
            "[[space]]\nspace = \"a/b\"\ngithub-deployment = \"false\"\n",
            "hf-deploy.toml:3:21 | `github-deployment` must be `true` or `false`, not a string",
        ),
        (
            "[[space]]\nspace = \"a/b\"\nenvironment = \"two\\nlines\"\n",
            "hf-deploy.toml:3:15 | invalid `environment`: it contains a line break",
        ),
        (
            "[[space]]\nspace = \"a/b\"\npreview-label = \"LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL\"\n",
            "hf-deploy.toml:3:17 | invalid `preview-label`: longer than GitHub's 50 characters",
        ),
    ] {
        let text_error = error(text);
        assert!(
            text_error.starts_with(expected),
            "{text_error}\nexpected: {expected}"
        );
    }
}

#[test]
fn syntax_errors_and_missing_tables_point_at_the_place() {
    let text = error("[[space]]\nspace = \"a/b\n");
    assert!(text.starts_with("hf-deploy.toml:2:"), "{text}");
    assert!(text.contains("not valid TOML"), "{text}");
    let text = error("[[space]]\nspace = \"a/b\"\nspace = \"a/c\"\n");
    assert!(
        text.starts_with("hf-deploy.toml:3:1 | not valid TOML: duplicate key"),
        "{text}"
    );
    let text = error("# nothing here\n");
    assert!(
        text.starts_with("hf-deploy.toml | the file has no `[[space]]` table"),
        "{text}"
    );
    let text = error("[space]\nspace = \"a/b\"\n");
    assert!(text.starts_with("hf-deploy.toml:1:2 | `space` must be an array of tables | write each Space as a `[[space]]` table"), "{text}");
    let text = error("[[space]]\ntitle = \"x\"\n");
    assert!(
        text.starts_with("hf-deploy.toml:1:1 | this `[[space]]` table has no `space`"),
        "{text}"
    );
}

#[test]
fn a_space_has_one_entry() {
    let text = error("[[space]]\nspace = \"alice/app\"\n\n[[space]]\nspace = \"Alice/App\"\n");
    assert_eq!(
        text,
        "hf-deploy.toml:5:9 | Space `Alice/App` has a second `[[space]]` table (the first is at line 2) | keep one table per Space: a Space deploys one source"
    );
}

#[test]
fn secret_values_are_refused_without_being_shown() {
    let value = "AIzaSy-very-secret-value-0123456789";
    for (text, place, what) in [
        (
            format!("[[space]]\nspace = \"a/b\"\nsecrets = [\"GEMINI_API_KEY={value}\"]\n"),
            "hf-deploy.toml:3:12",
            "`GEMINI_API_KEY=...` is a name with a value",
        ),
        (
            format!("[[space]]\nspace = \"a/b\"\nsecrets = {{ GEMINI_API_KEY = \"{value}\" }}\n"),
            "hf-deploy.toml:3:11",
            "`secrets` is a table of values",
        ),
        (
            format!("[[space]]\nspace = \"a/b\"\nhf-token = \"{value}\"\n"),
            "hf-deploy.toml:3:1",
            "`hf-token` would put a secret into the file",
        ),
        (
            format!("github-token = \"{value}\"\n[[space]]\nspace = \"a/b\"\n"),
            "hf-deploy.toml:1:1",
            "`github-token` would put a secret into the file",
        ),
        (
            format!("[[space]]\nspace = \"a/b\"\ntoken = \"{value}\"\n"),
            "hf-deploy.toml:3:1",
            "`token` would put a secret into the file",
        ),
        (
            format!("[[space]]\nspace = \"a/b\"\nvariables = {{ GEMINI_API_KEY = \"{value}\" }}\n"),
            "hf-deploy.toml:3:15",
            "`GEMINI_API_KEY` is a secret's name, but variables are public",
        ),
        (
            "[[space]]\nspace = \"a/b\"\nvariables = { DB = \"postgresql://u:AIzaSy-very-secret-value-0123456789@db/x\" }\n".to_string(),
            "hf-deploy.toml:3:20",
            "the value of `variables` looks like a URL with a password in it",
        ),
        (
            concat!("[[space]]\nspace = \"a/b\"\ntitle = \"hf", "_AIzaSyverysecretvalue0123456789\"\n").to_string(),
            "hf-deploy.toml:3:9",
            "the value of `title` looks like a Hugging Face token",
        ),
    ] {
        let error = parse(&text).expect_err("refused");
        let shown = format!("{error} {}", error.hint.clone().unwrap_or_default());
        assert_eq!(error.place(), place, "{shown}");
        assert!(error.message.contains(what), "{shown}");
        assert!(
            shown.contains("refused") || shown.contains("public"),
            "{shown}"
        );
        assert!(error.hint.is_some(), "{shown}");
        assert!(!shown.contains("very-secret") && !shown.contains("verysecret"), "{shown}");
    }
}

#[test]
fn the_space_asked_for_picks_the_entry() {
    let file = parse(FULL).expect("valid");
    let picked = file.select(Some("alice/search"), "--space").expect("named");
    assert_eq!(picked.space.value, "alice/search");
    let picked = file
        .select(Some(" ALICE/SEARCH "), "--space")
        .expect("case aside");
    assert_eq!(picked.space.value, "alice/search");
    let error = file
        .select(Some("bob/other"), "--space")
        .expect_err("not an entry");
    assert_eq!(
        error.to_string(),
        "hf-deploy.toml: `--space` `bob/other` names no entry of the file; its Spaces are `alice/rag-chatbot`, `alice/search`"
    );
    let error = file.select(None, "space").expect_err("which one");
    assert_eq!(
        error.to_string(),
        "hf-deploy.toml: the file has 2 Spaces (`alice/rag-chatbot`, `alice/search`): say which one to deploy with `space`"
    );
    let one = parse("[[space]]\nspace = \"a/b\"\n").expect("valid");
    assert_eq!(
        one.select(None, "--space")
            .expect("the only one")
            .space
            .value,
        "a/b"
    );
    assert_eq!(
        one.select(Some("c/d"), "--space")
            .expect("the only one, elsewhere")
            .space
            .value,
        "a/b"
    );
}

#[test]
fn the_file_is_found_upwards_to_the_repository_root() {
    let root = tempfile::tempdir().expect("tempdir");
    let repo = root.path().join("repo");
    let deep = repo.join("services/search/app");
    std::fs::create_dir_all(&deep).expect("dirs");
    std::fs::create_dir_all(repo.join(".git")).expect(".git");
    assert_eq!(find(&deep), None);
    std::fs::write(root.path().join(FILE_NAME), "").expect("above the repository");
    assert_eq!(find(&deep), None, "not above the repository's root");
    std::fs::write(repo.join(FILE_NAME), "").expect("at the root");
    assert_eq!(find(&deep), Some(repo.join(FILE_NAME)));
    std::fs::write(repo.join("services").join(FILE_NAME), "").expect("nearer");
    assert_eq!(find(&deep), Some(repo.join("services").join(FILE_NAME)));

    let outside = tempfile::tempdir().expect("tempdir");
    let below = outside.path().join("below");
    std::fs::create_dir_all(&below).expect("dirs");
    std::fs::write(outside.path().join(FILE_NAME), "").expect("file");
    assert_eq!(
        find(&below),
        None,
        "outside a repository only the folder itself"
    );
    assert_eq!(find(outside.path()), Some(outside.path().join(FILE_NAME)));
}

#[test]
fn fingerprints_ignore_places_and_comments() {
    let a = parse("[[space]]\nspace = \"a/b\"\ntitle = \"T\"\n").expect("valid");
    let b =
        parse("# moved\n\n[[space]]\n  space = \"a/b\"\n  title = \"T\" # same\n").expect("valid");
    let c = parse("[[space]]\nspace = \"a/b\"\ntitle = \"U\"\n").expect("valid");
    assert_eq!(a.entries[0].fingerprint(), b.entries[0].fingerprint());
    assert_ne!(a.entries[0].fingerprint(), c.entries[0].fingerprint());
}

#[test]
fn the_third_round_inputs_are_keys_with_their_types() {
    let file = parse(
        "[[space]]\nspace = \"a/b\"\nvisibility = \"protected\"\nfactory-reboot = true\nsleep-time = -1\nallow-forks = false\ngithub-deployment = false\nenvironment = \"staging\"\npreview-label = \"preview\"\n",
    )
    .expect("valid");
    let entry = &file.entries[0];
    assert_eq!(
        entry
            .text("visibility")
            .map(|(t, at)| (t, at.line, at.column)),
        Some(("protected", 3, 14))
    );
    assert_eq!(entry.flag("factory-reboot").map(|(f, _)| f), Some(true));
    assert_eq!(entry.seconds().map(|(s, _)| s), Some(-1));
    assert_eq!(entry.flag("allow-forks").map(|(f, _)| f), Some(false));
    assert_eq!(entry.flag("github-deployment").map(|(f, _)| f), Some(false));
    assert_eq!(entry.text("environment").map(|(t, _)| t), Some("staging"));
    assert_eq!(entry.text("preview-label").map(|(t, _)| t), Some("preview"));
    assert!(entry.fingerprint().contains("sleep-time=-1\n"));
}
