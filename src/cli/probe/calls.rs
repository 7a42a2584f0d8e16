//! The probe's calls to the vendor, made raw through [`Client::call`] so that the answers
//! are seen as they come, before roomgate's own reading smooths them over. One call at
//! a time, never retried: the probe must not hammer the account it looks at.

use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::Value;

use super::seen::{
    FULL_LIMIT, Listing, Listings, ReadBack, ReadSeen, SMALL_LIMIT, Seen, Sent, StatusSeen, Step,
    WriteSeen, listing_of,
};
use crate::vendor::{
    Api, ApiError, Client,
    client::{Form, form},
    tolerant::as_u64,
};

/// One raw call with the account's token (signed in again once on a 401).
async fn call(
    api: &Api,
    method: Method,
    path: &str,
    query: &[(&str, String)],
    body: Option<&Form>,
) -> Result<Value, ApiError> {
    api.with_token(|c: Client, t| {
        let method = method.clone();
        async move { c.call(method, path, query, body, Some(&t)).await }
    })
    .await
}

/// A `GET` whose failure is kept as its message.
async fn get(api: &Api, path: &str, query: &[(&str, String)]) -> Seen<Value> {
    call(api, Method::GET, path, query, None)
        .await
        .map_err(|e| e.to_string())
}

/// The `data` of an answer, or the answer itself when it has none.
fn data(answer: Value) -> Value {
    match answer {
        Value::Object(mut map) if map.contains_key("data") => {
            map.remove("data").unwrap_or(Value::Null)
        }
        other => other,
    }
}

/// One page of `GET widgets`, newest first, as roomgate asks.
async fn listing(api: &Api, limit: usize, page: u32, scope: Option<&str>) -> Seen<Listing> {
    let mut query = vec![
        ("limit", limit.to_string()),
        ("sort", "id".to_owned()),
        ("order", "desc".to_owned()),
        ("page", page.to_string()),
    ];
    if let Some(scope) = scope {
        query.push(("scope", scope.to_owned()));
    }
    listing_of(&get(api, "widgets", &query).await?)
}

/// Whether a listing holds room `id`; `None` when the listing failed.
async fn listed(api: &Api, id: u64, scope: Option<&str>) -> Option<bool> {
    listing(api, FULL_LIMIT, 1, scope)
        .await
        .ok()
        .map(|l| l.ids.contains(&id))
}

/// `GET widgets/{id}` → `data`.
async fn room(api: &Api, id: u64) -> Seen<Value> {
    get(api, &format!("widgets/{id}"), &[]).await.map(data)
}

/// The read-only part: `me`, the listings, and one room's detail (an open room if there
/// is one).
pub async fn read(api: &Api) -> ReadSeen {
    let account = get(api, "me", &[]).await.map(data);
    let listings = Listings {
        small_page1: listing(api, SMALL_LIMIT, 1, None).await,
        small_page2: listing(api, SMALL_LIMIT, 2, None).await,
        full_page1: listing(api, FULL_LIMIT, 1, None).await,
        full_page2: listing(api, FULL_LIMIT, 2, None).await,
        active: listing(api, FULL_LIMIT, 1, Some("active")).await,
        inactive: listing(api, FULL_LIMIT, 1, Some("inactive")).await,
    };
    let first = |l: &Seen<Listing>| l.as_ref().ok().and_then(|l| l.ids.first().copied());
    let id = first(&listings.active)
        .or_else(|| first(&listings.full_page1))
        .or_else(|| first(&listings.inactive));
    let room = match id {
        Some(id) => Some(room(api, id).await),
        None => None,
    };
    ReadSeen {
        account,
        listings,
        room,
    }
}

