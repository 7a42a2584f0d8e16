//! The HTTP side of the vendor API: one `reqwest::Client`, the vendor's headers, form
//! bodies, a response size cap, no redirects. What the answers mean is `answers`. Every
//! call is counted under a fixed endpoint name and the brand whose account it is, with
//! what its answer turned out to be once read (`call_metrics`).

use std::{
    future::Future,
    time::{Duration, Instant},
};

use reqwest::{Method, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use super::{
    answers::{
        data, interpret, kind_of, retry_after_secs, token_answer, total_of, transport_error,
    },
    call_metrics::{self, BrandLabel, SignIn},
    error::ApiError,
    listing::WidgetsPage,
    models::{Account, CreatedWidget, PersonalLink, RegisteredClient, TokenAnswer, Widget},
};
use crate::settings::ApiSettings;

/// The media type every call asks for.
pub const ACCEPT: &str = "application/vnd.archiebot.v1+json";

/// Widgets per page when listing (the most the vendor hands out at once).
pub const PAGE_SIZE: usize = 500;

/// A form body: bracket names such as `autostart[lock_state]` are plain keys here.
pub type Form = Vec<(String, String)>;

/// Builds a [`Form`] from pairs.
pub fn form<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Form {
    pairs
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

/// The vendor's REST API, without any notion of signing in (see `auth`).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    identifier: String,
    send_identifier: bool,
    max_body: usize,
    /// Whose account this is, in the metrics.
    brand: BrandLabel,
}

/// Installs rustls's ring crypto provider for the whole process, before any HTTP client
/// is built: reqwest is built without a provider of its own (aws-lc, its default, is a
/// large C library that doubled the first build). Calling it again does nothing.
pub fn install_crypto_provider() {
    // An error only says a provider is installed already (by an earlier call).
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Client {
    /// A client for `api.base_url` with `api.timeout_ms` for connecting and for the whole call.
    pub fn new(api: &ApiSettings) -> Result<Self, String> {
        install_crypto_provider();
        let mut base = api.base_url.clone();
        if !base.ends_with('/') {
            base.push('/');
        }
        let base = Url::parse(&base).map_err(|e| format!("api.base_url: {e}"))?;
        let timeout = Duration::from_millis(api.timeout_ms);
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            // Tokens ride in headers and bodies: they must never follow a redirect.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("roomgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("api: cannot build the HTTP client ({e})"))?;
        Ok(Client {
            http,
            base,
            identifier: api.identifier.clone(),
            send_identifier: api.send_identifier_header,
            max_body: api.max_response_bytes,
            brand: BrandLabel::default(),
        })
    }

    /// The same client, its calls counted under brand `id` (`settings.brand_id`).
    pub fn for_brand(mut self, id: &str) -> Self {
        self.brand = BrandLabel::new(id);
        self
    }

    /// The brand whose account this client calls, as the metrics label it.
    pub fn brand(&self) -> &BrandLabel {
        &self.brand
    }

    /// `POST auth/login`: the server-to-server token.
    pub async fn login(
        &self,
        client_id: &str,
        client_secret: &SecretString,
    ) -> Result<TokenAnswer, ApiError> {
        let body = form([
            ("client_id", client_id),
            ("client_secret", client_secret.expose_secret()),
            ("identifier", self.identifier.as_str()),
        ]);
        self.token_call(SignIn::Login, "login", "auth/login", &body)
            .await
    }

    /// `POST oauth/access_token` with an authorization code.
    pub async fn exchange_code(
        &self,
        client_id: &str,
        client_secret: &SecretString,
        code: &str,
        redirect_uri: &str,
    ) -> Result<TokenAnswer, ApiError> {
        let body = form([
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("client_secret", client_secret.expose_secret()),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ]);
        self.token_call(SignIn::Exchange, "oauth_token", "oauth/access_token", &body)
            .await
    }

    /// `POST oauth/access_token/refresh`.
    pub async fn refresh(
        &self,
        client_id: &str,
        client_secret: &SecretString,
        refresh_token: &SecretString,
    ) -> Result<TokenAnswer, ApiError> {
        let body = form([
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
            ("client_id", client_id),
            ("client_secret", client_secret.expose_secret()),
        ]);
        self.token_call(
            SignIn::Refresh,
            "oauth_refresh",
            "oauth/access_token/refresh",
            &body,
        )
        .await
    }

    /// A sign-in call: a form without a bearer token, answered with a token.
    async fn token_call(
        &self,
        kind: SignIn,
        endpoint: &'static str,
        path: &str,
        body: &Form,
    ) -> Result<TokenAnswer, ApiError> {
        let result = self
            .measured(endpoint, async {
                let answer = self
                    .request(Method::POST, path, &[], Some(body), None)
                    .await?;
                token_answer(&answer)
            })
            .await;
        call_metrics::signed_in(&self.brand, kind, result.is_ok());
        result
    }

    /// `POST oauth/clients`: registers roomgate as an OAuth client of the vendor.
    pub async fn register_client(
        &self,
        name: &str,
        redirect: &str,
        bearer: Option<&SecretString>,
    ) -> Result<RegisteredClient, ApiError> {
        let body = form([("name", name), ("redirect", redirect)]);
        self.measured("other", async {
            let answer = self
                .request(Method::POST, "oauth/clients", &[], Some(&body), bearer)
                .await?;
            read_data(answer)
                .filter(|c: &RegisteredClient| {
                    !c.client_id.is_empty() && !c.client_secret.expose_secret().is_empty()
                })
                .ok_or_else(|| bad_body("the answer carries no client_id/client_secret"))
        })
        .await
    }

    /// One page (from 1) of `GET widgets`, with the total when the answer says one. No
    /// `scope` is sent: what an unscoped listing holds is undocumented (maybe active
    /// rooms only), which is why callers remember keys they have seen.
    pub async fn widgets_page(
        &self,
        bearer: &SecretString,
        page: u32,
    ) -> Result<WidgetsPage, ApiError> {
        let query = [
            ("limit", PAGE_SIZE.to_string()),
            ("sort", "id".to_owned()),
            ("order", "desc".to_owned()),
            ("page", page.to_string()),
        ];
        self.measured("widgets_list", async {
            let answer = self
                .request(Method::GET, "widgets", &query, None, Some(bearer))
                .await?;
            let total = total_of(&answer);
            match data(answer) {
                // Entries that do not parse are skipped, not fatal: one odd room must not
                // hide all the others. They still count for how full the page was.
                Value::Array(items) => Ok(WidgetsPage {
                    entries: items.len(),
                    widgets: items
                        .into_iter()
                        .filter_map(|item| serde_json::from_value(item).ok())
                        .collect(),
                    total,
                }),
                other => Err(ApiError::BadBody {
                    status: 200,
                    reason: format!("expected a list of widgets, got {}", kind_of(&other)),
                }),
            }
        })
        .await
    }

    /// `GET widgets/{id}`.
    pub async fn widget(&self, bearer: &SecretString, id: u64) -> Result<Widget, ApiError> {
        self.measured("widget", async {
            let answer = self
                .request(
                    Method::GET,
                    &format!("widgets/{id}"),
                    &[],
                    None,
                    Some(bearer),
                )
                .await?;
            serde_json::from_value(data(answer)).map_err(|e| ApiError::BadBody {
                status: 200,
                reason: format!("widget: {e}"),
            })
        })
        .await
    }

    /// `POST widgets`: creates a room.
    pub async fn create_widget(
        &self,
        bearer: &SecretString,
        body: &Form,
    ) -> Result<CreatedWidget, ApiError> {
        self.measured("widget_create", async {
            let answer = self
                .request(Method::POST, "widgets", &[], Some(body), Some(bearer))
                .await?;
            read_data(answer).ok_or_else(|| bad_body("the created room has no id"))
        })
        .await
    }

    /// `PUT widgets/{id}`: changes a room (also its `status`). What it answers is not
    /// used: the room is read back with `GET widgets/{id}`.
    pub async fn update_widget(
        &self,
        bearer: &SecretString,
        id: u64,
        body: &Form,
    ) -> Result<(), ApiError> {
        let path = format!("widgets/{id}");
        let call = self.request(Method::PUT, &path, &[], Some(body), Some(bearer));
        self.measured("widget_update", call).await.map(|_| ())
    }

    /// `DELETE widgets/{id}`.
    pub async fn delete_widget(&self, bearer: &SecretString, id: u64) -> Result<(), ApiError> {
        let path = format!("widgets/{id}");
        let call = self.request(Method::DELETE, &path, &[], None, Some(bearer));
        self.measured("widget_delete", call).await.map(|_| ())
    }

    /// `POST widgets/{id}/personal`: a personal link for one participant, its token
    /// from `personal_token` or else from inside `personal_url`.
    pub async fn personal_link(
        &self,
        bearer: &SecretString,
        id: u64,
        body: &Form,
    ) -> Result<PersonalLink, ApiError> {
        self.measured("personal", async {
            let answer = self
                .request(
                    Method::POST,
                    &format!("widgets/{id}/personal"),
                    &[],
                    Some(body),
                    Some(bearer),
                )
                .await?;
            PersonalLink::from_answer(&data(answer)).map_err(|reason| bad_body(&reason))
        })
        .await
    }

    /// `GET me`: whose token this is.
    pub async fn me(&self, bearer: &SecretString) -> Result<Account, ApiError> {
        self.measured("me", async {
            let answer = self
                .request(Method::GET, "me", &[], None, Some(bearer))
                .await?;
            serde_json::from_value(data(answer)).map_err(|e| ApiError::BadBody {
                status: 200,
                reason: format!("me: {e}"),
            })
        })
        .await
    }

    /// Runs `call` and counts it under `endpoint` and this client's brand, with its time
    /// and outcome. The callers read the answer inside `call`, so an answer of the wrong
    /// shape counts as one.
    async fn measured<T>(
        &self,
        endpoint: &'static str,
        call: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        let started = Instant::now();
        let result = call.await;
        call_metrics::call_made(
            &self.brand,
            endpoint,
            started.elapsed(),
            result.as_ref().err(),
        );
        result
    }

    /// One call: vendor headers, the form body, the size cap, and the answer checked for
    /// every failure shape the vendor uses. Logged at debug without any secret; counted
    /// under the endpoint its method and path name.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Form>,
        bearer: Option<&SecretString>,
    ) -> Result<Value, ApiError> {
        let endpoint = call_metrics::endpoint_of(&method, path);
        self.measured(endpoint, self.request(method, path, query, body, bearer))
            .await
    }

    /// [`Client::call`] without counting: the callers count the call with its reading.
    async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Form>,
        bearer: Option<&SecretString>,
    ) -> Result<Value, ApiError> {
        let mut url = self
            .base
            .join(path)
            .map_err(|e| ApiError::Connection(format!("bad path {path}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let mut request = self
            .http
            .request(method.clone(), url)
            .header(header::ACCEPT, ACCEPT);
        if let Some(token) = bearer {
            request = request.bearer_auth(token.expose_secret());
        }
        if self.send_identifier {
            request = request.header("Identifier", &self.identifier);
        }
        if let Some(pairs) = body {
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs.iter())
                .finish();
            request = request
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(encoded);
        }

        let started = Instant::now();
        let result = self.send(request).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok((status, _, _)) => {
                tracing::debug!(%method, path, status = status.as_u16(), elapsed_ms, "vendor call")
            }
            Err(e) => tracing::debug!(%method, path, error = %e, elapsed_ms, "vendor call failed"),
        }
        let (status, retry_after, bytes) = result?;
        interpret(status, retry_after, &bytes)
    }

    /// Sends `request`: the status, what `Retry-After` said on a 429 or 503, the body.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, Option<u64>, Vec<u8>), ApiError> {
        let mut response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(ApiError::Redirect {
                status: status.as_u16(),
            });
        }
        let retry_after = match status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after_secs(v, chrono::Utc::now())),
            _ => None,
        };
        if status == StatusCode::TOO_MANY_REQUESTS {
            // The body of a refusal is of no use: not read at all.
            return Err(ApiError::RateLimited {
                retry_after_secs: retry_after,
            });
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(ApiError::TooLarge {
                limit: self.max_body,
            });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if bytes.len() + chunk.len() > self.max_body {
                return Err(ApiError::TooLarge {
                    limit: self.max_body,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, retry_after, bytes))
    }
}

/// The answer's `data` as `T`, if it has that shape.
fn read_data<T: serde::de::DeserializeOwned>(answer: Value) -> Option<T> {
    serde_json::from_value(data(answer)).ok()
}

/// A successful answer that does not say what it should.
fn bad_body(reason: &str) -> ApiError {
    ApiError::BadBody {
        status: 200,
        reason: reason.to_owned(),
    }
}
