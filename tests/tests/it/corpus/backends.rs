//! Backend folders that cannot be deployed, given as `deploy SOURCE`: the error names the folder
//! as given, nothing is sent.

use std::path::{Path, PathBuf};

use hf_deploy_tests::run_cli_async;

use super::{MAIN_PY, REQUIREMENTS, Seen, Sends, Stands, Verdicts, cli_problems, write_tree};

/// How a case's folder is made.
enum Setup {
    /// A folder with these files (`path`, bytes).
    Tree(&'static [(&'static str, &'static [u8])]),
    /// Nothing at that path.
    Missing,
    /// A file at that path.
    File,
    /// A path under a file (`file/backend`).
    UnderFile,
    /// A good backend plus a symbolic link `app/data` to `target` (relative to the folder).
    Link(&'static str),
    /// A good backend plus a file whose name is not UTF-8.
    NonUtf8Name,
}

/// The cases of this family (each one run and judged by its test).
pub(super) const CASES: usize = BACKENDS.len();

#[rustfmt::skip]
const BACKENDS: &[(&str, Setup)] = &[
    ("missing folder", Setup::Missing),
    ("a file, not a folder", Setup::File),
    ("a path under a file", Setup::UnderFile),
    ("empty folder", Setup::Tree(&[])),
    ("a .env only", Setup::Tree(&[(".env", b"GEMINI_API_KEY=s3cr3t\n")])),
    ("no app/", Setup::Tree(&[("requirements.txt", REQUIREMENTS)])),
    ("no requirements.txt, no pyproject.toml", Setup::Tree(&[("app/main.py", MAIN_PY)])),
    ("pyproject.toml only", Setup::Tree(&[("pyproject.toml", b"[project]\nname = \"x\"\ndependencies = [\"fastapi\"]\n"), ("app/main.py", MAIN_PY)])),
    ("uv.lock only", Setup::Tree(&[("uv.lock", b"version = 1\n"), ("app/main.py", MAIN_PY)])),
    ("requirements.txt is a folder", Setup::Tree(&[("requirements.txt/x", b"fastapi\n"), ("app/main.py", MAIN_PY)])),
    ("app/ without a module", Setup::Tree(&[("requirements.txt", REQUIREMENTS), ("app/__init__.py", b"")])),
    ("app module defines no app", Setup::Tree(&[("requirements.txt", REQUIREMENTS), ("app/main.py", b"from fastapi import FastAPI\napi = FastAPI()\n")])),
    ("app only inside a function", Setup::Tree(&[("requirements.txt", REQUIREMENTS), ("app/main.py", b"from fastapi import FastAPI\n\ndef create():\n    app = FastAPI()\n    return app\n")])),
    ("app module not UTF-8", Setup::Tree(&[("requirements.txt", REQUIREMENTS), ("app/main.py", b"# \xff\xfe\nfrom fastapi import FastAPI\napp = FastAPI()\n")])),
    ("requirements.txt not UTF-8", Setup::Tree(&[("requirements.txt", b"fastapi\n\xff\xfe\n"), ("app/main.py", MAIN_PY)])),
    ("requirements.txt unparseable line", Setup::Tree(&[("requirements.txt", b"fastapi\nthis is === not a requirement <<<\n"), ("app/main.py", MAIN_PY)])),
    ("requirements.txt ignored by .gitignore", Setup::Tree(&[("requirements.txt", REQUIREMENTS), ("app/main.py", MAIN_PY), (".gitignore", b"requirements.txt\n")])),
    (".python-version 2.7", Setup::Tree(&[("requirements.txt", REQUIREMENTS), ("app/main.py", MAIN_PY), (".python-version", b"2.7\n")])),
    (".python-version not a version", Setup::Tree(&[("requirements.txt", REQUIREMENTS), ("app/main.py", MAIN_PY), (".python-version", b"banana\n")])),
    ("runtime.txt python 2", Setup::Tree(&[("requirements.txt", REQUIREMENTS), ("app/main.py", MAIN_PY), ("runtime.txt", b"python-2.7.18\n")])),
    ("requires-python 3.6", Setup::Tree(&[("requirements.txt", REQUIREMENTS), ("app/main.py", MAIN_PY), ("pyproject.toml", b"[project]\nname = \"x\"\nrequires-python = \">=3.6\"\n")])),
    ("Dockerfile not UTF-8", Setup::Tree(&[("requirements.txt", REQUIREMENTS), ("app/main.py", MAIN_PY), ("Dockerfile", b"FROM python:3.11\n\xff\xfe\n")])),
    ("symbolic link out of the folder", Setup::Link("../../outside.txt")),
    ("dangling symbolic link", Setup::Link("no-such-file")),
    ("file name not UTF-8", Setup::NonUtf8Name),
];

/// A good backend at `root/name` (for the good run and the link cases).
fn good_backend(root: &Path, name: &str) -> PathBuf {
    write_tree(
        root,
        name,
        &[("requirements.txt", REQUIREMENTS), ("app/main.py", MAIN_PY)],
    )
}

fn make(root: &Path, index: usize, setup: &Setup) -> PathBuf {
    let name = format!("case-{index}");
    let path = root.join(&name);
    match setup {
        Setup::Tree(files) => write_tree(root, &name, files),
        Setup::Missing => path,
        Setup::File => {
            std::fs::write(&path, "not a folder\n").expect("write");
            path
        }
        Setup::UnderFile => {
            std::fs::write(&path, "not a folder\n").expect("write");
            path.join("backend")
        }
        Setup::Link(target) => {
            let dir = good_backend(root, &name);
            std::os::unix::fs::symlink(target, dir.join("app/data")).expect("symlink");
            dir
        }
        Setup::NonUtf8Name => {
            use std::os::unix::ffi::OsStrExt;
            let dir = good_backend(root, &name);
            let bad = std::ffi::OsStr::from_bytes(b"app/caf\xe9.txt");
            std::fs::write(dir.join(bad), "x").expect("write");
            dir
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn corpus_backend_folders() {
    let stands = Stands::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("outside.txt"), "outside\n").expect("write");
    let mut verdicts = Verdicts::new("backends");
    let deploy = |source: &Path| -> Vec<String> {
        [
            "deploy",
            &source.display().to_string(),
            "--space",
            "local/corpus-backends",
            "--no-wait",
        ]
        .map(str::to_string)
        .to_vec()
    };

    let good = good_backend(dir.path(), "good");
    let mark = stands.mark().await;
    let output = run_cli_async(deploy(&good), stands.cli_env()).await;
    let (hub, github) = stands.since(mark).await;
    let seen = Seen {
        code: output.code,
        named: true,
        hub,
        github,
        problems: cli_problems(&output, &[]),
        output: output.both(),
    };
    verdicts.good_run(&seen, Sends::Writes, false);

    for (index, (name, setup)) in BACKENDS.iter().enumerate() {
        let source = make(dir.path(), index, setup);
        let mark = stands.mark().await;
        let output = run_cli_async(deploy(&source), stands.cli_env()).await;
        let (hub, github) = stands.since(mark).await;
        let seen = Seen {
            code: output.code,
            named: output.stderr.contains(&format!("`{}`", source.display())),
            hub,
            github,
            problems: cli_problems(&output, &["s3cr3t"]),
            output: output.both(),
        };
        verdicts.record(name, seen);
    }
    verdicts.finish(20);
    stands.emulator.shutdown().await;
}