/// The write part: create the temporary room, change, close, reopen and invite to it,
/// and delete it whatever happened in between (Ctrl-C included).
pub async fn write(api: &Api, sent: &Sent, email: Option<&str>) -> WriteSeen {
    let create = create(api, sent).await;
    let mut seen = WriteSeen {
        create: create.clone(),
        created: Step::Interrupted,
        updated: Step::Interrupted,
        closed: Step::Interrupted,
        reopened: Step::Interrupted,
        personal: Step::Interrupted,
        deleted: Step::NotRun("no temporary room to delete"),
    };
    let Ok(id) = create else {
        let none = "no temporary room (create failed)";
        seen.created = Step::NotRun(none);
        seen.updated = Step::NotRun(none);
        seen.closed = Step::NotRun(none);
        seen.reopened = Step::NotRun(none);
        seen.personal = Step::NotRun(none);
        return seen;
    };
    tokio::select! {
        () = steps(api, id, sent, email, &mut seen) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    seen.deleted = Step::Ran(delete(api, id).await);
    seen
}

/// `POST widgets` with every field the probe later reads back.
async fn create(api: &Api, sent: &Sent) -> Seen<u64> {
    let body = form([
        ("name", sent.name.as_str()),
        ("type", "scheduled"),
        ("start_date", sent.start_wall.as_str()),
        ("duration", &sent.duration_minutes.to_string()),
        ("timezone", sent.timezone.name()),
        ("agenda", sent.agenda.as_str()),
        ("password", sent.password.expose_secret()),
    ]);
    let answer = call(api, Method::POST, "widgets", &[], Some(&body))
        .await
        .map_err(|e| e.to_string())?;
    data(answer)
        .get("id")
        .and_then(as_u64)
        .ok_or_else(|| "the answer to POST widgets has no id".to_owned())
}

/// The steps between creating and deleting. Each writes its outcome into `seen` as soon
/// as it has one, so that an interruption keeps what was learnt; a step that fails does
/// not stop the next.
async fn steps(api: &Api, id: u64, sent: &Sent, email: Option<&str>, seen: &mut WriteSeen) {
    seen.created = Step::Ran(room(api, id).await);

    // Name and agenda only, deliberately: whether the vendor keeps the fields a PUT
    // leaves out is what the update check is about.
    let change = form([
        ("name", sent.new_name.as_str()),
        ("agenda", sent.new_agenda.as_str()),
    ]);
    seen.updated = Step::Ran(match put(api, id, &change).await {
        Ok(()) => room(api, id).await,
        Err(e) => Err(e),
    });
    let name = match &seen.updated {
        Step::Ran(Ok(room)) => room.get("name").and_then(Value::as_str),
        _ => None,
    }
    .unwrap_or(&sent.new_name)
    .to_owned();

    seen.closed = Step::Ran(set_status(api, id, &name, "inactive").await);
    seen.reopened = Step::Ran(set_status(api, id, &name, "active").await);

    seen.personal = match email {
        Some(email) => Step::Ran(personal(api, id, email).await),
        None => Step::NotRun("no --email given"),
    };
}

/// `PUT widgets/{id}`.
async fn put(api: &Api, id: u64, body: &Form) -> Seen<()> {
    call(api, Method::PUT, &format!("widgets/{id}"), &[], Some(body))
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// `PUT status=…` as roomgate sends it (with the name), then the room's status by its
/// field and by the listings.
async fn set_status(api: &Api, id: u64, name: &str, status: &str) -> Seen<StatusSeen> {
    put(api, id, &form([("name", name), ("status", status)])).await?;
    let room = room(api, id).await?;
    Ok(StatusSeen {
        status: room
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_owned),
        in_scope: listed(api, id, Some(status)).await,
        in_unscoped: listed(api, id, None).await,
    })
}

/// `POST widgets/{id}/personal` → `data`; the address under both names the vendor's
/// documents use.
async fn personal(api: &Api, id: u64, email: &str) -> Seen<Value> {
    let body = form([
        ("email", email),
        ("emails", email),
        ("firstname", "roomgate"),
        ("lastname", "probe"),
        ("role", "attendee"),
    ]);
    call(
        api,
        Method::POST,
        &format!("widgets/{id}/personal"),
        &[],
        Some(&body),
    )
    .await
    .map(data)
    .map_err(|e| e.to_string())
}

/// `DELETE widgets/{id}`, then the room read back.
async fn delete(api: &Api, id: u64) -> Seen<ReadBack> {
    call(api, Method::DELETE, &format!("widgets/{id}"), &[], None)
        .await
        .map_err(|e| e.to_string())?;
    Ok(
        match call(api, Method::GET, &format!("widgets/{id}"), &[], None).await {
            Ok(_) => ReadBack::StillThere,
            Err(ApiError::NotFound { status }) => ReadBack::Gone(status),
            // The contract expects 403 for a deleted room too.
            Err(ApiError::Vendor { status: 403, .. }) => ReadBack::Gone(403),
            Err(e) => ReadBack::Unreadable(e.to_string()),
        },
    )
}
