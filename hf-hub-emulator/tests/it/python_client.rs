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
