//! Repos: `whoami-v2`, `repos/create`, `repos/delete`, `validate-yaml`, the Space info
//! (`GET /api/spaces/{id}[/revision/{rev}]`) and `auth-check[/write]`.
// The error type is the HTTP answer itself, built once per request: boxing it buys nothing.
#![allow(clippy::result_large_err)]

use std::path::Path as FsPath;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::common::{
    H, Res, bad_request, expand_values, flatten, forbidden, ok, parse_json, query_pairs, readable,
    requested_visibility, writable,
};
use crate::auth::{Caller, auth_required};
use crate::git::{self, Change, CommitError};
use crate::hub::{Hub, KeyEntry, LogBuf, Space, SpaceState, Upstream, Visibility};
use crate::util::{self, hub_error, json_response, lock};
use crate::{info, proxy, runtime};

// ---- request bodies ----------------------------------------------------------------------------

/// `POST /api/repos/create`. Fields the stand-in does not emulate (e.g. `storage`) are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    name: Option<String>,
    organization: Option<String>,
    #[serde(rename = "type")]
    repo_type: Option<String>,
    sdk: Option<String>,
    visibility: Option<String>,
    private: Option<bool>,
    hardware: Option<String>,
    sleep_time_seconds: Option<i64>,
    secrets: Option<Vec<KeyItem>>,
    variables: Option<Vec<KeyItem>>,
}

/// One secret or variable of a create request.
#[derive(Deserialize)]
struct KeyItem {
    key: Option<String>,
    value: Option<String>,
    description: Option<String>,
}

/// `DELETE /api/repos/delete`.
#[derive(Deserialize)]
struct DeleteBody {
    name: Option<String>,
    organization: Option<String>,
}

/// `POST /api/validate-yaml`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidateYamlBody {
    content: Option<String>,
    repo_type: Option<String>,
}

/// `namespace/name` from `name` (maybe `ns/name`) and `organization`, defaulting to the caller.
fn split_repo_id(full: &str, organization: Option<&str>, user: &str) -> (String, String) {
    match (full.split_once('/'), organization) {
        (Some((n, m)), _) => (n.to_owned(), m.to_owned()),
        (None, Some(org)) => (org.to_owned(), full.to_owned()),
        (None, None) => (user.to_owned(), full.to_owned()),
    }
}

// ---- whoami ------------------------------------------------------------------------------------

