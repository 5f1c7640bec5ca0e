//! `deploy --secrets-file FILE` with files that cannot be used: the error names
//! `--secrets-file` (and the line), never a value; nothing is sent. Values hold `s3cr3t`.

use hf_deploy_tests::{example_backend, run_cli_async};

use super::{Seen, Sends, Stands, Verdicts, cli_problems};

/// What `--secrets-file` names.
enum File {
    /// A file with these bytes.
    Text(&'static [u8]),
    /// A path in a folder that does not exist.
    Missing,
    /// A folder.
    Folder,
    /// The empty path.
    Empty,
}

/// A case: its name, the file, and extra `deploy` flags.
/// The cases of this family (each one run and judged by its test).
pub(super) const CASES: usize = SECRETS_FILES.len();

#[rustfmt::skip]
const SECRETS_FILES: &[(&str, File, &[&str])] = &[
    ("missing file", File::Missing, &[]),
    ("a folder", File::Folder, &[]),
    ("empty path", File::Empty, &[]),
    ("a line without =", File::Text(b"GOOD=s3cr3t\njust a pasted s3cr3t value\n"), &[]),
    ("export without =", File::Text(b"export GEMINI_API_KEY\n"), &[]),
    ("a bare export", File::Text(b"export\n"), &[]),
    ("key starting with a digit", File::Text(b"1KEY=s3cr3t\n"), &[]),
    ("key with a dash", File::Text(b"MY-KEY=s3cr3t\n"), &[]),
    ("empty key", File::Text(b"=s3cr3t\n"), &[]),
    ("key of 129 characters", File::Text(b"KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK=s3cr3t\n"), &[]),
    ("quoted value with trailing space", File::Text(b"GEMINI_API_KEY=\"s3cr3t \"\n"), &[]),
    ("single-quoted value with a trailing tab", File::Text(b"GEMINI_API_KEY='s3cr3t\t'\n"), &[]),
    ("double quote never closed", File::Text(b"GEMINI_API_KEY=\"s3cr3t\nNEXT=x\n"), &[]),
    ("single quote never closed", File::Text(b"GEMINI_API_KEY='s3cr3t\n"), &[]),
    ("text after the closing quote", File::Text(b"GEMINI_API_KEY=\"s3cr3t\" tail\n"), &[]),
    ("escaped newline in a value", File::Text(b"GEMINI_API_KEY=\"s3cr3t\\nsecond\"\n"), &[]),
    ("empty value", File::Text(b"GEMINI_API_KEY=\n"), &[]),
    ("empty quoted value", File::Text(b"GEMINI_API_KEY=\"\"\n"), &[]),
    ("a key twice with different values", File::Text(b"A_KEY=s3cr3t-one\nA_KEY=s3cr3t-two\n"), &[]),
    ("not UTF-8", File::Text(b"GEMINI_API_KEY=s3cr3t\xff\xfe\n"), &[]),
    ("UTF-16", File::Text(b"\xff\xfeG\0=\0x\0\n\0"), &[]),
    ("Qdrant URL with a trailing slash", File::Text(b"QDRANT_URL=https://q.example.com:6333/\n"), &[]),
    ("a secret also given as a variable", File::Text(b"SHARED=s3cr3t\n"), &["--variable", "SHARED=public"]),
    ("a key also given with --secret", File::Text(b"A_KEY=s3cr3t-file\n"), &["--secret", "A_KEY=s3cr3t-flag"]),
];

#[tokio::test(flavor = "multi_thread")]
async fn corpus_secrets_files() {
    let stands = Stands::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut verdicts = Verdicts::new("secrets_files");
    let deploy = |file: &str, flags: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "deploy",
            &example_backend().display().to_string(),
            "--space",
            "local/corpus-secrets-files",
            "--no-wait",
            "--secrets-file",
            file,
        ]
        .map(str::to_string)
        .to_vec();
        args.extend(flags.iter().map(|f| f.to_string()));
        args
    };

    // The good run: quotes, `export`, comments and a byte order mark are read.
    let good = dir.path().join("good.env");
    std::fs::write(
        &good,
        "\u{feff}# the app's keys\nexport GEMINI_API_KEY=\"s3cr3t-good\"\nDATABASE_URL='postgresql://u:s3cr3t@db.example.com/x?sslmode=require' # prod\n\nLOG_SECRET=s3cr3t-plain\n",
    )
    .expect("write");
    let mark = stands.mark().await;
    let output = run_cli_async(deploy(&good.display().to_string(), &[]), stands.cli_env()).await;
    let (hub, github) = stands.since(mark).await;
    let seen = Seen {
        code: output.code,
        named: true,
        hub,
        github,
        problems: cli_problems(&output, &["s3cr3t"]),
        output: output.both(),
    };
    verdicts.good_run(&seen, Sends::Writes, false);

    for (index, (name, file, flags)) in SECRETS_FILES.iter().enumerate() {
        let path = match file {
            File::Text(bytes) => {
                let path = dir.path().join(format!("case-{index}.env"));
                std::fs::write(&path, bytes).expect("write");
                path.display().to_string()
            }
            File::Missing => dir.path().join("gone/x.env").display().to_string(),
            File::Folder => dir.path().display().to_string(),
            File::Empty => String::new(),
        };
        let mark = stands.mark().await;
        let output = run_cli_async(deploy(&path, flags), stands.cli_env()).await;
        let (hub, github) = stands.since(mark).await;
        let seen = Seen {
            code: output.code,
            named: output.stderr.contains("--secrets-file"),
            hub,
            github,
            problems: cli_problems(&output, &["s3cr3t"]),
            output: output.both(),
        };
        verdicts.record(name, seen);
    }
    verdicts.finish(20);
    stands.emulator.shutdown().await;
}
