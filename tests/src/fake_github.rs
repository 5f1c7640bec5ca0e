//! A fake GitHub REST API on `127.0.0.1:0` for tests: issue comments (paginated with absolute
//! `Link` URLs in the `/repositories/{id}/...` form GitHub uses), deployments and deployment
//! statuses, pull requests, and `GET /user` as GitHub answers it for both kinds of token: a
//! token starting `ghs_` is an installation token (the workflow's `GITHUB_TOKEN`: 403 at
//! `/user`, its comments written by `github-actions[bot]`), any other a personal token of the
//! user `alice` (id 4242). Every answer is built from the `@octokit/openapi` examples vendored in
//! `tests/fixtures/github/`, with only ids, bodies and URLs replaced. Every request is recorded;
//! requests it does not know are answered 404 and listed by [`FakeGitHub::unmatched`].
//!
//! Faults ([`GitHubFault`]) are injected per route (method and path pattern) and per count (the
//! next `n` matching requests): an error status, a rate limit with `Retry-After`, an answer cut
//! after the request was served, an answer slower than the client's timeout, a body without end,
//! a body that trickles one byte a second.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Value, json};

/// The repository id GitHub uses in its `Link` URLs (that of `octocat/Hello-World`).
const REPOSITORY_ID: u64 = 1296269;

/// Behaviour switches.
#[derive(Debug, Clone, Default)]
pub struct Mode {
    /// Answer 403 "Resource not accessible by integration" to every write (a fork PR token).
    pub forbid_writes: bool,
    /// Answer 202 "Auto-merged ..." to deployment creation.
    pub deployment_202: bool,
    /// Answer every list request with this status.
    pub fail_lists_with: Option<u16>,
    /// Force this page size whatever `per_page` says.
    pub page_size: Option<usize>,
}

/// What a faulted request gets.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// This status and GitHub's error body, without serving the request.
    Status(u16),
    /// 429 with `Retry-After: secs` and `x-ratelimit-remaining: 0` (GitHub's secondary rate
    /// limit), without serving the request.
    RateLimited(u64),
    /// The request is served (its effect happens), then the answer is cut: the status, the
    /// headers and half the body, then a reset connection.
    ResetMidAnswer,
    /// The answer comes this late (served normally after the wait).
    Slow(std::time::Duration),
    /// This status, then a body without end (the start of a JSON array, then `a` as fast as the
    /// client reads), without serving the request. [`FakeGitHub::bytes_streamed`] counts it.
    EndlessBody(u16),
    /// 200, then one byte a second for ever, without serving the request (each read well
    /// within any read timeout). [`FakeGitHub::bytes_streamed`] counts it.
    Trickle,
}

/// One fault rule of the fake: `method` (`*`: any) and a path pattern (`*` matches any run of
/// characters; the path without its query), for the next `times` matching requests.
#[derive(Debug, Clone)]
pub struct GitHubFault {
    method: String,
    path: regex::Regex,
    kind: FaultKind,
    remaining: u32,
}

impl GitHubFault {
    /// `kind` for the next `times` requests of `method` to a path matching `pattern`.
    pub fn new(method: &str, pattern: &str, kind: FaultKind, times: u32) -> GitHubFault {
        let re = pattern
            .split('*')
            .map(regex::escape)
            .collect::<Vec<_>>()
            .join(".*");
        GitHubFault {
            method: method.to_ascii_uppercase(),
            path: regex::Regex::new(&format!("^{re}$")).expect("a valid pattern"),
            kind,
            remaining: times,
        }
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        self.remaining > 0
            && (self.method == "*" || self.method == method.as_str())
            && self.path.is_match(path)
    }
}

/// One request the fake saw.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Body text.
    pub body: String,
    /// `Authorization` header.
    pub authorization: Option<String>,
}