static STARTED: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub(crate) async fn whoami(State(hub): H, headers: HeaderMap) -> Response {
    flatten((|| {
        let who = hub.caller(&headers)?.ok_or_else(auth_required)?;
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

// ---- create / delete ---------------------------------------------------------------------------

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

fn key_entries(items: Option<Vec<KeyItem>>) -> Result<Vec<KeyEntry>, Response> {
    let mut out: Vec<KeyEntry> = Vec::new();
    for item in items.unwrap_or_default() {
        let Some(key) = item.key.filter(|k| !k.is_empty()) else {
            return Err(bad_request(
                "Each secret and variable needs a non-empty `key`",
            ));
        };
        out.retain(|e| e.key != key);
        out.push(KeyEntry {
            key,
            value: item.value.unwrap_or_default(),
            description: item.description,
            updated_at: util::now_iso(),
        });
    }
    Ok(out)
}

pub(crate) async fn create(State(hub): H, headers: HeaderMap, body: Bytes) -> Response {
    flatten(create_inner(&hub, &headers, &body).await)
}

/// A Space to create, as the request asks for it (checked).
struct NewSpace {
    ns: String,
    name: String,
    visibility: Visibility,
    sdk: String,
    hardware: String,
    sleep_time: i64,
    secrets: Vec<KeyEntry>,
    variables: Vec<KeyEntry>,
}

impl NewSpace {
    /// The create request of `who`, checked as the Hub checks it (type, name, namespace, role,
    /// SDK, secrets and variables).
    fn from_request(who: &Caller, body: &[u8]) -> Result<NewSpace, Response> {
        let req: CreateBody = parse_json(body)?;
        let (ns, name) = split_repo_id(
            req.name.as_deref().unwrap_or(""),
            req.organization.as_deref(),
            &who.user,
        );
        if req.repo_type.as_deref().unwrap_or("model") != "space" {
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
        let sdk = req.sdk.unwrap_or_else(|| "static".to_owned());
        if !util::SDKS.contains(&sdk.as_str()) {
            return Err(bad_request(&format!(
                "\"sdk\" must be one of [{}]",
                util::SDKS.join(", ")
            )));
        }
        let visibility = requested_visibility(req.visibility.as_deref(), req.private)?
            .unwrap_or(Visibility::Public);
        let hardware = req
            .hardware
            .unwrap_or_else(|| util::FREE_HARDWARE.to_owned());
        // The sleep time of free hardware is fixed (48 h): a value asked for is ignored there.
        let sleep_time = match req.sleep_time_seconds {
            Some(s) if hardware != util::FREE_HARDWARE => s,
            _ => -1,
        };
        Ok(NewSpace {
            ns,
            name,
            visibility,
            sdk,
            hardware,
            sleep_time,
            secrets: key_entries(req.secrets)?,
            variables: key_entries(req.variables)?,
        })
    }

    /// The Space's state at creation: BUILDING its first generation.
    fn state(self, hub: &Hub, now: String) -> SpaceState {
        SpaceState {
            visibility: self.visibility,
            sdk: self.sdk,
            hardware: self.hardware,
            sleep_time: self.sleep_time,
            secrets: self.secrets,
            variables: self.variables,
            stage: "BUILDING".into(),
            error_message: None,
            generation: 0,
            cancel: hub.shutdown.child_token(),
            build_log: LogBuf::default(),
            run_log: LogBuf::default(),
            upstream: Upstream::None,
            last_modified: now,
            previous_serves: false,
            script: None,
            script_once: None,
            push_races: 0,
            races_played: 0,
        }
    }
}

/// A new bare repository with the Hub's `initial commit` by `system`: the default LFS
/// `.gitattributes` and a README with front matter.
async fn init_space_repo(
    hub: &Hub,
    repo_dir: &FsPath,
    name: &str,
    sdk: &str,
) -> Result<(), String> {
    let _ = tokio::fs::remove_dir_all(repo_dir).await;
    git::init_repo(hub, repo_dir).await?;
    let changes = vec![
        Change::Put {
            path: ".gitattributes".into(),
            data: util::default_gitattributes().into_bytes(),
        },
        Change::Put {
            path: "README.md".into(),
            data: readme_for(name, sdk).into_bytes(),
        },
    ];
    git::commit_changes(hub, repo_dir, None, &changes, "initial commit", "system")
        .await
        .map(|_| ())
        .map_err(|e| match e {
            CommitError::Git(m) => m,
            _ => "initial commit".into(),
        })
}

async fn create_inner(hub: &Arc<Hub>, headers: &HeaderMap, body: &[u8]) -> Res {
    let who = hub.caller(headers)?.ok_or_else(auth_required)?;
    let new = NewSpace::from_request(&who, body)?;
    crate::plans::check_create(hub, &who.user, &new.sdk, &new.hardware)?;
    if new.visibility == Visibility::Protected {
        crate::plans::check_protected(hub, &who.user)?;
    }
    let _guard = hub.write_lock.lock().await;
    if let Some(existing) = hub.space(&new.ns, &new.name) {
        let url = format!("{}/spaces/{}", hub.base_url(), existing.id);
        return Err(json_response(
            StatusCode::CONFLICT,
            &json!({"error": "You already created this space repo", "url": url}),
        ));
    }
    let id = format!("{}/{}", new.ns, new.name);
    let repo_dir = hub
        .repos_dir
        .join(&new.ns)
        .join(format!("{}.git", new.name));
    let internal = |e: String| {
        hub_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            &format!("Creating `{id}` failed: {e}"),
        )
    };
    init_space_repo(hub, &repo_dir, &new.name, &new.sdk)
        .await
        .map_err(internal)?;
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
        ns: new.ns.clone(),
        name: new.name.clone(),
        mongo_id: util::mongo_id(),
        created_at: now.clone(),
        repo_dir,
        proxy_url: format!("http://127.0.0.1:{port}"),
        st: std::sync::Mutex::new(new.state(hub, now)),
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
            let who = hub.caller(&headers)?.ok_or_else(auth_required)?;
            let req: DeleteBody = parse_json(&body)?;
            let (ns, name) = split_repo_id(
                req.name.as_deref().unwrap_or(""),
                req.organization.as_deref(),
                &who.user,
            );
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

// ---- validate-yaml -----------------------------------------------------------------------------

pub(crate) async fn validate_yaml(body: Bytes) -> Response {
    flatten((|| {
        let req: ValidateYamlBody = parse_json(&body)?;
        let content = req.content.as_deref().unwrap_or("");
        let repo_type = req.repo_type.as_deref().unwrap_or("model");
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

// ---- space info ------------------------------------------------------------------------------

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
    let expand = expand_values(&pairs)?;
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
    let full = info::space_fields(hub, &space, &sha, blobs)
        .await
        .map_err(|e| hub_error(StatusCode::INTERNAL_SERVER_ERROR, None, &e))?;
    ok(info::info_answer(full, &expand))
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
