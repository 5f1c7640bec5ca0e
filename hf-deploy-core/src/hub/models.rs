//! Typed Hub answers, from the shapes the real Hub sends (hub-api.md §1-§6).
//!
//! Every model tolerates fields it does not know and stages it has never seen: the Hub adds
//! fields and stages without notice, and a deploy must not fail because of one.

use serde::{Deserialize, Deserializer, Serialize};

use crate::space::SpaceId;
pub use crate::stage::SpaceStage;
use crate::untrusted::{Redactor, RemoteText};
use crate::visibility::Visibility;

/// `null` reads as the default value (the Hub sends `"hardware": null` on some Spaces).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `runtime.hardware`: the flavor running now and the one asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpaceHardware {
    /// Running flavor, e.g. `cpu-basic`; `None` while the first build runs.
    #[serde(default)]
    pub current: Option<String>,
    /// Requested flavor.
    #[serde(default)]
    pub requested: Option<String>,
    /// Display name of `current`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_pretty_name: Option<String>,
    /// Display name of `requested`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_pretty_name: Option<String>,
}

/// One of `runtime.domains`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceDomain {
    /// Host name, e.g. `user-tmp-test-space.hf.space`.
    pub domain: String,
    /// Its stage, e.g. `READY`.
    #[serde(default)]
    pub stage: Option<String>,
}

/// `runtime.replicas`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceReplicas {
    /// Replicas asked for.
    #[serde(default)]
    pub requested: Option<u32>,
    /// Replicas running.
    #[serde(default)]
    pub current: Option<u32>,
}

/// `GET /api/spaces/{id}/runtime` (also the answer of restart, pause, sleeptime and hardware).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpaceRuntime {
    /// Current stage.
    pub stage: SpaceStage,
    /// Hardware now and requested.
    #[serde(default, deserialize_with = "null_as_default")]
    pub hardware: SpaceHardware,
    /// Host names serving the app.
    #[serde(default, deserialize_with = "null_as_default")]
    pub domains: Vec<SpaceDomain>,
    /// Sleep time in seconds (`gcTimeout`); `None` when the Space never sleeps or the Hub omits it.
    #[serde(default)]
    pub gc_timeout: Option<i64>,
    /// Replicas.
    #[serde(default)]
    pub replicas: Option<SpaceReplicas>,
    /// Why the Space failed, when the Hub says (it may quote the app's log: redacted by the
    /// client's redactor).
    #[serde(default)]
    pub error_message: Option<RemoteText>,
    /// Persistent storage tier (deprecated by the Hub).
    #[serde(default)]
    pub storage: Option<String>,
    /// Dev mode.
    #[serde(default)]
    pub dev_mode: Option<bool>,
    /// The commit the running app was built from. UNCONFIRMED: no recorded Hub answer has
    /// it; when the Hub sends it, the wait after a push trusts it over the stages.
    #[serde(default)]
    pub sha: Option<String>,
}

impl SpaceRuntime {
    /// The answer with its text from outside redacted by `redactor` (serde reads it as data).
    pub(crate) fn redacted(mut self, redactor: &Redactor) -> SpaceRuntime {
        self.error_message = self
            .error_message
            .map(|message| RemoteText::new(message.as_data(), redactor));
        self
    }
}

/// One file of the Space repo (`siblings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sibling {
    /// Path in the repo.
    pub rfilename: String,
    /// Size in bytes (only with `blobs=true`).
    #[serde(default)]
    pub size: Option<u64>,
    /// Git blob id (only with `blobs=true`).
    #[serde(default)]
    pub blob_id: Option<String>,
}

