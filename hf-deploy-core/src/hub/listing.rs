//! The Space listing: every page of `GET /api/spaces?author=&search=`, following the `Link`
//! header's `rel="next"` as huggingface_hub's `paginate` does, and only while it stays on the
//! client's own endpoint (the token never leaves for another host).

use reqwest::Method;
use reqwest::header::HeaderMap;

use super::client::HubClient;
use super::models::ListedSpace;
use super::transport::{Answer, Call, CallKind};
use crate::error::{Error, Result};
use crate::untrusted::RemoteText;
use crate::wait::Idempotency;

/// Most pages followed: 100 pages of up to 1000 Spaces.
const MAX_PAGES: usize = 100;

impl HubClient {
    /// The Spaces of `author` whose name contains `search` (the Hub matches it as text, case
    /// aside), all pages, with their creation and last-change times. Private ones are listed to
    /// a token that may read them.
    ///
    /// Endpoint: `GET /api/spaces?author={author}&search={search}&full=true` and the pages its
    /// `Link` header names.
    ///
    /// # Errors
    ///
    /// The Hub's refusal as for any call; [`Error::MalformedResponse`] when a page is not a list
    /// of Spaces, or a `Link` leads off the endpoint or goes on past 100 pages.
    pub async fn list_spaces(&self, author: &str, search: &str) -> Result<Vec<ListedSpace>> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("author", author)
            .append_pair("search", search)
            .append_pair("full", "true")
            .finish();
        let mut path = format!("/api/spaces?{query}");
        let mut spaces = Vec::new();
        for _ in 0..MAX_PAGES {
            let call = Call {
                method: Method::GET,
                path: path.clone(),
                query: Vec::new(),
                body: None,
                action: format!("list the Spaces of `{author}` named like `{search}`"),
                what: format!("the Spaces of `{author}`"),
                kind: CallKind::Read,
                idempotency: Idempotency::Idempotent,
            };
            let response = match self.send(&call).await? {
                Answer::Success(response) => response,
                Answer::Failed { failed, attempts } => {
                    return Err(self.http_error(&call, &failed, attempts).await);
                }
            };
            let next = next_link(response.headers());
            let page: Vec<ListedSpace> = self.json(&call, response).await?;
            spaces.extend(page);
            match next {
                None => return Ok(spaces),
                Some(url) => path = self.own_path(&url, &call)?,
            }
        }
        Err(Error::MalformedResponse {
            action: format!("list the Spaces of `{author}`"),
            url: self.url_of("/api/spaces"),
            detail: RemoteText::new(
                &format!("the listing went on past {MAX_PAGES} pages"),
                &self.redactor,
            ),
        })
    }

    /// The path and query of `url` when it lies under this client's endpoint (or is a path).
    fn own_path(&self, url: &str, call: &Call) -> Result<String> {
        let endpoint = self.endpoint().trim_end_matches('/');
        // A relative link (`/api/...`) is on the endpoint too.
        let relative = url.starts_with("/api/").then_some(url);
        relative
            .or_else(|| url.strip_prefix(endpoint))
            .filter(|rest| rest.starts_with("/api/"))
            .map(str::to_string)
            .ok_or_else(|| Error::MalformedResponse {
                action: call.action.clone(),
                url: self.url_of("/api/spaces"),
                detail: RemoteText::new(
                    "the next page's `Link` leads off the Hub's endpoint; it was not followed",
                    &self.redactor,
                ),
            })
    }

    fn url_of(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint().trim_end_matches('/'))
    }
}

/// The URL of `rel="next"` in a `Link` header (`<url>; rel="next", <url>; rel="last"`).
fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|part| {
            let (target, params) = part.trim().split_once(';')?;
            let is_next = params.split(';').any(|param| {
                param
                    .trim()
                    .strip_prefix("rel=")
                    .is_some_and(|rel| rel.trim_matches('"').split(' ').any(|r| r == "next"))
            });
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            is_next.then(|| target.to_string())
        })
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderValue, LINK};

    use super::*;

    #[test]
    fn the_next_link_is_read_among_others() {
        let mut headers = HeaderMap::new();
        assert_eq!(next_link(&headers), None);
        headers.insert(
            LINK,
            HeaderValue::from_static(
                r#"<https://hub/api/spaces?cursor=abc>; rel="next", <https://hub/api/spaces?p=9>; rel="last""#,
            ),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://hub/api/spaces?cursor=abc")
        );
        headers.insert(
            LINK,
            HeaderValue::from_static(r#"<https://hub/api/spaces?p=0>; rel="prev""#),
        );
        assert_eq!(next_link(&headers), None);
    }
}
