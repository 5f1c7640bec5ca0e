//! The `/api/...` endpoints and the git route.
// The error type is the HTTP answer itself, built once per request: boxing it buys nothing.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::auth::{auth_required, caller};
use crate::git::{self, Change, CommitError};
use crate::hub::{
    Caller, Hub, KeyEntry, LogBuf, Space, SpaceState, Upstream, can_read, can_write, lock,
};
use crate::util::{self, hub_error, json_response, repo_not_found};
use crate::{lfs, logs, proxy, runtime};

/// Keys of a secrets/variables request, handed to the request log.
#[derive(Clone)]
pub(crate) struct LoggedKeys(pub Vec<String>);

type H = State<Arc<Hub>>;
type Res = Result<Response, Response>;

fn ok(v: Value) -> Res {
    Ok(json_response(StatusCode::OK, &v))
}

fn bad_request(msg: &str) -> Response {
    hub_error(StatusCode::BAD_REQUEST, None, msg)
}

fn forbidden(msg: &str) -> Response {
    hub_error(StatusCode::FORBIDDEN, None, msg)
}

fn parse_json(body: &[u8]) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|e| bad_request(&format!("Invalid JSON body: {e}")))
}

fn query_pairs(q: &Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_deref().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// The Space, if the caller may see it (private Spaces of others are 404).
fn readable(
    hub: &Hub,
    headers: &HeaderMap,
    ns: &str,
    name: &str,
) -> Result<(Arc<Space>, Option<Caller>), Response> {
    let who = caller(hub, headers)?;
    let space = hub.space(ns, name).ok_or_else(repo_not_found)?;
    if !can_read(&space.lock(), &space.ns, who.as_ref()) {
        return Err(repo_not_found());
    }
    Ok((space, who))
}

/// The Space, if the caller may change it.
fn writable(hub: &Hub, headers: &HeaderMap, ns: &str, name: &str) -> Result<Arc<Space>, Response> {
    let (space, who) = readable(hub, headers, ns, name)?;
    let Some(who) = who else {
        return Err(auth_required());
    };
    if !can_write(&space.ns, Some(&who)) {
        return Err(forbidden(&format!(
            "You don't have the rights to write to the space `{}` with this token (role {})",
            space.id,
            who.role.as_str()
        )));
    }
    Ok(space)
}

fn flatten(r: Res) -> Response {
    r.unwrap_or_else(|e| e)
}

/// `GET …/xet-write-token/{rev}`: Xet is not emulated; say how to avoid it.
pub(crate) async fn xet_not_emulated() -> Response {
    hub_error(
        StatusCode::NOT_IMPLEMENTED,
        None,
        "The Hub stand-in does not emulate Xet storage: set HF_HUB_DISABLE_XET=1 so that the client uploads through LFS",
    )
}

pub(crate) async fn not_found(method: Method) -> Response {
    let _ = method;
    hub_error(
        StatusCode::NOT_FOUND,
        None,
        "Sorry, we can't find the page you are looking for.",
    )
}

// ---- whoami ----------------------------------------------------------------------------------

static STARTED: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub(crate) async fn whoami(State(hub): H, headers: HeaderMap) -> Response {
    flatten((|| {
        let who = caller(&hub, &headers)?.ok_or_else(auth_required)?;
        let id = hex::encode(&Sha256::digest(who.user.as_bytes())[..12]);
        let created = STARTED.get_or_init(util::now_iso).clone();
        ok(json!({
            "type": "user",
            "id": id,
            "name": who.user,
            "fullname": who.user,
            "email": format!("{}@example.com", who.user),
            "emailVerified": true,
            "canPay": false,
            "isPro": false,
            "periodEnd": null,
            "avatarUrl": "/avatars/default.svg",
            "billingMode": "postpaid",
            "orgs": [],
            "auth": {
                "type": "access_token",
                "accessToken": {"displayName": format!("emulator-{}", who.role.as_str()), "role": who.role.as_str(), "createdAt": created}
            }
        }))
    })())
}

// ---- create / delete -------------------------------------------------------------------------

fn readme_for(name: &str, sdk: &str) -> String {
    let colors = util::COLORS;
    let h = Sha256::digest(name.as_bytes());
    let emojis = ["🚀", "🐳", "🔥", "🌍", "📚", "🤖", "🦀", "⚡"];
    let mut s = format!(
        "---\ntitle: {name}\nemoji: {}\ncolorFrom: {}\ncolorTo: {}\nsdk: {sdk}\n",
        emojis[h[0] as usize % emojis.len()],
        colors[h[1] as usize % colors.len()],
        colors[h[2] as usize % colors.len()],
    );
    match sdk {
        "gradio" => s.push_str("sdk_version: 5.9.1\napp_file: app.py\n"),
        "streamlit" => s.push_str("sdk_version: 1.41.1\napp_file: app.py\n"),
        _ => {}
    }
    s.push_str("pinned: false\n---\n\nCheck out the configuration reference at https://huggingface.co/docs/hub/spaces-config-reference\n");
    s
}

fn key_entries(v: Option<&Value>) -> Result<Vec<KeyEntry>, Response> {
    let Some(arr) = v.and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<KeyEntry> = Vec::new();
    for item in arr {
        let key = item
            .get("key")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty());
        let Some(key) = key else {
            return Err(bad_request(
                "Each secret and variable needs a non-empty `key`",
            ));
        };
        let entry = KeyEntry {
            key: key.to_owned(),
            value: item
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            description: item
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            updated_at: util::now_iso(),
        };
        out.retain(|e| e.key != key);
        out.push(entry);
    }
    Ok(out)
}

