//! The real `git` and `git lfs` CLIs against the stand-in's smart HTTP.

use crate::common;

use std::time::Duration;

use common::{git, run};
use hf_hub_emulator::{DEFAULT_READ_TOKEN, DEFAULT_WRITE_TOKEN, ScriptedRunner};

fn remote(url: &str, token: &str, id: &str) -> String {
    format!(
        "{}/spaces/{id}",
        url.replacen("http://", &format!("http://hf_user:{token}@"), 1)
    )
}

fn big_text(bytes: usize) -> Vec<u8> {
    let line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrst\n";
    line.iter().copied().cycle().take(bytes).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clone_push_size_limit_and_lfs() {
    let emu = common::scripted(ScriptedRunner::running()).await;
    common::create_space(&emu, "git-space", false).await;
    let id = "local/git-space";
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let work = tmp.path().join("work");
    let url = remote(&emu.url(), DEFAULT_WRITE_TOKEN, id);

    // clone: the initial commit has .gitattributes and README.md
    let (ok, out) = run(git(&home, tmp.path()).args(["clone", &url, "work"]));
    assert!(ok, "clone failed: {out}");
    assert!(work.join(".gitattributes").is_file() && work.join("README.md").is_file());
    let readme = std::fs::read_to_string(work.join("README.md")).unwrap();
    assert!(
        readme.starts_with("---\n") && readme.contains("sdk: docker"),
        "{readme}"
    );

    // a normal push
    std::fs::write(
        work.join("Dockerfile"),
        "FROM python:3.12\nCMD [\"python\", \"-m\", \"http.server\", \"7860\"]\n",
    )
    .unwrap();
    assert!(run(git(&home, &work).args(["add", "Dockerfile"])).0);
    assert!(run(git(&home, &work).args(["commit", "-q", "-m", "add Dockerfile"])).0);
    let (ok, out) = run(git(&home, &work).args(["push", "origin", "main"]));
    assert!(ok, "push failed: {out}");
    let head = run(git(&home, &work).args(["rev-parse", "HEAD"]))
        .1
        .trim()
        .to_owned();
    let bare = emu.space_dir(id).expect("bare repo");
    let remote_head =
        run(git(&home, &bare).args(["--git-dir", bare.to_str().unwrap(), "rev-parse", "main"])).1;
    assert_eq!(remote_head.trim(), head);
    // a push triggers a build
    let stages = common::wait_stage(&emu, id, Duration::from_secs(10)).await;
    assert_eq!(
        stages.last().map(String::as_str),
        Some("RUNNING"),
        "{stages:?}"
    );

    // a 12 MiB non-LFS file is refused with the Hub's message
    std::fs::write(work.join("data.txt"), big_text(12 * 1024 * 1024)).unwrap();
    assert!(run(git(&home, &work).args(["add", "data.txt"])).0);
    assert!(run(git(&home, &work).args(["commit", "-q", "-m", "big file"])).0);
    let (ok, out) = run(git(&home, &work).args(["push", "origin", "main"]));
    assert!(!ok, "a 12 MiB push must be refused: {out}");
    assert!(
        out.contains(
            "remote: Your push was rejected because it contains files larger than 10 MiB."
        ),
        "{out}"
    );
    assert!(
        out.contains("remote:   - data.txt (ref: refs/heads/main)"),
        "{out}"
    );
    assert!(out.contains("pre-receive hook declined"), "{out}");
    let after =
        run(git(&home, &bare).args(["--git-dir", bare.to_str().unwrap(), "rev-parse", "main"])).1;
    assert_eq!(after.trim(), head, "the refused push must not move main");

    // the same file through git-lfs is accepted
    assert!(run(git(&home, &work).args(["reset", "-q", "--soft", "HEAD~1"])).0);
    assert!(run(git(&home, &work).args(["rm", "-q", "--cached", "data.txt"])).0);
    let (ok, out) = run(git(&home, &work).args(["lfs", "install"]));
    assert!(
        ok,
        "git lfs is missing (run `bash scripts/bootstrap.sh`): {out}"
    );
    assert!(run(git(&home, &work).args(["lfs", "track", "*.txt"])).0);
    assert!(run(git(&home, &work).args(["add", ".gitattributes", "data.txt"])).0);
    assert!(run(git(&home, &work).args(["commit", "-q", "-m", "big file via lfs"])).0);
    let (ok, out) = run(git(&home, &work).args(["push", "origin", "main"]));
    assert!(ok, "LFS push failed: {out}");
    let pointer = run(git(&home, &bare).args([
        "--git-dir",
        bare.to_str().unwrap(),
        "cat-file",
        "-p",
        "main:data.txt",
    ]))
    .1;
    assert!(
        pointer.starts_with("version https://git-lfs.github.com/spec/v1"),
        "{pointer}"
    );
    assert!(
        pointer.contains(&format!("size {}", 12 * 1024 * 1024)),
        "{pointer}"
    );

    // a fresh clone gets the LFS content back
    let (ok, out) = run(git(&home, tmp.path()).args(["clone", &url, "again"]));
    assert!(ok, "second clone failed: {out}");
    assert_eq!(
        std::fs::metadata(tmp.path().join("again/data.txt"))
            .unwrap()
            .len(),
        12 * 1024 * 1024
    );

    // force pushes are refused
    assert!(run(git(&home, &work).args(["commit", "-q", "--amend", "-m", "rewritten"])).0);
    let (ok, out) = run(git(&home, &work).args(["push", "--force", "origin", "main"]));
    assert!(
        !ok && out.contains("rejected"),
        "force push must be refused: {out}"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_token_and_anonymous_pushes_are_denied() {
    let emu = common::scripted(ScriptedRunner::running()).await;
    common::create_space(&emu, "ro-space", false).await;
    common::create_space(&emu, "secret-space", true).await;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();

    let ro = remote(&emu.url(), DEFAULT_READ_TOKEN, "local/ro-space");
    let (ok, out) = run(git(&home, tmp.path()).args(["clone", &ro, "ro"]));
    assert!(ok, "a read token can clone: {out}");
    let work = tmp.path().join("ro");
    std::fs::write(work.join("a.txt"), "a\n").unwrap();
    assert!(run(git(&home, &work).args(["add", "a.txt"])).0);
    assert!(run(git(&home, &work).args(["commit", "-q", "-m", "a"])).0);
    let (ok, out) = run(git(&home, &work).args(["push", "origin", "main"]));
    assert!(!ok, "{out}");
    assert!(
        out.contains("remote: DENIED update refs/heads/main: forbidden"),
        "{out}"
    );

    // anonymous: a public repo clones, a private one asks for credentials, pushes ask for credentials
    let anon_public = format!("{}/spaces/local/ro-space.git", emu.url());
    let (ok, out) = run(git(&home, tmp.path()).args(["clone", &anon_public, "anon"]));
    assert!(ok, "{out}");
    let anon_private = format!("{}/spaces/local/secret-space", emu.url());
    let (ok, out) = run(git(&home, tmp.path()).args(["clone", &anon_private, "anon-private"]));
    assert!(!ok && out.contains("could not read Username"), "{out}");
    let resp = common::client()
        .get(format!(
            "{}/spaces/local/ro-space/info/refs?service=git-receive-pack",
            emu.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic realm=")
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_files_and_dangling_lfs_pointers_are_refused() {
    let emu = common::scripted(ScriptedRunner::running()).await;
    common::create_space(&emu, "bin-space", false).await;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let url = remote(&emu.url(), DEFAULT_WRITE_TOKEN, "local/bin-space");
    assert!(run(git(&home, tmp.path()).args(["clone", &url, "work"])).0);
    let work = tmp.path().join("work");

    // 2 MiB with NUL bytes, not matched by the default LFS patterns
    let data: Vec<u8> = (0..2 * 1024 * 1024u32).map(|i| (i % 256) as u8).collect();
    std::fs::create_dir_all(work.join("static")).unwrap();
    std::fs::write(work.join("static/demo.mp4"), data).unwrap();
    // a small binary file is fine
    std::fs::write(work.join("static/icon.ico"), [0u8, 1, 2, 3, 0, 0, 7]).unwrap();
    assert!(run(git(&home, &work).args(["add", "static"])).0);
    assert!(run(git(&home, &work).args(["commit", "-q", "-m", "media"])).0);
    let (ok, out) = run(git(&home, &work).args(["push", "origin", "main"]));
    assert!(!ok, "{out}");
    assert!(
        out.contains("remote: Your push was rejected because it contains binary files."),
        "{out}"
    );
    assert!(
        out.contains("remote:   - static/demo.mp4 (ref: refs/heads/main)"),
        "{out}"
    );
    assert!(!out.contains("icon.ico"), "{out}");

    // an LFS pointer whose object was never uploaded
    assert!(run(git(&home, &work).args(["reset", "-q", "--hard", "origin/main"])).0);
    let pointer = format!(
        "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize 123\n",
        "ab".repeat(32)
    );
    std::fs::write(work.join("model.bin"), pointer).unwrap();
    assert!(run(git(&home, &work).args(["add", "model.bin"])).0);
    assert!(run(git(&home, &work).args(["commit", "-q", "-m", "dangling pointer"])).0);
    let (ok, out) = run(git(&home, &work).args(["push", "--no-verify", "origin", "main"]));
    assert!(!ok, "{out}");
    assert!(
        out.contains("LFS pointer pointed to a file that does not exist"),
        "{out}"
    );
    assert!(
        out.contains("  - model.bin (ref: refs/heads/main)"),
        "{out}"
    );
    emu.shutdown().await;
}

/// Eight `git push` runs of different trees to one Space at once, round after round: git's ref
/// locking lets one win per round and refuses the others (non-fast-forward or a lock error);
/// the losers rebase and try again. No update is lost or half-written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_pushes_at_once_one_wins_per_round() {
    const N: usize = 8;
    let emu = common::scripted(ScriptedRunner::running()).await;
    common::create_space(&emu, "race", false).await;
    let id = "local/race";
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let url = remote(&emu.url(), DEFAULT_WRITE_TOKEN, id);
    let mut works = Vec::new();
    for n in 0..N {
        let work = tmp.path().join(format!("w{n}"));
        assert!(run(git(&home, tmp.path()).args(["clone", "-q", &url, &format!("w{n}")])).0);
        std::fs::write(
            work.join(format!("worker-{n}.txt")),
            format!("tree of worker {n}\n"),
        )
        .unwrap();
        assert!(run(git(&home, &work).args(["add", "."])).0);
        assert!(run(git(&home, &work).args(["commit", "-q", "-m", &format!("worker {n}")])).0);
        works.push(work);
    }
    let starts_before = emu.space_starts(id);
    let mut pending: Vec<usize> = (0..N).collect();
    let mut rounds = 0;
    while !pending.is_empty() {
        rounds += 1;
        assert!(rounds <= N, "no progress: {pending:?} still waiting");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(pending.len()));
        let runs: Vec<_> = pending
            .iter()
            .map(|&n| {
                let (home, work, barrier) = (home.clone(), works[n].clone(), barrier.clone());
                tokio::task::spawn_blocking(move || {
                    barrier.wait();
                    (n, run(git(&home, &work).args(["push", "origin", "main"])))
                })
            })
            .collect();
        let mut winners = Vec::new();
        for r in runs {
            let (n, (ok, out)) = r.await.unwrap();
            if ok {
                winners.push(n);
            } else {
                assert!(
                    out.contains("non-fast-forward")
                        || out.contains("fetch first")
                        || out.contains("failed to lock")
                        || out.contains("cannot lock ref")
                        || out.contains("failed to update ref"),
                    "worker {n} lost without a ref-lock or fast-forward refusal: {out}"
                );
            }
        }
        assert_eq!(winners.len(), 1, "round {rounds}: {winners:?}");
        pending.retain(|n| !winners.contains(n));
        for &n in &pending {
            let (ok, out) =
                run(git(&home, &works[n]).args(["pull", "-q", "--rebase", "origin", "main"]));
            assert!(ok, "worker {n} rebase: {out}");
        }
    }
    assert_eq!(rounds, N);
    // every tree landed, on one line of history, and the repository is sound
    let bare = emu.space_dir(id).unwrap();
    let git_dir = bare.to_str().unwrap();
    let (ok, files) =
        run(git(&home, &bare).args(["--git-dir", git_dir, "ls-tree", "--name-only", "main"]));
    assert!(ok);
    for n in 0..N {
        assert!(files.contains(&format!("worker-{n}.txt")), "{files}");
    }
    let (_, count) = run(git(&home, &bare).args([
        "--git-dir",
        git_dir,
        "rev-list",
        "--count",
        "--merges",
        "main",
    ]));
    assert_eq!(count.trim(), "0", "linear history");
    let (_, count) =
        run(git(&home, &bare).args(["--git-dir", git_dir, "rev-list", "--count", "main"]));
    assert_eq!(count.trim(), (N + 1).to_string());
    let (ok, out) = run(git(&home, &bare).args(["--git-dir", git_dir, "fsck", "--strict"]));
    assert!(ok, "{out}");
    let (_, reflog) =
        run(git(&home, &bare).args(["--git-dir", git_dir, "log", "-g", "--format=%H", "main"]));
    assert_eq!(
        reflog.lines().count(),
        N + 1,
        "one reflog entry per winning push: {reflog}"
    );
    assert!(!bare.join("refs/heads/main.lock").exists());
    // one new revision (one build) per winning push, none for a losing one
    assert_eq!(emu.space_starts(id), starts_before + N as u64);
    emu.shutdown().await;
}

/// `script_push_races`: the next pushes lose to another writer's real commit, and the real
/// receive-pack refuses them; a push that may not write takes no race; a client that fetches
/// and rebases then lands on top of the other writer's commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_races_make_real_pushes_lose_to_another_writers_commit() {
    let emu = common::scripted(ScriptedRunner::running()).await;
    common::create_space(&emu, "raced", false).await;
    let id = "local/raced";
    assert!(emu.script_push_races(id, 1));
    assert!(!emu.script_push_races("local/no-such-space", 1));
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let bare = emu.space_dir(id).expect("bare repo");
    let bare_git = |args: &[&str]| {
        let mut command = git(&home, &bare);
        command
            .args(["--git-dir", bare.to_str().unwrap()])
            .args(args);
        run(&mut command).1.trim().to_owned()
    };
    let commit = |work: &std::path::Path, name: &str| {
        std::fs::write(work.join(name), "mine\n").unwrap();
        assert!(run(git(&home, work).args(["add", name])).0);
        assert!(run(git(&home, work).args(["commit", "-q", "-m", name])).0);
    };

    // A read token's push is denied and takes no race.
    let ro = remote(&emu.url(), DEFAULT_READ_TOKEN, id);
    assert!(run(git(&home, tmp.path()).args(["clone", &ro, "ro"])).0);
    commit(&tmp.path().join("ro"), "ro.txt");
    let (ok, out) = run(git(&home, &tmp.path().join("ro")).args(["push", "origin", "main"]));
    assert!(!ok && out.contains("DENIED"), "{out}");

    let url = remote(&emu.url(), DEFAULT_WRITE_TOKEN, id);
    assert!(run(git(&home, tmp.path()).args(["clone", &url, "work"])).0);
    let work = tmp.path().join("work");
    commit(&work, "mine.txt");
    let before = bare_git(&["rev-parse", "main"]);
    let (ok, out) = run(git(&home, &work).args(["push", "origin", "main"]));
    assert!(!ok, "the push lost the race: {out}");
    assert!(
        out.contains("[remote rejected]") && out.contains("failed to update ref"),
        "{out}"
    );
    // `main` really moved: one commit of the other writer, with a file of its own.
    assert_eq!(bare_git(&["rev-parse", "main~1"]), before);
    assert_eq!(
        bare_git(&["log", "-1", "--format=%an", "main"]),
        "other-writer"
    );
    assert_eq!(
        bare_git(&["show", "main:other-writer/1.txt"]),
        "commit 1 of another writer"
    );

    // The race is spent: fetch, rebase, push lands on top of the other writer's commit.
    assert!(run(git(&home, &work).args(["pull", "-q", "--rebase", "origin", "main"])).0);
    let (ok, out) = run(git(&home, &work).args(["push", "origin", "main"]));
    assert!(ok, "{out}");
    assert_eq!(bare_git(&["log", "-1", "--format=%s", "main"]), "mine.txt");
    assert_eq!(
        bare_git(&["log", "-1", "--format=%an", "main~1"]),
        "other-writer"
    );
    emu.shutdown().await;
}
