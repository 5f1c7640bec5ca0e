//! The blocking git2 half of a push: fetch `main`, build the new tree, commit and push.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use git2::{
    AutotagOption, Cred, CredentialType, ErrorCode, FetchOptions, ObjectType, Oid, PushOptions,
    RemoteCallbacks, RemoteRedirect, Repository, Signature, TreeWalkMode, TreeWalkResult,
};

use super::attributes::{self, Attributes, LfsReason, MAX_PLAIN_SIZE, PathPattern};
use super::lfs::{self, LfsObject};
use super::smart_http;
use super::{GITATTRIBUTES, PushRequest};
use crate::error::{Error, HttpContext, Result};
use crate::field::Field;
use crate::secret::SecretString;
use crate::temp::TempFolder;
use crate::untrusted::RemoteText;

/// Where the fetched `main` is kept in the temporary repository.
const FETCHED_REF: &str = "refs/remotes/space/main";
/// The branch we build and push.
const LOCAL_REF: &str = "refs/heads/main";
/// Mode of a regular, non-executable file.
const FILE_MODE: i32 = 0o100644;
const EXECUTABLE_MODE: i32 = 0o100755;
/// Mode of a folder.
const TREE_MODE: i32 = 0o040000;

/// A temporary bare repository tied to one Space remote. Dropping it deletes the folder.
pub(crate) struct PushSession {
    repo: Repository,
    remote_url: String,
    token: Option<SecretString>,
    /// New objects go to a memory backend (see [`keep_new_objects_in_memory`]).
    in_memory: bool,
    // Declared last: the repository is closed before its folder is removed.
    _dir: TempFolder,
}

impl std::fmt::Debug for PushSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSession")
            .field("remote_url", &lfs::redact(&self.remote_url))
            .field("token_set", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

/// What a push would change, computed against one remote head.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The remote `main` this plan builds on (`None`: the Space has no commit yet).
    pub parent: Option<Oid>,
    /// The new root tree.
    pub tree: Oid,
    /// False when the new tree equals the remote head's.
    pub changed: bool,
    /// Paths new in the Space.
    pub added: Vec<String>,
    /// Paths whose content or mode changes.
    pub modified: Vec<String>,
    /// Paths removed from the Space.
    pub removed: Vec<String>,
    /// Files stored through LFS (their pointers are in `tree`).
    pub lfs: Vec<LfsObject>,
}

/// How a publish attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Published {
    /// `main` now points at this commit.
    Pushed(Oid),
    /// `main` moved since the fetch: fetch again and rebuild.
    Race,
}

/// One tree entry: blob (or gitlink) id and mode.
type Entry = (Oid, i32);

/// Tracks the credential callback so a refused token fails at once instead of looping.
#[derive(Default)]
struct AuthState {
    attempts: Cell<u32>,
}

/// Keep the objects we write (a blob per file, the trees, the commit) in memory when `in_memory`:
/// a deploy writes thousands of small files that are never needed on disk, and writing each as a
/// loose object cost seconds of system time on a 5,000-file backend (BENCHMARKS.md). The push
/// reads them back through the same object database; fetched packs still go to disk. A large
/// tree writes loose objects instead (one file each, read back one at a time).
fn keep_new_objects_in_memory(repo: &Repository, in_memory: bool) -> Result<()> {
    if !in_memory {
        return Ok(());
    }
    repo.odb()
        .and_then(|odb| odb.add_new_mempack_backend(1000).map(|_| ()))
        .map_err(|source| Error::Git {
            action: "keep new objects in memory".into(),
            source,
        })
}

/// Plain (non-LFS) bytes up to which a push keeps the objects it writes in memory; a larger
/// tree writes them to the temporary repository on disk, so memory stays flat.
pub(crate) const IN_MEMORY_OBJECTS_LIMIT: u64 = 32 * 1024 * 1024;

impl PushSession {
    /// Create the temporary bare repository for `remote_url`, keeping new objects in memory.
    /// Nothing is fetched yet.
    #[cfg(test)]
    pub(crate) fn open(remote_url: &str, token: Option<SecretString>) -> Result<Self> {
        Self::open_with(remote_url, token, true)
    }

