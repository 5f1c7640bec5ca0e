//! End-to-end tests of `hf_deploy_core::scaffold`: the example backend's Space tree (snapshot),
//! the generated Dockerfile under `hadolint`, the README front matter read back by the official
//! `huggingface_hub` parser, the scaffolded tree really serving its health endpoint, and the
//! library-level bad-input cases.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hf_deploy_core::scaffold::{ScaffoldOptions, SecretDoc, scaffold};
use hf_deploy_core::{Error, HealthPath, SpaceId};
use hf_deploy_tests::{example_backend, free_port, venv_bin};

/// A backend folder with the given files.
fn backend(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, content) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(&full, content).expect("write");
    }
    dir
}

const MAIN: &str = "from fastapi import FastAPI\nfrom app.api import health\napp = FastAPI()\napp.include_router(health.router, prefix=\"/api\")\n";
const HEALTH: &str = "from fastapi import APIRouter\nrouter = APIRouter()\n@router.get(\"/health\")\ndef health():\n    return {\"status\": \"healthy\"}\n";

fn minimal_backend() -> tempfile::TempDir {
    backend(&[
        ("requirements.txt", "fastapi\nuvicorn\n"),
        ("app/main.py", MAIN),
        ("app/api/health.py", HEALTH),
    ])
}

fn text(scaffold: &hf_deploy_core::scaffold::Scaffold, path: &str) -> String {
    String::from_utf8(scaffold.files[path].read().expect("read").into_owned()).expect("utf-8")
}

fn example_options() -> ScaffoldOptions {
    ScaffoldOptions {
        space: Some(
            SpaceId::parse("demo-user/rag-chatbot", hf_deploy_core::Field::Space)
                .expect("space id"),
        ),
        short_description: Some("RAG chatbot API: FastAPI, Qdrant, PostgreSQL, Gemini".into()),
        emoji: Some("💬".into()),
        secrets: vec![SecretDoc {
            name: "GEMINI_API_KEY".into(),
            description: Some("key from https://aistudio.google.com/app/apikey".into()),
        }],
        ..Default::default()
    }
}

#[test]
fn example_backend_scaffold_snapshot() {
    let out = scaffold(&example_backend(), &example_options()).expect("scaffold");
    let mut report = String::new();
    report.push_str("## files (* = generated)\n");
    for path in out.files.keys() {
        let mark = if out.generated.contains(path) {
            "*"
        } else {
            " "
        };
        report.push_str(&format!("{mark} {path}\n"));
    }
    report.push_str("\n## skipped\n");
    for skipped in &out.skipped {
        report.push_str(&format!("{}: {}\n", skipped.path, skipped.reason));
    }
    report.push_str("\n## dropped requirements\n");
    for dropped in &out.dropped_requirements {
        report.push_str(&format!("line {}: {}\n", dropped.line, dropped.text));
    }
    report.push_str("\n## warnings\n");
    for warning in &out.warnings {
        report.push_str(&format!("{warning}\n"));
    }
    for file in ["Dockerfile", "README.md", "requirements.txt"] {
        report.push_str(&format!("\n## {file}\n{}", text(&out, file)));
    }
    insta::assert_snapshot!("example_backend", report);

    // What the snapshot must show whatever else changes in the example.
    assert_eq!(out.config.app_spec(), "app.main:app");
    assert_eq!(out.config.python_version, "3.11");
    for init in [
        "app/api/__init__.py",
        "app/core/__init__.py",
        "app/db/__init__.py",
    ] {
        assert!(
            out.generated.iter().any(|g| g == init),
            "{init} not generated: {:?}",
            out.generated
        );
    }
    assert!(
        !out.files
            .keys()
            .any(|k| k.starts_with("tests/") || k.starts_with(".env"))
    );
    let requirements = text(&out, "requirements.txt");
    assert!(!requirements.contains("pytest"), "{requirements}");
    assert!(
        requirements.contains("python_version < \"3.11\""),
        "{requirements}"
    );
    assert!(
        out.config
            .endpoints
            .iter()
            .any(|e| e.method == "GET" && e.path == "/api/health")
    );
    assert!(
        out.config
            .endpoints
            .iter()
            .any(|e| e.method == "POST" && e.path == "/api/chat")
    );
    let names: Vec<&str> = out.config.secrets.iter().map(|s| s.name.as_str()).collect();
    for name in [
        "GEMINI_API_KEY",
        "QDRANT_URL",
        "QDRANT_API_KEY",
        "DATABASE_URL",
        "ALLOWED_ORIGINS",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
}

#[test]
fn generated_dockerfile_passes_hadolint() {
    let hadolint = venv_bin("hadolint");
    let out = scaffold(&example_backend(), &example_options()).expect("scaffold");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("Dockerfile");
    std::fs::write(&path, out.files["Dockerfile"].read().expect("read")).expect("write");
    let result = Command::new(&hadolint)
        .args(["--no-color", "--failure-threshold", "error"])
        .arg(&path)
        .output()
        .expect("run hadolint");
    let report = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "hadolint found errors:\n{report}{}",
        String::from_utf8_lossy(&result.stderr)
    );
    // Not even a warning. The one info finding allowed is DL3066 ("non-numeric user id"):
    // `USER user` is what the Spaces documentation prescribes.
    let findings: Vec<&str> = report
        .lines()
        .filter(|l| !l.contains(" DL3066 info: "))
        .collect();
    assert!(
        findings.is_empty(),
        "hadolint findings:\n{}",
        findings.join("\n")
    );

    // The check above can fail: the same run on a careless Dockerfile reports findings.
    let careless = dir.path().join("Dockerfile.careless");
    std::fs::write(
        &careless,
        "FROM python
RUN apt-get install curl
",
    )
    .expect("write");
    let result = Command::new(&hadolint)
        .arg("--no-color")
        .arg(&careless)
        .output()
        .expect("run hadolint");
    let report = String::from_utf8_lossy(&result.stdout);
    assert!(
        report.contains("DL3006") && report.contains("DL3008"),
        "hadolint:\n{report}"
    );
}

