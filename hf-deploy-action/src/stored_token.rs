//! A stored token that the Hub refuses. `hf auth login` now stores a short-lived OAuth access
//! token in `$HF_HOME/token` (its refresh token beside it, in `stored_tokens`), which the `hf`
//! CLI refreshes and this tool does not: once it expires, the Hub answers a bare 401. When the
//! token came from a file (not from `HF_TOKEN`), that refusal says so and names the fix.

use std::path::Path;

use hf_deploy_core::Error;

use crate::token::{self, TokenSource};
use crate::ui::Hinted;

/// `error` with the advice of an expired stored token, when the Hub refused the token and the
/// token came from a file; any other error unchanged.
pub(crate) fn explain(error: anyhow::Error) -> anyhow::Error {
    let source = token::find(&|key| std::env::var(key).ok()).map(|(_, source)| source);
    explain_for(error, source.as_ref())
}

/// [`explain`] for a token found in `source`.
pub(crate) fn explain_for(error: anyhow::Error, source: Option<&TokenSource>) -> anyhow::Error {
    let Some(TokenSource::File(path)) = source else {
        return error;
    };
    match error.downcast::<Error>() {
        Ok(refused @ Error::InvalidToken { .. }) => anyhow::Error::new(Hinted {
            hint: hint(path),
            error: refused,
        }),
        Ok(other) => anyhow::Error::new(other),
        Err(error) => error,
    }
}

/// The advice: where the token came from, why it may no longer work, and the fix.
fn hint(path: &Path) -> String {
    format!(
        "the token was read from `{}`: a token stored by `hf auth login` is a short-lived OAuth token that the `hf` CLI refreshes and hf-deploy does not, so it may have expired; run `hf auth login` again, or export `HF_TOKEN` with a personal access token from https://huggingface.co/settings/tokens (tokens from `hf auth login` were also reported refused by the restart, sleep time and hardware calls)",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> anyhow::Error {
        anyhow::Error::new(Error::InvalidToken {
            action: "read Space `alice/app`".into(),
            context: Box::new(hf_deploy_core::HttpContext {
                method: "GET".into(),
                url: "https://huggingface.co/api/spaces/alice/app".into(),
                status: 401,
                request_id: None,
                error_code: None,
                server_message: Some(hf_deploy_core::RemoteText::new(
                    "Invalid credentials in Authorization header",
                    &hf_deploy_core::Redactor::none(),
                )),
            }),
        })
    }

    #[test]
    fn a_refused_token_from_a_file_says_to_log_in_again() {
        let file = TokenSource::File("/home/a/.cache/huggingface/token".into());
        let error = explain_for(refused(), Some(&file));
        let text = crate::ui::render_error(&error, false);
        assert!(
            text.starts_with("error: the Hub refused the token while trying to read Space"),
            "{text}"
        );
        assert!(text.contains("hf auth login` again"), "{text}");
        assert!(text.contains("/home/a/.cache/huggingface/token"), "{text}");
        assert!(
            text.contains("the Hub said: GET"),
            "the Hub's answer stays: {text}"
        );
        assert_eq!(crate::ui::exit_code(&error), 1);

        for source in [Some(&TokenSource::Env), None] {
            let text = crate::ui::render_error(&explain_for(refused(), source), false);
            assert!(!text.contains("hf auth login"), "{text}");
        }
        let other = anyhow::Error::new(Error::PushRace { attempts: 3 });
        let text = crate::ui::render_error(&explain_for(other, Some(&file)), false);
        assert!(!text.contains("hf auth login"), "{text}");
    }
}
