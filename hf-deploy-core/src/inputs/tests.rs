// Table-driven tests list one case per bad input: long by nature.
#![allow(clippy::too_many_lines)]

use super::*;
use crate::field::Field;

#[test]
fn minutes_hardware_and_keep() {
    use super::rules::{hardware, keep_pattern, timeout};
    assert_eq!(
        minutes(Field::Timeout, " 45 ").unwrap(),
        Duration::from_secs(2700)
    );
    for bad in ["0", "-5", "1.5", "twenty", "99999", ""] {
        assert!(minutes(Field::Timeout, bad).is_err(), "{bad}");
    }
    assert!(timeout(Duration::ZERO).is_err());
    assert!(timeout(Duration::from_secs(1)).is_ok());
    assert!(hardware("cpu-basic").is_ok() && hardware("a10g-largex2").is_ok());
    for bad in ["CPU", "cpu basic", "-x", "", "t4_small"] {
        assert_eq!(hardware(bad).expect_err(bad).field(), Some(Field::Hardware));
    }
    assert!(keep_pattern("data/**").is_ok());
    for bad in ["", "/abs", "../up", "!neg"] {
        assert_eq!(keep_pattern(bad).expect_err(bad).field(), Some(Field::Keep));
    }
}

fn backend() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/rag-chatbot/backend")
}

fn raw() -> RawInputs {
    RawInputs {
        space: Some("alice/rag".into()),
        source: backend(),
        ..RawInputs::default()
    }
}

#[test]
fn resolve_builds_options_and_the_scaffold() {
    let lookup = |key: &str| (key == "FROM_ENV").then(|| "env-value".to_string());
    let options = resolve(&RawInputs {
        secrets: vec![
            RawEntry::arg("GEMINI_API_KEY=abc", &lookup),
            RawEntry::arg("FROM_ENV", &lookup),
        ],
        variables: RawEntry::lines("# c\nLOG_LEVEL=info\r\n"),
        frontend_urls: vec!["https://a.example/".into(), "https://a.example".into()],
        app_url: Some("https://proxy.example/app/".into()),
        color_from: Some(" red ".into()),
        ..raw()
    })
    .expect("valid");
    assert_eq!(options.space.to_string(), "alice/rag");
    assert_eq!(options.frontend_origins, ["https://a.example"]);
    assert_eq!(
        options.app_url.as_deref(),
        Some("https://proxy.example/app")
    );
    assert_eq!(options.health_path, "/api/health");
    assert_eq!(options.settings.secrets["FROM_ENV"].expose(), "env-value");
    assert_eq!(options.settings.variables["LOG_LEVEL"], "info");
    assert_eq!(options.scaffold.config.color_from, "red");
    assert!(options.scaffold.files.contains_key("Dockerfile"));
    assert!(
        options
            .scaffold
            .config
            .secrets
            .iter()
            .any(|doc| doc.name == "GEMINI_API_KEY")
    );
}

#[test]
fn resolve_names_the_field_of_each_bad_input() {
    let long = "x".repeat(61);
    let cases: Vec<(RawInputs, Field)> = vec![
        (
            RawInputs {
                space: None,
                ..raw()
            },
            Field::Space,
        ),
        (
            RawInputs {
                space: Some("a/b/c".into()),
                ..raw()
            },
            Field::Space,
        ),
        (
            RawInputs {
                frontend_urls: vec!["https://a.example/path".into()],
                ..raw()
            },
            Field::FrontendUrl,
        ),
        (
            RawInputs {
                health_path: Some("health".into()),
                ..raw()
            },
            Field::HealthPath,
        ),
        (
            RawInputs {
                app_url: Some("ftp://x".into()),
                ..raw()
            },
            Field::AppUrl,
        ),
        (
            RawInputs {
                hardware: Some("Big GPU".into()),
                ..raw()
            },
            Field::Hardware,
        ),
        (
            RawInputs {
                timeout: Duration::ZERO,
                ..raw()
            },
            Field::Timeout,
        ),
        (
            RawInputs {
                keep: vec!["../x".into()],
                ..raw()
            },
            Field::Keep,
        ),
        (
            RawInputs {
                secrets: RawEntry::lines("A=1\nno equals"),
                ..raw()
            },
            Field::Secrets,
        ),
        (
            RawInputs {
                variables: vec![RawEntry::arg("NOVALUE", &|_| None)],
                ..raw()
            },
            Field::Variables,
        ),
        (
            RawInputs {
                title: Some("a\nb".into()),
                ..raw()
            },
            Field::Title,
        ),
        (
            RawInputs {
                emoji: Some("ab".into()),
                ..raw()
            },
            Field::Emoji,
        ),
        (
            RawInputs {
                color_from: Some("orange".into()),
                ..raw()
            },
            Field::ColorFrom,
        ),
        (
            RawInputs {
                color_to: Some("Blue!".into()),
                ..raw()
            },
            Field::ColorTo,
        ),
        (
            RawInputs {
                short_description: Some(long),
                ..raw()
            },
            Field::ShortDescription,
        ),
        (
            RawInputs {
                port: Some(0),
                ..raw()
            },
            Field::Port,
        ),
        (
            RawInputs {
                app: Some("app.main".into()),
                ..raw()
            },
            Field::App,
        ),
        (
            RawInputs {
                excludes: vec!["!keep".into()],
                ..raw()
            },
            Field::Exclude,
        ),
        (
            RawInputs {
                secrets_file: Some("/no/such.env".into()),
                ..raw()
            },
            Field::SecretsFile,
        ),
    ];
    for (raw, field) in cases {
        let error = resolve(&raw).expect_err(&format!("{field:?}"));
        assert!(error.is_usage(), "{error}");
        assert_eq!(error.field(), Some(field), "{error}");
    }
}

