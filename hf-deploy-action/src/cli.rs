//! Command-line flags. Names are fixed by `interface.md`; see the README for the full reference.
//!
//! Numeric flags take negative numbers and `--space` takes a value starting with `-`, so that
//! such a value is refused naming its flag (`invalid value '-1' for '--port'`) instead of being
//! read as an unknown flag `-1`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use hf_deploy_core::{Command as Suggested, Field, Spelling};

/// How the command line words what the library names: fields as flags, commands as typed.
pub(crate) const SPELLING: Spelling = Spelling::new(spelling, command);

/// How the command line words a command the library points to.
pub(crate) fn command(command: Suggested) -> &'static str {
    match command {
        Suggested::Scaffold => "`hf-deploy scaffold`",
        Suggested::RunLog => "`hf-deploy logs --run`",
        other => other.neutral(),
    }
}

/// How the command line spells each field (the flag, or the argument's name).
pub(crate) fn spelling(field: Field) -> &'static str {
    match field {
        Field::Space => "--space",
        Field::Source => "SOURCE",
        Field::Out => "--out",
        Field::Secrets => "--secret",
        Field::SecretsFile => "--secrets-file",
        Field::Variables => "--variable",
        Field::FrontendUrl => "--frontend-url",
        Field::HealthPath => "--health-path",
        Field::AppUrl => "--app-url",
        Field::ApiUrl => "--api-url",
        Field::Private => "--private",
        Field::Hardware => "--hardware",
        Field::Wait => "--no-wait",
        Field::Timeout => "--timeout",
        Field::DryRun => "--dry-run",
        Field::AllowDegraded => "--allow-degraded",
        Field::Title => "--title",
        Field::Emoji => "--emoji",
        Field::ColorFrom => "--color-from",
        Field::ColorTo => "--color-to",
        Field::ShortDescription => "--short-description",
        Field::Port => "--port",
        Field::App => "--app",
        Field::Exclude => "--exclude",
        Field::Keep => "--keep",
        Field::Installer => "--installer",
        Field::Token => "HF_TOKEN",
        Field::Visibility => "--visibility",
        Field::FactoryReboot => "--factory-reboot",
        Field::SleepTime => "--sleep-time",
        Field::RollbackTo => "--to",
        Field::RollbackOnFailure => "--rollback-on-failure",
        other => other.name(),
    }
}

/// Turn a FastAPI backend into a running, verified Hugging Face Docker Space.
#[derive(Debug, Parser)]
#[command(name = "hf-deploy", version, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

// Parsed once per run: boxing the deploy's flags would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write the Space tree (Dockerfile, README, app files) for a backend folder.
    Scaffold(ScaffoldArgs),
    /// Scaffold, push, set secrets and variables, wait for the build and verify the app.
    Deploy(Box<DeployArgs>),
    /// Write a commented `hf-deploy.toml` for a backend folder.
    Init(InitArgs),
    /// List the Spaces of `hf-deploy.toml` (or, with `--matrix`, a GitHub Actions matrix of them).
    Plan(PlanArgs),
    /// Check a deployed app: health and CORS.
    Verify(VerifyArgs),
    /// Show a Space's runtime stage, hardware and URLs.
    Status(StatusArgs),
    /// Print a Space's build or run log.
    Logs(LogsArgs),
    /// Delete a Space.
    Delete(DeleteArgs),
    /// Point a frontend's API client at the deployed app.
    Frontend(FrontendArgs),
    /// Pull-request previews: sweep away the stale ones.
    #[command(subcommand)]
    Previews(PreviewsCommand),
    /// List a Space's deploys, newest first: commit, source commit, time, whether hf-deploy
    /// made it.
    History(HistoryArgs),
    /// Push an earlier deploy's tree as a new commit (history kept), wait for it and verify it.
    Rollback(RollbackArgs),
    /// Run the local Hub stand-in on its own.
    #[cfg(feature = "local")]
    Emulator(EmulatorArgs),
    /// GitHub Action mode: inputs from `INPUT_*` environment variables.
    Action,
}

