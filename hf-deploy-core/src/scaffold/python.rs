//! What we read from the Python source: the app, its version, routes and settings.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use crate::content::FileContent;
use crate::error::{Error, Result};

use super::validate::parse_app;
use super::{DEFAULT_PYTHON_VERSION, Endpoint};
use crate::field::{Field, Phrase};

/// The ASGI app the Space runs.
pub(super) struct App {
    pub(super) module: String,
    pub(super) attr: String,
    /// Its file, relative to the source.
    pub(super) file: String,
    /// The top-level package folder (`app` for `app.main`), when the module is in one.
    pub(super) package: Option<String>,
}

/// Module candidates tried, in order, when no app is given.
const APP_CANDIDATES: [&str; 4] = ["app.main:app", "main:app", "app.app:app", "src.main:app"];

/// The file that holds `module` (`a.b` -> `a/b.py` or `a/b/__init__.py`), if any.
fn module_file(files: &BTreeMap<String, FileContent>, module: &str) -> Option<String> {
    let base = module.replace('.', "/");
    [format!("{base}.py"), format!("{base}/__init__.py")]
        .into_iter()
        .find(|p| files.contains_key(p))
}

/// Does `text` define `attr` at the top level (assignment, def, class or import)?
pub(super) fn defines_attr(text: &str, attr: &str) -> bool {
    let attr = regex::escape(attr);
    let patterns = [
        format!(r"(?m)^{attr}\s*(?::[^=\n]*)?=[^=]"),
        format!(r"(?m)^(?:async\s+)?def\s+{attr}\s*\("),
        format!(r"(?m)^class\s+{attr}\b"),
        format!(r"(?m)^from\s+\S+\s+import\s+[^\n]*\b{attr}\b"),
        format!(r"(?m)^import\s+[^\n]*\bas\s+{attr}\b"),
    ];
    patterns
        .iter()
        .any(|p| Regex::new(p).is_ok_and(|re| re.is_match(text)))
}

/// Resolve the app from the given `MODULE:ATTR` or by looking at the usual places.
pub(super) fn resolve_app(
    source: &Path,
    files: &BTreeMap<String, FileContent>,
    app: Option<&str>,
) -> Result<App> {
    let build = |module: String, attr: String, file: String| {
        let package = module.split_once('.').map(|(top, _)| top.to_string());
        App {
            module,
            attr,
            file,
            package,
        }
    };
    if let Some(spec) = app {
        let (module, attr) = parse_app(spec)?;
        let Some(file) = module_file(files, &module) else {
            let base = module.replace('.', "/");
            return Err(Error::invalid_input_hint(
                Field::App,
                format!(
                    "module `{module}` has no file in the backend folder (looked for `{base}.py` and `{base}/__init__.py`; excluded files do not count)"
                ),
                "give the module as a dotted path relative to SOURCE, e.g. `app.main:app`",
            ));
        };
        let text = files[&file].text()?;
        if !defines_attr(&text, &attr) {
            return Err(Error::invalid_input_hint(
                Field::App,
                format!("`{file}` does not define `{attr}` at the top level"),
                Phrase::new(format!(
                    "define the ASGI app in `{file}` (`{attr} = FastAPI()`) or point "
                ))
                .field(Field::App)
                .text(" at the module that does"),
            ));
        }
        return Ok(build(module, attr, file));
    }
    for candidate in APP_CANDIDATES {
        let Some((module, attr)) = candidate.split_once(':') else {
            continue;
        };
        if let Some(file) = module_file(files, module) {
            if defines_attr(&files[&file].text()?, attr) {
                return Ok(build(module.into(), attr.into(), file));
            }
        }
    }
    Err(Error::InvalidSource {
        path: source.to_path_buf(),
        reason: "found no FastAPI app: none of `app/main.py`, `main.py`, `app/app.py`, `src/main.py` defines `app`".into(),
        hint: Some(
            Phrase::new("name the app with ")
                .field(Field::App)
                .text(" as `MODULE:ATTR`, e.g. `app.server:api`"),
        ),
    })
}

