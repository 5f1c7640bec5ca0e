//! The runner's files: `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY` and the event payload at
//! `GITHUB_EVENT_PATH`. Every function takes the path, so tests use temporary files.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use rand::Rng;
use serde::Deserialize;

use super::{Error, Result};

/// GitHub refuses a step summary larger than 1 MiB (and shows an error instead of it).
pub(crate) const SUMMARY_LIMIT: u64 = 1024 * 1024;

/// The note that replaces the end of a summary that would pass [`SUMMARY_LIMIT`].
pub(crate) const SUMMARY_TRUNCATED_NOTE: &str =
    "\n\n> [!WARNING]\n> The summary was cut here: GitHub keeps at most 1 MiB of step summary.\n";

/// Append outputs to the `GITHUB_OUTPUT` file, each in the heredoc form
/// `name<<ghadelimiter_<random>\nvalue\n<delimiter>\n` that `@actions/core` writes; every value
/// of the run's redactor is `***` (the runner masks no output).
pub(crate) fn write_outputs(path: &Path, outputs: &[(&str, &str)]) -> Result<()> {
    let mut text = String::new();
    for (name, value) in outputs {
        let delimiter = format!("ghadelimiter_{}", random_hex(16));
        text.push_str(&render_output(
            name,
            &crate::guard::redact(value),
            &delimiter,
        )?);
    }
    append(path, text.as_bytes(), "append outputs to")
}

/// One output in the heredoc form, refusing what the runner would read back differently.
pub(crate) fn render_output(name: &str, value: &str, delimiter: &str) -> Result<String> {
    if name.is_empty() {
        return Err(Error::OutputName {
            name: name.into(),
            reason: "it is empty",
        });
    }
    // The runner splits `name<<delimiter` at the first `<<`: a name ending in `<` would move
    // the split into the name and leave the heredoc without its delimiter.
    if name.contains(['=', '\n', '\r']) || name.contains("<<") || name.ends_with('<') {
        return Err(Error::OutputName {
            name: name.escape_debug().to_string(),
            reason: "it contains `=`, `<<` or a line break, or ends with `<`",
        });
    }
    if value.contains(delimiter) {
        return Err(Error::OutputDelimiter { name: name.into() });
    }
    Ok(format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"))
}

/// Append Markdown to the step summary, cutting it (with a note) so that the whole file stays
/// under [`SUMMARY_LIMIT`], every value of the run's redactor as `***`. Returns true when the
/// text was cut.
pub(crate) fn append_summary(path: &Path, markdown: &str) -> Result<bool> {
    let markdown = &*crate::guard::redact(markdown);
    let existing = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(source) => {
            return Err(Error::Io {
                action: "read the size of",
                path: path.into(),
                source,
            });
        }
    };
    let mut text = markdown.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    // Stay strictly under the limit.
    let room = SUMMARY_LIMIT.saturating_sub(existing).saturating_sub(1) as usize;
    let cut = text.len() > room;
    if cut {
        let keep = room.saturating_sub(SUMMARY_TRUNCATED_NOTE.len());
        let mut end = keep.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        // Prefer to end on a whole line so that a table or fence is not split mid-row.
        if let Some(newline) = text[..end].rfind('\n') {
            end = newline + 1;
        }
        text.truncate(end);
        if SUMMARY_TRUNCATED_NOTE.len() <= room {
            text.push_str(SUMMARY_TRUNCATED_NOTE);
        }
    }
    append(path, text.as_bytes(), "append to the step summary")?;
    Ok(cut)
}

fn append(path: &Path, bytes: &[u8], action: &'static str) -> Result<()> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| Error::Io {
            action,
            path: path.into(),
            source,
        })?;
    file.write_all(bytes).map_err(|source| Error::Io {
        action,
        path: path.into(),
        source,
    })
}

fn random_hex(bytes: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.r#gen::<u8>()))
        .collect()
}

