//! Text from outside, and the only doors it leaves by.
//!
//! Build and run logs, health answers and service details, Hub and GitHub error bodies, stage
//! names, event fields (branch names, PR titles), file names: everything that comes from outside
//! is a [`RemoteText`]. It is redacted when it is made ([`RemoteText::new`] takes the
//! [`Redactor`] of the run) and capped, so no later code sees a secret value, and it has no
//! `Display` and no `Deref<Target = str>`: it is shown only through the method of its
//! destination, each of which redacts again after its own rewriting.
//!
//! | destination | method | what it guarantees |
//! |---|---|---|
//! | a terminal (stdout, stderr) | [`RemoteText::terminal`] | no escape sequence, no control but `\n` and `\t`, no bidi control |
//! | the workflow log | [`RemoteText::workflow_log`] | and no line that the runner takes for a workflow command |
//! | a workflow command's message | [`RemoteText::workflow_command_data`] | one line, shown as it is |
//! | one line of Markdown (a table cell, a sentence) | [`RemoteText::markdown_inline`] | nothing live: no link, mention, reference, HTML, emphasis... |
//! | an inline Markdown code span (a name, a status word) | [`RemoteText::markdown_code_span`] | a span the text cannot close, nor a table cell |
//! | a Markdown code block | [`RemoteText::markdown_code_block`] | a fence the text cannot close |
//! | an output with a fixed vocabulary (`health`) | [`RemoteText::output_word`] | a word of the vocabulary, never the text |
//! | JSON, tests | [`RemoteText::as_data`], `Serialize` | the redacted text (serde escapes it) |
//!
//! `Deserialize` reads a text back as data (a report read from its JSON): it was redacted when
//! it was written, and is shown through the same methods. It is not a way in for text from
//! outside, which comes through [`RemoteText::new`] and the run's [`Redactor`].
//!
//! # What the redactor redacts
//!
//! A [`Redactor`] holds every known secret value of a run: each Space secret, the Hub token,
//! the job's OIDC token, the exchanged token ([`RedactorBuilder::secret`], which adds the
//! value's percent-decoded, percent-encoded and JSON-escaped forms, and the password of a
//! URL-valued secret as written and percent-decoded), and the password of a URL-valued
//! variable ([`RedactorBuilder::variable`]: `postgresql://user:PASSWORD@host/db`). Values are
//! trimmed; blank ones are dropped. Each occurrence becomes [`MARK`] (`***`, what the runner
//! shows for a masked value).
//!
//! * A value of 4 characters or more is redacted wherever it occurs, overlapping occurrences of
//!   several values included (the longest stretch wins), and also when line breaks (`\n`,
//!   `\r\n`, `\r`), other control characters, terminal escape sequences or invisible
//!   characters (zero-width spaces, soft hyphens, bidi controls: the Unicode default-ignorable
//!   code points) sit anywhere inside it, as when a log wraps a long line, a stream splits it or
//!   a colour code cuts it. The line breaks are kept, with a mark on each line.
//! * A piece of such a value at an edge of the text is redacted too: when the text starts with
//!   a suffix, or ends with a prefix, of a value, of 4 characters or more (what the first rule
//!   looks through is looked through here too), as when a log tail or a size cap cut a secret.
//!   For a URL-valued secret (`postgresql://user:PASSWORD@host/db`) this rule takes the pieces
//!   of its password only: the URL is redacted whole wherever it occurs, but its scheme, user,
//!   host and path are no secret on their own, and a piece of them (`postgres`, the name of a
//!   service in a health answer) is an ordinary word.
//! * A value of 1 to 3 characters would shred ordinary text if redacted everywhere (a secret
//!   `42` in every port number). It is redacted where it stands as a value: as the right side
//!   of `=` or `:` (a quote and spaces allowed between: `KEY=ab`, `key: 'ab'`, `"key": "ab"`,
//!   `?token=ab&`) and ending at the end of the text, a space, a quote or one of
//!   `` , ; & ) ] } @ / < > ``; or as the first or last word of the text. Elsewhere (inside a
//!   word, or as a word in the middle of a sentence) it is left alone: a value that short is
//!   guessed in a moment anyway, and `SECURITY.md` says so.
//!
//! # The destinations
//!
//! The sanitisers and their reasons are documented on each method. The workflow rules follow
//! the runner's parser (`ActionCommand.cs`): a `::` command is a line whose first non-blank
//! characters are `::`; a legacy `##[` command is found anywhere in a line; a command's data
//! decodes `%0A`, `%0D` and `%25`. Markdown is made inert for GitHub's renderer (CommonMark
//! escapes) and for GitHub's filters that link the rendered text (mentions, `#123`, bare URLs),
//! which backslash escapes do not stop. GitHub still links two things no text can avoid: a
//! commit SHA of the repository and a repository's own custom autolink prefixes; both point
//! inside the repository. Emoji shortcodes (`:tada:`) still render as emoji.
//!
//! A sanitiser can, in pathological cases, make a secret value appear (a value holding `\[`,
//! which the Markdown escaping writes). Each method checks its own result with the redactor and
//! shows [`MARK`] alone instead when that happens.
//!
//! # Property tests
//!
//! Every sanitiser has a property test (`untrusted/proptests.rs`): for arbitrary text, and text
//! built from hostile pieces (escape sequences, workflow commands, Markdown and HTML, fences,
//! line breaks) and from the secret values themselves (whole, cut across lines, cut at the
//! edges), nothing live survives in the output and no secret value, nor a piece of 4 characters
//! or more of one at an edge, appears. They run with the normal suite at proptest's default
//! case count; the long mode sets proptest's own variable:
//!
//! ```text
//! PROPTEST_CASES=1000000 cargo test -p hf-deploy-core --lib untrusted::proptests -- --test-threads 1
//! ```
//!
//! A failing case is kept in `hf-deploy-core/proptest-regressions/` and replayed first on
//! every later run; commit that file with the fix.

