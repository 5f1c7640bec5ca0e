//! A release runs exactly one image (issue 18): `scripts/release/pin-image.sh` writes the image's
//! digest into `runs.image` of action.yml and changes nothing else; `.github/workflows/release.yml`
//! builds linux/amd64 and linux/arm64, attests the manifest list it pushes, and tags the commit
//! whose action.yml names that list's digest (its tagging steps are run here against local
//! repositories); and every `v*` tag of this repository names a digest, never a moving tag.

#![allow(clippy::too_many_lines)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_yaml_ng::Value;

/// The action's image repository: `env.IMAGE` of release.yml, `runs.image` of action.yml.
const IMAGE: &str = "ghcr.io/hf-deploy/hf-deploy";
const PIN_SCRIPT: &str = "scripts/release/pin-image.sh";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A well-formed digest, different for each `n`.
fn a_digest(n: usize) -> String {
    let hex = "0123456789abcdef".repeat(5);
    format!("sha256:{}", &hex[n % 16..n % 16 + 64])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// action.yml as on main, `runs.image` the moving `docker://{IMAGE}:v1`; at a release commit,
/// with its digest put back to that tag.
fn main_action_yml() -> String {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    let pinned = format!("docker://{IMAGE}@sha256:");
    match text.find(&pinned) {
        Some(at) => {
            let end = at + pinned.len() + 64;
            format!("{}docker://{IMAGE}:v1{}", &text[..at], &text[end..])
        }
        None => text,
    }
}

fn pin(file: &Path, repository: &str, digest: &str) -> Output {
    Command::new("bash")
        .arg(root().join(PIN_SCRIPT))
        .arg(file)
        .arg(repository)
        .arg(digest)
        .output()
        .expect("run the pin script")
}

fn yaml(text: &str) -> Value {
    serde_yaml_ng::from_str(text).unwrap_or_else(|e| panic!("bad YAML: {e}\n{text}"))
}

fn runs_image(action: &Value) -> &str {
    action["runs"]["image"]
        .as_str()
        .expect("runs.image is a string")
}

/// `docker://{IMAGE}@sha256:` and 64 lower-case hex digits, nothing else.
fn is_pinned(image: &str) -> bool {
    image
        .strip_prefix(&format!("docker://{IMAGE}@sha256:"))
        .is_some_and(|hex| {
            hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// `git -C dir args…`, away from the user's and the system's git configuration (identity, hooks,
/// signing): for the repositories this test makes.
fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap_or_else(|e| panic!("cannot run git {args:?}: {e}"))
}

/// `git -C dir args…` with the user's configuration: reading this repository, which may need the
/// user's `safe.directory`.
fn git_read(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run git {args:?}: {e}"))
}

fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = git(dir, args);
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        text(&out.stderr)
    );
    text(&out.stdout).trim_end().to_owned()
}

// ---------------------------------------------------------------------------------------------
// The pin script
// ---------------------------------------------------------------------------------------------

#[test]
fn pin_script_writes_the_digest_and_changes_nothing_else() {
    let original = main_action_yml();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("action.yml");
    std::fs::write(&file, &original).expect("write");

    let digest = a_digest(0);
    let out = pin(&file, IMAGE, &digest);
    assert!(out.status.success(), "pin failed: {}", text(&out.stderr));
    let expected = format!("docker://{IMAGE}@{digest}");
    assert_eq!(
        text(&out.stdout).trim(),
        expected,
        "prints the new reference"
    );

    let pinned = std::fs::read_to_string(&file).expect("read");
    let pinned_yaml = yaml(&pinned);
    assert_eq!(runs_image(&pinned_yaml), expected);
    assert!(is_pinned(runs_image(&pinned_yaml)));

    // As YAML: the original with runs.image replaced, nothing more.
    let mut want = yaml(&original);
    want["runs"]["image"] = Value::String(expected.clone());
    assert_eq!(pinned_yaml, want);

    // As bytes: one line differs, the `image:` line, with its indentation kept.
    let before: Vec<&str> = original.split('\n').collect();
    let after: Vec<&str> = pinned.split('\n').collect();
    assert_eq!(before.len(), after.len(), "same number of lines");
    let changed: Vec<(&str, &str)> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|(b, a)| (*b, *a))
        .collect();
    assert_eq!(
        changed,
        [(
            format!("  image: docker://{IMAGE}:v1").as_str(),
            format!("  image: {expected}").as_str()
        )],
        "exactly the image line changes"
    );

    // A pinned file can be pinned again (a release run again after a failed tag step).
    let again = a_digest(1);
    let out = pin(&file, IMAGE, &again);
    assert!(out.status.success(), "re-pin failed: {}", text(&out.stderr));
    let repinned = std::fs::read_to_string(&file).expect("read");
    assert_eq!(
        runs_image(&yaml(&repinned)),
        format!("docker://{IMAGE}@{again}")
    );
    assert_eq!(repinned, pinned.replace(&digest, &again));
}