pub(crate) async fn create(State(hub): H, headers: HeaderMap, body: Bytes) -> Response {
    flatten(create_inner(&hub, &headers, &body).await)
}

async fn create_inner(hub: &Arc<Hub>, headers: &HeaderMap, body: &[u8]) -> Res {
    let who = caller(hub, headers)?.ok_or_else(auth_required)?;
    let req = parse_json(body)?;
    let full = req.get("name").and_then(Value::as_str).unwrap_or("");
    let (ns, name) = match (
        full.split_once('/'),
        req.get("organization").and_then(Value::as_str),
    ) {
        (Some((n, m)), _) => (n.to_owned(), m.to_owned()),
        (None, Some(org)) => (org.to_owned(), full.to_owned()),
        (None, None) => (who.user.clone(), full.to_owned()),
    };
    let repo_type = req.get("type").and_then(Value::as_str).unwrap_or("model");
    if repo_type != "space" {
        return Err(bad_request(
            "The Hub stand-in only emulates Spaces: send \"type\": \"space\"",
        ));
    }
    if !util::valid_name(&name) || !util::valid_name(&ns) {
        return Err(bad_request(&format!(
            "Repo id must use alphanumeric chars, '-', '_' or '.'. The name cannot start or end with '-' or '.' and the maximum length is 96: '{ns}/{name}'."
        )));
    }
    if !ns.eq_ignore_ascii_case(&who.user) {
        return Err(forbidden(
            "You don't have the rights to create a space under this namespace",
        ));
    }
    if who.role != crate::config::Role::Write {
        return Err(forbidden(
            "You don't have the rights to create a space under this namespace: the token is read-only",
        ));
    }
    let sdk = req
        .get("sdk")
        .and_then(Value::as_str)
        .unwrap_or("static")
        .to_owned();
    if !util::SDKS.contains(&sdk.as_str()) {
        return Err(bad_request(&format!(
            "\"sdk\" must be one of [{}]",
            util::SDKS.join(", ")
        )));
    }
    let private = match (
        req.get("visibility").and_then(Value::as_str),
        req.get("private").and_then(Value::as_bool),
    ) {
        (Some("private"), _) => true,
        (Some(_), _) => false,
        (None, Some(p)) => p,
        (None, None) => false,
    };
    let hardware = req
        .get("hardware")
        .and_then(Value::as_str)
        .unwrap_or("cpu-basic")
        .to_owned();
    let sleep_time = req
        .get("sleepTimeSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(172800);
    let secrets = key_entries(req.get("secrets"))?;
    let variables = key_entries(req.get("variables"))?;

    let _guard = hub.write_lock.lock().await;
    if let Some(existing) = hub.space(&ns, &name) {
        let url = format!("{}/spaces/{}", hub.base_url(), existing.id);
        return Err(json_response(
            StatusCode::CONFLICT,
            &json!({"error": "You already created this space repo", "url": url}),
        ));
    }
    let id = format!("{ns}/{name}");
    let repo_dir = hub.repos_dir.join(&ns).join(format!("{name}.git"));
    let internal = |e: String| {
        hub_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            &format!("Creating `{id}` failed: {e}"),
        )
    };
    let _ = tokio::fs::remove_dir_all(&repo_dir).await;
    git::init_repo(hub, &repo_dir).await.map_err(internal)?;
    let changes = vec![
        Change::Put {
            path: ".gitattributes".into(),
            data: util::default_gitattributes().into_bytes(),
        },
        Change::Put {
            path: "README.md".into(),
            data: readme_for(&name, &sdk).into_bytes(),
        },
    ];
    git::commit_changes(hub, &repo_dir, None, &changes, "initial commit", "system")
        .await
        .map_err(|e| match e {
            CommitError::Git(m) => internal(m),
            _ => internal("initial commit".into()),
        })?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| internal(e.to_string()))?;
    let port = listener
        .local_addr()
        .map_err(|e| internal(e.to_string()))?
        .port();
    let now = util::now_iso();
    let (changed, _) = tokio::sync::watch::channel(0u64);
    let space = Arc::new(Space {
        id: id.clone(),
        ns,
        name,
        mongo_id: util::mongo_id(),
        created_at: now.clone(),
        repo_dir,
        proxy_url: format!("http://127.0.0.1:{port}"),
        st: std::sync::Mutex::new(SpaceState {
            private,
            sdk,
            hardware,
            sleep_time,
            secrets,
            variables,
            stage: "BUILDING".into(),
            error_message: None,
            generation: 0,
            cancel: hub.shutdown.child_token(),
            build_log: LogBuf::default(),
            run_log: LogBuf::default(),
            upstream: Upstream::None,
            last_modified: now,
        }),
        changed,
        proxy_task: std::sync::Mutex::new(None),
    });
    *lock(&space.proxy_task) = Some(proxy::serve(hub.clone(), space.clone(), listener));
    lock(&hub.spaces).insert(id.to_ascii_lowercase(), space.clone());
    runtime::trigger(hub, &space);
    ok(json!({"url": format!("{}/spaces/{id}", hub.base_url()), "name": id, "id": space.mongo_id}))
}

