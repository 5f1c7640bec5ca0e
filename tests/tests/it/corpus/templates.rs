//! User templates (`templates_dir` holding `Dockerfile.j2` and/or `README.md.j2`), a library
//! option no front end exposes: scaffolded with the library's [`scaffold`] into the options of a
//! [`deploy`] (a template error stops before the deploy is asked for).
//! A usage error ([`Error::is_usage`], the binary's exit code 2; any other error counts as 1)
//! must name `templates_dir` or the template's file, and the Hub stand-in must see nothing.

use std::path::Path;

use hf_deploy_core::hub::HubClient;
use hf_deploy_core::scaffold::{ScaffoldOptions, scaffold};
use hf_deploy_core::{Error, NoProgress, RawInputs, SecretString, SpaceId, deploy, inputs};
use hf_hub_emulator::DEFAULT_WRITE_TOKEN;

use super::{MAIN_PY, REQUIREMENTS, Seen, Sends, Stands, Verdicts, write_tree};

/// A Dockerfile template that keeps every Space rule.
const GOOD_DOCKERFILE: &str = "FROM python:3.11-slim
RUN useradd -m -u 1000 user
USER user
ENV HOME=/home/user PATH=/home/user/.local/bin:$PATH
WORKDIR $HOME/app
COPY --chown=user requirements.txt ./
RUN pip install --no-cache-dir --user -r requirements.txt
COPY --chown=user . .
EXPOSE {{ space.port }}
CMD {{ cmd }}
";

/// The files of a templates folder: (`name`, bytes).
type Files = &'static [(&'static str, &'static [u8])];

/// A case: its name and the files of the templates folder.
/// The cases of this family (each one run and judged by its test).
pub(super) const CASES: usize = TEMPLATES.len();

#[rustfmt::skip]
const TEMPLATES: &[(&str, Files)] = &[
    ("unknown variable (strict undefined)", &[("Dockerfile.j2", b"FROM python:3.11\n{{ nope }}\n")]),
    ("unknown attribute", &[("README.md.j2", b"{{ front_matter }}\n# {{ space.nope }}\n")]),
    ("unclosed expression", &[("Dockerfile.j2", b"FROM python:3.11\nEXPOSE {{ space.port\n")]),
    ("block tag syntax error", &[("Dockerfile.j2", b"{% if %}\nFROM python:3.11\n{% endif %}\n")]),
    ("unclosed block", &[("README.md.j2", b"{{ front_matter }}\n{% for s in space.secrets %}\n- {{ s.name }}\n")]),
    ("unknown filter", &[("Dockerfile.j2", b"FROM python:3.11\nEXPOSE {{ space.port | nope }}\n")]),
    ("include of a missing template", &[("Dockerfile.j2", b"{% include \"base.j2\" %}\n")]),
    ("division by zero", &[("README.md.j2", b"{{ front_matter }}\n{{ 1 // 0 }}\n")]),
    ("template not UTF-8", &[("Dockerfile.j2", b"FROM python:3.11\n# \xff\xfe\n")]),
    ("rendered Dockerfile breaks a Space rule", &[("Dockerfile.j2", b"FROM python:3.11\nEXPOSE 8000\nCMD {{ cmd }}\n")]),
    ("README front matter says another sdk", &[("README.md.j2", b"---\ntitle: x\nsdk: gradio\n---\n")]),
    ("README front matter on another port", &[("README.md.j2", b"---\nsdk: docker\napp_port: 9999\n---\n")]),
    ("README front matter not YAML", &[("README.md.j2", b"---\nsdk: [docker\n---\n")]),
    ("folder without templates", &[("notes.txt", b"no templates here\n")]),
    ("Dockerfile.j2 is a folder", &[("Dockerfile.j2/x", b"x")]),
];

/// The options of a deploy of `source` to the stand-in, its scaffold made with `templates` as
/// `templates_dir`; a scaffold error is the case's answer.
fn options(source: &Path, templates: &Path) -> Result<hf_deploy_core::DeployOptions, Error> {
    let space = "local/corpus-templates";
    let raw = RawInputs {
        space: Some(space.into()),
        source: source.to_path_buf(),
        wait: false,
        ..RawInputs::default()
    };
    let mut options = inputs::resolve(&raw).expect("the inputs besides the templates are good");
    options.scaffold = scaffold(
        source,
        &ScaffoldOptions {
            space: Some(SpaceId::parse(space, hf_deploy_core::Field::Space).expect("space")),
            templates_dir: Some(templates.to_path_buf()),
            ..ScaffoldOptions::default()
        },
    )?;
    Ok(options)
}

/// Deploy with the templates of `templates`: the scaffold's error, or the deploy's.
async fn run(client: &HubClient, source: &Path, templates: &Path) -> Option<Error> {
    match options(source, templates) {
        Ok(options) => deploy(client, &options, &NoProgress).await.error,
        Err(error) => Some(error),
    }
}

fn judge(result: Option<Error>, templates: &Path, sent: (Vec<String>, Vec<String>)) -> Seen {
    let (code, named, output) = match result {
        None => (0, false, "deployed".to_string()),
        Some(error) => {
            let mut text = format!("{error}");
            let mut cause = std::error::Error::source(&error);
            while let Some(source) = cause {
                text.push_str(&format!("\n  caused by: {source}"));
                cause = source.source();
            }
            let named =
                text.contains("`templates_dir`") || text.contains(&templates.display().to_string());
            let code = if error.is_usage() { 2 } else { 1 };
            (code, named, text)
        }
    };
    Seen {
        code,
        named,
        hub: sent.0,
        github: sent.1,
        problems: Vec::new(),
        output,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn corpus_user_templates() {
    let stands = Stands::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let source = write_tree(
        dir.path(),
        "backend",
        &[("requirements.txt", REQUIREMENTS), ("app/main.py", MAIN_PY)],
    );
    let client = HubClient::builder()
        .endpoint(stands.emulator.url())
        .token(SecretString::new(DEFAULT_WRITE_TOKEN))
        .build()
        .expect("a Hub client");
    let mut verdicts = Verdicts::new("templates");

    let good = write_tree(
        dir.path(),
        "good-templates",
        &[
            ("Dockerfile.j2", GOOD_DOCKERFILE.as_bytes()),
            (
                "README.md.j2",
                b"{{ front_matter }}\n# {{ space.title }}\n\nServes `{{ app }}`.\n",
            ),
        ],
    );
    let mark = stands.mark().await;
    let error = run(&client, &source, &good).await;
    let seen = judge(error, &good, stands.since(mark).await);
    verdicts.good_run(&seen, Sends::Writes, false);

    for (index, (name, files)) in TEMPLATES.iter().enumerate() {
        let templates = write_tree(dir.path(), &format!("case-{index}"), files);
        let mark = stands.mark().await;
        let error = run(&client, &source, &templates).await;
        let seen = judge(error, &templates, stands.since(mark).await);
        verdicts.record(name, seen);
    }
    verdicts.finish(12);
    stands.emulator.shutdown().await;
}
