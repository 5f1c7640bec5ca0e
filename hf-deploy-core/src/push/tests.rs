//! Push tests against local bare repositories (`file://`) and a small smart-HTTP server that
//! runs the real `git http-backend` and fakes the LFS batch API.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use git2::{Oid, Repository, Signature};

use super::*;

const HUB_GITATTRIBUTES: &str = "*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.onnx filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
saved_model/**/* filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
*tfevents* filter=lfs diff=lfs merge=lfs -text
";

const HUB_README: &str = "---\ntitle: Demo\nemoji: 🚀\ncolorFrom: blue\ncolorTo: green\nsdk: docker\npinned: false\n---\n\nCheck out the configuration reference at https://huggingface.co/docs/hub/spaces-config-reference\n";

fn signature(name: &str) -> Signature<'static> {
    Signature::now(name, &format!("{name}@example.com")).expect("signature")
}

/// Commit `files` (path -> content) on top of `main` of the bare repo at `path`, replacing the
/// whole tree, directly in the repository (as another pusher would).
fn commit_files(path: &Path, files: &[(&str, &[u8])], message: &str) -> Oid {
    let repo = Repository::open_bare(path).expect("open bare repo");
    let mut entries = BTreeMap::new();
    for (name, content) in files {
        let oid = repo.blob(content).expect("blob");
        entries.insert(name.to_string(), (oid, 0o100644));
    }
    let tree = git::tests_support::write_tree(&repo, &entries);
    let tree = repo.find_tree(tree).expect("tree");
    let parent = repo
        .find_reference("refs/heads/main")
        .ok()
        .and_then(|r| r.target());
    let parents: Vec<git2::Commit<'_>> = parent
        .map(|oid| repo.find_commit(oid).expect("parent"))
        .into_iter()
        .collect();
    let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    let sig = signature("someone-else");
    repo.commit(
        Some("refs/heads/main"),
        &sig,
        &sig,
        message,
        &tree,
        &parent_refs,
    )
    .expect("commit")
}

/// A bare repo shaped like a new Hub Space: `.gitattributes` and `README.md` on `main`, plus
/// `extra` files.
fn hub_space(root: &Path, extra: &[(&str, &[u8])]) -> (PathBuf, Oid) {
    let path = root.join("space.git");
    let repo = Repository::init_bare(&path).expect("init bare");
    repo.set_head("refs/heads/main").expect("HEAD");
    let mut files: Vec<(&str, &[u8])> = vec![
        (".gitattributes", HUB_GITATTRIBUTES.as_bytes()),
        ("README.md", HUB_README.as_bytes()),
    ];
    files.extend_from_slice(extra);
    let head = commit_files(&path, &files, "initial commit");
    (path, head)
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn scaffold() -> BTreeMap<String, Vec<u8>> {
    [
        ("Dockerfile", "FROM python:3.12-slim\nUSER 1000\n"),
        (
            "README.md",
            "---\ntitle: Demo\nsdk: docker\napp_port: 7860\n---\n",
        ),
        (
            "app/main.py",
            "from fastapi import FastAPI\napp = FastAPI()\n",
        ),
        ("requirements.txt", "fastapi\n"),
    ]
    .into_iter()
    .map(|(path, content)| (path.to_string(), content.as_bytes().to_vec()))
    .collect()
}

/// The tree as the push takes it: these contents are in memory, as generated files are.
fn contents(files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, FileContent> {
    files
        .into_iter()
        .map(|(path, bytes)| (path, FileContent::from(bytes)))
        .collect()
}

fn request(url: &str, files: BTreeMap<String, Vec<u8>>) -> PushRequest {
    PushRequest {
        remote_url: url.to_string(),
        token: None,
        files: contents(files),
        executable: Default::default(),
        keep: Vec::new(),
        message: "Deploy from abc1234".into(),
        author: (
            "hf-deploy".into(),
            "hf-deploy@users.noreply.huggingface.co".into(),
        ),
        max_race_retries: 3,
        retry: fast_retry(),
        dry_run: false,
        head_hint: None,
        http: None,
    }
}

/// The git and LFS retry schedule with delays of a few milliseconds.
fn fast_retry() -> crate::wait::RetryPolicy {
    crate::wait::RetryPolicy {
        base_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(10),
        ..crate::wait::RetryPolicy::git()
    }
}

fn no_lfs(objects: &[LfsObject]) -> Result<()> {
    panic!("no LFS upload expected, got {objects:?}");
}

fn head(path: &Path) -> Oid {
    let repo = Repository::open_bare(path).expect("open");
    repo.find_reference("refs/heads/main")
        .expect("main")
        .target()
        .expect("direct ref")
}

/// Path -> content of the tree of `commit`.
fn tree_files(path: &Path, commit: Oid) -> BTreeMap<String, Vec<u8>> {
    let repo = Repository::open_bare(path).expect("open");
    let tree = repo
        .find_commit(commit)
        .expect("commit")
        .tree()
        .expect("tree");
    let mut files = BTreeMap::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            let blob = repo.find_blob(entry.id()).expect("blob");
            files.insert(
                format!("{root}{}", entry.name().unwrap_or_default()),
                blob.content().to_vec(),
            );
        }
        git2::TreeWalkResult::Ok
    })
    .expect("walk");
    files
}

fn parents(path: &Path, commit: Oid) -> Vec<Oid> {
    let repo = Repository::open_bare(path).expect("open");
    repo.find_commit(commit)
        .expect("commit")
        .parent_ids()
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ----- local bare repositories ----------------------------------------------------------------

#[test]
fn push_first_push_mirrors_the_scaffold_and_merges_gitattributes() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, initial) = hub_space(root.path(), &[]);
    let mut files = scaffold();
    files.insert(
        ".gitattributes".into(),
        b"*.bin filter=lfs diff=lfs merge=lfs -text\n*.pdf filter=lfs diff=lfs merge=lfs -text\n"
            .to_vec(),
    );
    let outcome = push_blocking(&request(&file_url(&space), files), &mut no_lfs).expect("push");

    assert!(outcome.changed);
    assert_eq!(outcome.attempts, 1);
    assert_eq!(outcome.commit_sha, head(&space).to_string());
    let commit = head(&space);
    assert_eq!(parents(&space, commit), vec![initial]);
    let repo = Repository::open_bare(&space).expect("open");
    let message = repo
        .find_commit(commit)
        .expect("commit")
        .message()
        .unwrap_or_default()
        .to_string();
    assert_eq!(message, "Deploy from abc1234");
    assert_eq!(
        outcome.added,
        vec!["Dockerfile", "app/main.py", "requirements.txt"]
    );
    assert_eq!(outcome.modified, vec![".gitattributes", "README.md"]);
    assert!(outcome.removed.is_empty());

    let tree = tree_files(&space, commit);
    assert_eq!(
        tree.keys().map(String::as_str).collect::<Vec<_>>(),
        vec![
            ".gitattributes",
            "Dockerfile",
            "README.md",
            "app/main.py",
            "requirements.txt"
        ]
    );
    assert_eq!(tree["app/main.py"], scaffold()["app/main.py"]);
    let attributes = text(&tree[".gitattributes"]);
    assert!(
        attributes.starts_with(HUB_GITATTRIBUTES),
        "Hub defaults kept first:\n{attributes}"
    );
    assert!(
        attributes.ends_with("*.pdf filter=lfs diff=lfs merge=lfs -text\n"),
        "{attributes}"
    );
    assert_eq!(
        attributes.matches("*.bin filter=lfs").count(),
        1,
        "{attributes}"
    );
}

