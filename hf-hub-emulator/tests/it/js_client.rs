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

/// `@huggingface/hub` against the newer behaviour: `createRepo({visibility: "protected"})`,
/// `listCommits` through `Link` pages, `countCommits` (`X-Total-Count`) and `listSpaces`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huggingface_js_client_protected_history_and_listing() {
    let module = common::tool(".tools/node/node_modules/@huggingface/hub/dist/index.mjs");
    let emu = common::scripted(ScriptedRunner::running()).await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/js_client_history.mjs");
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
    assert_eq!(v["private"], true, "{v}");
    let titles: Vec<&str> = v["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Deploy 2", "Deploy 1", "initial commit"], "{v}");
    assert_eq!(v["commits"][0]["message"], "\n\nHf-Deploy-Run: 2\n");
    assert_eq!(v["commits"][0]["authors"], serde_json::json!(["local"]));
    assert_eq!(v["count"], 3);
    let listed = v["listed"].as_array().unwrap();
    assert_eq!(listed.len(), 3, "{v}");
    assert_eq!(listed[0]["name"], "local/js-app-pr-1");
    assert_eq!(listed[0]["idLen"], 24);
    assert_eq!(listed[0]["private"], false);
    assert_eq!(listed[0]["subdomain"], "local-js-app-pr-1");
    assert_eq!(listed[0]["shaLen"], 40);
    assert_eq!(listed[0]["updated"], true);
    // listCommits followed the `Link` header to the second page
    assert!(emu.request_log().iter().any(|r| r.path
        == "/api/spaces/local/js-protected/commits/main"
        && r.query.contains("p=1")));
    emu.shutdown().await;
}
