//! The LFS batch API (`basic` and `multipart` transfers) and the upload/verify/download targets.
// The error type is the HTTP answer itself, built once per request: boxing it buys nothing.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::hub::{Hub, Space, can_read, can_write};
use crate::util::lock;

const LFS_JSON: &str = "application/vnd.git-lfs+json";

fn lfs_json(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(LFS_JSON));
    resp
}

fn lfs_error(status: StatusCode, msg: &str) -> Response {
    lfs_json(status, &json!({ "message": msg }))
}

/// The 401 of the LFS API, with its Basic challenge.
fn lfs_auth_required() -> Response {
    let mut r = lfs_error(StatusCode::UNAUTHORIZED, "Authentication required");
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Authentication required\""),
    );
    r
}

/// `POST /spaces/{ns}/{name}.git/info/lfs/objects/batch`.
pub(crate) async fn batch(
    hub: Arc<Hub>,
    space: Arc<Space>,
    caller: Option<Caller>,
    body: &[u8],
) -> Response {
    let readable = can_read(&space.lock(), &space.ns, caller.as_ref());
    if !readable {
        if caller.is_none() {
            return lfs_auth_required();
        }
        return lfs_error(StatusCode::NOT_FOUND, "Repository not found");
    }
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return lfs_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The batch request is not valid JSON",
        );
    };
    let operation = req.get("operation").and_then(Value::as_str).unwrap_or("");
    let transfers: Vec<&str> = req
        .get("transfers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let objects = req
        .get("objects")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match operation {
        "upload" => {
            if caller.is_none() {
                return lfs_auth_required();
            }
            if !can_write(&space.ns, caller.as_ref()) {
                return lfs_error(
                    StatusCode::FORBIDDEN,
                    "You don't have write access to this repository",
                );
            }
            batch_upload(&hub, &space, transfers.contains(&"multipart"), objects)
        }
        "download" => batch_download(&hub, &objects),
        _ => lfs_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "operation must be `upload` or `download`",
        ),
    }
}

