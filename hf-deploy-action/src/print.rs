//! `println!`-like macros that never panic. The standard macros panic when the reader went away
//! (`hf-deploy status --json | head -1`, a closed pipe, Ctrl-C of a pager); ours drop the text.
//! Every text passes the last guard first: each value of the run's redactor becomes `***`
//! (`guard.rs`).

/// Like `println!`, without the panic on a closed stdout.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", $crate::guard::redact(&text));
        let _ = out.flush();
    }};
}

/// Like `print!`, without the panic on a closed stdout.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{}", $crate::guard::redact(&text));
        let _ = out.flush();
    }};
}

/// Like `eprintln!`, without the panic on a closed stderr.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let _ = writeln!(std::io::stderr().lock(), "{}", $crate::guard::redact(&text));
    }};
}