pub(crate) async fn delete_repo(State(hub): H, headers: HeaderMap, body: Bytes) -> Response {
    flatten(
        async {
            let who = caller(&hub, &headers)?.ok_or_else(auth_required)?;
            let req = parse_json(&body)?;
            let full = req.get("name").and_then(Value::as_str).unwrap_or("");
            let (ns, name) = match (
                full.split_once('/'),
                req.get("organization").and_then(Value::as_str),
            ) {
                (Some((n, m)), _) => (n.to_owned(), m.to_owned()),
                (None, Some(org)) => (org.to_owned(), full.to_owned()),
                (None, None) => (who.user.clone(), full.to_owned()),
            };
            let space = writable(&hub, &headers, &ns, &name)?;
            let _guard = hub.write_lock.lock().await;
            lock(&hub.spaces).remove(&space.id.to_ascii_lowercase());
            runtime::stop(&space, "DELETING");
            if let Some(t) = lock(&space.proxy_task).take() {
                t.abort();
            }
            let _ = tokio::fs::remove_dir_all(&space.repo_dir).await;
            let mut r = (StatusCode::OK, "OK").into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            Ok(r)
        }
        .await,
    )
}

pub(crate) async fn settings(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        let req = parse_json(&body)?;
        let mut st = space.lock();
        if let Some(v) = req.get("visibility").and_then(Value::as_str) {
            st.private = v == "private";
        } else if let Some(p) = req.get("private").and_then(Value::as_bool) {
            st.private = p;
        }
        ok(json!({}))
    })())
}

// ---- space info ------------------------------------------------------------------------------

const EXPAND: [&str; 20] = [
    "author",
    "cardData",
    "createdAt",
    "datasets",
    "disabled",
    "lastModified",
    "likes",
    "models",
    "private",
    "region",
    "resourceGroup",
    "runtime",
    "sdk",
    "sha",
    "siblings",
    "subdomain",
    "tags",
    "trendingScore",
    "usedStorage",
    "xetEnabled",
];

pub(crate) async fn space_info(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    q: RawQuery,
) -> Response {
    flatten(info(&hub, &headers, &ns, &name, "main", &q.0).await)
}

pub(crate) async fn space_info_rev(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name, rev)): Path<(String, String, String)>,
    q: RawQuery,
) -> Response {
    flatten(info(&hub, &headers, &ns, &name, &rev, &q.0).await)
}

