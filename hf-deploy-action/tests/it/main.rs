//! The binary crate's integration tests, in one test binary (one link instead of one per file):
//! `lint`, the action's packaging against its linters; `lean`, the action image's build without
//! the Hub stand-in; `release`, the release workflow and the image digest it pins.

mod lean;
mod lint;
mod release;
