//! The file's entry under the action's inputs: an input given wins, an input left at its
//! default does not.

use std::path::Path;

use super::*;

const FILE: &str = r#"
[[space]]
space = "alice/rag-chatbot"
source = "services/chat"
secrets = ["GEMINI_API_KEY"]
variables = { LOG_LEVEL = "INFO", MODEL = "gemini" }
frontend-url = "https://book.example.com"
health-path = "/healthz"
timeout-minutes = 45
wait = false
title = "From the file"

[[space]]
space = "alice/search"
source = "services/search"
"#;

fn file() -> ConfigFile {
    ConfigFile::parse(
        FILE,
        Path::new("/github/workspace/hf-deploy.toml"),
        "hf-deploy.toml",
    )
    .expect("valid")
}

/// The runner's variables: every input at its `action.yml` default, `given` over them.
fn vars(given: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = [
        ("INPUT_SPACE", "alice/rag-chatbot"),
        ("INPUT_SOURCE", "backend"),
        ("INPUT_SECRETS", ""),
        ("INPUT_VARIABLES", ""),
        ("INPUT_FRONTEND-URL", ""),
        ("INPUT_HEALTH-PATH", "/api/health"),
        ("INPUT_WAIT", "true"),
        ("INPUT_TIMEOUT-MINUTES", "20"),
        ("INPUT_TITLE", ""),
        ("INPUT_HF-ENDPOINT", ""),
        ("GEMINI_API_KEY", "AIzaSy-from-the-env-0123"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (key, value) in given {
        vars.retain(|(k, _)| k != key);
        vars.push((key.to_string(), value.to_string()));
    }
    vars
}

fn get<'a>(vars: &'a [(String, String)], key: &str) -> &'a str {
    vars.iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

#[test]
fn the_file_fills_inputs_left_empty_or_at_their_default() {
    let mut vars = vars(&[]);
    let applied = apply(&mut vars, &file(), Path::new("/github/workspace")).expect("applies");
    assert_eq!(applied.secrets_file, None);
    assert_eq!(get(&vars, "INPUT_SPACE"), "alice/rag-chatbot");
    assert_eq!(get(&vars, "INPUT_SOURCE"), "services/chat");
    assert_eq!(get(&vars, "INPUT_HEALTH-PATH"), "/healthz");
    assert_eq!(get(&vars, "INPUT_TIMEOUT-MINUTES"), "45");
    assert_eq!(get(&vars, "INPUT_WAIT"), "false");
    assert_eq!(get(&vars, "INPUT_TITLE"), "From the file");
    assert_eq!(
        get(&vars, "INPUT_SECRETS"),
        "GEMINI_API_KEY=AIzaSy-from-the-env-0123\n"
    );
    assert_eq!(
        get(&vars, "INPUT_VARIABLES"),
        "LOG_LEVEL=INFO\nMODEL=gemini\n"
    );
    assert_eq!(get(&vars, "INPUT_FRONTEND-URL"), "https://book.example.com");
}

#[test]
fn inputs_given_win_and_lists_add_up() {
    let mut vars = vars(&[
        ("INPUT_SPACE", "alice/rag-chatbot"),
        ("INPUT_HEALTH-PATH", "/api/status"),
        ("INPUT_TIMEOUT-MINUTES", "30"),
        ("INPUT_TITLE", "From the input"),
        ("INPUT_VARIABLES", "LOG_LEVEL=DEBUG"),
        ("INPUT_SECRETS", "GEMINI_API_KEY=from-the-input\nOTHER=x"),
        ("INPUT_FRONTEND-URL", "https://input.example.com"),
    ]);
    apply(&mut vars, &file(), Path::new("/github/workspace")).expect("applies");
    assert_eq!(get(&vars, "INPUT_HEALTH-PATH"), "/api/status");
    assert_eq!(get(&vars, "INPUT_TIMEOUT-MINUTES"), "30");
    assert_eq!(get(&vars, "INPUT_TITLE"), "From the input");
    assert_eq!(
        get(&vars, "INPUT_VARIABLES"),
        "LOG_LEVEL=DEBUG\nMODEL=gemini\n"
    );
    assert_eq!(
        get(&vars, "INPUT_SECRETS"),
        "GEMINI_API_KEY=from-the-input\nOTHER=x",
        "the input's value of a secret the file names wins"
    );
    assert_eq!(
        get(&vars, "INPUT_FRONTEND-URL"),
        "https://input.example.com\nhttps://book.example.com"
    );
}

#[test]
fn the_space_input_picks_the_entry_and_the_environment_wins_over_the_file() {
    let mut picked = vars(&[("INPUT_SPACE", "alice/search")]);
    apply(&mut picked, &file(), Path::new("/github/workspace")).expect("applies");
    assert_eq!(get(&picked, "INPUT_SOURCE"), "services/search");
    assert_eq!(get(&picked, "INPUT_HEALTH-PATH"), "/api/health");

    let mut none = vars(&[("INPUT_SPACE", "bob/other")]);
    let error = apply(&mut none, &file(), Path::new("/github/workspace")).expect_err("no entry");
    assert!(
        error.message.contains("`space` `bob/other` names no entry"),
        "{error}"
    );

    let with_endpoint = "[[space]]\nspace = \"a/b\"\nhf-endpoint = \"https://hub.example.com\"\n";
    let file = ConfigFile::parse(
        with_endpoint,
        Path::new("/w/hf-deploy.toml"),
        "hf-deploy.toml",
    )
    .expect("valid");
    let mut from_file = vars(&[("INPUT_SPACE", "")]);
    apply(&mut from_file, &file, Path::new("/w")).expect("applies");
    assert_eq!(
        get(&from_file, "INPUT_HF-ENDPOINT"),
        "https://hub.example.com"
    );
    assert_eq!(
        get(&from_file, "INPUT_SPACE"),
        "a/b",
        "the only entry's Space"
    );
    assert_eq!(
        get(&from_file, "INPUT_SOURCE"),
        "backend",
        "its default source"
    );
    let mut env = vars(&[("HF_ENDPOINT", "http://127.0.0.1:9")]);
    apply(&mut env, &file, Path::new("/w")).expect("applies");
    assert_eq!(
        get(&env, "INPUT_HF-ENDPOINT"),
        "",
        "HF_ENDPOINT wins over the file"
    );
}

#[test]
fn a_secret_missing_from_the_job_is_named_at_its_place() {
    let mut vars = vars(&[("GEMINI_API_KEY", "")]);
    let error = apply(&mut vars, &file(), Path::new("/github/workspace")).expect_err("missing");
    assert_eq!(error.place(), "hf-deploy.toml:5:12");
    assert!(error.message.contains("`GEMINI_API_KEY`"), "{error}");
    assert!(
        error
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("${{ secrets.GEMINI_API_KEY }}")),
        "{error:?}"
    );
    let annotation = annotation(&error);
    assert!(annotation.starts_with("::error file=hf-deploy.toml,line=5,title=hf-deploy%3A invalid configuration file::hf-deploy.toml:5:12: "), "{annotation}");
}

#[test]
fn the_defaults_are_those_of_action_yml() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../action.yml");
    let text = std::fs::read_to_string(&path).expect("action.yml");
    let action: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("YAML");
    let inputs = action["inputs"].as_mapping().expect("inputs");
    // `secrets-file` is the file's own key (a path, read by the action itself), not an input.
    for key in crate::config::keys_for_tests().filter(|key| *key != "secrets-file") {
        let spec = inputs
            .get(key)
            .unwrap_or_else(|| panic!("`{key}` of the file is an input of action.yml"));
        let default = spec["default"].as_str().unwrap_or_default();
        let pinned = DEFAULTS
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, d)| *d);
        if default.is_empty() {
            assert_eq!(pinned, None, "`{key}`");
        } else {
            assert_eq!(pinned, Some(default), "`{key}`: action.yml's default");
        }
    }
}
