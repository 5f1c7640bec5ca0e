//! The official JS client (`@huggingface/hub`) against the stand-in: whoAmI, createRepo, uploadFiles, deleteRepo.

use crate::common;

use hf_hub_emulator::{DEFAULT_WRITE_TOKEN, ScriptedRunner};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huggingface_js_client() {
    let module = common::tool(".tools/node/node_modules/@huggingface/hub/dist/index.mjs");
    let emu = common::scripted(ScriptedRunner::running()).await;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/js_client_flow.mjs");
    let out = tokio::process::Command::new("node")
        .arg(&script)
        .env("HUB_URL", emu.url())
        .env("HF_TOKEN", DEFAULT_WRITE_TOKEN)
        .env("HF_JS_MODULE", &module)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .await
        .expect("node is needed (Debian `nodejs`)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "JS client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("result JSON");
    assert_eq!(v["whoami"], "local");
    assert_eq!(v["role"], "write");
    assert_eq!(
        v["repoUrl"],
        format!("{}/spaces/local/js-client-space", emu.url())
    );
    assert_eq!(v["id"].as_str().unwrap().len(), 24);
    assert_eq!(v["commitOid"].as_str().map(str::len), Some(40), "{v}");
    assert!(
        v["conflict"]
            .as_str()
            .unwrap()
            .contains("You already created this space repo"),
        "{v}"
    );
    let log = emu.request_log();
    assert!(log.iter().any(|r| r.path
        == "/spaces/local/js-client-space.git/info/lfs/objects/batch"
        && r.status == 200));
    assert!(
        log.iter()
            .any(|r| r.method == "DELETE" && r.path == "/api/repos/delete" && r.status == 200)
    );
    assert!(emu.space_dir("local/js-client-space").is_none(), "deleted");
    emu.shutdown().await;
}
