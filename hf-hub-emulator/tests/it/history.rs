//! The Space listing (`GET /api/spaces`, `Link` pages), the commit history
//! (`GET …/commits/{rev}`) and a git fetch of an older commit by its id.

use crate::common;

use base64::Engine;
use common::{auth, client, git, run};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, Role, Runner, ScriptedRunner, TokenSpec,
};
use serde_json::{Value, json};

const OTHER_TOKEN: &str = "hf_other_user_token_history";

async fn emulator(page_size: Option<usize>) -> Emulator {
    let mut config = EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running()),
        default_page_size: page_size,
        ..EmulatorConfig::default()
    };
    config
        .tokens
        .push(TokenSpec::new(OTHER_TOKEN, "other", Role::Write));
    Emulator::start(config).await.expect("start the stand-in")
}

async fn create_as(emu: &Emulator, token: &str, name: &str, private: bool) {
    let r = client()
        .post(format!("{}/api/repos/create", emu.url()))
        .bearer_auth(token)
        .json(&json!({"name": name, "type": "space", "sdk": "docker", "private": private}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "create {name}");
}

/// Every item of a paginated listing from `url` on, following `Link: <…>; rel="next"`, and how
/// many pages it took.
async fn all_pages(url: &str, token: Option<&str>) -> (Vec<Value>, usize) {
    let mut next = Some(url.to_owned());
    let (mut items, mut pages) = (Vec::new(), 0);
    while let Some(url) = next.take() {
        let mut rb = client().get(&url);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        let r = rb.send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        next = r
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.strip_prefix('<'))
            .and_then(|l| l.split_once(">; rel=\"next\""))
            .map(|(u, _)| u.to_owned());
        let page: Vec<Value> = r.json().await.unwrap();
        items.extend(page);
        pages += 1;
        assert!(pages < 50, "endless pagination");
    }
    (items, pages)
}

