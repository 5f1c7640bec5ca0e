//! End-to-end: wait for the build, verify health and CORS, explain failures. The real example
//! app runs in the stand-in (real pip install, real uvicorn); failure paths that the real app
//! cannot produce on demand use the scripted runner.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use hf_deploy_tests::{
    CliOutput, copy_tree, example_backend, free_port, hub_env, is_root, run_cli_async,
    start_real_emulator, strings,
};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, Runner, ScriptedApp, ScriptedResponse,
    ScriptedRoute, ScriptedRunner,
};

const HEALTHY: &str = r#"{"status":"healthy","services":{"fastapi":"ok","qdrant":{"status":"ok"},"postgres":{"status":"ok"},"gemini":{"status":"ok"}}}"#;

async fn deploy(emulator: &Emulator, source: &Path, space: &str, extra: &[&str]) -> CliOutput {
    let mut args = strings(&["deploy"]);
    args.push(source.display().to_string());
    args.extend(strings(&["--space", space, "--json", "--timeout", "600"]));
    args.extend(strings(extra));
    run_cli_async(args, hub_env(emulator, DEFAULT_WRITE_TOKEN)).await
}

async fn scripted(runner: ScriptedRunner) -> Emulator {
    Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(runner),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_app_builds_runs_and_reports_degraded_health() {
    let emulator = start_real_emulator().await;
    let output = deploy(&emulator, &example_backend(), "local/degraded", &[]).await;
    assert_eq!(
        output.code,
        1,
        "degraded health fails the deploy:\n{}",
        output.both()
    );
    let json = output.json();
    assert_eq!(json["stage"], "RUNNING", "{json}");
    assert_eq!(json["health"]["status"], "degraded", "{json}");
    assert_eq!(json["error"]["kind"], "unhealthy", "{json}");
    for service in ["qdrant", "postgres", "gemini"] {
        assert_eq!(
            json["health"]["services"][service]["status"], "not_configured",
            "{json}"
        );
        assert!(
            output.stderr.contains(service),
            "stderr names {service}:\n{}",
            output.both()
        );
    }
    assert!(
        json["durations"]["build_ms"].as_u64().unwrap() > 0,
        "{json}"
    );

    // The same deploy with --allow-degraded succeeds, and is a no-op push.
    let output = deploy(
        &emulator,
        &example_backend(),
        "local/degraded",
        &["--allow-degraded"],
    )
    .await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert_eq!(output.json()["changed"], false);
    emulator.shutdown().await;
}

/// A throwaway PostgreSQL server on a free port (the Debian `postgresql` package; as root it runs
/// as the `postgres` user, as PostgreSQL requires).
struct Postgres {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Postgres {
    fn start() -> Postgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries in /usr/lib/postgresql (Debian package `postgresql`; scripts/bootstrap.sh installs it)")
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("initdb").exists())
            .expect("initdb");
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let root = is_root();
        let as_postgres = |program: PathBuf| {
            if root {
                let mut command = Command::new("runuser");
                command.args(["-u", "postgres", "--"]).arg(program);
                command
            } else {
                Command::new(program)
            }
        };
        if root {
            Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
        }
        let status = as_postgres(bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "initdb failed");
        let port = free_port();
        let child = as_postgres(bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-h", "127.0.0.1", "-k"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Postgres {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGTERM through `kill` (postgres runs as another user when we are root).
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// Fake Qdrant and Gemini APIs on loopback: the shapes the example app's health check reads.
async fn fake_services() -> (SocketAddr, SocketAddr) {
    let qdrant = Router::new().route(
        "/collections",
        get(|| async {
            axum::Json(
                serde_json::json!({"result": {"collections": []}, "status": "ok", "time": 0.0}),
            )
        }),
    );
    let gemini = Router::new().route(
        "/v1beta/models",
        get(|| async {
            axum::Json(serde_json::json!({"models": [{"name": "models/gemini-2.0-flash"}]}))
        }),
    );
    let mut addresses = Vec::new();
    for router in [qdrant, gemini] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        addresses.push(listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
    }
    (addresses[0], addresses[1])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_deploy_with_every_service_configured() {
    let postgres = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let (qdrant, gemini) = fake_services().await;
    let emulator = start_real_emulator().await;
    let database_url = format!("postgresql://postgres@127.0.0.1:{}/postgres", postgres.port);
    let output = deploy(
        &emulator,
        &example_backend(),
        "local/healthy",
        &[
            "--secret",
            &format!("DATABASE_URL={database_url}"),
            "--secret",
            &format!("QDRANT_URL=http://{qdrant}"),
            "--secret",
            "GEMINI_API_KEY=fake-gemini-key",
            "--variable",
            &format!("GEMINI_API_BASE=http://{gemini}"),
            "--frontend-url",
            "https://book.example.com",
        ],
    )
    .await;
    assert_eq!(output.code, 0, "{}", output.both());
    let json = output.json();
    assert_eq!(json["stage"], "RUNNING");
    assert_eq!(json["health"]["status"], "healthy", "{json}");
    for service in ["qdrant", "postgres", "gemini"] {
        assert_eq!(
            json["health"]["services"][service]["status"], "ok",
            "{json}"
        );
    }
    assert_eq!(json["cors"][0]["origin"], "https://book.example.com");
    assert_eq!(json["cors"][0]["allowed"], true, "{json}");
    drop(postgres);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_build_error_shows_the_log_tail() {
    let emulator = start_real_emulator().await;
    let source = copy_tree(&example_backend());
    let requirements = source.path().join("requirements.txt");
    let mut text = std::fs::read_to_string(&requirements).unwrap();
    text.push_str("hf-deploy-no-such-package-4242==9.9.9\n");
    std::fs::write(&requirements, text).unwrap();
    let output = deploy(&emulator, source.path(), "local/broken-build", &[]).await;
    assert_eq!(output.code, 1, "{}", output.both());
    let json = output.json();
    assert_eq!(json["stage"], "BUILD_ERROR", "{json}");
    assert_eq!(json["error"]["kind"], "space_failed");
    let tail = json["log_tail"].as_array().unwrap();
    assert!(!tail.is_empty() && tail.len() <= 50, "{json}");
    assert!(
        tail.iter().any(|l| l
            .as_str()
            .unwrap()
            .contains("hf-deploy-no-such-package-4242")),
        "{json}"
    );
    assert!(output.stderr.contains("BUILD_ERROR"), "{}", output.both());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_runtime_error_shows_the_run_log() {
    let emulator = start_real_emulator().await;
    let source = copy_tree(&example_backend());
    let main = source.path().join("app/main.py");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        format!("{text}\nraise RuntimeError('boom at import: hf-deploy test')\n"),
    )
    .unwrap();
    let output = deploy(&emulator, source.path(), "local/crash", &[]).await;
    assert_eq!(output.code, 1, "{}", output.both());
    let json = output.json();
    assert_eq!(json["stage"], "RUNTIME_ERROR", "{json}");
    let tail = serde_json::to_string(&json["log_tail"]).unwrap();
    assert!(tail.contains("boom at import"), "{json}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cold_start_is_waited_out() {
    let route = ScriptedRoute::get("/api/health")
        .first(3, ScriptedResponse::status(503))
        .then(ScriptedResponse::json(200, HEALTHY));
    let runner = ScriptedRunner::running()
        .build_log("Step 1/9 : FROM python:3.11-slim")
        .app(ScriptedApp::new().route(route.clone()));
    let emulator = scripted(runner).await;
    let output = deploy(&emulator, &example_backend(), "local/cold", &[]).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert_eq!(output.json()["health"]["status"], "healthy");
    assert!(
        route.hits() >= 4,
        "three 503s then a 200: {} hits",
        route.hits()
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deadline_is_kept() {
    let runner = ScriptedRunner::running().stage("BUILDING", Duration::from_secs(120));
    let emulator = scripted(runner).await;
    let started = std::time::Instant::now();
    let mut args = strings(&["deploy"]);
    args.push(example_backend().display().to_string());
    args.extend(strings(&[
        "--space",
        "local/slow",
        "--json",
        "--timeout",
        "4",
    ]));
    let output = run_cli_async(args, hub_env(&emulator, DEFAULT_WRITE_TOKEN)).await;
    assert_eq!(output.code, 1, "{}", output.both());
    let json = output.json();
    assert_eq!(json["error"]["kind"], "timeout", "{json}");
    assert_eq!(json["stage"], "BUILDING");
    assert!(output.stderr.contains("timed out"), "{}", output.both());
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_is_checked_per_origin() {
    let emulator = start_real_emulator().await;
    let output = deploy(
        &emulator,
        &example_backend(),
        "local/cors",
        &[
            "--allow-degraded",
            "--frontend-url",
            "https://allowed.example.com",
        ],
    )
    .await;
    assert_eq!(output.code, 0, "{}", output.both());
    let json = output.json();
    assert_eq!(json["cors"][0]["allowed"], true, "{json}");
    let app_url = json["app_url"].as_str().unwrap().to_string();

    let args = strings(&[
        "verify",
        "--app-url",
        &app_url,
        "--allow-degraded",
        "--json",
        "--frontend-url",
        "https://allowed.example.com",
        "--frontend-url",
        "https://blocked.example.com",
    ]);
    let output = run_cli_async(args, Vec::new()).await;
    assert_eq!(output.code, 1, "{}", output.both());
    let json = output.json();
    assert_eq!(json["cors"][0]["allowed"], true, "{json}");
    assert_eq!(json["cors"][1]["allowed"], false, "{json}");
    assert!(
        output.stderr.contains("https://blocked.example.com"),
        "{}",
        output.both()
    );
    assert!(
        output.stderr.contains("ALLOWED_ORIGINS"),
        "{}",
        output.both()
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_space_health_check_sends_the_token() {
    let runner = ScriptedRunner::running().app(
        ScriptedApp::new()
            .route(ScriptedRoute::get("/api/health").then(ScriptedResponse::json(200, HEALTHY))),
    );
    let emulator = scripted(runner).await;
    let output = deploy(
        &emulator,
        &example_backend(),
        "local/private",
        &["--private"],
    )
    .await;
    assert_eq!(output.code, 0, "{}", output.both());
    let app_url = output.json()["app_url"].as_str().unwrap().to_string();

    // Without the token the private app is not reachable...
    let anonymous = reqwest::get(format!("{app_url}/api/health")).await.unwrap();
    assert!(
        matches!(anonymous.status().as_u16(), 401 | 404),
        "{}",
        anonymous.status()
    );
    // ...and `verify --space` finds out that the Space is private and sends it.
    let output = run_cli_async(
        strings(&["verify", "--space", "local/private", "--json"]),
        hub_env(&emulator, DEFAULT_WRITE_TOKEN),
    )
    .await;
    assert_eq!(output.code, 0, "{}", output.both());
    emulator.shutdown().await;
}
