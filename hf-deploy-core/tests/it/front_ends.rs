//! The library speaks no front end: no flag of the command line, no input of the action and no
//! `hf-deploy <command>` appears in its non-test source (code, messages and doc comments). A
//! front end words fields and commands itself, through a `Spelling`.
//!
//! The names are read from the binary's `clap` attributes and from `action.yml`, so a new flag
//! or input is covered at once, plus the names the public interface fixes (copied below: the
//! reference document is not part of the repository).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The long flags, commands and action inputs the public interface names.
const INTERFACE_FLAGS: &[&str] = &[
    "out",
    "space",
    "title",
    "emoji",
    "color-from",
    "color-to",
    "short-description",
    "port",
    "app",
    "health-path",
    "secret",
    "secrets-file",
    "variable",
    "frontend-url",
    "app-url",
    "private",
    "hardware",
    "no-wait",
    "timeout",
    "dry-run",
    "json",
    "allow-degraded",
    "local",
    "serve",
    "build",
    "run",
    "yes",
    "api-url",
    "check",
    "local-runtime",
    "runtime",
    "visibility",
    "factory-reboot",
    "sleep-time",
    "repo",
    "max-age",
    "config",
    "matrix",
    "changed-since",
    "to",
    "rollback-on-failure",
];
const INTERFACE_COMMANDS: &[&str] = &[
    "scaffold", "deploy", "verify", "status", "logs", "delete", "frontend", "emulator", "action",
    "previews", "init", "plan", "history", "rollback",
];
const INTERFACE_INPUTS: &[&str] = &[
    "hf-token",
    "hf-endpoint",
    "space",
    "source",
    "secrets",
    "variables",
    "frontend-url",
    "health-path",
    "app-url",
    "private",
    "hardware",
    "wait",
    "timeout-minutes",
    "dry-run",
    "title",
    "emoji",
    "color-from",
    "color-to",
    "short-description",
    "github-token",
    "comment",
    "preview",
    "allow-degraded",
    "visibility",
    "allow-forks",
    "github-deployment",
    "environment",
    "preview-label",
    "factory-reboot",
    "sleep-time",
    "config",
    "rollback-on-failure",
    "command",
];

/// Occurrences that are not a front end's: `--port` in the scaffold is uvicorn's own flag, in
/// the Dockerfile it writes (`render.rs`) and the one it lints (`lint.rs`).
const NOT_OURS: &[(&str, &str)] = &[
    ("scaffold/lint.rs", "--port"),
    ("scaffold/render.rs", "--port"),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits in the workspace")
        .to_path_buf()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (index, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if index > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '_' {
            out.push('-');
        } else {
            out.push(c);
        }
    }
    out
}

