//! The event payload of a `pull_request` run with `preview: true`: the action needs the pull
//! request's number to name the preview Space (`{space}-pr-{number}`), so a payload it cannot
//! read is bad input naming `GITHUB_EVENT_PATH`, and nothing may be sent (least of all a deploy
//! to the base Space).

use serde_json::Value;

use hf_deploy_tests::{run_action, workspace_root};

use super::action::{inputs, judge, runner};
use super::{Sends, Stands, Verdicts};

/// What `GITHUB_EVENT_PATH` names (or that it is not set).
enum Event {
    /// A file with these bytes.
    Text(&'static [u8]),
    /// The `pull_request.opened` example, changed by this function.
    Edit(fn(&mut Value)),
    /// A file that does not exist.
    Missing,
    /// A folder.
    Folder,
    /// `GITHUB_EVENT_PATH` unset.
    Unset,
}

/// The cases of this family (each one run and judged by its test).
pub(super) const CASES: usize = EVENTS.len();

#[rustfmt::skip]
const EVENTS: &[(&str, Event)] = &[
    ("missing file", Event::Missing),
    ("a folder", Event::Folder),
    ("GITHUB_EVENT_PATH unset", Event::Unset),
    ("empty file", Event::Text(b"")),
    ("not JSON", Event::Text(b"{not json")),
    ("a JSON array", Event::Text(b"[]")),
    ("a JSON string", Event::Text(b"\"pull_request\"")),
    ("a push payload", Event::Text(br#"{"ref":"refs/heads/main","after":"1111111111111111111111111111111111111111","repository":{"full_name":"Codertocat/Hello-World"}}"#)),
    ("no number", Event::Edit(|v| {
        remove(v, "number");
        remove(&mut v["pull_request"], "number");
    })),
    ("number as a string", Event::Edit(|v| v["number"] = "2".into())),
    ("negative number", Event::Edit(|v| v["number"] = (-2).into())),
    ("no head", Event::Edit(|v| remove(&mut v["pull_request"], "head"))),
    ("no head sha", Event::Edit(|v| remove(&mut v["pull_request"]["head"], "sha"))),
];

fn remove(value: &mut Value, key: &str) {
    if let Some(map) = value.as_object_mut() {
        map.remove(key);
    }
}

/// A preview step, with `wait: false` so that a deploy that goes ahead is short.
fn good_inputs() -> Vec<(&'static str, String)> {
    vec![
        ("hf-token", hf_hub_emulator::DEFAULT_WRITE_TOKEN.into()),
        ("space", "local/corpus-events".into()),
        ("source", "backend".into()),
        ("preview", "true".into()),
        ("wait", "false".into()),
        ("github-token", "ghs_corpusFakeToken0000000000000000".into()),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn corpus_event_payloads() {
    let stands = Stands::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    hf_deploy_tests::copy_dir(
        &hf_deploy_tests::example_backend(),
        &dir.path().join("workspace/backend"),
    );
    let opened = workspace_root().join("tests/fixtures/github/pull_request.opened.json");
    let example: Value =
        serde_json::from_str(&std::fs::read_to_string(&opened).expect("read")).expect("JSON");
    let mut verdicts = Verdicts::new("events");

    // The good run deploys the preview Space and comments on the pull request.
    let mark = stands.mark().await;
    let mut env = runner(&stands, dir.path(), &opened);
    env.extend(inputs(&good_inputs(), &[]));
    let output = run_action(env).await;
    let sent = stands.since(mark).await;
    assert!(
        sent.0.iter().any(|r| r.contains("corpus-events-pr-2")),
        "the good run deploys the preview Space: {:?}",
        sent.0
    );
    verdicts.good_run(
        &judge(&output, "GITHUB_EVENT_PATH", sent),
        Sends::Writes,
        true,
    );

    for (index, (name, event)) in EVENTS.iter().enumerate() {
        let path = dir.path().join(format!("event-{index}.json"));
        match event {
            Event::Text(bytes) => std::fs::write(&path, bytes).expect("write"),
            Event::Edit(edit) => {
                let mut value = example.clone();
                edit(&mut value);
                std::fs::write(&path, value.to_string()).expect("write");
            }
            Event::Folder => std::fs::create_dir(&path).expect("create folder"),
            Event::Missing | Event::Unset => {}
        }
        let mut env: Vec<(String, String)> = runner(&stands, dir.path(), &path)
            .into_iter()
            .filter(|(k, _)| !matches!(event, Event::Unset) || k != "GITHUB_EVENT_PATH")
            .collect();
        env.extend(inputs(&good_inputs(), &[]));
        let mark = stands.mark().await;
        let output = run_action(env).await;
        verdicts.record(
            name,
            judge(&output, "GITHUB_EVENT_PATH", stands.since(mark).await),
        );
    }
    verdicts.finish(12);
    stands.emulator.shutdown().await;
}
