//! End-to-end: the fault matrix's row for the Docker engine under `deploy --local` (issue 16;
//! the other rows are `faults.rs`). A fake engine (`hf_deploy_tests::fake_engine`) on
//! `DOCKER_HOST` answers every request with one fault (429 with `Retry-After`, 500, 502, 503, an
//! answer cut short, no answer at all):
//!
//! - `--local-runtime docker` exits 2 naming the flag and what the engine answered (its status,
//!   the cut, the silence), sends the engine no write, shows none of its escape sequences; once
//!   the engine works again the same command runs in Docker (the rerun converges);
//! - without the flag the deploy runs in the process runner, with a warning naming what the
//!   engine answered, and reports `"local_runtime": "process"`.
//!
//! A working fake engine is the control: the `docker` CLI takes it for an engine, so a faulty
//! one is refused for its fault, not for being a fake. `--dry-run` proves the point (the probe
//! comes before anything is deployed); the cells run at once, each bounded by [`CELL_DEADLINE`]
//! (a hang is a failed cell, not a stuck test). Not in the Docker set: no real engine is needed.
//!
//! `cargo nextest run -p hf-deploy-tests -E 'test(/^engine_faults::/)' --no-capture` prints the
//! row (call × fault → outcome) in the format of `faults.rs`.

use std::time::{Duration, Instant};

use hf_deploy_tests::fake_engine::{EngineFault, FakeEngine};
use hf_deploy_tests::matrix;
use hf_deploy_tests::{CliOutput, example_backend, run_cli_within};

/// No cell may take longer (both runs included); the probe's own deadline is 5 s.
const CELL_DEADLINE: Duration = Duration::from_secs(40);

/// The faults, and a working engine (`None`) as the control.
const FAULTS: [Option<EngineFault>; 7] = [
    None,
    Some(EngineFault::RateLimited(1)),
    Some(EngineFault::Status(500)),
    Some(EngineFault::Status(502)),
    Some(EngineFault::Status(503)),
    Some(EngineFault::ResetMidAnswer),
    Some(EngineFault::Slow),
];

fn fault_name(fault: Option<EngineFault>) -> String {
    match fault {
        None => "none (control)".into(),
        Some(EngineFault::RateLimited(_)) => "429 Retry-After".into(),
        Some(EngineFault::Status(code)) => code.to_string(),
        Some(EngineFault::ResetMidAnswer) => "reset mid-answer".into(),
        Some(EngineFault::Slow) => "slower than timeout".into(),
    }
}

/// What the messages must say the engine answered.
fn answered(fault: EngineFault) -> Vec<String> {
    match fault {
        EngineFault::RateLimited(_) => vec![
            "429 Too Many Requests".into(),
            "fake engine: overloaded".into(),
        ],
        EngineFault::Status(code) => vec![
            format!("{code} Engine Trouble"),
            "fake engine: overloaded".into(),
        ],
        EngineFault::ResetMidAnswer => vec!["closed the connection before its answer".into()],
        EngineFault::Slow => vec!["did not answer within 5s".into()],
    }
}

/// How the deploy picks its runtime.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// `--local-runtime docker`.
    Forced,
    /// No flag: Docker when an engine answers, else the process runner.
    Auto,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Forced => "engine (forced)",
            Mode::Auto => "engine (auto)",
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_docker_engine_is_refused_when_forced_and_replaced_by_the_process_runner_otherwise()
 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mode in [Mode::Forced, Mode::Auto] {
        for fault in FAULTS {
            tasks.push(tokio::spawn(async move {
                let outcome = tokio::time::timeout(CELL_DEADLINE, run_cell(mode, fault))
                    .await
                    .unwrap_or_else(|_| Err(format!("HANG: over {CELL_DEADLINE:?}")));
                matrix::Cell {
                    call: mode.name(),
                    fault: fault_name(fault),
                    outcome,
                }
            }));
        }
    }
    let mut cells = Vec::new();
    for task in tasks {
        cells.push(task.await.expect("a cell's task"));
    }
    let bad = matrix::print(
        &format!("fault matrix, the Docker engine ({:?})", started.elapsed()),
        &cells,
    );
    assert!(
        bad.is_empty(),
        "cells where a failing engine was not refused clearly or replaced:\n{}",
        bad.join("\n\n")
    );
}

