//! `hf-deploy-core`: turn a FastAPI backend into a running, verified Hugging Face Docker Space.
//!
//! The library reads no environment and prints nothing: every step takes explicit inputs and
//! returns typed results and a typed [`Error`].
//!
//! The steps of a deploy, each in its own module:
//!
//! 1. [`scaffold`]: backend folder -> in-memory Space tree (Dockerfile, README, app files).
//! 2. [`hub`]: the Hub API client (create, info, secrets, variables, runtime, logs).
//! 3. [`push`]: commit the tree on top of the Space's `main` with git2 and push it.
//! 4. [`settings`]: secrets and variables, validated before any remote call.
//!
//! [`inputs`] is the one raw-to-validated step in front of all of them: a front end fills a
//! [`RawInputs`], and every bad input is found there, before the first remote call.
//! 5. [`frontend`]: point a frontend's API client at the deployed app.
#![deny(missing_docs)]

pub mod content;
pub mod deploy;
pub mod error;
pub mod fingerprint;
pub mod frontend;
pub mod hub;
pub mod inputs;
pub mod push;
pub mod report;
pub mod scaffold;
pub mod secret;
pub mod settings;
pub mod space;
pub mod verify;

pub use content::FileContent;
pub use error::{Error, HttpContext, LintViolation, Result};
pub use inputs::{Field, Phrase, RawEntry, RawInputs};
pub use secret::SecretString;
pub use space::SpaceId;
