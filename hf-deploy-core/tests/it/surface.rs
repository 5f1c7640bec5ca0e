//! The public surface of the library, pinned: every public path of an item (modules, types,
//! functions, constants, traits), and under its first path every variant, public field and
//! inherent associated item, sorted, as a snapshot. A change to the surface is a visible diff
//! of `snapshots/it__surface__public_surface.snap`; accept it with `cargo insta review` when it
//! is meant.
//!
//! The list comes from rustdoc's JSON output, asked of the stable toolchain with
//! `RUSTC_BOOTSTRAP=1`, in a target folder of its own beside the build's (`public-surface`): the
//! first run checks every dependency once (a few minutes), later runs document this crate only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// The target folder of this test's own rustdoc run: beside the one the test was built in.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // <target>/<profile>/deps/it-<hash>
    let target = exe
        .ancestors()
        .nth(3)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("public-surface")
}

fn rustdoc_json() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let target = target_dir();
    let output = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUSTC_BOOTSTRAP", "1")
        .args([
            "rustdoc",
            "--package",
            "hf-deploy-core",
            "--lib",
            "--target-dir",
        ])
        .arg(&target)
        .args(["--", "-Z", "unstable-options", "--output-format", "json"])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo rustdoc failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let path = target.join("doc/hf_deploy_core.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("rustdoc's JSON")
}

/// An id as the index keys it (a number in recent formats, a string in older ones).
fn key(id: &Value) -> Option<String> {
    match id {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// The kind of an item and its content (`{"inner": {"struct": {...}}}`).
fn inner(item: &Value) -> Option<(&str, &Value)> {
    item.get("inner")?
        .as_object()?
        .iter()
        .next()
        .map(|(kind, value)| (kind.as_str(), value))
}

fn ids(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(key).collect())
        .unwrap_or_default()
}

struct Surface<'a> {
    index: &'a serde_json::Map<String, Value>,
    /// Every public path of an item, by the item's id.
    paths: BTreeMap<String, BTreeSet<String>>,
    lines: BTreeSet<String>,
}

impl<'a> Surface<'a> {
    fn item(&self, id: &str) -> Option<&'a Value> {
        self.index.get(id)
    }

    fn is_public(&self, id: &str) -> bool {
        self.item(id)
            .and_then(|item| item.get("visibility"))
            .is_some_and(|visibility| visibility == "public")
    }

    fn name(&self, id: &str) -> Option<&'a str> {
        self.item(id)?.get("name")?.as_str()
    }

    /// Record `id` at `path`, and walk a module's public items (following re-exports).
    fn visit(&mut self, id: &str, path: &str, depth: usize) {
        let Some((kind, content)) = self.item(id).and_then(inner) else {
            return;
        };
        if depth > 16
            || !self
                .paths
                .entry(id.to_string())
                .or_default()
                .insert(path.to_string())
        {
            return;
        }
        if kind != "module" {
            return;
        }
        for child in ids(content.get("items")) {
            if !self.is_public(&child) {
                continue;
            }
            let Some((child_kind, child_content)) = self.item(&child).and_then(inner) else {
                continue;
            };
            match child_kind {
                "impl" => {}
                "use" => self.visit_use(child_content, path, depth),
                _ => {
                    if let Some(name) = self.name(&child) {
                        self.visit(&child, &format!("{path}::{name}"), depth + 1);
                    }
                }
            }
        }
    }

    fn visit_use(&mut self, content: &Value, path: &str, depth: usize) {
        let Some(target) = content.get("id").and_then(key) else {
            return;
        };
        if content.get("is_glob").and_then(Value::as_bool) == Some(true) {
            let Some((_, module)) = self.item(&target).and_then(inner) else {
                return;
            };
            for child in ids(module.get("items")) {
                if let (true, Some(name)) = (self.is_public(&child), self.name(&child)) {
                    self.visit(&child, &format!("{path}::{name}"), depth + 1);
                }
            }
        } else if let Some(name) = content.get("name").and_then(Value::as_str) {
            self.visit(&target, &format!("{path}::{name}"), depth + 1);
        }
    }

    /// Every path, and the members of each item under its first path.
    fn list(mut self) -> BTreeSet<String> {
        let paths = std::mem::take(&mut self.paths);
        for (id, item_paths) in &paths {
            let Some((kind, content)) = self.item(id).and_then(inner) else {
                continue;
            };
            for path in item_paths {
                self.lines.insert(format!("{path} ({kind})"));
            }
            let Some(first) = item_paths
                .iter()
                .min_by_key(|path| (path.matches("::").count(), path.as_str()))
            else {
                continue;
            };
            self.members(kind, content, first);
        }
        self.lines
    }

    fn members(&mut self, kind: &str, content: &Value, path: &str) {
        let member = |surface: &mut Self, id: &str, what: &str| {
            if let Some(name) = surface.name(id) {
                surface.lines.insert(format!("{path}::{name} ({what})"));
            }
        };
        match kind {
            "enum" => {
                for variant in ids(content.get("variants")) {
                    member(self, &variant, "variant");
                }
            }
            "struct" | "union" => {
                let fields = content
                    .get("kind")
                    .and_then(|k| k.get("plain"))
                    .and_then(|plain| plain.get("fields"))
                    .or_else(|| content.get("fields"));
                for field in ids(fields) {
                    if self.is_public(&field) {
                        member(self, &field, "field");
                    }
                }
            }
            "trait" => {
                for item in ids(content.get("items")) {
                    member(self, &item, "trait item");
                }
            }
            _ => {}
        }
        for implementation in ids(content.get("impls")) {
            let Some(("impl", body)) = self.item(&implementation).and_then(inner) else {
                continue;
            };
            let inherent = body.get("trait").is_none_or(Value::is_null)
                && body.get("is_synthetic").and_then(Value::as_bool) != Some(true)
                && body.get("blanket_impl").is_none_or(Value::is_null);
            if !inherent {
                continue;
            }
            for item in ids(body.get("items")) {
                if self.is_public(&item) {
                    member(self, &item, "associated");
                }
            }
        }
    }
}

fn public_surface(json: &Value) -> BTreeSet<String> {
    let index = json
        .get("index")
        .and_then(Value::as_object)
        .expect("an index");
    let root = json.get("root").and_then(key).expect("a root");
    let mut surface = Surface {
        index,
        paths: BTreeMap::new(),
        lines: BTreeSet::new(),
    };
    surface.visit(&root, "hf_deploy_core", 0);
    surface.list()
}

#[test]
fn the_public_surface_is_pinned() {
    let surface = public_surface(&rustdoc_json());
    assert!(
        surface.contains("hf_deploy_core::deploy (function)")
            && surface.contains("hf_deploy_core::inputs::resolve (function)"),
        "the walk found the entry points: {surface:#?}"
    );
    let items = surface.iter().filter(|line| {
        !(line.ends_with("(variant)")
            || line.ends_with("(field)")
            || line.ends_with("(associated)")
            || line.ends_with("(trait item)"))
    });
    let text = format!(
        "{} public paths, {} of them items\n\n{}\n",
        surface.len(),
        items.count(),
        surface.iter().cloned().collect::<Vec<_>>().join("\n")
    );
    insta::assert_snapshot!("public_surface", text);
}
