//! A local stand-in for the Hugging Face Hub: the HTTP API a Docker Space deploy uses, git smart HTTP
//! (served by the real `git http-backend`), the LFS batch API and a Space runtime that really runs the
//! pushed app (or a scripted one), everything on loopback.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hf_hub_emulator::EmulatorError> {
//! use hf_hub_emulator::{Emulator, EmulatorConfig, DEFAULT_WRITE_TOKEN};
//! let emu = Emulator::start(EmulatorConfig::default()).await?;
//! println!("HF_ENDPOINT={} HF_TOKEN={DEFAULT_WRITE_TOKEN}", emu.url());
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod api;
mod auth;
mod config;
mod faults;
mod foreign;
mod git;
mod hub;
mod info;
mod lfs;
mod listener;
mod logs;
mod middleware;
mod oauth;
mod plans;
mod proxy;
mod races;
mod runtime;
mod script;
mod server;
mod util;

pub use config::{
    DEFAULT_READ_TOKEN, DEFAULT_USER, DEFAULT_WRITE_TOKEN, DockerRunnerConfig, EmulatorConfig,
    RealRunnerConfig, Role, Runner, StageDelays, TokenSpec,
};
pub use faults::{FaultRule, Faults};
pub use foreign::{ForeignHost, ForeignRequest};
pub use hub::LoggedRequest;
pub use oauth::{
    GITHUB_ISSUER, HUB_AUDIENCE, JobClaims, OIDC_USER, SCOPED_TOKEN_SECONDS, TrustedPublisher,
    issue_github_oidc_token,
};
pub use runtime::docker::SPACE_LABEL;
pub use runtime::engine::{
    EngineProbe, PROBE_DEADLINE as DOCKER_PROBE_DEADLINE, engine_answers as docker_engine_answers,
    probe_engine as probe_docker_engine,
};
pub use script::{HOSTILE_LOG_LINES, ScriptedApp, ScriptedResponse, ScriptedRoute, ScriptedRunner};
pub use server::{Emulator, EmulatorError, SettingEntry, SpaceSettings};
