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
use multidb_seaorm::{MultiDb, PinningConfig, PinningLayer, Reason, Target};
use sea_orm::entity::prelude::*;
use sea_orm::{Database, Set};
use tower::ServiceExt;

use crate::scenarios::Outcome;
use crate::servers::{Cluster, wait_until};

crate::post_entity!(http_item, "http_item");

/// The scenarios of this file share the `http_item` table: one at a time.
static HTTP_ITEM: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn boxed<E: std::fmt::Display>(error: E) -> Box<dyn std::error::Error + Send + Sync> {
    error.to_string().into()
}

/// `POST /items` (the body is the title; `303` to the item) and
/// `GET /items/{id}` (the title, or 404), through `db`, behind `pinning`.
pub fn items_app(db: MultiDb, pinning: PinningLayer) -> Router {
    Router::new()
        .route("/items", post(create_item))
        .route("/items/{id}", get(show_item))
        .with_state(db)
        .layer(pinning)
}

/// `POST /items` with `title` through `app`: the item's location and the
/// pin cookie (`name=value`) the response set.
async fn post_item(
    app: &Router,
    title: &'static str,
) -> Result<(String, String), Box<dyn std::error::Error + Send + Sync>> {
    let request = Request::post("/items").body(Body::from(title))?;
    let response = app.clone().oneshot(request).await?;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response
        .headers()
        .get(header::LOCATION)
        .ok_or("no Location")?
        .to_str()?
        .to_owned();
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
    Ok((location, cookie))
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
    let _table = HTTP_ITEM.lock().await;
    c.create_table("http_item").await.map_err(boxed)?;
    let db = c.delayed_only().await.map_err(boxed)?;
    let delayed = Database::connect(c.delayed.as_str()).await?;
    let app = items_app(db.clone(), PinningLayer::default());

    let written = Instant::now();
    let (location, cookie) = post_item(&app, "across requests").await?;
    let id: i32 = location.trim_start_matches("/items/").parse()?;

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
    // Pinned (a timed pin) or causal (the pin carries the write's
    // position, which the replica has not reached): the primary either way.
    assert_eq!(
        db.stats().total(Target::Primary),
        before.total(Target::Primary) + 1
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
        lag >= c.least_lag().mul_f32(0.8),
        "the replica caught up in {lag:?}"
    );
    Ok(())
}

/// `items_app` with causal pins, signed or not.
fn causal_app(
    db: MultiDb,
    signed: bool,
) -> Result<Router, Box<dyn std::error::Error + Send + Sync>> {
    let mut config = PinningConfig::default().causal(true);
    if signed {
        config = config.signing_key([7u8; 32]);
    }
    Ok(items_app(db, PinningLayer::new(config)?))
}

/// On a fresh `http_item` table: a `MultiDb` whose only replica is the
/// delayed one, its monitor every 100 ms, and [`causal_app`] (signed) over
/// it.
async fn causal_on_the_delayed_replica(
    c: &Cluster,
) -> Result<(MultiDb, Router), Box<dyn std::error::Error + Send + Sync>> {
    c.create_table("http_item").await.map_err(boxed)?;
    let db = MultiDb::builder()
        .primary(c.primary.as_str())
        .replica(c.delayed.as_str())
        .monitor_interval(std::time::Duration::from_millis(100))
        .connect()
        .await
        .map_err(boxed)?;
    let app = causal_app(db.clone(), true)?;
    Ok((db, app))
}

