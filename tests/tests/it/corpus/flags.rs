//! The flags of every command (`scaffold`, `deploy`, `verify`, `status`, `logs`, `delete`,
//! `frontend`, `emulator`) and the environment they read (`HF_ENDPOINT`, the token).
//!
//! A row is the command line with `|` between arguments and `{name}` placeholders (filled in
//! [`places`]), the text the error must hold (the flag as the user spells it), and the
//! environment it changes. Secret values in the table hold `s3cr3t`, which no output may show.

use hf_deploy_tests::{example_backend, run_cli_async};

use super::{Places, Seen, Sends, Stands, Verdicts, cli_problems, label};

struct Row {
    args: &'static str,
    names: &'static str,
    env: &'static [(&'static str, &'static str)],
    unset: &'static [&'static str],
}

const fn row(args: &'static str, names: &'static str) -> Row {
    Row {
        args,
        names,
        env: &[],
        unset: &[],
    }
}

const fn with_env(
    args: &'static str,
    names: &'static str,
    env: &'static [(&'static str, &'static str)],
) -> Row {
    Row {
        args,
        names,
        env,
        unset: &[],
    }
}

const fn without(args: &'static str, names: &'static str, unset: &'static [&'static str]) -> Row {
    Row {
        args,
        names,
        env: &[],
        unset,
    }
}

/// The cases of this family (each one run and judged by its test).
pub(super) const CASES: usize = FLAGS.len();

