//! `Runner::Real`: the pushed app really runs (venv + the Dockerfile's CMD) and answers through `host`.

use crate::common;

use std::time::Duration;

use hf_hub_emulator::{Emulator, EmulatorConfig, RealRunnerConfig, Runner};

const README: &str = "---\ntitle: Tiny API\nemoji: 🚀\ncolorFrom: blue\ncolorTo: green\nsdk: docker\napp_port: 7860\npinned: false\n---\n";

/// The virtual-environment cache these tests share with the workspace's end-to-end tests (under
/// `target/`, so that no test leaves a cache in the system's temporary folder).
fn shared_cache() -> std::path::PathBuf {
    common::workspace_root().join("target/emulator-venvs")
}

async fn real() -> Emulator {
    real_with(shared_cache()).await
}

/// The names in folder `dir`, sorted.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read the folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// A stand-in whose runner builds its virtual environments in `venv_cache`.
async fn real_with(venv_cache: std::path::PathBuf) -> Emulator {
    let config = EmulatorConfig {
        runner: Runner::Real(RealRunnerConfig {
            venv_cache,
            ..RealRunnerConfig::default()
        }),
        ..EmulatorConfig::default()
    };
    let start = std::time::Instant::now();
    let emu = Emulator::start(config).await.expect("start");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "start took {:?}",
        start.elapsed()
    );
    emu
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fastapi_app_reaches_running_and_answers_through_host() {
    let emu = real().await;
    common::create_space(&emu, "tiny-api", false).await;
    let main_py = r#"import os
from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
def health():
    return {"status": "ok", "space": os.environ.get("SPACE_ID"), "model": os.environ.get("MODEL_NAME")}
"#;
    let client = common::client();
    let r = client
        .post(format!("{}/api/spaces/local/tiny-api/variables", emu.url()))
        .header("authorization", common::auth())
        .json(&serde_json::json!({"key": "MODEL_NAME", "value": "gemini"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    common::commit_files(
        &emu,
        "local/tiny-api",
        &[
            ("README.md", README),
            ("requirements.txt", "fastapi\nuvicorn\n"),
            ("main.py", main_py),
            (
                "Dockerfile",
                "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"uvicorn\", \"main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\"]\n",
            ),
        ],
    )
    .await;
    let stages = common::wait_stage(&emu, "local/tiny-api", Duration::from_secs(600)).await;
    let build = common::log_lines(&emu, "local/tiny-api", "build").await;
    let run = common::log_lines(&emu, "local/tiny-api", "run").await;
    assert_eq!(
        stages.last().map(String::as_str),
        Some("RUNNING"),
        "{stages:?}\nbuild: {build:?}\nrun: {run:?}"
    );
    assert!(
        stages.contains(&"APP_STARTING".to_owned()) || stages.contains(&"BUILDING".to_owned()),
        "{stages:?}"
    );
    let host = emu.space_host("local/tiny-api").unwrap();
    let v: serde_json::Value = client
        .get(format!("{host}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v,
        serde_json::json!({"status": "ok", "space": "local/tiny-api", "model": "gemini"})
    );
    assert!(run.iter().any(|l| l.contains("Uvicorn running")), "{run:?}");
    emu.shutdown().await;
    // the app process is gone with the emulator
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        client.get(format!("{host}/health")).send().await.is_err(),
        "the proxy and the app are stopped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requirements_give_build_error_with_pip_output() {
    let emu = real().await;
    common::create_space(&emu, "bad-reqs", false).await;
    common::commit_files(
        &emu,
        "local/bad-reqs",
        &[
            ("README.md", README),
            ("requirements.txt", "fastapi===?not a version!\n"),
            (
                "Dockerfile",
                "FROM python:3.12\nCMD [\"python\", \"-c\", \"print(1)\"]\n",
            ),
        ],
    )
    .await;
    let stages = common::wait_stage(&emu, "local/bad-reqs", Duration::from_secs(300)).await;
    assert_eq!(
        stages.last().map(String::as_str),
        Some("BUILD_ERROR"),
        "{stages:?}"
    );
    let build = common::log_lines(&emu, "local/bad-reqs", "build").await;
    assert!(
        build
            .iter()
            .any(|l| l.contains("ERROR") && l.to_lowercase().contains("requirement")),
        "{build:?}"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exiting_app_gives_runtime_error_with_run_log() {
    let emu = real().await;
    common::create_space(&emu, "crashy", false).await;
    common::commit_files(
        &emu,
        "local/crashy",
        &[
            ("README.md", README),
            (
                "main.py",
                "import sys\nprint('KeyError: GEMINI_API_KEY', flush=True)\nsys.exit(3)\n",
            ),
            (
                "Dockerfile",
                "FROM python:3.12\nCMD [\"python\", \"main.py\"]\n",
            ),
        ],
    )
    .await;
    let stages = common::wait_stage(&emu, "local/crashy", Duration::from_secs(300)).await;
    assert_eq!(
        stages.last().map(String::as_str),
        Some("RUNTIME_ERROR"),
        "{stages:?}"
    );
    let run = common::log_lines(&emu, "local/crashy", "run").await;
    assert!(
        run.iter().any(|l| l.contains("KeyError: GEMINI_API_KEY")),
        "{run:?}"
    );
    assert!(run.iter().any(|l| l.contains("exit status: 3")), "{run:?}");
    let rt: serde_json::Value = common::client()
        .get(format!("{}/api/spaces/local/crashy/runtime", emu.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        rt["errorMessage"].as_str().unwrap().contains("exited"),
        "{rt}"
    );
    emu.shutdown().await;
}

fn processes_with(marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read(e.path().join("environ")).ok())
        .filter(|c| String::from_utf8_lossy(c).contains(marker))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_kills_the_app_and_restart_replaces_it() {
    let emu = real().await;
    common::create_space(&emu, "static-files", false).await;
    let marker = format!("hf-emu-marker-{}", std::process::id());
    // no requirements; a positional port (python -m http.server 7860) is rewritten too
    let r = common::client()
        .post(format!(
            "{}/api/spaces/local/static-files/variables",
            emu.url()
        ))
        .header("authorization", common::auth())
        .json(&serde_json::json!({"key": "HF_EMU_MARKER", "value": marker}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let dockerfile = "FROM python:3.12\nCMD [\"python\", \"-m\", \"http.server\", \"7860\"]\n";
    common::commit_files(
        &emu,
        "local/static-files",
        &[
            ("README.md", README),
            ("index.html", "<h1>hello</h1>\n"),
            ("Dockerfile", dockerfile),
        ],
    )
    .await;
    let stages = common::wait_stage(&emu, "local/static-files", Duration::from_secs(120)).await;
    assert_eq!(
        stages.last().map(String::as_str),
        Some("RUNNING"),
        "{stages:?}"
    );
    let host = emu.space_host("local/static-files").unwrap();
    let body = common::client()
        .get(format!("{host}/index.html"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "<h1>hello</h1>\n");
    assert_eq!(processes_with(&marker), 1);
    // restart: the old process goes, a new one comes
    let r = common::client()
        .post(format!(
            "{}/api/spaces/local/static-files/restart?factory=true",
            emu.url()
        ))
        .header("authorization", common::auth())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["stage"],
        "BUILDING"
    );
    let stages = common::wait_stage(&emu, "local/static-files", Duration::from_secs(120)).await;
    assert_eq!(
        stages.last().map(String::as_str),
        Some("RUNNING"),
        "{stages:?}"
    );
    assert_eq!(processes_with(&marker), 1);
    emu.shutdown().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        processes_with(&marker),
        0,
        "the app must die with the emulator"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_listening_elsewhere_than_app_port_never_becomes_reachable() {
    let emu = real().await;
    common::create_space(&emu, "wrong-port", false).await;
    common::commit_files(
        &emu,
        "local/wrong-port",
        &[
            ("README.md", README),
            ("requirements.txt", "fastapi\nuvicorn\n"),
            ("main.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
            ("Dockerfile", "FROM python:3.12\nCMD [\"uvicorn\", \"main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"8000\"]\n"),
        ],
    )
    .await;
    let stages = common::wait_stage(&emu, "local/wrong-port", Duration::from_secs(600)).await;
    assert_eq!(
        stages.last().map(String::as_str),
        Some("RUNTIME_ERROR"),
        "{stages:?}"
    );
    let run = common::log_lines(&emu, "local/wrong-port", "run").await;
    assert!(
        run.iter()
            .any(|l| l.contains("port 8000") && l.contains("app_port is 7860")),
        "{run:?}"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_builds_share_one_cached_venv() {
    let cache = tempfile::tempdir().unwrap();
    let emu = real_with(cache.path().to_path_buf()).await;
    let files: &[(&str, &str)] = &[
        ("README.md", README),
        ("requirements.txt", "# no third-party packages\n"),
        (
            "Dockerfile",
            "FROM python:3.12\nCMD [\"python\", \"-m\", \"http.server\", \"7860\"]\n",
        ),
    ];
    for name in ["twin-a", "twin-b"] {
        common::create_space(&emu, name, false).await;
    }
    let (a, b) = tokio::join!(
        common::commit_files(&emu, "local/twin-a", files),
        common::commit_files(&emu, "local/twin-b", files)
    );
    assert_ne!(a["commitOid"], b["commitOid"]);
    for id in ["local/twin-a", "local/twin-b"] {
        let stages = common::wait_stage(&emu, id, Duration::from_secs(300)).await;
        let build = common::log_lines(&emu, id, "build").await;
        assert_eq!(
            stages.last().map(String::as_str),
            Some("RUNNING"),
            "{id}: {stages:?} {build:?}"
        );
    }
    let entries = names_in(cache.path());
    assert_eq!(entries.len(), 1, "one venv, no leftovers: {entries:?}");
    // a third build of the same requirements reuses it
    common::create_space(&emu, "twin-c", false).await;
    common::commit_files(&emu, "local/twin-c", files).await;
    common::wait_stage(&emu, "local/twin-c", Duration::from_secs(60)).await;
    let build = common::log_lines(&emu, "local/twin-c", "build").await;
    assert!(
        build
            .iter()
            .any(|l| l.starts_with("Using cached virtual environment")),
        "{build:?}"
    );
    emu.shutdown().await;
}

/// A factory reboot does not use the cached virtual environment: it builds a fresh one for its
/// generation (removed with it) and leaves the shared cache as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_factory_reboot_builds_a_fresh_venv_and_leaves_the_cache_alone() {
    let cache = tempfile::tempdir().unwrap();
    let emu = real_with(cache.path().to_path_buf()).await;
    let id = "local/factory";
    common::create_space(&emu, "factory", false).await;
    common::commit_files(
        &emu,
        id,
        &[
            ("README.md", README),
            ("index.html", "<h1>factory</h1>\n"),
            (
                "Dockerfile",
                "FROM python:3.12\nCMD [\"python\", \"-m\", \"http.server\", \"7860\"]\n",
            ),
        ],
    )
    .await;
    async fn restart(emu: &Emulator, id: &str, query: &str) {
        let r = common::client()
            .post(format!("{}/api/spaces/{id}/restart{query}", emu.url()))
            .header("authorization", common::auth())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    async fn build_after(emu: &Emulator, id: &str, what: &str) -> Vec<String> {
        let stages = common::wait_stage(emu, id, Duration::from_secs(300)).await;
        let build = common::log_lines(emu, id, "build").await;
        assert_eq!(
            stages.last().map(String::as_str),
            Some("RUNNING"),
            "{what}: {build:?}"
        );
        build
    }
    let first = build_after(&emu, id, "first build").await;
    assert!(
        first
            .iter()
            .any(|l| l.starts_with("Creating virtual environment")),
        "{first:?}"
    );
    restart(&emu, id, "").await;
    let cached = build_after(&emu, id, "restart").await;
    assert!(
        cached
            .iter()
            .any(|l| l.starts_with("Using cached virtual environment")),
        "{cached:?}"
    );
    let entries = || names_in(cache.path());
    let before = entries();
    assert_eq!(before.len(), 1, "{before:?}");
    restart(&emu, id, "?factory=true").await;
    let fresh = build_after(&emu, id, "factory reboot").await;
    assert!(
        fresh
            .iter()
            .any(|l| l.contains("factory reboot: the cached virtual environment is not used")),
        "{fresh:?}"
    );
    assert!(
        fresh
            .iter()
            .any(|l| l.starts_with("Creating virtual environment")),
        "{fresh:?}"
    );
    assert!(
        !fresh.iter().any(|l| l.starts_with("Using cached")),
        "{fresh:?}"
    );
    let host = emu.space_host(id).unwrap();
    let body = common::client()
        .get(format!("{host}/index.html"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "<h1>factory</h1>\n");
    // the generation's own environment sits beside the untouched cache entry
    let during = entries();
    assert_eq!(during.len(), 2, "{during:?}");
    assert!(during.contains(&before[0]) && during.iter().any(|e| e.starts_with(".factory-")));
    emu.shutdown().await;
    assert_eq!(
        entries(),
        before,
        "the factory environment goes with its generation"
    );
}

/// A stand-in shut down while it builds a virtual environment leaves nothing in the cache: the
/// half-built environment and the folder `venv` and pip unpack into (`TMPDIR`) are removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_mid_build_leaves_no_temporary_folder() {
    let cache = tempfile::tempdir().unwrap();
    let emu = real_with(cache.path().to_path_buf()).await;
    let id = "local/interrupted";
    common::create_space(&emu, "interrupted", false).await;
    common::commit_files(
        &emu,
        id,
        &[
            ("README.md", README),
            ("requirements.txt", "# no third-party packages\n"),
            (
                "Dockerfile",
                "FROM python:3.12\nCMD [\"python\", \"-m\", \"http.server\", \"7860\"]\n",
            ),
        ],
    )
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let staged = |prefix: &str| {
        names_in(cache.path())
            .iter()
            .filter(|name| name.starts_with(prefix))
            .count()
    };
    while staged(".scratch-") == 0 {
        assert!(std::time::Instant::now() < deadline, "no build started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(staged(".tmp-"), 1, "the environment is being built");
    emu.shutdown().await;
    let left = names_in(cache.path());
    assert!(left.is_empty(), "left in the cache: {left:?}");
}
