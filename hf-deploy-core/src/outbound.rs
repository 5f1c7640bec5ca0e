//! The Spaces networking rule: an app on Spaces may make outbound requests on ports 80, 443
//! and 8080 only; requests to other ports are blocked (the Spaces docs, "Networking";
//! hub-2026 §9). A database on 5432 or a vector store on 6333 then shows as nothing but a
//! connection that never answers, and the deploy as a health timeout.
//!
//! The plan finds every secret and variable whose value is a URL with another port (written,
//! or implied by its scheme: `postgresql://` is 5432) and warns at once ([`warning`]); the
//! deploy names the rule again in the diagnosis of a health timeout or of a service the health
//! answer reports unreachable ([`diagnosis`], [`explain`]). Neither ever shows a value: the key
//! and the port only.

use crate::error::Error;
use crate::field::Phrase;
use crate::settings::{ALLOWED_ORIGINS, Settings};

/// The ports a Space may reach.
pub(crate) const OPEN_PORTS: [u16; 3] = [80, 443, 8080];

/// The port each scheme connects to when its URL names none (schemes with a host only).
const DEFAULT_PORTS: [(&str, u16); 9] = [
    ("postgres", 5432),
    ("postgresql", 5432),
    ("mysql", 3306),
    ("redis", 6379),
    ("rediss", 6379),
    ("mongodb", 27017),
    ("amqp", 5672),
    ("amqps", 5671),
    ("nats", 4222),
];

/// A secret or variable whose URL goes to a port a Space cannot reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockedPort {
    /// The key, e.g. `QDRANT_URL`.
    pub(crate) key: String,
    /// True for a secret, false for a variable.
    pub(crate) secret: bool,
    /// The port.
    pub(crate) port: u16,
    /// True when the URL names no port and its scheme implies this one.
    pub(crate) implied: bool,
    /// What kind of service it looks like, for the advice.
    kind: Service,
}

/// The services the advice knows a way round for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Postgres,
    Qdrant,
    Other,
}

/// The secrets and variables of `settings` whose value is a URL to a blocked port, secrets
/// first, each in key order. `ALLOWED_ORIGINS` (origins that call the app, not places it
/// calls) and loopback hosts are left out.
pub(crate) fn blocked_ports(settings: &Settings) -> Vec<BlockedPort> {
    let secrets = settings
        .secrets
        .iter()
        .map(|(key, value)| (key, value.expose(), true));
    let variables = settings
        .variables
        .iter()
        .map(|(key, value)| (key, value.as_str(), false));
    secrets
        .chain(variables)
        .filter(|(key, _, _)| key.as_str() != ALLOWED_ORIGINS)
        .filter_map(|(key, value, secret)| {
            let (port, implied, scheme) = port_of(value)?;
            (!OPEN_PORTS.contains(&port)).then(|| BlockedPort {
                key: key.clone(),
                secret,
                port,
                implied,
                kind: service(key, &scheme, port),
            })
        })
        .collect()
}

/// The port a URL connects to, whether it was implied, and its scheme; `None` for a value
/// that is not a URL with a host, a loopback host, or a scheme whose port is unknown.
fn port_of(value: &str) -> Option<(u16, bool, String)> {
    let url = url::Url::parse(value.trim()).ok()?;
    let host = url
        .host_str()?
        .trim_matches(['[', ']'])
        .to_ascii_lowercase();
    if host.is_empty() || matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1" | "0.0.0.0") {
        return None;
    }
    let scheme = url.scheme().to_string();
    if let Some(port) = url.port() {
        return Some((port, false, scheme));
    }
    let implied = url.port_or_known_default().or_else(|| {
        DEFAULT_PORTS
            .iter()
            .find(|(name, _)| *name == scheme)
            .map(|(_, port)| *port)
    })?;
    Some((implied, true, scheme))
}

fn service(key: &str, scheme: &str, port: u16) -> Service {
    let key = key.to_ascii_uppercase();
    if scheme.starts_with("postgres") || key.contains("POSTGRES") || port == 5432 {
        Service::Postgres
    } else if key.contains("QDRANT") || matches!(port, 6333 | 6334) {
        Service::Qdrant
    } else {
        Service::Other
    }
}