#[test]
fn pin_script_refuses_what_is_not_a_sha256_digest() {
    let original = main_action_yml();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("action.yml");
    std::fs::write(&file, &original).expect("write");

    let good = a_digest(0);
    let hex = good.strip_prefix("sha256:").expect("prefix");
    let bad = [
        "v1".to_owned(),
        "latest".to_owned(),
        String::new(),
        hex.to_owned(),                           // no algorithm
        "sha256:0123abcd".to_owned(),             // short
        format!("sha256:{}", &hex[..63]),         // one digit short
        format!("sha256:{hex}0"),                 // one digit long
        format!("sha256:{}", hex.to_uppercase()), // upper case
        format!("SHA256:{hex}"),                  // upper-case algorithm
        format!("sha512:{hex}"),                  // another algorithm
        format!("sha256:{}g", &hex[..63]),        // not hex
        format!(" {good}"),                       // padded
        format!("{good}\n"),                      // a trailing newline
        format!("{IMAGE}@{good}"),                // a reference, not a digest
        format!("{good}|x"),                      // sed metacharacters
    ];
    for digest in &bad {
        let out = pin(&file, IMAGE, digest);
        assert!(
            !out.status.success(),
            "accepted digest {digest:?}: {}",
            text(&out.stdout)
        );
        assert!(
            text(&out.stderr).contains("refusing digest"),
            "{digest:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(&file).expect("read"),
            original,
            "{digest:?} left the file as it was"
        );
    }
}

#[test]
fn pin_script_refuses_another_image_or_an_unclear_file() {
    let original = main_action_yml();
    let dir = tempfile::tempdir().expect("tempdir");
    let digest = a_digest(2);

    // The workflow's image name and action.yml disagree.
    let file = dir.path().join("action.yml");
    std::fs::write(&file, &original).expect("write");
    for repository in [
        "ghcr.io/someone/else",
        "ghcr.io/hf-deploy",
        &format!("{IMAGE}-x"),
    ] {
        let out = pin(&file, repository, &digest);
        assert!(!out.status.success(), "accepted repository {repository}");
        assert!(
            text(&out.stderr).contains("runs.image is"),
            "{}",
            text(&out.stderr)
        );
    }
    // A repository with a tag or a digest is not a repository.
    for repository in [
        format!("{IMAGE}:v1"),
        format!("{IMAGE}@{digest}"),
        IMAGE.to_uppercase(),
    ] {
        let out = pin(&file, &repository, &digest);
        assert!(!out.status.success(), "accepted repository {repository}");
        assert!(
            text(&out.stderr).contains("refusing repository"),
            "{}",
            text(&out.stderr)
        );
    }
    assert_eq!(std::fs::read_to_string(&file).expect("read"), original);

    // No runs.image, or two: refused, untouched.
    let cases = [
        "name: x\nruns:\n  using: docker\n  args: [action]\n".to_owned(),
        format!(
            "name: x\nruns:\n  using: docker\n  image: docker://{IMAGE}:v1\n  image: docker://{IMAGE}:v2\n"
        ),
        format!("name: x\nruns: {{using: docker, image: 'docker://{IMAGE}:v1'}}\n"),
        // An `image:` outside `runs:` is not the action's image.
        format!("name: x\nimage: docker://{IMAGE}:v1\nruns:\n  using: docker\n"),
    ];
    for case in &cases {
        std::fs::write(&file, case).expect("write");
        let out = pin(&file, IMAGE, &digest);
        assert!(!out.status.success(), "accepted:\n{case}");
        assert_eq!(&std::fs::read_to_string(&file).expect("read"), case);
    }

    // Quoted, commented, among other keys: only the value changes.
    let case = format!(
        "name: x\n# runs:\nruns:\n  using: docker\n\n  # the image\n  image: \"docker://{IMAGE}:v1\"\n  args:\n    - image: not this\nafter: 1\n"
    );
    std::fs::write(&file, &case).expect("write");
    let out = pin(&file, IMAGE, &digest);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        case.replace(
            &format!("\"docker://{IMAGE}:v1\""),
            &format!("docker://{IMAGE}@{digest}")
        )
    );
}

