//! What the process runner understands of a Space's Dockerfile (its environment, command,
//! working directory and requirements) and how it points the command at a local port.

/// What the emulator understands of a Dockerfile.
#[derive(Debug, Default)]
pub(super) struct Dockerfile {
    /// `ENV` pairs, in order.
    pub env: Vec<(String, String)>,
    /// `CMD`, exec form or `sh -c` of the shell form.
    pub cmd: Option<Vec<String>>,
    /// `ENTRYPOINT`, exec form or `sh -c` of the shell form.
    pub entrypoint: Option<Vec<String>>,
    /// The directory a `COPY dir/ .` copies: the app's working directory.
    pub copy_dir: Option<String>,
    /// The file of `RUN pip install -r FILE`.
    pub requirements: Option<String>,
}

/// Reads `ENV`, `CMD`, `ENTRYPOINT`, `COPY dir/ .` and `RUN pip install -r FILE`; the rest is ignored.
pub(super) fn parse_dockerfile(text: &str) -> Dockerfile {
    let mut df = Dockerfile::default();
    let mut logical = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim();
        if cur.is_empty() && (t.starts_with('#') || t.is_empty()) {
            continue;
        }
        if let Some(s) = t.strip_suffix('\\') {
            cur.push_str(s);
            cur.push(' ');
        } else {
            cur.push_str(t);
            logical.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        logical.push(cur);
    }
    let exec_or_shell = |rest: &str| -> Vec<String> {
        serde_json::from_str::<Vec<String>>(rest.trim())
            .unwrap_or_else(|_| vec!["sh".to_owned(), "-c".to_owned(), rest.trim().to_owned()])
    };
    let req_re = regex::Regex::new(r"-r\s+(\S+)").ok();
    for l in logical {
        let (instr, rest) = l
            .split_once(char::is_whitespace)
            .unwrap_or((l.as_str(), ""));
        match instr.to_ascii_uppercase().as_str() {
            "ENV" => {
                let rest = rest.trim();
                if rest.contains('=') {
                    for part in split_words(rest) {
                        if let Some((k, v)) = part.split_once('=') {
                            df.env.push((k.to_owned(), v.to_owned()));
                        }
                    }
                } else if let Some((k, v)) = rest.split_once(char::is_whitespace) {
                    df.env.push((k.to_owned(), v.trim().to_owned()));
                }
            }
            "CMD" => df.cmd = Some(exec_or_shell(rest)),
            "ENTRYPOINT" => df.entrypoint = Some(exec_or_shell(rest)),
            "COPY" | "ADD" => {
                let words: Vec<String> = split_words(rest)
                    .into_iter()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                if rest.contains("--from") || words.len() != 2 {
                    continue;
                }
                let src = words[0].trim_start_matches("./").trim_end_matches('/');
                if !src.is_empty() && src != "." && !src.contains('*') && !src.contains('.') {
                    df.copy_dir = Some(src.to_owned());
                }
            }
            "RUN" if rest.contains("pip") => {
                if let Some(c) = req_re.as_ref().and_then(|r| r.captures(rest)) {
                    df.requirements = Some(c[1].to_owned());
                }
            }
            _ => {}
        }
    }
    df
}

fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    for c in s.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            (_, c) => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "::1" | "[::1]")
}