#[test]
fn push_same_files_twice_makes_no_commit() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, _) = hub_space(root.path(), &[]);
    let first = push_blocking(&request(&file_url(&space), scaffold()), &mut no_lfs).expect("push");
    let head_after_first = head(&space);

    let second = push_blocking(&request(&file_url(&space), scaffold()), &mut no_lfs).expect("push");
    assert!(!second.changed);
    assert_eq!(second.commit_sha, first.commit_sha);
    assert_eq!(head(&space), head_after_first);
    assert!(second.added.is_empty() && second.modified.is_empty() && second.removed.is_empty());
}

#[test]
fn push_removes_files_no_longer_produced_except_kept_ones() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, _) = hub_space(
        root.path(),
        &[
            ("old.txt", b"stale"),
            ("data/cache.db", b"keep me"),
            ("app/legacy.py", b"x = 1\n"),
        ],
    );
    let mut req = request(&file_url(&space), scaffold());
    req.keep = vec!["data/**".into()];
    let outcome = push_blocking(&req, &mut no_lfs).expect("push");
    assert_eq!(outcome.removed, vec!["app/legacy.py", "old.txt"]);
    let tree = tree_files(&space, head(&space));
    assert!(!tree.contains_key("old.txt") && !tree.contains_key("app/legacy.py"));
    assert_eq!(tree["data/cache.db"], b"keep me");
    assert_eq!(
        text(&tree[".gitattributes"]),
        HUB_GITATTRIBUTES,
        "never dropped"
    );
}

#[test]
fn push_dry_run_lists_the_plan_and_leaves_the_remote_alone() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, initial) = hub_space(root.path(), &[("old.txt", b"stale")]);
    let mut req = request(&file_url(&space), scaffold());
    req.dry_run = true;
    let outcome = push_blocking(&req, &mut no_lfs).expect("dry run");
    assert!(outcome.changed);
    assert_eq!(outcome.commit_sha, initial.to_string());
    assert_eq!(
        outcome.added,
        vec!["Dockerfile", "app/main.py", "requirements.txt"]
    );
    assert_eq!(outcome.modified, vec!["README.md"]);
    assert_eq!(outcome.removed, vec!["old.txt"]);
    assert_eq!(head(&space), initial);
    let repo = Repository::open_bare(&space).expect("open");
    let mut walk = repo.revwalk().expect("revwalk");
    walk.push(initial).expect("push");
    assert_eq!(walk.count(), 1, "no commit was added");
}

#[test]
fn push_dry_run_lists_lfs_files_without_uploading() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, initial) = hub_space(root.path(), &[]);
    let mut files = scaffold();
    files.insert("model.bin".into(), b"weights".to_vec());
    let mut req = request(&file_url(&space), files);
    req.dry_run = true;
    let outcome = push_blocking(&req, &mut no_lfs).expect("dry run");
    assert_eq!(outcome.lfs, vec!["model.bin"]);
    assert_eq!(head(&space), initial);
}

#[test]
fn push_into_an_empty_space_makes_a_root_commit() {
    let root = tempfile::tempdir().expect("tempdir");
    let space = root.path().join("empty.git");
    Repository::init_bare(&space).expect("init");
    let outcome =
        push_blocking(&request(&file_url(&space), scaffold()), &mut no_lfs).expect("push");
    assert!(outcome.changed);
    let commit = head(&space);
    assert_eq!(outcome.commit_sha, commit.to_string());
    assert!(parents(&space, commit).is_empty());
    assert_eq!(tree_files(&space, commit), scaffold());
}

#[test]
fn push_race_rebuilds_on_the_moved_head_and_keeps_history_linear() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, initial) = hub_space(root.path(), &[]);
    let mut interloper = None;
    let mut hook = |attempt: u32| {
        if attempt == 1 {
            interloper = Some(commit_files(
                &space,
                &[
                    (".gitattributes", HUB_GITATTRIBUTES.as_bytes()),
                    ("README.md", b"edited on the Hub\n"),
                ],
                "Update README.md",
            ));
        }
        Ok(())
    };
    let outcome = push_blocking_with(
        &request(&file_url(&space), scaffold()),
        None,
        &mut no_lfs,
        &mut hook,
    )
    .expect("push");
    let interloper = interloper.expect("hook ran");
    assert_eq!(outcome.attempts, 2);
    let commit = head(&space);
    assert_eq!(outcome.commit_sha, commit.to_string());
    assert_eq!(
        parents(&space, commit),
        vec![interloper],
        "built on the moved head"
    );
    assert_eq!(parents(&space, interloper), vec![initial], "no commit lost");
    assert_eq!(outcome.modified, vec!["README.md"]);
    assert_eq!(
        tree_files(&space, commit)["README.md"],
        scaffold()["README.md"]
    );
}

#[test]
fn push_race_gives_up_after_the_retries() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, _) = hub_space(root.path(), &[]);
    let mut count = 0;
    let mut hook = |attempt: u32| {
        count += 1;
        let note = format!("edit {attempt}");
        commit_files(&space, &[("README.md", note.as_bytes())], &note);
        Ok(())
    };
    let mut req = request(&file_url(&space), scaffold());
    req.max_race_retries = 1;
    let error = push_blocking_with(&req, None, &mut no_lfs, &mut hook).expect_err("race");
    assert!(
        matches!(error, Error::PushRace { attempts: 2 }),
        "{error:?}"
    );
    assert_eq!(count, 2);
}