/// Space front matter and app layout flags, shared by `scaffold` and `deploy`.
#[derive(Debug, Args, Default, Clone)]
pub(crate) struct SpaceLayoutArgs {
    /// Space title (README front matter). Default: from the Space name.
    #[arg(long)]
    pub(crate) title: Option<String>,
    /// One emoji for the Space card.
    #[arg(long)]
    pub(crate) emoji: Option<String>,
    /// Gradient start color: red, yellow, green, blue, indigo, purple, pink or gray.
    #[arg(long = "color-from")]
    pub(crate) color_from: Option<String>,
    /// Gradient end color: red, yellow, green, blue, indigo, purple, pink or gray.
    #[arg(long = "color-to")]
    pub(crate) color_to: Option<String>,
    /// Card description, at most 60 characters.
    #[arg(long = "short-description")]
    pub(crate) short_description: Option<String>,
    /// Port the app listens on in the container (README `app_port`). Default 7860.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) port: Option<u16>,
    /// ASGI app as MODULE:ATTR. Default: detected (`app.main:app`).
    #[arg(long, value_name = "MODULE:ATTR")]
    pub(crate) app: Option<String>,
    /// Extra gitignore-style patterns to leave out of the Space.
    #[arg(long = "exclude", value_name = "GLOB")]
    pub(crate) excludes: Vec<String>,
    /// How the generated Dockerfile installs the requirements: `uv` (pinned, fast) or `pip`.
    #[arg(long, value_name = "INSTALLER", value_parser = ["uv", "pip"], default_value = "uv")]
    pub(crate) installer: String,
    /// Install gcc and g++ in the image, for a requirement without a wheel for Linux x86-64.
    #[arg(long = "build-tools")]
    pub(crate) build_tools: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ScaffoldArgs {
    /// The backend folder (holding `app/` and `requirements.txt`).
    pub(crate) source: PathBuf,
    /// Folder to write the Space tree into (created; must be empty or a previous scaffold).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Target Space `NS/NAME` (used for the default title).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) space: Option<String>,
    #[command(flatten)]
    pub(crate) layout: SpaceLayoutArgs,
    /// Health endpoint path. Default `/api/health`.
    #[arg(long = "health-path")]
    pub(crate) health_path: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Which configuration file, shared by the commands that read one.
#[derive(Debug, Args, Default, Clone)]
pub(crate) struct ConfigArgs {
    /// The configuration file. Default: `hf-deploy.toml`, looked for from the current directory
    /// up to the repository's root.
    #[arg(long, value_name = "FILE", env = "HF_DEPLOY_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Read no configuration file.
    #[arg(long = "no-config")]
    pub(crate) no_config: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// The backend folder (holding `app/` and `requirements.txt`). Default: the `source` of the
    /// configuration file's entry.
    pub(crate) source: Option<PathBuf>,
    /// Target Space `NS/NAME`; with a configuration file, the entry to deploy. With `--local`,
    /// defaults to `local/<folder name>`.
    #[arg(long, env = "HF_DEPLOY_SPACE", allow_hyphen_values = true)]
    pub(crate) space: Option<String>,
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    /// A Space secret `KEY=VALUE`, or a bare `KEY` to take the value from the environment.
    #[arg(long = "secret", value_name = "KEY[=VALUE]")]
    pub(crate) secrets: Vec<String>,
    /// A dotenv file of Space secrets.
    #[arg(long = "secrets-file", value_name = "FILE")]
    pub(crate) secrets_file: Option<PathBuf>,
    /// A Space variable `KEY=VALUE` (public).
    #[arg(long = "variable", value_name = "KEY=VALUE")]
    pub(crate) variables: Vec<String>,
    /// A frontend origin: added to `ALLOWED_ORIGINS` and checked for CORS.
    #[arg(long = "frontend-url", value_name = "URL")]
    pub(crate) frontend_urls: Vec<String>,
    /// Health endpoint path. Default `/api/health`.
    #[arg(long = "health-path")]
    pub(crate) health_path: Option<String>,
    /// App URL override (default: what the Hub reports).
    #[arg(long = "app-url")]
    pub(crate) app_url: Option<String>,
    /// Make the Space private: the same as `--visibility private`.
    #[arg(long)]
    pub(crate) private: bool,
    /// `public`, `protected` (private code, public app; paid plans) or `private` (code and app
    /// for the owner only). Given, it is applied to an existing Space too; not given, an
    /// existing Space keeps its own and a new one is public.
    #[arg(long, value_name = "VISIBILITY")]
    pub(crate) visibility: Option<String>,
    /// Request hardware, e.g. `cpu-basic`.
    #[arg(long)]
    pub(crate) hardware: Option<String>,
    /// Rebuild the Space without the build cache after the push (alone when nothing changed):
    /// the fix for a Space stuck in "Build queued".
    #[arg(long = "factory-reboot")]
    pub(crate) factory_reboot: bool,
    /// Seconds of inactivity before the Space sleeps (`-1`: never); paid hardware only.
    #[arg(
        long = "sleep-time",
        value_name = "SECONDS",
        allow_hyphen_values = true
    )]
    pub(crate) sleep_time: Option<String>,
    /// Return after the push: do not wait for the build or check health.
    #[arg(long = "no-wait")]
    pub(crate) no_wait: bool,
    /// Deadline for build plus health, in seconds. Default 1200 (or the file's
    /// `timeout-minutes`).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) timeout: Option<u64>,
    /// Show the plan (files, secrets, variables); write nothing anywhere.
    #[arg(long = "dry-run")]
    pub(crate) dry_run: bool,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub(crate) json: bool,
    /// Succeed when health is `degraded`.
    #[arg(long = "allow-degraded")]
    pub(crate) allow_degraded: bool,
    /// A path in the Space to keep although the scaffold does not produce it (gitignore-style
    /// glob, e.g. `data/**`). Everything else not produced is removed from the Space.
    #[arg(long = "keep", value_name = "GLOB")]
    pub(crate) keep: Vec<String>,
    /// When the new revision ends in an error stage or fails health, push the previous tree
    /// back and verify it; the deploy still fails.
    #[arg(long = "rollback-on-failure")]
    pub(crate) rollback_on_failure: bool,
    /// Deploy into an in-process Hub stand-in (no account, no network).
    #[cfg_attr(feature = "local", arg(long))]
    #[cfg_attr(not(feature = "local"), arg(skip))]
    pub(crate) local: bool,
    /// With `--local`: keep the stand-in and the app running until Ctrl-C.
    #[cfg_attr(feature = "local", arg(long, requires = "local"))]
    #[cfg_attr(not(feature = "local"), arg(skip))]
    pub(crate) serve: bool,
    /// With `--local`: `docker` builds and runs the Space image in a Docker engine, as the Hub
    /// does; `process` runs it with this machine's Python. Default: docker when an engine answers.
    #[cfg_attr(feature = "local", arg(long = "local-runtime", value_name = "RUNTIME", requires = "local", value_parser = ["docker", "process"]))]
    #[cfg_attr(not(feature = "local"), arg(skip))]
    pub(crate) local_runtime: Option<String>,
    #[command(flatten)]
    pub(crate) layout: SpaceLayoutArgs,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The backend folder. Default: `backend` when it holds a `requirements.txt`, else the
    /// current directory.
    pub(crate) source: Option<PathBuf>,
    /// The Space `NS/NAME` to write. Default: from the git remote's owner and the folder's name.
    #[arg(long)]
    pub(crate) space: Option<String>,
    /// Where to write. Default: `hf-deploy.toml` at the repository's root (else in the current
    /// directory).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Replace an existing file.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// Print a GitHub Actions matrix, `{"include":[{"space":…,"source":…},…]}`, on one line.
    #[arg(long)]
    pub(crate) matrix: bool,
    /// Only the Spaces whose source folder or `[[space]]` table changed between REF and `HEAD`.
    #[arg(long = "changed-since", value_name = "REF")]
    pub(crate) changed_since: Option<String>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["space", "app_url"])))]
