//! A shallow fetch of the Space's `main` in as few requests as the protocol allows.
//!
//! libgit2 fetches a depth-1 `main` over smart HTTP in three requests: the ref advertisement,
//! a first `git-upload-pack` POST carrying the wants and `deepen 1` (the server answers the
//! shallow boundary), and a second POST saying `done` (the server answers the pack). The
//! stateless protocol (v0) lets one POST carry all of it: wants, `deepen 1`, a flush, then
//! `done`; `git upload-pack` answers the shallow lines, `NAK` and the pack in one response. When
//! the deploy already knows the head commit (the Space info's `sha`, read anyway), even the
//! advertisement is skipped: one request instead of three.
//!
//! A stale head (`main` moved between the Space info and the fetch) is still served: stateless
//! upload-pack sends any commit reachable from a ref. The plan is then built on the old head and
//! the push is refused as non-fast-forward before anything is sent (libgit2 checks that the
//! remote head is an ancestor, and it is not even present), so the retry fetches the real head
//! the full way; nothing is lost (`push::tests::the_first_fetch_is_one_post_...`). When the old
//! head's tree already equals ours, the deploy reports no change: the same answer it would have
//! given a moment earlier, before the other push landed.
//!
//! This is an optimisation with a fallback, never a second source of truth: any answer it does
//! not fully understand (a stale head the server refuses, an unexpected status or content type,
//! a malformed packet, a pack libgit2 cannot index) makes the caller run libgit2's own fetch,
//! with its error reporting and retries. UNCONFIRMED for the real Hub: that its git server
//! accepts an upload-pack POST that no advertisement preceded and a `want` of the advertised tip
//! (any stateless-RPC server must, as each request stands alone); the fallback covers a refusal.

use std::io::Write;

use git2::{Oid, Repository};

/// Most bytes of a ref advertisement read (a Space has a handful of refs): 4 MiB; a longer
/// one gives way to libgit2's fetch.
const ADVERTISEMENT_CAP: usize = 4 * 1024 * 1024;
/// Most shallow lines believed: a depth-1 fetch of one branch draws one, a merge a few.
const MAX_SHALLOW: usize = 1024;

/// What a fetch found: the head of `main` and the shallow boundary the server drew.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Fetched {
    /// The head of `main`; `None` when the Space has no `main`.
    pub head: Option<Oid>,
    /// Commits whose parents were not sent (the repository's `shallow` file).
    pub shallow: Vec<Oid>,
}

/// Why the one-request fetch gave way to libgit2's (logged at debug level, never shown).
pub(crate) type Fallback = String;

/// Fetch `main` at depth 1 from `remote_url` into `repo`: one POST when `head` is known, else
/// the advertisement first. The pack is streamed into the object database, never held whole.
pub(crate) fn fetch_main(
    runtime: &tokio::runtime::Handle,
    client: &reqwest::Client,
    repo: &Repository,
    remote_url: &str,
    authorization: Option<&str>,
    head: Option<Oid>,
) -> Result<Fetched, Fallback> {
    let base = remote_url.trim_end_matches('/');
    runtime.block_on(async {
        let head = match head {
            Some(head) => head,
            None => match advertised_main(client, base, authorization).await? {
                Some(head) => head,
                None => return Ok(Fetched::default()),
            },
        };
        let mut request = client
            .post(format!("{base}/git-upload-pack"))
            .header("Content-Type", "application/x-git-upload-pack-request")
            .header("Accept", "application/x-git-upload-pack-result")
            .body(upload_request(head));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let mut response = request.send().await.map_err(|e| format!("send: {e}"))?;
        expect(&response, "application/x-git-upload-pack-result")?;
        let odb = repo.odb().map_err(|e| e.to_string())?;
        let mut pack = odb.packwriter().map_err(|e| e.to_string())?;
        let mut reader = Response::default();
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("read: {e}"))? {
            reader
                .feed(&chunk, &mut |data| pack.write_all(data))
                .map_err(|e| format!("pack: {e}"))?;
            if reader.finished {
                break;
            }
        }
        if !reader.finished {
            return Err("the response ended before its final flush".into());
        }
        pack.commit().map_err(|e| format!("index the pack: {e}"))?;
        if repo.find_commit(head).is_err() {
            return Err(format!("the pack does not hold the head {head}"));
        }
        Ok(Fetched {
            head: Some(head),
            shallow: reader.shallow,
        })
    })
}

