//! The stage of a Space's runtime, as the Hub names it, and what each stage means for a deploy.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::untrusted::{Redactor, RemoteText};

/// The most bytes kept of a stage name this client does not know.
const MAX_UNKNOWN_BYTES: usize = 64;

/// The stage of a Space (`runtime.stage`): every value of `huggingface_hub` and `@huggingface/hub`,
/// plus [`SpaceStage::Unknown`] for anything newer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SpaceStage {
    /// `NO_APP_FILE`: the repo has no app to run.
    NoAppFile,
    /// `CONFIG_ERROR`: the README front matter is wrong.
    ConfigError,
    /// `BUILDING`: the image is being built.
    Building,
    /// `BUILD_ERROR`: the image build failed.
    BuildError,
    /// `APP_STARTING`: the container is starting.
    AppStarting,
    /// `RUNNING`: the app runs.
    Running,
    /// `RUNNING_BUILDING`: the old version runs while a new one builds.
    RunningBuilding,
    /// `RUNNING_APP_STARTING`: the old version runs while a new one starts.
    RunningAppStarting,
    /// `RUNTIME_ERROR`: the container exited or failed its start-up.
    RuntimeError,
    /// `DELETING`: the Space is being deleted.
    Deleting,
    /// `STOPPED`: stopped (upgraded hardware asleep).
    Stopped,
    /// `PAUSED`: paused by its owner.
    Paused,
    /// `SLEEPING`: asleep after inactivity (only in `@huggingface/hub`).
    Sleeping,
    /// A stage this client does not know, as the Hub spelled it (text from outside, cut to 64
    /// bytes).
    Unknown(RemoteText),
}

impl SpaceStage {
    /// Every known stage with its wire name.
    const KNOWN: [(&'static str, SpaceStage); 13] = [
        ("NO_APP_FILE", SpaceStage::NoAppFile),
        ("CONFIG_ERROR", SpaceStage::ConfigError),
        ("BUILDING", SpaceStage::Building),
        ("BUILD_ERROR", SpaceStage::BuildError),
        ("APP_STARTING", SpaceStage::AppStarting),
        ("RUNNING", SpaceStage::Running),
        ("RUNNING_BUILDING", SpaceStage::RunningBuilding),
        ("RUNNING_APP_STARTING", SpaceStage::RunningAppStarting),
        ("RUNTIME_ERROR", SpaceStage::RuntimeError),
        ("DELETING", SpaceStage::Deleting),
        ("STOPPED", SpaceStage::Stopped),
        ("PAUSED", SpaceStage::Paused),
        ("SLEEPING", SpaceStage::Sleeping),
    ];

    /// Read a wire name; unknown names become [`SpaceStage::Unknown`].
    pub fn from_wire(value: &str) -> SpaceStage {
        SpaceStage::KNOWN
            .iter()
            .find(|(name, _)| *name == value)
            .map(|(_, stage)| stage.clone())
            .unwrap_or_else(|| {
                SpaceStage::Unknown(RemoteText::with_max_bytes(
                    value,
                    &Redactor::none(),
                    MAX_UNKNOWN_BYTES,
                ))
            })
    }

    /// The wire name, e.g. `RUNNING_BUILDING`; an unknown one as data (show it through
    /// [`SpaceStage::to_remote`]).
    pub fn as_str(&self) -> &str {
        match self {
            SpaceStage::Unknown(name) => name.as_data(),
            known => SpaceStage::KNOWN
                .iter()
                .find(|(_, stage)| stage == known)
                .map(|(name, _)| *name)
                .unwrap_or("UNKNOWN"),
        }
    }

    /// The name as a [`RemoteText`] redacted by `redactor`, to show: a known stage is its wire
    /// name, an unknown one what the Hub sent.
    pub fn to_remote(&self, redactor: &Redactor) -> RemoteText {
        RemoteText::new(self.as_str(), redactor)
    }

    /// True for a stage this client knows.
    pub fn is_known(&self) -> bool {
        !matches!(self, SpaceStage::Unknown(_))
    }

    /// Still on its way: `BUILDING`, `APP_STARTING`, `RUNNING_BUILDING`, `RUNNING_APP_STARTING`
    /// (`huggingface_hub`'s intermediate stages). Keep polling.
    pub fn is_in_progress(&self) -> bool {
        matches!(
            self,
            SpaceStage::Building
                | SpaceStage::AppStarting
                | SpaceStage::RunningBuilding
                | SpaceStage::RunningAppStarting
        )
    }

    /// Failed: `BUILD_ERROR`, `RUNTIME_ERROR`, `CONFIG_ERROR`, `NO_APP_FILE`.
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            SpaceStage::BuildError
                | SpaceStage::RuntimeError
                | SpaceStage::ConfigError
                | SpaceStage::NoAppFile
        )
    }

    /// The previous revision still serves while a new one builds or starts: `RUNNING_BUILDING`,
    /// `RUNNING_APP_STARTING`. The app's answers then come from the previous revision.
    pub fn previous_serves(&self) -> bool {
        matches!(
            self,
            SpaceStage::RunningBuilding | SpaceStage::RunningAppStarting
        )
    }

    /// Not running and will not start by itself after a push: `SLEEPING`, `PAUSED`, `STOPPED`.
    pub fn needs_restart(&self) -> bool {
        matches!(
            self,
            SpaceStage::Sleeping | SpaceStage::Paused | SpaceStage::Stopped
        )
    }
}

