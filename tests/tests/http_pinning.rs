//! `PinningLayer` in an axum `Router`, over a real `MultiDb` on SQLite
//! files that say which database answered (`primary`, `replica0`): what
//! pins a request, what pins the client (the `Set-Cookie`), and where the
//! reads of a pinned client go.

use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request, StatusCode, header};
use axum::routing::get;
use axum::{Extension, Router};
use multidb_seaorm::{DbWrite, MultiDb, PinningConfig, PinningLayer};
use multidb_tests::{SqliteSet, who_answers};
use sea_orm::{ConnectionTrait, DbErr};
use tower::ServiceExt;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

type Answer = Result<String, (StatusCode, String)>;

fn internal(error: DbErr) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
}

/// Which database answers a plain read.
async fn who(State(db): State<MultiDb>) -> Answer {
    who_answers(&db).await.map_err(internal)
}

/// A `#[db_write]` handler: its body runs on the primary and the client
/// is pinned, whatever the method.
#[multidb_seaorm::db_write]
async fn db_write_who(State(db): State<MultiDb>) -> Answer {
    who_answers(&db).await.map_err(internal)
}

/// Marks its response with the `DbWrite` extension (as another layer could).
async fn marked_who(
    State(db): State<MultiDb>,
) -> Result<(Extension<DbWrite>, String), (StatusCode, String)> {
    Ok((
        Extension(DbWrite),
        who_answers(&db).await.map_err(internal)?,
    ))
}

/// A GET that writes through `MultiDb`, then reads.
async fn write_then_who(State(db): State<MultiDb>) -> Answer {
    db.execute_unprepared("INSERT INTO post (title) VALUES ('written by a GET')")
        .await
        .map_err(internal)?;
    who_answers(&db).await.map_err(internal)
}

/// Fails without touching the database.
async fn fail() -> StatusCode {
    StatusCode::INTERNAL_SERVER_ERROR
}

fn router(db: MultiDb, config: PinningConfig) -> Router {
    Router::new()
        .route("/who", get(who).post(who).options(who))
        .route("/db_write", get(db_write_who))
        .route("/marked", get(marked_who))
        .route("/write", get(write_then_who))
        .route("/fail", get(fail).put(fail).patch(fail).delete(fail))
        .with_state(db)
        .layer(PinningLayer::new(config).expect("valid configuration"))
}

/// What a response said.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    set_cookie: Option<String>,
    body: String,
}

impl Reply {
    /// The `name=value` pair a browser sends back.
    fn cookie(&self) -> Result<String, String> {
        let set_cookie = self.set_cookie.as_deref().ok_or("no Set-Cookie")?;
        Ok(set_cookie.split(';').next().unwrap_or_default().to_owned())
    }
}

async fn call(
    app: &Router,
    method: Method,
    path: &str,
    cookie: Option<&str>,
) -> Result<Reply, Box<dyn std::error::Error + Send + Sync>> {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app.clone().oneshot(request.body(Body::empty())?).await?;
    let status = response.status();
    let mut cookies = response.headers().get_all(header::SET_COOKIE).iter();
    let set_cookie = cookies
        .next()
        .map(|v| v.to_str())
        .transpose()?
        .map(str::to_owned);
    assert!(cookies.next().is_none(), "more than one Set-Cookie");
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await?;
    Ok(Reply {
        status,
        set_cookie,
        body: String::from_utf8(body.to_vec())?,
    })
}

async fn app() -> Result<(SqliteSet, Router), Box<dyn std::error::Error + Send + Sync>> {
    let set = SqliteSet::new(1).await.map_err(|e| e.to_string())?;
    let app = router(set.db.clone(), PinningConfig::default());
    Ok((set, app))
}

#[tokio::test]
async fn a_get_without_cookie_reads_a_replica_and_gets_no_cookie() -> TestResult {
    let (_set, app) = app().await?;
    let reply = call(&app, Method::GET, "/who", None).await?;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "replica0");
    assert_eq!(reply.set_cookie, None);
    Ok(())
}

