//! Action inputs, from the runner's `INPUT_*` variables to checked deploy options
//! ([`ActionInputs::from_env`], `validate`, then the library's `resolve` with the scaffold of a
//! small backend): whatever the strings, nothing panics, and the outcome is options or a bad
//! input error naming the input as the workflow spells it. Booleans accept exactly the six
//! spellings of the YAML core schema; `timeout-minutes` exactly the whole minutes of a day;
//! multiline `KEY=VALUE` lists round-trip, every value masked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use hf_deploy_core::{DeployOptions, Error};
use proptest::prelude::*;

use super::text;
use crate::github::inputs::{ActionConfig, ActionInputs, spelling};

/// The runner's workspace: the bundled example, its backend at `backend/` (read only; a
/// temporary folder in a `static` would never be removed, statics are not dropped).
static WORKSPACE: LazyLock<PathBuf> =
    LazyLock::new(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rag-chatbot"));

/// Every input `action.yml` declares.
static NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../action.yml");
    let text = std::fs::read_to_string(path).expect("action.yml");
    let action: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("YAML");
    action["inputs"]
        .as_mapping()
        .expect("inputs")
        .keys()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect()
});

const BOOLEANS: [&str; 6] = [
    "private",
    "wait",
    "dry-run",
    "allow-degraded",
    "comment",
    "preview",
];

/// A valid step with nothing but the required inputs, every other input `""` (as the runner
/// passes an input without a default), and `given` on top.
fn step(given: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut values: BTreeMap<String, String> =
        NAMES.iter().map(|n| (n.clone(), String::new())).collect();
    for (name, value) in [
        ("hf-token", "hf_fuzz_token"),
        ("space", "alice/app"),
        ("source", "backend"),
    ]
    .into_iter()
    .chain(given.iter().copied())
    {
        values.insert(name.to_string(), value.to_string());
    }
    values
        .into_iter()
        .map(|(k, v)| (format!("INPUT_{}", k.to_uppercase()), v))
        .collect()
}

/// The action's whole reading of its inputs; the masks are rendered first, as the action does.
fn read(vars: Vec<(String, String)>) -> Result<(ActionConfig, DeployOptions), Error> {
    let inputs = ActionInputs::from_env(vars)?;
    let _masks = inputs.mask_commands();
    let config = inputs.validate(WORKSPACE.as_path(), Some("0123456789abcdef"))?;
    let options = hf_deploy_core::inputs::resolve(&config.raw)?;
    Ok((config, options))
}

/// The input an error names, as the workflow spells it (the action's annotations name
/// `source` for a source folder or Dockerfile it refuses).
fn named(error: &Error) -> Option<&'static str> {
    match error {
        Error::InvalidSource { .. } | Error::DockerfileLint { .. } => Some("source"),
        other => other.field().map(spelling),
    }
}

/// Values shaped like each input, to get past the first checks, mixed with anything.
fn value_for(input: &str) -> BoxedStrategy<String> {
    let shaped: BoxedStrategy<String> = match input {
        "space" => "[a-zA-Z0-9._-]{0,12}/[a-zA-Z0-9._-]{0,12}".boxed(),
        "frontend-url" | "app-url" | "hf-endpoint" => {
            "(https?|ftp)://[a-z0-9.@:-]{0,12}(:[0-9]{1,5})?[/?#]?[a-z0-9/]{0,6}".boxed()
        }
        "health-path" => "/?[a-zA-Z0-9/._~%-]{0,12}".boxed(),
        "timeout-minutes" => "[ -]?[0-9]{1,6}".boxed(),
        "secrets" | "variables" => "([A-Za-z_ ][A-Za-z0-9_]{0,6}=[^\n\u{0}]{0,8}\n){0,3}".boxed(),
        "source" => "(\\.\\./|/)?(backend|app|\\.|\\.\\.)(/[a-z.]{0,6}){0,2}".boxed(),
        "hardware" => "[a-z0-9-]{0,12}".boxed(),
        "color-from" | "color-to" => "[a-z]{0,7}".boxed(),
        _ => text(4).boxed(),
    };
    prop_oneof![shaped, text(10)].boxed()
}

fn one_input() -> impl Strategy<Value = (String, String)> {
    prop::sample::select(NAMES.clone()).prop_flat_map(|name| (Just(name.clone()), value_for(&name)))
}

/// A boolean's value: each spelling, padded or not, mixed with near misses and anything.
fn boolean_value() -> impl Strategy<Value = String> {
    let spellings = prop::sample::select(vec![
        "true", "True", "TRUE", "false", "False", "FALSE", "tRUE", "yes", "no", "on", "1", "0", "",
    ]);
    prop_oneof![
        3 => (" {0,2}", spellings, "[ \t\n]{0,2}").prop_map(|(a, b, c)| format!("{a}{b}{c}")),
        1 => text(3),
    ]
}

/// A `KEY=VALUE` list: unique keys, values without line breaks or surrounding whitespace.
fn list() -> impl Strategy<Value = BTreeMap<String, String>> {
    let key = "[A-Za-z_][A-Za-z0-9_]{0,20}"
        .prop_filter("QDRANT_URL has its own rule", |k| k != "QDRANT_URL");
    // Built without surrounding whitespace (`\s` is Unicode's White_Space, as `str::trim`),
    // not filtered: a long run would exhaust proptest's budget of rejected values.
    let value = prop_oneof!["[^\\s\u{0}]", "[^\\s\u{0}][^\r\n\u{0}]{0,22}[^\\s\u{0}]",];
    prop::collection::btree_map(key, value, 0..6)
}

