//! End-to-end: the round trips of a deploy, counted in the stand-in's request log. A first
//! deploy (7 requests) and a no-change redeploy (4) each make a fixed list of requests (one more is a regression
//! of #11); a one-file change in a large tree pushes a pack the size of the change. No timing
//! here: the benchmark measures time (`scripts/bench/speed.py`).

use std::path::Path;

use hf_deploy_tests::{
    CliOutput, copy_tree, example_backend, hub_env, run_cli_async, start_real_emulator, strings,
};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, LoggedRequest, Runner, ScriptedRunner,
};

const SECRET: [&str; 2] = ["--secret", "GEMINI_API_KEY=AIzaSy-round-trips-0123456789"];

async fn deploy(emulator: &Emulator, source: &Path, space: &str) -> CliOutput {
    let mut args = strings(&["deploy"]);
    args.push(source.display().to_string());
    args.extend(strings(&["--space", space, "--no-wait", "--json"]));
    args.extend(strings(&SECRET));
    run_cli_async(args, hub_env(emulator, DEFAULT_WRITE_TOKEN)).await
}

/// `METHOD path[?service=..] status` per request, the Space's name replaced by `S`.
fn shape(log: &[LoggedRequest], space: &str) -> Vec<String> {
    log.iter()
        .map(|r| {
            let service = r
                .query
                .split('&')
                .find(|q| q.starts_with("service="))
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            let path = r.path.replace(space, "S");
            format!("{} {path}{service} {}", r.method, r.status)
        })
        .collect()
}

/// The log as a timeline, for the failure message.
fn timeline(log: &[LoggedRequest]) -> String {
    log.iter()
        .map(|r| {
            format!(
                "{} {:>5} ms {:>9} B {} {}?{} {}\n",
                r.time, r.elapsed_ms, r.request_bytes, r.method, r.path, r.query, r.status
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_deploy_and_a_no_change_redeploy_make_a_fixed_list_of_requests() {
    let emulator = start_real_emulator().await;
    let source = copy_tree(&example_backend());
    let space = "local/round-trips";

    let first = deploy(&emulator, source.path(), space).await;
    assert_eq!(first.code, 0, "{}", first.both());
    let log = emulator.request_log();
    eprintln!("first deploy:\n{}", timeline(&log));
    // Lookup before create; the secret goes in the create call; no whoami (the create call names
    // a bad token itself); git requests carry the credentials up front (no 401 challenge); the
    // fetch is the advertisement and ONE upload-pack POST (wants, `deepen 1` and `done` at once;
    // libgit2 makes two); one Space read after the push gives the app URL and the stage.
    assert_eq!(
        shape(&log, space),
        [
            "GET /api/spaces/S 404",
            "POST /api/repos/create 200",
            "GET /spaces/S/info/refs?service=git-upload-pack 200",
            "POST /spaces/S/git-upload-pack 200",
            "GET /spaces/S/info/refs?service=git-receive-pack 200",
            "POST /spaces/S/git-receive-pack 200",
            "GET /api/spaces/S 200",
        ],
        "the requests of a first deploy changed:\n{}",
        timeline(&log)
    );

    let before = log.len();
    let second = deploy(&emulator, source.path(), space).await;
    assert_eq!(second.code, 0, "{}", second.both());
    let report: serde_json::Value = serde_json::from_str(&second.stdout).expect("JSON report");
    assert_eq!(report["changed"], false, "{}", second.stdout);
    let log = emulator.request_log();
    eprintln!("no-change redeploy:\n{}", timeline(&log[before..]));
    // Lookup, then at once the secret fingerprints and the fetch: one upload-pack POST for the
    // head the lookup named (no advertisement); then one read. No write, no push, no variables
    // read (there are none). The two middle requests run concurrently: their order is free.
    let mut shape = shape(&log[before..], space);
    assert_eq!(shape.len(), 4, "{}", timeline(&log[before..]));
    shape[1..3].sort();
    assert_eq!(
        shape,
        [
            "GET /api/spaces/S 200",
            "GET /api/spaces/S/secrets 200",
            "POST /spaces/S/git-upload-pack 200",
            "GET /api/spaces/S 200",
        ],
        "the requests of a no-change redeploy changed:\n{}",
        timeline(&log[before..])
    );
}

/// Bytes of the packs pushed in `log`.
fn pushed(log: &[LoggedRequest]) -> u64 {
    log.iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/git-receive-pack"))
        .map(|r| r.request_bytes)
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_changed_file_in_a_large_tree_pushes_a_pack_the_size_of_the_change() {
    const FILES: usize = 10_000;
    // No app to install: only the git side matters here.
    let emulator = Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running()),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the Hub stand-in starts");
    let source = copy_tree(&example_backend());
    for i in 0..FILES {
        let path = source
            .path()
            .join(format!("data/d{:02}/f{i:05}.txt", i % 50));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            format!("record {i}: {}\n", i.wrapping_mul(2654435761)),
        )
        .unwrap();
    }
    let space = "local/large-tree";

    let first = deploy(&emulator, source.path(), space).await;
    assert_eq!(first.code, 0, "{}", first.both());
    let log = emulator.request_log();
    let first_pack = pushed(&log);
    assert!(
        first_pack > 100_000,
        "the first push carries {FILES} files, yet its pack is {first_pack} bytes:\n{}",
        timeline(&log)
    );

    let before = log.len();
    std::fs::write(source.path().join("data/d07/f00007.txt"), "changed\n").unwrap();
    let second = deploy(&emulator, source.path(), space).await;
    assert_eq!(second.code, 0, "{}", second.both());
    let report: serde_json::Value = serde_json::from_str(&second.stdout).expect("JSON report");
    assert_eq!(
        report["files"]["modified"],
        serde_json::json!(["data/d07/f00007.txt"])
    );
    let log = emulator.request_log();
    let second_pack = pushed(&log[before..]);
    eprintln!("first push: {first_pack} bytes; one-file change: {second_pack} bytes");
    // One blob, the two trees above it, the root tree and a commit: a few KiB (the trees list
    // their entries: `data/` has 50 folders, `data/d07/` 200 files).
    assert!(
        second_pack > 0 && second_pack < 16 * 1024,
        "a one-file change pushed {second_pack} bytes (the first push: {first_pack}):\n{}",
        timeline(&log[before..])
    );
}
