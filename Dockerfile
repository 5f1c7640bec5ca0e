# The GitHub Action's image: `hf-deploy` on distroless (Debian 12, no shell, no package manager). Built and pushed to ghcr.io by
# .github/workflows/release.yml; action.yml runs the prebuilt image, so jobs never compile Rust.
#
# Runner rules for container actions: no WORKDIR and no USER in the final stage (the runner
# mounts the workspace at /github/workspace, makes it the working directory and runs as root
# so that files it writes stay usable by later steps), and an exec-form ENTRYPOINT with an
# absolute path (action.yml passes `action` as the argument).

FROM rust:1-bookworm AS builder
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

# distroless/cc: glibc and libgcc (the binary is built on the same Debian 12), libssl3 (libgit2's
# HTTPS transport links OpenSSL dynamically) and ca-certificates (the Hub and the GitHub API over
# TLS); no shell and no package manager, so the image is the binary plus a small base. It runs as
# root by default, as the runner expects. distroless publishes moving tags only (the Debian
# release is in the name); pin a digest here when cutting a release.
# hadolint ignore=DL3007
FROM gcr.io/distroless/cc-debian12:latest
COPY --from=builder /build/target/dist/hf-deploy /usr/local/bin/hf-deploy
ENTRYPOINT ["/usr/local/bin/hf-deploy"]
