//! The redactor: every known secret value, found in a text and replaced by [`MARK`].
//!
//! See the module documentation of `untrusted` for the rules; this file is their code.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};

use super::chars::{is_invisible, skip_escape};
use crate::secret::SecretString;

/// What a redacted value becomes: what the GitHub runner shows for a masked value.
pub(crate) const MARK: &str = "***";

/// Values of at least this many characters are redacted wherever they occur, also cut across
/// lines, and a piece of at least this many characters at the start or the end of a text is
/// redacted too. Shorter values follow the short-value rule (see the module documentation).
pub(super) const MIN_PIECE: usize = 4;

/// Redaction passes before a text that keeps changing is replaced whole (see [`Redactor::redact`]).
const MAX_PASSES: usize = 4;

/// The set of known secret values of a run, and the one way to take them out of a text.
///
/// Built with [`Redactor::builder`]; cheap to clone and share (the values sit behind an `Arc`).
/// `Debug` shows how many values it holds, never a value.
#[derive(Clone, Default)]
pub struct Redactor {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Values of [`MIN_PIECE`] characters or more, in their matching form (line breaks, controls,
    /// escape sequences and invisible characters removed, see [`View`]), longest first, each
    /// once.
    long: Vec<String>,
    /// The values of `long` whose pieces are redacted at the edges of a text: all but the forms
    /// of a URL-valued secret, whose password alone is (see [`RedactorBuilder::secret`]).
    edge: Vec<String>,
    /// Values shorter than [`MIN_PIECE`] characters (trimmed), longest first, each once.
    short: Vec<String>,
    /// Finds every occurrence of every long value in one pass, overlapping ones included.
    /// `None` when the automaton could not be built (values beyond its size limits): a plain
    /// search per value then does the same work, slower.
    finder: Option<AhoCorasick>,
}

/// Collects the values of a [`Redactor`]. `Debug` shows how many, never a value.
#[derive(Default)]
pub struct RedactorBuilder {
    /// Each value, and whether its pieces are redacted at the edges of a text.
    values: Vec<(String, bool)>,
}

impl fmt::Debug for RedactorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactorBuilder")
            .field("values", &self.values.len())
            .finish()
    }
}

impl RedactorBuilder {
    /// A secret value (a Space secret, the Hub token, the job's OIDC token, an exchanged
    /// token), trimmed (a blank value is no secret and is left out): the value, its
    /// percent-decoded, percent-encoded and JSON-escaped forms when they differ, and, when the
    /// value is a URL with a password, that password as written and percent-decoded.
    ///
    /// A URL-valued secret (`scheme://...`) is redacted whole wherever it occurs; at the edges
    /// of a text only the pieces of its password are (its scheme, user, host and path are no
    /// secret on their own, and a piece of them, such as `postgres`, is an ordinary word).
    pub fn secret(mut self, value: &SecretString) -> Self {
        let value = value.expose().trim();
        if value.is_empty() {
            return self;
        }
        let edges = !is_url(value);
        self.values.push((value.to_string(), edges));
        self.values
            .extend(other_forms(value).into_iter().map(|form| (form, edges)));
        if let Some(password) = url_password(value) {
            self.add_password(password);
        }
        self
    }

