//! The forum's HTTP application: routes, handlers, the post table.
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
use multidb_seaorm::pinning::ConfigError;
use multidb_seaorm::{MultiDb, PinningConfig, PinningLayer};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DbBackend, QueryOrder, QuerySelect, Set};
use serde::Deserialize;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

/// The `forum_post` table.
pub(crate) mod post {
    // SeaORM's derives generate `pub` items; this module is private to the forum.
    #![allow(unreachable_pub)]
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "forum_post")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub title: String,
        pub body: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The longest title accepted, in characters (the column is `VARCHAR(200)`).
const MAX_TITLE_CHARS: usize = 200;

/// Posts per page of `GET /posts`.
pub(crate) const PAGE_SIZE: u64 = 50;

/// How long a request may take before it is answered `408`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// `CREATE TABLE IF NOT EXISTS forum_post` for `backend`.
pub(crate) fn create_table_sql(backend: DbBackend) -> String {
    let id = match backend {
        DbBackend::Postgres => "id SERIAL PRIMARY KEY",
        DbBackend::MySql => "id INT AUTO_INCREMENT PRIMARY KEY",
        _ => "id INTEGER PRIMARY KEY AUTOINCREMENT",
    };
    format!(
        "CREATE TABLE IF NOT EXISTS forum_post ({id}, title VARCHAR(200) NOT NULL, body TEXT NOT NULL)"
    )
}

/// Create the table on `db`'s primary if it is missing. Replicas get it by
/// replication (on SQLite, the caller creates it in each file).
pub(crate) async fn create_schema(db: &MultiDb) -> Result<(), DbErr> {
    let primary = db.primary();
    primary
        .execute_unprepared(&create_table_sql(primary.get_database_backend()))
        .await?;
    Ok(())
}

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

/// The query of `GET /posts`: `?before=<id>` for the page of older posts.
#[derive(Deserialize)]
struct Page {
    before: Option<i32>,
}

/// `GET /posts`: one page of posts, newest first (keyset pagination: the
/// page after is `?before=<the last id shown>`, which stays right while
/// posts are added), and the form to write one.
async fn list(
    State(db): State<MultiDb>,
    Query(Page { before }): Query<Page>,
) -> Result<Html<String>, AppError> {
    let mut query = post::Entity::find().order_by_desc(post::Column::Id);
    if let Some(before) = before {
        query = query.filter(post::Column::Id.lt(before));
    }
    // One more than a page says whether there is a next page.
    let mut posts = query.limit(PAGE_SIZE + 1).all(&db).await?;
    let more = posts.len() as u64 > PAGE_SIZE;
    posts.truncate(PAGE_SIZE as usize);
    let mut page = String::from(
        "<!doctype html><title>forum</title><h1>Forum</h1>\n\
         <form method=post action=/posts>\
         <p><input name=title placeholder=Title required maxlength=200>\
         <p><textarea name=body placeholder=Body></textarea>\
         <p><button>Post</button></form>\n<ul>\n",
    );
    for post in &posts {
        page.push_str(&format!(
            "<li><a href=\"/posts/{}\">{}</a></li>\n",
            post.id,
            escape(&post.title)
        ));
    }
    page.push_str("</ul>\n");
    match posts.last() {
        Some(last) if more => page.push_str(&format!(
            "<p><a href=\"/posts?before={}\">older posts</a></p>\n",
            last.id
        )),
        _ => page.push_str("<p>no older posts</p>\n"),
    }
    Ok(Html(page))
}

/// The form of `POST /posts`.
#[derive(Deserialize)]
struct NewPost {
    title: String,
    #[serde(default)]
    body: String,
}

/// `POST /posts`: insert, then `303 See Other` to the new post. The
/// request is a POST, so the layer runs it on the primary and pins the
/// client: the redirected `GET` reads the primary too.
async fn create(
    State(db): State<MultiDb>,
    Form(form): Form<NewPost>,
) -> Result<Response, AppError> {
    let title = form.title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        let message = format!("a title of 1 to {MAX_TITLE_CHARS} characters is required\n");
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, message).into_response());
    }
    let created = post::ActiveModel {
        title: Set(title.to_owned()),
        body: Set(form.body),
        ..Default::default()
    }
    .insert(&db)
    .await?;
    tracing::info!(id = created.id, "post created");
    Ok(Redirect::to(&format!("/posts/{}", created.id)).into_response())
}

/// `GET /posts/{id}`: the post, or 404.
async fn show(State(db): State<MultiDb>, Path(id): Path<i32>) -> Result<Response, AppError> {
    match post::Entity::find_by_id(id).one(&db).await? {
        Some(post) => Ok(Html(format!(
            "<!doctype html><title>{title}</title><h1>{title}</h1>\n<p>{body}</p>\n\
             <p><a href=/posts>all posts</a></p>\n",
            title = escape(&post.title),
            body = escape(&post.body),
        ))
        .into_response()),
        None => Ok((StatusCode::NOT_FOUND, format!("no post #{id}\n")).into_response()),
    }
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

/// `text` made safe inside HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
