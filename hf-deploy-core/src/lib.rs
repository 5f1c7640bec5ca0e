//! `hf-deploy-core`: turn a FastAPI backend into a running, verified Hugging Face Docker Space.
//!
//! The library reads no environment and prints nothing: every step takes explicit inputs and
//! returns typed results and one typed [`Error`]. The `hf-deploy` binary is one front end of it;
//! any Rust program can be another.
//!
//! # The surface
//!
//! * [`inputs`]: the one raw-to-validated step. A front end fills a [`RawInputs`] with what the
//!   user gave and calls [`inputs::resolve`]; every bad input is found there (the scaffold of the
//!   source folder included), as [`Error::InvalidInput`] naming a [`Field`], before the first
//!   remote call. The result is the [`DeployOptions`] of a deploy.
//! * [`deploy()`]: create (or find) the Space, set its secrets and variables, push the scaffold,
//!   wait for the build, verify the app; returns a [`DeployOutcome`] (the [`report`] and the
//!   error, if any). [`Progress`] receives the [`Event`]s of a deploy for a display.
//! * [`verify`]: the one verification sequence ([`verify::verify_app`]: health, then the health
//!   verdict, then CORS), also usable on its own against any running app.
//! * [`scaffold`]: backend folder -> in-memory Space tree (Dockerfile, README, app files), for a
//!   look before deploying or to write to disk.
//! * [`hub`]: the Hub API client ([`hub::HubClient`], built with [`hub::HubClient::builder`]) and
//!   the models of its answers.
//! * [`report`]: [`report::DeployReport`], the result of a deploy or a verification, with its
//!   JSON form (renderings as text or Markdown are the binary's).
//! * [`frontend`]: point a frontend's API client at the deployed app.
//! * [`Error`] (one enum; [`Error::is_usage`] is a bad input, [`Error::message_with`] words its
//!   [`Field`] your way), [`SecretString`] (a value that never prints), [`SpaceId`],
//!   [`Settings`] (the checked secrets and variables of [`DeployOptions`]).
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
#![deny(missing_docs)]

mod content;
mod deploy;
mod error;
mod fingerprint;
pub mod frontend;
pub mod hub;
pub mod inputs;
mod push;
pub mod report;
pub mod scaffold;
mod secret;
mod settings;
mod space;
mod untrusted;
pub mod verify;

pub use content::FileContent;
pub use deploy::{
    DeployOptions, DeployOutcome, Event, NoProgress, PollSettings, Progress, deploy,
    wait_for_running,
};
pub use error::{Error, HttpContext, LintViolation, Result};
pub use inputs::{Field, Phrase, RawEntry, RawInputs};
pub use secret::SecretString;
pub use settings::Settings;
pub use space::SpaceId;
pub use untrusted::{Redactor, RedactorBuilder, RemoteText};
