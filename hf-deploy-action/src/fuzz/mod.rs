//! Fuzz targets of the binary, as property tests (`proptest`, stable toolchain): what the action
//! reads from the workflow and what it writes for the runner, against the runner's own rules.
//!
//! * [`outputs`]: the `GITHUB_OUTPUT` writer, read back with the runner's parsing rules.
//! * [`inputs`]: action inputs, from `INPUT_*` variables to checked deploy options.
//! * [`commands`]: workflow commands (annotations, masks, groups), parsed as the runner does.
//!
//! The number of cases comes from `PROPTEST_CASES` (proptest's own variable; default 256). A
//! failing case is shrunk and its seed kept in `proptest-regressions/fuzz/`, which is replayed
//! first on every later run. The long mode (README, "Fuzzing") runs one target at a time:
//! `PROPTEST_CASES=300000 cargo nextest run -p hf-deploy-action -j 1 fuzz::outputs`.

mod commands;
mod inputs;
mod outputs;

use proptest::prelude::*;

/// Strings from outside, biased towards the characters that matter to the runner's formats:
/// line breaks, `%`, `:`, `,`, `=`, `<`, `#`, quotes, whitespace of every kind, and any other
/// character (but NUL, which no environment variable or file line can hold here).
pub(crate) fn text(max: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[^\u{0}]{1,8}",
        2 => "[a-zA-Z0-9_./-]{1,8}",
        1 => prop::sample::select(vec![
            "\n", "\r", "\r\n", "%", "%25", "%0A", "%0D", "%3A", "%2C", ":", "::", ",", "=", "<",
            "<<", ">", "#", "\"", "'", " ", "\t", "\u{a0}", "\u{2028}", "\u{85}", "::error::",
            "::add-mask::", "ghadelimiter_", "EOF", "\u{1F680}", "é",
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec(piece, 0..=max).prop_map(|pieces| pieces.concat())
}
