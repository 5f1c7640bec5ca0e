//! Checking a Dockerfile against the rules of the Docker Space runtime.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::LintViolation;

/// One instruction, its continuation lines joined.
struct Instruction {
    line: usize,
    keyword: String,
    args: String,
}

fn instructions(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut current: Option<Instruction> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') {
            continue;
        }
        if current.is_none() && trimmed.is_empty() {
            continue;
        }
        let (body, continues) = match line.trim_end().strip_suffix('\\') {
            Some(body) => (body, true),
            None => (line, false),
        };
        match current.as_mut() {
            Some(instruction) => {
                instruction.args.push(' ');
                instruction.args.push_str(body.trim());
            }
            None => {
                let body = body.trim();
                let (keyword, args) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
                current = Some(Instruction {
                    line: index + 1,
                    keyword: keyword.to_ascii_uppercase(),
                    args: args.trim().to_string(),
                });
            }
        }
        if !continues {
            out.extend(current.take());
        }
    }
    out.extend(current);
    out
}

/// Words of a shell-form or exec-form (`["a", "b"]`) argument list.
fn words(args: &str) -> Vec<String> {
    if args.starts_with('[') {
        if let Ok(list) = serde_json::from_str::<Vec<String>>(args) {
            return list;
        }
    }
    args.split_whitespace()
        .map(|w| w.trim_matches(['"', '\'']).to_string())
        .collect()
}

static PORT_FLAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:--port|--bind|-b)(?:=|"?\s*,\s*"|\s+)"?(?:[\w.\[\]:]*:)?(\d+)"#)
        .expect("static regex compiles")
});
static UID_1000: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:useradd|adduser)\b[^&;|]*?(?:-u|--uid)(?:=|\s+)1000\b")
        .expect("static regex compiles")
});

/// User names created by `useradd`/`adduser` with UID 1000 in a `RUN` line.
fn uid_1000_users(args: &str) -> Vec<String> {
    let mut names = Vec::new();
    for command in args.split(['&', ';', '|']) {
        if !UID_1000.is_match(command) {
            continue;
        }
        let tokens: Vec<&str> = command.split_whitespace().collect();
        let Some(start) = tokens
            .iter()
            .position(|t| *t == "useradd" || *t == "adduser")
        else {
            continue;
        };
        let mut i = start + 1;
        let mut last = None;
        while i < tokens.len() {
            let token = tokens[i];
            let takes_value = matches!(
                token,
                "-u" | "--uid"
                    | "-g"
                    | "--gid"
                    | "-G"
                    | "--groups"
                    | "-d"
                    | "--home-dir"
                    | "--home"
                    | "-s"
                    | "--shell"
                    | "-c"
                    | "--comment"
                    | "--gecos"
                    | "-k"
                    | "--skel"
                    | "-K"
                    | "--key"
                    | "-e"
                    | "--expiredate"
                    | "-f"
                    | "--inactive"
                    | "-p"
                    | "--password"
                    | "--ingroup"
            );
            if token.starts_with('-') {
                i += if takes_value { 2 } else { 1 };
                continue;
            }
            last = Some(token.trim_matches(['"', '\'']).to_string());
            i += 1;
        }
        names.extend(last);
    }
    names
}

/// Check a Dockerfile against the Docker Space rules and return every violation:
///
/// * `from`: there is a `FROM`;
/// * `port`: every `EXPOSE` and every `--port`/`--bind` of the final stage equals `app_port`;
/// * `uid-1000`: the final stage creates a user with UID 1000 (`useradd -u 1000`);
/// * `user`: it switches to that user (`USER user` or `USER 1000`) and does not go back to root;
/// * `copy-chown`: every `COPY`/`ADD` after the switch has `--chown`;
/// * `env-file`: no `COPY`/`ADD` in any stage names a `.env*` file;
/// * `cmd`: the final stage (or the earlier stage it is built on) has a `CMD` or `ENTRYPOINT`.
///
/// Only the final stage (from the last `FROM`) is what the Space runs, so only it is held to
/// the runtime rules.
pub(crate) fn lint_dockerfile(text: &str, app_port: u16) -> Vec<LintViolation> {
    let all = instructions(text);
    let mut violations = env_file_copies(&all);
    let Some(last_from) = all.iter().rposition(|i| i.keyword == "FROM") else {
        violations.insert(
            0,
            LintViolation {
                line: None,
                rule: "from",
                message: "there is no `FROM` instruction".into(),
            },
        );
        return violations;
    };
    if !runs_a_command(&all, last_from) {
        violations.push(LintViolation {
            line: Some(all[last_from].line),
            rule: "cmd",
            message: format!(
                "the final stage has no `CMD` and no `ENTRYPOINT`: the base image's own command would run instead of the app; add `CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"{app_port}\"]`"
            ),
        });
    }
    let mut stage = FinalStage {
        app_port,
        users_1000: Vec::new(),
        switched: false,
        last_user: None,
        violations,
    };
    for instruction in &all[last_from..] {
        stage.check(instruction);
    }
    let mut violations = stage.finish();
    violations.sort_by_key(|v| v.line.unwrap_or(usize::MAX));
    violations
}