/// Points the command at local ports instead of the container's: the `app_port` (where the Hub
/// routes traffic) becomes `routed`, any other port becomes `unrouted` (the app runs, nothing reaches
/// it, like on the Hub). Forms: `--port N`, `--port=N`, `-p N`, a bare `N` (`python -m http.server
/// 7860`), `HOST:N` (gunicorn `--bind`), and inside `sh -c` strings. A loopback `--host` (or bind
/// address) is unreachable from outside a container: everything goes to `unrouted` then.
/// Returns what is wrong with the command (empty when the Hub could reach the app).
pub(super) fn rewrite_port(
    argv: &mut [String],
    app_port: u64,
    routed: u16,
    unrouted: u16,
) -> Vec<String> {
    let app = app_port.to_string();
    let mut problems = Vec::new();
    let mut loopback = None;
    let wrong_port = |n: &str, problems: &mut Vec<String>| {
        if n == app {
            routed.to_string()
        } else {
            problems.push(format!(
                "the app is told to listen on port {n} but the README's app_port is {app_port}: \
                 the Space routes traffic to port {app_port} only"
            ));
            unrouted.to_string()
        }
    };
    let mut i = 0;
    while i < argv.len() {
        let a = argv[i].clone();
        if (a == "--port" || a == "-p") && i + 1 < argv.len() {
            argv[i + 1] = wrong_port(&argv[i + 1].clone(), &mut problems);
            i += 1;
        } else if let Some(n) = a.strip_prefix("--port=") {
            argv[i] = format!("--port={}", wrong_port(n, &mut problems));
        } else if (a == "--host" || a == "-h") && i + 1 < argv.len() {
            if is_loopback(&argv[i + 1]) {
                loopback = Some(argv[i + 1].clone());
            }
            argv[i + 1] = "127.0.0.1".to_owned();
            i += 1;
        } else if a == app {
            argv[i] = routed.to_string();
        } else if let Some((host, n)) = a.rsplit_once(':').filter(|(h, n)| {
            !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && !h.contains('/')
                && !h.contains(' ')
        }) {
            if is_loopback(host) {
                loopback = Some(host.to_owned());
            }
            argv[i] = format!("127.0.0.1:{}", wrong_port(n, &mut problems));
        } else if i >= 1 && argv[i - 1] == "-c" {
            if let Some(h) = ["127.0.0.1", "localhost"].iter().find(|h| {
                a.contains(&format!("--host {h}"))
                    || a.contains(&format!("--host={h}"))
                    || a.contains(&format!("{h}:{app}"))
            }) {
                loopback = Some((*h).to_owned());
            }
            argv[i] = a
                .replace(&format!("--port {app}"), &format!("--port {routed}"))
                .replace(&format!("--port={app}"), &format!("--port={routed}"))
                .replace(&format!("0.0.0.0:{app}"), &format!("127.0.0.1:{routed}"))
                .replace(&format!(":-{app}}}"), &format!(":-{routed}}}"))
                .replace(&format!(" {app} "), &format!(" {routed} "))
                .replace("--host 0.0.0.0", "--host 127.0.0.1");
            if argv[i].ends_with(&format!(" {app}")) {
                let cut = argv[i].len() - app.len();
                argv[i] = format!("{}{routed}", &argv[i][..cut]);
            }
        }
        i += 1;
    }
    if let Some(h) = loopback {
        problems.push(format!(
            "the app listens on {h}, which is unreachable from outside the container: \
             listen on 0.0.0.0 (e.g. `--host 0.0.0.0`)"
        ));
        for a in argv.iter_mut() {
            *a = a.replace(&routed.to_string(), &unrouted.to_string());
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn port_is_rewritten() {
        let mut a = argv(&["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "7860"]);
        assert!(rewrite_port(&mut a, 7860, 5000, 6000).is_empty());
        assert_eq!(
            a,
            argv(&[
                "uvicorn",
                "main:app",
                "--host",
                "127.0.0.1",
                "--port",
                "5000"
            ])
        );
        let mut b = argv(&["python", "-m", "http.server", "7860"]);
        assert!(rewrite_port(&mut b, 7860, 5000, 6000).is_empty());
        assert_eq!(b[3], "5000");
        let mut c = argv(&["gunicorn", "--bind", "0.0.0.0:7860", "app:app"]);
        assert!(rewrite_port(&mut c, 7860, 5000, 6000).is_empty());
        assert_eq!(c[2], "127.0.0.1:5000");
        assert_eq!(c[3], "app:app");
        let mut d = argv(&["sh", "-c", "uvicorn main:app --port ${PORT:-7860}"]);
        assert!(rewrite_port(&mut d, 7860, 5000, 6000).is_empty());
        assert_eq!(d[2], "uvicorn main:app --port ${PORT:-5000}");
    }

    #[test]
    fn unreachable_commands_are_reported() {
        let mut a = argv(&["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]);
        let p = rewrite_port(&mut a, 7860, 5000, 6000);
        assert_eq!(a[5], "6000");
        assert!(
            p[0].contains("port 8000") && p[0].contains("app_port is 7860"),
            "{p:?}"
        );
        let mut b = argv(&[
            "uvicorn",
            "main:app",
            "--host",
            "127.0.0.1",
            "--port",
            "7860",
        ]);
        let p = rewrite_port(&mut b, 7860, 5000, 6000);
        assert_eq!(b[5], "6000");
        assert!(p[0].contains("unreachable"), "{p:?}");
    }

    #[test]
    fn dockerfile_is_understood() {
        let df = parse_dockerfile(
            "FROM python:3.12\nENV A=1 B=\"two words\"\nENV C 3\nWORKDIR /app\nCOPY backend/ .\n\
             RUN pip install --no-cache-dir \\\n  -r requirements.txt\nCMD [\"uvicorn\", \"main:app\", \"--port\", \"7860\"]\n",
        );
        assert_eq!(
            df.env,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "3".into())
            ]
        );
        assert_eq!(
            df.cmd.unwrap(),
            vec!["uvicorn", "main:app", "--port", "7860"]
        );
        assert_eq!(df.copy_dir.as_deref(), Some("backend"));
        assert_eq!(df.requirements.as_deref(), Some("requirements.txt"));
    }
}