/// PEP 263's encoding declaration, on the first or second line of a Python file.
static CODING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[ \t\x0c]*#.*?coding[:=][ \t]*([-_.a-zA-Z0-9]+)").expect("static regex compiles")
});

/// The app's module must be text Python can import: UTF-8, unless its first two lines declare
/// another encoding (PEP 263). Anything else is a bad source naming the file and the line.
pub(super) fn check_app_text(
    source: &Path,
    files: &BTreeMap<String, FileContent>,
    app: &App,
) -> Result<()> {
    let bytes = files[&app.file].read()?;
    let Err(error) = std::str::from_utf8(&bytes) else {
        return Ok(());
    };
    let declared = bytes
        .split(|b| *b == b'\n')
        .take(2)
        .any(|line| CODING.is_match(&String::from_utf8_lossy(line)));
    if declared {
        return Ok(());
    }
    let at = error.valid_up_to();
    let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
    Err(Error::InvalidSource {
        path: source.to_path_buf(),
        reason: format!(
            "the app module `{}` is not UTF-8 text (line {line}) and declares no other encoding: Python cannot import it",
            app.file
        ),
        hint: Some(
            "save it as UTF-8, or declare its encoding on its first line (`# -*- coding: latin-1 -*-`)"
                .into(),
        ),
    })
}

static VERSION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d+)\.(\d+)").expect("static regex compiles"));
static REQUIRES_PYTHON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^\s*requires-python\s*=\s*["']([^"']*)["']"#).expect("static regex compiles")
});

/// `major.minor` from `.python-version`, `runtime.txt` or `pyproject.toml`, else the default.
pub(super) fn python_version(
    source: &Path,
    files: &BTreeMap<String, FileContent>,
) -> Result<(String, String)> {
    let check = |file: &str, text: &str| -> Result<String> {
        let found = VERSION.captures(text).and_then(|c| {
            let major: u32 = c[1].parse().ok()?;
            let minor: u32 = c[2].parse().ok()?;
            Some((major, minor))
        });
        match found {
            Some((3, minor)) if (8..=99).contains(&minor) => Ok(format!("3.{minor}")),
            _ => Err(Error::InvalidSource {
                path: source.to_path_buf(),
                reason: format!(
                    "`{file}` does not name a Python 3.8+ version (found {:?})",
                    text.trim()
                ),
                hint: Some(format!("write a version like `3.11` in `{file}`").into()),
            }),
        }
    };
    if let Some(content) = files.get(".python-version") {
        let text = content.text()?;
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or("");
        return Ok((check(".python-version", line)?, ".python-version".into()));
    }
    if let Some(content) = files.get("runtime.txt") {
        let text = content.text()?;
        return Ok((check("runtime.txt", text.trim())?, "runtime.txt".into()));
    }
    if let Some(content) = files.get("pyproject.toml") {
        let text = content.text()?;
        if let Some(c) = REQUIRES_PYTHON.captures(&text) {
            // The lowest version the project accepts: the first bound that is not an upper one.
            let spec = c[1].to_string();
            let lower = spec
                .split(',')
                .map(str::trim)
                .find(|p| !p.starts_with('<') && !p.starts_with("!="))
                .unwrap_or(&spec)
                .to_string();
            return Ok((check("pyproject.toml", &lower)?, "pyproject.toml".into()));
        }
    }
    Ok((DEFAULT_PYTHON_VERSION.into(), "default".into()))
}