/// True when the stage starting at `all[from]` has a `CMD` or an `ENTRYPOINT`, itself or
/// through the earlier stage it is built `FROM` (`FROM base AS app` on top of a stage `base`).
/// A stage on an image of elsewhere without either runs that image's command, not the app.
fn runs_a_command(all: &[Instruction], from: usize) -> bool {
    let end = all[from + 1..]
        .iter()
        .position(|i| i.keyword == "FROM")
        .map_or(all.len(), |at| from + 1 + at);
    if all[from + 1..end]
        .iter()
        .any(|i| i.keyword == "CMD" || i.keyword == "ENTRYPOINT")
    {
        return true;
    }
    let base = words(&all[from].args)
        .into_iter()
        .find(|w| !w.starts_with("--"))
        .unwrap_or_default();
    // The latest earlier stage named `base` (stage names ignore case).
    all[..from]
        .iter()
        .rposition(|i| {
            i.keyword == "FROM" && {
                let w = words(&i.args);
                w.len() >= 3
                    && w[w.len() - 2].eq_ignore_ascii_case("AS")
                    && w[w.len() - 1].eq_ignore_ascii_case(&base)
            }
        })
        .is_some_and(|earlier| runs_a_command(all, earlier))
}

/// `env-file`: a `COPY`/`ADD` of any stage that names a `.env*` file.
fn env_file_copies(all: &[Instruction]) -> Vec<LintViolation> {
    let mut violations = Vec::new();
    for instruction in all {
        if instruction.keyword != "COPY" && instruction.keyword != "ADD" {
            continue;
        }
        let mut sources = words(&instruction.args);
        sources.retain(|w| !w.starts_with("--"));
        sources.pop();
        for source in sources {
            let name = source.rsplit('/').next().unwrap_or(&source);
            if name.starts_with(".env") {
                violations.push(LintViolation {
                    line: Some(instruction.line),
                    rule: "env-file",
                    message: format!(
                        "`{} {}` copies `{source}`: `.env*` files may hold secrets and are never part of the Space; set them as Space secrets",
                        instruction.keyword, instruction.args
                    ),
                });
            }
        }
    }
    violations
}

/// The runtime rules of the final stage, checked instruction by instruction.
struct FinalStage<'a> {
    app_port: u16,
    /// Users created with UID 1000 so far.
    users_1000: Vec<String>,
    /// The last `USER` is not root.
    switched: bool,
    last_user: Option<&'a Instruction>,
    violations: Vec<LintViolation>,
}

impl<'a> FinalStage<'a> {
    fn check(&mut self, instruction: &'a Instruction) {
        match instruction.keyword.as_str() {
            "RUN" => self.users_1000.extend(uid_1000_users(&instruction.args)),
            "USER" => self.user(instruction),
            "EXPOSE" => self.expose(instruction),
            "CMD" | "ENTRYPOINT" => self.command(instruction),
            "COPY" | "ADD"
                if self.switched
                    && !words(&instruction.args)
                        .iter()
                        .any(|w| w.starts_with("--chown")) =>
            {
                self.violations.push(LintViolation {
                    line: Some(instruction.line),
                    rule: "copy-chown",
                    message: format!(
                        "`{} {}` runs after `USER` without `--chown=user`: the files stay owned by root and the app cannot write them",
                        instruction.keyword, instruction.args
                    ),
                });
            }
            _ => {}
        }
    }

