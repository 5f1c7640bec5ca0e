//! End-to-end: a hostile source folder against the real binary and the Hub stand-in. A symbolic
//! link is judged by its target (never `.git/config`, an ignored file or a `.env*` file pushed
//! through an innocent name); a link loop, a FIFO (also through a link) and a socket are refused
//! with exit 2, at once, sending nothing; `--out` inside the source is refused; temporary folders
//! are private (0700) and gone after a success, a failure, SIGINT and SIGTERM.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hf_deploy_tests::{
    CliOutput, copy_tree, example_backend, git, git_history_text, hf_deploy_bin, hub_env, strings,
};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, FaultRule, Runner, ScriptedRunner,
};

/// What `.git/config` holds after `actions/checkout`: the job token as an auth header.
const CHECKOUT_HEADER: &str = "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX2NoZWNrb3V0dG9rZW4=";
const GITIGNORED_SECRET: &str = "sk-gitignored-secret-0123456789";
const ENV_LOCAL_SECRET: &str = "env-local-secret-9876543210";

/// How long a refused source may take: a hang is a failure, not a slow test.
const REFUSAL_WITHIN: Duration = Duration::from_secs(30);

async fn scripted() -> Emulator {
    Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running()),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the Hub stand-in starts")
}

/// `hf-deploy` with a clean environment plus `env`, its output piped.
fn spawn(args: &[String], env: &[(String, String)]) -> Child {
    let mut command = Command::new(hf_deploy_bin());
    command.args(args).env_clear();
    for key in ["PATH", "HOME", "LANG"] {
        if let Some(value) = std::env::var_os(key) {
            command.env(key, value);
        }
    }
    command.env("NO_COLOR", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hf-deploy")
}

/// Wait for `child` at most `within`; killed and a failure when it takes longer (a hang).
fn finish_within(mut child: Child, within: Duration, what: &str) -> CliOutput {
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for hf-deploy") {
            break status;
        }
        if started.elapsed() > within {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: hf-deploy did not end within {within:?} (it hangs)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    CliOutput {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Run `hf-deploy` on a blocking thread, at most `within`.
async fn run(args: Vec<String>, env: Vec<(String, String)>, what: &str) -> CliOutput {
    let what = what.to_string();
    tokio::task::spawn_blocking(move || finish_within(spawn(&args, &env), REFUSAL_WITHIN, &what))
        .await
        .expect("hf-deploy runner thread")
}

fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

/// Entries of `dir` whose names start with `hf-deploy` or `.hf-deploy` (our temporary folders).
fn ours(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read the folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.trim_start_matches('.').starts_with("hf-deploy"))
        .collect()
}

fn tree_of(repo: &Path) -> Vec<String> {
    git(repo, &["ls-tree", "-r", "--name-only", "main"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn assert_sent_nothing(emulator: &Emulator) {
    let log = emulator.request_log();
    assert!(
        log.is_empty(),
        "a refused source must send nothing, but the Hub saw: {:?}",
        log.iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>()
    );
}

/// The example backend as a checked-out repository: `.git/config` with the checkout's auth
/// header, a gitignored secrets file, a `.env.local`, and innocent-looking links to all three.
fn hostile_checkout() -> tempfile::TempDir {
    let dir = copy_tree(&example_backend());
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::write(
        root.join(".git/config"),
        format!("[http \"https://github.com/\"]\n\textraheader = {CHECKOUT_HEADER}\n"),
    )
    .unwrap();
    let mut gitignore = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    gitignore.push_str("secrets.json\n.env.local\n");
    std::fs::write(root.join(".gitignore"), gitignore).unwrap();
    std::fs::write(
        root.join("secrets.json"),
        format!("{{\"key\": \"{GITIGNORED_SECRET}\"}}\n"),
    )
    .unwrap();
    std::fs::write(root.join(".env.local"), format!("KEY={ENV_LOCAL_SECRET}\n")).unwrap();
    symlink("../.git/config", &root.join("app/git_settings.ini"));
    symlink("../secrets.json", &root.join("app/settings.json"));
    symlink("../.env.local", &root.join("app/defaults.cfg"));
    // A link to an allowed file goes in with that file's content.
    symlink(
        "../requirements.txt",
        &root.join("app/requirements-copy.txt"),
    );
    dir
}

/// Defects: a link to `.git/config`, to a gitignored file, and to `.env.local` through an
/// innocent name were pushed. Now none is, the deploy goes on, and the scaffold says why.
#[tokio::test(flavor = "multi_thread")]
async fn links_to_git_config_ignored_files_and_env_files_are_never_pushed() {
    let emulator = scripted().await;
    let source = hostile_checkout();
    let tmp = tempfile::tempdir().unwrap();
    let mut env = hub_env(&emulator, DEFAULT_WRITE_TOKEN);
    env.push(("TMPDIR".into(), tmp.path().display().to_string()));
    let mut args = strings(&["deploy"]);
    args.push(source.path().display().to_string());
    args.extend(strings(&[
        "--space",
        "local/hostile",
        "--no-wait",
        "--json",
    ]));
    let output = run(args, env, "deploy of a hostile checkout").await;
    assert_eq!(output.code, 0, "{}", output.both());

    let repo = emulator
        .space_dir("local/hostile")
        .expect("the Space exists");
    let tree = tree_of(&repo);
    for absent in [
        "app/git_settings.ini",
        "app/settings.json",
        "app/defaults.cfg",
        "secrets.json",
        ".env.local",
        ".git/config",
    ] {
        assert!(!tree.contains(&absent.to_string()), "{absent} in {tree:?}");
    }
    assert!(tree.contains(&"app/main.py".to_string()), "{tree:?}");
    // Pushed as a regular file (mode 100644) with the target's content, not as a link.
    let entry = git(&repo, &["ls-tree", "main", "app/requirements-copy.txt"]);
    assert!(entry.starts_with("100644 blob "), "{entry}");
    assert_eq!(
        git(&repo, &["show", "main:app/requirements-copy.txt"]),
        std::fs::read_to_string(source.path().join("requirements.txt")).unwrap()
    );
    let history = git_history_text(&repo);
    for secret in [CHECKOUT_HEADER, GITIGNORED_SECRET, ENV_LOCAL_SECRET] {
        assert!(!history.contains(secret), "{secret} reached the Space");
        assert!(!output.stdout.contains(secret) && !output.stderr.contains(secret));
    }
    assert!(ours(tmp.path()).is_empty(), "{:?}", ours(tmp.path()));
    // The stand-in's own temporary data folder (of `deploy --local`) is private too.
    let data = repo
        .ancestors()
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("hf-hub-emulator-"))
        })
        .expect("the stand-in's temporary data folder");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(data).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{}", data.display());

    // `scaffold` lists each link with the rule its target breaks.
    let out = tempfile::tempdir().unwrap();
    let mut args = strings(&["scaffold"]);
    args.push(source.path().display().to_string());
    args.push("--out".into());
    args.push(out.path().join("space").display().to_string());
    args.push("--json".into());
    let output = run(args, Vec::new(), "scaffold of a hostile checkout").await;
    assert_eq!(output.code, 0, "{}", output.both());
    let report = output.json();
    let reason = |path: &str| {
        report["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["path"] == path)
            .map(|s| s["reason"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{path} not listed as skipped: {report}"))
    };
    assert!(reason("app/git_settings.ini").contains("`.git/config`"));
    assert!(reason("app/settings.json").contains("`.gitignore`"));
    assert!(reason("app/defaults.cfg").contains("`.env*`"));
    assert!(
        !out.path().join("space/app/git_settings.ini").exists()
            && !out.path().join("space/app/settings.json").exists()
    );
    emulator.shutdown().await;
}

/// Defect: a link to the repository's own `.git/config` above the source. It leaves the source:
/// refused, exit 2, nothing sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_link_to_the_repository_config_above_the_source_is_refused() {
    let emulator = scripted().await;
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join(".git")).unwrap();
    std::fs::write(
        repo.path().join(".git/config"),
        format!("[http]\n\textraheader = {CHECKOUT_HEADER}\n"),
    )
    .unwrap();
    let source = repo.path().join("backend");
    hf_deploy_tests::copy_dir(&example_backend(), &source);
    symlink("../../.git/config", &source.join("app/settings.ini"));
    let mut args = strings(&["deploy"]);
    args.push(source.display().to_string());
    args.extend(strings(&["--space", "local/above", "--no-wait"]));
    let output = run(args, hub_env(&emulator, DEFAULT_WRITE_TOKEN), "deploy").await;
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output
            .stderr
            .contains("symbolic link `app/settings.ini` points outside"),
        "{}",
        output.both()
    );
    assert!(!output.stderr.contains(CHECKOUT_HEADER));
    assert_sent_nothing(&emulator);
    emulator.shutdown().await;
}

/// Defect: a FIFO in the source hung `scaffold` and `deploy` for good. Now: exit 2 at once,
/// naming it and its kind, also through an innocent link to an ignored FIFO; nothing sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_fifo_is_refused_at_once_also_through_a_link() {
    let emulator = scripted().await;
    let source = copy_tree(&example_backend());
    mkfifo(&source.path().join("app/events.pipe"));
    let out = tempfile::tempdir().unwrap();
    let scaffold_args = |source: &Path| {
        let mut args = strings(&["scaffold"]);
        args.push(source.display().to_string());
        args.push("--out".into());
        args.push(out.path().join("space").display().to_string());
        args
    };
    let deploy_args = |source: &Path| {
        let mut args = strings(&["deploy"]);
        args.push(source.display().to_string());
        args.extend(strings(&["--space", "local/fifo", "--no-wait"]));
        args
    };
    let env = hub_env(&emulator, DEFAULT_WRITE_TOKEN);
    for (what, args) in [
        ("scaffold", scaffold_args(source.path())),
        ("deploy", deploy_args(source.path())),
    ] {
        let started = Instant::now();
        let output = run(args, env.clone(), what).await;
        assert_eq!(output.code, 2, "{what}: {}", output.both());
        assert!(
            output
                .stderr
                .contains("`app/events.pipe` is a named pipe (FIFO), not a regular file"),
            "{what}: {}",
            output.both()
        );
        assert!(output.stderr.contains("--exclude"), "{}", output.both());
        assert!(started.elapsed() < Duration::from_secs(20), "{what}: slow");
    }

    // Ignored, the FIFO is left alone; an innocent link to it is refused.
    let mut gitignore = std::fs::read_to_string(source.path().join(".gitignore")).unwrap();
    gitignore.push_str("*.pipe\n");
    std::fs::write(source.path().join(".gitignore"), gitignore).unwrap();
    symlink("events.pipe", &source.path().join("app/data.csv"));
    for (what, args) in [
        ("scaffold", scaffold_args(source.path())),
        ("deploy", deploy_args(source.path())),
    ] {
        let output = run(args, env.clone(), what).await;
        assert_eq!(output.code, 2, "{what}: {}", output.both());
        assert!(
            output.stderr.contains(
                "symbolic link `app/data.csv` points to `app/events.pipe`, which is a named pipe (FIFO)"
            ),
            "{what}: {}",
            output.both()
        );
    }
    assert!(!out.path().join("space").exists());
    assert_sent_nothing(&emulator);
    emulator.shutdown().await;
}

/// A socket is refused like a FIFO; a link loop is an error naming the loop. Neither hangs.
#[tokio::test(flavor = "multi_thread")]
async fn a_socket_and_a_link_loop_are_refused() {
    let source = copy_tree(&example_backend());
    let _listener =
        std::os::unix::net::UnixListener::bind(source.path().join("app/dev.sock")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut args = strings(&["scaffold"]);
    args.push(source.path().display().to_string());
    args.push("--out".into());
    args.push(out.path().join("space").display().to_string());
    let output = run(args.clone(), Vec::new(), "scaffold with a socket").await;
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.stderr.contains("`app/dev.sock` is a socket"),
        "{}",
        output.both()
    );

    std::fs::remove_file(source.path().join("app/dev.sock")).unwrap();
    symlink("loop_b", &source.path().join("app/loop_a"));
    symlink("loop_a", &source.path().join("app/loop_b"));
    let output = run(args, Vec::new(), "scaffold with a link loop").await;
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.stderr.contains(
            "symbolic link `app/loop_a` leads into a loop of symbolic links (`app/loop_a` -> `app/loop_b` -> `app/loop_a`)"
        ),
        "{}",
        output.both()
    );
    assert!(!out.path().join("space").exists());
}

