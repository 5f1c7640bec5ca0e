//! Commit history: `GET /api/spaces/{id}/commits/{rev}?limit=&p=&expand[]=formatted`, read from
//! the bare repository (huggingface_hub `list_repo_commits`, huggingface.js `listCommits` and
//! `countCommits`). Newest first, pages of `limit` (default 50, at most 1000), page `p` from 0,
//! `X-Total-Count` and a `Link: <…?p=N+1&limit=L>; rel="next"` header, as a recorded Hub
//! answer shows.
// The error type is the HTTP answer itself, built once per request: boxing it buys nothing.
#![allow(clippy::result_large_err)]

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::common::{
    H, Res, bad_request, flatten, ok, page_limit, query_pairs, query_value, readable,
    with_next_link,
};
use crate::git::{self, LogEntry};
use crate::hub::Hub;
use crate::util::{self, hub_error};

/// The Hub's default page of commits.
const DEFAULT_PAGE: usize = 50;
/// The Hub's largest page of commits (huggingface.js: "Can be set to 1000").
const MAX_PAGE: usize = 1000;
/// The email domain of Hub users' commits: its local part is the user.
const NOREPLY: &str = "@users.noreply.huggingface.co";

pub(crate) async fn commits(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name, rev)): Path<(String, String, String)>,
    q: RawQuery,
) -> Response {
    flatten(list(&hub, &headers, &ns, &name, &rev, &q.0).await)
}

async fn list(
    hub: &Hub,
    headers: &HeaderMap,
    ns: &str,
    name: &str,
    rev: &str,
    q: &Option<String>,
) -> Res {
    let (space, _) = readable(hub, headers, ns, name)?;
    let pairs = query_pairs(q);
    let limit = page_limit(&pairs, hub.page_size.unwrap_or(DEFAULT_PAGE), MAX_PAGE)?;
    let page: u64 = match query_value(&pairs, "p") {
        None => 0,
        Some(p) => p
            .parse()
            .map_err(|_| bad_request(&format!("\"p\" must be a number, got \"{p}\"")))?,
    };
    let formatted = pairs
        .iter()
        .any(|(k, v)| (k == "expand[]" || k == "expand") && v == "formatted");
    let target = if rev == "HEAD" { "main" } else { rev };
    let Some(sha) = git::rev_parse(hub, &space.repo_dir, target).await else {
        return Err(hub_error(
            StatusCode::NOT_FOUND,
            Some("RevisionNotFound"),
            &format!("Invalid rev id: {rev}"),
        ));
    };
    let internal = |e: String| hub_error(StatusCode::INTERNAL_SERVER_ERROR, None, &e);
    let total = git::count_commits(hub, &space.repo_dir, &sha)
        .await
        .map_err(internal)?;
    let skip = page.saturating_mul(limit as u64);
    let entries = git::log(hub, &space.repo_dir, &sha, skip, limit as u64)
        .await
        .map_err(internal)?;
    let items: Vec<Value> = entries
        .iter()
        .map(|e| commit_json(hub, e, formatted))
        .collect();
    let next = (skip + (limit as u64) < total).then(|| {
        let mut url = format!(
            "{}/api/spaces/{}/commits/{}?p={}&limit={limit}",
            hub.base_url(),
            space.id,
            url::form_urlencoded::byte_serialize(rev.as_bytes()).collect::<String>(),
            page + 1
        );
        if formatted {
            url.push_str("&expand%5B%5D=formatted");
        }
        url
    });
    let mut resp = with_next_link(ok(json!(items))?, next);
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        resp.headers_mut().insert("x-total-count", v);
    }
    Ok(resp)
}

/// One commit as the Hub lists it: `id`, `title` (the first line), `message` (the rest, `""`
/// when only blank), `date`, `authors` (`{user, avatar}`: the author, then `Co-authored-by`
/// trailers), and with `formatted` their HTML (escaped text here).
fn commit_json(hub: &Hub, e: &LogEntry, formatted: bool) -> Value {
    let title = e.message.lines().next().unwrap_or("").to_owned();
    let rest = &e.message[title.len().min(e.message.len())..];
    let message = if rest.trim().is_empty() { "" } else { rest };
    let mut users = vec![user_of(&e.author_name, &e.author_email)];
    for line in e.message.lines() {
        let Some(co) = line.trim().strip_prefix("Co-authored-by:") else {
            continue;
        };
        let (name, email) = match co.trim().split_once('<') {
            Some((n, rest)) => (n.trim(), rest.trim_end_matches('>').trim()),
            None => (co.trim(), ""),
        };
        let user = user_of(name, email);
        if !users.contains(&user) {
            users.push(user);
        }
    }
    let authors: Vec<Value> = users
        .iter()
        .map(|u| json!({"user": u, "avatar": format!("{}/avatars/default.svg", hub.base_url())}))
        .collect();
    let date = time::OffsetDateTime::from_unix_timestamp(e.time)
        .map(util::iso)
        .unwrap_or_else(|_| util::now_iso());
    let mut v = json!({
        "id": e.id,
        "title": title,
        "message": message,
        "date": date,
        "authors": authors,
    });
    if formatted {
        v["formatted"] = json!({"title": html_escape(&title), "message": html_escape(message)});
    }
    v
}

/// The Hub user of a commit identity: the local part of a `users.noreply.huggingface.co`
/// address, else the name (UNCONFIRMED: the Hub maps its users' verified emails too).
fn user_of(name: &str, email: &str) -> String {
    match email.strip_suffix(NOREPLY) {
        Some(user) if !user.is_empty() => user.to_owned(),
        _ => name.to_owned(),
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