/// `GET /api/spaces/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpaceInfo {
    /// `ns/name` as the Hub spells it.
    pub id: String,
    /// Commit of `main`.
    #[serde(default)]
    pub sha: Option<String>,
    /// Full URL of the app, e.g. `https://user-space.hf.space`.
    #[serde(default)]
    pub host: Option<String>,
    /// The app's subdomain, without `.hf.space`.
    #[serde(default)]
    pub subdomain: Option<String>,
    /// Private repository (true for a protected Space too).
    #[serde(default)]
    pub private: bool,
    /// `public`, `protected` or `private`, when the Hub says (an unknown word reads as `None`);
    /// see [`SpaceInfo::current_visibility`].
    #[serde(default, deserialize_with = "Visibility::lenient")]
    pub visibility: Option<Visibility>,
    /// The SDK (`docker`, `gradio`, ...).
    #[serde(default)]
    pub sdk: Option<String>,
    /// Owner.
    #[serde(default)]
    pub author: Option<String>,
    /// Last change, ISO-8601.
    #[serde(default)]
    pub last_modified: Option<String>,
    /// Disabled by the Hub.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// Runtime state (present in the default answer).
    #[serde(default)]
    pub runtime: Option<SpaceRuntime>,
    /// The README front matter, as parsed by the Hub.
    #[serde(default)]
    pub card_data: Option<serde_json::Value>,
    /// Files of the repo.
    #[serde(default, deserialize_with = "null_as_default")]
    pub siblings: Vec<Sibling>,
}

impl SpaceInfo {
    /// The Space's visibility: the Hub's `visibility` when it sends one, else `private` or
    /// `public` from the `private` flag (a Hub that predates protected Spaces).
    pub fn current_visibility(&self) -> Visibility {
        self.visibility.unwrap_or(if self.private {
            Visibility::Private
        } else {
            Visibility::Public
        })
    }

    /// Where the app answers, in the public interface's order: the `host` field; else
    /// `https://` + the first of `runtime.domains`; else [`SpaceId::computed_app_url`]. (An
    /// explicit app URL, [`crate::Field::AppUrl`], comes before all three; that is the
    /// caller's.) No trailing slash.
    pub fn app_url(&self, id: &SpaceId) -> String {
        if let Some(host) = self
            .host
            .as_deref()
            .map(str::trim)
            .filter(|host| !host.is_empty())
        {
            let host = host.trim_end_matches('/');
            if host.starts_with("http://") || host.starts_with("https://") {
                return host.to_string();
            }
            return format!("https://{host}");
        }
        let domain = self
            .runtime
            .as_ref()
            .and_then(|runtime| runtime.domains.first())
            .map(|domain| domain.domain.trim().trim_end_matches('/'))
            .filter(|domain| !domain.is_empty());
        match domain {
            Some(domain) => format!("https://{domain}"),
            None => id.computed_app_url(),
        }
    }
}

/// An organisation of the token's user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmIOrg {
    /// Organisation name (a namespace).
    pub name: String,
    /// Display name.
    #[serde(default)]
    pub fullname: Option<String>,
}

/// `auth.accessToken` of whoami.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenInfo {
    /// `read`, `write` or `fineGrained`.
    #[serde(default)]
    pub role: Option<String>,
    /// The token's name.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// `auth` of whoami.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmIAuth {
    /// `access_token`, `oauth`, `app_token`, ...
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Present for access tokens.
    #[serde(default)]
    pub access_token: Option<AccessTokenInfo>,
    /// Expiry, ISO-8601 (OAuth tokens).
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// `GET /api/whoami-v2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI {
    /// User (or org) name: the default namespace.
    pub name: String,
    /// `user`, `org` or `app` (wire field `type`).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Display name.
    #[serde(default)]
    pub fullname: Option<String>,
    /// Organisations the user belongs to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub orgs: Vec<WhoAmIOrg>,
    /// What authenticated the request.
    #[serde(default, deserialize_with = "null_as_default")]
    pub auth: WhoAmIAuth,
}

impl WhoAmI {
    /// `auth.accessToken.role`: `read`, `write`, `fineGrained`.
    pub fn token_role(&self) -> Option<&str> {
        self.auth.access_token.as_ref()?.role.as_deref()
    }