/// The head of `refs/heads/main` in the upload-pack advertisement; `None` when there is none.
async fn advertised_main(
    client: &reqwest::Client,
    base: &str,
    authorization: Option<&str>,
) -> Result<Option<Oid>, Fallback> {
    let mut request = client.get(format!("{base}/info/refs?service=git-upload-pack"));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    let response = request.send().await.map_err(|e| format!("send: {e}"))?;
    expect(&response, "application/x-git-upload-pack-advertisement")?;
    let body = crate::http::read_whole(response, ADVERTISEMENT_CAP)
        .await
        .map_err(|e| match e {
            crate::http::BodyError::Transport(e) => format!("read: {e}"),
            crate::http::BodyError::TooLarge(cap) => crate::http::BodyError::too_large(cap),
        })?;
    let mut rest = &body[..];
    let mut main = None;
    let mut sections = 0;
    while sections < 2 {
        match next_packet(rest).map_err(|e| format!("advertisement: {e}"))? {
            Some((Packet::Flush, after)) => {
                sections += 1;
                rest = after;
            }
            Some((Packet::Data(line), after)) => {
                let line = line.split(|b| *b == 0).next().unwrap_or_default();
                let line = String::from_utf8_lossy(line);
                if let Some((sha, name)) = line.trim_end().split_once(' ') {
                    if name == "refs/heads/main" {
                        main = Some(Oid::from_str(sha).map_err(|e| e.to_string())?);
                    }
                }
                rest = after;
            }
            None => return Err("the advertisement ended early".into()),
        }
    }
    Ok(main)
}

/// 200 with the smart-HTTP content type, or why not.
fn expect(response: &reqwest::Response, content_type: &str) -> Result<(), Fallback> {
    let status = response.status();
    let given = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !status.is_success() || !given.starts_with(content_type) {
        return Err(format!("answered {status} with `{given}`"));
    }
    Ok(())
}

/// The request body: the want with its capabilities, `deepen 1`, a flush, `done`.
pub(crate) fn upload_request(head: Oid) -> Vec<u8> {
    let mut body = Vec::new();
    let agent = concat!("agent=hf-deploy/", env!("CARGO_PKG_VERSION"));
    for line in [
        // No `no-progress`: the server's progress lines (side band 2, ignored) keep the
        // connection from looking dead while it prepares a large pack.
        format!("want {head} side-band-64k ofs-delta shallow {agent}\n"),
        "deepen 1\n".to_string(),
    ] {
        packet(&mut body, line.as_bytes());
    }
    body.extend_from_slice(b"0000");
    packet(&mut body, b"done\n");
    body
}

fn packet(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(format!("{:04x}", data.len() + 4).as_bytes());
    out.extend_from_slice(data);
}

enum Packet<'a> {
    Flush,
    Data(&'a [u8]),
}

/// The first pkt-line of `input` and what follows it; `None` when it is not complete yet.
fn next_packet(input: &[u8]) -> Result<Option<(Packet<'_>, &[u8])>, String> {
    let Some(header) = input.get(..4) else {
        return Ok(None);
    };
    // Four hex digits, as git reads them (`from_str_radix` alone would take a `+` sign).
    let length = Some(header)
        .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|h| usize::from_str_radix(h, 16).ok())
        .ok_or_else(|| format!("bad packet length {:?}", String::from_utf8_lossy(header)))?;
    match length {
        0 => Ok(Some((Packet::Flush, &input[4..]))),
        1..=3 => Err(format!("unexpected special packet {length:04x}")),
        _ => Ok(input
            .get(4..length)
            .map(|data| (Packet::Data(data), &input[length..]))),
    }
}

/// Where the reading of an upload-pack response is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// `shallow`/`unshallow` lines up to a flush.
    #[default]
    Shallow,
    /// The `NAK` (or `ACK`) line.
    Acknowledgment,
    /// Side-band packets up to the final flush.
    Pack,
}

/// An upload-pack response read incrementally: the pack data goes to a sink as it arrives.
#[derive(Debug, Default)]
struct Response {
    pending: Vec<u8>,
    section: Section,
    shallow: Vec<Oid>,
    finished: bool,
}

