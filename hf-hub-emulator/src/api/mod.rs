//! The Hub HTTP API, one module per resource, and its route table ([`router`]).
//!
//! | Module | Routes |
//! |---|---|
//! | [`repos`] | `whoami-v2`, `repos/create`, `repos/delete`, `validate-yaml`, Space info, `auth-check` |
//! | [`listing`] | `GET /api/spaces` (author, search, filter, sort, `full`, `expand`; `Link` pages) |
//! | [`history`] | `…/commits/{rev}` (the bare repository's history; `X-Total-Count`, `Link` pages) |
//! | [`settings`] | `…/settings`, `…/secrets`, `…/variables`, `…/hardware`, `…/sleeptime` |
//! | [`runtime`] | `…/runtime`, `…/restart`, `…/pause`, `…/logs/{kind}`, `…/host` |
//! | [`commit`] | `…/preupload/{rev}`, `…/commit/{rev}`, `…/xet-write-token/{rev}` |
//! | [`git`] | `/spaces/{ns}/{repo}/…`: git smart HTTP and the LFS batch API |
//! | [`oauth`] | `POST /oauth/token` (Trusted Publishers) and the guard keeping a Space-scoped token to its Space |
//! | `common` | shared by the others (handler types, access checks, body parser, 404); imports none of them |
//!
//! Resource modules import `common` and the crate's engines (`crate::git`, `crate::runtime`, …),
//! never each other; no engine imports a route (routes stand on top of engines).

mod common;

mod commit;
mod git;
mod history;
mod listing;
mod oauth;
mod repos;
mod runtime;
mod settings;

use std::sync::Arc;

use axum::Router;
use axum::routing::{any, delete, get, post, put};

use crate::hub::Hub;
use crate::lfs;
use common::not_found;

/// The route table of the API and git listener, with its middleware.
pub(crate) fn router(hub: Arc<Hub>) -> Router {
    let spaces = "/api/spaces/{ns}/{name}";
    Router::new()
        // repos
        .route("/api/whoami-v2", get(repos::whoami))
        .route("/api/repos/create", post(repos::create))
        .route("/api/repos/delete", delete(repos::delete_repo))
        .route("/api/validate-yaml", post(repos::validate_yaml))
        .route("/api/spaces", get(listing::list_spaces))
        .route(spaces, get(repos::space_info))
        .route(
            &format!("{spaces}/revision/{{rev}}"),
            get(repos::space_info_rev),
        )
        .route(&format!("{spaces}/commits/{{rev}}"), get(history::commits))
        .route(&format!("{spaces}/auth-check"), get(repos::auth_check))
        .route(
            &format!("{spaces}/auth-check/write"),
            get(repos::auth_check_write),
        )
        // Space settings
        .route(&format!("{spaces}/settings"), put(settings::settings))
        .route(&format!("{spaces}/sleeptime"), post(settings::sleeptime))
        .route(&format!("{spaces}/hardware"), post(settings::hardware))
        .route(
            &format!("{spaces}/secrets"),
            get(settings::list_secrets)
                .post(settings::add_secret)
                .delete(settings::delete_secret),
        )
        .route(
            &format!("{spaces}/variables"),
            get(settings::list_variables)
                .post(settings::add_variable)
                .delete(settings::delete_variable),
        )
        // runtime
        .route(&format!("{spaces}/host"), get(runtime::host))
        .route(&format!("{spaces}/runtime"), get(runtime::runtime))
        .route(&format!("{spaces}/restart"), post(runtime::restart))
        .route(&format!("{spaces}/pause"), post(runtime::pause))
        .route(&format!("{spaces}/logs/{{kind}}"), get(runtime::logs))
        // commit API
        .route(
            &format!("{spaces}/preupload/{{rev}}"),
            post(commit::preupload),
        )
        .route(&format!("{spaces}/commit/{{rev}}"), post(commit::commit))
        .route(
            &format!("{spaces}/xet-write-token/{{rev}}"),
            get(commit::xet_not_emulated),
        )
        // git smart HTTP and the LFS batch API on the repo URL
        .route("/spaces/{ns}/{repo}/{*rest}", any(git::git_route))
        // LFS transfer targets
        .route("/lfs/upload/{oid}", put(lfs::upload))
        .route("/lfs/multipart/{oid}/complete", post(lfs::complete))
        .route("/lfs/multipart/{oid}/{part}", put(lfs::upload_part))
        .route("/lfs/verify/{ns}/{name}", post(lfs::verify))
        .route("/lfs/objects/{oid}", get(lfs::download))
        .route("/oauth/token", post(oauth::token_exchange))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            hub.clone(),
            oauth::scope_guard,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(2 * 1024 * 1024 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            hub.clone(),
            crate::middleware::api,
        ))
        .with_state(hub)
}
