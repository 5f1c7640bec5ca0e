//! An incremental Server-Sent Events parser, and the Space log events carried in it.
//!
//! Bytes arrive in arbitrary chunks: a line, a CRLF pair or a UTF-8 character may be split across
//! two of them. The parser keeps the unfinished line and the unfinished event between calls, each
//! at most [`MAX_LINE`] bytes: a line that never ends costs 64 KiB, not all the memory there is;
//! what goes past is dropped and the event marked `cut` (its log line ends with [`CUT_MARK`]).

use serde::Deserialize;

/// Most bytes kept of one line, and of one event's data: 64 KiB.
pub(crate) const MAX_LINE: usize = 64 * 1024;
/// What ends a log line that was cut at [`MAX_LINE`].
pub(crate) const CUT_MARK: &str = " … [cut: a log line longer than 64 KiB]";

/// One dispatched event: the `data:` lines joined with `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` field, when given.
    pub(crate) event: Option<String>,
    /// The data lines, joined with `\n`, at most [`MAX_LINE`] bytes.
    pub(crate) data: String,
    /// A line or the data went on past [`MAX_LINE`]: the rest was dropped.
    pub(crate) cut: bool,
}

/// Feed it chunks with [`SseParser::push`]; call [`SseParser::finish`] at end of stream.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    line: Vec<u8>,
    /// The line went on past [`MAX_LINE`].
    line_cut: bool,
    /// The event being read lost a piece.
    event_cut: bool,
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
                _ if self.line.len() < MAX_LINE => self.line.push(byte),
                _ => self.line_cut = true,
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
        let cut = std::mem::take(&mut self.line_cut);
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
            "data" => {
                self.event_cut |= cut;
                match &mut self.data {
                    Some(data) if data.len() < MAX_LINE => {
                        data.push('\n');
                        self.event_cut |= push_capped(data, value);
                    }
                    Some(_) => self.event_cut = true,
                    None => {
                        let mut data = String::new();
                        self.event_cut |= push_capped(&mut data, value);
                        self.data = Some(data);
                    }
                }
            }
            "event" => self.event = Some(value.to_string()),
            _ => {}
        }
    }

    fn dispatch(&mut self, events: &mut Vec<SseEvent>) {
        let event = self.event.take();
        let cut = std::mem::take(&mut self.event_cut);
        if let Some(data) = self.data.take() {
            events.push(SseEvent { event, data, cut });
        }
    }
}

/// Append as much of `value` to `data` as [`MAX_LINE`] leaves room for (on a character
/// boundary); true when something was left out.
fn push_capped(data: &mut String, value: &str) -> bool {
    let room = MAX_LINE.saturating_sub(data.len());
    if value.len() <= room {
        data.push_str(value);
        return false;
    }
    let mut end = room;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    data.push_str(&value[..end]);
    true
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
    if event.cut {
        return Ok(LogEvent::Line {
            text: format!("{}{CUT_MARK}", cut_line_text(data)),
            timestamp: None,
        });
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

/// What can be read of the `data` string of a log event cut in the middle: the characters
/// of its JSON string up to the cut (an escape the cut broke left out); empty when the cut
/// fell before it.
fn cut_line_text(json: &str) -> String {
    let Some(at) = json.find("\"data\"") else {
        return String::new();
    };
    let rest = json[at + 6..].trim_start();
    let Some(rest) = rest.strip_prefix(':').map(str::trim_start) else {
        return String::new();
    };
    let Some(body) = rest.strip_prefix('"') else {
        return String::new();
    };
    // The string ends at its first unescaped quote, or at the cut.
    let mut end = body.len();
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let mut body = &body[..end];
    // A `\uXXXX` escape is the longest a cut can break: drop up to 6 characters until it reads.
    for _ in 0..=6 {
        if let Ok(text) = serde_json::from_str::<String>(&format!("\"{body}\"")) {
            return text;
        }
        let mut chars = body.chars();
        chars.next_back();
        body = chars.as_str();
    }
    String::new()
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
            cut: false,
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
                data: "tail".into(),
                cut: false,
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
            cut: false,
        };
        let error = parse_log_event(&broken).expect_err("not a log event");
        assert!(
            error.starts_with("a log event is not `{\"data\": ..}`: missing field `data`"),
            "{error}"
        );
    }

    #[test]
    fn a_line_without_end_keeps_64_kib_and_is_marked_cut() {
        let mut parser = SseParser::default();
        assert!(parser.push(b"data: {\"data\":\"").is_empty());
        let chunk = "é".repeat(4096).into_bytes();
        for _ in 0..200 {
            assert!(parser.push(&chunk).is_empty());
            assert!(parser.line.len() <= MAX_LINE, "the line is held at the cap");
        }
        let events = parser.push(b"\\u00e9\",\"timestamp\":\"2025-03-07T12:30:00Z\"}\n\n");
        assert_eq!(events.len(), 1);
        assert!(events[0].cut);
        assert!(events[0].data.len() <= MAX_LINE);
        let Ok(LogEvent::Line { text, timestamp }) = parse_log_event(&events[0]) else {
            panic!("a cut line is still a line");
        };
        assert!(text.starts_with("ééé"), "{}", &text[..20]);
        assert!(text.ends_with(CUT_MARK), "{}", &text[text.len() - 60..]);
        assert!(text.len() <= MAX_LINE + CUT_MARK.len());
        assert_eq!(timestamp, None);
        // The next line is read whole again.
        let next = parser.push(b"data: {\"data\":\"ok\"}\n\n");
        assert_eq!(
            parse_log_event(&next[0]),
            Ok(LogEvent::Line {
                text: "ok".into(),
                timestamp: None
            })
        );
    }

    #[test]
    fn endless_data_lines_of_one_event_stay_under_the_cap() {
        let mut parser = SseParser::default();
        let line = format!("data: {}\n", "x".repeat(1000));
        for _ in 0..1000 {
            assert!(parser.push(line.as_bytes()).is_empty());
        }
        let data = parser.data.as_ref().expect("data");
        assert!(data.len() <= MAX_LINE, "{}", data.len());
        let events = parser.push(b"\n");
        assert!(events[0].cut);
    }

    #[test]
    fn a_cut_line_reads_what_its_json_string_holds() {
        assert_eq!(cut_line_text("{\"data\": \"abc\\u00"), "abc");
        assert_eq!(
            cut_line_text("{\"data\":\"a\\nb\",\"timestamp\":\"20"),
            "a\nb"
        );
        assert_eq!(cut_line_text("{\"timestamp\":\"2025"), "");
        assert_eq!(cut_line_text("{\"data\":\"x\\"), "x");
    }
}
