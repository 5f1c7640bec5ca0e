//! Property tests of the pkt-line reader and of the upload-pack response reader.
//!
//! A writer written here makes well-formed pkt-line streams (data packets of every length up to
//! the protocol's largest, flush packets) and upload-pack responses (shallow and unshallow
//! lines, the flush, `NAK`, side-band packets on channels 1, 2 and 3, the final flush); they
//! must read back as written, in any chunks. Arbitrary bytes, and well-formed streams with one
//! length that lies (special lengths 1 to 3, a length past the end, a header that is not four
//! hex digits), must give an error or a wait for more bytes, never a panic or a loop, and the
//! same outcome whatever the chunks.
//!
//! A header of a `+` sign and three hex digits (`+00a`) is a bad length, as for git (Rust's
//! integer parsing alone would take the sign): a property and a unit test of the smallest input.
//!
//! The case count is proptest's `PROPTEST_CASES` (default 256). The long mode:
//!
//! ```text
//! PROPTEST_CASES=1000000 cargo test -p hf-deploy-core --release --lib push::smart_http::proptests -- --test-threads 1
//! ```
//!
//! A failing case is kept in `hf-deploy-core/proptest-regressions/` and replayed first on every
//! later run; commit that file with the fix.

use git2::Oid;
use proptest::prelude::*;
use proptest::sample::Index;

use super::{Packet, Response, next_packet, upload_request};

/// The largest pkt-line git writes: 65520 bytes, header included.
const MAX_DATA: usize = 65516;

/// A packet as the tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pkt {
    Flush,
    Data(Vec<u8>),
}

/// The writer: a four-digit lower-case hex length (header included), then the data.
fn write(packets: &[Pkt]) -> Vec<u8> {
    let mut out = Vec::new();
    for packet in packets {
        match packet {
            Pkt::Flush => out.extend_from_slice(b"0000"),
            Pkt::Data(data) => {
                out.extend_from_slice(format!("{:04x}", data.len() + 4).as_bytes());
                out.extend_from_slice(data);
            }
        }
    }
    out
}

/// What the reader makes of `input`, packet by packet: the packets, then how it stopped
/// (`Ok(rest)`: waits for more with `rest` unread; `Err`: the error).
fn read_all(input: &[u8]) -> (Vec<Pkt>, Result<Vec<u8>, String>) {
    let mut packets = Vec::new();
    let mut rest = input;
    loop {
        match next_packet(rest) {
            Ok(Some((packet, after))) => {
                assert!(after.len() < rest.len(), "no progress");
                packets.push(match packet {
                    Packet::Flush => Pkt::Flush,
                    Packet::Data(data) => Pkt::Data(data.to_vec()),
                });
                rest = after;
            }
            Ok(None) => return (packets, Ok(rest.to_vec())),
            Err(e) => return (packets, Err(e)),
        }
    }
}

/// The model of one header: `Some(length)` for four hex digits, `None` otherwise.
fn header_length(header: &[u8]) -> Option<usize> {
    if header.len() != 4 || !header.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let text = std::str::from_utf8(header).ok()?;
    usize::from_str_radix(text, 16).ok()
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::collection::vec(any::<u8>(), 0..64),
        1 => Just(vec![0xA5; MAX_DATA]),
        1 => (0..MAX_DATA).prop_map(|n| vec![b'x'; n]),
    ]
}

fn packets() -> impl Strategy<Value = Vec<Pkt>> {
    prop::collection::vec(
        prop_oneof![1 => Just(Pkt::Flush), 4 => data().prop_map(Pkt::Data)],
        0..10,
    )
}

/// Headers that lie: special lengths, short ones, non-hex ones.
const BAD_HEADERS: &[&[u8]] = &[
    b"0001",
    b"0002",
    b"0003",
    b"000g",
    b"00 4",
    b" 004",
    b"-004",
    b"0x04",
    b"\xff\xff\xff\xff",
    b"004\n",
    b"zzzz",
    b"\x00000",
];