pub(crate) struct VerifyArgs {
    /// The Space `NS/NAME` (its app URL is asked from the Hub).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) space: Option<String>,
    /// The app URL to check.
    #[arg(long = "app-url")]
    pub(crate) app_url: Option<String>,
    /// Health endpoint path. Default `/api/health`.
    #[arg(long = "health-path")]
    pub(crate) health_path: Option<String>,
    /// A frontend origin to check CORS for.
    #[arg(long = "frontend-url", value_name = "URL")]
    pub(crate) frontend_urls: Vec<String>,
    /// Deadline in seconds, at most one day (86400).
    #[arg(long, default_value_t = 300, allow_negative_numbers = true,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) timeout: u64,
    /// Succeed when health is `degraded`.
    #[arg(long = "allow-degraded")]
    pub(crate) allow_degraded: bool,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// The Space `NS/NAME`.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) space: String,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// The Space `NS/NAME`.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) space: String,
    /// The build log (default).
    #[arg(long, conflicts_with = "run")]
    pub(crate) build: bool,
    /// The run log.
    #[arg(long)]
    pub(crate) run: bool,
    /// Keep following the log until Ctrl-C.
    #[arg(long)]
    pub(crate) follow: bool,
}

#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// The Space `NS/NAME`.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) space: String,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RollbackArgs {
    /// The Space `NS/NAME`.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) space: String,
    /// The commit whose tree to restore (from `hf-deploy history`). Default: the deploy by
    /// hf-deploy before the current one.
    #[arg(long, value_name = "COMMIT", allow_hyphen_values = true)]
    pub(crate) to: Option<String>,
    /// Health endpoint path. Default `/api/health`.
    #[arg(long = "health-path")]
    pub(crate) health_path: Option<String>,
    /// A frontend origin to check CORS for.
    #[arg(long = "frontend-url", value_name = "URL")]
    pub(crate) frontend_urls: Vec<String>,
    /// Return after the push: do not wait for the build or check health.
    #[arg(long = "no-wait")]
    pub(crate) no_wait: bool,
    /// Deadline for build plus health, in seconds. Default 1200.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) timeout: Option<u64>,
    /// Succeed when health is `degraded`.
    #[arg(long = "allow-degraded")]
    pub(crate) allow_degraded: bool,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// The Space `NS/NAME`.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) space: String,
    /// Confirm the deletion.
    #[arg(long)]
    pub(crate) yes: bool,
}

