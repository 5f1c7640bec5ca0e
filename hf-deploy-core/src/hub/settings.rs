//! Settings of a Space: its secrets (names and descriptions only, never values back) and its
//! variables.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::json;

use super::client::HubClient;
use super::errors::error_code;
use super::models::{SecretInfo, Variable};
use super::transport::{Answer, Call};
use crate::error::Result;
use crate::secret::SecretString;
use crate::space::SpaceId;

impl HubClient {
    /// Secret names with their descriptions (never their values). `Ok(None)` when this Hub does
    /// not offer the listing (404 without `RepoNotFound`, or 405): it was absent from 2022 to 2026.
    ///
    /// Endpoint: `GET /api/spaces/{ns}/{name}/secrets`.
    pub async fn secrets(&self, space: &SpaceId) -> Result<Option<BTreeMap<String, SecretInfo>>> {
        let call = self.space_call(
            Method::GET,
            format!("/api/spaces/{space}/secrets"),
            space,
            format!("list the secrets of Space `{space}`"),
        );
        match self.send(&call).await? {
            Answer::Success(response) => self.json(&call, response).await.map(Some),
            Answer::Failed { failed, .. }
                if failed.status == 405
                    || (failed.status == 404
                        && error_code(&failed.headers).as_deref() != Some("RepoNotFound")) =>
            {
                Ok(None)
            }
            Answer::Failed { failed, attempts } => {
                Err(self.http_error(&call, &failed, attempts).await)
            }
        }
    }

    /// Add or replace a secret. The value is sent once, in the body, and never logged.
    ///
    /// Endpoint: `POST /api/spaces/{ns}/{name}/secrets`.
    pub async fn set_secret(
        &self,
        space: &SpaceId,
        key: &str,
        value: &SecretString,
        description: Option<&str>,
    ) -> Result<()> {
        let mut body = json!({"key": key, "value": value.expose()});
        if let Some(description) = description {
            body["description"] = json!(description);
        }
        let call = Call {
            body: Some(body),
            ..self.space_call(
                Method::POST,
                format!("/api/spaces/{space}/secrets"),
                space,
                format!("set secret `{key}` of Space `{space}`"),
            )
        };
        self.execute(&call).await.map(drop)
    }

    /// Delete a secret; deleting a missing one succeeds.
    ///
    /// Endpoint: `DELETE /api/spaces/{ns}/{name}/secrets`.
    pub async fn delete_secret(&self, space: &SpaceId, key: &str) -> Result<()> {
        let call = Call {
            body: Some(json!({"key": key})),
            ..self.space_call(
                Method::DELETE,
                format!("/api/spaces/{space}/secrets"),
                space,
                format!("delete secret `{key}` of Space `{space}`"),
            )
        };
        self.execute(&call).await.map(drop)
    }

    /// All variables.
    ///
    /// Endpoint: `GET /api/spaces/{ns}/{name}/variables`.
    pub async fn variables(&self, space: &SpaceId) -> Result<BTreeMap<String, Variable>> {
        let call = self.space_call(
            Method::GET,
            format!("/api/spaces/{space}/variables"),
            space,
            format!("list the variables of Space `{space}`"),
        );
        self.execute_json(&call).await
    }

    /// Add or replace a variable; returns all variables after the change.
    ///
    /// Endpoint: `POST /api/spaces/{ns}/{name}/variables`.
    pub async fn set_variable(
        &self,
        space: &SpaceId,
        key: &str,
        value: &str,
        description: Option<&str>,
    ) -> Result<BTreeMap<String, Variable>> {
        let mut body = json!({"key": key, "value": value});
        if let Some(description) = description {
            body["description"] = json!(description);
        }
        let call = Call {
            body: Some(body),
            ..self.space_call(
                Method::POST,
                format!("/api/spaces/{space}/variables"),
                space,
                format!("set variable `{key}` of Space `{space}`"),
            )
        };
        self.execute_json(&call).await
    }

    /// Delete a variable (a missing one is no error); returns all variables after the change.
    ///
    /// Endpoint: `DELETE /api/spaces/{ns}/{name}/variables`.
    pub async fn delete_variable(
        &self,
        space: &SpaceId,
        key: &str,
    ) -> Result<BTreeMap<String, Variable>> {
        let call = Call {
            body: Some(json!({"key": key})),
            ..self.space_call(
                Method::DELETE,
                format!("/api/spaces/{space}/variables"),
                space,
                format!("delete variable `{key}` of Space `{space}`"),
            )
        };
        self.execute_json(&call).await
    }
}