#[derive(Default)]
struct Store {
    mode: Mode,
    base: String,
    requests: Vec<Recorded>,
    unmatched: Vec<String>,
    /// (issue number, comment id, body)
    comments: Vec<(u64, u64, String)>,
    next_id: u64,
    /// (id, sha, environment)
    deployments: Vec<(u64, String, String, Value)>,
    /// (deployment id, state)
    statuses: Vec<(u64, String)>,
    /// The job whose OIDC token `/_apis/idtoken` hands out: repository, workflow, ref, event.
    job: Option<(String, String, String, String)>,
    /// The `Authorization` header of the request being answered.
    caller: Option<String>,
    /// Comment id -> its author (comments not listed: the fixture's `octocat`).
    authors: Vec<(u64, Value)>,
    /// Pull requests set by [`FakeGitHub::set_pull`]; others read as [`PullState::default`].
    pulls: Vec<(u64, PullState)>,
    /// Every deployment status, by deployment id, as answered.
    status_values: Vec<(u64, Value)>,
    /// Fault rules, tried in order.
    faults: Vec<GitHubFault>,
    /// Bytes sent by [`FaultKind::EndlessBody`] and [`FaultKind::Trickle`] answers.
    streamed: Arc<AtomicU64>,
}

/// What `GET /repos/{owner}/{repo}/pulls/{number}` answers for one pull request.
#[derive(Debug, Clone)]
pub struct PullState {
    /// `state` is `open` (else `closed`).
    pub open: bool,
    /// `merged`.
    pub merged: bool,
    /// The label names.
    pub labels: Vec<String>,
    /// `head.repo.full_name`; `None`: the head repository was deleted.
    pub head_repo: Option<String>,
    /// `head.sha`.
    pub head_sha: String,
}

impl Default for PullState {
    /// Open, no labels, the head in the repository itself, at the head commit of the
    /// `pull_request` fixtures.
    fn default() -> Self {
        PullState {
            open: true,
            merged: false,
            labels: Vec::new(),
            head_repo: Some("Codertocat/Hello-World".into()),
            head_sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821".into(),
        }
    }
}

/// The user a personal token of the fake belongs to (`GET /user`).
pub const PERSONAL_LOGIN: &str = "alice";
/// That user's id.
pub const PERSONAL_ID: u64 = 4242;
/// The account an installation token (`GITHUB_TOKEN`) writes as.
pub const ACTIONS_BOT_LOGIN: &str = "github-actions[bot]";
/// That account's id.
pub const ACTIONS_BOT_ID: u64 = 41_898_282;

/// The runner's request token the fake's OIDC endpoint expects (`ACTIONS_ID_TOKEN_REQUEST_TOKEN`).
pub const ID_TOKEN_REQUEST_TOKEN: &str = "fake-actions-id-token-request-token";

type Shared = Arc<Mutex<Store>>;