/// `map` written as the workflow may: keys padded, blank and comment lines between, `\n` or
/// `\r\n` line ends.
fn written(map: &BTreeMap<String, String>, pad: bool, crlf: bool) -> String {
    let end = if crlf { "\r\n" } else { "\n" };
    let mut text = String::from("# settings");
    text.push_str(end);
    for (key, value) in map {
        let key = if pad {
            format!(" \t{key} ")
        } else {
            key.clone()
        };
        text.push_str(&format!("{key}={value}{end}{end}  # note={value}{end}"));
    }
    text
}

proptest! {
    /// Any one input, with the others good: options, or an error naming that input.
    #[test]
    fn any_input_is_read_or_refused_naming_it((input, value) in one_input()) {
        match read(step(&[(&input, &value)])) {
            Ok(_) => {}
            Err(error) => {
                prop_assert!(error.is_usage(), "{input}={value:?}: {error}");
                prop_assert_eq!(named(&error), Some(input.as_str()), "{}={:?}: {}", input, value, error);
            }
        }
    }

    /// Every input at once: nothing panics; the outcome is options, or an error naming one of
    /// the inputs.
    #[test]
    fn all_inputs_at_once_are_read_or_refused(values in prop::collection::vec(text(6), NAMES.len())) {
        let given: Vec<(&str, &str)> = NAMES
            .iter()
            .zip(&values)
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        match read(step(&given)) {
            Ok(_) => {}
            Err(error) => {
                prop_assert!(error.is_usage(), "{error}");
                let name = named(&error);
                prop_assert!(
                    name.is_some_and(|n| NAMES.iter().any(|known| known == n)),
                    "{error} names {name:?}"
                );
            }
        }
    }

    /// A boolean input accepts exactly the six spellings (surrounding whitespace aside), and
    /// takes its default when empty; `timeout-minutes` exactly 1 to 1440 whole minutes.
    #[test]
    fn booleans_and_minutes_accept_exactly_their_spellings(
        index in 0..BOOLEANS.len(),
        value in boolean_value(),
        minutes in prop_oneof![text(3), "[ +-]?[0-9]{1,5} ?"],
    ) {
        let input = BOOLEANS[index];
        let result = ActionInputs::from_env(step(&[(input, &value)]))
            .and_then(|inputs| inputs.validate(WORKSPACE.as_path(), None));
        let trimmed = value.trim();
        let expected = match trimmed {
            "" => Some(!matches!(input, "private" | "dry-run" | "allow-degraded" | "preview")),
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        };
        match (result, expected) {
            (Ok(config), Some(expected)) => {
                let read = match input {
                    "private" => config.raw.private,
                    "wait" => config.raw.wait,
                    "dry-run" => config.raw.dry_run,
                    "allow-degraded" => config.raw.allow_degraded,
                    "comment" => config.comment,
                    _ => config.preview,
                };
                prop_assert_eq!(read, expected, "{}={:?}", input, value);
            }
            (Err(error), None) => prop_assert_eq!(named(&error), Some(input)),
            (result, expected) => prop_assert!(false, "{input}={value:?}: {:?}, expected {expected:?}", result.map(|_| ())),
        }

        let result = ActionInputs::from_env(step(&[("timeout-minutes", &minutes)]))
            .and_then(|inputs| inputs.validate(WORKSPACE.as_path(), None));
        let expected = match minutes.trim() {
            "" => Some(20),
            text => text.parse::<u64>().ok().filter(|n| (1..=1440).contains(n)),
        };
        match (result, expected) {
            (Ok(config), Some(n)) => prop_assert_eq!(config.raw.timeout, Duration::from_secs(n * 60)),
            (Err(error), None) => prop_assert_eq!(named(&error), Some("timeout-minutes")),
            (result, expected) => prop_assert!(false, "{minutes:?}: {:?}, expected {expected:?}", result.map(|_| ())),
        }
    }

    /// A `secrets` or `variables` list reads back as exactly its pairs, whatever the padding,
    /// blank lines, comments and line ends; every secret value is masked.
    #[test]
    fn multiline_lists_round_trip(map in list(), secrets in any::<bool>(), pad in any::<bool>(), crlf in any::<bool>()) {
        prop_assert!(map.values().all(|v| v.trim() == v.as_str()), "{:?}", map);
        let text = written(&map, pad, crlf);
        let input = if secrets { "secrets" } else { "variables" };
        let vars = step(&[(input, &text)]);
        let masks = ActionInputs::from_env(vars.clone()).expect("inputs").mask_commands();
        let (_, options) = read(vars).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        let read_back: BTreeMap<String, String> = if secrets {
            options.settings.secrets.iter().map(|(k, v)| (k.clone(), v.expose().to_string())).collect()
        } else {
            options.settings.variables.clone()
        };
        prop_assert_eq!(&read_back, &map, "{:?}", text);
        if secrets {
            for value in map.values() {
                let line = format!("::add-mask::{}", value.replace('%', "%25").replace('\r', "%0D"));
                prop_assert!(masks.lines().any(|l| l == line), "{:?} not masked", value);
            }
        }
    }
}