async fn info(
    hub: &Hub,
    headers: &HeaderMap,
    ns: &str,
    name: &str,
    rev: &str,
    q: &Option<String>,
) -> Res {
    let (space, _) = readable(hub, headers, ns, name)?;
    let pairs = query_pairs(q);
    let expand: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "expand" || k == "expand[]")
        .map(|(_, v)| v.clone())
        .collect();
    if let Some(bad) = expand.iter().find(|e| !EXPAND.contains(&e.as_str())) {
        return Err(bad_request(&format!(
            "\"expand\" must be one of [{}], got \"{bad}\"",
            EXPAND.join(", ")
        )));
    }
    let blobs = pairs
        .iter()
        .any(|(k, v)| k == "blobs" && (v == "true" || v == "1"));
    let rev = if rev == "HEAD" { "main" } else { rev };
    let Some(sha) = git::rev_parse(hub, &space.repo_dir, rev).await else {
        return Err(hub_error(
            StatusCode::NOT_FOUND,
            Some("RevisionNotFound"),
            &format!("Invalid rev id: {rev}"),
        ));
    };
    let entries = git::ls_tree(hub, &space.repo_dir, &sha)
        .await
        .map_err(|e| hub_error(StatusCode::INTERNAL_SERVER_ERROR, None, &e))?;
    let readme = git::read_file(hub, &space.repo_dir, &sha, "README.md").await;
    let card = readme
        .map(|r| util::card_data(&String::from_utf8_lossy(&r)).unwrap_or_else(|_| json!({})))
        .unwrap_or(json!({}));
    let mut siblings = Vec::new();
    for e in &entries {
        let mut s = json!({"rfilename": e.path});
        if blobs {
            s["size"] = json!(e.size);
            s["blobId"] = json!(e.blob);
            if e.size < 1024 {
                if let Some(data) = git::read_file(hub, &space.repo_dir, &sha, &e.path).await {
                    if let Some((oid, size)) = util::parse_lfs_pointer(&data) {
                        s["size"] = json!(size);
                        s["lfs"] = json!({"size": size, "sha256": oid, "pointerSize": e.size});
                    }
                }
            }
        }
        siblings.push(s);
    }
    let (private, sdk, last_modified) = {
        let st = space.lock();
        (st.private, st.sdk.clone(), st.last_modified.clone())
    };
    let mut tags = vec![sdk.clone(), "region:us".to_owned()];
    if let Some(Value::Array(t)) = card.get("tags") {
        tags.extend(t.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    let used: u64 = entries.iter().map(|e| e.size).sum();
    let mut full = Map::new();
    full.insert("_id".into(), json!(space.mongo_id));
    full.insert("id".into(), json!(space.id));
    full.insert("author".into(), json!(space.ns));
    full.insert("sha".into(), json!(sha));
    full.insert("lastModified".into(), json!(last_modified));
    full.insert("private".into(), json!(private));
    full.insert("gated".into(), json!(false));
    full.insert("disabled".into(), json!(false));
    full.insert("host".into(), json!(space.proxy_url));
    full.insert("subdomain".into(), json!(space.subdomain()));
    full.insert("likes".into(), json!(0));
    full.insert("sdk".into(), json!(sdk));
    full.insert("tags".into(), json!(tags));
    full.insert("createdAt".into(), json!(space.created_at));
    full.insert("cardData".into(), card);
    full.insert("siblings".into(), json!(siblings));
    full.insert("runtime".into(), runtime::runtime_json(&space));
    full.insert("models".into(), json!([]));
    full.insert("datasets".into(), json!([]));
    full.insert("usedStorage".into(), json!(used));
    full.insert("trendingScore".into(), json!(0));
    full.insert("region".into(), json!("us"));
    full.insert("resourceGroup".into(), Value::Null);
    full.insert("xetEnabled".into(), json!(false));
    if expand.is_empty() {
        full.remove("resourceGroup");
        full.remove("xetEnabled");
        return ok(Value::Object(full));
    }
    let mut out = Map::new();
    out.insert("_id".into(), full["_id"].clone());
    out.insert("id".into(), full["id"].clone());
    for e in &expand {
        if let Some(v) = full.get(e.as_str()) {
            out.insert(e.clone(), v.clone());
        }
    }
    ok(Value::Object(out))
}

pub(crate) async fn host(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    flatten((|| {
        let (space, _) = readable(&hub, &headers, &ns, &name)?;
        ok(json!({"subdomain": space.subdomain(), "host": space.proxy_url}))
    })())
}

pub(crate) async fn auth_check(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    flatten(readable(&hub, &headers, &ns, &name).and_then(|_| ok(json!({}))))
}

pub(crate) async fn auth_check_write(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    flatten(writable(&hub, &headers, &ns, &name).and_then(|_| ok(json!({}))))
}

// ---- runtime ---------------------------------------------------------------------------------

const HARDWARE: [&str; 25] = [
    "cpu-basic",
    "cpu-upgrade",
    "cpu-performance",
    "cpu-xl",
    "zero-a10g",
    "t4-small",
    "t4-medium",
    "l4x1",
    "l4x4",
    "l40sx1",
    "l40sx4",
    "l40sx8",
    "a10g-small",
    "a10g-large",
    "a10g-largex2",
    "a10g-largex4",
    "a100-large",
    "a100x4",
    "a100x8",
    "rtx-pro-6000",
    "rtx-pro-6000x2",
    "rtx-pro-6000x4",
    "rtx-pro-6000x8",
    "sprx8",
    "inf2x6",
];

pub(crate) async fn runtime(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    flatten(readable(&hub, &headers, &ns, &name).and_then(|(s, _)| ok(runtime::runtime_json(&s))))
}

pub(crate) async fn restart(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        if space.lock().sdk == "static" {
            return Err(bad_request("Static Spaces cannot be restarted"));
        }
        runtime::trigger(&hub, &space);
        ok(runtime::runtime_json(&space))
    })())
}

