//! An incremental Server-Sent Events parser, and the Space log events carried in it.
//!
//! Bytes arrive in arbitrary chunks: a line, a CRLF pair or a UTF-8 character may be split across
//! two of them. The parser keeps the unfinished line and the unfinished event between calls.

use serde::Deserialize;

/// One dispatched event: the `data:` lines joined with `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` field, when given.
    pub(crate) event: Option<String>,
    /// The data lines, joined with `\n`.
    pub(crate) data: String,
}

/// Feed it chunks with [`SseParser::push`]; call [`SseParser::finish`] at end of stream.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    line: Vec<u8>,
    after_cr: bool,
    started: bool,
    data: Option<String>,
    event: Option<String>,
}

impl SseParser {
    /// Parse a chunk; returns the events it completes.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &byte in chunk {
            if self.after_cr {
                self.after_cr = false;
                if byte == b'\n' {
                    continue;
                }
            }
            match byte {
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(&mut events);
                }
                b'\n' => self.end_line(&mut events),
                _ => self.line.push(byte),
            }
        }
        events
    }

    /// End of stream: a last line without its newline and an event without its blank line are
    /// still delivered (a server that closes right after its last `data:` line lost nothing).
    pub(crate) fn finish(&mut self) -> Vec<SseEvent> {
        let mut events = Vec::new();
        if !self.line.is_empty() {
            self.end_line(&mut events);
        }
        self.dispatch(&mut events);
        events
    }

    fn end_line(&mut self, events: &mut Vec<SseEvent>) {
        let mut bytes = std::mem::take(&mut self.line);
        if !self.started {
            self.started = true;
            if bytes.starts_with(b"\xEF\xBB\xBF") {
                bytes.drain(..3);
            }
        }
        if bytes.is_empty() {
            self.dispatch(events);
            return;
        }
        let line = String::from_utf8_lossy(&bytes);
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            "event" => self.event = Some(value.to_string()),
            _ => {}
        }
    }

    fn dispatch(&mut self, events: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if let Some(data) = self.data.take() {
            events.push(SseEvent { event, data });
        }
    }
}

/// The JSON in one Space log event: `{"data": "<text>", "timestamp": "<ISO-8601>"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct RawLogEvent {
    pub(crate) data: String,
    #[serde(default)]
    pub(crate) timestamp: Option<String>,
}

/// What one SSE event of a log stream holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LogEvent {
    /// A keep-alive (empty `data:`) or anything that is not a JSON object: skipped, as
    /// `huggingface_hub` only reads `data: {` lines.
    KeepAlive,
    /// A log line and its timestamp.
    Line {
        /// The text without its trailing newline.
        text: String,
        /// ISO-8601, when given.
        timestamp: Option<String>,
    },
}

/// Read one log event. `Err` carries what was wrong with a JSON object that is not a log event.
pub(crate) fn parse_log_event(event: &SseEvent) -> Result<LogEvent, String> {
    let data = event.data.trim();
    if !data.starts_with('{') {
        return Ok(LogEvent::KeepAlive);
    }
    let raw: RawLogEvent = serde_json::from_str(data)
        .map_err(|e| format!("a log event is not `{{\"data\": ..}}`: {e}"))?;
    let text = raw.data.strip_suffix('\n').unwrap_or(&raw.data);
    let text = text.strip_suffix('\r').unwrap_or(text);
    Ok(LogEvent::Line {
        text: text.to_string(),
        timestamp: raw.timestamp,
    })
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = concat!(
        ": comment from a proxy\r\n",
        "data: {\"data\":\"===== Application Startup =====\\n\",\"timestamp\":\"2025-03-07T12:30:00.123Z\"}\r\n",
        "\r\n",
        "data:\r\n",
        "\r\n",
        "data: {\"data\":\"INFO:     Uvicorn running on http://0.0.0.0:7860 \u{2713}\\n\",\"timestamp\":\"2025-03-07T12:30:02.456Z\"}\n",
        "\n",
        "event: ping\n",
        "data\n",
        "\n",
        "data: first\n",
        "data: second\n",
        "\n",
    );

    fn expected() -> Vec<SseEvent> {
        let event = |event: Option<&str>, data: &str| SseEvent {
            event: event.map(str::to_string),
            data: data.to_string(),
        };
        vec![
            event(
                None,
                "{\"data\":\"===== Application Startup =====\\n\",\"timestamp\":\"2025-03-07T12:30:00.123Z\"}",
            ),
            event(None, ""),
            event(
                None,
                "{\"data\":\"INFO:     Uvicorn running on http://0.0.0.0:7860 \u{2713}\\n\",\"timestamp\":\"2025-03-07T12:30:02.456Z\"}",
            ),
            event(Some("ping"), ""),
            event(None, "first\nsecond"),
        ]
    }

    #[test]
    fn parses_a_whole_stream_in_one_chunk() {
        let mut parser = SseParser::default();
        let mut events = parser.push(STREAM.as_bytes());
        events.extend(parser.finish());
        assert_eq!(events, expected());
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let bytes = STREAM.as_bytes();
        for split in 0..=bytes.len() {
            let mut parser = SseParser::default();
            let mut events = parser.push(&bytes[..split]);
            events.extend(parser.push(&bytes[split..]));
            events.extend(parser.finish());
            assert_eq!(events, expected(), "split at byte {split}");
        }
    }

    #[test]
    fn byte_by_byte_and_with_bare_cr_line_ends() {
        let mut parser = SseParser::default();
        let mut events = Vec::new();
        for byte in STREAM.as_bytes() {
            events.extend(parser.push(std::slice::from_ref(byte)));
        }
        events.extend(parser.finish());
        assert_eq!(events, expected());

        let mut parser = SseParser::default();
        let mut events = parser.push(b"data: a\r\rdata: b\r");
        events.extend(parser.push(b"\r"));
        assert_eq!(
            events.iter().map(|e| e.data.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn finish_delivers_an_unterminated_last_event_and_a_bom_is_ignored() {
        let mut parser = SseParser::default();
        assert!(parser.push(b"\xEF\xBB\xBFdata: x\n\ndata: tail").len() == 1);
        assert_eq!(
            parser.finish(),
            [SseEvent {
                event: None,
                data: "tail".into()
            }]
        );
        assert!(parser.finish().is_empty());
    }

    #[test]
    fn log_events_skip_keep_alives_and_strip_the_newline() {
        let events = expected();
        assert_eq!(
            parse_log_event(&events[0]),
            Ok(LogEvent::Line {
                text: "===== Application Startup =====".into(),
                timestamp: Some("2025-03-07T12:30:00.123Z".into())
            })
        );
        assert_eq!(parse_log_event(&events[1]), Ok(LogEvent::KeepAlive));
        assert_eq!(parse_log_event(&events[3]), Ok(LogEvent::KeepAlive));
        assert_eq!(parse_log_event(&events[4]), Ok(LogEvent::KeepAlive));
        let broken = SseEvent {
            event: None,
            data: "{\"nope\":1}".into(),
        };
        let error = parse_log_event(&broken).expect_err("not a log event");
        assert!(
            error.starts_with("a log event is not `{\"data\": ..}`: missing field `data`"),
            "{error}"
        );
    }
}