/// Causal pins over real lag: the POST's pin carries its position; the
/// redirected GET reads the primary while the replica lags, and the replica
/// as soon as it replayed the write (not after 15 s). A POST that wrote
/// nothing earns no pin. A forged far-ahead position in an unsigned cookie
/// sends reads to the primary only until the cookie's expiry.
pub async fn a_causal_pin_returns_the_client_to_the_replica(c: &Cluster) -> Outcome {
    use multidb_seaorm::{Position, WritePosition};
    let _table = HTTP_ITEM.lock().await;
    let (db, app) = causal_on_the_delayed_replica(c).await?;
    let written = Instant::now();
    let (location, cookie) = post_item(&app, "causal").await?;
    let token = cookie.split_once('=').map(|(_, v)| v).unwrap_or_default();
    let position_text = token
        .split_once(':')
        .map(|(_, rest)| rest)
        .ok_or("the pin carries no position")?;
    let position_text = position_text
        .rsplit_once('.')
        .map_or(position_text, |(p, _mac)| p);
    let position: WritePosition = position_text.parse()?;

    let before = db.stats();
    assert_eq!(
        get_item(&app, &location, Some(&cookie)).await?,
        (StatusCode::OK, "causal".to_owned())
    );
    assert_eq!(
        db.stats().count(Target::Primary, Reason::Causal),
        before.count(Target::Primary, Reason::Causal) + 1
    );
    let back = wait_until(c.delay * 5, || async {
        let on_replica = db.stats().replica(0);
        let answer = get_item(&app, &location, Some(&cookie)).await.ok();
        answer == Some((StatusCode::OK, "causal".to_owned())) && db.stats().replica(0) > on_replica
    })
    .await
    .map_err(|w| format!("the pinned client never returned to the replica ({w:?}); waiting for {position}; replicas {:?}; stats {:?}", db.replica_status(), db.stats()))?;
    let back_after = written.elapsed();

    // A POST that wrote nothing (no such route) earns no pin.
    let nowhere = app
        .clone()
        .oneshot(Request::post("/nowhere").body(Body::empty())?)
        .await?;
    assert!(
        nowhere.headers().get(header::SET_COOKIE).is_none(),
        "a POST that wrote nothing earned a pin"
    );

    // Forged, unsigned, far ahead: the primary until the expiry, then replicas.
    let unsigned = causal_app(db.clone(), false)?;
    let ahead = match position.position() {
        Position::Lsn(_) => Position::Lsn(1 << 60),
        Position::MariaDb(gtids) => {
            let text: Vec<String> = gtids
                .iter()
                .map(|g| format!("{}-{}-{}", g.domain, g.server, g.seq + 1_000_000))
                .collect();
            Position::parse_mariadb(&text.join(","))?
        }
        other => other.clone(),
    };
    let forged_position = WritePosition::new(position.cluster(), ahead);
    let expiry = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        + 2;
    let forged = format!("multidb_pin_writes={expiry}:{forged_position}");
    let before = db.stats();
    assert_eq!(
        get_item(&unsigned, &location, Some(&forged)).await?.0,
        StatusCode::OK
    );
    assert_eq!(
        db.stats().count(Target::Primary, Reason::Causal),
        before.count(Target::Primary, Reason::Causal) + 1,
        "a far-ahead position reads the primary"
    );
    let freed = wait_until(std::time::Duration::from_secs(6), || async {
        let on_replica = db.stats().replica(0);
        get_item(&unsigned, &location, Some(&forged)).await.is_ok()
            && db.stats().replica(0) > on_replica
    })
    .await
    .map_err(|w| format!("a forged position pinned past its expiry ({w:?})"))?;
    println!(
        "{:?} causal pin: the client read the replica again {back_after:?} after its POST (waited {back:?}; delay {:?}); \
         a forged far-ahead cookie pinned until its expiry ({freed:?})",
        c.backend, c.delay
    );
    assert!(back_after < c.delay * 4, "{back_after:?}");
    Ok(())
}

/// A genuine but older pin planted ahead of the client's own (a sibling
/// subdomain can set one, and signing cannot tell it from the client's)
/// changes nothing under real lag: the read right after the client's write
/// reads the primary while the replica lags, whichever cookie comes first.
/// With "the first valid pin wins", the planted one sent it to the replica.
pub async fn an_older_pin_planted_ahead_of_the_clients_own_changes_nothing(c: &Cluster) -> Outcome {
    let _table = HTTP_ITEM.lock().await;
    let (db, app) = causal_on_the_delayed_replica(c).await?;

    // The planted pin: another write's, which the replica has replayed.
    let (old_location, older) = post_item(&app, "older").await?;
    wait_until(c.delay * 5, || async {
        let on_replica = db.stats().replica(0);
        let answer = get_item(&app, &old_location, Some(&older)).await.ok();
        answer == Some((StatusCode::OK, "older".to_owned())) && db.stats().replica(0) > on_replica
    })
    .await
    .map_err(|w| format!("the replica never reached the older pin's position ({w:?})"))?;

    // The client's own write, which the replica has not replayed yet.
    let written = Instant::now();
    let (location, own) = post_item(&app, "own").await?;
    let id: i32 = location.trim_start_matches("/items/").parse()?;
    for header in [format!("{older}; {own}"), format!("{own}; {older}")] {
        let before = db.stats();
        assert_eq!(
            get_item(&app, &location, Some(&header)).await?,
            (StatusCode::OK, "own".to_owned()),
            "Cookie: {header}"
        );
        assert_eq!(
            db.stats().count(Target::Primary, Reason::Causal),
            before.count(Target::Primary, Reason::Causal) + 1,
            "Cookie: {header}"
        );
    }
    // The premise: the replica still lacks the client's row.
    let delayed = Database::connect(c.delayed.as_str()).await?;
    let on_replica = http_item::Entity::find_by_id(id).one(&delayed).await?;
    let elapsed = written.elapsed();
    assert!(
        on_replica.is_none(),
        "the replica caught up after {elapsed:?}; the test proves nothing"
    );
    println!(
        "{:?}: with an older pin planted ahead of its own, the client read its write on the primary \
         {elapsed:?} after it, both cookie orders",
        c.backend
    );
    Ok(())
}
