//! The report for people: terminal text ([`text`]) and GitHub Markdown ([`markdown`]).
//!
//! The library keeps the [`DeployReport`](hf_deploy_core::report::DeployReport) data and its
//! JSON form; how it looks is the binary's business. Neither rendering ever holds a secret
//! value: the report has secret names only.

pub(crate) mod markdown;
pub(crate) mod text;

use hf_deploy_core::report::Durations;

/// `text` without ANSI escape sequences and control characters (tabs and newlines kept), so
/// that nothing the app or the Hub said can repaint the terminal or break the Markdown.
pub(crate) fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates, then one final byte in `@`..=`~`.
                for next in chars.by_ref() {
                    if ('@'..='~').contains(&next) {
                        break;
                    }
                }
            }
            continue;
        }
        if c.is_control() && c != '\t' && c != '\n' {
            continue;
        }
        out.push(c);
    }
    out
}

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