// ---------------------------------------------------------------------------------------------
// The release workflow
// ---------------------------------------------------------------------------------------------

fn workflow() -> Value {
    let path = root().join(".github/workflows/release.yml");
    yaml(&std::fs::read_to_string(&path).expect("release.yml"))
}

fn steps(job: &Value) -> &[Value] {
    job["steps"].as_sequence().expect("steps").as_slice()
}

fn uses(step: &Value) -> Option<&str> {
    step["uses"].as_str()
}

fn script(step: &Value) -> Option<&str> {
    step["run"].as_str()
}

fn needs(job: &Value) -> BTreeSet<&str> {
    match &job["needs"] {
        Value::String(one) => BTreeSet::from([one.as_str()]),
        Value::Sequence(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => BTreeSet::new(),
    }
}

fn permission<'a>(job: &'a Value, scope: &str) -> Option<&'a str> {
    job["permissions"][scope].as_str()
}

/// The job whose steps include one for which `pred` holds; exactly one.
fn job_with<'a>(
    workflow: &'a Value,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> (&'a str, &'a Value) {
    let jobs: Vec<(&str, &Value)> = workflow["jobs"]
        .as_mapping()
        .expect("jobs")
        .iter()
        .filter(|(_, job)| steps(job).iter().any(&pred))
        .map(|(name, job)| (name.as_str().expect("job name"), job))
        .collect();
    assert_eq!(
        jobs.len(),
        1,
        "one job {what}: {:?}",
        jobs.iter().map(|j| j.0).collect::<Vec<_>>()
    );
    jobs[0]
}

