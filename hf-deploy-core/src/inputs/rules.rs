//! The rules of the inputs that only the plan checks, one function each (the health path is
//! [`HealthPath::parse`](crate::HealthPath::parse); a scaffold's options are checked by the
//! scaffold's own rules, secrets and variables by the settings').

use std::time::Duration;

use crate::error::{Error, Result};
use crate::field::{Field, Phrase};
use crate::urls::{parse_http_url, parse_origin};
use crate::visibility::Visibility;

/// Longest deadline accepted: one day.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// An explicit app URL: http(s), no credentials; returned without a trailing `/`.
pub(crate) fn app_url(value: &str) -> Result<String> {
    parse_http_url(value.trim(), Field::AppUrl)
}

/// Frontend origins, canonical and without duplicates.
pub(crate) fn origins(values: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        let origin = parse_origin(value, Field::FrontendUrl)?;
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

/// A deadline between one second and [`MAX_TIMEOUT`].
pub(crate) fn timeout(value: Duration) -> Result<()> {
    if value.is_zero() || value > MAX_TIMEOUT {
        return Err(Error::invalid_input_hint(
            Field::Timeout,
            format!(
                "{}s is not a deadline between 1 second and one day",
                value.as_secs()
            ),
            Phrase::new("give ")
                .field(Field::Timeout)
                .text(" a positive value, e.g. 20 minutes"),
        ));
    }
    Ok(())
}

/// A deadline typed as a whole number of minutes, between 1 and 1440 (a front end that asks for
/// minutes reads them with this).
pub fn minutes(field: Field, text: &str) -> Result<Duration> {
    let text = text.trim();
    match text.parse::<u64>() {
        Ok(n) if n > 0 && n <= MAX_TIMEOUT.as_secs() / 60 => Ok(Duration::from_secs(n * 60)),
        _ => Err(Error::invalid_input_hint(
            field,
            format!(
                "`{}` is not a whole number of minutes between 1 and 1440",
                text.escape_debug()
            ),
            "give a positive integer such as `20`",
        )),
    }
}

/// A hardware flavor: lower-case letters, digits and `-` (the Hub's list grows, so any such
/// name is passed on; the Hub refuses an unknown one).
pub(crate) fn hardware(value: &str) -> Result<()> {
    let value = value.trim();
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-');
    if ok {
        return Ok(());
    }
    Err(Error::invalid_input_hint(
        Field::Hardware,
        format!("`{}` is not a hardware flavor name", value.escape_debug()),
        "use a flavor such as `cpu-basic`, `cpu-upgrade`, `t4-small` or `a10g-small`",
    ))
}

/// A keep glob: not empty, relative, no `..`.
pub(crate) fn keep_pattern(pattern: &str) -> Result<()> {
    let bad = pattern.trim().is_empty()
        || pattern.starts_with('/')
        || pattern.starts_with('!')
        || pattern.split('/').any(|part| part == "..");
    if bad {
        return Err(Error::invalid_input_hint(
            Field::Keep,
            format!("`{}` is not a usable path pattern", pattern.escape_debug()),
            "use git-style globs relative to the Space root, such as `data/**` or `*.db`",
        ));
    }
    Ok(())
}

/// The visibility asked for: the typed word, or `private` from the older switch; both given
/// and disagreeing is a bad input naming both. `None`: nothing was asked.
pub(crate) fn visibility(typed: Option<&str>, private: bool) -> Result<Option<Visibility>> {
    let typed = typed.map(str::trim).filter(|text| !text.is_empty());
    let parsed = typed
        .map(|text| Visibility::parse(text, Field::Visibility))
        .transpose()?;
    match parsed {
        Some(asked) if private && asked != Visibility::Private => Err(Error::invalid_input_hint(
            Field::Visibility,
            Phrase::new(format!("`{asked}` disagrees with "))
                .field(Field::Private)
                .text(" (which means `private`)"),
            Phrase::new("give one of them: ")
                .field(Field::Visibility)
                .text(" alone says it all"),
        )),
        Some(asked) => Ok(Some(asked)),
        None if private => Ok(Some(Visibility::Private)),
        None => Ok(None),
    }
}

/// Longest sleep time accepted: a year (the Hub documents no bound).
const MAX_SLEEP_TIME: i64 = 365 * 24 * 60 * 60;

/// A sleep time: whole seconds from 1 to a year, or `-1` (never sleep).
pub(crate) fn sleep_time(text: &str) -> Result<i64> {
    let text = text.trim();
    match text.parse::<i64>() {
        Ok(seconds) if seconds == -1 || (1..=MAX_SLEEP_TIME).contains(&seconds) => Ok(seconds),
        _ => Err(Error::invalid_input_hint(
            Field::SleepTime,
            format!(
                "`{}` is not a number of seconds between 1 and a year, or -1",
                text.escape_debug()
            ),
            "give whole seconds of inactivity before the Space sleeps, e.g. `3600`, or `-1` to never sleep (paid hardware; `cpu-basic` always sleeps after 48 hours)",
        )),
    }
}

/// The warning of a private Space with frontend origins.
pub(crate) const PRIVATE_WITH_FRONTEND: &str = "the Space is private and frontend origins are given: a private Space's app answers only its owner's token, so browsers (and the frontend) cannot reach it; make it protected (private code, public app; paid plans) or public";

/// The source commit of a deploy when it is a commit id (4 to 64 hex digits), lower case; else
/// `None` (it comes from the runner or the source repository, not from the user: a value that
/// is not a commit id is left out of the trailers rather than refused).
pub(crate) fn source_commit(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|text| crate::trailer::is_commit_id(text))
        .map(str::to_ascii_lowercase)
}

/// The commit a rollback restores, as typed: 4 to 40 hex digits (a full or abbreviated
/// commit id).
pub(crate) fn rollback_to(value: &str) -> Result<String> {
    let text = value.trim();
    if (4..=40).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(text.to_ascii_lowercase());
    }
    Err(Error::invalid_input_hint(
        Field::RollbackTo,
        format!("`{}` is not a commit id", text.escape_debug()),
        "give 4 to 40 hex digits of a commit of the Space's history, e.g. `3f78685`",
    ))
}