/// `hf-deploy previews ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum PreviewsCommand {
    /// Delete the previews (`NS/NAME-pr-N`) this tool made for a repository whose pull request
    /// is closed (or that are older than `--max-age`). Previews of other repositories, and
    /// Spaces without the preview mark, are never touched.
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub(crate) struct PruneArgs {
    /// The base Space `NS/NAME` whose previews `NS/NAME-pr-N` are swept.
    #[arg(long)]
    pub(crate) space: Option<String>,
    /// The GitHub repository `OWNER/NAME` the previews were made for (read with `GITHUB_TOKEN`
    /// from `GITHUB_API_URL`).
    #[arg(long, value_name = "OWNER/NAME")]
    pub(crate) repo: String,
    /// Also delete previews unchanged for more than this many days (the Hub's `lastModified`,
    /// else `createdAt`), whatever their pull request's state.
    #[arg(long = "max-age", value_name = "DAYS")]
    pub(crate) max_age: Option<u32>,
    /// List what would be deleted; delete nothing.
    #[arg(long = "dry-run")]
    pub(crate) dry_run: bool,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct FrontendArgs {
    /// The frontend file holding the API client (e.g. `src/services/api.ts`).
    pub(crate) file: PathBuf,
    /// The deployed app URL.
    #[arg(long = "api-url")]
    pub(crate) api_url: String,
    /// Show the diff and change nothing (exit 1 if a change is needed).
    #[arg(long)]
    pub(crate) check: bool,
}

#[derive(Debug, Args)]
#[cfg(feature = "local")]
pub(crate) struct EmulatorArgs {
    /// Port to listen on (127.0.0.1). 0 picks a free one.
    #[arg(long, default_value_t = 7861, allow_negative_numbers = true)]
    pub(crate) port: u16,
    /// How Spaces run: `docker` (a Docker engine), `process` (this machine's Python) or
    /// `scripted` (no app: stages and answers made up). Default: docker when an engine answers.
    #[arg(long, value_name = "RUNTIME", value_parser = ["docker", "process", "scripted"])]
    pub(crate) runtime: Option<String>,
    /// Milliseconds added to every request (a Hub far away; benchmarks). At most 10000.
    #[arg(long = "latency-ms", default_value_t = 0, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub(crate) latency_ms: u64,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn every_flag_spelling_is_a_flag_of_the_command_line() {
        let command = Cli::command();
        let mut longs: Vec<String> = Vec::new();
        for sub in command.get_subcommands() {
            for arg in sub.get_arguments() {
                if let Some(long) = arg.get_long() {
                    longs.push(format!("--{long}"));
                }
            }
        }
        let mut flags = 0;
        for field in Field::ALL {
            let spelled = spelling(field);
            if spelled.starts_with("--") {
                flags += 1;
                assert!(longs.iter().any(|l| l == spelled), "{field:?}: {spelled}");
            }
        }
        assert!(flags >= 20, "{flags}");
        assert_eq!(spelling(Field::ColorFrom), "--color-from");
    }

    #[test]
    fn a_value_starting_with_a_dash_is_refused_naming_its_flag() {
        let mut cases = vec![
            (
                &["scaffold", "b", "--out", "o", "--port", "-1"][..],
                "--port",
            ),
            (
                &["deploy", "b", "--space", "local/x", "--timeout", "-1"],
                "--timeout",
            ),
            (
                &["verify", "--app-url", "http://a", "--timeout", "-5"],
                "--timeout",
            ),
        ];
        if cfg!(feature = "local") {
            cases.push((&["emulator", "--port", "-1"], "--port"));
            cases.push((&["emulator", "--latency-ms", "-1"], "--latency-ms"));
        }
        for (args, flag) in cases {
            let error =
                Cli::try_parse_from(std::iter::once("hf-deploy").chain(args.iter().copied()))
                    .expect_err("refused");
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{args:?}"
            );
            assert!(error.to_string().contains(flag), "{args:?}: {error}");
        }
        // `--space` takes it, and the Space id rule refuses it later (naming `--space`).
        let cli = Cli::try_parse_from(["hf-deploy", "status", "--space", "-a/b"]).expect("parsed");
        assert!(
            matches!(cli.command, Command::Status(StatusArgs { space, .. }) if space == "-a/b")
        );
    }

    #[test]
    fn verify_takes_a_deadline_of_one_second_to_one_day() {
        for timeout in ["0", "86401"] {
            let error = Cli::try_parse_from([
                "hf-deploy",
                "verify",
                "--app-url",
                "http://a",
                "--timeout",
                timeout,
            ])
            .expect_err(timeout);
            assert!(error.to_string().contains("--timeout"), "{error}");
        }
        for timeout in ["1", "86400"] {
            Cli::try_parse_from([
                "hf-deploy",
                "verify",
                "--app-url",
                "http://a",
                "--timeout",
                timeout,
            ])
            .expect(timeout);
        }
    }
}
