//! The stand-in's integration tests, one test binary (linked once): each module is one area, the
//! fixtures they read are in `tests/fixtures/`, the helpers they share in `common`.

mod common;

mod api_behaviour;
mod cassettes;
mod docker_runtime;
mod git_cli;
mod js_client;
mod python_client;
mod real_runner;
mod typed_bodies;
