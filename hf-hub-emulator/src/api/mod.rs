//! The Hub HTTP API, one module per resource. The route table is in `crate::server`.
//!
//! | Module | Routes |
//! |---|---|
//! | [`repos`] | `whoami-v2`, `repos/create`, `repos/delete`, `validate-yaml`, Space info, `auth-check` |
//! | [`settings`] | `…/settings`, `…/secrets`, `…/variables`, `…/hardware`, `…/sleeptime` |
//! | [`runtime`] | `…/runtime`, `…/restart`, `…/pause`, `…/logs/{kind}`, `…/host` |
//! | [`commit`] | `…/preupload/{rev}`, `…/commit/{rev}`, `…/xet-write-token/{rev}` |
//! | [`git`] | `/spaces/{ns}/{repo}/…`: git smart HTTP and the LFS batch API |
//! | [`oauth`] | `POST /oauth/token` (Trusted Publishers) and the guard keeping a Space-scoped token to its Space |
//! | `common` | shared by the others (handler types, access checks, body parser, 404); imports none of them |
//!
//! Resource modules import `common` and the crate's engines (`crate::git`, `crate::runtime`, …),
//! never each other.

mod common;

pub(crate) mod commit;
pub(crate) mod git;
pub(crate) mod oauth;
pub(crate) mod repos;
pub(crate) mod runtime;
pub(crate) mod settings;

pub(crate) use common::{LoggedBodyBytes, LoggedKeys, not_found};
