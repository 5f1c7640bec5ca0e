//! The Hub API client: create, info, secrets, variables, runtime, lifecycle and logs of a Space.
//!
//! [`HubClient`] is built with [`HubClient::builder`] and cheap to clone. Every call returns the
//! crate's [`Error`](crate::Error): the status, `X-Error-Code`, `X-Error-Message`, body and request
//! id are read in one place and turned into the variant a caller acts on (invalid or read-only
//! token, not found, payment required, rate limited, server error...). Idempotent calls are
//! retried with capped, jittered exponential backoff, honouring `Retry-After` and `RateLimit`.

mod client;
mod models;
pub mod oauth;
mod sse;

#[cfg(test)]
mod tests;

pub use client::{DEFAULT_ENDPOINT, HubClient, HubClientBuilder, LogStream, ServerWait, WaitWatch};
pub use models::{
    AccessTokenInfo, CreateSpace, Created, LogKind, LogLine, SecretInfo, Sibling, SpaceDomain,
    SpaceHardware, SpaceInfo, SpaceReplicas, SpaceRuntime, SpaceStage, Variable, WhoAmI,
    WhoAmIAuth, WhoAmIOrg,
};
