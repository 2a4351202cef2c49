//! Read-your-writes across HTTP requests under REAL replication lag: an
//! axum `Router` behind `PinningLayer`, over a `MultiDb` whose only replica
//! is the delayed one of a [`Cluster`]. `tests/tests/{postgres,mariadb}.rs`
//! call these.

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use multidb_seaorm::{MultiDb, PinningLayer, Reason, Target};
use sea_orm::entity::prelude::*;
use sea_orm::{Database, Set};
use tower::ServiceExt;

use crate::scenarios::Outcome;
use crate::servers::{Cluster, wait_until};

crate::post_entity!(http_item, "http_item");

fn boxed<E: std::fmt::Display>(error: E) -> Box<dyn std::error::Error + Send + Sync> {
    error.to_string().into()
}

/// `POST /items` (the body is the title; `303` to the item) and
/// `GET /items/{id}` (the title, or 404), through `db`, behind
/// `PinningLayer` with the default configuration.
pub fn items_app(db: MultiDb) -> Router {
    Router::new()
        .route("/items", post(create_item))
        .route("/items/{id}", get(show_item))
        .with_state(db)
        .layer(PinningLayer::default())
}

async fn create_item(State(db): State<MultiDb>, title: String) -> Response {
    let inserted = http_item::ActiveModel {
        title: Set(title),
        ..Default::default()
    }
    .insert(&db)
    .await;
    match inserted {
        Ok(item) => Redirect::to(&format!("/items/{}", item.id)).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

async fn show_item(State(db): State<MultiDb>, Path(id): Path<i32>) -> Response {
    match http_item::Entity::find_by_id(id).one(&db).await {
        Ok(Some(item)) => item.title.into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// `GET path` through `app`, with `cookie` if any: status and body.
async fn get_item(
    app: &Router,
    path: &str,
    cookie: Option<&str>,
) -> Result<(StatusCode, String), Box<dyn std::error::Error + Send + Sync>> {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app.clone().oneshot(request.body(Body::empty())?).await?;
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await?;
    Ok((status, String::from_utf8(body.to_vec())?))
}

/// The forum story with a real lagging replica: `POST /items` sets the pin
/// cookie and redirects; the redirected `GET` with the cookie reads the
/// primary and finds the row, while the same `GET` without it reads the
/// replica, which does not have the row yet (404) — until it replays it.
pub async fn post_then_get_with_the_cookie_sees_the_row(c: &Cluster) -> Outcome {
    c.create_table("http_item").await.map_err(boxed)?;
    let db = c.delayed_only().await.map_err(boxed)?;
    let delayed = Database::connect(c.delayed.as_str()).await?;
    let app = items_app(db.clone());

    let written = Instant::now();
    let request = Request::post("/items").body(Body::from("across requests"))?;
    let response = app.clone().oneshot(request).await?;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response
        .headers()
        .get(header::LOCATION)
        .ok_or("no Location")?
        .to_str()?
        .to_owned();
    let id: i32 = location.trim_start_matches("/items/").parse()?;
    let set_cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .ok_or("the POST set no pin cookie")?
        .to_str()?;
    assert!(
        set_cookie.starts_with("multidb_pin_writes="),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();

    // The premise: without the cookie, the read goes to the lagging replica,
    // which does not have the row yet.
    let before = db.stats();
    assert_eq!(
        get_item(&app, &location, None).await?,
        (StatusCode::NOT_FOUND, String::new()),
        "the replica is not lagging"
    );
    assert_eq!(db.stats().replica(0), before.replica(0) + 1);

    // With the cookie: the primary, and the row.
    assert_eq!(
        get_item(&app, &location, Some(&cookie)).await?,
        (StatusCode::OK, "across requests".to_owned())
    );
    assert_eq!(
        db.stats().count(Target::Primary, Reason::Pinned),
        before.count(Target::Primary, Reason::Pinned) + 1
    );
    // Still missing on the replica: the 200 came from the primary.
    let on_replica = http_item::Entity::find_by_id(id).one(&delayed).await?;
    let elapsed = written.elapsed();
    assert!(
        on_replica.is_none(),
        "the replica caught up after {elapsed:?}; the test proves nothing"
    );

    // The replica catches up, and the row is there without the cookie.
    let caught_up = wait_until(c.delay * 10, || async {
        matches!(
            get_item(&app, &location, None).await,
            Ok((StatusCode::OK, _))
        )
    })
    .await
    .map_err(|waited| format!("the replica did not catch up in {waited:?}"))?;
    let lag = written.elapsed();
    println!(
        "{:?}: cookie read at {elapsed:?} found the row on the primary; \
         the replica served it {lag:?} after the POST (waited {caught_up:?})",
        c.backend
    );
    assert!(
        lag >= c.delay.mul_f32(0.8),
        "the replica caught up in {lag:?}"
    );
    Ok(())
}