impl fmt::Display for SpaceStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SpaceStage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(SpaceStage::from_wire(&name))
    }
}

impl Serialize for SpaceStage {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_round_trip_and_unknown_ones_are_kept() {
        for (name, stage) in SpaceStage::KNOWN {
            let parsed: SpaceStage = serde_json::from_str(&format!("\"{name}\"")).expect(name);
            assert_eq!(parsed, stage);
            assert_eq!(
                serde_json::to_string(&parsed).expect(name),
                format!("\"{name}\"")
            );
        }
        let unknown: SpaceStage = serde_json::from_str("\"HIBERNATING\"").expect("unknown stage");
        assert_eq!(unknown, SpaceStage::from_wire("HIBERNATING"));
        assert!(!unknown.is_known() && SpaceStage::Running.is_known());
        assert_eq!(unknown.to_string(), "HIBERNATING");
        let hostile = SpaceStage::from_wire(&format!("X\n::error::forged{}", "Y".repeat(100)));
        assert_eq!(hostile.as_str().len(), 64);
        assert_eq!(
            hostile.to_remote(&Redactor::none()).workflow_log(),
            format!("X\n\\::error::forged{}", "Y".repeat(47))
        );
        assert!(!unknown.is_in_progress() && !unknown.is_error() && !unknown.needs_restart());
    }

    #[test]
    fn stage_groups() {
        let in_progress: Vec<&str> = SpaceStage::KNOWN
            .iter()
            .filter(|(_, s)| s.is_in_progress())
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(
            in_progress,
            [
                "BUILDING",
                "APP_STARTING",
                "RUNNING_BUILDING",
                "RUNNING_APP_STARTING"
            ]
        );
        let error: Vec<&str> = SpaceStage::KNOWN
            .iter()
            .filter(|(_, s)| s.is_error())
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(
            error,
            [
                "NO_APP_FILE",
                "CONFIG_ERROR",
                "BUILD_ERROR",
                "RUNTIME_ERROR"
            ]
        );
        let restart: Vec<&str> = SpaceStage::KNOWN
            .iter()
            .filter(|(_, s)| s.needs_restart())
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(restart, ["STOPPED", "PAUSED", "SLEEPING"]);
        let previous: Vec<&str> = SpaceStage::KNOWN
            .iter()
            .filter(|(_, s)| s.previous_serves())
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(previous, ["RUNNING_BUILDING", "RUNNING_APP_STARTING"]);
        assert!(
            SpaceStage::KNOWN
                .iter()
                .all(|(_, s)| !s.previous_serves() || s.is_in_progress()),
            "a stage where the previous revision serves is waited through"
        );
    }
}
