//! The end-to-end tests, linked into one test binary (`it`) instead of one per file: each file
//! of this folder is a module. nextest still runs every test in its own process (tests start
//! servers and child processes), so no test shares process state with another.
//!
//! Insta names a snapshot after its module path: `it::scaffold`'s snapshots are
//! `snapshots/it__scaffold__<name>.snap`.

// Test functions walk one scenario top to bottom and may run past clippy's 100 lines.
#![allow(clippy::too_many_lines)]

mod action;
mod action_container;
mod action_input;
mod cli_input;
mod commands;
mod concurrency;
mod config;
mod corpus;
mod deploy;
mod docker;
mod engine_faults;
mod events;
mod faults;
mod hostile_files;
mod keyless;
mod library;
mod live_log;
mod plan;
mod previews;
mod prune;
mod rate_limits;
mod redeploy;
mod rollback;
mod round_trips;
mod scaffold;
mod servers;
mod settings_2026;
mod space_image;
mod stages;
mod untrusted;
mod verify;