proptest! {
    #[test]
    fn pkt_lines_read_back_as_written_and_a_cut_one_waits(
        packets in packets(),
        cut in any::<Index>(),
    ) {
        let bytes = write(&packets);
        let (read, end) = read_all(&bytes);
        prop_assert_eq!(&read, &packets);
        prop_assert_eq!(end, Ok(Vec::new()));

        // Cut anywhere: the packets wholly before the cut, then a wait with the rest unread.
        let at = cut.index(bytes.len() + 1);
        let (read, end) = read_all(&bytes[..at]);
        let mut offset = 0;
        let mut whole = 0;
        for packet in &packets {
            let len = match packet {
                Pkt::Flush => 4,
                Pkt::Data(data) => data.len() + 4,
            };
            if offset + len > at {
                break;
            }
            offset += len;
            whole += 1;
        }
        prop_assert_eq!(&read[..], &packets[..whole]);
        prop_assert_eq!(end, Ok(bytes[offset..at].to_vec()));
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_read_as_the_header_model_says(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..80),
            (prop::sample::select(BAD_HEADERS), prop::collection::vec(any::<u8>(), 0..16))
                .prop_map(|(h, rest)| [h, &rest[..]].concat()),
            ("[0-9a-fA-F]{4}", prop::collection::vec(any::<u8>(), 0..80))
                .prop_map(|(h, rest)| [h.as_bytes(), &rest[..]].concat()),
        ],
    ) {
        let result = next_packet(&bytes);
        match (result, bytes.get(..4).map(header_length)) {
            (Ok(None), None) => prop_assert!(bytes.len() < 4),
            (Ok(None), Some(Some(len))) => prop_assert!(len >= 4 && len > bytes.len()),
            (Ok(Some((Packet::Flush, rest))), Some(Some(0))) => prop_assert_eq!(rest, &bytes[4..]),
            (Ok(Some((Packet::Data(data), rest))), Some(Some(len))) => {
                prop_assert!(len >= 4);
                prop_assert_eq!(data, &bytes[4..len]);
                prop_assert_eq!(rest, &bytes[len..]);
            }
            (Err(e), Some(None)) => prop_assert!(e.starts_with("bad packet length"), "{}", e),
            (Err(e), Some(Some(len))) => {
                prop_assert!((1..=3).contains(&len), "{}", e);
                prop_assert!(e.starts_with("unexpected special packet"), "{}", e);
            }
            (got, model) => {
                let got = got.map(|p| {
                    p.map(|(packet, rest)| (matches!(packet, Packet::Flush), rest.len()))
                });
                return Err(TestCaseError::fail(format!("read {got:?}, the model says {model:?}")));
            }
        }
    }
}

/// An upload-pack response: the shallow section, `NAK`, side-band packets, the final flush.
#[derive(Debug, Clone)]
struct Answer {
    shallow: Vec<Oid>,
    unshallow: Vec<Oid>,
    /// Whether the shallow section ends with a flush (it may be absent when it is empty).
    flush: bool,
    /// `(band, payload)`: 1 pack data, 2 progress, 3 an error.
    bands: Vec<(u8, Vec<u8>)>,
}

impl Answer {
    fn packets(&self) -> Vec<Pkt> {
        let mut packets = Vec::new();
        for oid in &self.shallow {
            packets.push(Pkt::Data(format!("shallow {oid}\n").into_bytes()));
        }
        for oid in &self.unshallow {
            packets.push(Pkt::Data(format!("unshallow {oid}\n").into_bytes()));
        }
        if self.flush {
            packets.push(Pkt::Flush);
        }
        packets.push(Pkt::Data(b"NAK\n".to_vec()));
        for (band, payload) in &self.bands {
            let mut data = vec![*band];
            data.extend_from_slice(payload);
            packets.push(Pkt::Data(data));
        }
        packets.push(Pkt::Flush);
        packets
    }

    /// What a reader must end with: the pack bytes before the first error band, and the
    /// error's text when there is one.
    fn outcome(&self) -> (Vec<u8>, Option<String>) {
        let mut pack = Vec::new();
        for (band, payload) in &self.bands {
            match band {
                1 => pack.extend_from_slice(payload),
                3 => {
                    let message = String::from_utf8_lossy(payload).trim_end().to_string();
                    return (pack, Some(message));
                }
                _ => {}
            }
        }
        (pack, None)
    }
}

fn oid() -> impl Strategy<Value = Oid> {
    prop::array::uniform20(any::<u8>()).prop_map(|bytes| Oid::from_bytes(&bytes).expect("20 bytes"))
}

fn answer() -> impl Strategy<Value = Answer> {
    (
        prop::collection::vec(oid(), 0..3),
        prop::collection::vec(oid(), 0..2),
        any::<bool>(),
        prop::collection::vec(
            prop_oneof![
                6 => (Just(1u8), prop_oneof![
                    8 => prop::collection::vec(any::<u8>(), 0..200),
                    1 => Just(vec![0x5A; MAX_DATA - 1]),
                ]),
                2 => (Just(2u8), "[ -~]{0,30}\r?\n?".prop_map(String::into_bytes)),
                1 => (Just(3u8), "[ -~]{0,30}\n?".prop_map(String::into_bytes)),
            ],
            0..8,
        ),
    )
        .prop_map(|(shallow, unshallow, flush, bands)| Answer {
            flush: flush || !shallow.is_empty() || !unshallow.is_empty(),
            shallow,
            unshallow,
            bands,
        })
}

/// What a [`Response`] ends with after `bytes` in the chunks `cuts` gives: the pack bytes, the
/// shallow commits, whether it saw the final flush, and the first error.
type Fed = (Vec<u8>, Vec<Oid>, bool, Option<String>);

fn feed(bytes: &[u8], cuts: &[Index]) -> Fed {
    let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
    points.push(bytes.len());
    points.sort_unstable();
    points.dedup();
    let mut reader = Response::default();
    let mut pack = Vec::new();
    let mut from = 0;
    for point in points {
        let result = reader.feed(&bytes[from..point], &mut |data| {
            pack.extend_from_slice(data);
            Ok(())
        });
        from = point;
        if let Err(e) = result {
            return (pack, reader.shallow, reader.finished, Some(e));
        }
        if reader.finished {
            break;
        }
    }
    (pack, reader.shallow, reader.finished, None)
}