#[tokio::test]
async fn push_async_race_through_spawn_blocking() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, initial) = hub_space(root.path(), &[]);
    let space_for_hook = space.clone();
    let outcome = push_with_hook(request(&file_url(&space), scaffold()), move |attempt| {
        if attempt == 1 {
            commit_files(&space_for_hook, &[("README.md", b"moved")], "move main");
        }
        Ok(())
    })
    .await
    .expect("push");
    assert_eq!(outcome.attempts, 2);
    let commit = head(&space);
    let interloper = parents(&space, commit)[0];
    assert_eq!(parents(&space, interloper), vec![initial]);
}

#[test]
fn push_binary_and_lfs_pattern_files_become_pointers() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, _) = hub_space(root.path(), &[]);
    let mut files = scaffold();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    files.insert("static/logo.png".into(), png.clone());
    files.insert("models/model.bin".into(), b"plain text but *.bin".to_vec());
    let mut uploads: Vec<LfsObject> = Vec::new();
    let mut record = |objects: &[LfsObject]| -> Result<()> {
        uploads.extend_from_slice(objects);
        Ok(())
    };
    let outcome =
        push_blocking(&request(&file_url(&space), files.clone()), &mut record).expect("push");
    assert_eq!(outcome.lfs, vec!["models/model.bin", "static/logo.png"]);
    assert_eq!(
        uploads.iter().map(|o| o.path.as_str()).collect::<Vec<_>>(),
        outcome.lfs
    );

    let tree = tree_files(&space, head(&space));
    let png_oid = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&png));
    assert_eq!(
        text(&tree["static/logo.png"]),
        format!(
            "version https://git-lfs.github.com/spec/v1\noid sha256:{png_oid}\nsize {}\n",
            png.len()
        )
    );
    assert_eq!(uploads[1].oid, png_oid);
    assert_eq!(uploads[1].size, png.len() as u64);
    assert_eq!(uploads[1].content.read().unwrap().as_ref(), &png[..]);
    assert!(text(&tree["models/model.bin"]).contains("size 20\n"));
    let attributes = text(&tree[".gitattributes"]);
    assert!(attributes.starts_with(HUB_GITATTRIBUTES));
    assert!(
        attributes.contains("\n/static/logo.png filter=lfs diff=lfs merge=lfs -text\n"),
        "{attributes}"
    );
    assert!(
        !attributes.contains("model.bin"),
        "covered by `*.bin`: {attributes}"
    );

    // Same files again: nothing to upload, nothing to commit.
    let again =
        push_blocking(&request(&file_url(&space), files), &mut no_lfs).expect("second push");
    assert!(!again.changed);
}

#[test]
fn push_refuses_bad_paths_and_credentials_in_the_url() {
    for path in ["/abs", "a/../b", ".git/config", "a//b", "dir\\file"] {
        let mut files = scaffold();
        files.insert(path.into(), b"x".to_vec());
        let error =
            push_blocking(&request("file:///nonexistent", files), &mut no_lfs).expect_err(path);
        assert!(
            matches!(error, Error::InvalidInput { .. }),
            "{path}: {error:?}"
        );
        assert!(error.to_string().contains(path), "{error}");
    }
    let mut bad_keep = request("file:///nonexistent", scaffold());
    bad_keep.keep = vec!["data/[".into()];
    let error = push_blocking(&bad_keep, &mut no_lfs).expect_err("bad keep glob");
    assert!(
        matches!(
            &error,
            Error::InvalidInput {
                input: crate::Field::Keep,
                ..
            }
        ),
        "{error:?}"
    );
    let error = push_blocking(
        &request("https://hf_user:hf_secret@hf.co/spaces/a/b", scaffold()),
        &mut no_lfs,
    )
    .expect_err("credentials in URL");
    assert!(
        !format!("{error} {error:?}").contains("hf_secret"),
        "{error:?}"
    );
}

#[test]
fn push_refuses_a_file_that_is_also_a_folder() {
    let mut files = scaffold();
    files.insert("app".into(), b"x".to_vec());
    let root = tempfile::tempdir().expect("tempdir");
    let (space, _) = hub_space(root.path(), &[]);
    let error =
        push_blocking(&request(&file_url(&space), files), &mut no_lfs).expect_err("conflict");
    assert!(error.to_string().contains("`app"), "{error}");
}

// ----- smart HTTP: git http-backend + fake LFS --------------------------------------------

const TOKEN: &str = "hf_test_token_123";

#[derive(Default)]
struct Recorded {
    git_requests: Vec<(String, bool)>,
    batch_requests: Vec<(BTreeMap<String, String>, serde_json::Value)>,
    stored: BTreeMap<String, Vec<u8>>,
    parts: BTreeMap<(String, usize), Vec<u8>>,
    completions: Vec<serde_json::Value>,
    verified: Vec<String>,
    /// Basic uploads to answer with 503 before accepting one.
    put_failures: u32,
    put_attempts: u32,
    /// The transfer the batch answer picks (`basic` when unset).
    transfer: Option<String>,
}

#[derive(Clone)]
struct FakeHub {
    root: PathBuf,
    base: String,
    multipart_chunk: Option<usize>,
    refuse_oid: Option<String>,
    recorded: Arc<Mutex<Recorded>>,
}

impl FakeHub {
    fn recorded(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.recorded.lock().expect("lock")
    }
}

fn basic(token: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("hf_user:{token}"))
    )
}

fn git_binary() -> &'static str {
    let found = std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`git` (for `git http-backend`) is not on PATH: run `scripts/bootstrap.sh`"
    );
    "git"
}

