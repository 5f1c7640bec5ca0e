//! The report for people: terminal text ([`text`]) and GitHub Markdown ([`markdown`]).
//!
//! The library keeps the [`DeployReport`](hf_deploy_core::report::DeployReport) data and its
//! JSON form; how it looks is the binary's business. Neither rendering ever holds a secret
//! value: the report has secret names only, its text from outside is redacted, and each
//! rendering shows it through the core's door for its destination (a terminal, Markdown).

pub(crate) mod markdown;
pub(crate) mod text;

use hf_deploy_core::report::Durations;

fn seconds(ms: u64) -> String {
    if ms >= 60_000 {
        format!("{}m {:02}s", ms / 60_000, (ms % 60_000) / 1000)
    } else if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{:.1}s", ms as f64 / 1000.0)
    }
}

fn timings(durations: &Durations) -> Vec<(&'static str, u64)> {
    [
        ("scaffold", durations.scaffold_ms),
        ("push", durations.push_ms),
        ("build", durations.build_ms),
        ("health", durations.health_ms),
        ("total", durations.total_ms),
    ]
    .into_iter()
    .filter_map(|(name, ms)| ms.map(|ms| (name, ms)))
    .collect()
}

fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

#[cfg(test)]
mod tests;
