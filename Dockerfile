# The GitHub Action's image: `hf-deploy` on distroless (Debian 12, no shell, no package manager). Built and pushed to ghcr.io by
# .github/workflows/release.yml; action.yml runs the prebuilt image, so jobs never compile Rust.
#
# Architectures: linux/amd64 and linux/arm64. Nothing here is specific to one: every stage builds
# for the platform it is built on (both bases are multi-platform), and the release builds each
# platform natively, on an amd64 and an arm64 runner, then joins the two images in one manifest
# list (no QEMU, no cross toolchain; the build stage runs the binary it built).
#
# Runner rules for container actions: no WORKDIR and no USER in the final stage (the runner
# mounts the workspace at /github/workspace, makes it the working directory and runs as root
# so that files it writes stay usable by later steps), and an exec-form ENTRYPOINT with an
# absolute path (action.yml passes `action` as the argument).
#
# Build arguments, for machines that cannot pull `rust:` or `gcr.io/distroless/` (the defaults
# are what CI and the release build and publish):
# - RUNTIME_BASE: the final stage's base. Any glibc (Debian 12 or newer) image with libssl3 and a
#   CA bundle works, e.g. the `python:3.11-slim` that scripts/docker-base-image.sh makes.
# - BUILDER: the stage the binary comes from: `build` (default: compiled here, in RUST_IMAGE) or
#   `prebuilt` (the file `hf-deploy` at the root of the build context, built on the host with
#   `--no-default-features`; use a context holding only that file). A named stage chosen by
#   an argument rather than BuildKit's `--build-context`, because `--build-context` needs buildx
#   and Debian's docker 20.10 has BuildKit without buildx. Needs BuildKit (DOCKER_BUILDKIT=1 or
#   buildx), which builds only the stages the final one uses; the legacy builder would pull
#   RUST_IMAGE for the unused stage. tests/tests/it/action_container.rs builds it so:
#   DOCKER_BUILDKIT=1 docker build -f Dockerfile --build-arg BUILDER=prebuilt \
#     --build-arg RUNTIME_BASE=python:3.11-slim <dir holding hf-deploy>
# RUST_IMAGE and RUNTIME_BASE default to moving tags (distroless publishes no other: the Debian
# release is in the name). The release pins both: it resolves each once to the digest of its
# multi-platform index and passes `NAME:TAG@sha256:…` to both platform builds (release.yml, job
# `prepare`), so the two architectures build on the same bases, and the image's label
# org.opencontainers.image.base.name records the runtime base. CI builds on the current tags.
ARG RUST_IMAGE=rust:1-bookworm
ARG RUNTIME_BASE=gcr.io/distroless/cc-debian12:latest
ARG BUILDER=build

FROM ${RUST_IMAGE} AS build
WORKDIR /build

# Dependency layer: only the manifests and the lock file, with empty crate roots, so that a
# source change does not rebuild every dependency.
COPY Cargo.toml Cargo.lock ./
COPY hf-deploy-core/Cargo.toml hf-deploy-core/
COPY hf-deploy-action/Cargo.toml hf-deploy-action/
COPY hf-hub-emulator/Cargo.toml hf-hub-emulator/
COPY tests/Cargo.toml tests/
# The action is built without the default feature `local` (the Hub stand-in, axum, `--local`,
# `emulator`): the stand-in and the test crate stay empty crate roots, there only because they are
# workspace members.
RUN mkdir -p hf-deploy-core/src hf-deploy-action/src hf-hub-emulator/src tests/src \
    && touch hf-deploy-core/src/lib.rs hf-hub-emulator/src/lib.rs tests/src/lib.rs \
    && echo 'fn main() {}' > hf-deploy-action/src/main.rs \
    && cargo build --profile dist -p hf-deploy-action --no-default-features --locked \
    && rm -rf hf-deploy-core/src hf-deploy-action/src

# The real sources. COPY keeps the files' old timestamps, which cargo would take for "older
# than the empty crates just built": touch them so that they are compiled.
COPY hf-deploy-core hf-deploy-core
COPY hf-deploy-action hf-deploy-action
RUN find hf-deploy-core hf-deploy-action -name '*.rs' -exec touch {} + \
    && cargo build --profile dist -p hf-deploy-action --no-default-features --locked \
    && ./target/dist/hf-deploy --help > /dev/null

# A binary built on the host (BUILDER=prebuilt), at the path the build stage leaves it. The whole
# context rather than the one file, so that a builder that builds every stage (the legacy one)
# does not fail here when the default BUILDER=build is used with the repository as context.
FROM scratch AS prebuilt
COPY . /build/target/dist/

FROM ${BUILDER} AS builder

# distroless/cc: glibc and libgcc (the binary is built on the same Debian 12), libssl3 (libgit2's
# HTTPS transport links OpenSSL dynamically) and ca-certificates (the Hub and the GitHub API over
# TLS); no shell and no package manager, so the image is the binary plus a small base. It runs as
# root by default, as the runner expects.
FROM ${RUNTIME_BASE}
COPY --from=builder /build/target/dist/hf-deploy /usr/local/bin/hf-deploy
ENTRYPOINT ["/usr/local/bin/hf-deploy"]