/// A running fake.
pub struct FakeGitHub {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    store: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/github")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

impl FakeGitHub {
    /// Start on a free loopback port.
    pub async fn start(mode: Mode) -> FakeGitHub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let store: Shared = Arc::new(Mutex::new(Store {
            mode,
            base: url.clone(),
            next_id: 1000,
            ..Store::default()
        }));
        let router = Router::new().fallback(handle).with_state(store.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeGitHub { url, store, server }
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Add `count` comments by other users to issue `number`; when `marked` is given, comment
    /// `marked.0` (0-based among these) carries the text `marked.1`.
    pub fn seed_comments(&self, number: u64, count: usize, marked: Option<(usize, &str)>) {
        let mut store = self.lock();
        for index in 0..count {
            store.next_id += 1;
            let id = store.next_id;
            let body = match marked {
                Some((at, text)) if at == index => format!("Older report\n{text}"),
                _ => format!("Looks good to me ({index})"),
            };
            store.comments.push((number, id, body));
        }
    }

    /// Comments on issue `number`.
    pub fn comment_count(&self, number: u64) -> usize {
        self.lock()
            .comments
            .iter()
            .filter(|(n, _, _)| *n == number)
            .count()
    }

    /// Body of comment `id`.
    pub fn comment_body(&self, id: u64) -> Option<String> {
        self.lock()
            .comments
            .iter()
            .find(|(_, i, _)| *i == id)
            .map(|(_, _, b)| b.clone())
    }

    /// Body of the first comment containing `text`.
    pub fn comment_with(&self, text: &str) -> Option<String> {
        self.lock()
            .comments
            .iter()
            .find(|(_, _, b)| b.contains(text))
            .map(|(_, _, b)| b.clone())
    }

    /// Deployment ids that got a status with `state`.
    pub fn statuses_with_state(&self, state: &str) -> Vec<u64> {
        self.lock()
            .statuses
            .iter()
            .filter(|(_, s)| s == state)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Serve the job's OIDC token at [`FakeGitHub::id_token_url`] (as the runner does with
    /// `permissions: id-token: write`), signed by the Hub stand-in's fake issuer with these
    /// claims and the audience the request asks for.
    pub fn set_job(&self, repository: &str, workflow: &str, git_ref: &str, event: &str) {
        self.lock().job = Some((
            repository.into(),
            workflow.into(),
            git_ref.into(),
            event.into(),
        ));
    }

    /// `ACTIONS_ID_TOKEN_REQUEST_URL` for this fake (it carries a query, as the runner's does).
    pub fn id_token_url(&self) -> String {
        format!("{}/_apis/idtoken?api-version=2.0", self.url)
    }

    /// Every request seen, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Every request that would change something on GitHub (any method but `GET` and `HEAD`).
    pub fn writes(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method != "GET" && r.method != "HEAD")
            .collect()
    }

    /// Add a comment to issue `number` written by the account `login` (`id`; a login ending in
    /// `[bot]` is of type `Bot`). Returns its id.
    pub fn seed_comment_by(&self, number: u64, body: &str, login: &str, id: u64) -> u64 {
        let mut store = self.lock();
        store.next_id += 1;
        let comment = store.next_id;
        store.comments.push((number, comment, body.to_string()));
        store.authors.push((comment, user_json(login, id)));
        comment
    }

    /// The login of the author of comment `id`.
    pub fn comment_author(&self, id: u64) -> Option<String> {
        let store = self.lock();
        store.comments.iter().find(|(_, i, _)| *i == id)?;
        Some(
            author_of(&store, id)["login"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    }

    /// Every comment on issue `number` containing `text`: (id, body), oldest first.
    pub fn comments_with(&self, number: u64, text: &str) -> Vec<(u64, String)> {
        self.lock()
            .comments
            .iter()
            .filter(|(n, _, b)| *n == number && b.contains(text))
            .map(|(_, id, b)| (*id, b.clone()))
            .collect()
    }

    /// What `GET .../pulls/{number}` answers for pull request `number` from now on.
    pub fn set_pull(&self, number: u64, state: PullState) {
        let mut store = self.lock();
        store.pulls.retain(|(n, _)| *n != number);
        store.pulls.push((number, state));
    }

    /// The deployment GitHub makes for a job that declares `environment:`: of `sha` to
    /// `environment`, created by `github-actions[bot]`, with an `in_progress` status whose
    /// log URL is a job of run `run_id`.
    pub fn seed_job_deployment(&self, sha: &str, environment: &str, run_id: &str) -> u64 {
        let mut store = self.lock();
        store.next_id += 1;
        let id = store.next_id;
        let request = json!({"transient_environment": false, "production_environment": false});
        let mut value = deployment_json(&store.base, id, sha, environment, &request);
        value["creator"] = user_json(ACTIONS_BOT_LOGIN, ACTIONS_BOT_ID);
        value["payload"] = json!({});
        value["description"] = Value::Null;
        store
            .deployments
            .push((id, sha.to_string(), environment.to_string(), value));
        store.next_id += 1;
        let mut status = fixture("deployment-status.json");
        status["id"] = store.next_id.into();
        status["state"] = "in_progress".into();
        let log_url =
            format!("https://github.com/Codertocat/Hello-World/actions/runs/{run_id}/job/77");
        status["log_url"] = log_url.clone().into();
        status["target_url"] = log_url.into();
        store.status_values.push((id, status));
        store.statuses.push((id, "in_progress".into()));
        id
    }

    /// The environments deployments were created in by requests (not seeded), in order.
    pub fn deployment_environments(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/deployments"))
            .filter_map(|r| {
                serde_json::from_str::<Value>(&r.body).ok()?["environment"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect()
    }

    /// The ids of the deployments created in `environment` (seeded or requested).
    pub fn deployments_in(&self, environment: &str) -> Vec<u64> {
        self.lock()
            .deployments
            .iter()
            .filter(|(_, _, e, _)| e == environment)
            .map(|(id, _, _, _)| *id)
            .collect()
    }

    /// Adds a fault rule (rules are tried in the order added; the first live match applies).
    pub fn add_fault(&self, fault: GitHubFault) {
        self.lock().faults.push(fault);
    }

    /// Bytes the [`FaultKind::EndlessBody`] and [`FaultKind::Trickle`] answers have sent so far
    /// (what the connection took: a client that stops reading stops the count, give or take
    /// the sockets' buffers).
    pub fn bytes_streamed(&self) -> u64 {
        self.lock().streamed.load(Ordering::Relaxed)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Requests no route matched.
    pub fn unmatched(&self) -> Vec<String> {
        self.lock().unmatched.clone()
    }
}

fn comment_json(base: &str, number: u64, id: u64, body: &str) -> Value {
    let mut value = fixture("issue-comment.json");
    value["id"] = id.into();
    value["node_id"] = format!("IC_fake{id}").into();
    value["body"] = body.into();
    value["url"] = format!("{base}/repos/Codertocat/Hello-World/issues/comments/{id}").into();
    value["html_url"] =
        format!("https://github.com/Codertocat/Hello-World/pull/{number}#issuecomment-{id}").into();
    value["issue_url"] = format!("{base}/repos/Codertocat/Hello-World/issues/{number}").into();
    value
}

/// A user object (the fixture's, with `login`, `id` and the URLs replaced); a login ending in
/// `[bot]` is of type `Bot`.
fn user_json(login: &str, id: u64) -> Value {
    let mut user = fixture("issue-comment.json")["user"].clone();
    let path = login.replace('[', "%5B").replace(']', "%5D");
    user["login"] = login.into();
    user["id"] = id.into();
    user["node_id"] = format!("U_fake{id}").into();
    user["type"] = if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    }
    .into();
    user["url"] = format!("https://api.github.com/users/{path}").into();
    user["html_url"] = format!("https://github.com/apps/{path}").into();
    user
}

/// Who a request's token is: `Some(user)` for a personal token, `None` for an installation
/// token (`ghs_...`) or no token.
fn personal_user(authorization: Option<&str>) -> Option<Value> {
    let token = authorization?.strip_prefix("Bearer ")?;
    if token.starts_with("ghs_") {
        return None;
    }
    let mut user = fixture("private-user.json");
    user["login"] = PERSONAL_LOGIN.into();
    user["id"] = PERSONAL_ID.into();
    Some(user)
}

/// The author of a comment written with `authorization`: the token's user, or
/// `github-actions[bot]` for an installation token.
fn caller_json(authorization: Option<&str>) -> Value {
    match personal_user(authorization) {
        Some(user) => user_json(PERSONAL_LOGIN, user["id"].as_u64().unwrap_or(PERSONAL_ID)),
        None => user_json(ACTIONS_BOT_LOGIN, ACTIONS_BOT_ID),
    }
}

/// The author of comment `id`.
fn author_of(store: &Store, id: u64) -> Value {
    store
        .authors
        .iter()
        .find(|(c, _)| *c == id)
        .map(|(_, user)| user.clone())
        .unwrap_or_else(|| fixture("issue-comment.json")["user"].clone())
}

/// A comment as answered: [`comment_json`] with its author.
fn authored_comment(store: &Store, number: u64, id: u64, body: &str) -> Value {
    let mut value = comment_json(&store.base, number, id, body);
    value["user"] = author_of(store, id);
    value
}

/// `GET /user`: the personal token's user; 403 for an installation token, as GitHub answers.
fn current_user(store: &Store) -> Response {
    match personal_user(store.caller.as_deref()) {
        Some(user) => axum::Json(user).into_response(),
        None if store.caller.is_some() => error(
            StatusCode::FORBIDDEN,
            "Resource not accessible by integration",
        ),
        None => error(StatusCode::UNAUTHORIZED, "Requires authentication"),
    }
}

/// `GET .../pulls/{number}`: the `pull-request` example with the number, state, labels and
/// head of [`PullState`].
fn get_pull(store: &Store, number: &str) -> Response {
    let Ok(number) = number.parse::<u64>() else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let state = store
        .pulls
        .iter()
        .find(|(n, _)| *n == number)
        .map(|(_, s)| s.clone())
        .unwrap_or_default();
    let mut value = fixture("pull-request.json");
    let label = value["labels"][0].clone();
    value["number"] = number.into();
    value["state"] = if state.open { "open" } else { "closed" }.into();
    value["merged"] = state.merged.into();
    value["html_url"] = format!("https://github.com/Codertocat/Hello-World/pull/{number}").into();
    value["url"] = format!("{}/repos/Codertocat/Hello-World/pulls/{number}", store.base).into();
    value["labels"] = state
        .labels
        .iter()
        .map(|name| {
            let mut label = label.clone();
            label["name"] = name.as_str().into();
            label
        })
        .collect();
    value["base"]["repo"]["full_name"] = "Codertocat/Hello-World".into();
    value["head"]["sha"] = state.head_sha.into();
    value["head"]["repo"] = match state.head_repo {
        Some(full_name) => {
            let mut repo = value["head"]["repo"].clone();
            repo["full_name"] = full_name.into();
            repo
        }
        None => Value::Null,
    };
    axum::Json(value).into_response()
}

/// `GET .../deployments/{id}/statuses`: newest first, paginated.
fn list_statuses(store: &Store, uri: &Uri, id: &str) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let items: Vec<Value> = store
        .status_values
        .iter()
        .rev()
        .filter(|(d, _)| *d == id)
        .map(|(_, v)| v.clone())
        .collect();
    paginate(
        store,
        uri,
        &format!("/repositories/{REPOSITORY_ID}/deployments/{id}/statuses"),
        items,
    )
}

fn deployment_json(base: &str, id: u64, sha: &str, environment: &str, request: &Value) -> Value {
    let mut value = fixture("deployment.json");
    value["id"] = id.into();
    value["sha"] = sha.into();
    value["ref"] = sha.into();
    value["environment"] = environment.into();
    value["original_environment"] = environment.into();
    value["transient_environment"] = request["transient_environment"].clone();
    value["production_environment"] = request["production_environment"].clone();
    value["url"] = format!("{base}/repos/Codertocat/Hello-World/deployments/{id}").into();
    value["statuses_url"] =
        format!("{base}/repos/Codertocat/Hello-World/deployments/{id}/statuses").into();
    value
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.as_u16().to_string(),
    });
    (status, axum::Json(body)).into_response()
}

/// The runner's OIDC endpoint: `{"value": "<jwt>"}` for the configured job and the asked
/// audience, given the request token.
fn id_token(store: &Store, uri: &Uri, headers: &HeaderMap) -> Response {
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case(&format!("bearer {ID_TOKEN_REQUEST_TOKEN}")));
    if !authorized {
        return error(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    let Some((repository, workflow, git_ref, event)) = &store.job else {
        return error(StatusCode::NOT_FOUND, "no job configured");
    };
    let audience = query_pairs(uri)
        .into_iter()
        .find(|(k, _)| k == "audience")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let claims = hf_hub_emulator::JobClaims::new(repository, workflow, git_ref, event, &audience);
    axum::Json(json!({"count": 1, "value": hf_hub_emulator::issue_github_oidc_token(&claims)}))
        .into_response()
}

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Slice `items` per `page`/`per_page` and add a `Link` header pointing at `link_path`.
fn paginate(store: &Store, uri: &Uri, link_path: &str, items: Vec<Value>) -> Response {
    let query = query_pairs(uri);
    let get = |key: &str| {
        query
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let per_page = store
        .mode
        .page_size
        .or_else(|| get("per_page"))
        .unwrap_or(30)
        .clamp(1, 100);
    let page = get("page").unwrap_or(1).max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let extra: Vec<String> = query
        .iter()
        .filter(|(k, _)| k != "page" && k != "per_page")
        .map(|(k, v)| format!("&{k}={v}"))
        .collect();
    let link = |p: usize| {
        format!(
            "<{}{link_path}?per_page={per_page}&page={p}{}>",
            store.base,
            extra.concat()
        )
    };
    let mut links = Vec::new();
    if page < last {
        links.push(format!("{}; rel=\"next\"", link(page + 1)));
        links.push(format!("{}; rel=\"last\"", link(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link(page - 1)));
        links.push(format!("{}; rel=\"first\"", link(1)));
    }
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut response = axum::Json(Value::Array(slice)).into_response();
    if !links.is_empty()
        && let Ok(value) = links.join(", ").parse()
    {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}

async fn handle(
    State(store): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&store, &method, &uri, &headers, &body);
    let fault = take_fault(&store, &method, uri.path());
    if let Some(FaultKind::Slow(delay)) = &fault {
        tokio::time::sleep(*delay).await;
    }
    let streamed = store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .streamed
        .clone();
    match fault {
        Some(FaultKind::EndlessBody(status)) => return endless(status, streamed),
        Some(FaultKind::Trickle) => return trickle(streamed),
        _ => {}
    }
    let response = answer(&store, &method, &uri, &headers, &body, fault.as_ref());
    match fault {
        Some(FaultKind::ResetMidAnswer) => cut_in_half(response).await,
        _ => response,
    }
}

/// Records the request as it arrives (before a slow fault holds it).
fn record(store: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) {
    let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
    store.requests.push(Recorded {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        body: String::from_utf8_lossy(body).to_string(),
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    });
}

/// The fault for this request, if a rule matches (one use of it is consumed).
fn take_fault(store: &Shared, method: &Method, path: &str) -> Option<FaultKind> {
    let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
    let rule = store.faults.iter_mut().find(|f| f.matches(method, path))?;
    rule.remaining -= 1;
    Some(rule.kind.clone())
}

/// `status`, then the start of a JSON array and `a` for ever, 64 KiB a chunk, as fast as the
/// client reads (the stream is polled only as the connection takes it).
fn endless(status: u16, streamed: Arc<AtomicU64>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let head = Bytes::from_static(br#"[{"id":1,"body":""#);
    let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
    let stream = futures_util::stream::once(std::future::ready(head))
        .chain(futures_util::stream::repeat(chunk))
        .map(move |bytes| {
            streamed.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            Ok::<_, std::io::Error>(bytes)
        });
    let mut response = Response::new(axum::body::Body::from_stream(stream));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// 200, then `[` and one more byte a second for ever.
fn trickle(streamed: Arc<AtomicU64>) -> Response {
    let stream = futures_util::stream::unfold(0u64, move |sent| {
        let streamed = streamed.clone();
        async move {
            if sent > 0 {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            streamed.fetch_add(1, Ordering::Relaxed);
            let byte = if sent == 0 { "[" } else { " " };
            Some((
                Ok::<_, std::io::Error>(Bytes::from_static(byte.as_bytes())),
                sent + 1,
            ))
        }
    });
    let mut response = Response::new(axum::body::Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// The answer with its status and headers, half its body, then a reset connection.
async fn cut_in_half(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    if let Ok(value) = bytes.len().max(1).to_string().parse() {
        parts.headers.insert(header::CONTENT_LENGTH, value);
    }
    let stream = futures_util::stream::iter([
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected fault: the answer was cut",
        )),
    ]);
    Response::from_parts(parts, axum::body::Body::from_stream(stream))
}

/// The answer to one request: a fault's refusal, or the route's (recorded either way).
fn answer(
    store: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    fault: Option<&FaultKind>,
) -> Response {
    let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
    let text = String::from_utf8_lossy(body).to_string();
    store.caller = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match fault {
        Some(FaultKind::Status(code)) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return error(
                status,
                "Injected fault: the fake GitHub failed this request",
            );
        }
        Some(FaultKind::RateLimited(secs)) => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            );
            let h = response.headers_mut();
            if let Ok(value) = secs.to_string().parse() {
                h.insert(header::RETRY_AFTER, value);
            }
            h.insert(
                "x-ratelimit-remaining",
                header::HeaderValue::from_static("0"),
            );
            return response;
        }
        _ => {}
    }
    if uri.path() == "/_apis/idtoken" {
        return id_token(&store, uri, headers);
    }
    if let Some(refused) = refused_by_mode(&store.mode, method) {
        return refused;
    }
    let request: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    route(&mut store, method, uri, &request)
}

/// The answer [`Mode`] forces on this request, if any: 403 to a write from a fork's token, the
/// configured status to a list.
fn refused_by_mode(mode: &Mode, method: &Method) -> Option<Response> {
    let is_write = method != Method::GET;
    if is_write && mode.forbid_writes {
        return Some(error(
            StatusCode::FORBIDDEN,
            "Resource not accessible by integration",
        ));
    }
    if !is_write && let Some(status) = mode.fail_lists_with {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Some(error(status, status.canonical_reason().unwrap_or("error")));
    }
    None
}

/// The REST routes the fake knows; anything else is recorded as unmatched and answered 404.
fn route(store: &mut Store, method: &Method, uri: &Uri, request: &Value) -> Response {
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["user"]) => current_user(store),
        ("GET", ["repos", "Codertocat", "Hello-World", "pulls", number]) => get_pull(store, number),
        (
            "GET",
            [
                "repos",
                "Codertocat",
                "Hello-World",
                "deployments",
                id,
                "statuses",
            ],
        )
        | ("GET", ["repositories", _, "deployments", id, "statuses"]) => {
            list_statuses(store, uri, id)
        }
        (
            "GET",
            [
                "repos",
                "Codertocat",
                "Hello-World",
                "issues",
                number,
                "comments",
            ],
        )
        | ("GET", ["repositories", _, "issues", number, "comments"]) => {
            list_comments(store, uri, number)
        }
        (
            "POST",
            [
                "repos",
                "Codertocat",
                "Hello-World",
                "issues",
                number,
                "comments",
            ],
        ) => create_comment(store, number, request),
        (
            "POST" | "PATCH",
            [
                "repos",
                "Codertocat",
                "Hello-World",
                "issues",
                "comments",
                id,
            ],
        ) => update_comment(store, id, request),
        ("POST", ["repos", "Codertocat", "Hello-World", "deployments"]) => {
            create_deployment(store, request)
        }
        ("GET", ["repos", "Codertocat", "Hello-World", "deployments"])
        | ("GET", ["repositories", _, "deployments"]) => list_deployments(store, uri),
        (
            "POST",
            [
                "repos",
                "Codertocat",
                "Hello-World",
                "deployments",
                id,
                "statuses",
            ],
        ) => create_status(store, id, request),
        _ => {
            let line = format!("{method} {uri}");
            store.unmatched.push(line.clone());
            error(
                StatusCode::NOT_FOUND,
                &format!("Not Found (the fake GitHub has no route for {line})"),
            )
        }
    }
}

/// `GET .../issues/{number}/comments`: the issue's comments, paginated.
fn list_comments(store: &Store, uri: &Uri, number: &str) -> Response {
    let Ok(number) = number.parse::<u64>() else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let items: Vec<Value> = store
        .comments
        .iter()
        .filter(|(n, _, _)| *n == number)
        .map(|(n, id, b)| authored_comment(store, *n, *id, b))
        .collect();
    paginate(
        store,
        uri,
        &format!("/repositories/{REPOSITORY_ID}/issues/{number}/comments"),
        items,
    )
}

/// `POST .../issues/{number}/comments`.
fn create_comment(store: &mut Store, number: &str, request: &Value) -> Response {
    let (Ok(number), Some(body)) = (number.parse::<u64>(), request["body"].as_str()) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
    };
    store.next_id += 1;
    let id = store.next_id;
    store.comments.push((number, id, body.to_string()));
    let author = caller_json(store.caller.as_deref());
    store.authors.push((id, author));
    (
        StatusCode::CREATED,
        axum::Json(authored_comment(store, number, id, body)),
    )
        .into_response()
}

/// `POST`/`PATCH .../issues/comments/{id}`: a new body for a comment.
fn update_comment(store: &mut Store, id: &str, request: &Value) -> Response {
    let (Ok(id), Some(body)) = (id.parse::<u64>(), request["body"].as_str()) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
    };
    let Some(slot) = store.comments.iter_mut().find(|(_, i, _)| *i == id) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    slot.2 = body.to_string();
    let number = slot.0;
    axum::Json(authored_comment(store, number, id, body)).into_response()
}

/// `POST .../deployments` (or the 202 "Auto-merged" answer when [`Mode::deployment_202`]).
fn create_deployment(store: &mut Store, request: &Value) -> Response {
    if store.mode.deployment_202 {
        return (
            StatusCode::ACCEPTED,
            axum::Json(fixture("deployment-202-merged-branch.json")),
        )
            .into_response();
    }
    let (Some(sha), Some(environment)) = (request["ref"].as_str(), request["environment"].as_str())
    else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
    };
    store.next_id += 1;
    let id = store.next_id;
    let mut value = deployment_json(&store.base, id, sha, environment, request);
    if let Some(payload) = request.get("payload") {
        value["payload"] = payload.clone();
    }
    store
        .deployments
        .push((id, sha.to_string(), environment.to_string(), value.clone()));
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

/// `GET .../deployments`, optionally of one `environment`, newest first, paginated.
fn list_deployments(store: &Store, uri: &Uri) -> Response {
    let query = query_pairs(uri);
    let environment = query
        .iter()
        .find(|(k, _)| k == "environment")
        .map(|(_, v)| v.clone());
    let sha = query
        .iter()
        .find(|(k, _)| k == "sha")
        .map(|(_, v)| v.clone());
    // Newest first, as GitHub lists them.
    let items: Vec<Value> = store
        .deployments
        .iter()
        .rev()
        .filter(|(_, _, env, _)| environment.as_ref().is_none_or(|e| e == env))
        .filter(|(_, s, _, _)| sha.as_ref().is_none_or(|wanted| wanted == s))
        .map(|(_, _, _, v)| v.clone())
        .collect();
    paginate(
        store,
        uri,
        &format!("/repositories/{REPOSITORY_ID}/deployments"),
        items,
    )
}

/// `POST .../deployments/{id}/statuses`.
fn create_status(store: &mut Store, id: &str, request: &Value) -> Response {
    let (Ok(id), Some(state)) = (id.parse::<u64>(), request["state"].as_str()) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
    };
    if !store.deployments.iter().any(|(d, _, _, _)| *d == id) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    store.next_id += 1;
    let status_id = store.next_id;
    store.statuses.push((id, state.to_string()));
    let mut value = fixture("deployment-status.json");
    value["creator"] = caller_json(store.caller.as_deref());
    value["id"] = status_id.into();
    value["state"] = state.into();
    for key in ["environment_url", "log_url", "description"] {
        if let Some(v) = request.get(key) {
            value[key] = v.clone();
        }
    }
    value["deployment_url"] = format!(
        "{}/repos/Codertocat/Hello-World/deployments/{id}",
        store.base
    )
    .into();
    store.status_values.push((id, value.clone()));
    (StatusCode::CREATED, axum::Json(value)).into_response()
}