/// The upload answer: nothing to do for a stored object; else `basic` upload and verify
/// targets, or `multipart` ones above the chunk size when the client lists it. The targets are
/// the stand-in's own, or the foreign host's when a test points them there.
fn batch_upload(hub: &Hub, space: &Space, multipart_ok: bool, objects: Vec<Value>) -> Response {
    let foreign = |on: &std::sync::atomic::AtomicBool| {
        if on.load(std::sync::atomic::Ordering::SeqCst) {
            hub.foreign.url()
        } else {
            hub.base_url().to_owned()
        }
    };
    let base = foreign(&hub.lfs_foreign.0);
    let verify_base = foreign(&hub.lfs_foreign.1);
    let mut any_multipart = false;
    let mut out = Vec::new();
    for o in objects {
        let oid = o
            .get("oid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let size = o.get("size").and_then(Value::as_u64).unwrap_or(0);
        if hub.lfs_object_path(&oid).is_none() {
            out.push(json!({"oid": oid, "size": size, "error": {"code": 422, "message": "Invalid object id"}}));
            continue;
        }
        if hub.lfs_has(&oid, Some(size)) {
            out.push(json!({"oid": oid, "size": size}));
            continue;
        }
        lock(&hub.pending_lfs).insert(oid.clone(), size);
        let verify = json!({"href": format!("{verify_base}/lfs/verify/{}", space.id)});
        if multipart_ok && size > hub.chunk_size {
            any_multipart = true;
            out.push(
                json!({"oid": oid, "size": size, "authenticated": true, "actions": {
                    "upload": multipart_upload(hub, &base, &oid, size),
                    "verify": verify,
                }}),
            );
        } else {
            out.push(
                json!({"oid": oid, "size": size, "authenticated": true, "actions": {
                    "upload": {"href": format!("{base}/lfs/upload/{oid}"), "expires_in": 86400},
                    "verify": verify,
                }}),
            );
        }
    }
    let transfer = if any_multipart { "multipart" } else { "basic" };
    lfs_json(
        StatusCode::OK,
        &json!({"transfer": transfer, "objects": out, "hash_algo": "sha256"}),
    )
}

/// The `upload` action of a multipart transfer: the completion URL, and in its header the chunk
/// size and one URL per part.
fn multipart_upload(hub: &Hub, base: &str, oid: &str, size: u64) -> Value {
    let parts = size.div_ceil(hub.chunk_size);
    let mut header = serde_json::Map::new();
    header.insert("chunk_size".into(), json!(hub.chunk_size.to_string()));
    for n in 1..=parts {
        header.insert(
            format!("{n:05}"),
            json!(format!("{base}/lfs/multipart/{oid}/{n}")),
        );
    }
    json!({"href": format!("{base}/lfs/multipart/{oid}/complete"), "header": header, "expires_in": 86400})
}

/// The download answer: a download target per stored object, a 404 error per missing one.
fn batch_download(hub: &Hub, objects: &[Value]) -> Response {
    let base = hub.base_url();
    let out: Vec<Value> = objects
        .iter()
        .map(|o| {
            let oid = o.get("oid").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase();
            let size = o.get("size").and_then(Value::as_u64).unwrap_or(0);
            if hub.lfs_has(&oid, None) {
                json!({"oid": oid, "size": size, "authenticated": true,
                    "actions": {"download": {"href": format!("{base}/lfs/objects/{oid}"), "expires_in": 86400}}})
            } else {
                json!({"oid": oid, "size": size, "error": {"code": 404, "message": "Object does not exist"}})
            }
        })
        .collect();
    lfs_json(
        StatusCode::OK,
        &json!({"transfer": "basic", "objects": out, "hash_algo": "sha256"}),
    )
}

/// `POST .../info/lfs/locks/verify` and `GET .../info/lfs/locks`: no locks.
pub(crate) fn locks(verify: bool) -> Response {
    if verify {
        lfs_json(StatusCode::OK, &json!({"ours": [], "theirs": []}))
    } else {
        lfs_json(StatusCode::OK, &json!({"locks": []}))
    }
}

async fn store(hub: &Hub, oid: &str, data: &[u8]) -> Result<(), Response> {
    let Some(path) = hub.lfs_object_path(oid) else {
        return Err(lfs_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid object id",
        ));
    };
    let expected = lock(&hub.pending_lfs).get(oid).copied();
    // The same upload again (its first answer was lost): like a presigned PUT, the address
    // stays good, and the stored object is the same.
    if expected.is_none() && path.exists() && hex::encode(Sha256::digest(data)) == oid {
        return Ok(());
    }
    let Some(expected) = expected else {
        return Err(lfs_error(
            StatusCode::FORBIDDEN,
            "No upload was requested for this object: call the batch API first",
        ));
    };
    if data.len() as u64 != expected {
        return Err(lfs_error(
            StatusCode::BAD_REQUEST,
            &format!("Size mismatch: expected {expected}, got {}", data.len()),
        ));
    }
    let actual = hex::encode(Sha256::digest(data));
    if actual != oid {
        return Err(lfs_error(
            StatusCode::BAD_REQUEST,
            "The uploaded content does not match the object id (sha256)",
        ));
    }
    let tmp = hub
        .lfs_dir
        .join(format!(".tmp-{oid}-{}", crate::util::mongo_id()));
    tokio::fs::write(&tmp, data)
        .await
        .map_err(|e| lfs_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()))?;
    tokio::fs::rename(&tmp, &path)
        .await
        .map_err(|e| lfs_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()))?;
    lock(&hub.pending_lfs).remove(oid);
    Ok(())
}

