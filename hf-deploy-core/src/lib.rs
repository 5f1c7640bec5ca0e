//! `hf-deploy-core`: turn a FastAPI backend into a running, verified Hugging Face Docker Space.
//!
//! The library reads no environment and prints nothing: every step takes explicit inputs and
//! returns typed results and one typed [`Error`]. The `hf-deploy` binary is one front end of it;
//! any Rust program can be another.
//!
//! # The surface
//!
//! * [`inputs`]: the plan, the one raw-to-checked step. A front end fills a [`RawInputs`] with
//!   what the user gave and calls [`inputs::resolve`]; every bad input is found there (the
//!   scaffold of the source folder included), as [`Error::InvalidInput`] naming a [`Field`],
//!   before the first remote call. The result is the [`DeployOptions`] of a deploy, each input
//!   carried as its checked type ([`SpaceId`], [`HealthPath`], [`Settings`], the built
//!   [`scaffold::Scaffold`]). [`inputs::resolve_scaffold`] and [`inputs::resolve_verify`] do the
//!   same for a scaffold alone and for a check of a running app.
//! * [`deploy()`]: create (or find) the Space, set its secrets and variables, push the scaffold,
//!   wait for the build, verify the app; returns a [`DeployOutcome`] (the [`report`] and the
//!   error, if any). [`Progress`] receives the [`Event`]s of a deploy (each [`Phase`] as it
//!   starts) for a display.
//! * [`verify`]: the one verification sequence ([`verify::verify_app`]: health, then the health
//!   verdict, then CORS), also usable on its own against any running app.
//! * [`scaffold`]: backend folder -> in-memory Space tree (Dockerfile, README, app files), for a
//!   look before deploying or to write to disk.
//! * [`hub`]: the Hub API client ([`hub::HubClient`], built with [`hub::HubClient::builder`]) and
//!   the models of its answers; [`hub::oauth`] exchanges a CI job's OIDC token.
//! * [`report`]: [`report::DeployReport`], the result of a deploy or a verification, with its
//!   JSON form (renderings as text or Markdown are the front end's).
//! * [`frontend`]: point a frontend's API client at the deployed app.
//! * [`Error`] (one enum; [`Error::is_usage`] is a bad input, [`Error::message_with`] words its
//!   [`Field`]s and [`Command`]s with a front end's [`Spelling`]), [`SecretString`] (a value that
//!   never prints).
//! * [`remove_temporary_folders`]: for a front end that ends the process on a signal; the
//!   library's temporary folders (mode `0700`) are otherwise removed when the step that made them
//!   ends.
//! * [`RemoteText`]: everything the library read from outside (logs, health answers, error
//!   bodies, unknown stage names), redacted by the run's [`Redactor`] when it was read
//!   ([`DeployOptions::redactor`] and the client's, merged by [`deploy()`]) and shown only
//!   through the method of its destination (a terminal, the workflow log, Markdown, an output
//!   word). An error's message quotes it as data: show the message through the door too.
//!
//! The library speaks of [`Field`]s and [`Command`]s, never of a front end's flags, inputs or
//! commands: each front end words them ([`Spelling`]).
//!
//! # Layers
//!
//! The modules stand on floors; a module uses what stands below it, never above:
//!
//! 0. the ground: `field` ([`Field`], [`Phrase`], [`Spelling`]), `stage` (the Space's stages),
//!    `error`, `space` ([`SpaceId`]), `visibility` ([`Visibility`]), `urls` ([`HealthPath`],
//!    URL rules), `secret`, `content`, and `untrusted`, the door for text from outside
//!    ([`RemoteText`], [`Redactor`]; it stands on `secret` alone, so that the errors and the
//!    stages can carry what a server said), and `http`: the cap on every body read and the
//!    redirect policy of every client that carries a credential;
//! 1. `wait`: the deadline, backoff, `Retry-After`, every loop that sleeps (and beside it
//!    `temp`: private temporary folders, all removed by [`remove_temporary_folders`]);
//! 2. the parts: [`hub`], [`scaffold`], `settings`, `outbound` (the ports a Space may reach),
//!    `fingerprint`, `push`, [`verify`], [`frontend`];
//! 3. the plan: [`inputs`];
//! 4. the pipeline that runs it, [`deploy()`], and the [`report`] data.
//!
//! # Example
//!
//! `examples/deploy_space.rs` is a complete program that deploys a Space with this library and
//! prints the report as JSON (`cargo run -p hf-deploy-core --example deploy_space -- --help`).
//! In short:
//!
//! ```no_run
//! use hf_deploy_core::hub::HubClient;
//! use hf_deploy_core::{NoProgress, RawInputs, SecretString, deploy, inputs};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let raw = RawInputs {
//!     space: Some("alice/rag-chatbot".into()),
//!     source: "backend".into(),
//!     ..RawInputs::default()
//! };
//! let options = inputs::resolve(&raw)?; // every bad input is found here, nothing sent yet
//! let client = HubClient::builder()
//!     .endpoint("https://huggingface.co")
//!     .token(SecretString::new("hf_..."))
//!     .build()?;
//! let outcome = deploy(&client, &options, &NoProgress).await;
//! println!("{}", serde_json::to_string_pretty(&outcome.report)?);
//! if let Some(error) = outcome.error {
//!     return Err(error.into());
//! }
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod content;
mod deploy;
mod error;
mod field;
mod fingerprint;
pub mod frontend;
pub mod history;
mod http;
pub mod hub;
pub mod inputs;
mod outbound;
mod push;
pub mod report;
pub mod scaffold;
mod secret;
mod settings;
mod space;
mod stage;
mod temp;
mod trailer;
mod untrusted;
mod urls;
pub mod verify;
mod visibility;
mod wait;

pub use content::FileContent;
pub use deploy::{DeployOutcome, Event, NoProgress, Phase, Progress, deploy, rollback};
pub use error::{Error, HttpContext, LintViolation, Result};
pub use field::{Command, Field, Phrase, Spelling};
pub use http::{ERROR_BODY_CAP, JSON_CAP};
pub use inputs::{DeployOptions, RawInputs};
pub use secret::SecretString;
pub use settings::{RawEntry, Settings};
pub use space::SpaceId;
pub use temp::remove_temporary_folders;
pub use untrusted::{Redactor, RedactorBuilder, RemoteText};
pub use urls::HealthPath;
pub use visibility::Visibility;