pub(crate) async fn pause(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        if space.lock().sdk == "static" {
            return Err(bad_request("Static Spaces cannot be paused"));
        }
        runtime::stop(&space, "PAUSED");
        ok(runtime::runtime_json(&space))
    })())
}

pub(crate) async fn sleeptime(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        let req = parse_json(&body)?;
        let Some(secs) = req.get("seconds").and_then(Value::as_i64) else {
            return Err(bad_request("`seconds` (integer, -1 = never) is required"));
        };
        space.lock().sleep_time = secs;
        ok(runtime::runtime_json(&space))
    })())
}

pub(crate) async fn hardware(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        let req = parse_json(&body)?;
        let flavor = req.get("flavor").and_then(Value::as_str).unwrap_or("");
        if !HARDWARE.contains(&flavor) {
            return Err(bad_request(&format!(
                "\"flavor\" must be one of [{}]",
                HARDWARE.join(", ")
            )));
        }
        {
            let mut st = space.lock();
            st.hardware = flavor.to_owned();
            if let Some(s) = req.get("sleepTimeSeconds").and_then(Value::as_i64) {
                st.sleep_time = s;
            }
        }
        runtime::trigger(&hub, &space);
        ok(runtime::runtime_json(&space))
    })())
}

pub(crate) async fn logs(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name, kind)): Path<(String, String, String)>,
    q: RawQuery,
) -> Response {
    flatten((|| {
        let (space, who) = readable(&hub, &headers, &ns, &name)?;
        if who.is_none() {
            return Err(auth_required());
        }
        let run = match kind.as_str() {
            "build" => false,
            "run" => true,
            _ => {
                return Err(hub_error(
                    StatusCode::NOT_FOUND,
                    None,
                    "Log type must be `build` or `run`",
                ));
            }
        };
        let follow = !query_pairs(&q.0)
            .iter()
            .any(|(k, v)| k == "follow" && (v == "false" || v == "0"));
        Ok(logs::sse(hub.clone(), space, run, follow))
    })())
}

// ---- secrets and variables --------------------------------------------------------------------

fn with_keys(mut r: Response, keys: Vec<String>) -> Response {
    r.extensions_mut().insert(LoggedKeys(keys));
    r
}

fn key_body(body: &[u8]) -> Result<(String, Option<String>, Option<String>), Response> {
    let req = parse_json(body)?;
    let key = req
        .get("key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty());
    let Some(key) = key else {
        return Err(bad_request("`key` is required"));
    };
    let value = req.get("value").and_then(Value::as_str).map(str::to_owned);
    let description = req
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok((key.to_owned(), value, description))
}

fn upsert(list: &mut Vec<KeyEntry>, key: String, value: String, description: Option<String>) {
    let now = util::now_iso();
    if let Some(e) = list.iter_mut().find(|e| e.key == key) {
        e.value = value;
        if description.is_some() {
            e.description = description;
        }
        e.updated_at = now;
    } else {
        list.push(KeyEntry {
            key,
            value,
            description,
            updated_at: now,
        });
    }
}

fn variables_map(list: &[KeyEntry]) -> Value {
    let mut m = Map::new();
    for e in list {
        let mut v = Map::new();
        v.insert("value".into(), json!(e.value));
        if let Some(d) = &e.description {
            v.insert("description".into(), json!(d));
        }
        v.insert("updatedAt".into(), json!(e.updated_at));
        m.insert(e.key.clone(), Value::Object(v));
    }
    Value::Object(m)
}

fn restart_after_config_change(hub: &Arc<Hub>, space: &Arc<Space>) {
    let stage = space.lock().stage.clone();
    if stage != "PAUSED" {
        runtime::trigger(hub, space);
    }
}

pub(crate) async fn list_secrets(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        let st = space.lock();
        let mut m = Map::new();
        for e in &st.secrets {
            let mut v = Map::new();
            if let Some(d) = &e.description {
                v.insert("description".into(), json!(d));
            }
            v.insert("updatedAt".into(), json!(e.updated_at));
            m.insert(e.key.clone(), Value::Object(v));
        }
        ok(Value::Object(m))
    })())
}