/// The long flags of the binary: every `arg(long ...)` attribute of its sources, named by
/// `long = "..."` or by the field it stands on.
fn binary_flags() -> BTreeSet<String> {
    let attribute = regex::Regex::new(
        r#"arg\(([^\n]*)\)\]\s*\n(?:\s*(?:#\[[^\n]*|///[^\n]*)\n)*\s*(?:pub(?:\([^)]*\))?\s+)?(\w+)\s*:"#,
    )
    .expect("regex");
    let long_name = regex::Regex::new(r#"\blong\s*=\s*"([^"]+)""#).expect("regex");
    let long = regex::Regex::new(r"\blong\b").expect("regex");
    let mut flags = BTreeSet::new();
    for path in rust_files(&workspace().join("hf-deploy-action/src")) {
        let text = std::fs::read_to_string(&path).expect("read");
        for c in attribute.captures_iter(&text) {
            if !long.is_match(&c[1]) {
                continue;
            }
            let name = match long_name.captures(&c[1]) {
                Some(named) => named[1].to_string(),
                None => kebab(&c[2]),
            };
            flags.insert(format!("--{name}"));
        }
    }
    flags
}

/// The subcommands of the binary: the variants of its `clap` `Command` enum.
fn binary_commands() -> BTreeSet<String> {
    let variant = regex::Regex::new(r"(?m)^\s+([A-Z]\w*)(?:\(\w+\))?,").expect("regex");
    let mut commands = BTreeSet::new();
    for path in rust_files(&workspace().join("hf-deploy-action/src")) {
        let text = std::fs::read_to_string(&path).expect("read");
        let Some(start) = text.find("enum Command {") else {
            continue;
        };
        let body = &text[start..];
        let body = &body[..body.find("\n}").unwrap_or(body.len())];
        commands.extend(variant.captures_iter(body).map(|c| kebab(&c[1])));
    }
    commands
}

/// The inputs of `action.yml`.
fn action_inputs() -> BTreeSet<String> {
    let text = std::fs::read_to_string(workspace().join("action.yml")).expect("action.yml");
    let start = text.find("\ninputs:").expect("an inputs section") + "\ninputs:".len();
    let section = &text[start..];
    let end = section
        .match_indices('\n')
        .find(|(at, _)| {
            section[at + 1..]
                .chars()
                .next()
                .is_some_and(|c| !c.is_whitespace())
        })
        .map_or(section.len(), |(at, _)| at);
    let input = regex::Regex::new(r"(?m)^  ([a-z][a-z0-9-]*):").expect("regex");
    input
        .captures_iter(&section[..end])
        .map(|c| c[1].to_string())
        .collect()
}

/// `text` with every `#[cfg(test)]` item blanked (and `#[cfg(any(test, ...))]`, the samples
/// kept for the front ends' tests): comments, strings and char literals are skipped while the
/// braces of the item are matched. Lines are kept, so line numbers stay right.
fn without_tests(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(found) = next_test_attribute(text, at) {
        out.push_str(&text[at..found]);
        let end = item_end(bytes, found);
        out.extend(
            text[found..end]
                .chars()
                .map(|c| if c == '\n' { '\n' } else { ' ' }),
        );
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

fn next_test_attribute(text: &str, from: usize) -> Option<usize> {
    ["#[cfg(test)]", "#[cfg(any(test"]
        .iter()
        .filter_map(|attribute| text[from..].find(attribute).map(|at| from + at))
        .min()
}

/// The end of the item that starts at `start` (its attribute): after its `;` or its braces.
fn item_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut at = start + 1;
    // Skip the attribute itself.
    while at < bytes.len() && bytes[at] != b']' {
        at += 1;
    }
    while at < bytes.len() {
        match bytes[at] {
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
            }
            b'"' => at = string_end(bytes, at),
            b'r' if matches!(bytes.get(at + 1), Some(b'#' | b'"'))
                && !bytes[at.saturating_sub(1)].is_ascii_alphanumeric() =>
            {
                at = raw_string_end(bytes, at);
            }
            b'\'' => at = char_end(bytes, at),
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return at + 1;
                }
            }
            b';' if depth == 0 => return at + 1,
            _ => {}
        }
        at += 1;
    }
    bytes.len()
}

fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at,
            _ => at += 1,
        }
    }
    bytes.len()
}

fn raw_string_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    let mut hashes = 0;
    while bytes.get(at) == Some(&b'#') {
        hashes += 1;
        at += 1;
    }
    at += 1;
    while at < bytes.len() {
        if bytes[at] == b'"' && bytes[at + 1..].iter().take(hashes).all(|b| *b == b'#') {
            return at + hashes;
        }
        at += 1;
    }
    bytes.len()
}

/// A char literal ends at its closing quote; a lifetime is left as it is.
fn char_end(bytes: &[u8], start: usize) -> usize {
    if bytes.get(start + 1) == Some(&b'\\') {
        let mut at = start + 2;
        while at < bytes.len() && bytes[at] != b'\'' {
            at += 1;
        }
        return at;
    }
    // One character (maybe several bytes) then a quote.
    let rest = std::str::from_utf8(&bytes[start + 1..]).unwrap_or("");
    match rest.chars().next() {
        Some(c) if rest[c.len_utf8()..].starts_with('\'') => start + c.len_utf8() + 1,
        _ => start,
    }
}

