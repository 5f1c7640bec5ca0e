//! Whether a Docker engine answers, and when it does not, what answered instead: `docker version`
//! under a deadline (the CLI reads `DOCKER_HOST` and the user's context like every tool) and, at
//! the same time when `DOCKER_HOST` is a plain `tcp://` or `unix://` address, one `GET /_ping` of
//! our own, which gives the status the CLI does not print (429, 5xx), a cut answer or silence.
//! Nothing is retried: an engine that fails its probe is not used (the caller falls back to the
//! process runner, or refuses a forced Docker runtime).

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::bounded::output_within;
use super::docker_cli::{docker, failed};

/// How long the probe waits for an answer (the CLI's and the ping's, run at once).
pub const PROBE_DEADLINE: Duration = Duration::from_secs(5);
/// The most of a ping's answer read.
const PING_CAP: usize = 16 * 1024;

/// What the probe of the Docker engine found. The texts quote the engine or the CLI: outside
/// text, to be shown through a sanitiser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineProbe {
    /// An engine answered `docker version`.
    Answers,
    /// No engine: nothing listens where the CLI looks, or there is no `docker` CLI.
    Absent(String),
    /// Something listens there but does not work as an engine: what it answered (a status and
    /// its message, an answer cut short, silence past [`PROBE_DEADLINE`]).
    Failing(String),
}

/// Probes the Docker engine (`DOCKER_HOST`, else the CLI's context or default socket) within
/// [`PROBE_DEADLINE`].
pub async fn probe_engine() -> EngineProbe {
    let host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
    let tls = std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty());
    let direct = host.as_deref().filter(|_| !tls).and_then(Endpoint::parse);
    let place = host.unwrap_or_else(|| "the default socket".into());
    // Which CLI to use is found once, without the engine, before the deadline starts.
    let _ = tokio::task::spawn_blocking(|| super::docker_cli::cli().is_file()).await;
    let ping = async {
        match &direct {
            Some(endpoint) => Some(ping(endpoint).await),
            None => None,
        }
    };
    let (cli, ping) = tokio::join!(cli_version(), ping);
    verdict(&place, cli, ping)
}

/// True when a Docker engine answers ([`probe_engine`]).
pub async fn engine_answers() -> bool {
    probe_engine().await == EngineProbe::Answers
}

/// How `docker version` ended.
enum Cli {
    Answered,
    /// No CLI to run.
    Missing(String),
    /// Still waiting at the deadline.
    Silent,
    /// It failed: what it printed.
    Failed(String),
}

async fn cli_version() -> Cli {
    let mut cmd = docker();
    cmd.args(["version", "--format", "{{.Server.Version}}"]);
    match output_within(&mut cmd, PROBE_DEADLINE).await {
        Ok(out) if out.status.success() => Cli::Answered,
        Ok(out) => Cli::Failed(failed("docker version", &out.stderr)),
        Err(super::bounded::Failure::TimedOut(_)) => Cli::Silent,
        Err(e) => Cli::Missing(e.describe("docker")),
    }
}

fn verdict(place: &str, cli: Cli, ping: Option<Ping>) -> EngineProbe {
    let silent = || {
        format!(
            "{place} did not answer within {}s",
            PROBE_DEADLINE.as_secs()
        )
    };
    match (cli, ping) {
        (Cli::Answered, _) => EngineProbe::Answers,
        (Cli::Missing(why), _) => EngineProbe::Absent(why),
        (_, Some(Ping::Refused(why))) => EngineProbe::Absent(format!("{place}: {why}")),
        (_, Some(Ping::Silent)) | (Cli::Silent, None) => EngineProbe::Failing(silent()),
        (_, Some(Ping::Cut)) => EngineProbe::Failing(format!(
            "{place} closed the connection before its answer to `GET /_ping` was complete"
        )),
        (cli, Some(Ping::Status(line, body))) if line.split_whitespace().nth(1) != Some("200") => {
            let said = match cli {
                Cli::Failed(text) => format!("; {text}"),
                _ => String::new(),
            };
            EngineProbe::Failing(format!(
                "{place} answered `GET /_ping` with `{line}`{}{said}",
                message(&body)
            ))
        }
        (Cli::Silent, Some(Ping::Status(..))) => EngineProbe::Failing(silent()),
        (Cli::Failed(text), _) if is_absent(&text) => EngineProbe::Absent(text),
        (Cli::Failed(text), _) => EngineProbe::Failing(text),
    }
}

/// `: ` and the engine's `message` (its JSON error body), else the start of the body.
fn message(body: &str) -> String {
    let text = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| body.trim().to_owned());
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// The CLI's words for "nothing there" (no socket, connection refused, not allowed to connect).
fn is_absent(text: &str) -> bool {
    [
        "Cannot connect to the Docker daemon",
        "connection refused",
        "no such file or directory",
        "permission denied",
    ]
    .iter()
    .any(|m| text.contains(m))
}

/// An address we can ping ourselves.
enum Endpoint {
    Tcp(String),
    Unix(std::path::PathBuf),
}

impl Endpoint {
    fn parse(host: &str) -> Option<Endpoint> {
        if let Some(path) = host.strip_prefix("unix://") {
            return Some(Endpoint::Unix(path.into()));
        }
        let rest = host.strip_prefix("tcp://")?;
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() {
            return None;
        }
        Some(Endpoint::Tcp(if authority.contains(':') {
            authority.to_owned()
        } else {
            format!("{authority}:2375")
        }))
    }
}