/// What an event about a pull request tells the action: `pull_request`,
/// `pull_request_target` and `pull_request_review` carry the pull request itself;
/// `issue_comment` on a pull request carries only its number, state and labels (see
/// [`PullRequestEvent::head_known`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PullRequestEvent {
    /// The pull request number.
    pub(crate) number: u64,
    /// `opened`, `synchronize`, `reopened`, `closed`, ...
    pub(crate) action: String,
    /// The head commit (the PR's branch), not the merge commit the runner checks out.
    pub(crate) head_sha: String,
    /// The head branch name.
    pub(crate) head_ref: String,
    /// `owner/name` of the head repository; `None` when it was deleted.
    pub(crate) head_repo: Option<String>,
    /// `owner/name` of the base repository.
    pub(crate) base_repo: String,
    /// True when the PR was merged (only meaningful on `closed`).
    pub(crate) merged: bool,
    /// The PR's web page.
    pub(crate) html_url: Option<String>,
    /// The PR's labels when the payload was made.
    pub(crate) labels: Vec<String>,
    /// The label added or removed, for `labeled` and `unlabeled`.
    pub(crate) label: Option<String>,
    /// True while the PR is open (`state` is `open`).
    pub(crate) open: bool,
    /// False for a comment on the PR (`issue_comment`): its payload names no head commit and no
    /// head repository, which must be read from the API before anything is decided on them.
    pub(crate) head_known: bool,
}

impl PullRequestEvent {
    /// True when the head comes from another repository (a fork). Such runs get a read-only
    /// `GITHUB_TOKEN` and no secrets.
    pub(crate) fn is_fork(&self) -> bool {
        self.head_repo.as_deref() != Some(self.base_repo.as_str())
    }

    /// True for the event that ends the PR (merged or not).
    pub(crate) fn is_closed(&self) -> bool {
        self.action == "closed"
    }

    /// True when the PR carries `label` (GitHub's label names ignore case).
    pub(crate) fn has_label(&self, label: &str) -> bool {
        self.labels.iter().any(|l| same_label(l, label))
    }

    /// This event with the PR as the API describes it now (`pull`: `GET .../pulls/{number}`):
    /// state, labels and head repository from the API. The head commit is the event's (what
    /// the workflow checked out), except for a comment, whose payload has none.
    pub(crate) fn refreshed(&self, pull: &PullRequestEvent) -> PullRequestEvent {
        PullRequestEvent {
            number: self.number,
            action: self.action.clone(),
            head_sha: if self.head_known {
                self.head_sha.clone()
            } else {
                pull.head_sha.clone()
            },
            head_ref: pull.head_ref.clone(),
            head_repo: pull.head_repo.clone(),
            base_repo: pull.base_repo.clone(),
            merged: pull.merged,
            html_url: pull.html_url.clone().or_else(|| self.html_url.clone()),
            labels: pull.labels.clone(),
            label: self.label.clone(),
            open: pull.open,
            head_known: true,
        }
    }
}

