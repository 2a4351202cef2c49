//! Loco's request tests, keeping the pin cookie (feature `testing`).
//!
//! Loco's test client drops cookies unless asked: a test that writes and
//! then reads (register, then current user) would read a replica that
//! may lag. These are `loco_rs::testing::request::request` and
//! `request_with_create_db` with the cookie kept, and the routed
//! connection closed at the end (so the per-test database can be
//! dropped); with replica URLs that follow the primary's database
//! (`follow_primary_database`, the default), a per-test database is read
//! on the replicas too.
//!
//! ```ignore
//! use multidb_loco::testing::request;
//!
//! #[tokio::test]
//! #[serial]
//! async fn can_get_current_user() {
//!     request::<App, _, _>(|request, ctx| async move { /* ... */ }).await;
//! }
//! ```

use std::future::Future;

use loco_rs::app::{AppContext, Hooks};
use loco_rs::testing::request::{
    RequestConfigBuilder, request_config_with_create_db, request_with_config,
};

pub use loco_rs::TestServer;

use crate::settings::Settings;

/// `loco_rs::testing::request::request`, keeping cookies.
pub async fn request<H: Hooks, F, Fut>(callback: F)
where
    F: FnOnce(TestServer, AppContext) -> Fut,
    Fut: Future<Output = ()>,
{
    let config = RequestConfigBuilder::new().save_cookies(true).build();
    request_with_config::<H, _, _>(config, |server, ctx| run(callback, server, ctx)).await;
}

/// `loco_rs::testing::request::request_with_create_db`, keeping cookies;
/// the context's connections are closed at the end, so that the test
/// database can be dropped.
pub async fn request_with_create_db<H: Hooks, F, Fut>(callback: F)
where
    F: FnOnce(TestServer, AppContext) -> Fut,
    Fut: Future<Output = ()>,
{
    let config = RequestConfigBuilder::new().save_cookies(true).build();
    request_config_with_create_db::<H, _, _>(config, |server, ctx| async move {
        run(callback, server, ctx.clone()).await;
        // Loco drops the test database while the context's own pool still
        // holds a session there (PostgreSQL refuses: 55006).
        if let Err(error) = ctx.db.close_by_ref().await {
            tracing::warn!(target: "multidb::loco", %error, "closing ctx.db");
        }
    })
    .await;
}

async fn run<F, Fut>(callback: F, server: TestServer, ctx: AppContext)
where
    F: FnOnce(TestServer, AppContext) -> Fut,
    Fut: Future<Output = ()>,
{
    callback(server, ctx.clone()).await;
    let _ = ctx.shared_store.remove::<crate::MultiDb>();
    if let Ok(Some(settings)) = Settings::from_config(&ctx.config) {
        crate::registry::release(&ctx, &settings).await;
    }
}