pub(crate) async fn add_secret(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let keys = key_body(&body).map(|k| vec![k.0]).unwrap_or_default();
    let r = flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        let (key, value, description) = key_body(&body)?;
        upsert(
            &mut space.lock().secrets,
            key,
            value.unwrap_or_default(),
            description,
        );
        restart_after_config_change(&hub, &space);
        ok(json!({}))
    })());
    with_keys(r, keys)
}

pub(crate) async fn delete_secret(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let keys = key_body(&body).map(|k| vec![k.0]).unwrap_or_default();
    let r = flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        let (key, _, _) = key_body(&body)?;
        let removed = {
            let mut st = space.lock();
            let before = st.secrets.len();
            st.secrets.retain(|e| e.key != key);
            st.secrets.len() != before
        };
        if removed {
            restart_after_config_change(&hub, &space);
        }
        ok(json!({}))
    })());
    with_keys(r, keys)
}

pub(crate) async fn list_variables(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    flatten(
        readable(&hub, &headers, &ns, &name)
            .and_then(|(s, _)| ok(variables_map(&s.lock().variables))),
    )
}

pub(crate) async fn add_variable(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let keys = key_body(&body).map(|k| vec![k.0]).unwrap_or_default();
    let r = flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        let (key, value, description) = key_body(&body)?;
        let map = {
            let mut st = space.lock();
            upsert(
                &mut st.variables,
                key,
                value.unwrap_or_default(),
                description,
            );
            variables_map(&st.variables)
        };
        restart_after_config_change(&hub, &space);
        ok(map)
    })());
    with_keys(r, keys)
}

pub(crate) async fn delete_variable(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let keys = key_body(&body).map(|k| vec![k.0]).unwrap_or_default();
    let r = flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        let (key, _, _) = key_body(&body)?;
        let (removed, map) = {
            let mut st = space.lock();
            let before = st.variables.len();
            st.variables.retain(|e| e.key != key);
            (st.variables.len() != before, variables_map(&st.variables))
        };
        if removed {
            restart_after_config_change(&hub, &space);
        }
        ok(map)
    })());
    with_keys(r, keys)
}

// ---- validate-yaml, preupload, commit --------------------------------------------------------

pub(crate) async fn validate_yaml(body: Bytes) -> Response {
    flatten((|| {
        let req = parse_json(&body)?;
        let content = req.get("content").and_then(Value::as_str).unwrap_or("");
        let repo_type = req
            .get("repoType")
            .and_then(Value::as_str)
            .unwrap_or("model");
        let errors = match util::card_data(content) {
            Err(e) => vec![e],
            Ok(card) if repo_type == "space" && util::front_matter(content).is_some() => {
                util::space_config_errors(&card)
            }
            Ok(_) => Vec::new(),
        };
        if errors.is_empty() {
            ok(json!({"warnings": []}))
        } else {
            let list: Vec<Value> = errors.iter().map(|m| json!({"message": m})).collect();
            Err(json_response(
                StatusCode::BAD_REQUEST,
                &json!({"errors": list, "warnings": [], "error": errors.join("; ")}),
            ))
        }
    })())
}

fn resolve_rev(rev: &str) -> Result<&str, Response> {
    if rev == "main" || rev == "refs/heads/main" || rev == "HEAD" {
        Ok("main")
    } else {
        Err(hub_error(
            StatusCode::NOT_FOUND,
            Some("RevisionNotFound"),
            &format!("Invalid rev id: {rev} (the Hub stand-in only has the `main` branch)"),
        ))
    }
}

fn clean_path(p: &str) -> Result<String, Response> {
    let mut p = p;
    loop {
        if let Some(r) = p.strip_prefix('/') {
            p = r;
        } else if let Some(r) = p.strip_prefix("./") {
            p = r;
        } else {
            break;
        }
    }
    let bad = p.is_empty()
        || p.split('/')
            .any(|s| s.is_empty() || s == "." || s == ".." || s == ".git");
    if bad {
        return Err(bad_request(&format!("Invalid path in repo: `{p}`")));
    }
    Ok(p.to_owned())
}

