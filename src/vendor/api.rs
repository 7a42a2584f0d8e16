//! The vendor API with sign-in: every call carries a token from [`Auth`], and a call
//! refused with 401 is retried once with a new token.

use std::sync::{
    Arc,
    atomic::{AtomicU8, Ordering},
};

use secrecy::SecretString;

use super::{
    auth::Auth,
    client::{Client, Form},
    error::ApiError,
    listing::{Oddity, Paging, WidgetsPage},
    models::{Account, CreatedWidget, PersonalLink, Widget, WidgetSummary},
};

/// The vendor API with sign-in: every call carries a token, and a call refused with 401
/// is retried once with a new token.
#[derive(Clone)]
pub struct Api {
    auth: Arc<Auth>,
    /// The paging oddities already warned about (bits of [`Oddity`]): each is logged
    /// once per process, not on every listing.
    warned: Arc<AtomicU8>,
}

impl Api {
    /// The API behind `auth`.
    pub fn new(auth: Arc<Auth>) -> Self {
        Api {
            auth,
            warned: Arc::new(AtomicU8::new(0)),
        }
    }

    /// The sign-in (for OAuth connection and readiness).
    pub fn auth(&self) -> &Arc<Auth> {
        &self.auth
    }

    /// The HTTP client.
    pub fn client(&self) -> &Client {
        self.auth.client()
    }

    /// Runs `call` with a token; on 401 once more with a new token.
    pub async fn with_token<T, F, Fut>(&self, call: F) -> Result<T, ApiError>
    where
        F: Fn(Client, SecretString) -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let token = self.auth.bearer().await?;
        match call(self.client().clone(), token.clone()).await {
            Err(ApiError::Unauthorized { .. }) => {
                self.auth.invalidate(&token).await;
                let token = self.auth.bearer().await?;
                call(self.client().clone(), token).await
            }
            other => other,
        }
    }

    /// Every widget the vendor lists, each once, paging as [`Paging`] decides: however
    /// the vendor treats `page` and `limit`, a listing makes a bounded number of calls.
    pub async fn all_widgets(&self) -> Result<Vec<WidgetSummary>, ApiError> {
        super::call_metrics::listed(self.client().brand());
        let mut paging = Paging::new(super::client::PAGE_SIZE);
        let mut next = Some(1);
        while let Some(page) = next {
            let answer = self
                .with_token(|c, t| async move { c.widgets_page(&t, page).await })
                .await;
            let batch = match answer {
                Ok(batch) => batch,
                // Some APIs answer a page past the end with 404: that is the end. On the
                // first page it means the listing itself failed.
                Err(ApiError::NotFound { .. }) if page > 1 => WidgetsPage::default(),
                Err(e) => return Err(e),
            };
            next = paging.add(batch);
        }
        tracing::debug!(
            pages = ?paging.sizes(),
            repeats = ?paging.repeats(),
            total = ?paging.total(),
            "widgets listed"
        );
        self.warn_once(&paging);
        Ok(paging.into_widgets())
    }

    /// Logs what the vendor's paging did differently from what was asked, once per kind
    /// of oddity for the life of this API (of the process, in practice).
    fn warn_once(&self, paging: &Paging) {
        let found = paging.oddities();
        let bits = found.iter().fold(0, |bits, o| bits | o.bit());
        let before = self.warned.fetch_or(bits, Ordering::Relaxed);
        if bits & !before == 0 {
            return;
        }
        let problems: Vec<&str> = Oddity::ALL
            .iter()
            .filter(|o| found.contains(o))
            .map(|o| o.describe())
            .collect();
        tracing::warn!(
            problems = ?problems,
            limit = super::client::PAGE_SIZE,
            pages = ?paging.sizes(),
            repeats = ?paging.repeats(),
            total = ?paging.total(),
            "the vendor's room listing does not page as asked; listings stop early instead \
             of looping (said once per process)"
        );
    }

    /// One widget.
    pub async fn widget(&self, id: u64) -> Result<Widget, ApiError> {
        self.with_token(|c, t| async move { c.widget(&t, id).await })
            .await
    }

    /// Creates a room.
    pub async fn create_widget(&self, body: &Form) -> Result<CreatedWidget, ApiError> {
        self.with_token(|c, t| async move { c.create_widget(&t, body).await })
            .await
    }

    /// Changes a room.
    pub async fn update_widget(&self, id: u64, body: &Form) -> Result<(), ApiError> {
        self.with_token(|c, t| async move { c.update_widget(&t, id, body).await })
            .await
    }

    /// Deletes a room.
    pub async fn delete_widget(&self, id: u64) -> Result<(), ApiError> {
        self.with_token(|c, t| async move { c.delete_widget(&t, id).await })
            .await
    }

    /// A personal link for one participant.
    pub async fn personal_link(&self, id: u64, body: &Form) -> Result<PersonalLink, ApiError> {
        self.with_token(|c, t| async move { c.personal_link(&t, id, body).await })
            .await
    }

    /// The account the token belongs to.
    pub async fn me(&self) -> Result<Account, ApiError> {
        self.with_token(|c, t| async move { c.me(&t).await }).await
    }
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Api")
    }
}