mod chars;
mod redact;
mod sanitize;

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub(crate) use redact::MARK;
pub use redact::{Redactor, RedactorBuilder};

/// Text from outside (see the module documentation): redacted and capped when made, shown only
/// through the method of its destination.
///
/// `Debug` shows the redacted text, escaped; `Serialize` writes it as a string. There is no
/// `Display`: pick the destination.
#[derive(Clone)]
pub struct RemoteText {
    /// Redacted and capped; never raw.
    text: String,
    /// To redact again after a sanitiser rewrote the text.
    redactor: Redactor,
    truncated: bool,
}

impl RemoteText {
    /// The cap of [`RemoteText::new`]: 16 KiB, enough for any error body or health answer worth
    /// reading, small next to a PR comment (65,536 characters) or a step summary (1 MiB).
    pub const DEFAULT_MAX_BYTES: usize = 16 * 1024;

    /// `raw`, redacted, and cut to its first [`RemoteText::DEFAULT_MAX_BYTES`].
    pub fn new(raw: &str, redactor: &Redactor) -> RemoteText {
        RemoteText::with_max_bytes(raw, redactor, RemoteText::DEFAULT_MAX_BYTES)
    }

    /// `raw`, redacted, and cut to its first `max_bytes` (at a character boundary).
    ///
    /// Redaction comes before the cut, so a value that the cut would split is redacted whole;
    /// the cut text is redacted again, so a value's piece at the new end is caught too. A huge
    /// `raw` is first cut to `max_bytes` plus a margin (four times the longest value), so the
    /// work stays bounded.
    pub fn with_max_bytes(raw: &str, redactor: &Redactor, max_bytes: usize) -> RemoteText {
        let pre = head(raw, max_bytes.saturating_add(redactor.margin()));
        let redacted = redactor.redact(pre);
        let kept = head(&redacted, max_bytes);
        let truncated = pre.len() < raw.len() || kept.len() < redacted.len();
        let text = if kept.len() < redacted.len() {
            redactor.redact(kept).into_owned()
        } else {
            redacted.into_owned()
        };
        RemoteText {
            text,
            redactor: redactor.clone(),
            truncated,
        }
    }

    /// The last `max_lines` lines of a log, at most its last `max_bytes` (at a character
    /// boundary), redacted.
    ///
    /// The lines are joined and redacted *before* they are cut, with some lines before the tail
    /// kept as context (the redactor's margin), so a value split over lines, or cut by the
    /// tail's first line, is found whole; the tail is redacted again, so a piece of a value at
    /// its start is caught too.
    pub fn log_tail<S: AsRef<str>>(
        lines: &[S],
        max_lines: usize,
        max_bytes: usize,
        redactor: &Redactor,
    ) -> RemoteText {
        let margin = redactor.margin();
        let budget = max_bytes.saturating_add(margin);
        // The tail, then context lines before it up to the margin.
        let mut first = lines.len();
        let mut size = 0usize;
        let mut context = 0usize;
        while first > 0 && size <= budget {
            let line = lines[first - 1].as_ref().len() + 1;
            if lines.len() - first >= max_lines {
                if context > margin {
                    break;
                }
                context += line;
            }
            size += line;
            first -= 1;
        }
        let joined = lines[first..]
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<&str>>()
            .join("\n");
        let pre = tail(&joined, budget);
        let redacted = redactor.redact(pre);
        let kept_lines = match max_lines.checked_sub(1) {
            None => "",
            Some(back) => match redacted.match_indices('\n').nth_back(back) {
                Some((at, _)) => &redacted[at + 1..],
                None => &redacted[..],
            },
        };
        let kept = tail(kept_lines, max_bytes);
        let truncated = first > 0 || pre.len() < joined.len() || kept.len() < redacted.len();
        RemoteText {
            text: redactor.redact(kept).into_owned(),
            redactor: redactor.clone(),
            truncated,
        }
    }