    /// True for a classic read token, which can never create, push or configure a Space.
    pub fn is_read_only(&self) -> bool {
        self.token_role() == Some("read")
    }
}

/// One Space secret as listed by `GET /api/spaces/{id}/secrets` (values are never returned).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretInfo {
    /// Description, when set.
    #[serde(default)]
    pub description: Option<String>,
    /// Last change, ISO-8601.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// One Space variable (`GET /api/spaces/{id}/variables`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    /// The value (variables are public).
    pub value: String,
    /// Description, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Last change, ISO-8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// What to create with [`crate::hub::HubClient::create_space`]. `Default` is a public Docker
/// Space on the default hardware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateSpace {
    /// Who reads it and reaches its app (sent as `visibility`).
    pub visibility: Visibility,
    /// Hardware flavor, e.g. `cpu-basic`; `None` leaves the Hub's default.
    pub hardware: Option<String>,
    /// SDK; `docker` for hf-deploy.
    pub sdk: String,
    /// Sleep time in seconds (`-1` = never); `None` leaves the Hub's default.
    pub sleep_time_seconds: Option<i64>,
    /// Secrets set at creation (one build instead of one restart each): key, value, description.
    pub secrets: Vec<(String, crate::secret::SecretString, Option<String>)>,
    /// Variables set at creation: key, value.
    pub variables: Vec<(String, String)>,
}

impl Default for CreateSpace {
    fn default() -> Self {
        CreateSpace {
            visibility: Visibility::Public,
            hardware: None,
            sdk: "docker".to_string(),
            sleep_time_seconds: None,
            secrets: Vec::new(),
            variables: Vec::new(),
        }
    }
}

/// One Space of a listing ([`crate::hub::HubClient::list_spaces`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedSpace {
    /// `ns/name` as the Hub spells it.
    pub id: String,
    /// When it was created, ISO-8601.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Its last change, ISO-8601.
    #[serde(default)]
    pub last_modified: Option<String>,
    /// Private repository.
    #[serde(default)]
    pub private: Option<bool>,
}

/// Result of [`crate::hub::HubClient::create_space`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Created {
    /// The Space page, e.g. `https://huggingface.co/spaces/ns/name`.
    pub url: String,
    /// True when the Space was there already (409, or visible after a refused create).
    pub existed: bool,
}

/// Which log of a Space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogKind {
    /// The image build (`/logs/build`).
    Build,
    /// The running container (`/logs/run`).
    Run,
}

impl LogKind {
    /// The path segment: `build` or `run`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogKind::Build => "build",
            LogKind::Run => "run",
        }
    }
}

