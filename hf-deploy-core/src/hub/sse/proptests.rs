//! Property tests of the SSE parser and of the log events it carries.
//!
//! Streams are arbitrary bytes, or bytes built from the pieces of the format (`data:` with and
//! without its space, `event:`, `id:`, `retry:`, unknown fields, comments, CR, LF and CRLF, a
//! BOM, UTF-8 cut in the middle of a character), fed in arbitrary chunks. The parser must never
//! panic, must give the same events whatever the chunks, and must agree with a reference
//! parser written here from the WHATWG rules (with the module's two documented choices: an
//! empty `data:` is an event, and the stream's end delivers the pending event). Events written
//! in every way the format allows read back as they were, and Space log lines sent in the
//! stand-in's shape (`data: {"data": ..., "timestamp": ...}`, keep-alives between) read back as
//! the lines and timestamps sent.
//!
//! The case count is proptest's `PROPTEST_CASES` (default 256). The long mode:
//!
//! ```text
//! PROPTEST_CASES=1000000 cargo test -p hf-deploy-core --release --lib hub::sse::proptests -- --test-threads 1
//! ```
//!
//! A failing case is kept in `hf-deploy-core/proptest-regressions/` and replayed first on every
//! later run; commit that file with the fix.

use proptest::prelude::*;
use proptest::sample::Index;

use super::{LogEvent, SseEvent, SseParser, parse_log_event};

/// Feed `bytes` cut at `cuts` (indices into it, in any order), then finish.
fn parse_chunked(bytes: &[u8], cuts: &[Index]) -> Vec<SseEvent> {
    let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut parser = SseParser::default();
    let mut events = Vec::new();
    let mut from = 0;
    for point in points {
        events.extend(parser.push(&bytes[from..point]));
        from = point;
    }
    events.extend(parser.push(&bytes[from..]));
    events.extend(parser.finish());
    events
}

fn parse_whole(bytes: &[u8]) -> Vec<SseEvent> {
    let mut parser = SseParser::default();
    let mut events = parser.push(bytes);
    events.extend(parser.finish());
    events
}

fn parse_byte_by_byte(bytes: &[u8]) -> Vec<SseEvent> {
    let mut parser = SseParser::default();
    let mut events = Vec::new();
    for byte in bytes {
        events.extend(parser.push(std::slice::from_ref(byte)));
    }
    events.extend(parser.finish());
    events
}