    /// `raw`, capped like [`RemoteText::new`], by a part that does not hold the run's
    /// redactor (the push, deep in its git and Git LFS exchanges): redacted by nothing yet. The
    /// part's caller redacts the error it returns with the run's redactor
    /// ([`crate::Error::redacted`]) before anything can show it.
    pub(crate) fn unredacted(raw: &str) -> RemoteText {
        RemoteText::new(raw, &Redactor::none())
    }

    /// This text redacted again by `redactor` (the run's, when the text was made by a part
    /// that did not hold it), its cut kept.
    pub(crate) fn redacted_by(&self, redactor: &Redactor) -> RemoteText {
        let mut text = RemoteText::with_max_bytes(&self.text, redactor, usize::MAX);
        text.truncated |= self.truncated;
        text
    }

    /// True when the text was cut to its cap (or a log to its tail).
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// True when there is no text.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// For a terminal (stdout, stderr, a plain-text report): escape sequences (CSI, OSC with a
    /// BEL or ST end, DCS, SOS, PM, APC, and the short ESC sequences) removed; `\r\n`, a lone
    /// `\r` (which would draw over the line), NEL, U+2028 and U+2029 as `\n`; every other C0
    /// control, DEL, C1 control and bidi control (U+202A-U+202E, U+2066-U+2069, U+200E,
    /// U+200F, U+061C) shown escaped, as `\u{7}`.
    pub fn terminal(&self) -> String {
        self.redacted(sanitize::terminal(&self.text))
    }

    /// For the workflow log: [`RemoteText::terminal`], and no line that the runner would take
    /// for a command. A line whose first non-blank characters are `::` starts with `\::`; a
    /// `##[` (legacy commands, which the runner looks for anywhere in a line) reads `##\[`;
    /// `%0A` and `%0D` read `%250A` and `%250D`, so that the text stays one line even inside
    /// a command's data. Invisible characters inside `::` or `##[` do not hide them. The
    /// runner prints the text; it never acts on it.
    pub fn workflow_log(&self) -> String {
        self.checked(sanitize::workflow(&self.terminal()), MARK)
    }

    /// As the message of a workflow command written by the tool (`::error::{}`,
    /// `::warning::{}`, `::group::{}`): [`RemoteText::terminal`] with `%`, `\r` and `\n`
    /// escaped as the runner unescapes them, so the command shows the text as it is and ends
    /// on its line. (A command's properties, such as `title=`, take no remote text.)
    pub fn workflow_command_data(&self) -> String {
        self.checked(sanitize::command_data(&self.terminal()), MARK)
    }

    /// One line of GitHub-flavoured Markdown in which nothing is live (a table cell, a
    /// sentence of a PR comment or step summary): the terminal text with its whitespace runs
    /// (line breaks included) folded to one space, every ASCII punctuation character
    /// backslash-escaped (no link, image, HTML tag or entity, code span, emphasis, `|`,
    /// heading, list, quote or math), and a zero-width space where GitHub would link the
    /// rendered text (after `@` and `#` before a letter or digit, between `:` and `//`, between
    /// `www` and `.`, after `GH-`). It reads the same.
    pub fn markdown_inline(&self) -> String {
        let line = self.redacted(sanitize::fold(&sanitize::terminal(&self.text)));
        self.checked(sanitize::markdown_inline(&line), "\\*\\*\\*")
    }

    /// A fenced Markdown code block of the terminal text, with a fence the text cannot close:
    /// backticks or tildes, whichever runs shorter in the text, one longer than its longest
    /// run, at least three. `lang` (the info string) keeps only `A-Z a-z 0-9 + - . _`. Ends
    /// with a line break.
    pub fn markdown_code_block(&self, lang: &str) -> String {
        let block = sanitize::code_block(&self.terminal(), lang);
        if self.redactor.is_clean(&block) {
            block
        } else {
            sanitize::code_block(MARK, lang)
        }
    }