/// Start the fake Hub over `root` (which holds `spaces/ns/demo` bare repos).
async fn start_hub(
    root: &Path,
    multipart_chunk: Option<usize>,
    refuse_oid: Option<String>,
) -> FakeHub {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let hub = FakeHub {
        root: root.to_path_buf(),
        base: format!("http://{address}"),
        multipart_chunk,
        refuse_oid,
        recorded: Arc::default(),
    };
    let app = axum::Router::new().fallback(handle).with_state(hub.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    hub
}

type Reply = (axum::http::StatusCode, axum::http::HeaderMap, Vec<u8>);

fn reply(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Reply {
    let mut map = axum::http::HeaderMap::new();
    for (name, value) in headers {
        map.append(
            axum::http::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            axum::http::HeaderValue::from_str(value).expect("header value"),
        );
    }
    (
        axum::http::StatusCode::from_u16(status).expect("status"),
        map,
        body.into(),
    )
}

async fn handle(
    axum::extract::State(hub): axum::extract::State<FakeHub>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Reply {
    let path = uri.path().to_string();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    if path.ends_with(".git/info/lfs/objects/batch") {
        return batch(&hub, &headers, &body);
    }
    if let Some(oid) = path.strip_prefix("/lfs/basic/") {
        if header("x-upload-token") != "signed" {
            return reply(403, &[], "missing action header");
        }
        {
            let mut recorded = hub.recorded();
            recorded.put_attempts += 1;
            if recorded.put_failures > 0 {
                recorded.put_failures -= 1;
                return reply(503, &[], "storage busy");
            }
        }
        hub.recorded().stored.insert(oid.to_string(), body.to_vec());
        return reply(200, &[], "");
    }
    if let Some(rest) = path.strip_prefix("/lfs/part/") {
        let (oid, number) = rest.split_once('/').expect("part url");
        let number: usize = number.parse().expect("part number");
        hub.recorded()
            .parts
            .insert((oid.to_string(), number), body.to_vec());
        return reply(200, &[("etag", &format!("\"etag-{number}\""))], "");
    }
    if let Some(oid) = path.strip_prefix("/lfs/complete/") {
        let completion: serde_json::Value = serde_json::from_slice(&body).expect("completion json");
        let mut recorded = hub.recorded();
        let content: Vec<u8> = recorded
            .parts
            .iter()
            .filter(|((o, _), _)| o == oid)
            .flat_map(|(_, bytes)| bytes.clone())
            .collect();
        recorded.stored.insert(oid.to_string(), content);
        recorded.completions.push(completion);
        return reply(200, &[], "{}");
    }
    if let Some(oid) = path.strip_prefix("/lfs/verify/") {
        if header("authorization") != basic(TOKEN) {
            return reply(401, &[], "verify needs auth");
        }
        hub.recorded().verified.push(oid.to_string());
        return reply(200, &[], "{}");
    }
    git_http_backend(&hub, &method, &uri, &headers, body).await
}

fn batch(hub: &FakeHub, headers: &axum::http::HeaderMap, body: &[u8]) -> Reply {
    let header_map: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    if header_map.get("authorization") != Some(&basic(TOKEN)) {
        return reply(
            401,
            &[(
                "x-error-message",
                "Invalid credentials in Authorization header",
            )],
            "",
        );
    }
    let request: serde_json::Value = serde_json::from_slice(body).expect("batch json");
    hub.recorded()
        .batch_requests
        .push((header_map, request.clone()));
    let objects: Vec<serde_json::Value> = request["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|object| {
            let oid = object["oid"].as_str().expect("oid").to_string();
            let size = object["size"].as_u64().expect("size");
            if hub.refuse_oid.as_deref() == Some(oid.as_str()) {
                return serde_json::json!({"oid": oid, "size": size, "error": {"code": 422, "message": "Object too large"}});
            }
            if hub.recorded().stored.contains_key(&oid) {
                return serde_json::json!({"oid": oid, "size": size});
            }
            let verify = serde_json::json!({"href": format!("{}/lfs/verify/{oid}", hub.base)});
            match hub.multipart_chunk {
                Some(chunk) if size as usize > chunk => {
                    let mut header = serde_json::Map::new();
                    header.insert("chunk_size".into(), chunk.to_string().into());
                    for n in 1..=(size as usize).div_ceil(chunk) {
                        header.insert(format!("{n:05}"), format!("{}/lfs/part/{oid}/{n}", hub.base).into());
                    }
                    serde_json::json!({"oid": oid, "size": size, "actions": {
                        "upload": {"href": format!("{}/lfs/complete/{oid}", hub.base), "header": header},
                        "verify": verify}})
                }
                _ => serde_json::json!({"oid": oid, "size": size, "authenticated": true, "actions": {
                    "upload": {"href": format!("{}/lfs/basic/{oid}?X-Amz-Signature=abc", hub.base),
                               "header": {"x-upload-token": "signed"}},
                    "verify": verify}}),
            }
        })
        .collect();
    let transfer = hub
        .recorded()
        .transfer
        .clone()
        .unwrap_or_else(|| "basic".into());
    let answer = serde_json::json!({"transfer": transfer, "objects": objects});
    reply(
        200,
        &[("content-type", lfs::LFS_MEDIA_TYPE)],
        answer.to_string(),
    )
}

/// Run `git http-backend` as a CGI for one request. Requires the token for every git request.
async fn git_http_backend(
    hub: &FakeHub,
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    headers: &axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Reply {
    let authorized =
        headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(basic(TOKEN).as_str());
    hub.recorded()
        .git_requests
        .push((format!("{method} {uri}"), authorized));
    if !authorized {
        return reply(
            401,
            &[(
                "www-authenticate",
                "Basic realm=\"Authentication required\"",
            )],
            "",
        );
    }
    let mut command = tokio::process::Command::new(git_binary());
    command
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", &hub.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", uri.path())
        .env("QUERY_STRING", uri.query().unwrap_or_default())
        .env("REQUEST_METHOD", method.as_str())
        .env(
            "CONTENT_TYPE",
            headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
        )
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_USER", "hf_user")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", &hub.root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(encoding) = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
    {
        command.env("HTTP_CONTENT_ENCODING", encoding);
    }
    if let Some(protocol) = headers.get("git-protocol").and_then(|v| v.to_str().ok()) {
        command.env("GIT_PROTOCOL", protocol);
    }
    let mut child = command.spawn().expect("spawn git http-backend");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt as _;
        let _ = stdin.write_all(&body).await;
    });
    let output = child
        .wait_with_output()
        .await
        .expect("git http-backend output");
    let _ = writer.await;
    let raw = output.stdout;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, 4));
    let split = split.or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|p| (p, 2)));
    let Some((end, skip)) = split else {
        return reply(
            500,
            &[],
            format!(
                "bad CGI output: {}",
                String::from_utf8_lossy(&output.stderr)
            ),
        );
    };
    let mut status = 200;
    let mut response_headers = Vec::new();
    for line in String::from_utf8_lossy(&raw[..end]).lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().to_string();
        if name.eq_ignore_ascii_case("status") {
            status = value
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(500);
        } else {
            response_headers.push((name.to_string(), value));
        }
    }
    let header_refs: Vec<(&str, &str)> = response_headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    reply(status, &header_refs, raw[end + skip..].to_vec())
}