#[test]
fn release_workflow_builds_both_platforms_attests_and_tags_the_pinned_commit() {
    let wf = workflow();
    let jobs = wf["jobs"].as_mapping().expect("jobs");
    assert_eq!(wf["env"]["IMAGE"].as_str(), Some(IMAGE));
    assert_eq!(
        wf["permissions"]["contents"].as_str(),
        Some("read"),
        "read-only by default"
    );
    assert!(
        wf["on"]["workflow_dispatch"]["inputs"]["version"].is_mapping(),
        "released by hand with a version: the workflow makes the tags, none is pushed by hand"
    );
    // main's action.yml names the image the release pushes, by the moving major tag (a release
    // commit, by digest).
    let action = yaml(&std::fs::read_to_string(root().join("action.yml")).expect("action.yml"));
    let image = runs_image(&action);
    assert!(
        image == format!("docker://{IMAGE}:v1") || is_pinned(image),
        "action.yml runs {image}"
    );

    // Both platforms, each on a runner of its own architecture, pushed by digest.
    let (build_name, build) = job_with(&wf, "builds the image", |s| {
        uses(s).is_some_and(|u| u.starts_with("docker/build-push-action@"))
    });
    let include = build["strategy"]["matrix"]["include"]
        .as_sequence()
        .expect("matrix.include");
    let platforms: BTreeMap<&str, &str> = include
        .iter()
        .map(|leg| {
            (
                leg["platform"].as_str().expect("platform"),
                leg["runner"].as_str().expect("runner"),
            )
        })
        .collect();
    assert_eq!(
        platforms.keys().copied().collect::<Vec<_>>(),
        ["linux/amd64", "linux/arm64"]
    );
    assert!(!platforms["linux/amd64"].contains("arm"), "{platforms:?}");
    assert!(
        platforms["linux/arm64"].ends_with("-arm"),
        "native arm64: {platforms:?}"
    );
    assert_eq!(build["runs-on"].as_str(), Some("${{ matrix.runner }}"));
    let push = steps(build)
        .iter()
        .find(|s| uses(s).is_some_and(|u| u.starts_with("docker/build-push-action@")))
        .expect("build-push step");
    assert_eq!(
        push["with"]["platforms"].as_str(),
        Some("${{ matrix.platform }}")
    );
    let outputs = push["with"]["outputs"].as_str().expect("outputs");
    for part in ["name=${{ env.IMAGE }}", "push-by-digest=true", "push=true"] {
        assert!(outputs.split(',').any(|p| p == part), "{part} in {outputs}");
    }
    let build_args = push["with"]["build-args"].as_str().expect("build-args");
    for arg in [
        "RUST_IMAGE=${{ needs.prepare.outputs.rust-image }}",
        "RUNTIME_BASE=${{ needs.prepare.outputs.runtime-base }}",
    ] {
        assert!(
            build_args.lines().any(|l| l.trim() == arg),
            "{arg} in {build_args}"
        );
    }
    assert_eq!(permission(build, "packages"), Some("write"));

    // One manifest list of both, attested with its digest and the attestation pushed beside it.
    let (publish_name, publish) = job_with(&wf, "attests", |s| {
        uses(s).is_some_and(|u| u.starts_with("actions/attest-build-provenance@"))
    });
    assert!(
        needs(publish).contains(build_name),
        "the list waits for both builds"
    );
    let list = steps(publish)
        .iter()
        .find(|s| script(s).is_some_and(|r| r.contains("docker buildx imagetools create")))
        .expect("a step makes the manifest list");
    let list_id = list["id"].as_str().expect("the list step has an id");
    let list_digest = format!("${{{{ steps.{list_id}.outputs.digest }}}}");
    let attest = steps(publish)
        .iter()
        .find(|s| uses(s).is_some_and(|u| u.starts_with("actions/attest-build-provenance@")))
        .expect("attest step");
    let version: u32 = uses(attest)
        .and_then(|u| u.split_once("@v"))
        .and_then(|(_, v)| v.parse().ok())
        .expect("attest-build-provenance@vN");
    assert!(version >= 2, "attest-build-provenance v{version}");
    assert_eq!(
        attest["with"]["subject-name"].as_str(),
        Some("${{ env.IMAGE }}")
    );
    assert_eq!(
        attest["with"]["subject-digest"].as_str(),
        Some(list_digest.as_str())
    );
    let push_to_registry = &attest["with"]["push-to-registry"];
    assert!(
        push_to_registry.as_bool() == Some(true) || push_to_registry.as_str() == Some("true"),
        "push-to-registry: {push_to_registry:?}"
    );
    for (scope, level) in [
        ("id-token", "write"),
        ("attestations", "write"),
        ("packages", "write"),
    ] {
        assert_eq!(
            permission(publish, scope),
            Some(level),
            "{publish_name} needs {scope}: {level}"
        );
    }
    assert_eq!(
        publish["outputs"]["digest"].as_str(),
        Some(list_digest.as_str())
    );

    // The tag job pins that digest, commits, tags the commit and pushes the tags.
    let (tag_name, tag) = job_with(&wf, "runs the pin script", |s| {
        script(s).is_some_and(|r| r.contains(PIN_SCRIPT))
    });
    assert!(
        needs(tag).contains(publish_name),
        "tags after the attestation"
    );
    assert_eq!(
        tag["env"]["DIGEST"].as_str(),
        Some(format!("${{{{ needs.{publish_name}.outputs.digest }}}}").as_str())
    );
    let scripts: Vec<&str> = steps(tag).iter().filter_map(script).collect();
    let all = scripts.join("\n");
    let at = |needle: &str| {
        all.find(needle)
            .unwrap_or_else(|| panic!("`{needle}` in the {tag_name} job"))
    };
    assert!(
        all.contains(&format!(
            "bash {PIN_SCRIPT} action.yml \"$IMAGE\" \"$DIGEST\""
        )),
        "{all}"
    );
    assert!(
        at(PIN_SCRIPT) < at("git commit")
            && at("git commit") < at("git tag")
            && at("git tag") < at("git push"),
        "pin, commit, tag, push in that order:\n{all}"
    );
    assert_eq!(permission(tag, "contents"), Some("write"));

    // Only the tag job may write the repository.
    for (name, job) in jobs {
        let name = name.as_str().expect("job name");
        if name != tag_name {
            assert_ne!(
                permission(job, "contents"),
                Some("write"),
                "{name} writes contents"
            );
        }
    }
}

