//! One `MultiDb` per configuration per process, whatever Loco's boot does:
//! `cargo loco start` builds its `AppContext` twice, and each build would
//! otherwise open its own pools and start its own replica monitor.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use loco_rs::app::AppContext;
use multidb_seaorm::MultiDb;

use crate::settings::{Settings, connect_options};

/// A `MultiDb` and a canary of the tokio runtime it was built in: its
/// pools and replica monitor live there, and die with it (each
/// `#[tokio::test]` has a runtime of its own).
struct Built {
    db: MultiDb,
    runtime: tokio::sync::oneshot::Receiver<()>,
}

impl Built {
    fn new(db: MultiDb) -> Self {
        let (mut alive, runtime) = tokio::sync::oneshot::channel::<()>();
        // Dropped, and the channel closed, when the runtime shuts down.
        tokio::spawn(async move {
            alive.closed().await;
        });
        Built { db, runtime }
    }

    fn usable(&mut self) -> Option<MultiDb> {
        use tokio::sync::oneshot::error::TryRecvError;
        matches!(self.runtime.try_recv(), Err(TryRecvError::Empty)).then(|| self.db.clone())
    }
}

/// The `MultiDb`s of this process, by the configuration they were built
/// from (the primary's URL and the settings).
fn built() -> &'static Mutex<HashMap<String, Built>> {
    static BUILT: OnceLock<Mutex<HashMap<String, Built>>> = OnceLock::new();
    BUILT.get_or_init(Mutex::default)
}

/// Serialises the builds, so two boots racing build one `MultiDb`.
fn building() -> &'static tokio::sync::Mutex<()> {
    static BUILDING: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    BUILDING.get_or_init(tokio::sync::Mutex::default)
}

fn key(ctx: &AppContext, settings: &Settings) -> String {
    format!("{}\n{settings:?}", ctx.config.database.uri)
}

/// The `MultiDb` for `ctx`'s configuration: built (and connected) on the
/// first call in this process, the same one on every later call.
pub(crate) async fn get_or_build(
    ctx: &AppContext,
    settings: &Settings,
) -> loco_rs::Result<MultiDb> {
    let key = key(ctx, settings);
    let _building = building().lock().await;
    let reusable = built()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_mut(&key)
        .and_then(Built::usable);
    if let Some(db) = reusable {
        tracing::debug!(target: "multidb::loco", "reusing this process's MultiDb");
        return Ok(db.clone());
    }
    let database = &ctx.config.database;
    let mut builder = settings
        .builder()
        .primary(connect_options(&database.uri, database));
    for url in settings.replica_urls(&database.uri) {
        builder = builder.replica(connect_options(&url, database));
    }
    let db = builder.connect().await.map_err(loco_rs::Error::wrap)?;
    tracing::info!(
        target: "multidb::loco",
        replicas = db.replicas().len(),
        "multidb: routed connection ready"
    );
    built()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, Built::new(db.clone()));
    Ok(db)
}

/// Forget (and close) the `MultiDb` built for `ctx`'s configuration, so
/// that a test's database can be dropped.
pub(crate) async fn release(ctx: &AppContext, settings: &Settings) {
    let removed = built()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&key(ctx, settings));
    if let Some(Built { db, .. }) = removed
        && let Err(error) = db.close_by_ref().await
    {
        tracing::warn!(target: "multidb::loco", %error, "closing the MultiDb");
    }
}