/// A Hub-like bare repo at `root/spaces/ns/demo` with `history` commits on `main`.
fn http_space(root: &Path, history: usize) -> (PathBuf, Oid) {
    let path = root.join("spaces/ns/demo");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let repo = Repository::init_bare(&path).expect("init bare");
    repo.set_head("refs/heads/main").expect("HEAD");
    let mut last = commit_files(
        &path,
        &[
            (".gitattributes", HUB_GITATTRIBUTES.as_bytes()),
            ("README.md", HUB_README.as_bytes()),
        ],
        "initial commit",
    );
    for n in 1..history {
        let note = format!("{HUB_README}\nrevision {n}\n");
        last = commit_files(
            &path,
            &[
                (".gitattributes", HUB_GITATTRIBUTES.as_bytes()),
                ("README.md", note.as_bytes()),
            ],
            "Update README.md",
        );
    }
    (path, last)
}

fn http_request(hub: &FakeHub, token: &str, files: BTreeMap<String, Vec<u8>>) -> PushRequest {
    let mut req = request(&format!("{}/spaces/ns/demo", hub.base), files);
    req.token = Some(SecretString::new(token));
    req
}

#[tokio::test]
async fn push_over_http_fetches_shallow_and_pushes_with_the_token() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, remote_head) = http_space(root.path(), 3);
    let hub = start_hub(root.path(), None, None).await;

    // The fetch is shallow: only the head commit comes over.
    let url = format!("{}/spaces/ns/demo", hub.base);
    let token = Some(SecretString::new(TOKEN));
    let fetched = tokio::task::spawn_blocking(move || {
        let mut session = PushSession::open(&url, token).expect("session");
        let head = session.fetch().expect("fetch");
        let repo = session.repository();
        let commit = repo.find_commit(head.expect("head")).expect("commit");
        // The commit names its real parent, but the parent object was not fetched.
        let header = commit.raw_header().unwrap_or_default().to_string();
        let parent = header
            .lines()
            .find_map(|l| l.strip_prefix("parent "))
            .map(|p| Oid::from_str(p).expect("oid"));
        let parent_present = parent.map(|p| repo.odb().expect("odb").exists(p));
        (head, repo.is_shallow(), parent_present)
    })
    .await
    .expect("join");
    assert_eq!(fetched.0, Some(remote_head));
    assert!(fetched.1, "the temporary repository is shallow");
    assert_eq!(fetched.2, Some(false), "the parent commit was not fetched");

    let outcome = push(http_request(&hub, TOKEN, scaffold()))
        .await
        .expect("push");
    assert!(outcome.changed);
    let commit = head(&space);
    assert_eq!(outcome.commit_sha, commit.to_string());
    assert_eq!(parents(&space, commit), vec![remote_head]);
    assert_eq!(
        tree_files(&space, commit)["Dockerfile"],
        scaffold()["Dockerfile"]
    );

    let again = push(http_request(&hub, TOKEN, scaffold()))
        .await
        .expect("second push");
    assert!(!again.changed);
    assert_eq!(head(&space), commit);
}

#[tokio::test]
async fn push_over_http_with_a_bad_token_fails_fast_as_invalid_token() {
    let root = tempfile::tempdir().expect("tempdir");
    http_space(root.path(), 1);
    let hub = start_hub(root.path(), None, None).await;
    let error = push(http_request(&hub, "hf_wrong_token_456", scaffold()))
        .await
        .expect_err("bad token");
    assert!(matches!(error, Error::InvalidToken { .. }), "{error:?}");
    let shown = format!("{error} {error:?} {}", error.hint().unwrap_or_default());
    assert!(!shown.contains("hf_wrong_token_456"), "{shown}");
    let requests = hub.recorded().git_requests.clone();
    assert!(
        requests.len() <= 3,
        "gave up after one refused attempt: {requests:?}"
    );

    let mut no_token = http_request(&hub, TOKEN, scaffold());
    no_token.token = None;
    let error = push(no_token).await.expect_err("no token");
    assert!(matches!(error, Error::InvalidToken { .. }), "{error:?}");
}

#[tokio::test]
async fn push_over_http_reports_a_pre_receive_rejection_with_offending_files() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, initial) = http_space(root.path(), 1);
    let hook = space.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\ncat >/dev/null\ncat >&2 <<'EOF'\n-------------------------------------------------------------------------\nYour push was rejected because it contains files larger than 10 MiB.\nPlease use https://git-lfs.github.com/ to store large files.\nSee also: https://hf.co/docs/hub/repositories-getting-started#terminal\n\nOffending files:\n  - app/data/huge.csv (ref: refs/heads/main)\n  - Dockerfile (ref: refs/heads/main)\n-------------------------------------------------------------------------\nEOF\nexit 1\n",
    )
    .expect("hook");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let hub = start_hub(root.path(), None, None).await;
    let error = push(http_request(&hub, TOKEN, scaffold()))
        .await
        .expect_err("rejected");
    let Error::PushRejected {
        reason,
        offending_files,
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(
        offending_files
            .iter()
            .map(crate::RemoteText::as_data)
            .collect::<Vec<_>>(),
        ["app/data/huge.csv", "Dockerfile"]
    );
    let reason = reason.as_data();
    assert!(reason.contains("larger than 10 MiB"), "{reason}");
    assert!(reason.contains("pre-receive hook declined"), "{reason}");
    assert!(error.hint().is_some_and(|h| h.contains("LFS")));
    assert_eq!(head(&space), initial);
}

#[tokio::test]
async fn a_batch_answer_that_picks_a_transfer_we_do_not_speak_is_an_error_naming_it() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, initial) = http_space(root.path(), 1);
    let hub = start_hub(root.path(), None, None).await;
    hub.recorded().transfer = Some("xet".into());
    let mut files = scaffold();
    files.insert("static/icon.ico".into(), b"\0\x01\x02binary!".to_vec());
    let error = push(http_request(&hub, TOKEN, files))
        .await
        .expect_err("xet is not spoken");
    let text = error.to_string();
    assert!(text.contains("`xet`"), "{text}");
    assert!(
        text.contains("`basic`") && text.contains("`multipart`"),
        "{text}"
    );
    assert!(hub.recorded().stored.is_empty(), "nothing uploaded");
    assert_eq!(head(&space), initial, "nothing pushed");
}

