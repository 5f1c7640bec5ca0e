//! `.gitattributes`: which paths go through Git LFS, and merging ours into the Space's.
//!
//! Matching follows git's rules closely enough for `filter=lfs` lines: a pattern without `/`
//! matches the basename at any depth, a pattern with `/` is anchored at the root (a leading `/`
//! is dropped), `*` never crosses `/`, `**/` spans folders, and the last matching line wins.

use globset::{GlobBuilder, GlobMatcher};

/// Paths with more bytes than this are refused by the Hub as plain git blobs.
pub(crate) const MAX_PLAIN_SIZE: usize = 10 * 1024 * 1024;

/// How far git (and the Hub) looks for a NUL byte to call a file binary.
const BINARY_SNIFF_LEN: usize = 8000;

/// The attribute list written for paths we send through LFS.
const LFS_ATTRS: &str = "filter=lfs diff=lfs merge=lfs -text";

/// Why a file is stored through LFS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LfsReason {
    /// A `filter=lfs` pattern in `.gitattributes` matches it.
    Pattern,
    /// Larger than 10 MiB.
    Large,
    /// A NUL byte in its first 8000 bytes.
    Binary,
}

/// A path pattern matched the way git matches attribute and ignore patterns.
#[derive(Debug, Clone)]
pub(crate) struct PathPattern {
    matcher: GlobMatcher,
    basename_only: bool,
}

impl PathPattern {
    /// Compile `pattern`; `None` when it is not a usable glob.
    pub(crate) fn new(pattern: &str) -> Option<Self> {
        let (body, basename_only) = match pattern.strip_prefix('/') {
            Some(anchored) => (anchored, false),
            None => (pattern, !pattern.contains('/')),
        };
        if body.is_empty() || body.ends_with('/') {
            return None;
        }
        let glob = GlobBuilder::new(body)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .ok()?;
        Some(PathPattern {
            matcher: glob.compile_matcher(),
            basename_only,
        })
    }

    /// True when `path` (relative, `/`-separated) matches.
    pub(crate) fn is_match(&self, path: &str) -> bool {
        if self.basename_only {
            let name = path.rsplit('/').next().unwrap_or(path);
            self.matcher.is_match(name)
        } else {
            self.matcher.is_match(path)
        }
    }
}

/// The `filter` rules of a `.gitattributes` file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Attributes {
    /// Each rule: its pattern and whether it turns LFS on (`filter=lfs`) or off.
    rules: Vec<(PathPattern, bool)>,
}

impl Attributes {
    /// Parse the `filter` rules out of `.gitattributes` text. Lines we cannot read are
    /// skipped, as git skips them.
    pub(crate) fn parse(text: &str) -> Self {
        let mut rules = Vec::new();
        for line in text.lines() {
            let Some((pattern, attrs)) = split_line(line) else {
                continue;
            };
            let mut lfs = None;
            for attr in attrs.split_whitespace() {
                if let Some(value) = attr.strip_prefix("filter=") {
                    lfs = Some(value == "lfs");
                } else if attr == "-filter" || attr == "!filter" {
                    lfs = Some(false);
                }
            }
            if let (Some(lfs), Some(pattern)) = (lfs, PathPattern::new(&pattern)) {
                rules.push((pattern, lfs));
            }
        }
        Attributes { rules }
    }

    /// True when the last rule matching `path` sets `filter=lfs`.
    pub(crate) fn is_lfs(&self, path: &str) -> bool {
        self.rules
            .iter()
            .rev()
            .find(|(pattern, _)| pattern.is_match(path))
            .is_some_and(|(_, lfs)| *lfs)
    }

    /// Whether, and why, `path` with `content` must go through LFS.
    pub(crate) fn lfs_reason(&self, path: &str, content: &[u8]) -> Option<LfsReason> {
        if self.is_lfs(path) {
            Some(LfsReason::Pattern)
        } else if content.len() > MAX_PLAIN_SIZE {
            Some(LfsReason::Large)
        } else if content[..content.len().min(BINARY_SNIFF_LEN)].contains(&0) {
            Some(LfsReason::Binary)
        } else {
            None
        }
    }
}

/// Split an attributes line into its pattern (unquoted) and the rest. `None` for blank lines,
/// comments, macro definitions and negative patterns (which git rejects in attributes).
fn split_line(line: &str) -> Option<(String, &str)> {
    let line = line.trim_start();
    if line.is_empty()
        || line.starts_with('#')
        || line.starts_with("[attr]")
        || line.starts_with('!')
    {
        return None;
    }
    if let Some(quoted) = line.strip_prefix('"') {
        let mut pattern = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Some((pattern, &quoted[i + 1..])),
                '\\' => match chars.next() {
                    Some((_, 'n')) => pattern.push('\n'),
                    Some((_, 't')) => pattern.push('\t'),
                    Some((_, other)) => pattern.push(other),
                    None => return None,
                },
                other => pattern.push(other),
            }
        }
        return None;
    }
    let end = line.find(char::is_whitespace).unwrap_or(line.len());
    Some((line[..end].to_string(), &line[end..]))
}