impl BlockedPort {
    /// `secret `QDRANT_URL` points to port 6333` (or "... to port 5432, the default of
    /// `postgresql://`").
    fn points(&self) -> String {
        let what = if self.secret { "secret" } else { "variable" };
        let implied = if self.implied {
            " (its scheme's default port)"
        } else {
            ""
        };
        format!(
            "{what} `{}` points to port {}{implied}",
            self.key, self.port
        )
    }

    /// The usual way round, for this service.
    fn way_round(&self) -> &'static str {
        match self.kind {
            Service::Postgres => {
                "for PostgreSQL, use a pooler or a driver that connects over HTTPS or WebSockets on port 443 (e.g. Neon's serverless driver), or a host that listens on 443"
            }
            Service::Qdrant => {
                "use the cluster's HTTPS endpoint on port 443 (Qdrant Cloud answers on `https://<cluster>.cloud.qdrant.io:443`; give the port explicitly, the Qdrant client otherwise adds 6333)"
            }
            Service::Other => {
                "use the provider's HTTPS endpoint on port 443 (or one on 80 or 8080)"
            }
        }
    }
}

/// The rule, in one sentence.
const RULE: &str = "a Space can make outbound requests on ports 80, 443 and 8080 only, and requests to other ports are blocked (Spaces docs, \"Networking\")";

/// The warning of the plan for `blocked`: the key and the port, never the value.
pub(crate) fn warning(blocked: &BlockedPort) -> String {
    format!(
        "{}: {RULE}, so the app would see only a connection that never answers; {}",
        blocked.points(),
        blocked.way_round()
    )
}

/// The diagnosis of a health check that timed out or found a service unreachable, when some
/// key points to a blocked port.
pub(crate) fn diagnosis(blocked: &[BlockedPort]) -> Option<Phrase> {
    if blocked.is_empty() {
        return None;
    }
    let points: Vec<String> = blocked.iter().map(BlockedPort::points).collect();
    let mut ways: Vec<&str> = blocked.iter().map(BlockedPort::way_round).collect();
    ways.dedup();
    Some(Phrase::new(format!(
        "the app may be waiting on a service it cannot reach: {}; {RULE}; {}",
        points.join(", "),
        ways.join("; ")
    )))
}

/// Words of a health answer's service detail that say it could not be reached.
const UNREACHABLE: [&str; 8] = [
    "timed out",
    "timeout",
    "unreachable",
    "connection refused",
    "could not connect",
    "cannot connect",
    "failed to connect",
    "no route to host",
];

/// True when a failing service's line (`name: status: detail`) says it could not be reached.
fn says_unreachable(line: &str) -> bool {
    let line = line.to_ascii_lowercase();
    UNREACHABLE.iter().any(|word| line.contains(word))
}