    /// [`PushSession::open`], with new objects kept in memory (`in_memory`) or written to the
    /// temporary repository on disk. Memory is faster for a small tree (no file per object);
    /// disk keeps a large tree from being held whole (see [`IN_MEMORY_OBJECTS_LIMIT`]).
    pub(crate) fn open_with(
        remote_url: &str,
        token: Option<SecretString>,
        in_memory: bool,
    ) -> Result<Self> {
        // Private (0700) and removed on every exit, a signal included (see `temp`).
        let dir = TempFolder::new("hf-deploy-push-")
            .map_err(|e| Error::io("create a temporary folder in", std::env::temp_dir(), e))?;
        // No template folder: libgit2 would copy the system's sample hooks into every
        // temporary repository (a few milliseconds of file copies per deploy, for nothing).
        // The folder exists: libgit2 must not make it (nor its parents) again should it be
        // removed meanwhile (the process is ending).
        let mut init = git2::RepositoryInitOptions::new();
        init.bare(true)
            .external_template(false)
            .mkdir(false)
            .mkpath(false);
        let repo = Repository::init_opts(dir.path(), &init).map_err(|source| Error::Git {
            action: format!(
                "create a temporary repository in `{}`",
                dir.path().display()
            ),
            source,
        })?;
        keep_new_objects_in_memory(&repo, in_memory)?;
        Ok(PushSession {
            repo,
            remote_url: remote_url.to_string(),
            token,
            in_memory,
            _dir: dir,
        })
    }

    /// The remote URL fit for messages.
    fn shown_url(&self) -> String {
        lfs::redact(&self.remote_url)
    }

    /// True for `file://` URLs and plain paths: libgit2's local transport cannot fetch shallow.
    fn is_local(&self) -> bool {
        self.remote_url.starts_with("file://") || !self.remote_url.contains("://")
    }

