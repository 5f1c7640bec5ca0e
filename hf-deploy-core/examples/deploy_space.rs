//! Deploy a FastAPI backend to a Hugging Face Docker Space with `hf-deploy-core`, and print the
//! report as JSON: a complete Rust program built on the library alone.
//!
//! ```sh
//! export HF_TOKEN=hf_...   # a write token
//! cargo run -p hf-deploy-core --example deploy_space -- \
//!     --space alice/rag-chatbot examples/rag-chatbot/backend
//! ```
//!
//! The program reads its own arguments and environment (`HF_TOKEN`, `HF_ENDPOINT`); the library
//! reads neither. It fills the library's [`RawInputs`], lets [`inputs::resolve`] check every
//! input and build the scaffold (a bad input stops here: exit 2, nothing sent), builds a
//! [`HubClient`], runs [`deploy`] and prints the [`DeployReport`](hf_deploy_core::report::DeployReport)
//! as JSON on stdout, progress on stderr. Exit code: 0 deployed (and verified, unless
//! `--no-wait`), 1 failed (the report still printed), 2 bad input.

use std::path::PathBuf;
use std::process::ExitCode;

use hf_deploy_core::hub::{DEFAULT_ENDPOINT, HubClient};
use hf_deploy_core::{
    Command, DeployOutcome, Error, Event, Field, Progress, RawInputs, Redactor, RemoteText,
    SecretString, Spelling, deploy, inputs,
};

const USAGE: &str = "usage: deploy_space --space NAMESPACE/NAME [--endpoint URL] [--no-wait] \
[--allow-degraded] SOURCE
  SOURCE            the FastAPI backend folder
  --space           the target Space
  --endpoint        the Hub (default: $HF_ENDPOINT, else https://huggingface.co)
  --no-wait         return after the push (no build wait, no health check)
  --allow-degraded  accept a `degraded` health answer
The token is read from $HF_TOKEN.";

/// What the program was asked to do.
#[derive(Debug)]
pub(crate) struct Args {
    /// The Hub's base URL.
    pub(crate) endpoint: String,
    /// The Hub token (`Debug` never shows it).
    pub(crate) token: Option<SecretString>,
    /// The target Space, as given (checked by [`inputs::resolve`]).
    pub(crate) space: Option<String>,
    /// The backend folder.
    pub(crate) source: PathBuf,
    /// Wait for the build and verify the app.
    pub(crate) wait: bool,
    /// Accept `degraded` health.
    pub(crate) allow_degraded: bool,
}

impl Args {
    /// Read the arguments (without the program name) and the environment through `env`.
    pub(crate) fn parse(
        args: impl IntoIterator<Item = String>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Args, String> {
        let mut parsed = Args {
            endpoint: env("HF_ENDPOINT")
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
            token: env("HF_TOKEN")
                .filter(|v| !v.is_empty())
                .map(SecretString::new),
            space: None,
            source: PathBuf::new(),
            wait: true,
            allow_degraded: false,
        };
        let mut source = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--space" => parsed.space = Some(args.next().ok_or("`--space` needs a value")?),
                "--endpoint" => {
                    parsed.endpoint = args.next().ok_or("`--endpoint` needs a value")?;
                }
                "--no-wait" => parsed.wait = false,
                "--allow-degraded" => parsed.allow_degraded = true,
                "-h" | "--help" => return Err(String::new()),
                flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
                _ if source.is_some() => return Err(format!("unexpected argument `{arg}`")),
                _ => source = Some(PathBuf::from(arg)),
            }
        }
        parsed.source = source.ok_or("give the backend folder (SOURCE)")?;
        Ok(parsed)
    }
}

/// How this program spells each field in messages: its own flags.
const SPELLING: Spelling = Spelling::new(flag, Command::neutral);

fn flag(field: Field) -> &'static str {
    match field {
        Field::Space => "--space",
        Field::Source => "SOURCE",
        Field::Wait => "--no-wait",
        Field::AllowDegraded => "--allow-degraded",
        other => other.name(),
    }
}

/// Prints the phases and warnings of a deploy on stderr.
struct Stderr;

impl Progress for Stderr {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Phase(phase) => eprintln!("==> {phase}"),
            // Text from outside goes to the terminal through its door: no escape sequence.
            Event::Stage { stage, elapsed } => eprintln!(
                "    stage {} after {}s",
                stage.to_remote(&Redactor::none()).terminal(),
                elapsed.as_secs()
            ),
            Event::Warning(warning) => eprintln!("warning: {}", warning.terminal()),
            _ => {}
        }
    }
}

/// Deploy as `args` say. Every input is checked (and the scaffold built) before the first
/// request; an `Err` is that first bad input (or a client that cannot be built), while a deploy
/// that started always returns its [`DeployOutcome`]: the report, and the error if it failed.
pub(crate) async fn run(args: &Args, progress: &dyn Progress) -> Result<DeployOutcome, Error> {
    let raw = RawInputs {
        space: args.space.clone(),
        source: args.source.clone(),
        wait: args.wait,
        allow_degraded: args.allow_degraded,
        commit_message: "Deploy with the hf-deploy-core example".into(),
        ..RawInputs::default()
    };
    // Reads the source folder: off the async workers.
    let options = tokio::task::spawn_blocking(move || inputs::resolve(&raw))
        .await
        .map_err(|e| {
            Error::io(
                "scaffold",
                &args.source,
                std::io::Error::other(e.to_string()),
            )
        })??;
    let mut client = HubClient::builder()
        .endpoint(&args.endpoint)
        .user_agent(concat!(
            "hf-deploy-core-example/",
            env!("CARGO_PKG_VERSION")
        ));
    if let Some(token) = &args.token {
        client = client.token(token.clone());
    }
    let client = client.build()?;
    Ok(deploy(&client, &options, progress).await)
}

/// The error and its hint on stderr. A message can quote a server or the app (already
/// redacted by the deploy): it goes to the terminal through the door.
fn print_error(error: &Error) {
    let shown = |text: &str| RemoteText::new(text, &Redactor::none()).terminal();
    eprintln!("error: {}", shown(&error.message_with(SPELLING)));
    if let Some(hint) = error.hint_with(SPELLING) {
        eprintln!("hint: {}", shown(&hint));
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1), &|name| std::env::var(name).ok()) {
        Ok(args) => args,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args, &Stderr).await {
        Err(error) => {
            print_error(&error);
            ExitCode::from(if error.is_usage() { 2 } else { 1 })
        }
        Ok(outcome) => {
            match serde_json::to_string_pretty(&outcome.report) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("error: cannot write the report as JSON: {e}"),
            }
            match outcome.error {
                None => ExitCode::SUCCESS,
                Some(error) => {
                    print_error(&error);
                    ExitCode::from(if error.is_usage() { 2 } else { 1 })
                }
            }
        }
    }
}