pub(crate) async fn preupload(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name, rev)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    flatten(
        async {
            let space = writable(&hub, &headers, &ns, &name)?;
            let rev = resolve_rev(&rev)?;
            let req = parse_json(&body)?;
            let head = git::rev_parse(&hub, &space.repo_dir, rev).await;
            let (patterns, existing) = match &head {
                Some(h) => {
                    let ga = git::read_file(&hub, &space.repo_dir, h, ".gitattributes").await.unwrap_or_default();
                    let entries = git::ls_tree(&hub, &space.repo_dir, h).await.unwrap_or_default();
                    (util::lfs_patterns(&String::from_utf8_lossy(&ga)), entries)
                }
                None => (Vec::new(), Vec::new()),
            };
            let mut extra = req.get("gitAttributes").and_then(Value::as_str).map(util::lfs_patterns).unwrap_or_default();
            extra.extend(patterns);
            let mut files = Vec::new();
            for f in req.get("files").and_then(Value::as_array).cloned().unwrap_or_default() {
                let path = clean_path(f.get("path").and_then(Value::as_str).unwrap_or(""))?;
                let size = f.get("size").and_then(Value::as_u64).unwrap_or(0);
                let sample = f
                    .get("sample")
                    .and_then(Value::as_str)
                    .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                    .unwrap_or_default();
                let lfs = size > 0
                    && (extra.iter().any(|r| r.is_match(&path)) || size > util::MAX_REGULAR_FILE || util::looks_binary(&sample));
                let mut o = json!({"path": path, "uploadMode": if lfs { "lfs" } else { "regular" }, "shouldIgnore": false});
                if let Some(e) = existing.iter().find(|e| e.path == path) {
                    // The remote oid the client compares with: the git blob id for a regular file,
                    // the sha256 of the content for a file stored as an LFS pointer
                    // (huggingface_hub skips an LFS upload when the two match).
                    let pointer = match (&head, lfs) {
                        (Some(h), true) => git::read_file(&hub, &space.repo_dir, h, &path)
                            .await
                            .and_then(|data| util::parse_lfs_pointer(&data)),
                        _ => None,
                    };
                    o["oid"] = match pointer {
                        Some((sha256, _)) => json!(sha256),
                        None => json!(e.blob),
                    };
                }
                files.push(o);
            }
            let mut out = json!({"files": files});
            if let Some(h) = head {
                out["commitOid"] = json!(h);
            }
            ok(out)
        }
        .await,
    )
}

pub(crate) async fn commit(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name, rev)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    flatten(commit_inner(&hub, &headers, &ns, &name, &rev, &body).await)
}