fn cuts() -> impl Strategy<Value = Vec<Index>> {
    prop::collection::vec(any::<Index>(), 0..10)
}

proptest! {
    #[test]
    fn an_upload_pack_answer_reads_back_in_any_chunks(
        answer in answer(),
        cuts in cuts(),
        trailing in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut bytes = write(&answer.packets());
        // Whatever follows the final flush is not read.
        bytes.extend_from_slice(&trailing);
        let (pack, shallow, finished, error) = feed(&bytes, &cuts);
        let (want_pack, want_error) = answer.outcome();
        prop_assert_eq!(pack, want_pack);
        prop_assert_eq!(shallow, answer.shallow.clone());
        prop_assert_eq!(error.clone(), want_error.clone());
        prop_assert_eq!(finished, want_error.is_none());
    }
}

proptest! {
    #[test]
    fn a_cut_answer_never_finishes_and_a_lying_length_is_an_error_or_a_wait(
        answer in answer(),
        cuts in cuts(),
        cut in any::<Index>(),
        which in any::<Index>(),
        lie in prop_oneof![
            prop::sample::select(BAD_HEADERS).prop_map(<[u8]>::to_vec),
            Just(b"fff0".to_vec()),
            Just(b"ffff".to_vec()),
        ],
    ) {
        // No error band, so that the whole answer finishes.
        let answer = Answer {
            bands: answer.bands.into_iter().filter(|(band, _)| *band != 3).collect(),
            ..answer
        };
        let packets = answer.packets();
        let bytes = write(&packets);

        // Cut before the final flush ends: the reader never finishes and never fails; the
        // caller's "ended before its final flush" is the error.
        let at = cut.index(bytes.len());
        let (_, _, finished, error) = feed(&bytes[..at], &cuts);
        prop_assert!(!finished);
        prop_assert_eq!(error, None);

        // One header lies: an error at that packet, or (a length past the end) a wait.
        let starts: Vec<usize> = packets
            .iter()
            .scan(0, |offset, p| {
                let start = *offset;
                *offset += match p {
                    Pkt::Flush => 4,
                    Pkt::Data(d) => d.len() + 4,
                };
                Some(start)
            })
            .collect();
        let start = starts[which.index(starts.len())];
        let mut lying = bytes.clone();
        lying[start..start + 4].copy_from_slice(&lie);
        let (_, _, finished, error) = feed(&lying, &cuts);
        if header_length(&lie).is_none_or(|len| start + len > lying.len()) {
            prop_assert!(!finished, "finished past a lying header");
        }
        match header_length(&lie) {
            // A length past the end: a wait for bytes that never come.
            Some(len) if len >= 4 => {
                if start + len > lying.len() {
                    prop_assert_eq!(error, None);
                }
            }
            _ => prop_assert!(error.is_some(), "no error for header {:?}", lie),
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_give_the_same_outcome_in_any_chunks(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            (answer(), prop::collection::vec((any::<Index>(), any::<u8>()), 1..4)).prop_map(
                |(answer, flips)| {
                    let mut bytes = write(&answer.packets());
                    for (at, byte) in flips {
                        let i = at.index(bytes.len());
                        bytes[i] = byte;
                    }
                    bytes
                },
            ),
        ],
        cuts in cuts(),
    ) {
        prop_assert_eq!(feed(&bytes, &cuts), feed(&bytes, &[]));
    }
}

proptest! {
    #[test]
    fn the_request_reads_as_want_deepen_flush_done(head in oid()) {
        let (packets, end) = read_all(&upload_request(head));
        prop_assert_eq!(end, Ok(Vec::new()));
        prop_assert_eq!(packets.len(), 4);
        let want = format!("want {head} side-band-64k ofs-delta shallow agent=hf-deploy/");
        let first = matches!(&packets[0], Pkt::Data(d)
            if d.starts_with(want.as_bytes()) && d.ends_with(b"\n"));
        prop_assert!(first, "{:?}", packets[0]);
        prop_assert_eq!(&packets[1], &Pkt::Data(b"deepen 1\n".to_vec()));
        prop_assert_eq!(&packets[2], &Pkt::Flush);
        prop_assert_eq!(&packets[3], &Pkt::Data(b"done\n".to_vec()));
    }
}

proptest! {
    /// A header of a sign and three hex digits is not four hex digits.
    #[test]
    fn a_signed_header_is_an_error(
        digits in "[0-9a-f]{3}",
        rest in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let bytes = [format!("+{digits}").as_bytes(), &rest[..]].concat();
        prop_assert!(next_packet(&bytes).is_err());
    }
}

#[test]
fn a_plus_sign_is_not_a_hex_digit() {
    assert!(next_packet(b"+004").is_err());
}