/// `__init__.py` files to create: in every folder of the app package that holds Python files,
/// and in the folders between it and the package root, when missing.
pub(super) fn missing_inits(files: &BTreeMap<String, FileContent>, app: &App) -> Vec<String> {
    let Some(package) = &app.package else {
        return Vec::new();
    };
    let prefix = format!("{package}/");
    let mut folders = BTreeSet::new();
    for path in files.keys() {
        if !path.starts_with(&prefix) || !path.ends_with(".py") {
            continue;
        }
        let mut folder = path.rsplit_once('/').map(|(f, _)| f.to_string());
        while let Some(current) = folder {
            if !current.starts_with(package.as_str()) {
                break;
            }
            folder = current.rsplit_once('/').map(|(f, _)| f.to_string());
            folders.insert(current);
        }
    }
    folders
        .into_iter()
        .filter(|folder| folder.split('/').all(super::validate::is_identifier))
        .map(|folder| format!("{folder}/__init__.py"))
        .filter(|init| !files.contains_key(init))
        .collect()
}

/// A relative path as written in a requirements file, as a key of the file map.
pub(super) fn normalize_rel(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    if path.contains("://") || parts.is_empty() {
        None
    } else {
        Some(parts.join("/"))
    }
}

/// The Python files of the app (its package, or its single module), as text.
///
/// # Errors
///
/// [`Error::Io`] when one of them cannot be read.
pub(super) fn python_sources(
    files: &BTreeMap<String, FileContent>,
    app: &App,
) -> Result<Vec<(String, String)>> {
    files
        .iter()
        .filter(|(path, _)| match &app.package {
            Some(package) => path.starts_with(&format!("{package}/")) && path.ends_with(".py"),
            None => path.ends_with(".py") && !path.contains('/') || **path == app.file,
        })
        .map(|(path, content)| Ok((path.clone(), content.text()?)))
        .collect()
}

/// Does `text` mention `name` as a whole word?
pub(super) fn mentions(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !word(before) && !word(after)
    })
}

static ENV_READ: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?:\b(?:getenv|environ\.get|environ\.setdefault|\w*env)\(\s*|\benviron\[\s*)["']([A-Z][A-Z0-9_]*)["']"#,
    )
    .expect("static regex compiles")
});

/// Environment variable names the source reads (`os.getenv("X")`, `os.environ["X"]`,
/// helper calls like `_env("X")`), sorted.
pub(super) fn scan_env_names(sources: &[(String, String)]) -> Vec<String> {
    let mut names = BTreeSet::new();
    for (_, text) in sources {
        for c in ENV_READ.captures_iter(text) {
            names.insert(c[1].to_string());
        }
    }
    names.into_iter().collect()
}

static APP_VAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*(\w+)\s*(?::[^=\n]*)?=\s*(?:fastapi\.)?FastAPI\(")
        .expect("static regex compiles")
});
static ROUTER_VAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*(\w+)\s*(?::[^=\n]*)?=\s*(?:fastapi\.)?APIRouter\(([^)]*)\)")
        .expect("static regex compiles")
});
static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\bprefix\s*=\s*["']([^"']*)["']"#).expect("static regex compiles")
});
static ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?m)^[ \t]*@(\w+)\.(get|post|put|patch|delete|options|head|websocket|api_route)\(\s*(?:path\s*=\s*)?["']([^"']*)["']([^\n]*)"#,
    )
    .expect("static regex compiles")
});
static INCLUDE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\w+)\.include_router\(\s*([\w.]+)\s*([^()]*(?:\([^()]*\)[^()]*)*)\)")
        .expect("static regex compiles")
});
static FROM_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*from\s+(\.*[\w.]*)\s+import\s+(?:\(([^)]*)\)|([^(\n]+))")
        .expect("static regex compiles")
});
static METHODS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"methods\s*=\s*\[([^\]]*)\]"#).expect("static regex compiles"));

/// A router or app variable: (file, variable name).
type Var = (String, String);

/// Module name of a file (`app/api/health.py` -> `app.api.health`).
fn module_of(file: &str) -> String {
    let stem = file
        .strip_suffix("/__init__.py")
        .or_else(|| file.strip_suffix(".py"))
        .unwrap_or(file);
    stem.replace('/', ".")
}