    /// `USER`: to root, or to the UID 1000 user.
    fn user(&mut self, instruction: &'a Instruction) {
        let user = instruction
            .args
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        self.last_user = Some(instruction);
        if user == "root" || user == "0" {
            self.switched = false;
            return;
        }
        if user != "1000" && !self.users_1000.is_empty() && !self.users_1000.contains(&user) {
            self.violations.push(LintViolation {
                line: Some(instruction.line),
                rule: "user",
                message: format!(
                    "`USER {user}` is not the UID 1000 user (`{}`); the Space runs the container as UID 1000",
                    self.users_1000.join("`, `")
                ),
            });
        }
        self.switched = true;
    }

    /// `EXPOSE`: every port is the app port.
    fn expose(&mut self, instruction: &Instruction) {
        let app_port = self.app_port;
        for port in instruction.args.split_whitespace() {
            let number = port.split('/').next().unwrap_or(port);
            if number.parse::<u16>() != Ok(app_port) {
                self.violations.push(LintViolation {
                    line: Some(instruction.line),
                    rule: "port",
                    message: format!(
                        "`EXPOSE {port}` but the Space routes to app_port {app_port}; expose {app_port} (or set the app port to {number})"
                    ),
                });
            }
        }
    }

    /// `CMD`/`ENTRYPOINT`: every `--port`/`--bind` is the app port.
    fn command(&mut self, instruction: &Instruction) {
        let app_port = self.app_port;
        for captures in PORT_FLAG.captures_iter(&instruction.args) {
            let number = &captures[1];
            if number.parse::<u16>() != Ok(app_port) {
                self.violations.push(LintViolation {
                    line: Some(instruction.line),
                    rule: "port",
                    message: format!(
                        "the app listens on port {number} but the Space routes to app_port {app_port}"
                    ),
                });
            }
        }
    }

