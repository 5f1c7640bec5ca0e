//! Who the `github-token` is, so that only the action's own comments are taken for its
//! sticky comment. The hidden marker alone proves nothing: anyone who can comment on a pull
//! request can paste it, and the workflow's token may edit any comment of the repository.
//!
//! The rule, by the kind of token:
//!
//! - A user's token (a classic or fine-grained personal access token): `GET /user` names the
//!   user, and a comment is ours when its author's **id** is that user's id (a login can be
//!   renamed and then taken by someone else; an id cannot).
//! - An installation token (the workflow's `GITHUB_TOKEN`): `GET /user` answers 403 ("Resource
//!   not accessible by integration"), and its comments are written by the account
//!   `github-actions[bot]` (id 41898282, type `Bot`). A comment is ours when its author has that
//!   id, that login and type `Bot`. `performed_via_github_app` is not used: the
//!   `@octokit/openapi` example of an issue comment does not carry it, the webhook examples
//!   carry it as `null`, and nobody but the app can put the bot's id on a comment anyway.
//!
//! A limit of this rule: another GitHub App's installation token (from a GitHub App of your
//! own) also gets 403 from `GET /user` but comments as `{its-slug}[bot]`; its earlier comments
//! are not recognised, so the action adds a new comment on each run instead of editing one it
//! cannot prove is its own.

use octocrab::Octocrab;
use octocrab::models::Author;
use serde::Deserialize;

use super::{Error, Result};

/// The id of the account `github-actions[bot]`, as which a workflow's `GITHUB_TOKEN` writes.
pub(crate) const ACTIONS_BOT_ID: u64 = 41_898_282;
/// The login of that account.
pub(crate) const ACTIONS_BOT_LOGIN: &str = "github-actions[bot]";

/// Who the `github-token` writes as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Identity {
    /// A user's token: `GET /user` answered.
    User {
        /// The user's id (what is compared).
        id: u64,
        /// The user's login (for messages).
        login: String,
    },
    /// An installation token such as `GITHUB_TOKEN`: it writes as `github-actions[bot]`.
    ActionsBot,
}

impl Identity {
    /// True when `author` is this identity (see the module's rule).
    pub(crate) fn wrote(&self, author: &Author) -> bool {
        match self {
            Identity::User { id, .. } => author.id.0 == *id,
            Identity::ActionsBot => {
                author.id.0 == ACTIONS_BOT_ID
                    && author.login == ACTIONS_BOT_LOGIN
                    && author.r#type == "Bot"
            }
        }
    }
}

#[derive(Deserialize)]
struct User {
    id: u64,
    login: String,
}

/// Ask GitHub who the token is: `GET /user`. A 403 means an installation token (see the
/// module's rule); any other failure is an error (the caller comments nothing).
pub(crate) async fn identity(gh: &Octocrab) -> Result<Identity> {
    let action = "find out whom `github-token` belongs to (`GET /user`)";
    let response = gh
        ._get("/user")
        .await
        .map_err(|e| Error::from_octocrab(action, e))?;
    let response = match octocrab::map_github_error(response).await {
        Ok(response) => response,
        Err(e) => {
            let error = Error::from_octocrab(action, e);
            return match error.status() {
                Some(403) => Ok(Identity::ActionsBot),
                _ => Err(error),
            };
        }
    };
    let text = gh
        .body_to_string(response)
        .await
        .map_err(|e| Error::from_octocrab(action, e))?;
    let user: User = serde_json::from_str(&text).map_err(|source| Error::MalformedAnswer {
        action: action.into(),
        source,
    })?;
    Ok(Identity::User {
        id: user.id,
        login: user.login,
    })
}

#[cfg(test)]
mod tests {
    use hf_deploy_core::SecretString;
    use hf_deploy_tests::fake_github::{FakeGitHub, Mode};

    use super::*;
    use crate::github::api::client;

    fn author(login: &str, id: u64, kind: &str) -> Author {
        let mut value: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../tests/fixtures/github/issue-comment.json"),
            )
            .expect("fixture"),
        )
        .expect("json");
        value["user"]["login"] = login.into();
        value["user"]["id"] = id.into();
        value["user"]["type"] = kind.into();
        serde_json::from_value(value["user"].clone()).expect("author")
    }

    #[test]
    fn only_the_tokens_own_account_counts() {
        let bot = Identity::ActionsBot;
        assert!(bot.wrote(&author(ACTIONS_BOT_LOGIN, ACTIONS_BOT_ID, "Bot")));
        assert!(!bot.wrote(&author("mallory", 666, "User")));
        assert!(
            !bot.wrote(&author(ACTIONS_BOT_LOGIN, 666, "User")),
            "a user cannot take the bot's login with another id"
        );
        assert!(!bot.wrote(&author("renovate[bot]", 29_139_614, "Bot")));
        let user = Identity::User {
            id: 4242,
            login: "alice".into(),
        };
        assert!(user.wrote(&author("alice", 4242, "User")));
        assert!(user.wrote(&author("alice-renamed", 4242, "User")));
        assert!(
            !user.wrote(&author("alice", 1, "User")),
            "a login taken over by another account is not ours"
        );
        assert!(!user.wrote(&author(ACTIONS_BOT_LOGIN, ACTIONS_BOT_ID, "Bot")));
    }

    #[tokio::test]
    async fn get_user_tells_the_two_kinds_of_token_apart() {
        let fake = FakeGitHub::start(Mode::default()).await;
        let installation = client(
            &fake.url,
            &SecretString::new("ghs_FakeInstallationToken0123456789abcd"),
        )
        .expect("client");
        assert_eq!(
            identity(&installation).await.expect("403 is an answer"),
            Identity::ActionsBot
        );
        let personal = client(
            &fake.url,
            &SecretString::new("ghp_FakePersonalToken0123456789"),
        )
        .expect("client");
        let Identity::User { id, login } = identity(&personal).await.expect("user") else {
            panic!("a personal token names its user")
        };
        assert_eq!((id, login.as_str()), (4242, "alice"));
        let failing = FakeGitHub::start(Mode {
            fail_lists_with: Some(500),
            ..Mode::default()
        })
        .await;
        let error = identity(&client(&failing.url, &SecretString::new("ghp_x")).expect("client"))
            .await
            .expect_err("500 is an error");
        assert_eq!(error.status(), Some(500));
    }
}