/// Resolve `from <module> import ...` in `file` to an absolute module name.
fn absolute_module(file: &str, module: &str) -> String {
    let dots = module.chars().take_while(|c| *c == '.').count();
    if dots == 0 {
        return module.to_string();
    }
    let own = module_of(file);
    let mut parts: Vec<&str> = own.split('.').collect();
    if !file.ends_with("__init__.py") {
        parts.pop();
    }
    for _ in 1..dots {
        parts.pop();
    }
    let rest = &module[dots..];
    if !rest.is_empty() {
        parts.extend(rest.split('.'));
    }
    parts.join(".")
}

/// Routes declared in `sources`, with the prefixes of the routers they hang on (best effort:
/// decorators `@router.get("/x")`, `APIRouter(prefix=...)`, `include_router(..., prefix=...)`).
pub(super) fn scan_endpoints(sources: &[(String, String)]) -> Vec<Endpoint> {
    let by_module: HashMap<String, &str> = sources
        .iter()
        .map(|(file, _)| (module_of(file), file.as_str()))
        .collect();
    let mut graph = RouterGraph::default();
    for (file, text) in sources {
        graph.read(file, text, &by_module);
    }
    graph.propagate();
    graph.routes(sources)
}

/// The apps and routers of the source, and which router is included in which, with what
/// prefix.
#[derive(Default)]
struct RouterGraph {
    /// A router's own `prefix=`.
    own_prefix: HashMap<Var, String>,
    /// Where each app or router is mounted: an app at `""`, a router at its parents' mounts.
    mounts: HashMap<Var, BTreeSet<String>>,
    /// (parent, child, prefix) of each `include_router`.
    edges: Vec<(Var, Var, String)>,
}

impl RouterGraph {
    /// The apps, routers and includes of one file.
    fn read(&mut self, file: &str, text: &str, by_module: &HashMap<String, &str>) {
        for c in APP_VAR.captures_iter(text) {
            self.mounts
                .entry((file.to_string(), c[1].to_string()))
                .or_default()
                .insert(String::new());
        }
        for c in ROUTER_VAR.captures_iter(text) {
            let prefix = PREFIX
                .captures(&c[2])
                .map(|p| p[1].to_string())
                .unwrap_or_default();
            self.own_prefix
                .insert((file.to_string(), c[1].to_string()), prefix);
        }
        let imports = imports_of(file, text, by_module);
        for c in INCLUDE.captures_iter(text) {
            let parent = (file.to_string(), c[1].to_string());
            let prefix = PREFIX
                .captures(&c[3])
                .map(|p| p[1].to_string())
                .unwrap_or_default();
            if let Some(child) = include_target(file, &c[2], &imports, by_module) {
                self.edges.push((parent, child, prefix));
            }
        }
    }

