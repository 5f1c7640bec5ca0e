//! The bad-input corpus: one table of cases per family of bad input, one test per family.
//!
//! The rule (`interface.md`): bad input exits 2, the error names the input as the user spells
//! it (`--flag` on the command line, the input name in action mode's `::error` annotation), and
//! nothing is sent: the Hub stand-in and the fake GitHub see no request of any kind (not even a
//! read). Each family first makes a good run that does reach the stand-ins, so that the
//! counters are seen to count; every case is then judged by what the stand-ins saw during its
//! own run.
//!
//! A bad input that is not refused as the rule says stays in its table and is listed in
//! [`KNOWN_DEFECTS`], with a one-line why and what it does today; the test asserts exactly
//! that, so that a fix (or a change for the worse) fails the test with a message saying so.
//!
//! Families: `flags` (every command's flags and the environment they read), `action` (every
//! action input and the runner's variables), `backends` (the SOURCE folder), `dockerfiles` (a
//! user Dockerfile breaking a Space rule), `secrets_files` (`--secrets-file`), `events` (the
//! event payload of a preview run), `templates` (user templates, a library-only option).

mod action;
mod backends;
mod dockerfiles;
mod events;
mod flags;
mod secrets_files;
mod templates;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hf_deploy_tests::fake_github::{FakeGitHub, Mode};
use hf_deploy_tests::{CliOutput, hub_env};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, Runner, ScriptedApp, ScriptedResponse,
    ScriptedRoute, ScriptedRunner,
};

/// Every family with its number of cases.
const FAMILIES: [(&str, usize); 7] = [
    ("flags", flags::CASES),
    ("action", action::CASES),
    ("backends", backends::CASES),
    ("dockerfiles", dockerfiles::CASES),
    ("templates", templates::CASES),
    ("secrets_files", secrets_files::CASES),
    ("events", events::CASES),
];

/// The corpus's size, per family and in all (issue 16 asks for at least 120 cases across
/// flags, action inputs, backend folders, user templates, Dockerfiles, secrets files and
/// events), printed with `--no-capture`; and no family without a case.
#[test]
fn corpus_count() {
    let total: usize = FAMILIES.iter().map(|(_, n)| n).sum();
    for (family, cases) in FAMILIES {
        eprintln!("corpus: {family}: {cases} cases");
        assert!(cases > 0, "{family} has no case");
    }
    eprintln!(
        "corpus: {total} cases in all, {} known defect(s)",
        KNOWN_DEFECTS.len()
    );
    assert!(total >= 120, "the corpus has {total} cases, fewer than 120");
}

/// What the stand-ins saw of a run: nothing, only reads, or at least one write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sends {
    /// Not one request.
    Nothing,
    /// Requests, none of them a write.
    Reads,
    /// At least one write: a request that is not GET or HEAD (a git fetch's `git-upload-pack`
    /// POST aside), such as a Space creation, a secret, a git `receive-pack`, an LFS upload, a
    /// GitHub deployment or comment.
    Writes,
}

/// How a case ends today: its exit code, whether its error names the input, and what it sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Today {
    /// Exit code (for the library-only family: 2 for a usage error, 1 for any other).
    pub(crate) code: i32,
    /// The error names the input as the user spells it.
    pub(crate) named: bool,
    /// What reached the Hub stand-in and the fake GitHub.
    pub(crate) sends: Sends,
}

/// A bad input that is not refused as the rule says: kept in its family's table and run, with
/// today's behaviour asserted.
pub(crate) struct KnownDefect {
    /// The family (module) whose table holds the case.
    pub(crate) family: &'static str,
    /// The case's label in that table.
    pub(crate) case: &'static str,
    /// Why it is a defect, in one line.
    pub(crate) why: &'static str,
    /// What it does today.
    pub(crate) today: Today,
}

/// Every bad input of the corpus that is not refused as the rule says. Each one is reported;
/// when one is fixed, its test fails until the entry is removed here.
///
/// Empty: every case of every family is refused as the rule says.
pub(crate) const KNOWN_DEFECTS: &[KnownDefect] = &[];

/// A [`KnownDefect`] entry, for the next bad input found that is not yet refused.
#[expect(
    dead_code,
    reason = "no known defect is left; this is how the next one is recorded"
)]
const fn defect(
    family: &'static str,
    case: &'static str,
    why: &'static str,
    today: Today,
) -> KnownDefect {
    KnownDefect {
        family,
        case,
        why,
        today,
    }
}

/// One run of a case, as the harness judges it.
pub(crate) struct Seen {
    /// Exit code.
    pub(crate) code: i32,
    /// The error names the input.
    pub(crate) named: bool,
    /// `METHOD path` of each request the Hub stand-in saw during the run.
    pub(crate) hub: Vec<String>,
    /// `METHOD path` of each request the fake GitHub saw during the run.
    pub(crate) github: Vec<String>,
    /// Problems that fail the case whatever else happens (a secret value shown, ...).
    pub(crate) problems: Vec<String>,
    /// What the run printed, for failure messages.
    pub(crate) output: String,
}