/// Runs the tag job's `run` steps in `work` as the runner does (`bash --noprofile --norc -eo
/// pipefail FILE`), with the values the earlier jobs would have given. Returns whether every step
/// passed, and the output.
fn run_tag_job(work: &Path, scratch: &Path, version: &str, digest: &str) -> (bool, String) {
    let wf = workflow();
    let tag = &wf["jobs"]["tag"];
    let expression_values = BTreeMap::from([
        ("${{ needs.prepare.outputs.version }}", version.to_owned()),
        (
            "${{ needs.prepare.outputs.major }}",
            version.split('.').next().expect("major").to_owned(),
        ),
        ("${{ needs.publish.outputs.digest }}", digest.to_owned()),
    ]);
    let resolve = |value: &Value| -> String {
        let value = value.as_str().expect("env value is a string");
        if value.contains("${{") {
            expression_values
                .get(value)
                .unwrap_or_else(|| panic!("this test gives no value for {value}"))
                .clone()
        } else {
            value.to_owned()
        }
    };
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for scope in [&wf["env"], &tag["env"]] {
        for (key, value) in scope.as_mapping().into_iter().flatten() {
            env.insert(key.as_str().expect("env key").to_owned(), resolve(value));
        }
    }
    let summary = scratch.join("summary.md");
    let mut log = String::new();
    for (i, step) in steps(tag).iter().enumerate() {
        let Some(body) = script(step) else {
            assert!(
                uses(step).is_some_and(|u| u.starts_with("actions/checkout@")),
                "the tag job's only action is the checkout (the test stands in for it): {step:?}"
            );
            continue;
        };
        assert!(
            !body.contains("${{"),
            "step scripts read the environment only:\n{body}"
        );
        let mut step_env = env.clone();
        for (key, value) in step["env"].as_mapping().into_iter().flatten() {
            step_env.insert(key.as_str().expect("env key").to_owned(), resolve(value));
        }
        let file = scratch.join(format!("step-{i}.sh"));
        std::fs::write(&file, body).expect("write step");
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&file)
            .current_dir(work)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", scratch)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GITHUB_REPOSITORY", "hf-deploy/hf-deploy")
            .env("GITHUB_REPOSITORY_OWNER", "hf-deploy")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_OUTPUT", scratch.join("output"))
            .envs(&step_env)
            .output()
            .expect("run step");
        log.push_str(&text(&out.stdout));
        log.push_str(&text(&out.stderr));
        if !out.status.success() {
            return (false, log);
        }
    }
    log.push_str(&std::fs::read_to_string(&summary).unwrap_or_default());
    (true, log)
}