#[tokio::test]
async fn push_over_http_uploads_lfs_objects_basic_and_multipart() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, _) = http_space(root.path(), 1);
    let hub = start_hub(root.path(), Some(16), None).await;
    let mut files = scaffold();
    let small_binary = b"\0\x01\x02binary!".to_vec(); // 10 bytes: one basic PUT
    let big_bin: Vec<u8> = (0..40u8).collect(); // 40 bytes, `*.bin`: 3 parts of 16
    files.insert("static/icon.ico".into(), small_binary.clone());
    files.insert("weights/model.bin".into(), big_bin.clone());
    let outcome = push(http_request(&hub, TOKEN, files.clone()))
        .await
        .expect("push");
    assert_eq!(outcome.lfs, vec!["static/icon.ico", "weights/model.bin"]);

    let oid = |bytes: &[u8]| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
    let (icon_oid, bin_oid) = (oid(&small_binary), oid(&big_bin));
    {
        let recorded = hub.recorded();
        assert_eq!(recorded.batch_requests.len(), 1);
        let (headers, body) = &recorded.batch_requests[0];
        assert_eq!(headers["content-type"], "application/vnd.git-lfs+json");
        assert_eq!(headers["accept"], "application/vnd.git-lfs+json");
        assert_eq!(
            body,
            &serde_json::json!({"operation": "upload", "transfers": ["basic", "multipart"],
                "objects": [{"oid": icon_oid, "size": 10}, {"oid": bin_oid, "size": 40}],
                "hash_algo": "sha256", "ref": {"name": "main"}})
        );
        assert_eq!(recorded.stored[&icon_oid], small_binary);
        assert_eq!(recorded.stored[&bin_oid], big_bin);
        assert_eq!(
            recorded.completions,
            vec![serde_json::json!({"oid": bin_oid, "parts": [
                {"partNumber": 1, "etag": "\"etag-1\""}, {"partNumber": 2, "etag": "\"etag-2\""},
                {"partNumber": 3, "etag": "\"etag-3\""}]})]
        );
        assert_eq!(recorded.verified, vec![icon_oid.clone(), bin_oid.clone()]);
    }
    let tree = tree_files(&space, head(&space));
    assert_eq!(
        text(&tree["weights/model.bin"]),
        format!("version https://git-lfs.github.com/spec/v1\noid sha256:{bin_oid}\nsize 40\n")
    );
    assert!(text(&tree["static/icon.ico"]).contains(&format!("oid sha256:{icon_oid}\n")));
    assert!(
        text(&tree[".gitattributes"])
            .contains("/static/icon.ico filter=lfs diff=lfs merge=lfs -text")
    );

    // A changed scaffold with the same LFS objects: the batch answers "already stored".
    files.insert("app/extra.py".into(), b"x = 1\n".to_vec());
    let outcome = push(http_request(&hub, TOKEN, files))
        .await
        .expect("push again");
    assert!(outcome.changed);
    let recorded = hub.recorded();
    assert_eq!(recorded.batch_requests.len(), 2);
    assert_eq!(
        recorded.verified.len(),
        2,
        "stored objects are not uploaded or verified again"
    );
}

#[tokio::test]
async fn push_lfs_object_error_names_the_file_and_pushes_nothing() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, initial) = http_space(root.path(), 1);
    let content = b"\0refused".to_vec();
    let oid = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&content));
    let hub = start_hub(root.path(), None, Some(oid)).await;
    let mut files = scaffold();
    files.insert("static/refused.dat".into(), content);
    let error = push(http_request(&hub, TOKEN, files))
        .await
        .expect_err("refused object");
    let shown = error.to_string();
    assert!(shown.contains("`static/refused.dat`"), "{shown}");
    assert_eq!(error.http_context().map(|c| c.status), Some(422));
    assert_eq!(head(&space), initial);
}

#[tokio::test]
async fn push_lfs_batch_with_a_bad_token_is_invalid_token() {
    let root = tempfile::tempdir().expect("tempdir");
    http_space(root.path(), 1);
    let hub = start_hub(root.path(), None, None).await;
    let url = lfs::batch_url(&format!("{}/spaces/ns/demo", hub.base));
    let object = LfsObject::new("a.bin", bytes::Bytes::from_static(b"abc"));
    let client = reqwest::Client::new();
    let error = lfs::upload(
        &client,
        &url,
        Some(&SecretString::new("hf_nope_789")),
        &[object],
        &fast_retry(),
    )
    .await
    .expect_err("401");
    assert!(matches!(error, Error::InvalidToken { .. }), "{error:?}");
    assert!(!format!("{error:?}").contains("hf_nope_789"));
}

#[tokio::test]
async fn push_over_http_into_an_empty_space_makes_a_root_commit() {
    let root = tempfile::tempdir().expect("tempdir");
    let space = root.path().join("spaces/ns/demo");
    std::fs::create_dir_all(&space).expect("mkdir");
    Repository::init_bare(&space).expect("init");
    let hub = start_hub(root.path(), None, None).await;
    let request = http_request(&hub, TOKEN, scaffold());
    let debug = format!("{request:?}");
    assert!(
        !debug.contains(TOKEN) && debug.contains("\"Dockerfile\": 32"),
        "{debug}"
    );
    let outcome = push(request).await.expect("push");
    let commit = head(&space);
    assert_eq!(outcome.commit_sha, commit.to_string());
    assert!(parents(&space, commit).is_empty());
    assert_eq!(tree_files(&space, commit), scaffold());
}

