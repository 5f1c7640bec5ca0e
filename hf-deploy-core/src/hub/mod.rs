//! The Hub API client: create, info, secrets, variables, runtime, lifecycle and logs of a Space.
//!
//! [`HubClient`] is built with [`HubClient::builder`] and cheap to clone. Every call returns the
//! crate's [`Error`](crate::Error): the status, `X-Error-Code`, `X-Error-Message`, body and request
//! id are read in one place and turned into the variant a caller acts on (invalid or read-only
//! token, not found, payment required, rate limited, server error...). Idempotent calls are
//! retried with capped, jittered exponential backoff, honouring `Retry-After` and `RateLimit`.
//!
//! By resource: `client` (the builder and the client's state), `transport` (one call, sent with
//! retries) and `errors` (status -> [`Error`](crate::Error)), `repos` (account, create, info,
//! visibility, delete), `commits` (the Space's commit log), `listing` (the Spaces of a namespace, every page), `settings` (secrets, variables), `runtime` (stage, hardware, restart, pause, sleep
//! time), `logs` with `sse` (the log streams), [`oauth`] (the Trusted Publisher exchange), and
//! `keyless` (a keyless run's token, renewed before it expires), `models` (the typed answers).

mod client;
mod commits;
mod errors;
mod keyless;
mod listing;
mod logs;
mod models;
pub mod oauth;
mod repos;
mod runtime;
mod settings;
mod sse;
mod transport;

#[cfg(test)]
mod tests;

pub use client::{DEFAULT_ENDPOINT, HubClient, HubClientBuilder};
pub use commits::CommitEntry;
pub use keyless::{IdTokenFuture, IdTokenSource, KeylessToken, RENEW_BEFORE};

pub use logs::LogStream;
pub use models::{
    AccessTokenInfo, CreateSpace, Created, ListedSpace, LogKind, LogLine, SecretInfo, Sibling,
    SpaceDomain, SpaceHardware, SpaceInfo, SpaceReplicas, SpaceRuntime, SpaceStage, Variable,
    WhoAmI, WhoAmIAuth, WhoAmIOrg,
};
