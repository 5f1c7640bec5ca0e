//! The logs of a Space (build and run), as Server-Sent Events: followed as they come, opened
//! again when the connection drops (skipping the lines the Hub replays), or read to their end
//! for a diagnosis.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use futures_util::{Stream, StreamExt};
use reqwest::Method;

use super::client::HubClient;
use super::models::{LogKind, LogLine};
use super::sse::{LogEvent, SseEvent, SseParser, parse_log_event};
use super::transport::Call;
use crate::error::{Error, Result};
use crate::space::SpaceId;
use crate::untrusted::RemoteText;
use crate::wait::{self, Retries};

/// The most bytes of a log tail ([`HubClient::logs_tail`]).
const MAX_TAIL_BYTES: usize = RemoteText::DEFAULT_MAX_BYTES;

/// Lines kept before a log tail, as context for the redactor (a value a log wrapped over many
/// short lines, cut by the tail's first line).
const CONTEXT_LINES: usize = 256;

/// A log line as it came, before the door: only this file sees it.
struct RawLine {
    text: String,
    timestamp: Option<String>,
}

/// The raw lines of a log, and the `Date` of the answer.
struct RawLogs {
    lines: Pin<Box<dyn Stream<Item = Result<RawLine>> + Send>>,
    server_date: Option<SystemTime>,
}

impl HubClient {
    /// Follow a log: the lines the Hub has buffered, then new ones as they come, until the Hub
    /// closes the stream. Keep-alives are skipped. A connection lost mid-stream is opened again
    /// (with the client's backoff, up to `max_attempts - 1` times in a row without a new line),
    /// skipping the lines the Hub replays: by timestamp, or by count when lines have none. When
    /// that fails too, the stream ends with the error as its last item.
    ///
    /// Endpoint: `GET /api/spaces/{ns}/{name}/logs/{build|run}` (Server-Sent Events).
    pub async fn logs(&self, space: &SpaceId, kind: LogKind) -> Result<LogStream> {
        let raw = self.open_logs(space, kind, true).await?;
        let redactor = self.redactor.clone();
        let lines = raw.lines.map(move |line| {
            line.map(|line| LogLine {
                text: RemoteText::new(&line.text, &redactor),
                timestamp: line.timestamp,
            })
        });
        Ok(LogStream {
            inner: Box::pin(lines),
            server_date: raw.server_date,
        })
    }

    async fn open_logs(&self, space: &SpaceId, kind: LogKind, reconnect: bool) -> Result<RawLogs> {
        let call = self.space_call(
            Method::GET,
            format!("/api/spaces/{space}/logs/{}", kind.as_str()),
            space,
            format!("read the {} log of Space `{space}`", kind.as_str()),
        );
        let response = self.execute(&call).await?;
        let server_date = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| httpdate::parse_http_date(value).ok());
        let state = LogState {
            client: self.clone(),
            url: self.url(&call),
            call,
            body: Box::pin(response.bytes_stream()),
            parser: SseParser::default(),
            pending: VecDeque::new(),
            done: false,
            reconnect,
            retries: Retries::new(self.inner.retry),
            seen: Given::default(),
            skip: None,
        };
        let stream = futures_util::stream::unfold(state, |mut state| async move {
            loop {
                if let Some(item) = state.pending.pop_front() {
                    return Some((item, state));
                }
                if state.done {
                    return None;
                }
                match state.body.next().await {
                    Some(Ok(chunk)) => {
                        let events = state.parser.push(&chunk);
                        state.enqueue(events);
                    }
                    Some(Err(source)) => state.connection_lost(source).await,
                    None => {
                        let events = state.parser.finish();
                        state.enqueue(events);
                        state.done = true;
                    }
                }
            }
        });
        Ok(RawLogs {
            lines: Box::pin(stream),
            server_date,
        })
    }

    /// The end of a log, for diagnostics: reads what the Hub has buffered and stops at the first
    /// pause of `idle` without a log line, at the end of the stream, or at the first line stamped
    /// more than 1 s after the Hub's `Date` (a line written after we asked). Keeps the last
    /// `max_lines`, at most their last 16 KiB, as one text redacted whole
    /// ([`RemoteText::log_tail`]: a value cut across two lines, or by the tail's first line, is
    /// found). A connection lost after some lines returns those lines.
    ///
    /// Endpoint: `GET /api/spaces/{ns}/{name}/logs/{build|run}`.
    pub async fn logs_tail(
        &self,
        space: &SpaceId,
        kind: LogKind,
        max_lines: usize,
        idle: Duration,
    ) -> Result<RemoteText> {
        let mut stream = self.open_logs(space, kind, false).await?;
        let cutoff = stream.server_date.map(|date| date + Duration::from_secs(1));
        // Lines before the tail, for the redactor to find a value cut by its first line.
        let keep = max_lines.saturating_add(CONTEXT_LINES);
        let mut lines = VecDeque::new();
        loop {
            let line = match wait::within(idle, stream.lines.next()).await {
                None | Some(None) => break,
                Some(Some(Ok(line))) => line,
                Some(Some(Err(error))) if lines.is_empty() => return Err(error),
                Some(Some(Err(error))) => {
                    tracing::debug!(%error, "log stream ended early; keeping the lines read");
                    break;
                }
            };
            let stamp = line.timestamp.as_deref().and_then(parse_timestamp);
            if matches!((cutoff, stamp), (Some(cutoff), Some(stamp)) if stamp > cutoff) {
                break;
            }
            lines.push_back(line.text);
            if lines.len() > keep {
                lines.pop_front();
            }
        }
        let lines: Vec<String> = lines.into();
        Ok(RemoteText::log_tail(
            &lines,
            max_lines,
            MAX_TAIL_BYTES,
            &self.redactor,
        ))
    }
}