/// `PUT /lfs/upload/{oid}` (basic transfer).
pub(crate) async fn upload(
    State(hub): State<Arc<Hub>>,
    Path(oid): Path<String>,
    body: Bytes,
) -> Response {
    match store(&hub, &oid.to_ascii_lowercase(), &body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(r) => r,
    }
}

/// `PUT /lfs/multipart/{oid}/{part}`: one part, answered with its `ETag`.
pub(crate) async fn upload_part(
    State(hub): State<Arc<Hub>>,
    Path((oid, part)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let oid = oid.to_ascii_lowercase();
    let Ok(n) = part.parse::<u32>() else {
        return lfs_error(StatusCode::NOT_FOUND, "unknown part");
    };
    if !lock(&hub.pending_lfs).contains_key(&oid) {
        return lfs_error(
            StatusCode::FORBIDDEN,
            "No upload was requested for this object: call the batch API first",
        );
    }
    let dir = hub.lfs_dir.join(format!(".parts-{oid}"));
    if let Err(e) = tokio::fs::create_dir_all(&dir).await {
        return lfs_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
    }
    if let Err(e) = tokio::fs::write(dir.join(format!("{n:05}")), &body).await {
        return lfs_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
    }
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&body)[..16]));
    let mut resp = StatusCode::OK.into_response();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// `POST /lfs/multipart/{oid}/complete`: joins the parts.
pub(crate) async fn complete(
    State(hub): State<Arc<Hub>>,
    Path(oid): Path<String>,
    body: Bytes,
) -> Response {
    let oid = oid.to_ascii_lowercase();
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return lfs_error(
            StatusCode::BAD_REQUEST,
            "The completion body is not valid JSON",
        );
    };
    let parts = req
        .get("parts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let dir = hub.lfs_dir.join(format!(".parts-{oid}"));
    let mut data = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let n = p.get("partNumber").and_then(Value::as_u64).unwrap_or(0);
        if n != i as u64 + 1 {
            return lfs_error(
                StatusCode::BAD_REQUEST,
                "parts must be listed in order, starting at 1",
            );
        }
        match tokio::fs::read(dir.join(format!("{n:05}"))).await {
            Ok(d) => {
                let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&d)[..16]));
                if p.get("etag")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.trim_matches('"') != etag.trim_matches('"'))
                {
                    return lfs_error(
                        StatusCode::BAD_REQUEST,
                        &format!("ETag mismatch for part {n}"),
                    );
                }
                data.extend_from_slice(&d);
            }
            Err(_) => {
                return lfs_error(
                    StatusCode::BAD_REQUEST,
                    &format!("part {n} was not uploaded"),
                );
            }
        }
    }
    let res = store(&hub, &oid, &data).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    match res {
        Ok(()) => lfs_json(StatusCode::OK, &json!({"success": true})),
        Err(r) => r,
    }
}

/// `POST /lfs/verify/{ns}/{name}`: 200 when stored with that size.
pub(crate) async fn verify(State(hub): State<Arc<Hub>>, body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return lfs_error(StatusCode::BAD_REQUEST, "The verify body is not valid JSON");
    };
    let oid = req
        .get("oid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    let size = req.get("size").and_then(Value::as_u64);
    if hub.lfs_has(&oid, size) {
        lfs_json(StatusCode::OK, &json!({"success": true}))
    } else {
        lfs_error(StatusCode::NOT_FOUND, "Object not found")
    }
}

/// `GET /lfs/objects/{oid}`.
pub(crate) async fn download(
    State(hub): State<Arc<Hub>>,
    Path(oid): Path<String>,
    _h: HeaderMap,
) -> Response {
    let Some(p) = hub.lfs_object_path(&oid) else {
        return lfs_error(StatusCode::NOT_FOUND, "Object not found");
    };
    match tokio::fs::read(p).await {
        Ok(d) => (StatusCode::OK, Body::from(d)).into_response(),
        Err(_) => lfs_error(StatusCode::NOT_FOUND, "Object not found"),
    }
}