async fn commit_inner(
    hub: &Arc<Hub>,
    headers: &HeaderMap,
    ns: &str,
    name: &str,
    rev: &str,
    body: &[u8],
) -> Res {
    let space = writable(hub, headers, ns, name)?;
    let rev = resolve_rev(rev)?;
    let text = String::from_utf8_lossy(body);
    let mut summary = None;
    let mut description = String::new();
    let mut parent_commit = None;
    let mut changes = Vec::new();
    let mut too_big = Vec::new();
    let mut binary = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line)
            .map_err(|e| bad_request(&format!("Invalid NDJSON line: {e}")))?;
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        match v.get("key").and_then(Value::as_str).unwrap_or("") {
            "header" => {
                summary = value
                    .get("summary")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                description = value
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                parent_commit = value
                    .get("parentCommit")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            "file" => {
                let path = clean_path(value.get("path").and_then(Value::as_str).unwrap_or(""))?;
                let content = value.get("content").and_then(Value::as_str).unwrap_or("");
                let data = match value
                    .get("encoding")
                    .and_then(Value::as_str)
                    .unwrap_or("utf-8")
                {
                    "base64" => base64::engine::general_purpose::STANDARD
                        .decode(content)
                        .map_err(|_| {
                            bad_request(&format!("`{path}`: content is not valid base64"))
                        })?,
                    _ => content.as_bytes().to_vec(),
                };
                if data.len() as u64 > util::MAX_REGULAR_FILE {
                    too_big.push((path.clone(), format!("refs/heads/{rev}")));
                } else if data.len() as u64 >= util::MAX_BINARY_FILE && util::looks_binary(&data) {
                    binary.push((path.clone(), format!("refs/heads/{rev}")));
                }
                changes.push(Change::Put { path, data });
            }
            "lfsFile" => {
                let path = clean_path(value.get("path").and_then(Value::as_str).unwrap_or(""))?;
                let oid = value
                    .get("oid")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let size = value.get("size").and_then(Value::as_u64);
                if !hub.lfs_has(&oid, size) {
                    return Err(bad_request(&format!(
                        "LFS file `{path}` (oid {oid}) was not uploaded: upload it through the LFS batch API first"
                    )));
                }
                let size = size.or_else(|| {
                    hub.lfs_object_path(&oid)
                        .and_then(|p| std::fs::metadata(p).ok())
                        .map(|m| m.len())
                });
                changes.push(Change::Put {
                    path,
                    data: util::lfs_pointer(&oid, size.unwrap_or(0)).into_bytes(),
                });
            }
            "deletedFile" => {
                let path = clean_path(value.get("path").and_then(Value::as_str).unwrap_or(""))?;
                changes.push(Change::Delete { path });
            }
            "deletedFolder" => {
                let path = clean_path(value.get("path").and_then(Value::as_str).unwrap_or(""))?;
                changes.push(Change::DeleteFolder { path });
            }
            other => {
                return Err(bad_request(&format!(
                    "Unknown key `{other}` in the commit payload"
                )));
            }
        }
    }
    let Some(summary) = summary.filter(|s| !s.trim().is_empty()) else {
        return Err(bad_request(
            "The commit payload needs a `header` line with a non-empty `summary`",
        ));
    };
    if changes.is_empty() {
        return Err(bad_request(
            "Add a line with the key `lfsFile`, `file` or `deletedFile`",
        ));
    }
    if !too_big.is_empty() {
        return Err(bad_request(&format!(
            "Bad request for commit endpoint: {}",
            util::large_files_message(&too_big)
        )));
    }
    if !binary.is_empty() {
        return Err(bad_request(&format!(
            "Bad request for commit endpoint: {}",
            util::binary_files_message(&binary)
        )));
    }
    let who = caller(hub, headers)?
        .map(|c| c.user)
        .unwrap_or_else(|| "system".to_owned());
    let _guard = hub.write_lock.lock().await;
    let head = git::rev_parse(hub, &space.repo_dir, rev).await;
    if let (Some(p), Some(h)) = (&parent_commit, &head) {
        if !h.starts_with(&p.to_ascii_lowercase()) {
            return Err(hub_error(
                StatusCode::PRECONDITION_FAILED,
                None,
                "A commit has happened since. Please refresh and try again. (parentCommit is not the head of the branch)",
            ));
        }
    }
    let message = if description.is_empty() {
        summary
    } else {
        format!("{summary}\n\n{description}")
    };
    let oid = git::commit_changes(
        hub,
        &space.repo_dir,
        head.as_deref(),
        &changes,
        &message,
        &who,
    )
    .await
    .map_err(|e| match e {
        CommitError::EntryNotFound(p) => hub_error(
            StatusCode::NOT_FOUND,
            Some("EntryNotFound"),
            &format!("A file with this name doesn't exist: {p}"),
        ),
        CommitError::ParentMismatch => hub_error(
            StatusCode::CONFLICT,
            None,
            "The branch moved during the commit; retry",
        ),
        CommitError::Git(m) => hub_error(StatusCode::INTERNAL_SERVER_ERROR, None, &m),
    })?;
    drop(_guard);
    space.lock().last_modified = util::now_iso();
    runtime::trigger(hub, &space);
    ok(json!({
        "success": true,
        "commitOid": oid,
        "commitUrl": format!("{}/spaces/{}/commit/{oid}", hub.base_url(), space.id),
        "hookOutput": "",
    }))
}

// ---- git and LFS over the repo URL -----------------------------------------------------------

pub(crate) async fn git_route(
    State(hub): H,
    method: Method,
    headers: HeaderMap,
    Path((ns, repo, rest)): Path<(String, String, String)>,
    q: RawQuery,
    body: Bytes,
) -> Response {
    let name = repo.strip_suffix(".git").unwrap_or(&repo);
    let who = match caller(&hub, &headers) {
        Ok(w) => w,
        Err(_) if rest.starts_with("info/lfs") => {
            let mut r = (
                StatusCode::UNAUTHORIZED,
                "{\"message\":\"Invalid credentials\"}",
            )
                .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Authentication required\""),
            );
            return r;
        }
        Err(_) => return git::basic_challenge(),
    };
    let Some(space) = hub.space(&ns, name) else {
        if rest.starts_with("info/lfs") {
            return (
                StatusCode::NOT_FOUND,
                "{\"message\":\"Repository not found\"}",
            )
                .into_response();
        }
        return (StatusCode::NOT_FOUND, "Repository not found\n").into_response();
    };
    match (method.as_str(), rest.as_str()) {
        ("POST", "info/lfs/objects/batch") => lfs::batch(hub.clone(), space, who, &body).await,
        ("POST", "info/lfs/locks/verify") => lfs::locks(true),
        ("GET", "info/lfs/locks") => lfs::locks(false),
        (m, r) if r.starts_with("info/lfs") => {
            let _ = m;
            (StatusCode::NOT_FOUND, "{\"message\":\"Not found\"}").into_response()
        }
        (m, r) => {
            git::smart_http(
                hub.clone(),
                space,
                r,
                m,
                q.0.as_deref().unwrap_or(""),
                &headers,
                body,
                who,
            )
            .await
        }
    }
}