/// GitHub's label names ignore case: `Preview` and `preview` are one label.
pub(crate) fn same_label(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

#[derive(Deserialize)]
struct RawEvent {
    action: Option<String>,
    number: Option<u64>,
    pull_request: Option<RawPullRequest>,
    issue: Option<RawIssue>,
    label: Option<RawLabel>,
}

/// A pull request as the event payloads and `GET /repos/{owner}/{repo}/pulls/{number}` show it.
#[derive(Deserialize)]
struct RawPullRequest {
    number: Option<u64>,
    html_url: Option<String>,
    #[serde(default)]
    merged: Option<bool>,
    state: Option<String>,
    #[serde(default)]
    labels: Vec<RawLabel>,
    head: RawBranch,
    base: RawBranch,
}

/// The issue of an `issue_comment`; `pull_request` is present when the issue is a PR.
#[derive(Deserialize)]
struct RawIssue {
    number: u64,
    html_url: Option<String>,
    state: Option<String>,
    #[serde(default)]
    labels: Vec<RawLabel>,
    pull_request: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawLabel {
    name: String,
}

#[derive(Deserialize)]
struct RawBranch {
    sha: String,
    #[serde(rename = "ref")]
    branch: String,
    repo: Option<RawRepo>,
}

#[derive(Deserialize)]
struct RawRepo {
    full_name: String,
}

/// The event payload at `path` read as for a run whose event name is not known: `Ok(None)`
/// when it is not about a pull request (`push`, `workflow_dispatch`, a comment on an issue that
/// is no pull request, ...). Only the fields used are required, so payload changes elsewhere do
/// not break the action.
#[cfg(test)]
pub(crate) fn event(
    path: &Path,
) -> std::result::Result<Option<PullRequestEvent>, hf_deploy_core::Error> {
    run_event(None, Some(path))
}

/// The pull request of a parsed payload, or `None` (no pull request, or one without a number).
fn from_raw(raw: RawEvent) -> Option<PullRequestEvent> {
    let action = raw.action.unwrap_or_default();
    if let Some(pr) = raw.pull_request {
        let number = raw.number.or(pr.number)?;
        let mut event = pull_request(number, pr);
        event.action = action;
        event.label = raw.label.map(|l| l.name);
        return Some(event);
    }
    match raw.issue {
        Some(issue) if issue.pull_request.is_some() => Some(PullRequestEvent {
            number: issue.number,
            action,
            head_sha: String::new(),
            head_ref: String::new(),
            head_repo: None,
            base_repo: String::new(),
            merged: false,
            html_url: issue.html_url,
            labels: issue.labels.into_iter().map(|l| l.name).collect(),
            label: None,
            open: issue.state.as_deref() == Some("open"),
            head_known: false,
        }),
        _ => None,
    }
}

/// The name of the variable naming the payload, as errors show it.
const EVENT_PATH: &str = "GITHUB_EVENT_PATH";

/// True for the events whose payload carries the pull request the run is about
/// (`pull_request`, `pull_request_target`, `pull_request_review`,
/// `pull_request_review_comment`): without it the run cannot tell which pull request it serves.
pub(crate) fn is_pull_request_event(name: &str) -> bool {
    name.starts_with("pull_request")
}

/// The event of this run, from `GITHUB_EVENT_NAME` (`name`) and `GITHUB_EVENT_PATH` (`path`),
/// checked before anything is written: a payload that cannot be read, is not a JSON object or
/// has fields of the wrong shape, and a pull request event without its payload, its pull
/// request or its number, are bad input naming `GITHUB_EVENT_PATH` (exit 2). Other events
/// (`push`, `workflow_dispatch`, ...) may have no payload and no pull request: `Ok(None)`.
pub(crate) fn run_event(
    name: Option<&str>,
    path: Option<&Path>,
) -> std::result::Result<Option<PullRequestEvent>, hf_deploy_core::Error> {
    let pull_request_event = name.filter(|n| is_pull_request_event(n));
    let Some(path) = path else {
        return match pull_request_event {
            Some(name) => Err(event_error(format!(
                "it is not set, and a `{name}` run needs its payload (the pull request's number and head)"
            ))),
            None => Ok(None),
        };
    };
    let shown = path.display();
    let text = std::fs::read(path)
        .map_err(|error| event_error(format!("cannot read the payload `{shown}`: {error}")))?;
    let value: serde_json::Value = serde_json::from_slice(&text).map_err(|error| {
        let what = if error.is_eof() && text.iter().all(u8::is_ascii_whitespace) {
            "is empty".to_string()
        } else {
            format!(
                "is not JSON (line {}, column {})",
                error.line(),
                error.column()
            )
        };
        event_error(format!("the payload `{shown}` {what}"))
    })?;
    if let Err(problem) = check_payload(&value) {
        return Err(event_error(format!("the payload `{shown}`: {problem}")));
    }
    let raw: RawEvent = serde_json::from_value(value).map_err(|_| {
        event_error(format!(
            "the payload `{shown}` does not have the fields of an event payload"
        ))
    })?;
    let event = from_raw(raw);
    match (pull_request_event, &event) {
        (Some(name), None) => Err(event_error(format!(
            "the payload `{shown}` holds no pull request with its number, which a `{name}` run needs"
        ))),
        _ => Ok(event),
    }
}

fn event_error(reason: String) -> hf_deploy_core::Error {
    hf_deploy_core::Error::invalid_input_hint(
        hf_deploy_core::Field::Other(EVENT_PATH),
        reason,
        "the runner writes the payload of the event that started the workflow to the file `GITHUB_EVENT_PATH` names; outside GitHub Actions, set `GITHUB_EVENT_NAME` and `GITHUB_EVENT_PATH` to a payload of that event, or neither",
    )
}

/// The fields the action reads, checked one by one so that the error can name the field
/// without quoting the payload: what is wrong, or `Ok`.
fn check_payload(value: &serde_json::Value) -> std::result::Result<(), String> {
    use serde_json::Value;
    let Value::Object(top) = value else {
        let kind = match value {
            Value::Array(_) => "a JSON array",
            Value::String(_) => "a JSON string",
            Value::Number(_) => "a JSON number",
            Value::Bool(_) => "a JSON boolean",
            _ => "JSON `null`",
        };
        return Err(format!("it holds {kind}, not an event object"));
    };
    let number = |value: Option<&Value>, name: &str| match value {
        None => Ok(()),
        Some(v) if v.as_u64().is_some_and(|n| n > 0) => Ok(()),
        Some(_) => Err(format!(
            "`{name}` is not a pull request number (a whole number from 1)"
        )),
    };
    let text = |value: Option<&Value>, name: &str| match value {
        Some(Value::String(_)) => Ok(()),
        Some(_) => Err(format!("`{name}` is not a string")),
        None => Err(format!("`{name}` is missing")),
    };
    number(top.get("number"), "number")?;
    if let Some(action) = top.get("action") {
        text(Some(action), "action")?;
    }
    if let Some(pr) = top.get("pull_request") {
        let Value::Object(pr) = pr else {
            return Err("`pull_request` is not an object".into());
        };
        number(pr.get("number"), "pull_request.number")?;
        for side in ["head", "base"] {
            let Some(Value::Object(branch)) = pr.get(side) else {
                return Err(format!("`pull_request.{side}` is missing or not an object"));
            };
            text(branch.get("sha"), &format!("pull_request.{side}.sha"))?;
            text(branch.get("ref"), &format!("pull_request.{side}.ref"))?;
        }
    }
    if let Some(issue) = top.get("issue") {
        number(issue.get("number"), "issue.number")?;
        if issue.get("number").is_none() {
            return Err("`issue.number` is missing".into());
        }
    }
    Ok(())
}

/// A pull request from the API (`GET /repos/{owner}/{repo}/pulls/{number}`), as an event with
/// no action.
pub(crate) fn api_pull_request(text: &str) -> serde_json::Result<PullRequestEvent> {
    let raw: RawPullRequest = serde_json::from_str(text)?;
    let number = raw.number.unwrap_or_default();
    Ok(pull_request(number, raw))
}

fn pull_request(number: u64, pr: RawPullRequest) -> PullRequestEvent {
    PullRequestEvent {
        number,
        action: String::new(),
        head_sha: pr.head.sha,
        head_ref: pr.head.branch,
        head_repo: pr.head.repo.map(|r| r.full_name),
        base_repo: pr.base.repo.map(|r| r.full_name).unwrap_or_default(),
        merged: pr.merged.unwrap_or(false),
        html_url: pr.html_url,
        labels: pr.labels.into_iter().map(|l| l.name).collect(),
        label: None,
        open: pr.state.as_deref() != Some("closed"),
        head_known: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/github")
            .join(name)
    }

    #[test]
    fn outputs_round_trip_through_the_runners_reader() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("output.txt");
        std::fs::write(&path, "earlier=from another step\n").expect("seed");
        let health = "{\n  \"status\": \"healthy\",\n  \"services\": {\"qdrant\": \"ok\"}\n}";
        let outputs = [
            ("space-id", "alice/rag-chatbot"),
            (
                "space-url",
                "https://huggingface.co/spaces/alice/rag-chatbot",
            ),
            ("app-url", "https://alice-rag-chatbot.hf.space"),
            ("docs-url", "https://alice-rag-chatbot.hf.space/docs"),
            (
                "health-url",
                "https://alice-rag-chatbot.hf.space/api/health?x=a=b",
            ),
            ("commit-sha", "0123456789abcdef0123456789abcdef01234567"),
            ("changed", "true"),
            ("stage", "RUNNING"),
            ("health", health),
            ("empty", ""),
            ("trailing-newline", "line one\n"),
            ("tricky", "name<<EOF\nEOF\nx=y"),
        ];
        write_outputs(&path, &outputs).expect("write");
        write_outputs(&path, &[("stage", "RUNNING_BUILDING")]).expect("write again");
        let text = std::fs::read_to_string(&path).expect("read");
        let parsed =
            hf_deploy_tests::runner_read_outputs(&text).expect("the runner accepts the file");
        assert_eq!(parsed["earlier"], "from another step");
        for (name, value) in outputs.iter().filter(|(n, _)| *n != "stage") {
            assert_eq!(parsed[*name], *value, "output {name}");
        }
        assert_eq!(parsed["stage"], "RUNNING_BUILDING", "the last write wins");
        let delimiters: std::collections::BTreeSet<&str> = text
            .lines()
            .filter_map(|l| l.split_once("<<ghadelimiter_").map(|(_, d)| d))
            .collect();
        assert_eq!(
            delimiters.len(),
            outputs.len() + 1,
            "a fresh random delimiter per output"
        );
    }

    #[test]
    fn output_names_the_runner_would_misread_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("output.txt");
        for name in ["", "a=b", "a<<b", "a\nb", "a<", "<"] {
            let error = write_outputs(&path, &[(name, "v")]).expect_err(name);
            assert!(matches!(error, Error::OutputName { .. }), "{error}");
        }
        let error = render_output("health", "a\nghadelimiter_x\nb", "ghadelimiter_x")
            .expect_err("collision");
        assert_eq!(
            error.to_string(),
            "the value of output `health` contains its heredoc delimiter"
        );
        let missing = dir.path().join("no-such-dir/output.txt");
        let error = write_outputs(&missing, &[("a", "b")]).expect_err("no dir");
        assert!(
            error
                .to_string()
                .starts_with("failed to append outputs to `"),
            "{error}"
        );
    }

    #[test]
    fn summary_stays_under_one_mebibyte() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("summary.md");
        assert!(!append_summary(&path, "# Deploy\n\n| a | b |\n|---|---|\n").expect("small"));
        let row = "| `GEMINI_API_KEY` | set | \u{2705} ünïcödé |\n";
        let big = row.repeat((SUMMARY_LIMIT as usize / row.len()) + 100);
        assert!(append_summary(&path, &big).expect("big"), "reports the cut");
        let text = std::fs::read_to_string(&path).expect("utf-8 intact");
        assert!((text.len() as u64) < SUMMARY_LIMIT, "{} bytes", text.len());
        assert!(
            text.len() as u64 > SUMMARY_LIMIT - 4096,
            "keeps almost all of it: {}",
            text.len()
        );
        assert!(text.starts_with("# Deploy"));
        assert!(text.ends_with(SUMMARY_TRUNCATED_NOTE));
        let before_note = &text[..text.len() - SUMMARY_TRUNCATED_NOTE.len()];
        assert!(before_note.ends_with(row), "cut on a whole row");
        // A full summary takes nothing more but still does not pass the limit.
        append_summary(&path, &big).expect("again");
        assert!((std::fs::metadata(&path).expect("meta").len()) < SUMMARY_LIMIT);
    }

    #[test]
    fn reads_real_pull_request_payloads() {
        let opened = event(&fixture("pull_request.opened.json"))
            .expect("parse")
            .expect("a PR event");
        assert_eq!(opened.number, 2);
        assert_eq!(opened.action, "opened");
        assert_eq!(opened.head_sha, "ec26c3e57ca3a959ca5aad62de7213c562f8c821");
        assert_eq!(opened.head_ref, "changes");
        assert_eq!(opened.base_repo, "Codertocat/Hello-World");
        assert!(!opened.is_fork() && !opened.is_closed() && !opened.merged);

        let sync = event(&fixture("pull_request.synchronize.json"))
            .expect("parse")
            .expect("a PR event");
        assert_eq!(sync.action, "synchronize");

        let closed = event(&fixture("pull_request.closed.json"))
            .expect("parse")
            .expect("a PR event");
        assert!(closed.is_closed());
        assert!(!closed.merged);
        // The merge commit is not the head: we must deploy and report the head.
        let raw: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(fixture("pull_request.closed.json")).expect("read"),
        )
        .expect("json");
        assert_ne!(
            raw["pull_request"]["merge_commit_sha"].as_str(),
            Some(closed.head_sha.as_str())
        );
    }

    #[test]
    fn reads_comments_reviews_and_labels() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("event.json");
        let read = |value: &serde_json::Value| {
            std::fs::write(&path, value.to_string()).expect("write");
            event(&path).expect("parse")
        };
        let mut comment = hf_deploy_tests::webhook_examples("issue_comment")[0].clone();
        assert_eq!(read(&comment), None, "a comment on an issue is no PR event");
        comment["issue"]["pull_request"] = serde_json::json!({"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"});
        let on_pr = read(&comment).expect("a comment on a pull request");
        assert_eq!((on_pr.number, on_pr.action.as_str()), (1, "created"));
        assert!(!on_pr.head_known && on_pr.open && on_pr.has_label("BUG"));

        let review = read(&hf_deploy_tests::webhook_examples("pull_request_review")[0])
            .expect("a review is about a pull request");
        assert!(review.head_known && !review.is_fork() && review.open);
        assert_eq!(review.head_sha, "ec26c3e57ca3a959ca5aad62de7213c562f8c821");

        let examples = hf_deploy_tests::webhook_examples("pull_request");
        let labeled = examples
            .iter()
            .find(|e| e["action"] == "labeled")
            .expect("labeled");
        let labeled = read(labeled).expect("PR");
        assert_eq!(labeled.label.as_deref(), Some("bug"));
        assert!(labeled.has_label("bug"));

        let pull =
            api_pull_request(&std::fs::read_to_string(fixture("pull-request.json")).expect("read"))
                .expect("the API's pull request");
        assert_eq!(pull.number, 1347);
        assert!(pull.open && pull.head_known && pull.has_label("bug"));
        let fresh = on_pr.refreshed(&pull);
        assert!(fresh.head_known);
        assert_eq!(
            fresh.head_sha, pull.head_sha,
            "a comment takes the API's head"
        );
        let kept = labeled.refreshed(&pull);
        assert_eq!(
            kept.head_sha, labeled.head_sha,
            "an event keeps its own head"
        );
    }

    #[test]
    fn pull_request_events_need_their_pull_request() {
        let dir = tempfile::tempdir().expect("tempdir");
        let push = dir.path().join("push.json");
        std::fs::write(&push, r#"{"ref":"refs/heads/main","after":"abc"}"#).expect("write");
        let opened = fixture("pull_request.opened.json");
        assert_eq!(run_event(None, None).expect("no event"), None);
        assert_eq!(run_event(Some("push"), None).expect("a push"), None);
        assert_eq!(run_event(Some("push"), Some(&push)).expect("a push"), None);
        let pr = run_event(Some("pull_request_target"), Some(&opened)).expect("a PR");
        assert_eq!(pr.map(|p| p.number), Some(2));
        let refused = [
            (
                Some("pull_request"),
                None,
                "it is not set, and a `pull_request` run",
            ),
            (
                Some("pull_request_review"),
                Some(push.as_path()),
                "holds no pull request",
            ),
            (Some("push"), Some(dir.path()), "cannot read the payload"),
        ];
        for (name, path, says) in refused {
            let error = run_event(name, path).expect_err(says);
            assert!(error.is_usage(), "{error}");
            let text = error.to_string();
            assert!(
                text.starts_with("invalid `GITHUB_EVENT_PATH`: ") && text.contains(says),
                "{text}"
            );
            assert!(
                error
                    .hint()
                    .is_some_and(|h| h.contains("GITHUB_EVENT_NAME"))
            );
        }
        for (bytes, says) in [
            ("", "is empty"),
            ("[]", "holds a JSON array"),
            ("{\"number\": -2}", "`number` is not a pull request number"),
            (
                "{\"pull_request\": {\"head\": {\"ref\": \"x\"}}}",
                "`pull_request.head.sha` is missing",
            ),
        ] {
            std::fs::write(&push, bytes).expect("write");
            let error = run_event(Some("push"), Some(&push)).expect_err(says);
            assert!(error.to_string().contains(says), "{error}");
        }
    }

    #[test]
    fn detects_forks_merges_and_other_events() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut raw: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(fixture("pull_request.closed.json")).expect("read"),
        )
        .expect("json");
        raw["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World".into();
        raw["pull_request"]["merged"] = true.into();
        let path = dir.path().join("fork.json");
        std::fs::write(&path, raw.to_string()).expect("write");
        let fork = event(&path).expect("parse").expect("PR");
        assert!(fork.is_fork() && fork.merged);

        raw["pull_request"]["head"]["repo"] = serde_json::Value::Null;
        std::fs::write(&path, raw.to_string()).expect("write");
        assert!(
            event(&path).expect("parse").expect("PR").is_fork(),
            "deleted head repo counts as a fork"
        );

        let push = dir.path().join("push.json");
        std::fs::write(
            &push,
            r#"{"ref":"refs/heads/main","after":"abc","repository":{"full_name":"a/b"}}"#,
        )
        .expect("write");
        assert_eq!(event(&push).expect("parse"), None);

        std::fs::write(&push, "{not json").expect("write");
        let error = event(&push).expect_err("bad json");
        assert!(error.is_usage(), "{error}");
        assert!(
            error
                .to_string()
                .starts_with("invalid `GITHUB_EVENT_PATH`: the payload `"),
            "{error}"
        );
    }
}
