//! Checks of the source folder and of every option, before anything is read.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::field::Field;
pub(super) use crate::inputs::{is_identifier, parse_app};

use super::{DEFAULT_TEST_REQUIREMENTS, ScaffoldOptions};

/// Options after validation, in the form the later steps use.
pub(super) struct Resolved {
    /// User exclude patterns (validated gitignore globs).
    pub(super) excludes: Vec<String>,
    /// Requirement name patterns to drop.
    pub(super) test_requirements: Vec<String>,
}

/// The source must exist and be a folder; returns its canonical path.
pub(super) fn source_folder(source: &Path) -> Result<PathBuf> {
    let invalid = |reason: &str, hint: &str| Error::InvalidSource {
        path: source.to_path_buf(),
        reason: reason.into(),
        hint: Some(hint.into()),
    };
    match std::fs::metadata(source) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(invalid(
                "it is a file, not a folder",
                "give the backend folder (the one holding `app/` and `requirements.txt`)",
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(invalid(
                "it does not exist",
                "give the backend folder (the one holding `app/` and `requirements.txt`)",
            ));
        }
        Err(e) => return Err(Error::io("inspect", source, e)),
    }
    std::fs::canonicalize(source).map_err(|e| Error::io("resolve", source, e))
}

/// Validate every option: the user's through [`crate::inputs`], the library-only ones here.
pub(super) fn options(options: &ScaffoldOptions) -> Result<Resolved> {
    crate::inputs::check_scaffold_options(options)?;
    if let Some(license) = &options.license {
        if license.is_empty() || license.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::invalid_input_hint(
                Field::License,
                format!("`{license}` is not a license id"),
                "use an id such as `mit` or `apache-2.0`",
            ));
        }
    }
    for tag in &options.tags {
        if tag.trim().is_empty() || tag.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                Field::Tags,
                format!("tag {tag:?} is empty or contains a control character"),
            ));
        }
    }
    for secret in &options.secrets {
        crate::settings::check_key(&secret.name, Field::Secrets)?;
        if let Some(description) = &secret.description {
            if description.chars().any(char::is_control) {
                return Err(Error::invalid_input(
                    Field::Secrets,
                    format!(
                        "the description of `{}` contains a control character",
                        secret.name
                    ),
                ));
            }
        }
    }
    for variable in &options.variables {
        crate::settings::check_key(variable, Field::Variables)?;
    }
    let test_requirements = match &options.test_requirements {
        None => DEFAULT_TEST_REQUIREMENTS
            .iter()
            .map(|s| (*s).to_string())
            .collect(),
        Some(list) => {
            for name in list {
                let ok = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.*".contains(c));
                if !ok {
                    return Err(Error::invalid_input_hint(
                        Field::TestRequirements,
                        format!("`{name}` is not a requirement name pattern"),
                        "use package names, optionally with `*`, e.g. `pytest-*`",
                    ));
                }
            }
            list.clone()
        }
    };
    if let Some(dir) = &options.templates_dir {
        if !dir.is_dir() {
            return Err(Error::invalid_input_hint(
                Field::TemplatesDir,
                format!("`{}` is not a folder", dir.display()),
                "give a folder holding `Dockerfile.j2` and/or `README.md.j2`",
            ));
        }
        if !dir.join("Dockerfile.j2").is_file() && !dir.join("README.md.j2").is_file() {
            return Err(Error::invalid_input_hint(
                Field::TemplatesDir,
                format!(
                    "`{}` holds neither `Dockerfile.j2` nor `README.md.j2`",
                    dir.display()
                ),
                "name the templates `Dockerfile.j2` and `README.md.j2`",
            ));
        }
    }
    Ok(Resolved {
        excludes: options.excludes.clone(),
        test_requirements,
    })
}
