//! Space settings: `PUT …/settings` (visibility: `public`, `private`, `protected`), `…/secrets`,
//! `…/variables`, `POST …/hardware` and `POST …/sleeptime` (paid hardware only: free
//! hardware's sleep time is fixed). A change of secrets, variables or hardware restarts the Space.
// The error type is the HTTP answer itself, built once per request: boxing it buys nothing.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::common::{
    H, bad_request, flatten, ok, parse_json, readable, requested_visibility, writable,
};
use crate::hub::{Hub, KeyEntry, Space, Visibility};
use crate::middleware::LoggedKeys;
use crate::{runtime, util};

// ---- request bodies ----------------------------------------------------------------------------

/// `PUT …/settings`.
#[derive(Deserialize)]
struct SettingsBody {
    visibility: Option<String>,
    private: Option<bool>,
}

/// `POST`/`DELETE …/secrets` and `…/variables`.
#[derive(Deserialize)]
struct KeyBody {
    key: Option<String>,
    value: Option<String>,
    description: Option<String>,
}

/// `POST …/sleeptime`.
#[derive(Deserialize)]
struct SleeptimeBody {
    seconds: Option<i64>,
}

/// `POST …/hardware`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HardwareBody {
    flavor: Option<String>,
    sleep_time_seconds: Option<i64>,
}

/// A secret or variable request with its non-empty key checked.
struct KeyChange {
    key: String,
    value: Option<String>,
    description: Option<String>,
}

fn key_body(body: &[u8]) -> Result<KeyChange, Response> {
    let req: KeyBody = parse_json(body)?;
    let Some(key) = req.key.filter(|k| !k.is_empty()) else {
        return Err(bad_request("`key` is required"));
    };
    Ok(KeyChange {
        key,
        value: req.value,
        description: req.description,
    })
}

/// The key of a secrets/variables request, for the request log (empty when the body is bad).
fn logged_key(body: &[u8]) -> Vec<String> {
    key_body(body).map(|k| vec![k.key]).unwrap_or_default()
}

// ---- visibility --------------------------------------------------------------------------------

pub(crate) async fn settings(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        let req: SettingsBody = parse_json(&body)?;
        if let Some(visibility) = requested_visibility(req.visibility.as_deref(), req.private)? {
            // `protected` is paid: the plan is the Space owner's.
            if visibility == Visibility::Protected {
                crate::plans::check_protected(&hub, &space.ns)?;
            }
            space.lock().visibility = visibility;
        }
        ok(json!({}))
    })())
}

// ---- hardware and sleep time -------------------------------------------------------------------

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

pub(crate) async fn sleeptime(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        let req: SleeptimeBody = parse_json(&body)?;
        let Some(secs) = req.seconds else {
            return Err(bad_request("`seconds` (integer, -1 = never) is required"));
        };
        // Free hardware sleeps after 48 h whatever is asked: the Hub answers the runtime with
        // its fixed `gcTimeout` (huggingface_hub then warns that it is not configurable).
        let mut st = space.lock();
        if st.hardware != util::FREE_HARDWARE {
            st.sleep_time = secs;
        }
        drop(st);
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
        let req: HardwareBody = parse_json(&body)?;
        let flavor = req.flavor.unwrap_or_default();
        if !HARDWARE.contains(&flavor.as_str()) {
            return Err(bad_request(&format!(
                "\"flavor\" must be one of [{}]",
                HARDWARE.join(", ")
            )));
        }
        {
            let mut st = space.lock();
            if let Some(s) = req
                .sleep_time_seconds
                .filter(|_| flavor != util::FREE_HARDWARE)
            {
                st.sleep_time = s;
            }
            st.hardware = flavor;
        }
        runtime::trigger(&hub, &space);
        ok(runtime::runtime_json(&space))
    })())
}

// ---- secrets and variables ---------------------------------------------------------------------

fn with_keys(mut r: Response, keys: Vec<String>) -> Response {
    r.extensions_mut().insert(LoggedKeys(keys));
    r
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
    let keys = logged_key(&body);
    let r = flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        let change = key_body(&body)?;
        upsert(
            &mut space.lock().secrets,
            change.key,
            change.value.unwrap_or_default(),
            change.description,
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
    let keys = logged_key(&body);
    let r = flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        let key = key_body(&body)?.key;
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
    let keys = logged_key(&body);
    let r = flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        let change = key_body(&body)?;
        let map = {
            let mut st = space.lock();
            upsert(
                &mut st.variables,
                change.key,
                change.value.unwrap_or_default(),
                change.description,
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
    let keys = logged_key(&body);
    let r = flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        let key = key_body(&body)?.key;
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