#[test]
fn resolve_finds_the_scaffold_errors_too() {
    let error = resolve(&RawInputs {
        source: "/no/such/backend".into(),
        ..raw()
    })
    .expect_err("missing folder");
    assert_eq!(error.kind(), "invalid_source");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "fastapi\n").unwrap();
    let error = resolve(&RawInputs {
        source: dir.path().to_path_buf(),
        ..raw()
    })
    .expect_err("no app");
    assert_eq!(error.kind(), "invalid_source");

    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(
        dir.path().join("app/main.py"),
        "from fastapi import FastAPI\napp = FastAPI()\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM python:3.11\nCOPY . .\nEXPOSE 8000\nCMD [\"uvicorn\", \"app.main:app\"]\n",
    )
    .unwrap();
    let error = resolve(&RawInputs {
        source: dir.path().to_path_buf(),
        ..raw()
    })
    .expect_err("bad Dockerfile");
    assert_eq!(error.kind(), "dockerfile_lint");
}

#[test]
fn resolve_scaffold_does_not_need_a_space() {
    let scaffold = resolve_scaffold(&RawInputs {
        space: None,
        ..raw()
    })
    .expect("valid");
    assert!(scaffold.config.space.is_none());
    let error = resolve_scaffold(&RawInputs {
        color_to: Some("teal".into()),
        ..raw()
    })
    .expect_err("bad colour");
    assert_eq!(error.field(), Some(Field::ColorTo));
}

#[test]
fn raw_entry_debug_shows_keys_only() {
    let entry = RawEntry::arg("TOKEN=very-secret-1", &|_| None);
    let debug = format!("{entry:?}");
    assert!(
        debug.contains("TOKEN") && !debug.contains("very-secret-1"),
        "{debug}"
    );
    let bare = RawEntry::arg("BARE", &|_| Some("env-secret-2".into()));
    let debug = format!("{bare:?}");
    assert!(!debug.contains("env-secret-2"), "{debug}");
}

#[test]
fn the_settings_alone_are_checked_by_the_rules_of_resolve() {
    let entry = |text: &str| RawEntry {
        text: text.into(),
        line: None,
        from_env: None,
    };
    // No Space and no source folder needed.
    let settings = resolve_settings(&RawInputs {
        variables: vec![entry("LOG_LEVEL=INFO")],
        frontend_urls: vec!["https://book.example.com/".into()],
        source: "/nonexistent".into(),
        ..RawInputs::default()
    })
    .expect("valid");
    assert_eq!(settings.variables["LOG_LEVEL"], "INFO");
    assert_eq!(
        settings.secrets["ALLOWED_ORIGINS"].expose(),
        "https://book.example.com"
    );
    let error = resolve_settings(&RawInputs {
        variables: vec![entry("LOG_LEVEL= INFO")],
        ..RawInputs::default()
    })
    .expect_err("padded");
    assert_eq!(error.field(), Some(Field::Variables));
    let error = resolve_settings(&RawInputs {
        frontend_urls: vec!["https://a.example.com/path".into()],
        ..RawInputs::default()
    })
    .expect_err("not an origin");
    assert_eq!(error.field(), Some(Field::FrontendUrl));
}

