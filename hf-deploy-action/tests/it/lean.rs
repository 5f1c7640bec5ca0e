//! The action image is lean: built with `--no-default-features`, `hf-deploy` has neither the Hub
//! stand-in (`hf-hub-emulator`) nor its HTTP server (`axum`) in its dependency tree; the default
//! feature `local` is what adds them. (The release binary size is measured by hand: BENCHMARKS.md.)

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// The package names in the normal (non-dev, non-build) dependency tree of `hf-deploy-action`.
fn normal_deps(extra: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let output = Command::new(&cargo)
        .args(["tree", "--locked", "-p", "hf-deploy-action", "-e", "normal"])
        .args(["--prefix", "none", "--format", "{p}", "--manifest-path"])
        .arg(&manifest)
        .args(extra)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{cargo} tree`: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "`cargo tree {extra:?}` failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_lean_build_has_no_stand_in_and_no_axum() {
    let lean = normal_deps(&["--no-default-features"]);
    // The tree was really read: the library and the HTTP client are there.
    for present in [
        "hf-deploy-action",
        "hf-deploy-core",
        "reqwest",
        "git2",
        "octocrab",
    ] {
        assert!(lean.contains(present), "`{present}` missing from {lean:?}");
    }
    for absent in ["axum", "axum-core", "hf-hub-emulator", "matchit"] {
        assert!(
            !lean.contains(absent),
            "`{absent}` is in the lean build's dependency tree"
        );
    }
}

#[test]
fn the_default_feature_local_adds_the_stand_in() {
    let full = normal_deps(&[]);
    for present in ["hf-hub-emulator", "axum"] {
        assert!(
            full.contains(present),
            "`{present}` missing from the default build: {full:?}"
        );
    }
}

#[test]
fn the_action_image_is_the_lean_build() {
    let dockerfile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Dockerfile");
    let text = std::fs::read_to_string(&dockerfile).expect("read the root Dockerfile");
    let builds: Vec<&str> = text.lines().filter(|l| l.contains("cargo build")).collect();
    assert!(!builds.is_empty(), "no `cargo build` in the Dockerfile");
    for line in builds {
        assert!(
            line.contains("--no-default-features") && line.contains("--profile dist"),
            "the image must build the lean binary with the `dist` profile: {line}"
        );
    }
    assert!(text.contains("COPY --from=builder /build/target/dist/hf-deploy "));
}