/// `hf-deploy deploy --local --dry-run --json` of the example, `--local-runtime docker` when
/// forced, with the fake engine as `DOCKER_HOST`; `Err` when it did not end in time.
async fn deploy(engine: &FakeEngine, mode: Mode) -> Result<CliOutput, String> {
    let backend = example_backend().display().to_string();
    let mut args = vec!["deploy", &backend, "--local", "--dry-run", "--json"];
    if mode == Mode::Forced {
        args.extend(["--local-runtime", "docker"]);
    }
    let env = [("DOCKER_HOST", engine.host.as_str())];
    // Bounded below the cell's deadline, so that a hang is named as the run's.
    run_cli_within(&args, &env, CELL_DEADLINE / 2)
        .await
        .ok_or_else(|| {
            format!(
                "HANG: `hf-deploy {}` over {:?}",
                args.join(" "),
                CELL_DEADLINE / 2
            )
        })
}

/// The runtime the JSON report names.
fn runtime(out: &CliOutput) -> Result<String, String> {
    serde_json::from_str::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|j| j["local_runtime"].as_str().map(str::to_owned))
        .ok_or_else(|| format!("no `local_runtime` in the report: {}", out.both()))
}

async fn run_cell(mode: Mode, fault: Option<EngineFault>) -> Result<String, String> {
    let engine = FakeEngine::start(fault).await;
    let first = deploy(&engine, mode).await?;
    let requests = engine.requests();
    if requests.is_empty() {
        return Err("the engine was never asked".into());
    }
    if let Some(write) = requests
        .iter()
        .find(|r| !matches!(r.method.as_str(), "GET" | "HEAD"))
    {
        return Err(format!("a write to the engine: {write:?}"));
    }
    if first.both().contains('\u{1b}') {
        return Err(format!(
            "the engine's escape sequence was printed: {}",
            first.both()
        ));
    }
    let Some(fault) = fault else {
        // The control: a working engine is used, with or without the flag.
        if first.code != 0 || runtime(&first)? != "docker" {
            return Err(format!("a working engine was not used: {}", first.both()));
        }
        return Ok("docker (the CLI took the fake for an engine)".into());
    };
    let said = answered(fault);
    let names_answer = |text: &str| said.iter().all(|s| text.contains(s.as_str()));
    match mode {
        Mode::Forced => {
            let stderr = &first.stderr;
            if first.code != 2
                || !stderr.contains("--local-runtime docker")
                || !names_answer(stderr)
            {
                return Err(format!(
                    "not exit 2 naming `--local-runtime docker` and {said:?}: {}",
                    first.both()
                ));
            }
            engine.set_fault(None);
            let rerun = deploy(&engine, mode).await?;
            if rerun.code != 0 || runtime(&rerun)? != "docker" {
                return Err(format!("the rerun on a working engine: {}", rerun.both()));
            }
            let line = stderr.lines().next().unwrap_or_default();
            Ok(format!(
                "exit 2 ({}); rerun converged (docker)",
                shorten(
                    line.split(": the Docker engine does not work: ")
                        .nth(1)
                        .unwrap_or(line)
                )
            ))
        }
        Mode::Auto => {
            let warning = first
                .stderr
                .lines()
                .find(|l| l.contains("the Docker engine does not work"))
                .unwrap_or_default();
            if first.code != 0 || !warning.contains("process runner") || !names_answer(warning) {
                return Err(format!(
                    "no process-runner warning naming {said:?}: {}",
                    first.both()
                ));
            }
            let runtime = runtime(&first)?;
            if runtime != "process" {
                return Err(format!("runs in {runtime}: {}", first.both()));
            }
            Ok("process runner, warned".into())
        }
    }
}

/// At most 110 characters of `text`.
fn shorten(text: &str) -> String {
    text.chars().take(110).collect()
}
