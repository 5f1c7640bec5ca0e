//! The git trailers of the commits a deploy pushes: the source commit it was built from, the
//! version of the library that pushed it, and for a commit that puts an earlier tree back, the
//! commit whose tree it restores. The Space's history reads them back ([`parse`]): a commit
//! carrying [`VERSION_KEY`] was made by this tool.
//!
//! A value goes into a trailer only when it is a commit id (hex, 4 to 64 characters): nothing
//! else can reach the message's trailer block (a line break in a value would add a trailer).

/// The key of the source commit's trailer.
pub(crate) const SOURCE_KEY: &str = "Hf-Deploy-Source";
/// The key of the version's trailer.
pub(crate) const VERSION_KEY: &str = "Hf-Deploy-Version";
/// The key of the restored commit's trailer (a rollback's commit).
pub(crate) const RESTORES_KEY: &str = "Hf-Deploy-Restores";

/// The version written into [`VERSION_KEY`]: this library's.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The trailers of one commit message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Trailers {
    /// [`SOURCE_KEY`]: the source commit deployed.
    pub(crate) source: Option<String>,
    /// [`VERSION_KEY`]: the version that pushed it (present: this tool made the commit).
    pub(crate) version: Option<String>,
    /// [`RESTORES_KEY`]: the commit whose tree this one put back.
    pub(crate) restores: Option<String>,
}

/// True for a commit id as git prints it: 4 to 64 hexadecimal digits.
pub(crate) fn is_commit_id(text: &str) -> bool {
    (4..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `message` followed by a blank line and the trailers: the source commit when it is a commit
/// id, the version, and the restored commit when given. Trailers already at the end of
/// `message` stay where they are (its last lines are trimmed only).
pub(crate) fn with_trailers(message: &str, source: Option<&str>, restores: Option<&str>) -> String {
    let mut text = message.trim_end().to_string();
    text.push_str("\n\n");
    if let Some(source) = source.filter(|s| is_commit_id(s)) {
        text.push_str(&format!("{SOURCE_KEY}: {}\n", source.to_ascii_lowercase()));
    }
    text.push_str(&format!("{VERSION_KEY}: {VERSION}\n"));
    if let Some(restores) = restores.filter(|s| is_commit_id(s)) {
        text.push_str(&format!(
            "{RESTORES_KEY}: {}\n",
            restores.to_ascii_lowercase()
        ));
    }
    text
}

/// The trailers of `message`: the `Key: value` lines of its last paragraph (keys compared case
/// aside, as git does). A value that is not a commit id is dropped for the source and the
/// restored commit; the version is kept when it is a short printable word.
pub(crate) fn parse(message: &str) -> Trailers {
    let last = message.trim_end().rsplit("\n\n").next().unwrap_or_default();
    let mut trailers = Trailers::default();
    for line in last.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if key.eq_ignore_ascii_case(SOURCE_KEY) && is_commit_id(value) {
            trailers.source = Some(value.to_ascii_lowercase());
        } else if key.eq_ignore_ascii_case(RESTORES_KEY) && is_commit_id(value) {
            trailers.restores = Some(value.to_ascii_lowercase());
        } else if key.eq_ignore_ascii_case(VERSION_KEY)
            && !value.is_empty()
            && value.len() <= 64
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-+_".contains(&b))
        {
            trailers.version = Some(value.to_string());
        }
    }
    trailers
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "3f786850e387550fdab836ed7e6dc881de23001b";

    #[test]
    fn a_deploy_message_carries_the_source_and_the_version() {
        let message = with_trailers(&format!("Deploy {SHA} with hf-deploy"), Some(SHA), None);
        insta::with_settings!({filters => vec![(VERSION, "[VERSION]")]}, {
            insta::assert_snapshot!(message);
        });
        let read = parse(&message);
        assert_eq!(read.source.as_deref(), Some(SHA));
        assert_eq!(read.version.as_deref(), Some(VERSION));
        assert_eq!(read.restores, None);
    }

    #[test]
    fn a_restore_message_names_the_restored_commit() {
        let message = with_trailers("Restore abcdef1 with hf-deploy", None, Some("ABCDEF1"));
        assert_eq!(
            message,
            format!(
                "Restore abcdef1 with hf-deploy\n\n{VERSION_KEY}: {VERSION}\n{RESTORES_KEY}: abcdef1\n"
            )
        );
        assert_eq!(parse(&message).restores.as_deref(), Some("abcdef1"));
    }

    #[test]
    fn a_value_that_is_not_a_commit_id_never_becomes_a_trailer() {
        let message = with_trailers(
            "Deploy",
            Some("abc\nHf-Deploy-Restores: 1234567"),
            Some("main"),
        );
        assert_eq!(message, format!("Deploy\n\n{VERSION_KEY}: {VERSION}\n"));
        assert_eq!(parse(&message).restores, None);
        assert_eq!(parse(&message).source, None);
    }

    #[test]
    fn only_the_last_paragraph_holds_trailers() {
        let message = format!("Title\n\n{SOURCE_KEY}: {SHA}\n\nbody text\n");
        assert_eq!(parse(&message), Trailers::default());
        let tool = parse(&format!(
            "Deploy\n\nhf-deploy-version: 1.2.3\n{SOURCE_KEY}: {SHA}"
        ));
        assert_eq!(tool.version.as_deref(), Some("1.2.3"));
        assert_eq!(tool.source.as_deref(), Some(SHA));
        assert_eq!(parse("Initial commit").version, None);
        assert_eq!(parse("x\n\nHf-Deploy-Version: <b>").version, None);
    }
}
