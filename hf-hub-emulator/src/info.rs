//! What the Hub answers about a Space: every field of `GET /api/spaces/{id}` at a revision, the
//! `expand` selection, and the shorter item of the Space listing (`GET /api/spaces`). The routes
//! (`api/repos.rs`, `api/listing.rs`) ask; this module reads the state and the bare repository.

use serde_json::{Map, Value, json};

use crate::git;
use crate::hub::{Hub, Space};
use crate::{runtime, util};

/// The `expand` values the Hub accepts for a Space (huggingface_hub `ExpandSpaceProperty_T`,
/// plus `xetEnabled` that older clients send); any other is a 400.
pub(crate) const EXPAND: [&str; 20] = [
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

/// The fields of a listing item without `full` or `expand` (huggingface_hub's `list_spaces`:
/// `full` is what adds `lastModified`, `siblings` and `cardData`).
const LIST_DEFAULT: [&str; 8] = [
    "_id",
    "id",
    "likes",
    "trendingScore",
    "private",
    "sdk",
    "tags",
    "createdAt",
];

/// Fields of the default answer that `full` adds to a listing item.
const LIST_FULL: [&str; 9] = [
    "author",
    "sha",
    "lastModified",
    "gated",
    "disabled",
    "subdomain",
    "visibility",
    "cardData",
    "siblings",
];

/// The first `expand` value the Hub would refuse, if any.
pub(crate) fn unknown_expand(expand: &[String]) -> Option<&str> {
    expand
        .iter()
        .map(String::as_str)
        .find(|e| !EXPAND.contains(e))
}

/// Every field the stand-in knows of `space` at commit `sha`; `blobs` adds each file's size,
/// blob id and LFS details to `siblings`.
pub(crate) async fn space_fields(
    hub: &Hub,
    space: &Space,
    sha: &str,
    blobs: bool,
) -> Result<Map<String, Value>, String> {
    let entries = git::ls_tree(hub, &space.repo_dir, sha).await?;
    let readme = git::read_file(hub, &space.repo_dir, sha, "README.md").await;
    let card = readme
        .map(|r| util::card_data(&String::from_utf8_lossy(&r)).unwrap_or_else(|_| json!({})))
        .unwrap_or(json!({}));
    let siblings = siblings(hub, space, sha, &entries, blobs).await;
    let (visibility, sdk, last_modified) = {
        let st = space.lock();
        (st.visibility, st.sdk.clone(), st.last_modified.clone())
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
    full.insert("private".into(), json!(visibility.repo_private()));
    full.insert("visibility".into(), json!(visibility.as_str()));
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
    full.insert("runtime".into(), runtime::runtime_json(space));
    full.insert("models".into(), json!([]));
    full.insert("datasets".into(), json!([]));
    full.insert("usedStorage".into(), json!(used));
    full.insert("trendingScore".into(), json!(0));
    full.insert("region".into(), json!("us"));
    full.insert("resourceGroup".into(), Value::Null);
    full.insert("xetEnabled".into(), json!(false));
    Ok(full)
}

/// The `siblings` of a revision: each file's name, and with `blobs` its size and blob id (for an
/// LFS pointer, the object's size and `lfs`).
async fn siblings(
    hub: &Hub,
    space: &Space,
    sha: &str,
    entries: &[git::TreeEntry],
    blobs: bool,
) -> Vec<Value> {
    let mut siblings = Vec::new();
    for e in entries {
        let mut s = json!({"rfilename": e.path});
        if blobs {
            s["size"] = json!(e.size);
            s["blobId"] = json!(e.blob);
            if e.size < 1024 {
                if let Some(data) = git::read_file(hub, &space.repo_dir, sha, &e.path).await {
                    if let Some((oid, size)) = util::parse_lfs_pointer(&data) {
                        s["size"] = json!(size);
                        s["lfs"] = json!({"size": size, "sha256": oid, "pointerSize": e.size});
                    }
                }
            }
        }
        siblings.push(s);
    }
    siblings
}

/// The answer of `GET /api/spaces/{id}` for `expand`: without it the default fields (all but
/// `resourceGroup` and `xetEnabled`); with it only `_id`, `id` and the fields asked for.
pub(crate) fn info_answer(mut full: Map<String, Value>, expand: &[String]) -> Value {
    if expand.is_empty() {
        full.remove("resourceGroup");
        full.remove("xetEnabled");
        return Value::Object(full);
    }
    pick(
        &full,
        ["_id", "id"]
            .into_iter()
            .chain(expand.iter().map(String::as_str)),
    )
}

/// A listing item: the short default, with `full` the default answer's main fields too, with
/// `expand` only `_id`, `id` and the fields asked for.
pub(crate) fn list_item(full: &Map<String, Value>, expand: &[String], all: bool) -> Value {
    if !expand.is_empty() {
        return pick(
            full,
            ["_id", "id"]
                .into_iter()
                .chain(expand.iter().map(String::as_str)),
        );
    }
    let extra: &[&str] = if all { &LIST_FULL } else { &[] };
    pick(full, LIST_DEFAULT.iter().chain(extra).copied())
}

fn pick<'a>(full: &Map<String, Value>, keys: impl IntoIterator<Item = &'a str>) -> Value {
    let mut out = Map::new();
    for key in keys {
        if let Some(v) = full.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    Value::Object(out)
}