#[test]
fn visibility_private_alias_and_their_disagreement() {
    use crate::Visibility;
    let with = |visibility: Option<&str>, private: bool| {
        resolve(&RawInputs {
            visibility: visibility.map(str::to_string),
            private,
            ..raw()
        })
    };
    assert_eq!(with(None, false).unwrap().visibility, None);
    assert_eq!(
        with(None, true).unwrap().visibility,
        Some(Visibility::Private)
    );
    assert_eq!(
        with(Some("Protected"), false).unwrap().visibility,
        Some(Visibility::Protected)
    );
    assert_eq!(
        with(Some("private"), true).unwrap().visibility,
        Some(Visibility::Private)
    );
    let error = with(Some("public"), true).expect_err("disagree");
    assert_eq!(error.field(), Some(Field::Visibility));
    let text = error.message_with(crate::Spelling::new(
        |f| match f {
            Field::Visibility => "--visibility",
            Field::Private => "--private",
            other => other.name(),
        },
        crate::Command::neutral,
    ));
    assert!(
        text.contains("`--visibility`") && text.contains("`--private`"),
        "both are named: {text}"
    );
    let error = with(Some("hidden"), false).expect_err("unknown");
    assert_eq!(error.field(), Some(Field::Visibility));
}

#[test]
fn sleep_time_is_whole_seconds_or_minus_one() {
    let with = |text: &str| {
        resolve(&RawInputs {
            sleep_time: Some(text.into()),
            ..raw()
        })
    };
    assert_eq!(with(" 3600 ").unwrap().sleep_time, Some(3600));
    assert_eq!(with("-1").unwrap().sleep_time, Some(-1));
    for bad in ["0", "-2", "1.5", "an hour", "99999999999"] {
        assert_eq!(
            with(bad).expect_err(bad).field(),
            Some(Field::SleepTime),
            "{bad}"
        );
    }
}

#[test]
fn the_plan_warns_of_blocked_ports_and_of_a_private_app_with_a_frontend() {
    let options = resolve(&RawInputs {
        secrets: RawEntry::lines(
            "QDRANT_URL=https://abc.cloud.qdrant.io:6333\nDATABASE_URL=postgresql://u:pw@db.example.com/x?sslmode=require\n",
        ),
        variables: RawEntry::lines("API_BASE=https://api.example.com\n"),
        ..raw()
    })
    .expect("warnings, not errors");
    assert_eq!(options.warnings.len(), 2, "{:?}", options.warnings);
    assert!(options.warnings[0].contains("`DATABASE_URL` points to port 5432"));
    assert!(options.warnings[1].contains("`QDRANT_URL` points to port 6333"));
    assert!(
        options
            .warnings
            .iter()
            .all(|w| !w.contains("abc.cloud") && !w.contains("pw@")),
        "{:?}",
        options.warnings
    );

    let private = |default_visibility, visibility: Option<&str>, origins: &[&str]| {
        resolve(&RawInputs {
            default_visibility,
            visibility: visibility.map(str::to_string),
            frontend_urls: origins.iter().map(|o| o.to_string()).collect(),
            ..raw()
        })
        .expect("valid")
        .warnings
        .iter()
        .any(|w| w.contains("browsers"))
    };
    use crate::Visibility::{Private, Protected, Public};
    assert!(private(Public, Some("private"), &["https://app.example"]));
    assert!(private(Private, None, &["https://app.example"]));
    assert!(!private(
        Private,
        Some("protected"),
        &["https://app.example"]
    ));
    assert!(!private(Public, Some("private"), &[]));
    assert!(!private(Protected, None, &["https://app.example"]));
}

#[test]
fn the_plan_redacts_every_secret_value_and_the_password_of_a_url_variable() {
    let lookup = |key: &str| (key == "FROM_ENV").then(|| "env-secret-value-7".to_string());
    let options = resolve(&RawInputs {
        secrets: vec![
            RawEntry::arg("GEMINI_API_KEY=AIzaSy-plan-secret-42", &lookup),
            RawEntry::arg("FROM_ENV", &lookup),
            RawEntry::arg("DATABASE_URL=postgresql://app:db-pass-9@db/app", &lookup),
        ],
        variables: RawEntry::lines("CACHE_URL=redis://cache:var-pass-3@r/0\nLOG_LEVEL=info\n"),
        ..raw()
    })
    .expect("valid");
    let shown = crate::RemoteText::new(
        "key AIzaSy-plan-secret-42 env env-secret-value-7 db db-pass-9 cache var-pass-3 level info",
        &options.redactor,
    );
    assert_eq!(
        shown.as_data(),
        "key *** env *** db *** cache *** level info"
    );
    let none = resolve(&raw()).expect("valid");
    assert!(none.redactor.is_empty(), "no secret, no value to redact");
    let origins = resolve(&RawInputs {
        frontend_urls: vec!["https://book.example.com".into()],
        ..raw()
    })
    .expect("valid");
    assert!(
        origins.settings.secrets.contains_key("ALLOWED_ORIGINS"),
        "the origins are a secret of the Space"
    );
    assert!(
        origins.redactor.is_empty(),
        "and public: the report names them"
    );
}