    /// The rules of the whole stage: a UID 1000 user, and the image does not end as root.
    fn finish(mut self) -> Vec<LintViolation> {
        if self.users_1000.is_empty() {
            self.violations.push(LintViolation {
                line: None,
                rule: "uid-1000",
                message:
                    "the final stage creates no user with UID 1000; add `RUN useradd -m -u 1000 user`"
                        .into(),
            });
        }
        match self.last_user {
            None => self.violations.push(LintViolation {
                line: None,
                rule: "user",
                message: "the image runs as root; add `USER user` after creating the UID 1000 user"
                    .into(),
            }),
            Some(instruction) if !self.switched => self.violations.push(LintViolation {
                line: Some(instruction.line),
                rule: "user",
                message: "the last `USER` is root; the Space runs the app as UID 1000".into(),
            }),
            Some(_) => {}
        }
        self.violations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "FROM python:3.11-slim\nRUN useradd -m -u 1000 user\nUSER user\nENV HOME=/home/user\nWORKDIR $HOME/app\nCOPY --chown=user requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY --chown=user . .\nEXPOSE 7860\nCMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\"]\n";

    fn rules(text: &str, port: u16) -> Vec<(Option<usize>, &'static str)> {
        lint_dockerfile(text, port)
            .into_iter()
            .map(|v| (v.line, v.rule))
            .collect()
    }

    #[test]
    fn a_space_dockerfile_passes() {
        assert_eq!(rules(GOOD, 7860), []);
    }

    #[test]
    fn port_mismatch_in_expose_and_cmd_is_reported_with_lines() {
        assert_eq!(rules(GOOD, 8000), [(Some(9), "port"), (Some(10), "port")]);
        let shell = GOOD.replace(
            "CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\"]",
            "CMD uvicorn app.main:app --host 0.0.0.0 --port=8000",
        );
        assert_eq!(rules(&shell, 7860), [(Some(10), "port")]);
        let gunicorn = GOOD.replace(
            "CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\"]",
            "CMD gunicorn -k uvicorn.workers.UvicornWorker --bind 0.0.0.0:8080 app.main:app",
        );
        assert_eq!(rules(&gunicorn, 7860), [(Some(10), "port")]);
    }

    #[test]
    fn root_images_are_reported() {
        let text = "FROM python:3.11\nWORKDIR /app\nCOPY . .\nCMD [\"uvicorn\", \"main:app\", \"--port\", \"7860\"]\n";
        assert_eq!(rules(text, 7860), [(None, "uid-1000"), (None, "user")]);
        let back_to_root = GOOD.replace("EXPOSE 7860", "USER root\nEXPOSE 7860");
        assert_eq!(rules(&back_to_root, 7860), [(Some(9), "user")]);
        let wrong_uid = GOOD.replace("-u 1000", "-u 1001");
        assert_eq!(rules(&wrong_uid, 7860), [(None, "uid-1000")]);
    }

    #[test]
    fn copy_without_chown_after_user_is_reported() {
        let text = GOOD.replace("COPY --chown=user . .", "COPY . .").replace(
            "COPY --chown=user requirements.txt ./",
            "ADD requirements.txt \\\n    ./",
        );
        assert_eq!(
            rules(&text, 7860),
            [(Some(6), "copy-chown"), (Some(9), "copy-chown")]
        );
        // Before the switch, root-owned files are fine.
        let before = "FROM python:3.11\nCOPY . /srv\nRUN useradd -m --uid 1000 app\nUSER app\nEXPOSE 7860\nCMD [\"python\", \"/srv/main.py\"]\n";
        assert_eq!(rules(before, 7860), []);
    }

    #[test]
    fn user_must_be_the_uid_1000_user() {
        let text = GOOD.replace("USER user", "USER nobody");
        assert_eq!(rules(&text, 7860), [(Some(3), "user")]);
        let numeric = GOOD.replace("USER user", "USER 1000:1000");
        assert_eq!(rules(&numeric, 7860), []);
        let adduser = GOOD.replace(
            "RUN useradd -m -u 1000 user",
            "RUN apt-get update && adduser --disabled-password --gecos '' --uid 1000 user",
        );
        assert_eq!(rules(&adduser, 7860), []);
    }

    #[test]
    fn copying_env_files_is_an_error_in_any_stage() {
        let text = format!(
            "FROM python:3.11 AS build\nCOPY .env /tmp/.env\n{GOOD}COPY --chown=user [\"config/.env.production\", \"./\"]\n"
        );
        assert_eq!(
            rules(&text, 7860),
            [(Some(2), "env-file"), (Some(13), "env-file")]
        );
    }

    #[test]
    fn only_the_final_stage_is_held_to_the_runtime_rules() {
        let text = format!("FROM node:20 AS web\nEXPOSE 3000\nCOPY . .\n{GOOD}");
        assert_eq!(rules(&text, 7860), []);
        assert_eq!(rules("# nothing\n", 7860), [(None, "from")]);
    }

    #[test]
    fn comments_and_continuations_keep_line_numbers() {
        let text = "# syntax=docker/dockerfile:1\nFROM python:3.11\n\nRUN useradd \\\n  # a comment inside\n  -m -u 1000 user\nUSER user\nCOPY \\\n  app ./app\nCMD python app/main.py\n";
        assert_eq!(rules(text, 7860), [(Some(8), "copy-chown")]);
    }

    #[test]
    fn the_final_stage_runs_a_command() {
        let cmd =
            "CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\"]\n";
        let none = GOOD.replace(cmd, "");
        assert_eq!(rules(&none, 7860), [(Some(1), "cmd")]);
        let message = &lint_dockerfile(&none, 7860)[0].message;
        assert!(
            message.contains("`CMD`") && message.contains("\"7860\"]`"),
            "{message}"
        );
        let entrypoint = GOOD.replace(cmd, "ENTRYPOINT [\"/start.sh\"]\n");
        assert_eq!(rules(&entrypoint, 7860), []);
        // A command of an earlier stage only counts when the final stage is built on it.
        let earlier = format!("FROM python:3.11 AS build\n{cmd}{none}");
        assert_eq!(rules(&earlier, 7860), [(Some(3), "cmd")]);
        let on_top = format!("{GOOD}FROM Base AS final\n").replacen(
            "FROM python:3.11-slim",
            "FROM python:3.11-slim AS base",
            1,
        );
        assert_eq!(rules(&on_top, 7860), [(None, "uid-1000"), (None, "user")]);
    }
}