    /// Every value of `values`, as [`RedactorBuilder::secret`] takes one.
    pub fn secrets<'a>(self, values: impl IntoIterator<Item = &'a SecretString>) -> Self {
        values.into_iter().fold(self, RedactorBuilder::secret)
    }

    /// A plain variable: its value is not secret, but when it is a URL with a password (a
    /// `DATABASE_URL` set as a variable), that password is, as written and percent-decoded.
    pub fn variable(mut self, value: &str) -> Self {
        if let Some(password) = url_password(value) {
            self.add_password(password);
        }
        self
    }

    /// Every value `redactor` knows, as it knows them: to merge the redactors of a run (the
    /// plan's secrets, a client's token, the tokens a front end holds) into one.
    pub fn include(mut self, redactor: &Redactor) -> Self {
        let inner = &redactor.inner;
        self.values.extend(
            inner
                .long
                .iter()
                .map(|value| (value.clone(), inner.edge.contains(value))),
        );
        self.values
            .extend(inner.short.iter().map(|value| (value.clone(), true)));
        self
    }

    fn add_password(&mut self, password: &str) {
        self.values.push((password.to_string(), true));
        if let Some(decoded) = percent_decode(password) {
            self.values.push((decoded, true));
        }
    }

    /// The redactor.
    pub fn build(self) -> Redactor {
        let mut long = Vec::new();
        let mut edge = Vec::new();
        let mut short = Vec::new();
        for (value, edges) in self.values {
            let trimmed = value.trim();
            let matching = View::of(trimmed);
            if matching.text().chars().count() >= MIN_PIECE {
                long.push(matching.text().to_string());
                if edges {
                    edge.push(matching.text().to_string());
                }
            } else if !trimmed.is_empty() {
                short.push(trimmed.to_string());
            }
        }
        for list in [&mut long, &mut edge, &mut short] {
            list.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
            list.dedup();
        }
        let finder = if long.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&long)
                .ok()
        };
        Redactor {
            inner: Arc::new(Inner {
                long,
                edge,
                short,
                finder,
            }),
        }
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("values", &(self.inner.long.len() + self.inner.short.len()))
            .finish()
    }
}

impl Redactor {
    /// Start a redactor.
    pub fn builder() -> RedactorBuilder {
        RedactorBuilder::default()
    }

    /// A redactor that knows no value (for text that holds none, and for tests).
    pub fn none() -> Redactor {
        Redactor::default()
    }

    /// True when it knows no value.
    pub fn is_empty(&self) -> bool {
        self.inner.long.is_empty() && self.inner.short.is_empty()
    }

    /// `text` with every known value replaced by `***` (see the module documentation for
    /// what counts as an occurrence). Line breaks inside a redacted stretch are kept, with a
    /// mark on each line the stretch touches, so a log keeps its lines.
    ///
    /// Replacing can, in pathological cases (values made of `*`), make a new occurrence; the
    /// text is redacted again until nothing changes, and a text still changing after a few
    /// passes is replaced by `***` whole.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Cow::Owned(mut current) = self.redact_once(text) else {
            return Cow::Borrowed(text);
        };
        for _ in 1..MAX_PASSES {
            match self.redact_once(&current) {
                Cow::Borrowed(_) => return Cow::Owned(current),
                Cow::Owned(next) => current = next,
            }
        }
        Cow::Owned(MARK.to_string())
    }

    /// True when `text` holds nothing to redact.
    pub(super) fn is_clean(&self, text: &str) -> bool {
        matches!(self.redact_once(text), Cow::Borrowed(_))
    }

    /// Bytes of context to keep beyond a cut so that a value crossing the cut is still found
    /// whole: four times the longest value (room for a line break after each character).
    pub(super) fn margin(&self) -> usize {
        let longest = self.inner.long.first().map_or(0, String::len);
        longest.saturating_mul(4).max(256)
    }

    fn redact_once<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.is_empty() || text.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut stretches = Vec::new();
        if !self.inner.long.is_empty() {
            let view = View::of(text);
            self.long_matches(&view, &mut stretches);
            self.edge_pieces(&view, &mut stretches);
        }
        self.short_matches(text, &mut stretches);
        if stretches.is_empty() {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(replace(text, stretches))
        }
    }

    /// Every occurrence of every long value in the matching view, overlapping ones included.
    fn long_matches(&self, view: &View<'_>, out: &mut Vec<Range<usize>>) {
        let hay = view.text();
        match &self.inner.finder {
            Some(finder) => {
                for found in finder.find_overlapping_iter(hay) {
                    out.push(view.original(found.start()..found.end()));
                }
            }
            None => {
                for value in &self.inner.long {
                    for found in occurrences(hay, value) {
                        out.push(view.original(found));
                    }
                }
            }
        }
    }

    /// The longest piece of a long value at the start (a suffix of it) and at the end (a
    /// prefix of it) of the matching view, of at least [`MIN_PIECE`] characters.
    fn edge_pieces(&self, view: &View<'_>, out: &mut Vec<Range<usize>>) {
        let hay = view.text();
        let head = self
            .inner
            .edge
            .iter()
            .map(|value| suffix_at_start(value, hay))
            .max()
            .unwrap_or(0);
        let tail = self
            .inner
            .edge
            .iter()
            .map(|value| prefix_at_end(value, hay))
            .max()
            .unwrap_or(0);
        if head > 0 {
            out.push(view.original(0..head));
        }
        if tail > 0 {
            out.push(view.original(hay.len() - tail..hay.len()));
        }
    }

    /// Short values: as the right side of an assignment, or as the whole first or last word.
    fn short_matches(&self, text: &str, out: &mut Vec<Range<usize>>) {
        for value in &self.inner.short {
            for found in occurrences(text, value) {
                if is_short_hit(&text[..found.start], &text[found.end..]) {
                    out.push(found);
                }
            }
        }
    }
}

