use std::time::{Duration, Instant};

use hf_deploy_core::SecretString;
use hf_deploy_tests::fake_github::{FakeGitHub, FaultKind, GitHubFault, Mode};

use super::{ERROR_BODY_CAP, JSON_CAP, Limit, client};
use crate::github::Error;
use crate::github::api::{GitHubRepo, upsert_comment};
use crate::github::identity::Identity;

const TOKEN: &str = concat!("ghs_", "transportTestToken0000000000000000");

fn repo() -> GitHubRepo {
    GitHubRepo::parse("Codertocat/Hello-World").expect("repo")
}

async fn comment(fake: &FakeGitHub, limit: Duration) -> crate::github::Result<()> {
    let gh = client(&fake.url, &SecretString::new(TOKEN), limit).expect("client");
    upsert_comment(&gh, &repo(), 2, "<!-- m -->", "body", &Identity::ActionsBot)
        .await
        .map(|_| ())
}

#[tokio::test]
async fn an_endless_answer_fails_at_the_cap_naming_the_call() {
    let fake = FakeGitHub::start(Mode::default()).await;
    fake.add_fault(GitHubFault::new(
        "GET",
        "/repos/*/issues/2/comments",
        FaultKind::EndlessBody(200),
        1,
    ));
    let error = comment(&fake, Duration::from_secs(60))
        .await
        .expect_err("past the cap");
    assert!(
        matches!(
            error,
            Error::Limit {
                limit: Limit::TooLarge(JSON_CAP),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "no usable answer from GitHub while trying to list the comments of pull request \
         `Codertocat/Hello-World#2`: the GitHub API answer is larger than 16384 KiB, more than \
         hf-deploy reads"
    );
    // What the server could send: the cap and what the sockets buffer, not an endless stream.
    let sent = fake.bytes_streamed();
    let cap = u64::try_from(JSON_CAP).expect("fits");
    assert!(sent > cap && sent < cap + 16 * 1024 * 1024, "{sent} bytes");
    assert_eq!(fake.comment_count(2), 0, "no comment without the full list");
}

#[tokio::test]
async fn an_endless_error_answer_is_cut_and_marked() {
    let fake = FakeGitHub::start(Mode::default()).await;
    let route = "/repos/*/issues/2/comments";
    fake.add_fault(GitHubFault::new(
        "GET",
        route,
        FaultKind::EndlessBody(500),
        2,
    ));
    // The body as octocrab reads it: the cap, then the mark.
    let gh = client(
        &fake.url,
        &SecretString::new(TOKEN),
        Duration::from_secs(60),
    )
    .expect("client");
    let response = gh
        ._get("/repos/Codertocat/Hello-World/issues/2/comments")
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 500);
    let body = gh.body_to_string(response).await.expect("a cut body");
    assert_eq!(body.len(), ERROR_BODY_CAP + "…".len());
    assert!(body.starts_with(r#"[{"id":1,"body":"aaa"#) && body.ends_with("aaa…"));
    // GitHub's message through the door (which keeps its own first 16 KiB).
    let error = comment(&fake, Duration::from_secs(60))
        .await
        .expect_err("an error status");
    assert_eq!(error.status(), Some(500), "{error:?}");
    let text = error.to_string();
    let prefix = "GitHub answered 500 while trying to list the comments of pull request \
                  `Codertocat/Hello-World#2`: [{\"id\":1,\"body\":\"aaa";
    assert!(text.starts_with(prefix), "{}", &text[..200]);
    assert!(text.len() < ERROR_BODY_CAP, "{}", text.len());
}

/// The fake GitHub with `kind` on the next comment list, and the error the comment gets with
/// a deadline of `secs`: past the deadline, after how long.
async fn past_the_deadline(kind: FaultKind, secs: u64) -> (FakeGitHub, Error, Duration) {
    let fake = FakeGitHub::start(Mode::default()).await;
    fake.add_fault(GitHubFault::new(
        "GET",
        "/repos/*/issues/2/comments",
        kind,
        1,
    ));
    let started = Instant::now();
    let error = comment(&fake, Duration::from_secs(secs))
        .await
        .expect_err("past the deadline");
    let took = started.elapsed();
    assert!(
        matches!(error, Error::Limit { limit: Limit::Deadline(d), .. } if d.as_secs() == secs),
        "{error:?}"
    );
    assert!(
        took >= Duration::from_secs(secs) && took < Duration::from_secs(secs + 3),
        "{took:?}"
    );
    (fake, error, took)
}

#[tokio::test]
async fn a_trickle_ends_at_the_deadline_of_the_whole_call() {
    let (fake, error, _) = past_the_deadline(FaultKind::Trickle, 3).await;
    assert!(
        error.to_string().ends_with(
            "the GitHub API did not answer in full within 3 s (`HF_DEPLOY_HTTP_TIMEOUT`)"
        ),
        "{error}"
    );
    assert!(fake.bytes_streamed() >= 2, "the trickle had begun");
}

#[tokio::test]
async fn headers_that_never_come_end_at_the_deadline_too() {
    let (fake, _, _) = past_the_deadline(FaultKind::Slow(Duration::from_secs(30)), 2).await;
    assert_eq!(fake.bytes_streamed(), 0);
}

#[tokio::test]
async fn the_token_goes_to_the_api_host_only_and_never_shows() {
    let fake = FakeGitHub::start(Mode::default()).await;
    comment(&fake, Duration::from_secs(60))
        .await
        .expect("a comment");
    let requests = fake.requests();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| r.authorization.as_deref() == Some(&format!("Bearer {TOKEN}") as &str)),
        "{requests:?}"
    );
    let bad = client(
        &fake.url,
        &SecretString::new("ghs_a\nb"),
        Duration::from_secs(1),
    )
    .expect_err("a token a header cannot carry");
    assert_eq!(
        bad.to_string(),
        "the token has characters an HTTP header cannot carry"
    );
    let bad = client(
        "not a url",
        &SecretString::new(TOKEN),
        Duration::from_secs(1),
    )
    .expect_err("not a URL");
    assert!(!format!("{bad:?}").contains(TOKEN), "{bad:?}");
}