#[rustfmt::skip]
const FLAGS: &[Row] = &[
    // scaffold: {scaffold} is `scaffold {b} --out {o}`
    row("{scaffold}|--space|a", "--space"),
    row("{scaffold}|--space|a/b.git", "--space"),
    row("{scaffold}|--space|ünï/space", "--space"),
    row("{scaffold}|--emoji|", "--emoji"),
    row("{scaffold}|--emoji|x", "--emoji"),
    row("{scaffold}|--emoji|🚀 x", "--emoji"),
    row("{scaffold}|--color-from|", "--color-from"),
    row("{scaffold}|--color-to|Red", "--color-to"),
    row("{scaffold}|--title|", "--title"),
    row("{scaffold}|--title|   ", "--title"),
    row("{scaffold}|--title|tab\there", "--title"),
    row("{scaffold}|--short-description|", "--short-description"),
    row("{scaffold}|--short-description|two\nlines", "--short-description"),
    row("{scaffold}|--port|-1", "--port"),
    row("{scaffold}|--port|abc", "--port"),
    row("{scaffold}|--port|65536", "--port"),
    row("{scaffold}|--app|:app", "--app"),
    row("{scaffold}|--app|app..main:app", "--app"),
    row("{scaffold}|--app|app.main:", "--app"),
    row("{scaffold}|--app|1app:app", "--app"),
    row("{scaffold}|--app|app.main:app:extra", "--app"),
    row("{scaffold}|--app|app.main:app|--app|app.main:app", "--app"),
    row("{scaffold}|--health-path|/api health", "--health-path"),
    row("{scaffold}|--health-path|/health#top", "--health-path"),
    row("{scaffold}|--health-path|", "--health-path"),
    row("{scaffold}|--exclude|!app", "--exclude"),
    row("{scaffold}|--exclude| ", "--exclude"),
    row("{scaffold}|--installer|conda", "--installer"),
    row("{scaffold}|--nope", "--nope"),
    row("scaffold|{b}", "--out"),
    row("scaffold|--out|{o}", "<SOURCE>"),
    row("scaffold|{b}|--out|{file}", "--out"),
    row("scaffold|{b}|--out|{full}", "--out"),
    // deploy: {deploy} is `deploy {b} --space local/corpus-flags`
    row("deploy|{b}|--space|a", "--space"),
    row("deploy|{b}|--space|-a/b", "--space"),
    row("deploy|{b}|--space=-a/b", "--space"),
    row("deploy|{b}|--space|a/b.git", "--space"),
    row("deploy|{b}|--space|local/{name97}", "--space"),
    row("deploy|{b}|--space|ünï/x", "--space"),
    row("deploy|{b}|--space|a b/c", "--space"),
    row("deploy|{b}|--space|a/", "--space"),
    row("deploy|{b}|--space|/b", "--space"),
    row("deploy|{b}|--space|local/x.", "--space"),
    row("deploy|{b}|--space|local/x..y", "--space"),
    row("deploy|{b}|--space|", "--space"),
    row("deploy|--space|local/x", "SOURCE"),
    row("{deploy}|--secret|GEMINI_API_KEY= s3cr3t", "--secret"),
    row("{deploy}|--secret|GEMINI_API_KEY=s3cr3t\t", "--secret"),
    row("{deploy}|--secret|GEMINI_API_KEY=s3cr3t\r", "--secret"),
    row("{deploy}|--secret|BAD-KEY=s3cr3t", "--secret"),
    row("{deploy}|--secret| GEMINI_API_KEY=s3cr3t", "--secret"),
    row("{deploy}|--secret|{key129}=s3cr3t", "--secret"),
    row("{deploy}|--secret|ÄPI_KEY=s3cr3t", "--secret"),
    row("{deploy}|--secret|", "--secret"),
    row("{deploy}|--secret|A_KEY=s3cr3t-one|--secret|A_KEY=s3cr3t-two", "--secret"),
    row("{deploy}|--secret|SHARED=s3cr3t|--variable|SHARED=public", "--secret"),
    with_env("{deploy}|--secret|PADDED_FROM_ENV", "--secret", &[("PADDED_FROM_ENV", " s3cr3t")]),
    with_env("{deploy}|--secret|EMPTY_FROM_ENV", "--secret", &[("EMPTY_FROM_ENV", "")]),
    row("{deploy}|--variable|LOG_LEVEL=", "--variable"),
    row("{deploy}|--variable|LOG_LEVEL= info", "--variable"),
    row("{deploy}|--variable|=info", "--variable"),
    row("{deploy}|--variable|1LOG=info", "--variable"),
    row("{deploy}|--variable|LOG_LEVEL=a\nb", "--variable"),
    with_env("{deploy}|--variable|LOG_LEVEL", "--variable", &[("LOG_LEVEL", "info")]),
    row("{deploy}|--frontend-url|*", "--frontend-url"),
    row("{deploy}|--frontend-url|null", "--frontend-url"),
    row("{deploy}|--frontend-url|https://book.example.com?x=1", "--frontend-url"),
    row("{deploy}|--frontend-url|https://book.example.com#top", "--frontend-url"),
    row("{deploy}|--frontend-url|https://user@book.example.com", "--frontend-url"),
    row("{deploy}|--frontend-url|http://", "--frontend-url"),
    row("{deploy}|--frontend-url| https://book.example.com", "--frontend-url"),
    row("{deploy}|--frontend-url|file:///etc/passwd", "--frontend-url"),
    row("{deploy}|--frontend-url|https://a.example.com,https://b.example.com", "--frontend-url"),
    row("{deploy}|--health-path|", "--health-path"),
    row("{deploy}|--health-path|/api health", "--health-path"),
    row("{deploy}|--app-url|", "--app-url"),
    row("{deploy}|--app-url|//example.com", "--app-url"),
    row("{deploy}|--app-url|https://user:pw@example.com", "--app-url"),
    row("{deploy}|--app-url|javascript:alert(1)", "--app-url"),
    row("{deploy}|--app-url|https://", "--app-url"),
    row("{deploy}|--timeout|-1", "--timeout"),
    row("{deploy}|--timeout|abc", "--timeout"),
    row("{deploy}|--timeout|86401", "--timeout"),
    row("{deploy}|--timeout|1.5", "--timeout"),
    row("{deploy}|--timeout|18446744073709551616", "--timeout"),
    row("{deploy}|--hardware|CPU-BASIC", "--hardware"),
    row("{deploy}|--hardware=-cpu", "--hardware"),
    row("{deploy}|--hardware|cpu_basic", "--hardware"),
    row("{deploy}|--hardware|{hw65}", "--hardware"),
    row("{deploy}|--hardware|", "--hardware"),
    row("{deploy}|--hardware|t4 small", "--hardware"),
    row("{deploy}|--keep|/data/**", "--keep"),
    row("{deploy}|--keep|../x", "--keep"),
    row("{deploy}|--keep|!data", "--keep"),
    row("{deploy}|--keep| ", "--keep"),
    row("{deploy}|--exclude|!app/**", "--exclude"),
    row("{deploy}|--emoji|🤖🚀", "--emoji"),
    row("{deploy}|--color-from|Blue", "--color-from"),
    row("{deploy}|--port|0", "--port"),
    row("{deploy}|--app|x:y", "--app"),
    row("{deploy}|--local-runtime|docker", "--local"),
    row("{deploy}|--serve", "--local"),
    row("{deploy}|--local|--local-runtime|podman", "--local-runtime"),
    row("{deploy}|--no-wait|--no-wait", "--no-wait"),
    with_env("{deploy}", "HF_ENDPOINT", &[("HF_ENDPOINT", "not a url")]),
    with_env("{deploy}", "HF_ENDPOINT", &[("HF_ENDPOINT", "ftp://hub.example.com")]),
    with_env("{deploy}", "HF_TOKEN", &[("HF_TOKEN", "hf_two words")]),
    with_env("{deploy}", "HF_TOKEN", &[("HF_TOKEN", "hf_s3cr3t\nsecond-line")]),
    without("{deploy}", "HF_TOKEN", &["HF_TOKEN"]),
    Row {
        args: "{deploy}",
        names: "HF_TOKEN_PATH",
        env: &[("HF_TOKEN_PATH", "{d}/no-such-token")],
        unset: &["HF_TOKEN"],
    },
    // verify
    row("verify|--space|a", "--space"),
    row("verify|--space|local/x|--health-path|health", "--health-path"),
    row("verify|--app-url|{hub}|--frontend-url|https://a.example.com/path", "--frontend-url"),
    row("verify|--app-url|ftp://app.example.com", "--app-url"),
    row("verify|--space|local/x|--app-url|not a url", "--app-url"),
    row("verify|--app-url|{hub}|--timeout|0", "--timeout"),
    row("verify|--app-url|{hub}|--timeout|86401", "--timeout"),
    row("verify|--app-url|{hub}|--timeout|abc", "--timeout"),
    row("verify|--space|local/x|--space|local/y", "--space"),
    row("verify|--app-url|{hub}|--nope", "--nope"),
    // status
    row("status|--space|", "--space"),
    row("status|--space|a/b.git", "--space"),
    row("status", "--space"),
    row("status|--space|local/x|--json|--json", "--json"),
    with_env("status|--space|local/x", "HF_ENDPOINT", &[("HF_ENDPOINT", ":::")]),
    // logs
    row("logs|--space|a", "--space"),
    row("logs|--space|ünï/x", "--space"),
    row("logs|--space|local/x|--build|--run", "--run"),
    row("logs|--space|local/x|--tail", "--tail"),
    without("logs|--space|local/x", "HF_TOKEN", &["HF_TOKEN"]),
    // delete
    row("delete|--space|a|--yes", "--space"),
    row("delete|--space|local/x.git|--yes", "--space"),
    row("delete|--yes", "--space"),
    row("delete|--space|local/x|--yes=false", "--yes"),
    without("delete|--space|local/x|--yes", "HF_TOKEN", &["HF_TOKEN"]),
    // frontend
    row("frontend|{ts}|--api-url|ftp://x.hf.space", "--api-url"),
    row("frontend|{ts}|--api-url|", "--api-url"),
    row("frontend|{ts}|--api-url|https://u:p@x.hf.space", "--api-url"),
    row("frontend|{ts}|--api-url|https://x.hf.space/$HOME", "--api-url"),
    row("frontend|{ts}", "--api-url"),
    row("frontend|{d}|--api-url|https://x.hf.space", "{d}"),
    row("frontend|{file}|--api-url|https://x.hf.space", "{file}"),
    row("frontend|{two}|--api-url|https://x.hf.space", "{two}"),
    // emulator
    row("emulator|--port|70000", "--port"),
    row("emulator|--runtime|k8s", "--runtime"),
    row("emulator|--latency-ms|10001", "--latency-ms"),
];

