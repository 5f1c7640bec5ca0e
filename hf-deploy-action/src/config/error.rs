//! Where in the file something is (line and column), and the error that points there.

use std::fmt;
use std::ops::Range;

use hf_deploy_core::Error;

/// A place in the file: 1-based line and column (the column counts characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Location {
    /// 1-based line.
    pub(crate) line: usize,
    /// 1-based column, in characters.
    pub(crate) column: usize,
}

impl Location {
    /// The place of byte `offset` in `text` (clamped to the text).
    pub(crate) fn of(text: &str, offset: usize) -> Location {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location { line, column }
    }

    /// The place where `span` starts.
    pub(crate) fn start(text: &str, span: &Range<usize>) -> Location {
        Location::of(text, span.start)
    }
}

/// A bad `hf-deploy.toml`: the file, where in it, what is wrong and how to fix it. Usage error
/// (exit code 2); never holds a secret value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigError {
    /// The file, as shown to the user.
    pub(crate) file: String,
    /// Where in the file, when the error is about one place.
    pub(crate) at: Option<Location>,
    /// What is wrong.
    pub(crate) message: String,
    /// How to fix it.
    pub(crate) hint: Option<String>,
}

impl ConfigError {
    /// An error at `at` in `file`.
    pub(crate) fn new(
        file: &str,
        at: Option<Location>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        ConfigError {
            file: file.to_string(),
            at,
            message: message.into(),
            hint,
        }
    }

    /// A bad input found by a rule of the library, about a value written at `at`: worded as the
    /// file spells its keys.
    pub(crate) fn from_core(file: &str, at: Location, error: &Error) -> Self {
        ConfigError {
            file: file.to_string(),
            at: Some(at),
            message: error.message_with(FILE_SPELLING),
            hint: error.hint_with(FILE_SPELLING),
        }
    }

    /// `file:line:column`, or the file alone.
    pub(crate) fn place(&self) -> String {
        match self.at {
            Some(at) => format!("{}:{}:{}", self.file, at.line, at.column),
            None => self.file.clone(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place(), self.message)
    }
}

impl std::error::Error for ConfigError {}

/// How the file words the library's fields (its keys) and commands (as the command line does).
const FILE_SPELLING: hf_deploy_core::Spelling =
    hf_deploy_core::Spelling::new(super::spelling, crate::cli::command);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_count_lines_and_characters_from_one() {
        let text = "a = 1\n[[space]]\nemoji = \"🚀\" x\n";
        assert_eq!(Location::of(text, 0), Location { line: 1, column: 1 });
        assert_eq!(Location::of(text, 6), Location { line: 2, column: 1 });
        let x = text.find(" x").unwrap() + 1;
        assert_eq!(
            Location::of(text, x),
            Location {
                line: 3,
                column: 13
            }
        );
        assert_eq!(
            Location::of(text, 10_000),
            Location { line: 4, column: 1 },
            "clamped to the end"
        );
    }

    #[test]
    fn the_place_comes_first() {
        let error = ConfigError::new(
            "hf-deploy.toml",
            Some(Location { line: 3, column: 9 }),
            "unknown key `titel`",
            None,
        );
        assert_eq!(error.to_string(), "hf-deploy.toml:3:9: unknown key `titel`");
        let whole = ConfigError::new("x.toml", None, "no `[[space]]` table", None);
        assert_eq!(whole.to_string(), "x.toml: no `[[space]]` table");
    }
}