/// The WHATWG rules on a whole stream: a leading BOM dropped, lines ended by CRLF, LF or CR,
/// a blank line dispatches, `:` starts a comment, the field name runs to the first `:` and one
/// space after it is dropped, `data` lines are joined with `\n`, `event` names the event, other
/// fields are ignored. The module's choices: an event whose data is empty is still an event,
/// and the end of the stream ends the last line and dispatches the pending event.
fn reference(bytes: &[u8]) -> Vec<SseEvent> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut lines: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' => {
                lines.push(&bytes[start..i]);
                i += if bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = i;
            }
            b'\n' => {
                lines.push(&bytes[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < bytes.len() {
        lines.push(&bytes[start..]);
    }
    let mut events = Vec::new();
    let mut data: Option<String> = None;
    let mut event: Option<String> = None;
    let mut dispatch = |data: &mut Option<String>, event: &mut Option<String>| {
        let name = event.take();
        if let Some(data) = data.take() {
            events.push(SseEvent {
                event: name,
                data,
                cut: false,
            });
        }
    };
    for line in lines {
        if line.is_empty() {
            dispatch(&mut data, &mut event);
            continue;
        }
        let line = String::from_utf8_lossy(line);
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.find(':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (&line[..], ""),
        };
        match field {
            "data" => {
                let joined = match data.take() {
                    Some(before) => format!("{before}\n{value}"),
                    None => value.to_string(),
                };
                data = Some(joined);
            }
            "event" => event = Some(value.to_string()),
            _ => {}
        }
    }
    dispatch(&mut data, &mut event);
    events
}

/// Pieces of event streams.
const PIECES: &[&[u8]] = &[
    b"data:",
    b"data: ",
    b"data",
    b"DATA: x",
    b"data : x",
    b"event:",
    b"event: ping",
    b"event:log",
    b"id: 1",
    b"retry: 1000",
    b"x-unknown: y",
    b":",
    b": keep-alive",
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"\r\r",
    b"\r\n\r\n",
    b" ",
    b"  ",
    b"\t",
    b"{\"data\":\"line\\n\",\"timestamp\":\"2025-01-01T00:00:00Z\"}",
    b"\xEF\xBB\xBF",
    b"\xEF\xBB",
    b"\xE2\x9C\x93",
    b"\xE2\x9C",
    b"\x93",
    b"\xFF",
    b"\x00",
    b"\xC3\xA9",
];

fn stream() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        6 => prop::sample::select(PIECES).prop_map(<[u8]>::to_vec),
        2 => "[ -~]{0,12}".prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..12),
        1 => any::<String>().prop_map(String::into_bytes),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn cuts() -> impl Strategy<Value = Vec<Index>> {
    prop::collection::vec(any::<Index>(), 0..10)
}

proptest! {
    #[test]
    fn any_chunking_gives_the_events_of_the_whole_stream_and_of_the_rules(
        bytes in prop_oneof![stream(), prop::collection::vec(any::<u8>(), 0..200)],
        cuts in cuts(),
    ) {
        let whole = parse_whole(&bytes);
        prop_assert_eq!(&parse_chunked(&bytes, &cuts), &whole);
        prop_assert_eq!(&parse_byte_by_byte(&bytes), &whole);
        prop_assert_eq!(&reference(&bytes), &whole, "{:?}", String::from_utf8_lossy(&bytes));
    }
}

/// One block of a stream as written: an event, or something that gives none.
#[derive(Debug, Clone)]
enum Block {
    /// An event, and how to write it.
    Event {
        event: Option<String>,
        /// The data lines (joined with `\n` they are the event's data).
        lines: Vec<String>,
        /// `data:` without its space (only for lines that do not start with a space).
        tight: bool,
        /// Where `event:` goes among the `data:` lines.
        event_at: Index,
        /// Extra fields (`id:`, `retry:`, unknown ones) and comments, and where.
        extras: Vec<(Index, &'static str)>,
    },
    /// An `event:` with no data: gives no event and does not name the next one.
    EventOnly(String),
    /// Comments or ignored fields alone, then a blank line.
    Ignored(Vec<&'static str>),
}

const EXTRAS: &[&str] = &[
    ": comment",
    ":",
    "id: 7",
    "id",
    "retry: 3000",
    "x-field: data: y",
    "Data: not data",
];

/// A value of a field: anything without a line end.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,16}",
        any::<String>().prop_map(|s| s.replace(['\r', '\n'], "")),
        prop::sample::select(&["", " ", " lead", "{\"data\":\"x\"}", "a: b", "é✓"][..])
            .prop_map(str::to_string),
    ]
}

fn block() -> impl Strategy<Value = Block> {
    prop_oneof![
        6 => (
            prop::option::of(value()),
            prop::collection::vec(value(), 1..4),
            any::<bool>(),
            any::<Index>(),
            prop::collection::vec((any::<Index>(), prop::sample::select(EXTRAS)), 0..3),
        )
            .prop_map(|(event, lines, tight, event_at, extras)| Block::Event {
                event,
                lines,
                tight,
                event_at,
                extras,
            }),
        1 => value().prop_map(Block::EventOnly),
        1 => prop::collection::vec(prop::sample::select(EXTRAS), 1..3).prop_map(Block::Ignored),
    ]
}

/// Writes blocks as a stream: `ends` gives each line's end in turn (LF, CR or CRLF).
fn write(blocks: &[Block], ends: &[&str], bom: bool, close_last: bool) -> (Vec<u8>, Vec<SseEvent>) {
    let mut lines: Vec<String> = Vec::new();
    let mut expected = Vec::new();
    for (n, block) in blocks.iter().enumerate() {
        match block {
            Block::Event {
                event,
                lines: data,
                tight,
                event_at,
                extras,
            } => {
                let mut fields: Vec<String> = data
                    .iter()
                    .map(|line| {
                        if *tight && !line.starts_with(' ') {
                            format!("data:{line}")
                        } else {
                            format!("data: {line}")
                        }
                    })
                    .collect();
                for (at, extra) in extras {
                    fields.insert(at.index(fields.len() + 1), (*extra).to_string());
                }
                if let Some(name) = event {
                    fields.insert(event_at.index(fields.len() + 1), format!("event: {name}"));
                }
                lines.extend(fields);
                expected.push(SseEvent {
                    event: event.clone(),
                    data: data.join("\n"),
                    cut: false,
                });
            }
            Block::EventOnly(name) => lines.push(format!("event: {name}")),
            Block::Ignored(extras) => lines.extend(extras.iter().map(|e| (*e).to_string())),
        }
        if n + 1 < blocks.len() || close_last {
            lines.push(String::new());
        }
    }
    let mut bytes = if bom {
        b"\xEF\xBB\xBF".to_vec()
    } else {
        Vec::new()
    };
    let count = lines.len();
    let mut after_cr = false;
    for (i, line) in lines.iter().enumerate() {
        bytes.extend_from_slice(line.as_bytes());
        // The last line may go without its end (the stream's end ends it), unless it is the
        // blank line that closes an event.
        if i + 1 < count || close_last {
            let mut end = ends[i % ends.len()];
            // CR then an empty line ended by LF would read as one CRLF.
            if after_cr && line.is_empty() && end == "\n" {
                end = "\r\n";
            }
            bytes.extend_from_slice(end.as_bytes());
            after_cr = end == "\r";
        }
    }
    (bytes, expected)
}

proptest! {
    #[test]
    fn events_written_in_every_allowed_way_read_back(
        blocks in prop::collection::vec(block(), 0..8),
        ends in prop::collection::vec(prop::sample::select(&["\n", "\r", "\r\n"][..]), 1..4),
        bom in any::<bool>(),
        close_last in any::<bool>(),
        cuts in cuts(),
    ) {
        let (bytes, expected) = write(&blocks, &ends, bom, close_last);
        let events = parse_chunked(&bytes, &cuts);
        prop_assert_eq!(events, expected, "{:?}", String::from_utf8_lossy(&bytes));
    }
}

/// A log line as the Space writes it: text, maybe with its line end.
fn log_line() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            "[ -~]{0,40}",
            any::<String>(),
            prop::sample::select(
                &[
                    "===== Application Startup =====",
                    "INFO:     Uvicorn running on http://0.0.0.0:7860 (Press CTRL+C to quit)",
                    "\u{1b}[32mINFO\u{1b}[0m:     Started server process [1]",
                    "data: not an event",
                    "",
                    "\r",
                    "\n",
                ][..]
            )
            .prop_map(str::to_string),
        ],
        prop::sample::select(&["", "\n", "\r\n"][..]),
    )
        .prop_map(|(text, end)| format!("{text}{end}"))
}