/// The placeholders of [`FLAGS`] (the temporary folder `dir` holds the files).
fn places(stands: &Stands, dir: &std::path::Path) -> Places {
    let mut places = Places::new();
    places.path("b", &example_backend());
    places.path("o", &dir.join("out"));
    places.path("d", dir);
    let file = dir.join("notes.txt");
    std::fs::write(&file, "no API URL here\n").expect("write");
    places.path("file", &file);
    let full = dir.join("full");
    std::fs::create_dir_all(&full).expect("create folder");
    std::fs::write(full.join("keep-me.txt"), "not a scaffold\n").expect("write");
    places.path("full", &full);
    let ts = dir.join("api.ts");
    std::fs::write(&ts, TS).expect("write");
    places.path("ts", &ts);
    let two = dir.join("two.ts");
    std::fs::write(
        &two,
        "const API_URL = 'http://localhost:8000';\nconst OTHER_API_URL = 'http://localhost:9000';\n",
    )
    .expect("write");
    places.path("two", &two);
    places.set("hub", stands.emulator.url());
    places.set("name97", "n".repeat(97));
    places.set("key129", "K".repeat(129));
    places.set("hw65", "a".repeat(65));
    // Filled after the paths above, so they may use them.
    places.set("scaffold", "scaffold|{b}|--out|{o}");
    places.set("deploy", "deploy|{b}|--space|local/corpus-flags");
    places
}

