//! The binary crate's integration tests, in one test binary (one link instead of one per file):
//! `lint`, the action's packaging against its linters; `lean`, the action image's build without
//! the Hub stand-in.

mod lean;
mod lint;