#[tokio::test]
async fn push_lfs_upload_retries_a_transient_storage_error() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, initial) = http_space(root.path(), 1);
    let hub = start_hub(root.path(), None, None).await;
    hub.recorded().put_failures = 1;
    let mut files = scaffold();
    files.insert("static/logo.png".into(), b"\x89PNG\0\0".to_vec());
    let outcome = push(http_request(&hub, TOKEN, files.clone()))
        .await
        .expect("push after a retry");
    assert_eq!(outcome.lfs, vec!["static/logo.png"]);
    assert_eq!(hub.recorded().put_attempts, 2);
    assert_ne!(head(&space), initial);

    // Storage down for good: the push stops before any commit reaches the Space.
    let root = tempfile::tempdir().expect("tempdir");
    let (space, initial) = http_space(root.path(), 1);
    let hub = start_hub(root.path(), None, None).await;
    hub.recorded().put_failures = 10;
    let error = push(http_request(&hub, TOKEN, files))
        .await
        .expect_err("storage down");
    assert!(
        matches!(error, Error::Server { attempts: 3, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("`static/logo.png`"), "{error}");
    let url = error
        .http_context()
        .map(|c| c.url.clone())
        .unwrap_or_default();
    assert!(
        !url.contains("X-Amz-Signature"),
        "signed query kept out of messages: {url}"
    );
    assert_eq!(head(&space), initial);
}

#[tokio::test]
async fn push_to_a_missing_space_is_a_git_error_naming_the_url() {
    let root = tempfile::tempdir().expect("tempdir");
    let missing = root.path().join("nope.git");
    let error =
        push_blocking(&request(&file_url(&missing), scaffold()), &mut no_lfs).expect_err("missing");
    assert!(matches!(error, Error::Git { .. }), "{error:?}");
    assert!(error.to_string().contains("nope.git"), "{error}");

    let hub = start_hub(root.path(), None, None).await;
    let error = push(http_request(&hub, TOKEN, scaffold()))
        .await
        .expect_err("404");
    assert!(matches!(error, Error::Git { .. }), "{error:?}");
    assert!(error.to_string().contains("/spaces/ns/demo"), "{error}");
}

#[tokio::test]
async fn push_over_http_race_refetches_shallow_and_retries() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, initial) = http_space(root.path(), 2);
    let hub = start_hub(root.path(), None, None).await;
    let space_for_hook = space.clone();
    let outcome = push_with_hook(http_request(&hub, TOKEN, scaffold()), move |attempt| {
        if attempt == 1 {
            commit_files(
                &space_for_hook,
                &[
                    (".gitattributes", HUB_GITATTRIBUTES.as_bytes()),
                    ("README.md", b"edited on the Hub\n"),
                ],
                "Update README.md",
            );
        }
        Ok(())
    })
    .await
    .expect("push");
    assert_eq!(outcome.attempts, 2);
    let commit = head(&space);
    assert_eq!(outcome.commit_sha, commit.to_string());
    let interloper = parents(&space, commit)[0];
    assert_eq!(
        parents(&space, interloper),
        vec![initial],
        "no commit lost, history linear"
    );
    assert_eq!(tree_files(&space, commit), {
        let mut expected = scaffold();
        expected.insert(
            ".gitattributes".into(),
            HUB_GITATTRIBUTES.as_bytes().to_vec(),
        );
        expected
    });
}

// ----- source files streamed from disk ----------------------------------------------------

/// Writes `files` under `dir` and returns them as source contents (read when pushed).
fn source_files(dir: &Path, files: &[(&str, &[u8])]) -> BTreeMap<String, FileContent> {
    files
        .iter()
        .map(|(path, bytes)| {
            let on_disk = dir.join(path);
            std::fs::create_dir_all(on_disk.parent().expect("parent")).expect("mkdir");
            std::fs::write(&on_disk, bytes).expect("write");
            let content = FileContent::source(&on_disk).expect("source");
            ((*path).to_string(), content)
        })
        .collect()
}

#[tokio::test]
async fn push_streams_source_files_to_git_and_lfs_byte_exact() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, _) = http_space(root.path(), 1);
    // Parts of 1 MiB (under axum's body limit): the 11 MiB file goes up in eleven ranged reads
    // of the source file.
    let hub = start_hub(root.path(), Some(1 << 20), None).await;
    let large: Vec<u8> = (0..11 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let icon = b"\0\x01\x02binary!".to_vec();
    let data = b"plain text read from the source\n".to_vec();
    let source = tempfile::tempdir().expect("source");
    let mut request = http_request(&hub, TOKEN, scaffold());
    request.files.extend(source_files(
        source.path(),
        &[
            ("data/big.dat", &large),
            ("static/icon.ico", &icon),
            ("app/data.txt", &data),
        ],
    ));
    assert!(request.files["data/big.dat"].in_memory().is_none());
    let outcome = push(request).await.expect("push");
    assert_eq!(outcome.lfs, vec!["data/big.dat", "static/icon.ico"]);

    let oid = |bytes: &[u8]| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
    {
        let recorded = hub.recorded();
        assert!(
            recorded.stored[&oid(&large)] == large,
            "the large file arrives byte-exact from its parts"
        );
        assert_eq!(
            recorded
                .parts
                .keys()
                .filter(|(o, _)| *o == oid(&large))
                .count(),
            11
        );
        assert_eq!(recorded.stored[&oid(&icon)], icon);
        assert_eq!(recorded.verified.len(), 2);
    }
    let tree = tree_files(&space, head(&space));
    assert_eq!(tree["app/data.txt"], data);
    assert_eq!(
        text(&tree["data/big.dat"]),
        format!(
            "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize {}\n",
            oid(&large),
            large.len()
        )
    );
}

#[tokio::test]
async fn a_source_file_changed_after_the_scaffold_is_not_uploaded() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, initial) = http_space(root.path(), 1);
    let hub = start_hub(root.path(), None, None).await;
    let source = tempfile::tempdir().expect("source");
    let mut request = http_request(&hub, TOKEN, scaffold());
    request.files.extend(source_files(
        source.path(),
        &[("models/model.bin", b"weights v1")],
    ));
    // Rewritten with another length between the scaffold and the push.
    std::fs::write(
        source.path().join("models/model.bin"),
        b"weights v2, longer",
    )
    .expect("write");
    let err = push(request).await.expect_err("changed file");
    let cause = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(err.to_string().contains("model.bin"), "{err}");
    assert!(cause.contains("changed while deploying"), "{cause}");
    assert!(hub.recorded().stored.is_empty(), "nothing uploaded");
    assert_eq!(head(&space), initial, "nothing pushed");
}

#[test]
fn a_large_tree_writes_its_objects_to_disk_and_pushes_the_same_tree() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, _) = hub_space(root.path(), &[]);
    let request = request(&file_url(&space), scaffold());
    let (mut memory, mut disk) = (
        PushSession::open_with(&request.remote_url, None, true).expect("session"),
        PushSession::open_with(&request.remote_url, None, false).expect("session"),
    );
    let plan_memory = memory
        .fetch()
        .and_then(|h| memory.plan(&request, h))
        .expect("plan");
    let plan_disk = disk
        .fetch()
        .and_then(|h| disk.plan(&request, h))
        .expect("plan");
    assert_eq!(plan_memory.tree, plan_disk.tree, "the same tree either way");
    // Loose objects: `objects/xx/...` folders beside `pack` and `info`.
    let loose = |session: &PushSession| {
        std::fs::read_dir(session.repository().path().join("objects"))
            .expect("objects")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().len() == 2)
            .count()
    };
    assert_eq!(loose(&memory), 0, "a small tree stays in memory");
    assert!(loose(&disk) > 0, "a large tree is written to disk");
    assert!(matches!(
        disk.publish(&plan_disk, &request).expect("publish"),
        Published::Pushed(_)
    ));
    assert_eq!(
        tree_files(&space, head(&space))["app/main.py"],
        scaffold()["app/main.py"]
    );
    // Which one a push picks: the plain bytes against the bound.
    let mut big = request.clone();
    let plain_max = attributes::MAX_PLAIN_SIZE as u64;
    for i in 0..=IN_MEMORY_OBJECTS_LIMIT / plain_max {
        big.files.insert(
            format!("data/{i}.txt"),
            FileContent::Source {
                path: root.path().join("unused"),
                size: plain_max,
            },
        );
    }
    assert!(plain_bytes(&request) <= IN_MEMORY_OBJECTS_LIMIT);
    assert!(plain_bytes(&big) > IN_MEMORY_OBJECTS_LIMIT);
}

