//! The stored token, found where `huggingface_hub` and the `hf` CLI look for it: `HF_TOKEN`;
//! else the file named by `HF_TOKEN_PATH`; else `$HF_HOME/token`, where `HF_HOME` defaults to
//! `$XDG_CACHE_HOME/huggingface`, i.e. `~/.cache/huggingface` (the file `hf auth login` writes).

use std::path::{Path, PathBuf};

use hf_deploy_core::SecretString;

use crate::ui::UsageError;

/// Where a token came from (named in messages; never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenSource {
    /// The `HF_TOKEN` variable.
    Env,
    /// A file: the one `HF_TOKEN_PATH` names, or `$HF_HOME/token`.
    File(PathBuf),
}

/// The three places, for messages.
pub(crate) const PLACES: &str = "`HF_TOKEN`, the file named by `HF_TOKEN_PATH`, or `$HF_HOME/token` (`~/.cache/huggingface/token` by default, written by `hf auth login`)";

/// The token of the process environment, if any.
pub(crate) fn stored() -> Option<SecretString> {
    find(&|key| std::env::var(key).ok()).map(|(token, _)| token)
}

/// The token found through `var` (the environment), and where it was found.
pub(crate) fn find(var: &dyn Fn(&str) -> Option<String>) -> Option<(SecretString, TokenSource)> {
    let set = |key: &str| var(key).filter(|value| !value.trim().is_empty());
    if let Some(token) = set("HF_TOKEN") {
        return Some((SecretString::new(token.trim()), TokenSource::Env));
    }
    if let Some(path) = set("HF_TOKEN_PATH") {
        let path = PathBuf::from(path.trim());
        if let Some(token) = read(&path) {
            return Some((token, TokenSource::File(path)));
        }
    }
    let home = match set("HF_HOME") {
        Some(home) => PathBuf::from(home.trim()),
        None => {
            let cache = match set("XDG_CACHE_HOME") {
                Some(cache) => PathBuf::from(cache.trim()),
                None => PathBuf::from(set("HOME")?.trim()).join(".cache"),
            };
            cache.join("huggingface")
        }
    };
    let path = home.join("token");
    read(&path).map(|token| (token, TokenSource::File(path)))
}

/// The first line of a token file, when it has one.
fn read(path: &Path) -> Option<SecretString> {
    let text = std::fs::read_to_string(path).ok()?;
    let token = text.lines().next()?.trim();
    (!token.is_empty()).then(|| SecretString::new(token))
}

/// The exit-2 error of a command that needs a token and found none.
/// `--local` is offered only where it exists: on `deploy`, in a build with the stand-in.
pub(crate) fn missing(what: &str) -> anyhow::Error {
    let local = if what == "deploy" && cfg!(feature = "local") {
        ", or try `--local`"
    } else {
        ""
    };
    UsageError::error(
        format!("no Hub token to {what}: none in {PLACES}"),
        Some(&format!(
            "log in once with `hf auth login`, or export `HF_TOKEN` (a token with the write role from https://huggingface.co/settings/tokens){local}"
        )),
    )
}

/// A "not found" answered to a request without a token may be a private Space: then the
/// missing token is the error (exit 2), not the Space.
pub(crate) fn unless_anonymous(
    error: hf_deploy_core::Error,
    client: &hf_deploy_core::hub::HubClient,
    what: &str,
) -> anyhow::Error {
    match error {
        hf_deploy_core::Error::NotFound { .. } if client.token().is_none() => UsageError::error(
            format!("{error}, and no Hub token was found to {what}: none in {PLACES}"),
            Some(
                "if the Space is private, log in once with `hf auth login` or export `HF_TOKEN`; else check `--space`",
            ),
        ),
        other => anyhow::Error::new(other),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &Path)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.display().to_string()))
            .collect()
    }

    fn lookup(map: &HashMap<String, String>) -> impl Fn(&str) -> Option<String> + '_ {
        |key| map.get(key).cloned()
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn hf_token_wins_then_the_token_path_then_hf_home() {
        let dir = tempfile::tempdir().unwrap();
        let token_path = dir.path().join("elsewhere/my-token");
        let hf_home = dir.path().join("hf-home");
        write(&token_path, "hf_from_token_path\n");
        write(&hf_home.join("token"), "hf_from_hf_home\n");
        let mut vars = env(&[("HF_TOKEN_PATH", &token_path), ("HF_HOME", &hf_home)]);
        vars.insert("HF_TOKEN".into(), " hf_from_env ".into());

        let (token, source) = find(&lookup(&vars)).unwrap();
        assert_eq!((token.expose(), source), ("hf_from_env", TokenSource::Env));

        vars.insert("HF_TOKEN".into(), "  ".into());
        let (token, source) = find(&lookup(&vars)).unwrap();
        assert_eq!(token.expose(), "hf_from_token_path");
        assert_eq!(source, TokenSource::File(token_path.clone()));

        vars.remove("HF_TOKEN_PATH");
        let (token, source) = find(&lookup(&vars)).unwrap();
        assert_eq!(token.expose(), "hf_from_hf_home");
        assert_eq!(source, TokenSource::File(hf_home.join("token")));
    }

    #[test]
    fn a_missing_token_path_file_falls_back_to_hf_home() {
        let dir = tempfile::tempdir().unwrap();
        let hf_home = dir.path().join("hf-home");
        write(&hf_home.join("token"), "hf_from_hf_home");
        let vars = env(&[
            ("HF_TOKEN_PATH", &dir.path().join("missing")),
            ("HF_HOME", &hf_home),
        ]);
        assert_eq!(find(&lookup(&vars)).unwrap().0.expose(), "hf_from_hf_home");
    }

    #[test]
    fn hf_home_defaults_to_the_xdg_cache_then_home_cache() {
        let dir = tempfile::tempdir().unwrap();
        let xdg = dir.path().join("xdg");
        let home = dir.path().join("home");
        write(&xdg.join("huggingface/token"), "hf_xdg");
        write(&home.join(".cache/huggingface/token"), "hf_home_cache");
        let vars = env(&[("XDG_CACHE_HOME", &xdg), ("HOME", &home)]);
        assert_eq!(find(&lookup(&vars)).unwrap().0.expose(), "hf_xdg");
        let vars = env(&[("HOME", &home)]);
        assert_eq!(find(&lookup(&vars)).unwrap().0.expose(), "hf_home_cache");
    }

    #[test]
    fn nothing_anywhere_is_none_and_the_error_names_all_three() {
        let dir = tempfile::tempdir().unwrap();
        let vars = env(&[("HOME", dir.path())]);
        assert!(find(&lookup(&vars)).is_none());
        let message = missing("deploy").to_string();
        for place in ["HF_TOKEN", "HF_TOKEN_PATH", "$HF_HOME/token"] {
            assert!(message.contains(place), "{message}");
        }
    }
}
