//! The forum's HTTP application on axum: routes, handlers, layer order.
//!
//! Kept apart from `main.rs` so that `tests/forum_e2e.rs` serves exactly
//! this code (`#[path = "../forum/app.rs"] mod app;`).

use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use multidb_seaorm::{ConfigError, MultiDb, PinningConfig, PinningLayer};
use sea_orm::DbErr;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::model::{self, NewPost, Page};

/// How long a request may take before it is answered `408`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The pinning layer of the forum.
///
/// The forum serves plain HTTP, so the cookie is not `Secure`: browsers
/// would drop a `Secure` cookie from `http://` on any host but localhost
/// (behind TLS, keep `PinningConfig`'s default, `Secure`). With `key` (the
/// `MULTIDB_PIN_KEY` variable, at least 32 bytes) pins are signed and
/// clients cannot forge them; without it a client could forge a pin, which
/// only sends its own reads to the primary.
pub(crate) fn pinning(key: Option<&str>) -> Result<PinningLayer, ConfigError> {
    // `__Host-` would need `Secure`; behind TLS, name it
    // `__Host-multidb_pin_writes` so sibling subdomains cannot plant copies.
    let mut config = PinningConfig::default().secure(false);
    if let Some(key) = key {
        config = config.signing_key(key);
    }
    PinningLayer::new(config)
}

/// The forum: `GET /posts`, `POST /posts`, `GET /posts/{id}`.
///
/// The layer order is the point: in axum each `.layer` wraps the ones
/// before it, so the timeout and the panic catcher are *inside* `pinning`
/// — their 408 and 500 pass through it and pin a client whose request may
/// have written — and the access log is outside, where it sees the
/// `Set-Cookie`. (The other way round, a POST that timed out after its
/// insert would leave the client unpinned, reading a lagging replica.)
pub(crate) fn app(db: MultiDb, pinning: PinningLayer) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/posts") }))
        .route("/posts", get(list).post(create))
        .route("/posts/{id}", get(show))
        .with_state(db)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(CatchPanicLayer::new())
        .layer(pinning)
        .layer(middleware::from_fn(access_log))
}

/// `GET /posts`: a page of posts and the form.
async fn list(
    State(db): State<MultiDb>,
    Query(page): Query<Page>,
) -> Result<Html<String>, AppError> {
    Ok(Html(model::list_page(&db, page).await?))
}

/// `POST /posts`: insert, then `303 See Other` to the new post. The
/// request is a POST, so the layer runs it on the primary and pins the
/// client: the redirected `GET` reads the primary too.
async fn create(
    State(db): State<MultiDb>,
    Form(form): Form<NewPost>,
) -> Result<Response, AppError> {
    Ok(match model::create_post(&db, form).await? {
        Ok(id) => Redirect::to(&format!("/posts/{id}")).into_response(),
        Err(message) => (StatusCode::UNPROCESSABLE_ENTITY, message).into_response(),
    })
}

/// `GET /posts/{id}`: the post, or 404.
async fn show(State(db): State<MultiDb>, Path(id): Path<i32>) -> Result<Response, AppError> {
    Ok(match model::post_page(&db, id).await? {
        Some(page) => Html(page).into_response(),
        None => (StatusCode::NOT_FOUND, format!("no post #{id}\n")).into_response(),
    })
}

/// A database error, answered with 500.
struct AppError(DbErr);

impl From<DbErr> for AppError {
    fn from(error: DbErr) -> Self {
        AppError(error)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        tracing::error!(error = %self.0, "database error");
        (StatusCode::INTERNAL_SERVER_ERROR, "database error\n").into_response()
    }
}

/// One log line per request, with whether the response pins the client
/// (sets the cookie).
async fn access_log(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = next.run(request).await;
    let sets_pin = response.headers().contains_key(header::SET_COOKIE);
    tracing::info!(
        status = response.status().as_u16(),
        sets_pin,
        "{method} {uri}"
    );
    response
}
