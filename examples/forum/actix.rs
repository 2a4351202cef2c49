//! The same forum on actix-web: the same pages, the same `PinningConfig`,
//! `PinningMiddleware` instead of `PinningLayer`.
//!
//! Middleware order: in actix-web the last `.wrap` is the outermost, so
//! `PinningMiddleware` is wrapped after anything that may answer for a
//! handler, and the access log after it (it sees the `Set-Cookie`).
//! actix-web does not catch handler panics, so the middleware does
//! (`catch_panics(true)`): a panic after a write still answers 500 with
//! the pin.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpResponse, ResponseError, web};
use multidb_seaorm::{ConfigError, MultiDb, PinningConfig, PinningMiddleware};
use sea_orm::DbErr;

use crate::model::{self, NewPost, Page};
use crate::observe::{PROMETHEUS_TEXT, Scrape};

/// The pinning middleware of the forum (see `app::pinning` for the
/// cookie's attributes and the key).
pub(crate) fn pinning(key: Option<&str>) -> Result<PinningMiddleware, ConfigError> {
    let mut config = PinningConfig::default().secure(false).catch_panics(true);
    if let Some(key) = key {
        config = config.signing_key(key);
    }
    PinningMiddleware::new(config)
}

/// The forum's routes, for `App::configure`.
fn routes(config: &mut web::ServiceConfig) {
    config
        .route(
            "/",
            web::get().to(|| async {
                HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, "/posts"))
                    .finish()
            }),
        )
        .route("/posts", web::get().to(list))
        .route("/posts", web::post().to(create))
        .route("/posts/{id}", web::get().to(show));
}

/// The whole application, in the order that keeps the pin: the routes,
/// then `pinning`, then the access log outermost.
pub(crate) fn app(
    db: MultiDb,
    pinning: PinningMiddleware,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(db))
        .configure(routes)
        .wrap(pinning)
        .wrap(from_fn(access_log))
}

/// `GET /multidb`, and `GET /metrics` with `scrape` (see `observe.rs`),
/// for `App::configure`.
pub(crate) fn observe(scrape: Option<Scrape>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config.route(
            "/multidb",
            web::get().to(|db: web::Data<MultiDb>| async move {
                HttpResponse::Ok()
                    .content_type("text/html; charset=utf-8")
                    .body(db.status_page())
            }),
        );
        if let Some(scrape) = scrape {
            config.route(
                "/metrics",
                web::get().to(move || {
                    let text = scrape();
                    async move { HttpResponse::Ok().content_type(PROMETHEUS_TEXT).body(text) }
                }),
            );
        }
    }
}

async fn list(db: web::Data<MultiDb>, page: web::Query<Page>) -> Result<HttpResponse, AppError> {
    let page = model::list_page(&db, page.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page))
}

async fn create(
    db: web::Data<MultiDb>,
    form: web::Form<NewPost>,
) -> Result<HttpResponse, AppError> {
    Ok(match model::create_post(&db, form.into_inner()).await? {
        Ok(id) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/posts/{id}")))
            .finish(),
        Err(message) => HttpResponse::UnprocessableEntity().body(message),
    })
}

async fn show(db: web::Data<MultiDb>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    Ok(match model::post_page(&db, id).await? {
        Some(page) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(page),
        None => HttpResponse::NotFound().body(format!("no post #{id}\n")),
    })
}

/// A database error, answered with 500 (a handler's error response still
/// passes through the pinning middleware, so a POST that failed is pinned).
#[derive(Debug)]
struct AppError(DbErr);

impl From<DbErr> for AppError {
    fn from(error: DbErr) -> Self {
        AppError(error)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("database error")
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!(error = %self.0, "database error");
        HttpResponse::InternalServerError().body("database error\n")
    }
}

/// One log line per request, with whether the response pins the client.
async fn access_log(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = next.call(request).await?;
    let sets_pin = response.headers().contains_key(header::SET_COOKIE);
    tracing::info!(
        status = response.status().as_u16(),
        sets_pin,
        "{method} {uri}"
    );
    Ok(response)
}