/// One line of a Space log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// The text, without its trailing newline: written by the app or its build, redacted by
    /// the client's redactor.
    pub text: RemoteText,
    /// When the Hub recorded it (ISO-8601), when it says.
    pub timestamp: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two real runtime answers of hub-api.md §5 (CAS).
    #[test]
    fn parses_the_recorded_runtime_examples() {
        let building: SpaceRuntime = serde_json::from_str(
            r#"{"stage":"BUILDING","hardware":{"current":null,"requested":"cpu-basic"},"storage":null,"gcTimeout":172800,"replicas":{"requested":1},"devMode":false,"domains":[{"domain":"user-tmp-test-space.hf.space","stage":"READY"}]}"#,
        )
        .expect("building runtime");
        assert_eq!(building.stage, SpaceStage::Building);
        assert_eq!(building.hardware.current, None);
        assert_eq!(building.hardware.requested.as_deref(), Some("cpu-basic"));
        assert_eq!(building.gc_timeout, Some(172800));
        assert_eq!(
            building.replicas,
            Some(SpaceReplicas {
                requested: Some(1),
                current: None
            })
        );
        assert_eq!(building.domains[0].domain, "user-tmp-test-space.hf.space");
        assert_eq!(building.domains[0].stage.as_deref(), Some("READY"));
        assert_eq!(building.dev_mode, Some(false));

        let running: SpaceRuntime = serde_json::from_str(
            r#"{"stage":"RUNNING","hardware":{"current":null,"requested":null},"storage":null,"replicas":{"requested":1,"current":1}}"#,
        )
        .expect("static runtime");
        assert_eq!(running.stage, SpaceStage::Running);
        assert!(running.domains.is_empty());
        assert_eq!(running.gc_timeout, None);
        assert_eq!(running.replicas.and_then(|r| r.current), Some(1));
    }

    #[test]
    fn runtime_tolerates_new_fields_nulls_and_stages() {
        let runtime: SpaceRuntime = serde_json::from_str(
            r#"{"stage":"QUANTUM_TUNNELING","hardware":null,"domains":null,"errorMessage":"Exit code: 1","hotReloading":{"status":"created"},"resources":{"requests":{}}}"#,
        )
        .expect("tolerant runtime");
        assert_eq!(runtime.stage, SpaceStage::from_wire("QUANTUM_TUNNELING"));
        assert_eq!(runtime.hardware, SpaceHardware::default());
        assert_eq!(
            runtime.error_message.as_ref().map(RemoteText::as_data),
            Some("Exit code: 1")
        );
    }

    fn id() -> SpaceId {
        SpaceId::parse("user/tmp_test_space", crate::Field::Space).expect("id")
    }

    #[test]
    fn app_url_prefers_host_then_domains_then_the_computed_url() {
        let mut info: SpaceInfo = serde_json::from_str(
            r#"{"id":"user/tmp_test_space","host":"http://127.0.0.1:4242/","runtime":{"stage":"RUNNING","domains":[{"domain":"from-domains.hf.space"}]}}"#,
        )
        .expect("info");
        assert_eq!(info.app_url(&id()), "http://127.0.0.1:4242");
        info.host = Some("bare-host.hf.space".into());
        assert_eq!(info.app_url(&id()), "https://bare-host.hf.space");
        info.host = Some(" ".into());
        assert_eq!(info.app_url(&id()), "https://from-domains.hf.space");
        info.runtime = None;
        assert_eq!(info.app_url(&id()), "https://user-tmp-test-space.hf.space");
    }

    #[test]
    fn whoami_reads_the_js_ci_example() {
        let me: WhoAmI = serde_json::from_str(
            r#"{"type":"user","id":"62f264b9f3c90f4b6514a269","name":"hub.js","fullname":"@huggingface/hub CI bot","email":"eliott@huggingface.co","emailVerified":true,"canPay":false,"isPro":false,"periodEnd":null,"avatarUrl":"/avatars/934b830e9fdaa879487852f79eef7165.svg","billingMode":"postpaid","orgs":[{"type":"org","name":"acme","fullname":"Acme"}],"auth":{"type":"access_token","accessToken":{"createdAt":"2024-01-01T00:00:00.000Z","displayName":"ci-hub.js","role":"write"}}}"#,
        )
        .expect("whoami");
        assert_eq!(me.name, "hub.js");
        assert_eq!(me.kind.as_deref(), Some("user"));
        assert_eq!(me.orgs[0].name, "acme");
        assert_eq!(me.token_role(), Some("write"));
        assert_eq!(
            me.auth
                .access_token
                .as_ref()
                .and_then(|t| t.display_name.as_deref()),
            Some("ci-hub.js")
        );
        assert!(!me.is_read_only());

        let oauth: WhoAmI = serde_json::from_str(
            r#"{"name":"alice","auth":{"type":"oauth","expiresAt":"2026-10-22T06:04:28.000Z"}}"#,
        )
        .expect("oauth whoami");
        assert_eq!(oauth.token_role(), None);
        assert_eq!(oauth.auth.kind.as_deref(), Some("oauth"));
    }
}