fn parse_timestamp(value: &str) -> Option<SystemTime> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(SystemTime::from)
}

struct LogState {
    client: HubClient,
    call: Call,
    url: String,
    body: Pin<Box<dyn Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    parser: SseParser,
    pending: VecDeque<Result<RawLine>>,
    done: bool,
    /// Open the stream again when the connection drops.
    reconnect: bool,
    /// Reconnections since the last new line.
    retries: Retries,
    seen: Given,
    /// After a reconnection: what the Hub replays and we already gave out.
    skip: Option<Skip>,
}

impl LogState {
    fn enqueue(&mut self, events: Vec<SseEvent>) {
        for event in events {
            match parse_log_event(&event) {
                Ok(LogEvent::KeepAlive) => {}
                Ok(LogEvent::Line { text, timestamp }) => {
                    let line = RawLine { text, timestamp };
                    if let Some(skip) = &mut self.skip {
                        if skip.is_replayed(&line) {
                            continue;
                        }
                        self.skip = None;
                    }
                    self.seen.record(&line);
                    self.retries.reset();
                    self.pending.push_back(Ok(line));
                }
                Err(detail) => self.pending.push_back(Err(Error::MalformedResponse {
                    action: self.call.action.clone(),
                    url: self.url.clone(),
                    detail: RemoteText::new(&detail, &self.client.redactor),
                })),
            }
        }
    }

    async fn connection_lost(&mut self, source: reqwest::Error) {
        let delay = if self.reconnect {
            self.retries.next_delay()
        } else {
            None
        };
        let Some(delay) = delay else {
            self.done = true;
            self.pending.push_back(Err(Error::Request {
                action: self.call.action.clone(),
                url: self.url.clone(),
                source: source.without_url(),
            }));
            return;
        };
        tracing::debug!(error = %source, failures = self.retries.failures(), "log stream dropped; opening it again");
        wait::sleep(delay).await;
        match self.client.execute(&self.call).await {
            Ok(response) => {
                self.body = Box::pin(response.bytes_stream());
                self.parser = SseParser::default();
                self.skip = Some(Skip {
                    until: self.seen.clone(),
                    skipped_total: 0,
                    skipped_at_last: 0,
                });
            }
            Err(error) => {
                self.done = true;
                self.pending.push_back(Err(error));
            }
        }
    }
}

/// How far a log stream got: lines given out, the last timestamp and how many lines had it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Given {
    total: usize,
    last_timestamp: Option<String>,
    at_last: usize,
}

impl Given {
    fn record(&mut self, line: &RawLine) {
        self.total += 1;
        if line.timestamp.is_some() && line.timestamp == self.last_timestamp {
            self.at_last += 1;
        } else {
            self.last_timestamp = line.timestamp.clone();
            self.at_last = 1;
        }
    }
}

/// Recognises the lines a reopened stream replays.
#[derive(Debug)]
struct Skip {
    until: Given,
    skipped_total: usize,
    skipped_at_last: usize,
}

impl Skip {
    fn is_replayed(&mut self, line: &RawLine) -> bool {
        match (&self.until.last_timestamp, &line.timestamp) {
            (Some(last), Some(stamp)) => match compare_timestamps(stamp, last) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Equal if self.skipped_at_last < self.until.at_last => {
                    self.skipped_at_last += 1;
                    true
                }
                _ => false,
            },
            _ if self.skipped_total < self.until.total => {
                self.skipped_total += 1;
                true
            }
            _ => false,
        }
    }
}

fn compare_timestamps(left: &str, right: &str) -> std::cmp::Ordering {
    match (parse_timestamp(left), parse_timestamp(right)) {
        (Some(left), Some(right)) => left.cmp(&right),
        _ => left.cmp(right),
    }
}

/// The lines of a Space log as they arrive (see [`HubClient::logs`]).
pub struct LogStream {
    inner: Pin<Box<dyn Stream<Item = Result<LogLine>> + Send>>,
    server_date: Option<SystemTime>,
}

impl LogStream {
    /// The `Date` the Hub sent with the stream: lines stamped later were written after the
    /// request.
    pub fn server_date(&self) -> Option<SystemTime> {
        self.server_date
    }
}

impl fmt::Debug for LogStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogStream")
            .field("server_date", &self.server_date)
            .finish_non_exhaustive()
    }
}

impl Stream for LogStream {
    type Item = Result<LogLine>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
