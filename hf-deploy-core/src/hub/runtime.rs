//! The runtime of a Space: its stage, hardware and sleep time; restart and pause.

use reqwest::Method;
use serde_json::json;

use super::client::HubClient;
use super::models::SpaceRuntime;
use super::transport::Call;
use crate::error::Result;
use crate::space::SpaceId;
use crate::wait::Idempotency;

impl HubClient {
    /// A call that answers a runtime, its text from outside through the door.
    async fn runtime_answer(&self, call: &Call) -> Result<SpaceRuntime> {
        let runtime: SpaceRuntime = self.execute_json(call).await?;
        Ok(runtime.redacted(&self.redactor))
    }

    /// Stage, hardware, domains, sleep time.
    ///
    /// Endpoint: `GET /api/spaces/{ns}/{name}/runtime`.
    pub async fn runtime(&self, space: &SpaceId) -> Result<SpaceRuntime> {
        let call = self.space_call(
            Method::GET,
            format!("/api/spaces/{space}/runtime"),
            space,
            format!("read the runtime of Space `{space}`"),
        );
        self.runtime_answer(&call).await
    }

    /// Restart the Space; `factory` rebuilds the image without cache.
    ///
    /// Retried only when the Hub surely did not act on it (no connection, 408, 429): each restart
    /// cancels the build the previous one started, so after a 5xx or a connection lost mid-request
    /// the error is reported instead of restarting a second time.
    ///
    /// Endpoint: `POST /api/spaces/{ns}/{name}/restart[?factory=true]`.
    pub async fn restart(&self, space: &SpaceId, factory: bool) -> Result<SpaceRuntime> {
        let action = if factory {
            format!("factory-rebuild Space `{space}`")
        } else {
            format!("restart Space `{space}`")
        };
        let call = Call {
            query: if factory {
                vec![("factory", "true")]
            } else {
                Vec::new()
            },
            idempotency: Idempotency::OnlyIfNotActedOn,
            ..self.space_call(
                Method::POST,
                format!("/api/spaces/{space}/restart"),
                space,
                action,
            )
        };
        self.runtime_answer(&call).await
    }

    /// Pause the Space (it stays paused until restarted).
    ///
    /// Endpoint: `POST /api/spaces/{ns}/{name}/pause`.
    pub async fn pause(&self, space: &SpaceId) -> Result<SpaceRuntime> {
        let call = self.space_call(
            Method::POST,
            format!("/api/spaces/{space}/pause"),
            space,
            format!("pause Space `{space}`"),
        );
        self.runtime_answer(&call).await
    }

    /// Set the sleep time in seconds (`-1` = never sleep; fixed at 48 h on `cpu-basic`).
    ///
    /// Endpoint: `POST /api/spaces/{ns}/{name}/sleeptime`.
    pub async fn set_sleep_time(&self, space: &SpaceId, seconds: i64) -> Result<SpaceRuntime> {
        let call = Call {
            body: Some(json!({"seconds": seconds})),
            ..self.space_call(
                Method::POST,
                format!("/api/spaces/{space}/sleeptime"),
                space,
                format!("set the sleep time of Space `{space}`"),
            )
        };
        self.runtime_answer(&call).await
    }

    /// Ask for a hardware flavor, e.g. `cpu-upgrade`.
    ///
    /// Endpoint: `POST /api/spaces/{ns}/{name}/hardware`.
    pub async fn request_hardware(&self, space: &SpaceId, flavor: &str) -> Result<SpaceRuntime> {
        let call = Call {
            body: Some(json!({"flavor": flavor})),
            ..self.space_call(
                Method::POST,
                format!("/api/spaces/{space}/hardware"),
                space,
                format!("request hardware `{flavor}` for Space `{space}`"),
            )
        };
        self.runtime_answer(&call).await
    }
}