/// A clone of `origin`'s main, as `actions/checkout` leaves it.
fn checkout(origin: &Path, into: &Path) {
    let out = Command::new("git")
        .args(["clone", "--quiet", "--branch", "main"])
        .arg(origin)
        .arg(into)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git clone");
    assert!(out.status.success(), "clone: {}", text(&out.stderr));
}

#[test]
fn release_tag_steps_tag_the_commit_holding_the_pinned_action_yml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let origin = dir.path().join("origin.git");
    let seed = dir.path().join("seed");
    git_ok(dir.path(), &["init", "--quiet", "--bare", "origin.git"]);
    git_ok(
        dir.path(),
        &["init", "--quiet", "--initial-branch", "main", "seed"],
    );
    // The repository's main: its action.yml and the pin script, as the checkout gives them.
    let original = main_action_yml();
    std::fs::write(seed.join("action.yml"), &original).expect("write");
    std::fs::create_dir_all(seed.join("scripts/release")).expect("mkdir");
    std::fs::copy(root().join(PIN_SCRIPT), seed.join(PIN_SCRIPT)).expect("copy script");
    git_ok(&seed, &["add", "--all"]);
    git_ok(
        &seed,
        &[
            "-c",
            "user.name=dev",
            "-c",
            "user.email=dev@example.com",
            "commit",
            "--quiet",
            "-m",
            "main",
        ],
    );
    git_ok(
        &seed,
        &[
            "remote",
            "add",
            "origin",
            origin.to_str().expect("utf-8 path"),
        ],
    );
    git_ok(&seed, &["push", "--quiet", "origin", "main"]);
    let main = git_ok(&origin, &["rev-parse", "refs/heads/main"]);
    let commit_of =
        |reference: &str| git_ok(&origin, &["rev-parse", &format!("{reference}^{{commit}}")]);
    let action_at =
        |reference: &str| git_ok(&origin, &["show", &format!("{reference}:action.yml")]);

    // First release.
    let first = a_digest(3);
    let work = dir.path().join("work-1");
    let scratch = tempfile::tempdir().expect("scratch");
    checkout(&origin, &work);
    let (ok, log) = run_tag_job(&work, scratch.path(), "v1.2.3", &first);
    assert!(ok, "the tag job failed:\n{log}");
    let released = commit_of("refs/tags/v1.2.3");
    assert_eq!(
        commit_of("refs/tags/v1"),
        released,
        "v1 moved to the release commit"
    );
    assert_ne!(released, main, "the release commit is a new commit");
    assert_eq!(
        commit_of("refs/tags/v1.2.3^"),
        main,
        "on top of the built commit"
    );
    assert_eq!(
        git_ok(&origin, &["rev-parse", "refs/heads/main"]),
        main,
        "main is untouched"
    );
    let pinned = action_at("v1.2.3");
    assert_eq!(
        runs_image(&yaml(&pinned)),
        format!("docker://{IMAGE}@{first}")
    );
    assert_eq!(
        pinned,
        original.trim_end().replace(
            &format!("docker://{IMAGE}:v1"),
            &format!("docker://{IMAGE}@{first}")
        ),
        "the release commit changes only the image"
    );
    assert_eq!(action_at("v1"), pinned);
    assert_eq!(
        git_ok(&origin, &["diff", "--name-only", &main, &released]),
        "action.yml",
        "the release commit changes action.yml only"
    );
    assert!(
        log.contains(&format!(
            "gh attestation verify oci://{IMAGE}@{first} --owner hf-deploy"
        )),
        "the summary says how to verify:\n{log}"
    );

    // The next release moves v1 and leaves v1.2.3 where it was.
    let second = a_digest(4);
    let work = dir.path().join("work-2");
    checkout(&origin, &work);
    let (ok, log) = run_tag_job(&work, scratch.path(), "v1.3.0", &second);
    assert!(ok, "the second release failed:\n{log}");
    assert_eq!(commit_of("refs/tags/v1"), commit_of("refs/tags/v1.3.0"));
    assert_eq!(commit_of("refs/tags/v1.2.3"), released);
    assert_eq!(
        runs_image(&yaml(&action_at("v1"))),
        format!("docker://{IMAGE}@{second}")
    );

    // A version released already: refused before the major tag moves.
    let work = dir.path().join("work-3");
    checkout(&origin, &work);
    let (ok, log) = run_tag_job(&work, scratch.path(), "v1.2.3", &a_digest(5));
    assert!(!ok, "re-released v1.2.3:\n{log}");
    assert_eq!(commit_of("refs/tags/v1.2.3"), released);
    assert_eq!(commit_of("refs/tags/v1"), commit_of("refs/tags/v1.3.0"));
}