#[test]
fn front_matter_reads_back_with_huggingface_hub() {
    let python = venv_bin("python");
    let dir = minimal_backend();
    let title = "RAG: the #1 \"chatbot\" - it's 'quoted'";
    let options = ScaffoldOptions {
        title: Some(title.into()),
        emoji: Some("🧑‍💻".into()),
        color_from: Some("pink".into()),
        color_to: Some("gray".into()),
        short_description: Some("Ask: what's #new? \"quotes\" & colons: ok".into()),
        port: Some(8080),
        pinned: Some(true),
        license: Some("apache-2.0".into()),
        tags: vec!["fastapi".into(), "rag: demo".into()],
        ..Default::default()
    };
    let out = scaffold(dir.path(), &options).expect("scaffold");
    let readme_path = dir.path().join("README.generated.md");
    std::fs::write(&readme_path, out.files["README.md"].read().expect("read")).expect("write");
    let script = "import json, sys\nfrom huggingface_hub import SpaceCard\ncard = SpaceCard.load(sys.argv[1])\nprint(json.dumps(card.data.to_dict()))\n";
    let result = Command::new(&python)
        .args(["-c", script])
        .arg(&readme_path)
        .output()
        .expect("run python");
    assert!(
        result.status.success(),
        "SpaceCard failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    let data: serde_json::Value = serde_json::from_slice(&result.stdout).expect("json");
    assert_eq!(
        data,
        serde_json::json!({
            "title": title,
            "emoji": "🧑‍💻",
            "colorFrom": "pink",
            "colorTo": "gray",
            "sdk": "docker",
            "app_port": 8080,
            "short_description": "Ask: what's #new? \"quotes\" & colons: ok",
            "pinned": true,
            "license": "apache-2.0",
            "tags": ["fastapi", "rag: demo"],
        })
    );
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn scaffolded_tree_serves_its_health_endpoint() {
    let python = venv_bin("python");
    let out = scaffold(&example_backend(), &example_options()).expect("scaffold");
    let parent = tempfile::tempdir().expect("temp dir");
    let space = parent.path().join("space");
    out.write_to(&space).expect("write scaffold");

    // The Dockerfile's CMD, with a free port instead of the app port.
    let dockerfile = std::fs::read_to_string(space.join("Dockerfile")).expect("read Dockerfile");
    let cmd_line = dockerfile
        .lines()
        .rev()
        .find(|l| l.starts_with("CMD "))
        .expect("CMD line");
    let mut argv: Vec<String> = serde_json::from_str(&cmd_line[4..]).expect("exec-form CMD");
    assert_eq!(argv[0], "uvicorn");
    let port = free_port();
    let port_index = argv.iter().position(|a| a == "--port").expect("--port") + 1;
    assert_eq!(argv[port_index], out.config.port.to_string());
    argv[port_index] = port.to_string();
    let host_index = argv.iter().position(|a| a == "--host").expect("--host") + 1;
    argv[host_index] = "127.0.0.1".into();

    let mut command = Command::new(&python);
    command
        .arg("-m")
        .args(&argv)
        .current_dir(&space)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // No real services: every check must fail fast and report, not hang.
    for name in [
        "GEMINI_API_KEY",
        "QDRANT_URL",
        "QDRANT_API_KEY",
        "DATABASE_URL",
        "PYTHONPATH",
    ] {
        command.env_remove(name);
    }
    command
        .env("HEALTH_CHECK_TIMEOUT", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let mut child = KillOnDrop(command.spawn().expect("start uvicorn"));

    let url = format!("http://127.0.0.1:{port}{}", out.config.health_path);
    let deadline = Instant::now() + Duration::from_secs(60);
    let body: serde_json::Value = loop {
        if let Ok(Some(status)) = child.0.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.0.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("uvicorn exited with {status}:\n{stderr}");
        }
        let answer = std::process::Command::new(&python)
            .args(["-c", "import sys, urllib.request\ntry:\n    r = urllib.request.urlopen(sys.argv[1], timeout=10)\nexcept urllib.error.HTTPError as e:\n    r = e\nprint(r.read().decode())"])
            .arg(&url)
            .output()
            .expect("run python");
        if answer.status.success() {
            break serde_json::from_slice(&answer.stdout).expect("health answers JSON");
        }
        assert!(
            Instant::now() < deadline,
            "no answer from {url} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(body["status"].is_string(), "{body}");
    assert_eq!(body["services"]["fastapi"], "ok", "{body}");
    for service in ["qdrant", "postgres", "gemini"] {
        assert!(
            body["services"][service]["status"].is_string(),
            "{service} in {body}"
        );
    }
}

/// Run `scaffold` on `dir` with `options` and return the error it must give.
fn expect_error(dir: &Path, options: ScaffoldOptions) -> Error {
    match scaffold(dir, &options) {
        Ok(_) => panic!("scaffold accepted {options:?}"),
        Err(err) => err,
    }
}

#[test]
fn bad_options_are_refused_naming_the_input() {
    let dir = minimal_backend();
    let o = ScaffoldOptions::default;
    let cases: Vec<(&str, ScaffoldOptions, &str)> = vec![
        (
            "empty title",
            ScaffoldOptions {
                title: Some("  ".into()),
                ..o()
            },
            "`--title`",
        ),
        (
            "title with newline",
            ScaffoldOptions {
                title: Some("a\nb".into()),
                ..o()
            },
            "`--title`",
        ),
        (
            "ascii emoji",
            ScaffoldOptions {
                emoji: Some("x".into()),
                ..o()
            },
            "`--emoji`",
        ),
        (
            "two emojis",
            ScaffoldOptions {
                emoji: Some("🚀🤖".into()),
                ..o()
            },
            "`--emoji`",
        ),
        (
            "empty emoji",
            ScaffoldOptions {
                emoji: Some(String::new()),
                ..o()
            },
            "`--emoji`",
        ),
        (
            "unknown colour",
            ScaffoldOptions {
                color_from: Some("orange".into()),
                ..o()
            },
            "`--color-from`",
        ),
        (
            "capitalised colour",
            ScaffoldOptions {
                color_to: Some("Blue".into()),
                ..o()
            },
            "`--color-to`",
        ),
        (
            "long description",
            ScaffoldOptions {
                short_description: Some("x".repeat(61)),
                ..o()
            },
            "`--short-description`",
        ),
        (
            "description with newline",
            ScaffoldOptions {
                short_description: Some("a\nb".into()),
                ..o()
            },
            "`--short-description`",
        ),
        (
            "port zero",
            ScaffoldOptions {
                port: Some(0),
                ..o()
            },
            "`--port`",
        ),
        (
            "app without colon",
            ScaffoldOptions {
                app: Some("app.main".into()),
                ..o()
            },
            "`--app`",
        ),
        (
            "app bad module",
            ScaffoldOptions {
                app: Some("app/main:app".into()),
                ..o()
            },
            "`--app`",
        ),
        (
            "app missing module",
            ScaffoldOptions {
                app: Some("app.server:app".into()),
                ..o()
            },
            "`--app`",
        ),
        (
            "app missing attr",
            ScaffoldOptions {
                app: Some("app.main:api".into()),
                ..o()
            },
            "`--app`",
        ),
        (
            "license with space",
            ScaffoldOptions {
                license: Some("my license".into()),
                ..o()
            },
            "`license`",
        ),
        (
            "empty tag",
            ScaffoldOptions {
                tags: vec![String::new()],
                ..o()
            },
            "`tags`",
        ),
        (
            "bad secret name",
            ScaffoldOptions {
                secrets: vec![SecretDoc::new("GEMINI-KEY")],
                ..o()
            },
            "`secrets`",
        ),
        (
            "bad variable name",
            ScaffoldOptions {
                variables: vec!["1ST".into()],
                ..o()
            },
            "`variables`",
        ),
        (
            "re-including exclude",
            ScaffoldOptions {
                excludes: vec!["!.env".into()],
                ..o()
            },
            "`--exclude`",
        ),
        (
            "empty exclude",
            ScaffoldOptions {
                excludes: vec![" ".into()],
                ..o()
            },
            "`--exclude`",
        ),
        (
            "bad test requirement",
            ScaffoldOptions {
                test_requirements: Some(vec!["py test".into()]),
                ..o()
            },
            "`test_requirements`",
        ),
        (
            "missing templates dir",
            ScaffoldOptions {
                templates_dir: Some(dir.path().join("nope")),
                ..o()
            },
            "`templates_dir`",
        ),
        (
            "templates dir without templates",
            ScaffoldOptions {
                templates_dir: Some(dir.path().join("app")),
                ..o()
            },
            "`templates_dir`",
        ),
    ];
    assert!(cases.len() >= 20);
    // The health path is a checked type: its rules apply where it is built.
    for bad in ["api/health", "/health?full=1"] {
        let err = HealthPath::parse(bad).expect_err(bad);
        assert!(err.is_usage(), "{bad}");
        assert!(err.to_string().contains("`health_path`"), "{bad}: {err}");
    }
    for (name, options, input) in cases {
        // The library names fields, not flags: `--color-to` is the command line's spelling of
        // `color_to`.
        let input = input.replace("`--", "`").replace('-', "_");
        let err = expect_error(dir.path(), options);
        assert!(matches!(err, Error::InvalidInput { .. }), "{name}: {err:?}");
        assert!(err.is_usage(), "{name}");
        assert!(
            err.to_string().contains(&input),
            "{name}: `{err}` does not name {input}"
        );
    }
}

#[test]
fn bad_sources_are_refused_naming_the_folder() {
    let missing = tempfile::tempdir().expect("temp dir");
    let gone = missing.path().join("gone");
    let file = missing.path().join("file.txt");
    std::fs::write(&file, "x").expect("write");
    let no_requirements = backend(&[("app/main.py", MAIN)]);
    let pyproject = backend(&[
        ("pyproject.toml", "[project]\n"),
        ("uv.lock", ""),
        ("app/main.py", MAIN),
    ]);
    let no_app = backend(&[
        ("requirements.txt", "fastapi\n"),
        ("server.py", "app = 1\n"),
    ]);
    let app_not_defined = backend(&[
        ("requirements.txt", "fastapi\n"),
        ("app/main.py", "def create():\n    app = FastAPI()\n"),
    ]);
    let bad_python = backend(&[
        ("requirements.txt", "fastapi\n"),
        ("app/main.py", MAIN),
        (".python-version", "2.7\n"),
    ]);
    let excluded_requirements = backend(&[
        ("requirements.txt", "fastapi\n"),
        ("app/main.py", MAIN),
        (".gitignore", "requirements.txt\n"),
    ]);
    let cases: Vec<(&str, &Path, &str)> = vec![
        ("missing folder", &gone, "does not exist"),
        ("a file", &file, "not a folder"),
        (
            "no requirements",
            no_requirements.path(),
            "requirements.txt",
        ),
        ("pyproject only", pyproject.path(), "pyproject.toml"),
        ("no app", no_app.path(), "found no FastAPI app"),
        (
            "app not at top level",
            app_not_defined.path(),
            "found no FastAPI app",
        ),
        ("python 2", bad_python.path(), ".python-version"),
        (
            "requirements ignored",
            excluded_requirements.path(),
            "requirements.txt",
        ),
    ];
    for (name, path, reason) in cases {
        let err = expect_error(path, ScaffoldOptions::default());
        assert!(
            matches!(err, Error::InvalidSource { .. }),
            "{name}: {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&format!("`{}`", path.display())),
            "{name}: {message}"
        );
        assert!(message.contains(reason), "{name}: {message}");
        assert!(err.hint().is_some(), "{name}: no hint");
    }
}

#[test]
fn a_dockerfile_copying_env_is_refused_even_from_a_template() {
    let dir = minimal_backend();
    let templates = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        templates.path().join("Dockerfile.j2"),
        "FROM python:3.11\nRUN useradd -m -u 1000 user\nUSER user\nCOPY --chown=user .env ./\nCOPY --chown=user . .\nEXPOSE {{ space.port }}\nCMD {{ cmd }}\n",
    )
    .expect("write");
    let err = expect_error(
        dir.path(),
        ScaffoldOptions {
            templates_dir: Some(templates.path().into()),
            ..Default::default()
        },
    );
    assert!(err.to_string().contains("line 4: [env-file]"), "{err}");
}
