//! The stand-in's integration tests, one test binary (linked once): each module is one area, the
//! fixtures they read are in `tests/fixtures/`, the helpers they share in `common`.
// A test reads as one scenario from start to end, even when it runs past 100 lines.
#![allow(clippy::too_many_lines)]

mod common;

mod api_behaviour;
mod cassettes;
mod docker_runtime;
mod git_cli;
mod history;
mod hostile;
mod js_client;
mod misbehaving;
mod python_client;
mod real_runner;
mod typed_bodies;
mod visibility;
