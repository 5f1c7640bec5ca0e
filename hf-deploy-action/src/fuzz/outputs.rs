//! The `GITHUB_OUTPUT` writer against the runner's reader: whatever the names and values, the
//! runner reads back exactly the pairs written, or the writer refuses; no value can end its
//! heredoc early and so set another output.

use proptest::prelude::*;

use super::text;
use crate::github::Error;
use crate::github::files::{render_output, write_outputs};

/// The runner's reading of an environment file (`../shared/reference/github-actions.md` §C.2,
/// `FileCommandManager.cs` on Linux, where container actions run): lines end at `\n`; empty
/// lines are skipped; a line is `NAME=VALUE` when its first `=` comes before any `<<`, else
/// `NAME<<DELIM` (split at the first `<<`; neither part empty), followed by the value's lines
/// up to a line equal to `DELIM`, which must itself end with a newline; the value is those
/// lines joined with `\n`. Anything else is an error that fails the step.
pub(super) fn runner_read(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, _) = next_line(&mut rest);
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                if e == 0 {
                    return Err(format!("Invalid format '{line}'"));
                }
                out.push((line[..e].to_string(), line[e + 1..].to_string()));
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(format!(
                        "Invalid format '{line}'. Name must not be empty and delimiter must not be empty"
                    ));
                }
                let mut value: Vec<&str> = Vec::new();
                loop {
                    if rest.is_empty() {
                        return Err(format!(
                            "Invalid value. Matching delimiter not found '{delimiter}'"
                        ));
                    }
                    let (value_line, ended) = next_line(&mut rest);
                    if value_line == delimiter {
                        if !ended {
                            return Err("Invalid value. EOF marker missing new line.".into());
                        }
                        break;
                    }
                    value.push(value_line);
                }
                out.push((name.to_string(), value.join("\n")));
            }
            _ => return Err(format!("Invalid format '{line}'")),
        }
    }
    Ok(out)
}

/// The next line of `rest` (without its `\n`) and whether a `\n` ended it.
fn next_line<'a>(rest: &mut &'a str) -> (&'a str, bool) {
    match rest.find('\n') {
        Some(at) => {
            let line = &rest[..at];
            *rest = &rest[at + 1..];
            (line, true)
        }
        None => {
            let line = *rest;
            *rest = "";
            (line, false)
        }
    }
}

/// Output names: plain ones, and anything (with the characters that could split a line).
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[a-z][a-z0-9_-]{0,15}",
        3 => text(4),
    ]
}

/// A heredoc delimiter of the writer's shape, and values that may hold it anywhere.
fn delimiter_and_value() -> impl Strategy<Value = (String, String)> {
    "ghadelimiter_[0-9a-f]{1,8}".prop_flat_map(|delimiter| {
        let piece = prop_oneof![
            3 => text(3),
            1 => Just(delimiter.clone()),
            1 => Just(format!("\n{delimiter}\n")),
            1 => Just(format!("\n{delimiter}")),
        ];
        let value = prop::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat());
        (Just(delimiter), value)
    })
}

proptest! {
    /// Batches of outputs appended to one file (after another step's line) read back as
    /// exactly the pairs written, in order, unless the writer refused a name.
    #[test]
    fn outputs_read_back_exactly_or_are_refused(
        batches in prop::collection::vec(
            prop::collection::vec((name(), text(12)), 0..5),
            1..4,
        )
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("output");
        std::fs::write(&path, "earlier=from another step\n").expect("seed the file");
        let mut expected = vec![("earlier".to_string(), "from another step".to_string())];
        for batch in &batches {
            let pairs: Vec<(&str, &str)> =
                batch.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            match write_outputs(&path, &pairs) {
                Ok(()) => expected.extend(batch.iter().cloned()),
                Err(Error::OutputName { .. }) => {}
                Err(other) => prop_assert!(false, "unexpected error: {other}"),
            }
        }
        let text = std::fs::read_to_string(&path).expect("read back");
        prop_assert_eq!(runner_read(&text), Ok(expected), "{:?}", text);
    }

    /// A value holding the delimiter (anywhere, or as a line of its own) is refused; every
    /// other value reads back exactly, alone: nothing it holds starts another output.
    #[test]
    fn a_value_cannot_end_its_heredoc((delimiter, value) in delimiter_and_value(), name in "[a-z][a-z0-9_-]{0,15}") {
        match render_output(&name, &value, &delimiter) {
            Ok(text) => prop_assert_eq!(runner_read(&text), Ok(vec![(name, value)]), "{:?}", text),
            Err(Error::OutputDelimiter { .. }) => prop_assert!(value.contains(&delimiter)),
            Err(other) => prop_assert!(false, "unexpected error: {other}"),
        }
    }

    /// Plain names with values that do not hold the delimiter are never refused (the property
    /// above is not met by refusing everything).
    #[test]
    fn plain_outputs_are_written(name in "[a-z][a-z0-9_-]{0,15}", value in text(12)) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("output");
        write_outputs(&path, &[(&name, &value)]).expect("written");
        let text = std::fs::read_to_string(&path).expect("read back");
        prop_assert_eq!(runner_read(&text), Ok(vec![(name, value)]));
    }
}

#[test]
fn the_reader_follows_the_runners_rules() {
    assert_eq!(
        runner_read("a=1\n\nb<<EOF\nx\n\ny=z\nEOF\nc=d=e\n"),
        Ok(vec![
            ("a".into(), "1".into()),
            ("b".into(), "x\n\ny=z".into()),
            ("c".into(), "d=e".into()),
        ])
    );
    assert_eq!(
        runner_read("e<<EOF\n\nEOF\n"),
        Ok(vec![("e".into(), "".into())])
    );
    for bad in [
        "b<<EOF\nx\n",
        "b<<EOF\nx\nEOF",
        "=v\n",
        "<<EOF\nEOF\n",
        "b<<\n\n",
        "plain\n",
    ] {
        assert!(runner_read(bad).is_err(), "{bad:?}");
    }
}