/// Defect: `--out` inside the source nested a copy on every run. Now refused, naming `--out`,
/// on every run, leaving the source as it was; beside the source, a second run nests nothing.
#[tokio::test(flavor = "multi_thread")]
async fn out_inside_the_source_is_refused_and_never_nests() {
    let source = copy_tree(&example_backend());
    let before = listing(source.path());
    for out in [source.path().join("space"), source.path().to_path_buf()] {
        for _ in 0..2 {
            let mut args = strings(&["scaffold"]);
            args.push(source.path().display().to_string());
            args.push("--out".into());
            args.push(out.display().to_string());
            let output = run(args, Vec::new(), "scaffold into the source").await;
            assert_eq!(output.code, 2, "{}", output.both());
            assert!(
                output.stderr.contains("`--out`") && output.stderr.contains("source folder"),
                "{}",
                output.both()
            );
            assert!(
                output
                    .stderr
                    .contains("hint: write the scaffold outside the source folder"),
                "{}",
                output.both()
            );
            assert_eq!(listing(source.path()), before, "the source changed");
        }
    }

    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("space");
    for _ in 0..2 {
        let mut args = strings(&["scaffold"]);
        args.push(source.path().display().to_string());
        args.push("--out".into());
        args.push(out.display().to_string());
        let output = run(args, Vec::new(), "scaffold beside the source").await;
        assert_eq!(output.code, 0, "{}", output.both());
    }
    assert!(!out.join("space").exists());
    assert_eq!(listing(source.path()), before);
    assert_eq!(
        ours(parent.path()),
        Vec::<String>::new(),
        "staging folders left"
    );
}