impl Response {
    /// Take `chunk`, handing the pack bytes (side band 1) to `sink`.
    fn feed(
        &mut self,
        chunk: &[u8],
        sink: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<(), String> {
        self.pending.extend_from_slice(chunk);
        let mut consumed = 0;
        while !self.finished {
            let Some((packet, rest)) = next_packet(&self.pending[consumed..])? else {
                break;
            };
            let used = self.pending.len() - consumed - rest.len();
            match (self.section, packet) {
                (Section::Shallow, Packet::Flush) => self.section = Section::Acknowledgment,
                (Section::Shallow, Packet::Data(line)) => {
                    let line = String::from_utf8_lossy(line);
                    match line.trim_end().split_once(' ') {
                        Some(("shallow", _)) if self.shallow.len() >= MAX_SHALLOW => {
                            return Err("more shallow lines than a depth-1 fetch has".into());
                        }
                        Some(("shallow", sha)) => self
                            .shallow
                            .push(Oid::from_str(sha).map_err(|e| e.to_string())?),
                        Some(("unshallow", _)) => {}
                        _ if line.starts_with("NAK") => self.section = Section::Pack,
                        _ if line.starts_with("ERR ") => return Err(line.trim_end().to_string()),
                        _ => return Err(format!("unexpected line {:?}", line.trim_end())),
                    }
                }
                (Section::Acknowledgment, Packet::Data(line)) if line.starts_with(b"NAK") => {
                    self.section = Section::Pack;
                }
                (Section::Acknowledgment, Packet::Data(line)) if line.starts_with(b"ERR ") => {
                    return Err(String::from_utf8_lossy(line).trim_end().to_string());
                }
                (Section::Pack, Packet::Flush) => self.finished = true,
                (Section::Pack, Packet::Data(data)) => match data.split_first() {
                    Some((1, pack)) => sink(pack).map_err(|e| e.to_string())?,
                    Some((2, _progress)) => {}
                    Some((3, message)) => {
                        return Err(String::from_utf8_lossy(message).trim_end().to_string());
                    }
                    _ => return Err("a side-band packet without a known band".into()),
                },
                (section, Packet::Flush) => return Err(format!("unexpected flush in {section:?}")),
                (section, Packet::Data(line)) => {
                    return Err(format!(
                        "unexpected {:?} in {section:?}",
                        String::from_utf8_lossy(&line[..line.len().min(60)])
                    ));
                }
            }
            consumed += used;
        }
        self.pending.drain(..consumed);
        Ok(())
    }
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    fn response(parts: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for part in parts {
            if part.is_empty() {
                out.extend_from_slice(b"0000");
            } else {
                packet(&mut out, part);
            }
        }
        out
    }

    #[test]
    fn the_request_is_one_want_deepen_flush_done() {
        let head = Oid::from_str("0123456789abcdef0123456789abcdef01234567").expect("oid");
        let body = String::from_utf8(upload_request(head)).expect("utf-8");
        let lines: Vec<&str> = body.split_inclusive('\n').collect();
        assert!(
            lines[0][4..].starts_with(
                "want 0123456789abcdef0123456789abcdef01234567 side-band-64k ofs-delta shallow agent=hf-deploy/"
            ),
            "{body}"
        );
        assert_eq!(
            usize::from_str_radix(&lines[0][..4], 16).expect("hex"),
            lines[0].len()
        );
        assert_eq!(lines[1], "000ddeepen 1\n");
        assert_eq!(lines[2], "00000009done\n");
    }

    #[test]
    fn a_response_split_anywhere_yields_the_same_pack_and_shallow_lines() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let shallow = format!("shallow {sha}\n");
        let whole = response(&[
            shallow.as_bytes(),
            b"",
            b"NAK\n",
            b"\x02Counting objects\n",
            b"\x01PACK-part-one",
            b"\x01-part-two",
            b"",
        ]);
        for split in 0..whole.len() {
            let mut reader = Response::default();
            let mut pack = Vec::new();
            for chunk in [&whole[..split], &whole[split..]] {
                reader
                    .feed(chunk, &mut |data| {
                        pack.extend_from_slice(data);
                        Ok(())
                    })
                    .expect("parse");
            }
            assert!(reader.finished, "split at {split}");
            assert_eq!(pack, b"PACK-part-one-part-two", "split at {split}");
            assert_eq!(reader.shallow, vec![Oid::from_str(sha).expect("oid")]);
        }
    }

    #[test]
    fn a_root_commit_has_no_shallow_lines_and_an_error_band_fails() {
        let mut reader = Response::default();
        let mut sink = |_: &[u8]| Ok(());
        reader
            .feed(&response(&[b"", b"NAK\n", b"\x01PACK", b""]), &mut sink)
            .expect("parse");
        assert!(reader.finished && reader.shallow.is_empty());

        let mut reader = Response::default();
        let error = reader
            .feed(
                &response(&[b"", b"NAK\n", b"\x03upload-pack: not our ref\n"]),
                &mut sink,
            )
            .expect_err("error band");
        assert_eq!(error, "upload-pack: not our ref");
        let mut reader = Response::default();
        let error = reader
            .feed(
                &response(&[b"ERR upload-pack: not our ref 0123\n"]),
                &mut sink,
            )
            .expect_err("ERR line");
        assert_eq!(error, "ERR upload-pack: not our ref 0123");
    }
}