/// An ISO-8601 timestamp as the Hub writes it.
const TIMESTAMP: &str =
    "20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\\.[0-9]{3}Z";

/// JSON objects that are not log events, and one with spaces around it.
const NOT_LOG_EVENTS: &[&str] = &[
    "{\"data\": 1}",
    "{\"data\": null}",
    "{}",
    "{\"data\":\"x\",\"timestamp\":5}",
    " {\"data\":\"x\"} ",
];

/// What the log reader shows of a line: without one `\n`, then without one `\r`.
fn shown(line: &str) -> String {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line).to_string()
}

proptest! {
    #[test]
    fn log_lines_in_the_stand_ins_shape_read_back(
        lines in prop::collection::vec(
            (log_line(), prop::option::of(TIMESTAMP)),
            0..8,
        ),
        keep_alives in prop::collection::vec(any::<bool>(), 8),
        crlf in any::<bool>(),
        cuts in cuts(),
    ) {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut stream = String::new();
        for (i, (line, timestamp)) in lines.iter().enumerate() {
            if keep_alives[i] {
                stream.push_str(&format!("data: {end}{end}"));
            }
            let json = match timestamp {
                Some(ts) => serde_json::json!({ "data": line, "timestamp": ts }),
                None => serde_json::json!({ "data": line }),
            };
            stream.push_str(&format!("data: {json}{end}{end}"));
        }
        let events = parse_chunked(stream.as_bytes(), &cuts);
        let mut got = Vec::new();
        for event in &events {
            match parse_log_event(event) {
                Ok(LogEvent::Line { text, timestamp }) => got.push((text, timestamp)),
                Ok(LogEvent::KeepAlive) => prop_assert_eq!(event.data.as_str(), ""),
                Err(e) => return Err(TestCaseError::fail(format!("{e}: {event:?}"))),
            }
        }
        let want: Vec<(String, Option<String>)> = lines
            .iter()
            .map(|(line, ts)| (shown(line), ts.clone()))
            .collect();
        prop_assert_eq!(got, want);
    }
}

proptest! {
    #[test]
    fn any_event_data_reads_as_a_line_a_keep_alive_or_an_error_never_a_panic(
        data in prop_oneof![
            any::<String>(),
            "\\{[ -~]{0,30}\\}?",
            prop::sample::select(NOT_LOG_EVENTS).prop_map(str::to_string),
        ],
    ) {
        let event = SseEvent { event: None, data: data.clone(), cut: false };
        match parse_log_event(&event) {
            Ok(LogEvent::KeepAlive) => prop_assert!(!data.trim().starts_with('{'), "{:?}", data),
            Ok(LogEvent::Line { .. }) => prop_assert!(data.trim().starts_with('{'), "{:?}", data),
            Err(e) => prop_assert!(e.starts_with("a log event is not"), "{}", e),
        }
    }
}