/// What one `GET /_ping` got.
#[derive(Debug, PartialEq)]
enum Ping {
    /// Nothing to connect to: why.
    Refused(String),
    /// No complete answer within the deadline.
    Silent,
    /// The connection ended before the answer was complete.
    Cut,
    /// The status line and the start of the body.
    Status(String, String),
}

async fn ping(endpoint: &Endpoint) -> Ping {
    let exchange = async {
        match endpoint {
            Endpoint::Tcp(addr) => match tokio::net::TcpStream::connect(addr).await {
                Ok(stream) => exchange(stream).await,
                Err(e) => Ping::Refused(e.to_string()),
            },
            Endpoint::Unix(path) => match tokio::net::UnixStream::connect(path).await {
                Ok(stream) => exchange(stream).await,
                Err(e) => Ping::Refused(e.to_string()),
            },
        }
    };
    tokio::time::timeout(PROBE_DEADLINE, exchange)
        .await
        .unwrap_or(Ping::Silent)
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> Ping {
    let request = b"GET /_ping HTTP/1.1\r\nHost: docker\r\nUser-Agent: hf-hub-emulator\r\nConnection: close\r\n\r\n";
    if stream.write_all(request).await.is_err() {
        return Ping::Cut;
    }
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(ping) = complete(&answer, false) {
            return ping;
        }
        match stream.read(&mut chunk).await {
            Ok(0) => return complete(&answer, true).unwrap_or(Ping::Cut),
            Err(_) => return Ping::Cut,
            Ok(n) if answer.len() + n > PING_CAP => {
                answer.extend_from_slice(&chunk[..n]);
                return complete(&answer, true).unwrap_or(Ping::Cut);
            }
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The answer, once its head and the body its `Content-Length` announces have arrived (at the
/// connection's end, `ended`: whatever body came when no length was announced).
fn complete(answer: &[u8], ended: bool) -> Option<Ping> {
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&answer[..end]);
    let body = &answer[end + 4..];
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default().trim().to_owned();
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok());
    let length = match length {
        Some(length) if body.len() >= length => length,
        None if ended => body.len(),
        _ => return None,
    };
    let body: String = String::from_utf8_lossy(&body[..length])
        .chars()
        .take(300)
        .collect();
    Some(Ping::Status(status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_complete_with_its_announced_body_only() {
        assert_eq!(complete(b"HTTP/1.1 200 OK\r\nContent-Len", true), None);
        assert_eq!(
            complete(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nO", true),
            None
        );
        assert_eq!(
            complete(b"HTTP/1.1 200 OK\r\n\r\nOK", true),
            Some(Ping::Status("HTTP/1.1 200 OK".into(), "OK".into()))
        );
        assert_eq!(complete(b"HTTP/1.1 200 OK\r\n\r\nOK", false), None);
        assert_eq!(
            complete(
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\nbusy",
                false
            ),
            Some(Ping::Status(
                "HTTP/1.1 503 Service Unavailable".into(),
                "busy".into()
            ))
        );
    }

    #[test]
    fn the_verdict_names_what_answered() {
        let place = "tcp://127.0.0.1:9";
        let failing = |cli, ping| match verdict(place, cli, ping) {
            EngineProbe::Failing(text) => text,
            other => panic!("{other:?}"),
        };
        let said = failing(
            Cli::Failed("docker version failed: Error response from daemon: busy".into()),
            Some(Ping::Status(
                "HTTP/1.1 429 Too Many Requests".into(),
                "{}".into(),
            )),
        );
        assert!(
            said.contains("429 Too Many Requests") && said.contains("busy"),
            "{said}"
        );
        assert!(failing(Cli::Silent, Some(Ping::Silent)).contains("within 5s"));
        assert!(failing(Cli::Failed(String::new()), Some(Ping::Cut)).contains("closed"));
        assert!(matches!(
            verdict(
                place,
                Cli::Failed("x".into()),
                Some(Ping::Refused("refused".into()))
            ),
            EngineProbe::Absent(_)
        ));
        assert!(matches!(
            verdict(
                "the default socket",
                Cli::Failed("Cannot connect to the Docker daemon at unix:///x".into()),
                None
            ),
            EngineProbe::Absent(_)
        ));
        // The status code decides, not a " 200" anywhere in the line.
        assert!(
            failing(
                Cli::Silent,
                Some(Ping::Status("HTTP/1.1 500 Not 200".into(), String::new()))
            )
            .contains("`HTTP/1.1 500 Not 200`")
        );
        assert_eq!(
            verdict(place, Cli::Answered, Some(Ping::Cut)),
            EngineProbe::Answers
        );
    }

    #[test]
    fn docker_host_addresses_we_can_ping() {
        assert!(
            matches!(Endpoint::parse("tcp://127.0.0.1:2375"), Some(Endpoint::Tcp(a)) if a == "127.0.0.1:2375")
        );
        assert!(
            matches!(Endpoint::parse("tcp://docker"), Some(Endpoint::Tcp(a)) if a == "docker:2375")
        );
        assert!(matches!(
            Endpoint::parse("unix:///run/docker.sock"),
            Some(Endpoint::Unix(_))
        ));
        assert!(Endpoint::parse("ssh://me@host").is_none());
        assert!(Endpoint::parse("tcp://").is_none());
    }
}