/// Every path under `dir`, sorted.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path.clone());
            }
            paths.push(path.strip_prefix(dir).unwrap().to_path_buf());
        }
    }
    paths.sort();
    paths
}

/// Temporary folders are gone after a successful deploy and after a failed one.
#[tokio::test(flavor = "multi_thread")]
async fn temporary_folders_are_removed_after_success_and_failure() {
    let emulator = scripted().await;
    let source = copy_tree(&example_backend());
    let tmp = tempfile::tempdir().unwrap();
    let mut env = hub_env(&emulator, DEFAULT_WRITE_TOKEN);
    env.push(("TMPDIR".into(), tmp.path().display().to_string()));
    let deploy = |space: &str| {
        let mut args = strings(&["deploy"]);
        args.push(source.path().display().to_string());
        args.extend(strings(&["--space", space, "--no-wait", "--json"]));
        args
    };
    let output = run(deploy("local/ok"), env.clone(), "deploy").await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(ours(tmp.path()).is_empty(), "{:?}", ours(tmp.path()));

    emulator
        .faults()
        .add(FaultRule::new("POST", "/spaces/*/git-receive-pack").status(403));
    let output = run(deploy("local/refused"), env, "deploy").await;
    assert_eq!(output.code, 1, "{}", output.both());
    assert!(
        emulator
            .request_log()
            .iter()
            .any(|r| r.path.ends_with("/git-receive-pack")),
        "the push was reached"
    );
    assert!(ours(tmp.path()).is_empty(), "{:?}", ours(tmp.path()));
    emulator.shutdown().await;
}

