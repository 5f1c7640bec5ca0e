//! Body caps and the redirect policy against tiny servers that misbehave on purpose.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// What a raw server sends after the request: headers, then a body that never ends.
#[derive(Clone, Copy)]
enum Misbehaviour {
    /// `200`, chunked, `x` forever.
    Endless,
    /// `200` with `Content-Length: 1000000000` and 10 bytes, then silence.
    LyingLength,
}

/// A server on a loopback port that answers every connection with `misbehaviour`; returns its
/// base URL.
async fn raw_server(misbehaviour: Misbehaviour) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                match misbehaviour {
                    Misbehaviour::Endless => {
                        let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
                        if socket.write_all(head.as_bytes()).await.is_err() {
                            return;
                        }
                        let chunk = format!("{:x}\r\n{}\r\n", 8192, "x".repeat(8192));
                        while socket.write_all(chunk.as_bytes()).await.is_ok() {}
                    }
                    Misbehaviour::LyingLength => {
                        let head =
                            "HTTP/1.1 200 OK\r\ncontent-length: 1000000000\r\n\r\n0123456789";
                        let _ = socket.write_all(head.as_bytes()).await;
                        tokio::time::sleep(Duration::from_secs(600)).await;
                    }
                }
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn an_endless_body_is_read_up_to_the_cap_and_no_further() {
    let url = raw_server(Misbehaviour::Endless).await;
    let response = reqwest::get(&url).await.expect("headers");
    let body = tokio::time::timeout(Duration::from_secs(10), read_capped(response, 100_000))
        .await
        .expect("the read stops at the cap")
        .expect("read");
    assert!(body.cut);
    assert_eq!(body.bytes.len(), 100_000);
    assert!(body.text().ends_with('…'));
}

#[tokio::test]
async fn an_endless_json_answer_is_too_large_not_a_growing_buffer() {
    let url = raw_server(Misbehaviour::Endless).await;
    let response = reqwest::get(&url).await.expect("headers");
    let error = read_whole(response, 64 * 1024)
        .await
        .expect_err("too large");
    assert!(matches!(error, BodyError::TooLarge(65536)), "{error:?}");
    assert_eq!(
        BodyError::too_large(64 * 1024),
        "the answer is larger than 64 KiB, more than hf-deploy reads"
    );
}

#[tokio::test]
async fn an_error_body_is_cut_at_64_kib() {
    let url = raw_server(Misbehaviour::Endless).await;
    let response = reqwest::get(&url).await.expect("headers");
    let text = error_text(response).await;
    assert_eq!(text.chars().filter(|c| *c == 'x').count(), ERROR_BODY_CAP);
}

#[tokio::test]
async fn a_lying_content_length_then_silence_ends_at_the_client_deadline() {
    let url = raw_server(Misbehaviour::LyingLength).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .expect("client");
    let response = client.get(&url).send().await.expect("headers");
    let started = std::time::Instant::now();
    let error = read_whole(response, JSON_CAP).await.expect_err("stalled");
    match error {
        BodyError::Transport(error) => assert!(error.is_timeout(), "{error:?}"),
        BodyError::TooLarge(_) => panic!("the body was 10 bytes"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A server that redirects `/start` to `target` and records the `Authorization` headers that
/// reach it.
async fn redirecting(target: String, seen: Arc<Mutex<Vec<String>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let target = target.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut request = vec![0u8; 8192];
                let n = socket.read(&mut request).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&request[..n]).to_string();
                for line in request.lines() {
                    if line.to_ascii_lowercase().starts_with("authorization:") {
                        seen.lock().unwrap().push(line.to_string());
                    }
                }
                let answer = if request.starts_with("GET /start") {
                    format!(
                        "HTTP/1.1 307 Temporary Redirect\r\nlocation: {target}\r\ncontent-length: 0\r\n\r\n"
                    )
                } else {
                    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_string()
                };
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{address}")
}

/// `GET {home}/start` with a token, through a client with [`same_host_redirects`].
async fn start(home: &str) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::builder()
        .redirect(same_host_redirects())
        .build()
        .expect("client")
        .get(format!("{home}/start"))
        .bearer_auth("hf_secretToken")
        .send()
        .await
}

#[tokio::test]
async fn a_redirect_to_another_host_is_refused_and_nothing_reaches_it() {
    let foreign_seen = Arc::new(Mutex::new(Vec::new()));
    let foreign = redirecting(String::new(), foreign_seen.clone()).await;
    let home_seen = Arc::new(Mutex::new(Vec::new()));
    // `localhost` and `127.0.0.1` are two hosts to a client, as two names are.
    let foreign = foreign.replace("127.0.0.1", "localhost");
    let home = redirecting(format!("{foreign}/landing"), home_seen.clone()).await;
    let error = start(&home).await.expect_err("refused");
    assert!(error.is_redirect(), "{error:?}");
    let chain = format!("{:?}", std::error::Error::source(&error));
    assert!(chain.contains("OffHost"), "{chain}");
    assert_eq!(
        home_seen.lock().unwrap().len(),
        1,
        "the first request had the token"
    );
    assert!(
        foreign_seen.lock().unwrap().is_empty(),
        "nothing went to the other host"
    );
}

#[tokio::test]
async fn a_redirect_on_the_same_host_is_followed_with_the_token() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let home = redirecting("/landing".into(), seen.clone()).await;
    let response = start(&home).await.expect("followed");
    assert_eq!(response.status(), 200);
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "both requests carried the token"
    );
}

#[tokio::test]
async fn another_port_is_another_host() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let other = redirecting(String::new(), seen.clone()).await;
    let home = redirecting(format!("{other}/landing"), Arc::default()).await;
    let error = start(&home).await.expect_err("another port");
    assert!(error.is_redirect());
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn origins_compare_scheme_host_and_port() {
    assert!(same_origin_str(
        "https://huggingface.co/api",
        "https://huggingface.co:443/x"
    ));
    assert!(!same_origin_str(
        "https://huggingface.co/api",
        "http://huggingface.co/api"
    ));
    assert!(!same_origin_str(
        "https://huggingface.co/api",
        "https://cdn-lfs.huggingface.co/x"
    ));
    assert!(!same_origin_str("https://huggingface.co", "not a url"));
}
