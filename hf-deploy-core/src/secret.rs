//! A string that never shows itself in `Debug` or `Display`.

use std::fmt;

/// A secret value (a token or a Space secret). Its `Debug` and `Display` print `***`; the only
/// way to the text is [`SecretString::expose`], which callers use at the one place that sends it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretString(String);

impl SecretString {
    /// Wrap a value.
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }

    /// The value itself. Call only where it is sent to the remote.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        SecretString(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        SecretString(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let secret = SecretString::new("hf_abcdefghijklmnop");
        assert!(!format!("{secret:?} {secret} {:#?}", Some(&secret)).contains("hf_abc"));
        assert_eq!(secret.expose(), "hf_abcdefghijklmnop");
    }
}