/// The short-value rule: the value ends where a value ends (the end of the text, a space, a
/// quote or a delimiter), and is the right side of `=` or `:` (a quote and spaces allowed
/// between), or the first word of the text; or it is the last word of the text.
fn is_short_hit(before: &str, after: &str) -> bool {
    let ends_value = after
        .chars()
        .next()
        .is_none_or(|c| c.is_whitespace() || "\"'`,;&)]}@/<>".contains(c));
    let assigned = {
        let side = before.strip_suffix(['"', '\'', '`']).unwrap_or(before);
        side.trim_end_matches([' ', '\t']).ends_with(['=', ':'])
    };
    let first_word = before.trim().is_empty();
    let last_word = after.trim().is_empty()
        && before
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
    (ends_value && (assigned || first_word)) || last_word
}

/// Characters the matching view leaves out, so that a value is found however a log cut it
/// across lines or something unseen split it: line breaks (`\n`, `\r`, U+2028, U+2029), every
/// other control character but `\t`, and the invisible characters ([`is_invisible`]). Terminal
/// escape sequences are left out whole (see [`View::of`]).
pub(super) fn is_skipped(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}') || is_invisible(c)
}

/// True for a line break, which a redacted stretch keeps (see [`replace`]).
fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r')
}

/// A text without its skipped characters ([`is_skipped`]) and escape sequences, and the way
/// back to the text.
struct View<'t> {
    text: Cow<'t, str>,
    /// For each removed byte, in order: its position in the text minus the number of removed
    /// bytes before it, i.e. where it would sit in the view (non-decreasing).
    shifted: Vec<usize>,
}