/// The `.gitattributes` line that sends exactly `path` through LFS: anchored at the root, glob
/// characters escaped, quoted when it holds whitespace or quotes.
pub(crate) fn lfs_line_for_path(path: &str) -> String {
    let mut escaped = String::from("/");
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '{' | '}') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    if escaped.contains(|c: char| c.is_whitespace() || c == '"') {
        let quoted: String = escaped
            .chars()
            .flat_map(|c| match c {
                '\\' => vec!['\\', '\\'],
                '"' => vec!['\\', '"'],
                '\n' => vec!['\\', 'n'],
                '\t' => vec!['\\', 't'],
                other => vec![other],
            })
            .collect();
        format!("\"{quoted}\" {LFS_ATTRS}")
    } else {
        format!("{escaped} {LFS_ATTRS}")
    }
}

/// Append to `base` every line of `extra` it does not already have (compared with whitespace
/// collapsed). `base`'s own lines, the Hub's default patterns among them, are never dropped.
pub(crate) fn merge(base: &str, extra: impl IntoIterator<Item = String>) -> String {
    let normalize = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut present: Vec<String> = base.lines().map(normalize).collect();
    let mut out = base.to_string();
    for line in extra {
        let key = normalize(&line);
        if key.is_empty() || present.contains(&key) {
            continue;
        }
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(line.trim_end());
        out.push('\n');
        present.push(key);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HUB_DEFAULT: &str = "*.7z filter=lfs diff=lfs merge=lfs -text\n*.bin filter=lfs diff=lfs merge=lfs -text\nsaved_model/**/* filter=lfs diff=lfs merge=lfs -text\n*tfevents* filter=lfs diff=lfs merge=lfs -text\n";

    #[test]
    fn basename_patterns_match_at_any_depth_and_anchored_ones_at_the_root() {
        let attrs = Attributes::parse(HUB_DEFAULT);
        assert!(attrs.is_lfs("model.bin"));
        assert!(attrs.is_lfs("app/weights/model.bin"));
        assert!(attrs.is_lfs("saved_model/variables/data"));
        assert!(attrs.is_lfs("saved_model/x"));
        assert!(!attrs.is_lfs("other/saved_model/x"));
        assert!(attrs.is_lfs("logs/events.out.tfevents.123"));
        assert!(!attrs.is_lfs("model.bin.txt"));
        assert!(!attrs.is_lfs("README.md"));
    }

    #[test]
    fn later_lines_override_and_junk_lines_are_skipped() {
        let attrs = Attributes::parse(
            "# comment\n[attr]binary -diff\n*.bin filter=lfs\nkeep.bin -filter\n!neg filter=lfs\n\"with space.dat\" filter=lfs\n",
        );
        assert!(attrs.is_lfs("a.bin"));
        assert!(!attrs.is_lfs("keep.bin"));
        assert!(attrs.is_lfs("with space.dat"));
        assert!(!attrs.is_lfs("neg"));
    }

    #[test]
    fn lines_for_paths_match_exactly_that_path() {
        for path in [
            "static/logo.png",
            "top.dat",
            "dir/we ird[1]*.bin",
            "q\"uote.bin",
        ] {
            let line = lfs_line_for_path(path);
            let attrs = Attributes::parse(&line);
            assert!(attrs.is_lfs(path), "{line} should match {path}");
            assert!(
                !attrs.is_lfs(&format!("other/{path}")),
                "{line} is not anchored"
            );
        }
        assert_eq!(
            lfs_line_for_path("static/logo.png"),
            "/static/logo.png filter=lfs diff=lfs merge=lfs -text"
        );
    }

    #[test]
    fn reasons_are_pattern_then_size_then_nul_byte() {
        let attrs = Attributes::parse(HUB_DEFAULT);
        assert_eq!(attrs.lfs_reason("m.bin", b"text"), Some(LfsReason::Pattern));
        assert_eq!(
            attrs.lfs_reason("logo.png", b"\x89PNG\r\n\x1a\n\0\0"),
            Some(LfsReason::Binary)
        );
        assert_eq!(
            attrs.lfs_reason("big.txt", &vec![b'a'; MAX_PLAIN_SIZE + 1]),
            Some(LfsReason::Large)
        );
        assert_eq!(
            attrs.lfs_reason("ok.txt", &vec![b'a'; MAX_PLAIN_SIZE]),
            None
        );
        let mut late_nul = vec![b'a'; 9000];
        late_nul[8500] = 0;
        assert_eq!(attrs.lfs_reason("late.txt", &late_nul), None);
    }

    #[test]
    fn merge_keeps_base_lines_and_appends_missing_ones_once() {
        let merged = merge(
            "*.bin filter=lfs diff=lfs merge=lfs -text",
            [
                "*.bin   filter=lfs diff=lfs merge=lfs -text".to_string(),
                "*.png filter=lfs".to_string(),
                "*.png filter=lfs".to_string(),
            ],
        );
        assert_eq!(
            merged,
            "*.bin filter=lfs diff=lfs merge=lfs -text\n*.png filter=lfs\n"
        );
        assert_eq!(merge(&merged, ["*.png filter=lfs".to_string()]), merged);
    }
}