fn ids(items: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap_or("").to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn spaces_are_listed_by_author_and_search_in_pages() {
    let emu = emulator(Some(2)).await;
    let url = emu.url();
    for name in ["app", "app-pr-1", "app-pr-2", "app-pr-3"] {
        create_as(&emu, DEFAULT_WRITE_TOKEN, name, false).await;
    }
    create_as(&emu, DEFAULT_WRITE_TOKEN, "app-pr-4", true).await;
    create_as(&emu, OTHER_TOKEN, "app-pr-9", false).await;
    create_as(&emu, OTHER_TOKEN, "app-pr-8", true).await;

    // the owner sees its private preview; pages of 2 (the configured default), newest first
    let (items, pages) = all_pages(
        &format!("{url}/api/spaces?author=local&search=app-pr-"),
        Some(DEFAULT_WRITE_TOKEN),
    )
    .await;
    assert_eq!(
        ids(&items),
        [
            "local/app-pr-1",
            "local/app-pr-2",
            "local/app-pr-3",
            "local/app-pr-4"
        ]
    );
    assert_eq!(pages, 2);
    assert_eq!(items[0]["id"], "local/app-pr-4", "newest first");
    let keys: Vec<&String> = items[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "_id",
            "id",
            "likes",
            "trendingScore",
            "private",
            "sdk",
            "tags",
            "createdAt"
        ]
    );
    assert_eq!(items[0]["private"], true);
    // anonymous and another user see public Spaces only
    let (items, _) = all_pages(&format!("{url}/api/spaces?search=app-pr-"), None).await;
    assert_eq!(
        ids(&items),
        [
            "local/app-pr-1",
            "local/app-pr-2",
            "local/app-pr-3",
            "other/app-pr-9"
        ]
    );
    let (items, _) = all_pages(
        &format!("{url}/api/spaces?author=other"),
        Some(DEFAULT_WRITE_TOKEN),
    )
    .await;
    assert_eq!(ids(&items), ["other/app-pr-9"]);
    // `limit` is the page size; the next link keeps the query and moves the cursor
    let r = client()
        .get(format!("{url}/api/spaces?author=local&limit=1&full=true"))
        .send()
        .await
        .unwrap();
    let link = r.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.starts_with(&format!(
            "<{url}/api/spaces?author=local&limit=1&full=true&cursor="
        )) && link.ends_with(">; rel=\"next\""),
        "{link}"
    );
    let page: Vec<Value> = r.json().await.unwrap();
    assert_eq!(page.len(), 1);
    // `full`: the revision, its dates, card and files
    assert_eq!(
        page[0]["sha"].as_str().map(str::len),
        Some(40),
        "{}",
        page[0]
    );
    for key in [
        "lastModified",
        "createdAt",
        "author",
        "cardData",
        "siblings",
        "tags",
    ] {
        assert!(page[0].get(key).is_some(), "{key}: {}", page[0]);
    }
    // `expand`: `_id`, `id` and what was asked for
    let r: Vec<Value> = client()
        .get(format!(
            "{url}/api/spaces?author=local&search=app-pr-1&expand=sha&expand=lastModified"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys: Vec<&String> = r[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["_id", "id", "sha", "lastModified"]);
    // the Hub's refusals
    for bad in ["expand=bogus", "cursor=not-a-cursor", "limit=many"] {
        let r = client()
            .get(format!("{url}/api/spaces?{bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
    emu.shutdown().await;
}

/// An HTTP commit of `files` with `summary` and `description`; its commit id.
async fn commit(
    emu: &Emulator,
    id: &str,
    summary: &str,
    description: &str,
    file: (&str, &str),
) -> String {
    let mut body =
        json!({"key": "header", "value": {"summary": summary, "description": description}})
            .to_string();
    body.push('\n');
    body.push_str(
        &json!({"key": "file", "value": {"path": file.0, "encoding": "base64",
            "content": base64::engine::general_purpose::STANDARD.encode(file.1)}})
        .to_string(),
    );
    body.push('\n');
    let r = client()
        .post(format!("{}/api/spaces/{id}/commit/main", emu.url()))
        .header("authorization", auth())
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["commitOid"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_commit_history_is_read_from_the_repository_in_pages() {
    let emu = emulator(None).await;
    let url = emu.url();
    create_as(&emu, DEFAULT_WRITE_TOKEN, "hist", true).await;
    let id = "local/hist";
    let mut deploys = Vec::new();
    for n in 1..=4 {
        let description = format!(
            "Deployed by hf-deploy\n\nHf-Deploy-Run: {n}\nCo-authored-by: Helper <helper@users.noreply.huggingface.co>"
        );
        deploys.push(
            commit(
                &emu,
                id,
                &format!("Deploy {n}"),
                &description,
                ("app.py", &format!("print({n})\n")),
            )
            .await,
        );
    }
    // pages of 2: five commits (four deploys and the initial one), newest first
    let r = client()
        .get(format!("{url}/api/spaces/{id}/commits/main?limit=2"))
        .header("authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-total-count"], "5");
    assert_eq!(
        r.headers()["link"],
        format!("<{url}/api/spaces/{id}/commits/main?p=1&limit=2>; rel=\"next\"").as_str()
    );
    let (items, pages) = all_pages(
        &format!("{url}/api/spaces/{id}/commits/main?limit=2"),
        Some(DEFAULT_WRITE_TOKEN),
    )
    .await;
    assert_eq!(pages, 3);
    let got: Vec<&str> = items.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let want: Vec<&str> = deploys.iter().rev().map(String::as_str).collect();
    assert_eq!(&got[..4], &want[..]);
    let newest = &items[0];
    assert_eq!(newest["title"], "Deploy 4");
    assert_eq!(
        newest["message"],
        "\n\nDeployed by hf-deploy\n\nHf-Deploy-Run: 4\nCo-authored-by: Helper <helper@users.noreply.huggingface.co>\n"
    );
    let authors: Vec<&str> = newest["authors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["user"].as_str().unwrap())
        .collect();
    assert_eq!(authors, ["local", "helper"]);
    assert!(
        newest["date"].as_str().unwrap().ends_with(".000Z"),
        "{newest}"
    );
    let initial = &items[4];
    assert_eq!(
        (
            initial["title"].clone(),
            initial["message"].clone(),
            initial["authors"][0]["user"].clone()
        ),
        (json!("initial commit"), json!(""), json!("system"))
    );
    // a commit id as the revision: its history only
    let r = client()
        .get(format!("{url}/api/spaces/{id}/commits/{}", deploys[1]))
        .header("authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-total-count"], "3");
    assert!(r.headers().get("link").is_none());
    let titles: Vec<String> = r
        .json::<Vec<Value>>()
        .await
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(titles, ["Deploy 2", "Deploy 1", "initial commit"]);
    // formatted titles and messages are escaped HTML
    let r: Vec<Value> = client()
        .get(format!(
            "{url}/api/spaces/{id}/commits/main?limit=1&expand%5B%5D=formatted"
        ))
        .header("authorization", auth())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        r[0]["formatted"]["message"]
            .as_str()
            .unwrap()
            .contains("&lt;helper@"),
        "{}",
        r[0]
    );
    // an unknown revision, and a private Space without a token
    let r = client()
        .get(format!("{url}/api/spaces/{id}/commits/nope"))
        .header("authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-error-code"], "RevisionNotFound");
    let r = client()
        .get(format!("{url}/api/spaces/{id}/commits/main"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_commit_can_be_fetched_by_its_id() {
    let emu = emulator(None).await;
    create_as(&emu, DEFAULT_WRITE_TOKEN, "fetch", false).await;
    let id = "local/fetch";
    let old = commit(&emu, id, "first deploy", "", ("app.py", "print(1)\n")).await;
    let new = commit(&emu, id, "second deploy", "", ("app.py", "print(2)\n")).await;
    assert_ne!(old, new);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let remote = format!("{}/spaces/{id}", emu.url());
    for version in ["0", "2"] {
        let work = tmp.path().join(format!("v{version}"));
        std::fs::create_dir_all(&work).unwrap();
        assert!(run(git(&home, &work).args(["init", "-q"])).0);
        // a commit `main` no longer points to, asked for by its id (`want <sha>`)
        let (ok, out) = run(git(&home, &work).args([
            "-c",
            &format!("protocol.version={version}"),
            "fetch",
            "--depth",
            "1",
            &remote,
            &old,
        ]));
        assert!(ok, "protocol v{version}: {out}");
        let (ok, content) = run(git(&home, &work).args(["show", &format!("{old}:app.py")]));
        assert!(ok, "{content}");
        assert_eq!(content, "print(1)\n");
    }
    emu.shutdown().await;
}