    /// An inline Markdown code span of the terminal text that nothing inside can close, for a
    /// name or a word in a sentence or a table cell: line breaks (and the other whitespace
    /// runs) as one space; backticks around it one more than its longest run (and a space
    /// inside them when the text starts or ends with a backtick); `|` written `\|`, which a
    /// table reads as a `|` of the cell, not as a cell break (with a zero-width space before
    /// it after a backslash, so that `\\|` cannot read as an escaped backslash and a break).
    /// Inside a code span nothing is live: no link, mention, HTML or emphasis. Empty text
    /// gives an empty string.
    pub fn markdown_code_span(&self) -> String {
        let line = self.redacted(sanitize::fold(&sanitize::terminal(&self.text)));
        if line.is_empty() {
            return String::new();
        }
        self.checked(sanitize::code_span(&line), "`***`")
    }

    /// The lines of the text, each a [`RemoteText`] of its own (a log tail shown line by
    /// line). The text was redacted whole, so a value cut across two lines was found; each
    /// line is redacted again where it is shown.
    pub fn lines(&self) -> Vec<RemoteText> {
        if self.text.is_empty() {
            return Vec::new();
        }
        self.text
            .split('\n')
            .map(|line| RemoteText {
                text: line.to_string(),
                redactor: self.redactor.clone(),
                truncated: false,
            })
            .collect()
    }

    /// For an output with a fixed vocabulary (`GITHUB_OUTPUT`'s `health`: `healthy`,
    /// `degraded`, `unhealthy`, `unknown`): the word of `vocabulary` that the text is (trimmed,
    /// ASCII case ignored), else `fallback`. Never the text itself.
    pub fn output_word<'v>(&self, vocabulary: &[&'v str], fallback: &'v str) -> &'v str {
        let word = self.text.trim();
        vocabulary
            .iter()
            .copied()
            .find(|known| known.eq_ignore_ascii_case(word))
            .unwrap_or(fallback)
    }

    /// The redacted text as data (for JSON, which escapes it, and for tests). Not for a
    /// terminal, a log or Markdown: use their methods.
    pub fn as_data(&self) -> &str {
        &self.text
    }

    /// `text` after a rewriting that may have joined pieces of a value: redacted again.
    fn redacted(&self, text: String) -> String {
        match self.redactor.redact(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(redacted) => redacted,
        }
    }

    /// `text` after an escaping that, in pathological cases, may have written a value:
    /// `mark` ([`MARK`] as the destination writes it) alone when it did.
    fn checked(&self, text: String, mark: &str) -> String {
        if self.redactor.is_clean(&text) {
            text
        } else {
            mark.to_string()
        }
    }
}

/// `text` cut to at most its first `max` bytes, at a character boundary.
fn head(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` cut to at most its last `max` bytes, at a character boundary.
fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

impl fmt::Debug for RemoteText {
    /// The redacted text, escaped as a Rust string (controls, bidi controls); `***` alone if
    /// the escaping or the frame around it wrote a value (a pathological value holding `\\`,
    /// or one that the closing `")` completes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = format!("RemoteText({:?})", self.text);
        if self.redactor.is_clean(&shown) {
            f.write_str(&shown)
        } else {
            write!(f, "RemoteText({MARK:?})")
        }
    }
}

/// No text.
impl Default for RemoteText {
    fn default() -> Self {
        RemoteText {
            text: String::new(),
            redactor: Redactor::none(),
            truncated: false,
        }
    }
}

impl PartialEq for RemoteText {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.truncated == other.truncated
    }
}

impl Eq for RemoteText {}

/// The redacted text equals `other` (for a check of a word: `status == "healthy"`).
impl PartialEq<str> for RemoteText {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for RemoteText {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl PartialOrd for RemoteText {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// By the text (then the cut), so that names from outside can key a sorted map.
impl Ord for RemoteText {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.text, self.truncated).cmp(&(&other.text, other.truncated))
    }
}

impl std::hash::Hash for RemoteText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
        self.truncated.hash(state);
    }
}

impl Serialize for RemoteText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// Reads a text back as data (see the module documentation): shown through the same methods,
/// with a redactor that knows no value (it was redacted when it was written).
impl<'de> Deserialize<'de> for RemoteText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(RemoteText {
            text,
            redactor: Redactor::none(),
            truncated: false,
        })
    }
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
