//! The official Python client (`huggingface_hub`) completes a whole Space lifecycle against the stand-in.

use crate::common;

use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, Runner, ScriptedRunner, StageDelays,
};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huggingface_hub_client_lifecycle() {
    let python = common::tool(".venv/bin/python");
    let emu = Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running()),
        stage_delays: StageDelays {
            building: Duration::from_millis(500),
            app_starting: Duration::from_millis(500),
        },
        lfs_multipart_chunk_size: 1024 * 1024,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let f = folder.path();
    std::fs::write(f.join("README.md"), "---\ntitle: Py\nemoji: 🐍\ncolorFrom: blue\ncolorTo: green\nsdk: docker\napp_port: 7860\n---\n").unwrap();
    std::fs::write(
        f.join("Dockerfile"),
        "FROM python:3.12\nCMD [\"uvicorn\", \"main:app\", \"--port\", \"7860\"]\n",
    )
    .unwrap();
    std::fs::write(f.join("main.py"), "print('hi')\n").unwrap();
    // LFS by .gitattributes pattern; basic transfer
    std::fs::write(f.join("small.bin"), vec![7u8; 3000]).unwrap();
    // larger than the chunk size: multipart transfer
    let big: Vec<u8> = (0..2_500_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(f.join("weights.safetensors"), &big).unwrap();

    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/python_client_flow.py");
    let out = tokio::process::Command::new(&python)
        .arg(&script)
        .env("HF_ENDPOINT", emu.url())
        .env("HF_TOKEN", DEFAULT_WRITE_TOKEN)
        // with hf_xet installed the client would upload LFS files through Xet (not emulated)
        .env("HF_HUB_DISABLE_XET", "1")
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HOME", folder.path().join(".hf-home"))
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("FOLDER", f)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("result JSON");
    let url = emu.url();
    assert_eq!(v["whoami"], "local");
    assert_eq!(v["role"], "write");
    assert_eq!(
        v["create_url"],
        format!("{url}/spaces/local/py-client-space")
    );
    assert_eq!(v["exist_ok_url"], v["create_url"]);
    assert_eq!(v["commit_oid"].as_str().unwrap().len(), 40);
    assert_eq!(
        v["variables"],
        serde_json::json!({"MODEL": "gemini-2.0-flash"})
    );
    assert_eq!(v["variables_after_delete"], serde_json::json!([]));
    let stages: Vec<&str> = v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert_eq!(stages.last(), Some(&"RUNNING"), "{stages:?}");
    assert!(
        stages.contains(&"BUILDING") || stages.contains(&"APP_STARTING"),
        "intermediate stage seen: {stages:?}"
    );
    assert_eq!(
        v["siblings"],
        serde_json::json!([
            ".gitattributes",
            "Dockerfile",
            "README.md",
            "main.py",
            "small.bin",
            "weights.safetensors"
        ])
    );
    assert_eq!(
        v["lfs_files"],
        serde_json::json!(["small.bin", "weights.safetensors"])
    );
    assert_eq!(
        v["reupload_sha"], v["commit_oid"],
        "re-uploading unchanged files (LFS ones too) makes no commit"
    );
    assert!(v["host"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert_eq!(v["sdk"], "docker");
    assert_eq!(v["restart_stage"], "BUILDING");
    assert_eq!(v["pause_stage"], "PAUSED");
    assert_eq!(v["after_delete"], "RepositoryNotFoundError");

    // the request log has the secret keys but never their values nor the token
    let log = emu.request_log();
    let dump = serde_json::to_string(&log).unwrap();
    assert!(
        !dump.contains("super-secret-value")
            && !dump.contains(DEFAULT_WRITE_TOKEN)
            && !dump.contains("u:p@h")
    );
    assert!(
        log.iter()
            .any(|r| r.path.ends_with("/secrets") && r.keys == vec!["GEMINI_API_KEY".to_owned()])
    );
    assert!(
        log.iter()
            .any(|r| r.path.ends_with("/info/lfs/objects/batch") && r.status == 200)
    );
    assert!(
        log.iter()
            .any(|r| r.path.contains("/lfs/multipart/") && r.method == "PUT"),
        "multipart used"
    );
    emu.shutdown().await;
}

/// `huggingface_hub` against the newer behaviour: `visibility="protected"` (create and
/// `update_repo_settings`), the sleep time of free and paid hardware, `list_spaces` through
/// several `Link` pages (`full`, `expand`, `limit`) and `list_repo_commits` (also paginated).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huggingface_hub_client_visibility_listing_and_history() {
    let python = common::tool(".venv/bin/python");
    let emu = Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running()),
        default_page_size: Some(2),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/python_client_history.py");
    let out = tokio::process::Command::new(&python)
        .arg(&script)
        .env("HF_ENDPOINT", emu.url())
        .env("HF_TOKEN", DEFAULT_WRITE_TOKEN)
        .env("HF_HUB_DISABLE_XET", "1")
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HOME", home.path().join(".hf-home"))
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("result JSON");
    use serde_json::json;
    assert_eq!(
        v["protected"],
        json!({"private": true, "visibility": "protected"})
    );
    assert_eq!(
        v["public"],
        json!({"private": false, "visibility": "public"})
    );
    assert_eq!(v["protected_again"], "protected");
    assert_eq!(v["free_sleep_time"], 172800);
    assert_eq!(v["free_warned"], true);
    assert_eq!(v["paid_sleep_time"], 600);
    assert_eq!(v["never_sleeps"], serde_json::Value::Null);
    let titles: Vec<&str> = v["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["Deploy 3", "Deploy 2", "Deploy 1", "initial commit"]
    );
    assert_eq!(v["commits"][0]["message"], "\n\nHf-Deploy-Run: 3\n");
    assert_eq!(v["commits"][0]["authors"], json!(["local"]));
    assert_eq!(v["commits"][0]["id_len"], 40);
    assert_eq!(v["commits"][3]["authors"], json!(["system"]));
    assert_eq!(v["commit_dates_sorted"], true);
    assert_eq!(v["formatted_title"], "Deploy 3");
    let listed: Vec<String> = (1..=5).map(|n| format!("local/py-app-pr-{n}")).collect();
    assert_eq!(v["listed"], json!(listed));
    assert_eq!(v["listed_private"], json!(["local/py-app-pr-5"]));
    assert_eq!(v["full_sha_len"], 40);
    assert_eq!(v["full_has_last_modified"], true);
    assert_eq!(v["limited"], 3);
    assert_eq!(
        v["expanded"],
        json!({"sha_len": 40, "subdomain": "local-py-app-pr-2"})
    );
    // the client followed the `Link` header: later pages carry the cursor (Spaces) or `p`
    // (commits)
    let log = emu.request_log();
    let listing_pages = log
        .iter()
        .filter(|r| r.path == "/api/spaces" && r.query.contains("search=py-app-pr-&"))
        .count();
    assert!(listing_pages >= 3, "{log:#?}");
    assert!(
        log.iter()
            .any(|r| r.path == "/api/spaces" && r.query.contains("cursor="))
    );
    assert!(
        log.iter()
            .any(|r| r.path.ends_with("/commits/main") && r.query.contains("p=1"))
    );
    emu.shutdown().await;
}