/// A signal mid-deploy (the stand-in holds the git fetch, so the push repository exists): the
/// folder was private while it existed, is gone after, and the exit code is 130.
#[tokio::test(flavor = "multi_thread")]
async fn sigint_and_sigterm_mid_deploy_remove_the_private_push_folder() {
    let emulator = scripted().await;
    for path in ["/spaces/*/info/refs", "/spaces/*/git-upload-pack"] {
        emulator
            .faults()
            .add(FaultRule::new("*", path).latency(Duration::from_secs(300)));
    }
    let source = copy_tree(&example_backend());
    // At once (while libgit2 may still be making the repository), and once the fetch is held.
    let cases = [
        ("TERM", Duration::ZERO),
        ("INT", Duration::ZERO),
        ("TERM", Duration::from_millis(500)),
        ("INT", Duration::from_millis(500)),
    ];
    for (signal, after) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let mut env = hub_env(&emulator, DEFAULT_WRITE_TOKEN);
        env.push(("TMPDIR".into(), tmp.path().display().to_string()));
        let mut args = strings(&["deploy"]);
        args.push(source.path().display().to_string());
        let space = format!(
            "local/signal-{}-{}",
            signal.to_lowercase(),
            after.as_millis()
        );
        args.extend(strings(&["--space", &space, "--no-wait"]));
        let tmp_path = tmp.path().to_path_buf();
        let output = tokio::task::spawn_blocking(move || {
            let child = spawn(&args, &env);
            let pid = child.id();
            let folder = wait_for_push_folder(&tmp_path, child.id());
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&folder).map(|m| m.permissions().mode() & 0o777);
            std::thread::sleep(after);
            let still_there = folder.is_dir();
            let sent = Command::new("kill")
                .args([format!("-{signal}"), pid.to_string()])
                .status()
                .expect("kill");
            assert!(sent.success());
            let output = finish_within(child, Duration::from_secs(10), "after the signal");
            assert!(still_there, "the deploy ended before the signal");
            (folder, mode, output)
        })
        .await
        .unwrap();
        let (folder, mode, output) = output;
        assert_eq!(
            mode.expect("the push folder existed when the signal was sent"),
            0o700,
            "{}",
            folder.display()
        );
        assert_eq!(output.code, 130, "SIG{signal}: {}", output.both());
        assert!(
            output.stderr.contains(&format!(
                "SIG{signal}: stopped (its temporary folder removed)"
            )),
            "{}",
            output.both()
        );
        assert!(
            !folder.exists(),
            "{} left behind: {:?}\n{}",
            folder.display(),
            listing(&folder),
            output.both()
        );
        assert!(ours(tmp.path()).is_empty(), "{:?}", ours(tmp.path()));
    }
    emulator.shutdown().await;
}

/// The push repository's folder in `tmp`, once the deploy (process `pid`) made it.
fn wait_for_push_folder(tmp: &Path, pid: u32) -> PathBuf {
    let started = Instant::now();
    loop {
        if let Some(name) = ours(tmp)
            .into_iter()
            .find(|name| name.starts_with("hf-deploy-push-"))
        {
            return tmp.join(name);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no push folder appeared in {} (process {pid})",
            tmp.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