impl<'t> View<'t> {
    fn of(text: &'t str) -> View<'t> {
        if !text.chars().any(is_skipped) {
            return View {
                text: Cow::Borrowed(text),
                shifted: Vec::new(),
            };
        }
        let mut kept = String::with_capacity(text.len());
        let mut shifted = Vec::new();
        let mut at = 0;
        while let Some(c) = text[at..].chars().next() {
            let len = if c == '\u{1b}' {
                let after = skip_escape(&text[at + 1..]);
                text.len() - at - after.len()
            } else {
                c.len_utf8()
            };
            if is_skipped(c) {
                for byte in at..at + len {
                    shifted.push(byte - shifted.len());
                }
            } else {
                kept.push(c);
            }
            at += len;
        }
        View {
            text: Cow::Owned(kept),
            shifted,
        }
    }

    fn text(&self) -> &str {
        &self.text
    }

    /// The position in the text of the byte at `at` in the view.
    fn position(&self, at: usize) -> usize {
        at + self.shifted.partition_point(|&s| s <= at)
    }

    /// The stretch of the text that the non-empty stretch `range` of the view comes from
    /// (skipped characters inside it included).
    fn original(&self, range: Range<usize>) -> Range<usize> {
        let start = self.position(range.start);
        let end = self.position(range.end.saturating_sub(1)) + 1;
        start..end.max(start)
    }
}

/// Every occurrence of `needle` in `hay`, overlapping ones included (short values, and long
/// ones when there is no automaton).
fn occurrences(hay: &str, needle: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = hay.get(from..).and_then(|rest| rest.find(needle)) {
        let start = from + at;
        found.push(start..start + needle.len());
        from = start + hay[start..].chars().next().map_or(1, char::len_utf8);
    }
    found
}

/// Bytes of the longest suffix of `value`, of at least [`MIN_PIECE`] characters, that `hay`
/// starts with; 0 when none.
fn suffix_at_start(value: &str, hay: &str) -> usize {
    let chars = value.chars().count();
    for (n, (at, _)) in value.char_indices().enumerate() {
        if chars - n < MIN_PIECE {
            break;
        }
        if hay.starts_with(&value[at..]) {
            return value.len() - at;
        }
    }
    0
}

/// Bytes of the longest prefix of `value`, of at least [`MIN_PIECE`] characters, that `hay`
/// ends with; 0 when none.
fn prefix_at_end(value: &str, hay: &str) -> usize {
    let chars = value.chars().count();
    for (n, (at, c)) in value.char_indices().rev().enumerate() {
        if chars - n < MIN_PIECE {
            break;
        }
        let end = at + c.len_utf8();
        if hay.ends_with(&value[..end]) {
            return end;
        }
    }
    0
}

/// `text` with every stretch replaced: one [`MARK`] per line the stretch touches, its line
/// breaks kept.
fn replace(text: &str, mut stretches: Vec<Range<usize>>) -> String {
    stretches.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(stretches.len());
    for range in stretches {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for range in merged {
        out.push_str(&text[copied..range.start]);
        let mut marked = false;
        for c in text[range.clone()].chars() {
            if is_line_break(c) {
                out.push(c);
                marked = false;
            } else if !marked {
                out.push_str(MARK);
                marked = true;
            }
        }
        copied = range.end;
    }
    out.push_str(&text[copied..]);
    out
}

/// The password of a URL-valued value (`scheme://user:password@host/...`), as written: the
/// user part holds no `:`, `/` or `@`, the password runs to the next `@` (a password with an
/// `@` must be percent-encoded in a URL, as `%40`).
/// True when `value` starts with a URL scheme and `://` (`postgresql://...`).
fn is_url(value: &str) -> bool {
    value.trim().split_once("://").is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

fn url_password(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim().split_once("://")?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return None;
    }
    let user_end = rest.find([':', '/', '@', '?', '#'])?;
    let after_user = rest[user_end..].strip_prefix(':')?;
    let password = &after_user[..after_user.find('@')?];
    (!password.is_empty()).then_some(password)
}

/// The forms of a secret value, other than itself, in which a program may print it: decoded
/// from percent-encoding, percent-encoded, escaped as in a JSON string.
fn other_forms(value: &str) -> Vec<String> {
    let mut forms = Vec::new();
    forms.extend(percent_decode(value));
    let encoded = percent_encode(value);
    if encoded != value {
        forms.push(encoded);
    }
    if let Ok(json) = serde_json::to_string(value) {
        let inner = &json[1..json.len() - 1];
        if inner != value {
            forms.push(inner.to_string());
        }
    }
    forms
}

/// `value` with its `%XX` escapes decoded; `None` when it holds none or does not decode to
/// UTF-8.
fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut decoded_any = false;
    let mut at = 0;
    while at < bytes.len() {
        let escape = (bytes[at] == b'%')
            .then(|| bytes.get(at + 1..at + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escape {
            Some(byte) => {
                out.push(byte);
                decoded_any = true;
                at += 3;
            }
            None => {
                out.push(bytes[at]);
                at += 1;
            }
        }
    }
    if !decoded_any {
        return None;
    }
    String::from_utf8(out).ok()
}

/// `value` with every byte but the URL-unreserved ones (`A-Z a-z 0-9 - . _ ~`) as `%XX`.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(values: &[&str]) -> Redactor {
        values
            .iter()
            .fold(Redactor::builder(), |b, v| b.secret(&SecretString::new(*v)))
            .build()
    }

    #[test]
    fn every_occurrence_longest_first_and_overlapping() {
        let r = redactor(&["ABCDEF", "EFGHIJ", "ABCD"]);
        assert_eq!(r.redact("x ABCDEFGHIJ y"), "x *** y");
        assert_eq!(r.redact("ABCD and ABCDEF"), "*** and ***");
        assert_eq!(r.redact("nothing here"), "nothing here");
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_value_cut_across_lines_is_found_and_the_lines_are_kept() {
        let r = redactor(&["hf_abcdefghijklmnop"]);
        assert_eq!(
            r.redact("token=hf_abcdefgh\nijklmnop done"),
            "token=***\n*** done"
        );
        assert_eq!(
            r.redact("token=hf_abc\r\ndefgh\n\nijklmnop!"),
            "token=***\r\n***\n\n***!"
        );
        // An invisible character inside the value does not hide it either.
        assert_eq!(r.redact("hf_abcdefgh\u{200b}ijklmnop"), "***");
    }

    #[test]
    fn a_piece_at_either_edge_is_redacted_from_four_characters() {
        let r = redactor(&["SECRETVALUE"]);
        assert_eq!(r.redact("ALUE is the end"), "*** is the end");
        assert_eq!(r.redact("the start is SECR"), "the start is ***");
        assert_eq!(r.redact("the start is SE\nCR"), "the start is ***\n***");
        assert_eq!(r.redact("LUE is short"), "LUE is short");
        assert_eq!(
            r.redact("ALUE in the middle ALUE x"),
            "*** in the middle ALUE x"
        );
    }

    #[test]
    fn short_values_only_where_they_are_a_value() {
        let r = redactor(&["ab", "x1z"]);
        assert_eq!(r.redact("KEY=ab"), "KEY=***");
        assert_eq!(r.redact("key: 'ab', other"), "key: '***', other");
        assert_eq!(r.redact("{\"key\": \"x1z\"}"), "{\"key\": \"***\"}");
        assert_eq!(r.redact("?token=x1z&next=1"), "?token=***&next=1");
        assert_eq!(r.redact("ab is first"), "*** is first");
        assert_eq!(r.redact("last is ab"), "last is ***");
        // Inside words, or as a word in the middle of a sentence: left alone.
        assert_eq!(
            r.redact("a tab and x1zz, grab about"),
            "a tab and x1zz, grab about"
        );
        assert_eq!(r.redact("KEY=abc"), "KEY=abc");
        // Occurrences that overlap are all looked at (a value of `=` signs after a `=`).
        assert_eq!(redactor(&["=="]).redact("KEY===\n"), "KEY=***\n");
    }

    #[test]
    fn url_passwords_of_secrets_and_variables() {
        let r = Redactor::builder()
            .secret(&SecretString::new(
                "postgresql://user:p%40ss%2Fw0rd@db:5432/app",
            ))
            .variable("redis://:hunter22@cache:6379/0")
            .variable("https://example.com/no/password")
            .build();
        let log = "connecting with p%40ss%2Fw0rd, or p@ss/w0rd, and hunter22 at example.com";
        assert_eq!(
            r.redact(log),
            "connecting with ***, or ***, and *** at example.com"
        );
        assert_eq!(url_password("postgresql://u:pw@h/db"), Some("pw"));
        assert_eq!(url_password("postgresql://u@h/db"), None);
        assert_eq!(url_password("https://h:8080/x"), None);
        assert_eq!(url_password("not a url"), None);
        assert_eq!(url_password("mysql://u:p/w@h"), Some("p/w"));
    }

    #[test]
    fn other_forms_of_a_value() {
        let r = redactor(&["sk\"live\\42"]);
        assert_eq!(r.redact(r#"{"key":"sk\"live\\42"}"#), r#"{"key":"***"}"#);
        assert_eq!(r.redact("sk%22live%5C42"), "***");
        assert_eq!(percent_decode("a%2"), None);
        assert_eq!(percent_decode("%+f"), None, "a sign is no hex digit");
        assert_eq!(percent_decode("%ff"), None);
        assert_eq!(percent_decode("a%20b").as_deref(), Some("a b"));
    }

    #[test]
    fn blank_and_duplicate_values_are_dropped() {
        let r = redactor(&["", "   ", "same-value", "same-value"]);
        assert_eq!(format!("{r:?}"), "Redactor { values: 1 }");
        assert_eq!(r.redact("  x  "), "  x  ");
        assert!(Redactor::none().is_empty());
    }

    /// The example backend has a `postgres` service and a `DATABASE_URL` secret: the name of the
    /// service is a piece of the URL, not of its password, and stays.
    #[test]
    fn pieces_of_a_url_secret_at_an_edge_are_its_passwords_only() {
        let r = Redactor::builder()
            .secret(&SecretString::new(
                "postgresql://postgres:pw-Zq81x@127.0.0.1:5432/postgres",
            ))
            .secret(&SecretString::new(
                "postgresql://postgres@127.0.0.1:5432/postgres",
            ))
            .build();
        assert_eq!(r.redact("postgres"), "postgres");
        assert_eq!(
            r.redact("postgres connection failed"),
            "postgres connection failed"
        );
        assert_eq!(r.redact("see postgresql"), "see postgresql");
        assert_eq!(
            r.redact("url postgresql://postgres@127.0.0.1:5432/postgres"),
            "url ***"
        );
        assert_eq!(r.redact("Zq81x@127.0.0.1 cut"), "***@127.0.0.1 cut");
        assert_eq!(r.redact("cut at pw-Zq"), "cut at ***");
        let merged = Redactor::builder().include(&r).build();
        assert_eq!(merged.redact("postgres"), "postgres", "kept by a merge");
        assert_eq!(merged.redact("cut at pw-Zq"), "cut at ***");
    }

    #[test]
    fn a_merged_redactor_knows_the_values_of_each() {
        let plan = Redactor::builder()
            .secret(&SecretString::new("postgresql://app:pw-in-url@db/app"))
            .secret(&SecretString::new("ab"))
            .build();
        let client = redactor(&["hf_client_token_value"]);
        let run = Redactor::builder()
            .include(&plan)
            .include(&client)
            .include(&Redactor::none())
            .build();
        assert_eq!(
            run.redact("pw=pw-in-url token hf_client_token_value key=ab"),
            "pw=*** token *** key=***"
        );
        assert!(!run.is_empty());
    }

    #[test]
    fn debug_never_shows_a_value() {
        let builder = Redactor::builder().secret(&SecretString::new("hf_topsecret"));
        assert!(!format!("{builder:?}").contains("topsecret"));
        let r = builder.build();
        assert!(!format!("{r:?} {r:#?}").contains("topsecret"));
    }

    #[test]
    fn the_search_without_the_automaton_finds_the_same() {
        assert_eq!(occurrences("aaaaa", "aaaa"), vec![0..4, 1..5]);
        assert_eq!(occurrences("xéaaéaa", "éaa"), vec![1..5, 5..9]);
        let mut r = redactor(&["ABCDEF", "EFGHIJ"]);
        Arc::get_mut(&mut r.inner).expect("one owner").finder = None;
        assert_eq!(r.redact("x ABCDEFGHIJ y AB\nCDEF"), "x *** y ***\n***");
    }

    #[test]
    fn a_mark_that_makes_a_new_occurrence_is_redacted_again() {
        let r = redactor(&["a***b", "QQQQ"]);
        assert_eq!(r.redact("aQQQQb"), "***");
    }

    #[test]
    fn the_view_maps_back_to_the_text() {
        let view = View::of("ab\n\ncd\r\ne\u{200b}f");
        assert_eq!(view.text(), "abcdef");
        assert_eq!(view.original(0..1), 0..1);
        assert_eq!(view.original(1..3), 1..5);
        assert_eq!(view.original(4..6), 8..13);
    }
}