/// `error` with the networking rule among its diagnoses, when it is a health (or app start)
/// timeout, or an unhealthy answer naming a service it could not reach, and some key points to
/// a blocked port. Any other error is returned as it is.
pub(crate) fn explain(error: Error, blocked: &[BlockedPort]) -> Error {
    let Some(advice) = diagnosis(blocked) else {
        return error;
    };
    match error {
        Error::Timeout {
            what,
            elapsed,
            last_seen,
            mut diagnoses,
        } if !last_seen.as_data().contains("BUILDING") => {
            diagnoses.push(advice);
            Error::Timeout {
                what,
                elapsed,
                last_seen,
                diagnoses,
            }
        }
        Error::Unhealthy {
            url,
            status,
            failing,
            mut diagnoses,
        } if failing.iter().any(|line| says_unreachable(line.as_data())) => {
            diagnoses.push(advice);
            Error::Unhealthy {
                url,
                status,
                failing,
                diagnoses,
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::secret::SecretString;
    use crate::untrusted::RemoteText;

    fn settings(secrets: &[(&str, &str)], variables: &[(&str, &str)]) -> Settings {
        Settings {
            secrets: secrets
                .iter()
                .map(|(k, v)| (k.to_string(), SecretString::new(*v)))
                .collect(),
            variables: variables
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            warnings: Vec::new(),
        }
    }

    const DB: &str = "postgresql://app:hunter2@ep-cool-1.eu.aws.neon.tech:5432/db?sslmode=require";

    #[test]
    fn finds_written_and_implied_ports_and_leaves_open_ones() {
        let found = blocked_ports(&settings(
            &[
                ("DATABASE_URL", DB),
                ("QDRANT_URL", "https://xyz.cloud.qdrant.io:6333"),
                ("QDRANT_HTTPS", "https://xyz.cloud.qdrant.io:443"),
                ("REDIS_URL", "redis://default:pw@cache.example.com"),
                ("GEMINI_API_KEY", "AIzaSy-not-a-url"),
                ("LOCAL_DB", "postgresql://localhost/db"),
                ("ALLOWED_ORIGINS", "http://app.example.com:3000"),
                ("PLAIN", "https://api.example.com"),
                ("ALT", "http://api.example.com:8080/v1"),
            ],
            &[("SEARCH_URL", "http://search.example.com:9200")],
        ));
        let seen: Vec<(&str, u16, bool, bool)> = found
            .iter()
            .map(|b| (b.key.as_str(), b.port, b.implied, b.secret))
            .collect();
        assert_eq!(
            seen,
            [
                ("DATABASE_URL", 5432, false, true),
                ("QDRANT_URL", 6333, false, true),
                ("REDIS_URL", 6379, true, true),
                ("SEARCH_URL", 9200, false, false),
            ]
        );
    }

    #[test]
    fn the_warning_names_key_port_rule_and_way_round_never_the_value() {
        let found = blocked_ports(&settings(
            &[
                ("DATABASE_URL", DB),
                ("QDRANT_URL", "https://xyz.cloud.qdrant.io:6333"),
            ],
            &[],
        ));
        let db = warning(&found[0]);
        assert!(
            db.starts_with("secret `DATABASE_URL` points to port 5432:"),
            "{db}"
        );
        assert!(
            db.contains("80, 443 and 8080") && db.contains("Networking"),
            "{db}"
        );
        assert!(db.contains("Neon"), "{db}");
        let qdrant = warning(&found[1]);
        assert!(
            qdrant.contains("port 6333") && qdrant.contains(":443"),
            "{qdrant}"
        );
        for text in [db, qdrant] {
            for part in ["hunter2", "neon.tech", "xyz.cloud", "app:"] {
                assert!(!text.contains(part), "the value leaks: {text}");
            }
        }
    }

    #[test]
    fn a_health_timeout_or_unreachable_service_names_the_rule() {
        let blocked = blocked_ports(&settings(
            &[("QDRANT_URL", "http://qdrant.example.com:6333")],
            &[],
        ));
        let timeout = Error::Timeout {
            what: "a healthy answer".into(),
            elapsed: Duration::from_secs(1),
            last_seen: RemoteText::unredacted("connection refused"),
            diagnoses: Vec::new(),
        };
        let hint = explain(timeout, &blocked).hint().unwrap_or_default();
        assert!(
            hint.contains("`QDRANT_URL` points to port 6333") && hint.contains("8080"),
            "{hint}"
        );

        let building = Error::Timeout {
            what: "Space to reach RUNNING".into(),
            elapsed: Duration::from_secs(1),
            last_seen: RemoteText::unredacted("BUILDING"),
            diagnoses: Vec::new(),
        };
        let hint = explain(building, &blocked).hint().unwrap_or_default();
        assert!(
            !hint.contains("QDRANT_URL"),
            "a build has no app yet: {hint}"
        );

        let unhealthy = |detail: &str| Error::Unhealthy {
            url: "http://app/api/health".into(),
            status: RemoteText::unredacted("unhealthy"),
            failing: vec![RemoteText::unredacted(&format!("qdrant: error: {detail}"))],
            diagnoses: Vec::new(),
        };
        let hint = explain(unhealthy("timed out after 10s"), &blocked)
            .hint()
            .unwrap_or_default();
        assert!(hint.contains("QDRANT_URL"), "{hint}");
        let hint = explain(unhealthy("wrong api key"), &blocked)
            .hint()
            .unwrap_or_default();
        assert!(!hint.contains("QDRANT_URL"), "{hint}");
        let hint = explain(unhealthy("timed out"), &[])
            .hint()
            .unwrap_or_default();
        assert!(!hint.contains("8080"), "{hint}");
    }
}