const TS: &str = "export const API_URL = 'http://localhost:8000';\n";

/// `args` with its placeholders filled (twice: `{deploy}` holds `{b}`), split at `|`.
fn arguments(places: &Places, args: &str) -> Vec<String> {
    places
        .fill(&places.fill(args))
        .split('|')
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn corpus_command_line_flags() {
    let stands = Stands::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let places = places(&stands, dir.path());
    let mut verdicts = Verdicts::new("flags");

    // The good run: a real deploy (no wait) is seen, writes included.
    let mark = stands.mark().await;
    let good = arguments(
        &places,
        "{deploy}|--no-wait|--secret|GEMINI_API_KEY=s3cr3t-good",
    );
    let output = run_cli_async(good, stands.cli_env()).await;
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

    for row in FLAGS {
        let mut env: Vec<(String, String)> = stands
            .cli_env()
            .into_iter()
            .filter(|(key, _)| !row.unset.contains(&key.as_str()))
            .collect();
        for (key, value) in row.env {
            env.push((key.to_string(), places.fill(value)));
        }
        let mark = stands.mark().await;
        let output = run_cli_async(arguments(&places, row.args), env).await;
        let (hub, github) = stands.since(mark).await;
        let names = places.fill(row.names);
        let mut problems = cli_problems(&output, &["s3cr3t"]);
        let out = dir.path().join("out");
        if out.exists() {
            problems.push("a scaffold was written to `--out`".into());
            std::fs::remove_dir_all(&out).expect("remove the scaffold");
        }
        if std::fs::read_to_string(dir.path().join("api.ts"))
            .ok()
            .as_deref()
            != Some(TS)
        {
            problems.push("the frontend file was changed".into());
            std::fs::write(dir.path().join("api.ts"), TS).expect("write");
        }
        let seen = Seen {
            code: output.code,
            named: output.stderr.contains(&names),
            hub,
            github,
            problems,
            output: output.both(),
        };
        let mut case = row.args.to_string();
        for (key, value) in row.env {
            case.push_str(&format!(" with {key}={}", value.escape_debug()));
        }
        for key in row.unset {
            case.push_str(&format!(" without {key}"));
        }
        verdicts.record(&label(&[&case]), seen);
    }
    verdicts.finish(120);
    stands.emulator.shutdown().await;
}