/// Is `name` at `at` of `line` a whole token (no name character around it)?
fn whole(line: &str, at: usize, name: &str) -> bool {
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let before = line[..at].chars().next_back();
    let after = line[at + name.len()..].chars().next();
    !before.is_some_and(name_char) && !after.is_some_and(name_char)
}

/// What `text` says that only a front end may say, as `line: what`.
fn front_end_words(
    text: &str,
    flags: &BTreeSet<String>,
    commands: &BTreeSet<String>,
    inputs: &BTreeSet<String>,
) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        for flag in flags {
            if line
                .match_indices(flag.as_str())
                .any(|(at, _)| whole(line, at, flag))
            {
                found.push((number, flag.clone()));
            }
        }
        for command in commands {
            let spelled = format!("hf-deploy {command}");
            if line
                .match_indices(&spelled)
                .any(|(at, _)| whole(line, at, &spelled))
            {
                found.push((number, spelled));
            }
        }
        for input in inputs {
            // A name of one word is an English word too: only as the action's input.
            let hit = if input.contains('-') {
                line.match_indices(input.as_str())
                    .any(|(at, _)| whole(line, at, input))
            } else {
                line.contains(&format!("action's `{input}`"))
                    || line.contains(&format!("input `{input}`"))
            };
            if hit {
                found.push((number, input.clone()));
            }
        }
    }
    found
}

#[test]
fn the_library_names_no_flag_input_or_command_of_a_front_end() {
    let mut flags = binary_flags();
    assert!(
        flags.contains("--allow-degraded") && flags.contains("--health-path"),
        "the binary's flags are read: {flags:?}"
    );
    flags.extend(INTERFACE_FLAGS.iter().map(|f| format!("--{f}")));
    let mut commands = binary_commands();
    assert!(
        commands.contains("scaffold") && commands.contains("logs"),
        "the binary's commands are read: {commands:?}"
    );
    commands.extend(INTERFACE_COMMANDS.iter().map(|c| (*c).to_string()));
    let mut inputs = action_inputs();
    assert!(
        inputs.contains("hf-token") && inputs.contains("timeout-minutes"),
        "the action's inputs are read: {inputs:?}"
    );
    inputs.extend(INTERFACE_INPUTS.iter().map(|i| (*i).to_string()));

    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    for path in rust_files(&src) {
        if path.file_name().is_some_and(|name| name == "tests.rs") {
            continue;
        }
        let relative = path
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&path).expect("read");
        for (line, word) in front_end_words(&without_tests(&text), &flags, &commands, &inputs) {
            if !NOT_OURS.contains(&(relative.as_str(), word.as_str())) {
                problems.push(format!("src/{relative}:{line}: `{word}`"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the library names a front end's flag, input or command (word it with a Field or a \
         Command instead):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_finds_front_end_words_outside_tests_only() {
    let flags = BTreeSet::from(["--allow-degraded".to_string(), "--app".to_string()]);
    let commands = BTreeSet::from(["logs".to_string()]);
    let inputs = BTreeSet::from(["timeout-minutes".to_string(), "secrets".to_string()]);
    let text = r##"/// Accepted with `--allow-degraded`.
fn a() { let s = "raise `timeout-minutes`"; }
/// See `hf-deploy logs --run`; the action's `secrets`.
/// `--app-url` and `--apps` are other words; so are secrets and `timeout_minutes`.
#[cfg(test)]
mod tests {
    const S: &str = "--allow-degraded }";
    fn f() { let c = '}'; let l: &'static str = r#"{"#; }
}
fn b() {}
"##;
    let text = without_tests(text);
    assert_eq!(text.lines().count(), 10, "lines are kept");
    let found = front_end_words(&text, &flags, &commands, &inputs);
    assert_eq!(
        found,
        [
            (1, "--allow-degraded".to_string()),
            (2, "timeout-minutes".to_string()),
            (3, "hf-deploy logs".to_string()),
            (3, "secrets".to_string()),
        ]
    );
    assert!(text.contains("fn b() {}"), "{text}");
}