/// True for a request that changes something (see [`Sends::Writes`]).
fn is_write(request: &str) -> bool {
    let (method, path) = request.split_once(' ').unwrap_or((request, ""));
    !matches!(method, "GET" | "HEAD") && !path.ends_with("/git-upload-pack")
}

impl Seen {
    pub(crate) fn sends(&self) -> Sends {
        let all = self.hub.iter().chain(&self.github);
        if all.clone().any(|r| is_write(r)) {
            Sends::Writes
        } else if self.hub.is_empty() && self.github.is_empty() {
            Sends::Nothing
        } else {
            Sends::Reads
        }
    }

    pub(crate) fn today(&self) -> Today {
        Today {
            code: self.code,
            named: self.named,
            sends: self.sends(),
        }
    }
}

/// The verdicts of one family: its failures and the known defects it ran.
pub(crate) struct Verdicts {
    family: &'static str,
    cases: Vec<String>,
    defects: Vec<&'static str>,
    failures: Vec<Failure>,
}

/// A case that broke the rule (or whose known defect changed).
struct Failure {
    case: String,
    problems: String,
    output: String,
}

impl Verdicts {
    pub(crate) fn new(family: &'static str) -> Verdicts {
        Verdicts {
            family,
            cases: Vec::new(),
            defects: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// The good run that opens the family: it succeeds and reaches the stand-ins, so the
    /// counters the cases are judged by do count.
    pub(crate) fn good_run(&mut self, seen: &Seen, needs: Sends, github_too: bool) {
        let ok = seen.code == 0
            && seen.sends() != Sends::Nothing
            && (needs != Sends::Writes || seen.sends() == Sends::Writes)
            && (!github_too || !seen.github.is_empty())
            && seen.problems.is_empty();
        assert!(
            ok,
            "{}: the good run must succeed and be seen by the stand-ins (needs {needs:?}, GitHub too: {github_too}); Hub saw {:?}, GitHub saw {:?}, problems {:?}\n{}",
            self.family, seen.hub, seen.github, seen.problems, seen.output
        );
    }

    /// Judge one case.
    pub(crate) fn record(&mut self, case: &str, seen: Seen) {
        assert!(
            !self.cases.iter().any(|c| c == case),
            "{}: case `{case}` is in the table twice",
            self.family
        );
        self.cases.push(case.to_string());
        let mut problems = seen.problems.clone();
        let known = KNOWN_DEFECTS
            .iter()
            .find(|d| d.family == self.family && d.case == case);
        match known {
            Some(defect) => {
                self.defects.push(defect.case);
                let today = seen.today();
                if today != defect.today {
                    problems.push(format!(
                        "known defect ({}) recorded as {:?} but is now {today:?}: if it is fixed, remove it from KNOWN_DEFECTS",
                        defect.why, defect.today
                    ));
                }
            }
            None => {
                if seen.code != 2 {
                    problems.push(format!("exit {} instead of 2", seen.code));
                }
                if !seen.named {
                    problems.push("the error does not name the input".into());
                }
                if seen.sends() != Sends::Nothing {
                    problems.push(format!(
                        "sent {:?}: the Hub saw {:?}, GitHub saw {:?}",
                        seen.sends(),
                        seen.hub,
                        seen.github
                    ));
                }
            }
        }
        if !problems.is_empty() {
            self.failures.push(Failure {
                case: case.to_string(),
                problems: problems.join("; "),
                output: seen.output,
            });
        }
    }

    /// Fail with every failed case; check that each known defect of the family was run and
    /// that the family has at least `at_least` cases.
    pub(crate) fn finish(self, at_least: usize) {
        let stale: Vec<&str> = KNOWN_DEFECTS
            .iter()
            .filter(|d| d.family == self.family && !self.defects.contains(&d.case))
            .map(|d| d.case)
            .collect();
        assert!(
            stale.is_empty(),
            "{}: KNOWN_DEFECTS names cases its table does not hold: {stale:?}",
            self.family
        );
        let summary: Vec<String> = self
            .failures
            .iter()
            .map(|f| format!("  {}: {}", f.case, f.problems))
            .collect();
        let details: Vec<String> = self
            .failures
            .iter()
            .map(|f| format!("{}: {}\n{}", f.case, f.problems, f.output))
            .collect();
        assert!(
            self.failures.is_empty(),
            "{}: {} of {} case(s) failed:\n{}\n\n{}",
            self.family,
            self.failures.len(),
            self.cases.len(),
            summary.join("\n"),
            details.join("\n\n")
        );
        let counted = FAMILIES
            .iter()
            .find(|(f, _)| *f == self.family)
            .map(|(_, n)| *n);
        assert_eq!(
            Some(self.cases.len()),
            counted,
            "{}: the cases run are not the family's count in `FAMILIES`",
            self.family
        );
        assert!(
            self.cases.len() >= at_least,
            "{}: {} cases, expected at least {at_least}",
            self.family,
            self.cases.len()
        );
        eprintln!(
            "{}: {} cases, {} known defect(s) {:?}",
            self.family,
            self.cases.len(),
            self.defects.len(),
            self.defects
        );
    }
}

/// The app of every Space the stand-in runs: healthy at once, so that a case that does deploy
/// (a known defect) ends quickly.
const HEALTHY: &str = r#"{"status":"healthy","services":{"fastapi":"ok"}}"#;

/// The Hub stand-in (running Spaces from a script) and the fake GitHub, with request counters.
pub(crate) struct Stands {
    pub(crate) emulator: Emulator,
    pub(crate) github: FakeGitHub,
    /// An empty `HF_HOME`, so that no token file of this machine is found.
    hf_home: tempfile::TempDir,
}

/// Where the request logs stood before a run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    hub: usize,
    github: usize,
}

impl Stands {
    pub(crate) async fn start() -> Stands {
        let app = ScriptedApp::new()
            .route(ScriptedRoute::get("/api/health").then(ScriptedResponse::json(200, HEALTHY)))
            .cors_origin("https://book.example.com");
        let config = EmulatorConfig {
            runner: Runner::Scripted(ScriptedRunner::running().app(app)),
            ..EmulatorConfig::default()
        };
        Stands {
            emulator: Emulator::start(config)
                .await
                .expect("the Hub stand-in starts"),
            github: FakeGitHub::start(Mode::default()).await,
            hf_home: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn counts(&self) -> Mark {
        Mark {
            hub: self.emulator.request_log().len(),
            github: self.github.requests().len(),
        }
    }

    /// The logs' length once they stopped growing (a run that sent something may have its last
    /// requests logged a moment after it ended), waiting 5 seconds at most.
    pub(crate) async fn mark(&self) -> Mark {
        let mut last = self.counts();
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = self.counts();
            if now.hub == last.hub && now.github == last.github {
                break;
            }
            last = now;
        }
        last
    }

    /// The requests each stand-in saw since `mark`, as `METHOD path`.
    pub(crate) async fn since(&self, mark: Mark) -> (Vec<String>, Vec<String>) {
        let end = self.mark().await;
        let hub = self.emulator.request_log()[mark.hub..end.hub]
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        let github = self.github.requests()[mark.github..end.github]
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        (hub, github)
    }

    /// The environment of a command-line run: the stand-in's endpoint and a write token, an
    /// empty `HF_HOME`, and the fake GitHub (no command should call it on bad input either).
    pub(crate) fn cli_env(&self) -> Vec<(String, String)> {
        let mut env = hub_env(&self.emulator, DEFAULT_WRITE_TOKEN);
        env.push(("HF_HOME".into(), self.hf_home.path().display().to_string()));
        env.push(("GITHUB_API_URL".into(), self.github.url.clone()));
        env.push((
            "GITHUB_TOKEN".into(),
            "ghs_corpusFakeToken0000000000000000".into(),
        ));
        env
    }
}

/// `{name}` placeholders of a table, replaced by paths and values known only at run time.
pub(crate) struct Places(BTreeMap<&'static str, String>);

impl Places {
    pub(crate) fn new() -> Places {
        Places(BTreeMap::new())
    }

    pub(crate) fn set(&mut self, name: &'static str, value: impl Into<String>) {
        self.0.insert(name, value.into());
    }

    pub(crate) fn path(&mut self, name: &'static str, value: &Path) {
        self.set(name, value.display().to_string());
    }

    /// `text` with every `{name}` replaced.
    pub(crate) fn fill(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, value) in &self.0 {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }
}

/// A table row's text as a label: control characters escaped, so that a label is one line.
pub(crate) fn label(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.escape_debug().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The problems of a command-line run beyond the verdict: an error that does not start with
/// `error:`, and any of `hidden` (secret values) shown on either stream.
pub(crate) fn cli_problems(output: &CliOutput, hidden: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    if output.code != 0 && !output.stderr.starts_with("error:") {
        problems.push("stderr does not start with `error:`".to_string());
    }
    for value in hidden {
        if output.stdout.contains(value) || output.stderr.contains(value) {
            problems.push(format!("the secret value `{value}` is shown"));
        }
    }
    problems
}

/// A folder with `files` (`path`, text) under `root/name`.
pub(crate) fn write_tree(root: &Path, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("create folder");
    for (path, content) in files {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("create folder");
        std::fs::write(&full, content).expect("write file");
    }
    dir
}

/// A minimal FastAPI backend: `requirements.txt`, `app/main.py` with a health route.
pub(crate) const MAIN_PY: &[u8] = b"from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get(\"/api/health\")\ndef health():\n    return {\"status\": \"healthy\"}\n";

/// The requirements of [`MAIN_PY`].
pub(crate) const REQUIREMENTS: &[u8] = b"fastapi\nuvicorn\n";