    /// `Authorization: Basic ...` with the token, sent with every git request over HTTP(S): one
    /// round trip per connection less than waiting for the server's 401 challenge. The credential
    /// callback stays as the fallback. The header lives only in memory and is never printed.
    fn auth_header(&self) -> Option<String> {
        use base64::Engine;
        let token = self.token.as_ref()?;
        if self.is_local() {
            return None;
        }
        let pair = format!("hf_user:{}", token.expose());
        Some(format!(
            "Authorization: Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ))
    }

    fn callbacks<'a>(&'a self, auth: &'a AuthState) -> RemoteCallbacks<'a> {
        let mut callbacks = RemoteCallbacks::new();
        callbacks.credentials(move |_url, _username, allowed| {
            let attempt = auth.attempts.get() + 1;
            auth.attempts.set(attempt);
            // libgit2 asks again after each refusal; give the token once, then stop.
            if attempt > 1 {
                return Err(git2::Error::from_str("the remote refused the credentials"));
            }
            match &self.token {
                Some(token) if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) => {
                    Cred::userpass_plaintext("hf_user", token.expose())
                }
                Some(_) => Err(git2::Error::from_str(
                    "the remote asked for credentials other than a token",
                )),
                None => Err(git2::Error::from_str(
                    "the remote asked for credentials and no token was given",
                )),
            }
        });
        callbacks
    }

    /// Map a git2 error, turning a refused or missing token into [`Error::InvalidToken`].
    fn git_error(
        &self,
        auth: &AuthState,
        action: String,
        service: &str,
        source: git2::Error,
    ) -> Error {
        // Two calls: the token was given and refused. One call without a token, or a plain
        // authentication failure after one: no usable token either.
        let attempts = auth.attempts.get();
        let auth_failed = attempts >= 2
            || (attempts == 1 && (self.token.is_none() || source.code() == ErrorCode::Auth));
        if auth_failed {
            let server_message = match &self.token {
                None => "the remote asked for credentials and no token was given",
                Some(_) => "the remote refused the token",
            };
            return Error::InvalidToken {
                action,
                context: Box::new(HttpContext {
                    method: if service == "git-upload-pack" {
                        "GET".into()
                    } else {
                        "POST".into()
                    },
                    url: format!(
                        "{}/info/refs?service={service}",
                        self.shown_url().trim_end_matches('/')
                    ),
                    status: 401,
                    request_id: None,
                    error_code: None,
                    server_message: Some(RemoteText::unredacted(server_message)),
                }),
            };
        }
        Error::Git { action, source }
    }

    /// Drop the head a previous fetch recorded; returns the action text of a fetch.
    fn forget_fetched(&self) -> Result<String> {
        let action = format!("fetch `main` from `{}`", self.shown_url());
        if let Ok(mut stale) = self.repo.find_reference(FETCHED_REF) {
            stale.delete().map_err(|source| Error::Git {
                action: action.clone(),
                source,
            })?;
        }
        Ok(action)
    }

    /// Fetch the Space's `main` (depth 1 over the network) and return its head, or `None` when
    /// the Space has no `main` yet.
    pub(crate) fn fetch(&mut self) -> Result<Option<Oid>> {
        self.fetch_to_depth(true)
    }

    /// [`PushSession::fetch`] with the whole history of `main`: a rollback looks for an earlier
    /// commit's tree.
    pub(crate) fn fetch_history(&mut self) -> Result<Option<Oid>> {
        self.fetch_to_depth(false)
    }

    fn fetch_to_depth(&mut self, shallow: bool) -> Result<Option<Oid>> {
        let action = self.forget_fetched()?;
        let auth = AuthState::default();
        let result = {
            let mut remote = self
                .repo
                .remote_anonymous(&self.remote_url)
                .map_err(|source| Error::Git {
                    action: action.clone(),
                    source,
                })?;
            let mut options = FetchOptions::new();
            options.remote_callbacks(self.callbacks(&auth));
            let header = self.auth_header();
            if let Some(header) = &header {
                options.custom_headers(&[header.as_str()]);
            }
            // The token rides in a header libgit2 would send to wherever a redirect points.
            options.follow_redirects(RemoteRedirect::None);
            options.download_tags(AutotagOption::None);
            options.update_fetchhead(false);
            if shallow && !self.is_local() {
                options.depth(1);
            }
            remote.fetch(
                &[&format!("+refs/heads/main:{FETCHED_REF}")],
                Some(&mut options),
                None,
            )
        };
        // A Space without any branch answers an empty ref list: no error, and no ref below.
        if let Err(source) = result {
            return Err(self.git_error(&auth, action, "git-upload-pack", source));
        }
        match self.repo.find_reference(FETCHED_REF) {
            Ok(reference) => Ok(reference.target()),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(source) => Err(Error::Git { action, source }),
        }
    }

    /// [`PushSession::fetch`] in one request when `head` (the Space's head as the Hub API last
    /// said) is known, in two otherwise ([`smart_http`]); libgit2's fetch when the remote is
    /// local or the short way does not work out.
    pub(crate) fn fetch_quick(
        &mut self,
        runtime: &tokio::runtime::Handle,
        client: &reqwest::Client,
        head: Option<Oid>,
    ) -> Result<Option<Oid>> {
        if self.is_local() {
            return self.fetch();
        }
        let action = self.forget_fetched()?;
        let header = self.auth_header();
        let authorization = header
            .as_deref()
            .and_then(|h| h.strip_prefix("Authorization: "));
        let fetched = match smart_http::fetch_main(
            runtime,
            client,
            &self.repo,
            &self.remote_url,
            authorization,
            head,
        ) {
            Ok(fetched) => fetched,
            Err(why) => {
                tracing::debug!(%why, "the one-request fetch gave way to libgit2's");
                return self.fetch();
            }
        };
        if !fetched.shallow.is_empty() {
            let lines: String = fetched
                .shallow
                .iter()
                .map(|oid| format!("{oid}\n"))
                .collect();
            std::fs::write(self.repo.path().join("shallow"), lines)
                .map_err(|e| Error::io("record the shallow boundary in", self.repo.path(), e))?;
            // libgit2 reads the shallow boundary when it opens a repository (`open`; not
            // `open_bare`, which skips it): open it again. No object of ours is in memory yet:
            // the fetch comes first.
            let path = self.repo.path().to_path_buf();
            self.repo = Repository::open(&path).map_err(|source| Error::Git {
                action: action.clone(),
                source,
            })?;
            keep_new_objects_in_memory(&self.repo, self.in_memory)?;
        }
        if let Some(head) = fetched.head {
            self.repo
                .reference(FETCHED_REF, head, true, "hf-deploy: fetched main")
                .map_err(|source| Error::Git { action, source })?;
        }
        Ok(fetched.head)
    }

    /// Build the Space tree for `request` on top of `parent` (from [`PushSession::fetch`]).
    pub(crate) fn plan(&self, request: &PushRequest, parent: Option<Oid>) -> Result<Plan> {
        let repo = &self.repo;
        let (remote_tree, remote_entries) = match parent {
            Some(oid) => {
                let tree = repo
                    .find_commit(oid)
                    .and_then(|commit| commit.tree())
                    .map_err(git("read the fetched `main` commit"))?;
                let entries =
                    flatten(&tree).map_err(git("list the files of the fetched `main`"))?;
                (Some(tree.id()), entries)
            }
            None => (None, BTreeMap::new()),
        };

        // `.gitattributes`: the Space's, plus our lines, plus one line per file we must send
        // through LFS that no pattern covers.
        let remote_attributes = match remote_entries.get(GITATTRIBUTES) {
            Some((oid, _)) => {
                let blob = repo
                    .find_blob(*oid)
                    .map_err(git("read the Space's `.gitattributes`"))?;
                Some(String::from_utf8_lossy(blob.content()).into_owned())
            }
            None => None,
        };
        let our_attributes = request
            .files
            .get(GITATTRIBUTES)
            .map(|content| content.text())
            .transpose()?
            .unwrap_or_default();
        let gitattributes = attributes::merge(
            remote_attributes.as_deref().unwrap_or(""),
            our_attributes.lines().map(str::to_string),
        );
        let mut stored = self.store_files(request, &Attributes::parse(&gitattributes))?;
        let gitattributes = attributes::merge(&gitattributes, stored.uncovered);
        let entries = &mut stored.entries;

        for pattern in keep_patterns(request)? {
            for (path, entry) in &remote_entries {
                if path != GITATTRIBUTES && !entries.contains_key(path) && pattern.is_match(path) {
                    entries.insert(path.clone(), *entry);
                }
            }
        }
        if !gitattributes.is_empty() || remote_attributes.is_some() {
            let oid = repo
                .blob(gitattributes.as_bytes())
                .map_err(git("store `.gitattributes`"))?;
            let mode = remote_entries
                .get(GITATTRIBUTES)
                .map(|(_, mode)| *mode)
                .unwrap_or(FILE_MODE);
            entries.insert(GITATTRIBUTES.to_string(), (oid, mode));
        }

        let tree = write_tree(repo, entries)?;
        let (added, modified, removed) = changes(entries, &remote_entries);
        Ok(Plan {
            parent,
            tree,
            changed: remote_tree != Some(tree),
            added,
            modified,
            removed,
            lfs: stored.lfs,
        })
    }

    /// Store every file of `request` but `.gitattributes` in the repository: a plain blob, or
    /// the pointer of an LFS object when `rules`, the size or the content say so.
    fn store_files(&self, request: &PushRequest, rules: &Attributes) -> Result<Stored> {
        let mut stored = Stored {
            entries: BTreeMap::new(),
            lfs: Vec::new(),
            uncovered: Vec::new(),
        };
        for (path, content) in &request.files {
            if path == GITATTRIBUTES {
                continue;
            }
            // A pattern or the size decides without reading; a plain-size file is read whole (at
            // most 10 MiB, and only this one at a time), an LFS file is hashed as a stream.
            let (reason, plain) = if rules.is_lfs(path) {
                (Some(LfsReason::Pattern), None)
            } else if content.len() > MAX_PLAIN_SIZE as u64 {
                (Some(LfsReason::Large), None)
            } else {
                let bytes = content.read()?;
                (rules.lfs_reason(path, &bytes), Some(bytes))
            };
            let store = git(&format!("store `{path}` in the temporary repository"));
            let oid = match reason {
                Some(reason) => {
                    let object = match plain {
                        Some(bytes) => LfsObject {
                            path: path.clone(),
                            oid: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
                            size: bytes.len() as u64,
                            content: content.clone(),
                        },
                        None => LfsObject::hash(path.clone(), content.clone())?,
                    };
                    if reason != LfsReason::Pattern {
                        stored.uncovered.push(attributes::lfs_line_for_path(path));
                    }
                    let oid = self.repo.blob(object.pointer().as_bytes()).map_err(store)?;
                    stored.lfs.push(object);
                    oid
                }
                None => self
                    .repo
                    .blob(plain.as_deref().unwrap_or_default())
                    .map_err(store)?,
            };
            let mode = if request.executable.contains(path) {
                EXECUTABLE_MODE
            } else {
                FILE_MODE
            };
            stored.entries.insert(path.clone(), (oid, mode));
        }
        Ok(stored)
    }

    /// Commit `plan` on its parent and push it to `main` (never forced).
    pub(crate) fn publish(&self, plan: &Plan, request: &PushRequest) -> Result<Published> {
        self.publish_tree(plan.tree, plan.parent, &request.message, &request.author)
    }

    /// Commit `tree` on `parent` with `message` by `author` (name, email) and push it to
    /// `main` (never forced).
    pub(crate) fn publish_tree(
        &self,
        tree: Oid,
        parent: Option<Oid>,
        message: &str,
        author: &(String, String),
    ) -> Result<Published> {
        let repo = &self.repo;
        let (name, email) = author;
        let signature = Signature::now(name, email).map_err(|source| Error::Git {
            action: format!("make `{name} <{email}>` the author of the commit"),
            source,
        })?;
        let commit_action = "commit the new Space tree".to_string();
        let tree = repo.find_tree(tree).map_err(|source| Error::Git {
            action: commit_action.clone(),
            source,
        })?;
        let parents = match parent {
            Some(oid) => vec![repo.find_commit(oid).map_err(|source| Error::Git {
                action: commit_action.clone(),
                source,
            })?],
            None => Vec::new(),
        };
        let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let commit = repo
            .commit(None, &signature, &signature, message, &tree, &parent_refs)
            .map_err(|source| Error::Git {
                action: commit_action.clone(),
                source,
            })?;
        repo.reference(LOCAL_REF, commit, true, "hf-deploy: new Space tree")
            .map_err(|source| Error::Git {
                action: commit_action,
                source,
            })?;

        let action = format!("push `main` to `{}`", self.shown_url());
        let auth = AuthState::default();
        let sideband = RefCell::new(Vec::<u8>::new());
        let rejection: RefCell<Option<String>> = RefCell::new(None);
        let result = {
            let mut callbacks = self.callbacks(&auth);
            callbacks.sideband_progress(|data| {
                sideband.borrow_mut().extend_from_slice(data);
                true
            });
            callbacks.push_update_reference(|_refname, status| {
                if let Some(status) = status {
                    *rejection.borrow_mut() = Some(status.to_string());
                }
                Ok(())
            });
            let mut options = PushOptions::new();
            options.remote_callbacks(callbacks);
            // The pack's delta search on every core (0: as many threads as CPUs); libgit2
            // uses one thread unless told.
            options.packbuilder_parallelism(0);
            options.follow_redirects(RemoteRedirect::None);
            let header = self.auth_header();
            if let Some(header) = &header {
                options.custom_headers(&[header.as_str()]);
            }
            let mut remote =
                repo.remote_anonymous(&self.remote_url)
                    .map_err(|source| Error::Git {
                        action: action.clone(),
                        source,
                    })?;
            remote.push(&[&format!("{LOCAL_REF}:{LOCAL_REF}")], Some(&mut options))
        };
        let lines = remote_lines(&sideband.borrow());
        if let Err(source) = result {
            if source.code() == ErrorCode::NotFastForward {
                return Ok(Published::Race);
            }
            if let Some(status) = rejection.borrow().as_deref() {
                return classify(status, &lines);
            }
            if !lines.is_empty() && auth.attempts.get() == 0 {
                return Err(rejected(&lines, None));
            }
            return Err(self.git_error(&auth, action, "git-receive-pack", source));
        }
        if let Some(status) = rejection.borrow().as_deref() {
            return classify(status, &lines);
        }
        Ok(Published::Pushed(commit))
    }

    /// The temporary repository (a rollback reads the fetched history; tests inspect it).
    pub(crate) fn repository(&self) -> &Repository {
        &self.repo
    }
}

/// A per-ref rejection: a moved `main` is a race, anything else the remote refusing the push.
fn classify(status: &str, lines: &[String]) -> Result<Published> {
    let lower = status.to_ascii_lowercase();
    let race = [
        "non-fast-forward",
        "fetch first",
        "stale info",
        "failed to update ref",
        "failed to lock",
        "cannot lock ref",
    ];
    if race.iter().any(|needle| lower.contains(needle)) {
        return Ok(Published::Race);
    }
    Err(rejected(lines, Some(status)))
}

fn rejected(lines: &[String], status: Option<&str>) -> Error {
    let mut reason: Vec<String> = lines
        .iter()
        .filter(|line| !line.chars().all(|c| c == '-' || c.is_whitespace()))
        .cloned()
        .collect();
    if let Some(status) = status {
        reason.push(format!("(`main` {status})"));
    }
    Error::PushRejected {
        reason: RemoteText::unredacted(&reason.join("\n")),
        offending_files: offending_files(lines)
            .iter()
            .map(|file| RemoteText::unredacted(file))
            .collect(),
    }
}

/// The sideband text as lines, without `remote:` prefixes, progress meters or blanks.
pub(crate) fn remote_lines(raw: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(raw)
        .split(['\n', '\r'])
        .map(|line| line.strip_prefix("remote:").unwrap_or(line).trim_end())
        .filter(|line| !line.trim().is_empty() && !line.contains("% ("))
        .map(|line| line.trim_start_matches(' ').to_string())
        .collect()
}

/// The paths listed under `Offending files:` as `  - path (ref: refs/...)`.
pub(crate) fn offending_files(lines: &[String]) -> Vec<String> {
    let mut files = Vec::new();
    let mut in_list = false;
    for line in lines {
        let trimmed = line.trim();
        if trimmed.eq_ignore_ascii_case("offending files:") {
            in_list = true;
            continue;
        }
        if !in_list {
            continue;
        }
        let Some(item) = trimmed.strip_prefix("- ") else {
            if !trimmed.is_empty() {
                in_list = false;
            }
            continue;
        };
        let path = match item.rfind(" (ref:") {
            Some(pos) => &item[..pos],
            None => item,
        };
        if !path.is_empty() && !files.iter().any(|f| f == path) {
            files.push(path.to_string());
        }
    }
    files
}

/// Every blob and gitlink of `tree`, by path.
pub(crate) fn flatten(
    tree: &git2::Tree<'_>,
) -> std::result::Result<BTreeMap<String, Entry>, git2::Error> {
    let mut entries = BTreeMap::new();
    tree.walk(TreeWalkMode::PreOrder, |root, entry| {
        if entry.kind() != Some(ObjectType::Tree) {
            if let Some(name) = entry.name() {
                entries.insert(format!("{root}{name}"), (entry.id(), entry.filemode()));
            }
        }
        TreeWalkResult::Ok
    })?;
    Ok(entries)
}

enum Node {
    File(Entry),
    Dir(BTreeMap<String, Node>),
}

/// The files of a plan stored in the repository.
struct Stored {
    entries: BTreeMap<String, Entry>,
    /// The LFS objects the pointers stand for.
    lfs: Vec<LfsObject>,
    /// `.gitattributes` lines for the files sent through LFS that no pattern covers.
    uncovered: Vec<String>,
}

/// The error of a git2 call, saying what we were doing.
fn git(action: &str) -> impl Fn(git2::Error) -> Error + use<> {
    let action = action.to_string();
    move |source| Error::Git {
        action: action.clone(),
        source,
    }
}

/// The keep patterns of `request`, parsed.
fn keep_patterns(request: &PushRequest) -> Result<Vec<PathPattern>> {
    request
        .keep
        .iter()
        .map(|pattern| {
            PathPattern::new(pattern).ok_or_else(|| {
                Error::invalid_input_hint(
                    Field::Keep,
                    format!("`{pattern}` is not a usable path pattern"),
                    "use git-style globs such as `data/**` or `*.db`",
                )
            })
        })
        .collect()
}

/// The paths added, modified and removed from `remote` to `entries`.
pub(crate) fn changes(
    entries: &BTreeMap<String, Entry>,
    remote: &BTreeMap<String, Entry>,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut added = Vec::new();
    let mut modified = Vec::new();
    for (path, entry) in entries {
        match remote.get(path) {
            None => added.push(path.clone()),
            Some(old) if old != entry => modified.push(path.clone()),
            Some(_) => {}
        }
    }
    let removed = remote
        .keys()
        .filter(|path| !entries.contains_key(*path))
        .cloned()
        .collect();
    (added, modified, removed)
}

/// Write nested trees for `entries` (paths already validated).
fn write_tree(repo: &Repository, entries: &BTreeMap<String, Entry>) -> Result<Oid> {
    let mut root: BTreeMap<String, Node> = BTreeMap::new();
    for (path, entry) in entries {
        let conflict = || {
            Error::invalid_input_hint(
                Field::Source,
                format!("`{path}` is both a file and a folder in the Space tree"),
                "rename one of them",
            )
        };
        let mut parts: Vec<&str> = path.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        let mut dir = &mut root;
        for part in parts {
            let node = dir
                .entry(part.to_string())
                .or_insert_with(|| Node::Dir(BTreeMap::new()));
            dir = match node {
                Node::Dir(children) => children,
                Node::File(_) => return Err(conflict()),
            };
        }
        if dir.insert(name.to_string(), Node::File(*entry)).is_some() {
            return Err(conflict());
        }
    }
    fn write(
        repo: &Repository,
        dir: &BTreeMap<String, Node>,
    ) -> std::result::Result<Oid, git2::Error> {
        let mut builder = repo.treebuilder(None)?;
        for (name, node) in dir {
            match node {
                Node::File((oid, mode)) => builder.insert(name, *oid, *mode)?,
                Node::Dir(children) => {
                    let oid = write(repo, children)?;
                    builder.insert(name, oid, TREE_MODE)?
                }
            };
        }
        builder.write()
    }
    write(repo, &root).map_err(|source| Error::Git {
        action: "write the new Space tree".into(),
        source,
    })
}

/// Helpers for the push tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// Write nested trees for `entries`.
    pub(crate) fn write_tree(repo: &Repository, entries: &BTreeMap<String, (Oid, i32)>) -> Oid {
        super::write_tree(repo, entries).expect("write tree")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HUB_REJECTION: &str = "-------------------------------------------------------------------------\nYour push was rejected because it contains files larger than 10 MiB.\nPlease use https://git-lfs.github.com/ to store large files.\nSee also: https://hf.co/docs/hub/repositories-getting-started#terminal\n\nOffending files:\n  - big.dat (ref: refs/heads/main)\n  - models/my file.onnx (ref: refs/heads/main)\n-------------------------------------------------------------------------\n";

    #[test]
    fn offending_files_are_parsed_from_the_hub_message() {
        let lines = remote_lines(HUB_REJECTION.as_bytes());
        assert_eq!(
            offending_files(&lines),
            vec!["big.dat", "models/my file.onnx"]
        );
        let with_prefix = remote_lines(
            b"remote: Offending files:\nremote:   - static/demo.mp4 (ref: refs/heads/main)\n",
        );
        assert_eq!(offending_files(&with_prefix), vec!["static/demo.mp4"]);
    }

    #[test]
    fn statuses_split_into_races_and_rejections() {
        assert_eq!(
            classify("failed to update ref", &[]).ok(),
            Some(Published::Race)
        );
        assert_eq!(
            classify("non-fast-forward", &[]).ok(),
            Some(Published::Race)
        );
        let lines = remote_lines(HUB_REJECTION.as_bytes());
        let Err(Error::PushRejected {
            reason,
            offending_files,
        }) = classify("pre-receive hook declined", &lines)
        else {
            panic!("a hook refusal is a rejection");
        };
        let reason = reason.as_data();
        assert!(
            reason.contains("larger than 10 MiB") && reason.contains("pre-receive hook declined"),
            "{reason}"
        );
        assert!(!reason.contains("-----"), "{reason}");
        assert_eq!(offending_files.len(), 2);
    }
}