// ---------------------------------------------------------------------------------------------
// This repository's tags
// ---------------------------------------------------------------------------------------------

/// The `v*` tags of `repo` whose action.yml does not run `docker://{IMAGE}@sha256:<64 hex>`, each
/// with what it runs.
fn unpinned_release_tags(repo: &Path) -> Vec<String> {
    let out = git_read(repo, &["tag", "--list", "v*"]);
    assert!(
        out.status.success(),
        "git tag --list in {}: {}",
        repo.display(),
        text(&out.stderr)
    );
    text(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .filter_map(|tag| {
            let out = git_read(repo, &["show", &format!("{tag}:action.yml")]);
            if !out.status.success() {
                return Some(format!("{tag} has no action.yml"));
            }
            let Ok(action) = serde_yaml_ng::from_slice::<Value>(&out.stdout) else {
                return Some(format!("{tag} has an action.yml that is not YAML"));
            };
            let image = action["runs"]["image"].as_str().unwrap_or("nothing");
            (!is_pinned(image)).then(|| format!("{tag} runs {image}"))
        })
        .collect()
}

#[test]
fn every_release_tag_pins_its_image_by_digest() {
    let unpinned = unpinned_release_tags(&root());
    assert!(
        unpinned.is_empty(),
        "release tags must name docker://{IMAGE}@sha256:<64 hex> (make them with the release \
         workflow, never by hand): {unpinned:?}"
    );
}

#[test]
fn the_tag_check_finds_a_tag_that_names_a_moving_image() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path();
    git_ok(repo, &["init", "--quiet", "--initial-branch", "main"]);
    let commit = |image: &str, tags: &[&str]| {
        std::fs::write(
            repo.join("action.yml"),
            format!("name: x\nruns:\n  using: docker\n  image: {image}\n"),
        )
        .expect("write");
        git_ok(repo, &["add", "action.yml"]);
        git_ok(
            repo,
            &[
                "-c",
                "user.name=dev",
                "-c",
                "user.email=dev@example.com",
                "commit",
                "--quiet",
                "-m",
                image,
            ],
        );
        for tag in tags {
            git_ok(repo, &["tag", tag]);
        }
    };
    commit(
        &format!("docker://{IMAGE}:v1"),
        &["v0.9.0", "not-a-release"],
    );
    commit(
        &format!("docker://{IMAGE}@{}", a_digest(6)),
        &["v1.0.0", "v1"],
    );
    assert_eq!(
        unpinned_release_tags(repo),
        [format!("v0.9.0 runs docker://{IMAGE}:v1")]
    );
}

#[test]
fn is_pinned_accepts_only_a_full_lower_case_digest() {
    assert!(is_pinned(&format!("docker://{IMAGE}@{}", a_digest(0))));
    assert!(!is_pinned(&format!("docker://{IMAGE}:v1")));
    assert!(!is_pinned(&format!(
        "docker://{IMAGE}@{}",
        a_digest(0).to_uppercase()
    )));
    assert!(!is_pinned(&format!("docker://{IMAGE}@{}0", a_digest(0))));
    assert!(!is_pinned(&format!(
        "docker://ghcr.io/else/x@{}",
        a_digest(0)
    )));
}