    /// Propagate mount points along include edges until nothing changes.
    fn propagate(&mut self) {
        for _ in 0..16 {
            let mut changed = false;
            for (parent, child, prefix) in &self.edges {
                let Some(parent_mounts) = self.mounts.get(parent).cloned() else {
                    continue;
                };
                let child_prefix = self.own_prefix.get(child).cloned().unwrap_or_default();
                let entry = self.mounts.entry(child.clone()).or_default();
                for mount in parent_mounts {
                    changed |= entry.insert(format!("{mount}{prefix}{child_prefix}"));
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// Every route decorator on a mounted app or router, at each of its mounts.
    fn routes(&self, sources: &[(String, String)]) -> Vec<Endpoint> {
        let mut endpoints = BTreeSet::new();
        for (file, text) in sources {
            for c in ROUTE.captures_iter(text) {
                let var = (file.clone(), c[1].to_string());
                let Some(var_mounts) = self.mounts.get(&var) else {
                    continue;
                };
                let methods = route_methods(&c[2], &c[4]);
                for mount in var_mounts {
                    let path = format!("{mount}{}", &c[3]);
                    let path = if path.is_empty() {
                        "/".to_string()
                    } else {
                        path
                    };
                    for method in &methods {
                        endpoints.insert(Endpoint {
                            path: path.clone(),
                            method: method.clone(),
                        });
                    }
                }
            }
        }
        endpoints.into_iter().collect()
    }
}

/// The `from ... import ...` of a file: alias -> (module, attribute, or `None` for a module).
fn imports_of(
    file: &str,
    text: &str,
    by_module: &HashMap<String, &str>,
) -> HashMap<String, (String, Option<String>)> {
    let mut imports = HashMap::new();
    for c in FROM_IMPORT.captures_iter(text) {
        let module = absolute_module(file, &c[1]);
        let names = c.get(2).or_else(|| c.get(3)).map_or("", |m| m.as_str());
        for item in names.split([',', '\n']) {
            let item = item.split('#').next().unwrap_or("").trim();
            if item.is_empty() {
                continue;
            }
            let (name, alias) = match item.split_once(" as ") {
                Some((n, a)) => (n.trim(), a.trim()),
                None => (item, item),
            };
            let submodule = if module.is_empty() {
                name.to_string()
            } else {
                format!("{module}.{name}")
            };
            if by_module.contains_key(&submodule) {
                imports.insert(alias.to_string(), (submodule, None));
            } else {
                imports.insert(alias.to_string(), (module.clone(), Some(name.to_string())));
            }
        }
    }
    imports
}

/// The router an `include_router(target, ...)` in `file` names, when it is in the source.
fn include_target(
    file: &str,
    target: &str,
    imports: &HashMap<String, (String, Option<String>)>,
    by_module: &HashMap<String, &str>,
) -> Option<Var> {
    match target.rsplit_once('.') {
        Some((alias, attr)) => match imports.get(alias) {
            Some((module, None)) => by_module
                .get(module)
                .map(|f| (f.to_string(), attr.to_string())),
            _ => None,
        },
        None => match imports.get(target) {
            Some((module, Some(attr))) => {
                by_module.get(module).map(|f| (f.to_string(), attr.clone()))
            }
            Some((_, None)) => None,
            None => Some((file.to_string(), target.to_string())),
        },
    }
}

/// The methods of a route decorator: its own, or `methods=[...]` of an `api_route`.
fn route_methods(kind: &str, rest: &str) -> Vec<String> {
    match kind {
        "api_route" => METHODS
            .captures(rest)
            .map(|m| {
                m[1].split(',')
                    .map(|s| s.trim().trim_matches(['"', '\'']).to_ascii_uppercase())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_else(|| vec!["GET".into()]),
        method => vec![method.to_ascii_uppercase()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> BTreeMap<String, FileContent> {
        list.iter()
            .map(|(p, t)| ((*p).to_string(), FileContent::from(*t)))
            .collect()
    }

    #[test]
    fn attr_definitions() {
        assert!(defines_attr(
            "from fastapi import FastAPI\napp = FastAPI()\n",
            "app"
        ));
        assert!(defines_attr("app: FastAPI = create()\n", "app"));
        assert!(defines_attr("from .factory import app\n", "app"));
        assert!(!defines_attr("def f():\n    app = FastAPI()\n", "app"));
        assert!(!defines_attr("application = FastAPI()\n", "app"));
        assert!(!defines_attr("app == 3\n", "app"));
    }

    #[test]
    fn python_version_sources() {
        let src = Path::new("/src");
        let v = |list: &[(&str, &str)]| python_version(src, &files(list));
        assert_eq!(
            v(&[(".python-version", "3.12.4\n")]).unwrap(),
            ("3.12".into(), ".python-version".into())
        );
        assert_eq!(
            v(&[("runtime.txt", "python-3.10.9\n")]).unwrap(),
            ("3.10".into(), "runtime.txt".into())
        );
        assert_eq!(
            v(&[(
                "pyproject.toml",
                "[project]\nrequires-python = \">=3.9,<4\"\n"
            )])
            .unwrap(),
            ("3.9".into(), "pyproject.toml".into())
        );
        assert_eq!(v(&[]).unwrap(), ("3.11".into(), "default".into()));
        let err = v(&[(".python-version", "2.7\n")]).unwrap_err().to_string();
        assert!(err.contains(".python-version"), "{err}");
    }

    #[test]
    fn inits_are_created_in_package_folders_with_python_files() {
        let f = files(&[
            ("app/__init__.py", ""),
            ("app/main.py", "app = FastAPI()"),
            ("app/api/health.py", ""),
            ("app/deep/er/x.py", ""),
            ("app/static/logo.png", ""),
            ("app/has-dash/x.py", ""),
            ("other/y.py", ""),
        ]);
        let app = App {
            module: "app.main".into(),
            attr: "app".into(),
            file: "app/main.py".into(),
            package: Some("app".into()),
        };
        assert_eq!(
            missing_inits(&f, &app),
            [
                "app/api/__init__.py",
                "app/deep/__init__.py",
                "app/deep/er/__init__.py"
            ]
        );
    }

    #[test]
    fn endpoints_follow_router_prefixes() {
        let sources = vec![
            (
                "app/main.py".to_string(),
                "from fastapi import FastAPI\nfrom app.api import chat, health\nfrom .api.admin import router as admin_router\n\ndef create():\n    application = FastAPI()\n    application.include_router(health.router, prefix=\"/api\")\n    application.include_router(chat.router, prefix=\"/api\", tags=[\"chat\"])\n    application.include_router(admin_router)\n\n    @application.get(\"/\", tags=[\"meta\"])\n    async def root():\n        return {}\n    return application\n\napp = create()\n".to_string(),
            ),
            ("app/api/health.py".to_string(), "router = APIRouter(tags=[\"health\"])\n\n@router.get(\"/health\")\nasync def health(): ...\n".to_string()),
            ("app/api/chat.py".to_string(), "router = APIRouter()\n\n@router.post(\n    \"/chat\",\n    response_model=X,\n)\nasync def chat(): ...\n@router.api_route(\"/chat/stream\", methods=[\"GET\", \"POST\"])\nasync def s(): ...\n".to_string()),
            ("app/api/admin.py".to_string(), "router = APIRouter(prefix=\"/admin\")\n@router.delete(\"/cache\")\ndef d(): ...\n".to_string()),
            ("app/api/unused.py".to_string(), "router = APIRouter()\n@router.get(\"/never\")\ndef n(): ...\n".to_string()),
        ];
        let found: Vec<(String, String)> = scan_endpoints(&sources)
            .into_iter()
            .map(|e| (e.method, e.path))
            .collect();
        let expected: Vec<(String, String)> = [
            ("GET", "/"),
            ("DELETE", "/admin/cache"),
            ("POST", "/api/chat"),
            ("GET", "/api/chat/stream"),
            ("POST", "/api/chat/stream"),
            ("GET", "/api/health"),
        ]
        .iter()
        .map(|(m, p)| ((*m).to_string(), (*p).to_string()))
        .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn env_names_and_mentions() {
        let sources = vec![(
            "app/core/config.py".to_string(),
            "x = os.environ.get(\"ALLOWED_ORIGINS\")\ny = _env(\"GEMINI_API_KEY\")\nz = os.getenv('LOG_LEVEL', 'info')\nw = os.environ[\"DATABASE_URL\"]\nq = _float_env(\"HEALTH_CHECK_TIMEOUT\", 3.0)\n".to_string(),
        )];
        assert_eq!(
            scan_env_names(&sources),
            [
                "ALLOWED_ORIGINS",
                "DATABASE_URL",
                "GEMINI_API_KEY",
                "HEALTH_CHECK_TIMEOUT",
                "LOG_LEVEL"
            ]
        );
        assert!(mentions("read QDRANT_URL here", "QDRANT_URL"));
        assert!(!mentions("MY_QDRANT_URL_2", "QDRANT_URL"));
    }
}
