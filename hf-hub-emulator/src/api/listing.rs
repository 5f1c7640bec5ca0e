//! The Space listing: `GET /api/spaces?author=&search=&filter=&sort=&direction=&limit=&full=&expand=`,
//! paginated with a `Link: <…&cursor=…>; rel="next"` header as the Hub does (huggingface_hub
//! `paginate`, huggingface.js `listSpaces` follow it). A sweep finds `NS/NAME-pr-N` previews here.
// The error type is the HTTP answer itself, built once per request: boxing it buys nothing.
#![allow(clippy::result_large_err)]

use std::cmp::Ordering;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde_json::{Map, Value, json};

use super::common::{
    H, Res, bad_request, expand_values, flatten, ok, page_limit, query_pairs, query_value,
    with_next_link,
};
use crate::git;
use crate::hub::{Hub, Space, can_read};
use crate::info;
use crate::util::{hub_error, lock};

/// The Hub's largest page (and its default page when no `limit` is given).
const MAX_PAGE: usize = 1000;

pub(crate) async fn list_spaces(State(hub): H, headers: HeaderMap, q: RawQuery) -> Response {
    flatten(list(&hub, &headers, &q.0).await)
}

/// What the query asks for.
struct ListQuery {
    author: Option<String>,
    search: Option<String>,
    filters: Vec<String>,
    sort: Option<String>,
    ascending: bool,
    expand: Vec<String>,
    full: bool,
    limit: usize,
    offset: usize,
}

impl ListQuery {
    fn parse(hub: &Hub, pairs: &[(String, String)]) -> Result<ListQuery, Response> {
        let lower = |k: &str| query_value(pairs, k).map(str::to_ascii_lowercase);
        let offset = match query_value(pairs, "cursor") {
            None => 0,
            Some(c) => decode_cursor(c).ok_or_else(|| bad_request("Invalid cursor"))?,
        };
        Ok(ListQuery {
            author: lower("author"),
            search: lower("search"),
            filters: pairs
                .iter()
                .filter(|(k, _)| k == "filter")
                .map(|(_, v)| v.to_ascii_lowercase())
                .collect(),
            sort: query_value(pairs, "sort").map(str::to_owned),
            ascending: query_value(pairs, "direction") == Some("1"),
            expand: expand_values(pairs)?,
            full: matches!(query_value(pairs, "full"), Some("true" | "1" | "True")),
            limit: page_limit(pairs, hub.page_size.unwrap_or(MAX_PAGE), MAX_PAGE)?,
            offset,
        })
    }

    fn wants(&self, space: &Space) -> bool {
        let id = space.id.to_ascii_lowercase();
        self.author
            .as_ref()
            .is_none_or(|a| space.ns.eq_ignore_ascii_case(a))
            && self.search.as_ref().is_none_or(|s| id.contains(s.as_str()))
    }
}

/// The offset a cursor stands for (the cursor is opaque to clients: base64 of `{"offset": n}`).
fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    usize::try_from(v.get("offset")?.as_u64()?).ok()
}

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({ "offset": offset }).to_string())
}

/// The key a listing sorts by: the Hub's names (`createdAt`, `lastModified`, `likes`,
/// `trendingScore`, `id`) or huggingface_hub's (`created_at`, `last_modified`, `trending_score`).
fn sort_field(sort: Option<&str>) -> &'static str {
    match sort {
        Some("lastModified" | "last_modified") => "lastModified",
        Some("likes") => "likes",
        Some("trendingScore" | "trending_score") => "trendingScore",
        Some("id") => "id",
        _ => "createdAt",
    }
}

fn compare(a: &Map<String, Value>, b: &Map<String, Value>, field: &str) -> Ordering {
    let key = |m: &Map<String, Value>| m.get(field).cloned().unwrap_or(Value::Null);
    let ord = match (key(a), key(b)) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (x, y) => x.as_str().unwrap_or("").cmp(y.as_str().unwrap_or("")),
    };
    let id = |m: &Map<String, Value>| m.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
    ord.then_with(|| id(a).cmp(&id(b)))
}

async fn list(hub: &Arc<Hub>, headers: &HeaderMap, q: &Option<String>) -> Res {
    let who = hub.caller(headers)?;
    let pairs = query_pairs(q);
    let query = ListQuery::parse(hub, &pairs)?;
    let spaces: Vec<Arc<Space>> = lock(&hub.spaces).values().cloned().collect();
    let mut found = Vec::new();
    for space in spaces {
        if !query.wants(&space) || !can_read(&space.lock(), &space.ns, who.as_ref()) {
            continue;
        }
        let Some(sha) = git::rev_parse(hub, &space.repo_dir, "refs/heads/main").await else {
            continue;
        };
        let fields = info::space_fields(hub, &space, &sha, false)
            .await
            .map_err(|e| hub_error(StatusCode::INTERNAL_SERVER_ERROR, None, &e))?;
        let tags: Vec<String> = fields
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        if query.filters.iter().all(|f| tags.contains(f)) {
            found.push(fields);
        }
    }
    // Newest first unless told otherwise (`direction=1`: ascending).
    let field = sort_field(query.sort.as_deref());
    found.sort_by(|a, b| {
        let ord = compare(a, b, field);
        if query.ascending { ord } else { ord.reverse() }
    });
    let end = query.offset.saturating_add(query.limit).min(found.len());
    let page: Vec<Value> = found
        .get(query.offset.min(end)..end)
        .unwrap_or_default()
        .iter()
        .map(|f| info::list_item(f, &query.expand, query.full))
        .collect();
    let next = (end < found.len()).then(|| next_url(hub, &pairs, end));
    Ok(with_next_link(ok(json!(page))?, next))
}

/// The next page's URL: the same query, its `cursor` moved on.
fn next_url(hub: &Hub, pairs: &[(String, String)], offset: usize) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(k, _)| k != "cursor") {
        query.append_pair(k, v);
    }
    query.append_pair("cursor", &encode_cursor(offset));
    format!("{}/api/spaces?{}", hub.base_url(), query.finish())
}
