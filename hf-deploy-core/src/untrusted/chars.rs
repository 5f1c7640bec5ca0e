//! Character classes and terminal escape sequences, shared by the redactor (which looks through
//! them) and the sanitisers (which take them out).

/// The Unicode `Default_Ignorable_Code_Point` characters: zero-width spaces and joiners, soft
/// hyphens, bidi controls, variation selectors, tags... shown as nothing.
pub(super) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{34f}'
            | '\u{61c}'
            | '\u{115f}'..='\u{1160}'
            | '\u{17b4}'..='\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff0}'..='\u{fff8}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e0fff}'
    )
}

/// Bidi overrides, embeddings, isolates and marks (the "Trojan source" characters).
pub(super) fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// The characters a terminal never gets as they are: C0 controls but `\n` and `\t`, DEL, C1
/// controls, bidi controls.
pub(super) fn is_unsafe_for_terminal(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

fn in_range(c: char, low: u8, high: u8) -> bool {
    (char::from(low)..=char::from(high)).contains(&c)
}

/// What follows an ESC once the sequence it starts is skipped (ECMA-48): CSI, the control
/// strings (OSC, DCS, SOS, PM, APC), and the two- and three-character sequences. A malformed
/// sequence loses its introducer only; the rest is text, harmless without its ESC.
pub(super) fn skip_escape(after_esc: &str) -> &str {
    let Some(c) = after_esc.chars().next() else {
        return after_esc;
    };
    let rest = &after_esc[c.len_utf8()..];
    match c {
        '[' => skip_csi(rest),
        ']' | 'P' | 'X' | '^' | '_' => skip_control_string(rest),
        c if in_range(c, 0x20, 0x2f) => {
            let rest = rest.trim_start_matches(|c| in_range(c, 0x20, 0x2f));
            match rest.chars().next() {
                Some(last) if in_range(last, 0x30, 0x7e) => &rest[1..],
                _ => rest,
            }
        }
        c if in_range(c, 0x30, 0x7e) => rest,
        _ => after_esc,
    }
}

/// Parameters (0x30-0x3F), intermediates (0x20-0x2F), then one final byte (0x40-0x7E).
fn skip_csi(rest: &str) -> &str {
    let rest = rest.trim_start_matches(|c| in_range(c, 0x30, 0x3f));
    let rest = rest.trim_start_matches(|c| in_range(c, 0x20, 0x2f));
    match rest.chars().next() {
        Some(last) if in_range(last, 0x40, 0x7e) => &rest[1..],
        _ => rest,
    }
}

/// A control string, up to BEL, ST (`ESC \` or U+009C), or an ESC that starts the next
/// sequence. Unterminated: only the introducer is skipped (a terminal would hide the rest; here
/// it is shown).
fn skip_control_string(rest: &str) -> &str {
    for (at, c) in rest.char_indices() {
        match c {
            '\u{7}' | '\u{9c}' => return &rest[at + c.len_utf8()..],
            '\u{1b}' => {
                let after = &rest[at + 1..];
                return after.strip_prefix('\\').unwrap_or(&rest[at..]);
            }
            _ => {}
        }
    }
    rest
}