#[tokio::test]
async fn a_post_reads_the_primary_and_pins_the_client_whose_next_get_reads_the_primary()
-> TestResult {
    let (_set, app) = app().await?;
    let posted = call(&app, Method::POST, "/who", None).await?;
    assert_eq!(posted.body, "primary", "a POST runs pinned");
    let set_cookie = posted.set_cookie.as_deref().ok_or("POST set no cookie")?;
    assert!(
        set_cookie.starts_with("multidb_pin_writes="),
        "{set_cookie}"
    );
    assert!(
        set_cookie.ends_with("; Path=/; SameSite=Lax; HttpOnly; Secure"),
        "{set_cookie}"
    );
    let cookie = posted.cookie()?;

    let again = call(&app, Method::GET, "/who", Some(&cookie)).await?;
    assert_eq!(again.body, "primary");
    assert_eq!(again.set_cookie, None, "reading does not extend the pin");

    // Another client, without the cookie, still reads the replica.
    let other = call(&app, Method::GET, "/who", None).await?;
    assert_eq!(other.body, "replica0");
    Ok(())
}

#[tokio::test]
async fn a_db_write_get_handler_reads_the_primary_and_pins_the_client() -> TestResult {
    let (_set, app) = app().await?;
    let reply = call(&app, Method::GET, "/db_write", None).await?;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "primary");
    let cookie = reply.cookie()?;
    assert!(cookie.starts_with("multidb_pin_writes="), "{cookie}");
    let next = call(&app, Method::GET, "/who", Some(&cookie)).await?;
    assert_eq!(next.body, "primary");
    Ok(())
}

#[tokio::test]
async fn a_response_marked_db_write_pins_the_client() -> TestResult {
    let (_set, app) = app().await?;
    let reply = call(&app, Method::GET, "/marked", None).await?;
    // The mark acts after the response: this request itself read a replica.
    assert_eq!(reply.body, "replica0");
    let cookie = reply.cookie()?;
    let next = call(&app, Method::GET, "/who", Some(&cookie)).await?;
    assert_eq!(next.body, "primary");
    Ok(())
}

#[tokio::test]
async fn a_get_that_writes_through_multidb_pins_the_client() -> TestResult {
    let (set, app) = app().await?;
    let reply = call(&app, Method::GET, "/write", None).await?;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.body, "primary", "read after write in the request");
    let cookie = reply.cookie()?;
    let next = call(&app, Method::GET, "/who", Some(&cookie)).await?;
    assert_eq!(next.body, "primary");

    // With pin_on_any_write(false), as in django-multidb-router, a GET
    // that writes reads its writes but does not pin the client.
    let strict = router(
        set.db.clone(),
        PinningConfig::default().pin_on_any_write(false),
    );
    let reply = call(&strict, Method::GET, "/write", None).await?;
    assert_eq!(reply.body, "primary");
    assert_eq!(reply.set_cookie, None);
    Ok(())
}

#[tokio::test]
async fn put_patch_delete_pin_the_client_even_when_they_fail() -> TestResult {
    let (_set, app) = app().await?;
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let reply = call(&app, method.clone(), "/fail", None).await?;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        let cookie = reply.cookie()?;
        assert!(
            cookie.starts_with("multidb_pin_writes="),
            "{method}: {cookie}"
        );
    }
    let get = call(&app, Method::GET, "/fail", None).await?;
    assert_eq!(get.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(get.set_cookie, None, "a failing GET that wrote nothing");
    Ok(())
}

#[tokio::test]
async fn head_and_options_read_a_replica_and_get_no_cookie() -> TestResult {
    let (_set, app) = app().await?;
    let head = call(&app, Method::HEAD, "/who", None).await?;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.body, "", "HEAD has no body");
    assert_eq!(head.set_cookie, None);

    let options = call(&app, Method::OPTIONS, "/who", None).await?;
    assert_eq!(options.status, StatusCode::OK);
    assert_eq!(options.body, "replica0");
    assert_eq!(options.set_cookie, None);
    Ok(())
}

#[tokio::test]
async fn an_expired_or_garbage_cookie_does_not_pin() -> TestResult {
    let (_set, app) = app().await?;
    for cookie in [
        "multidb_pin_writes=1",
        "multidb_pin_writes=soon",
        "multidb_pin_writes=",
        "other=1",
    ] {
        let reply = call(&app, Method::GET, "/who", Some(cookie)).await?;
        assert_eq!(reply.body, "replica0", "{cookie}");
        assert_eq!(reply.set_cookie, None, "{cookie}");
    }
    Ok(())
}