/// The git requests of a push, as `METHOD path?query` without the host, in order.
fn git_requests(hub: &FakeHub) -> Vec<String> {
    hub.recorded()
        .git_requests
        .iter()
        .map(|(line, _)| line.replace("/spaces/ns/demo", ""))
        .collect()
}

#[tokio::test]
async fn the_first_fetch_is_one_post_with_the_head_hint_and_two_requests_without() {
    let root = tempfile::tempdir().expect("tempdir");
    let (space, remote_head) = http_space(root.path(), 3);
    let hub = start_hub(root.path(), None, None).await;

    // Without a hint: the advertisement, then one upload-pack POST (libgit2 makes two), then
    // the push. The history is three commits deep; the push still builds on the fetched head
    // alone (the shallow boundary was recorded).
    let outcome = push(http_request(&hub, TOKEN, scaffold()))
        .await
        .expect("push");
    let commit = head(&space);
    assert_eq!(parents(&space, commit), vec![remote_head]);
    assert_eq!(
        git_requests(&hub),
        vec![
            "GET /info/refs?service=git-upload-pack",
            "POST /git-upload-pack",
            "GET /info/refs?service=git-receive-pack",
            "POST /git-receive-pack",
        ]
    );
    assert!(outcome.changed);

    // With the head as the Hub API gives it: one POST, and a no-change push stops there.
    hub.recorded().git_requests.clear();
    let mut request = http_request(&hub, TOKEN, scaffold());
    request.head_hint = Some(commit.to_string());
    let again = push(request).await.expect("second push");
    assert!(!again.changed);
    assert_eq!(again.commit_sha, commit.to_string());
    assert_eq!(git_requests(&hub), vec!["POST /git-upload-pack"]);

    // A stale hint (`main` moved after the Hub API was read). Stateless upload-pack serves any
    // commit reachable from a ref, so the old head comes back and the plan differs from it; the
    // push is then refused as non-fast-forward before anything is sent (the remote head is not
    // in the temporary repository), and the retry fetches the real head the full way. Nothing
    // is lost, nothing is committed twice.
    hub.recorded().git_requests.clear();
    let mut request = http_request(&hub, TOKEN, scaffold());
    request.head_hint = Some(remote_head.to_string());
    request.message = "a message that makes another commit".into();
    let stale = push(request).await.expect("push after a stale hint");
    assert!(!stale.changed, "{stale:?}");
    assert_eq!(stale.attempts, 2);
    assert_eq!(stale.commit_sha, commit.to_string());
    assert_eq!(head(&space), commit);
    let requests = git_requests(&hub);
    assert_eq!(requests[0], "POST /git-upload-pack", "{requests:?}");
    assert!(
        requests.contains(&"GET /info/refs?service=git-upload-pack".to_string()),
        "{requests:?}"
    );
    assert!(
        !requests.contains(&"POST /git-receive-pack".to_string()),
        "{requests:?}"
    );
}

fn restore_request(url: &str, target: RestoreTarget) -> RestoreRequest {
    RestoreRequest {
        remote_url: url.to_string(),
        space: "alice/app".into(),
        token: None,
        target,
        author: ("hf-deploy".into(), "hf-deploy@example.com".into()),
        max_race_retries: 1,
        retry: fast_retry(),
    }
}

#[test]
fn restore_pushes_the_previous_deploy_tree_as_one_commit_on_top() {
    let root = tempfile::tempdir().expect("tempdir");
    let (path, _) = hub_space(root.path(), &[]);
    let url = file_url(&path);
    let deploy = |content: &[u8], source: &str| {
        let message = crate::trailer::with_trailers("Deploy", Some(source), None);
        commit_files(&path, &[("app.py", content)], &message)
    };
    let first = deploy(b"v1", "aaaa111");
    commit_files(&path, &[("app.py", b"by hand")], "an edit on the Hub");
    let second = deploy(b"v2", "bbbb222");

    let outcome = restore::restore_blocking(&restore_request(&url, RestoreTarget::PreviousDeploy))
        .expect("restore");
    // The hand edit is not a deploy: the one before the head is the first.
    assert_eq!(outcome.to, first.to_string());
    assert_eq!(outcome.from, second.to_string());
    assert!(outcome.changed);
    assert_eq!(outcome.modified, ["app.py"]);
    let new = head(&path);
    assert_eq!(outcome.commit_sha, new.to_string());
    assert_eq!(
        parents(&path, new),
        [second],
        "one commit on top, never forced"
    );
    assert_eq!(tree_files(&path, new), tree_files(&path, first));
    let repo = Repository::open_bare(&path).expect("open");
    let message = repo
        .find_commit(new)
        .expect("commit")
        .message()
        .unwrap_or_default()
        .to_string();
    let trailers = crate::trailer::parse(&message);
    assert_eq!(trailers.restores, Some(first.to_string()));
    assert_eq!(trailers.source.as_deref(), Some("aaaa111"));

    // From a restore's head, the default goes on before the commit it restored: nothing.
    let error = restore::restore_blocking(&restore_request(&url, RestoreTarget::PreviousDeploy))
        .expect_err("no deploy before the first");
    assert_eq!(error.field(), Some(Field::RollbackTo));
    // The tree in place already: no commit.
    let short = first.to_string()[..7].to_string();
    let same = restore::restore_blocking(&restore_request(&url, RestoreTarget::Commit(short)))
        .expect("restore");
    assert!(!same.changed);
    assert_eq!(head(&path), new);
    // A commit that is not in the Space's history: refused, nothing written.
    let stranger = "0123456789abcdef0123456789abcdef01234567".to_string();
    let error = restore::restore_blocking(&restore_request(&url, RestoreTarget::Commit(stranger)))
        .expect_err("not ours");
    assert_eq!(error.field(), Some(Field::RollbackTo));
    assert_eq!(head(&path), new);
}
