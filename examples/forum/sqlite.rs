//! A replicated database on embedded SQLite, for the forum without a server.
//!
//! SQLite has no replication, so it is played: a temporary folder holds a
//! primary file and replica files; `MultiDb` opens the replicas read-only
//! (`mode=ro`, so a misrouted write fails loudly), and a background task,
//! the *replayer*, copies each new post from the primary into every replica
//! file through its own read-write connections, `lag` after it appeared.
//! The forum only inserts posts, so replaying inserts is all it takes.

use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

use multidb_seaorm::MultiDb;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, QueryOrder, Statement};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::model::{create_table_sql, post};

/// How often the replayer looks for new posts on the primary.
const POLL: Duration = Duration::from_millis(50);

/// The files, the routed connection over them, and the replayer.
pub(crate) struct SqliteForum {
    /// Primary `primary.db` (read-write), replicas `replica<N>.db` (read-only).
    pub(crate) db: MultiDb,
    dir: tempfile::TempDir,
    replayer: JoinHandle<()>,
    /// The replayer's own connections, to close them (see `close`).
    replayer_pools: Vec<DatabaseConnection>,
}

impl SqliteForum {
    /// Create the files in a new temporary folder, connect, and start the
    /// replayer with `lag`.
    pub(crate) async fn start(
        replicas: usize,
        lag: Duration,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let dir = tempfile::Builder::new()
            .prefix("multidb-forum-")
            .tempdir()?;
        let schema = create_table_sql(DbBackend::Sqlite);
        let primary = dir.path().join("primary.db");
        let seed = Database::connect(url(&primary, "rwc")).await?;
        seed.execute_unprepared(&schema).await?;
        seed.close().await?;

        let mut builder = MultiDb::builder().primary(url(&primary, "rw"));
        let mut writers = Vec::new();
        for index in 0..replicas {
            let path = dir.path().join(format!("replica{index}.db"));
            let writer = Database::connect(url(&path, "rwc")).await?;
            writer.execute_unprepared(&schema).await?;
            writers.push(writer);
            builder = builder.replica(url(&path, "ro"));
        }
        let db = builder.connect().await?;

        let source = Database::connect(url(&primary, "ro")).await?;
        let mut replayer_pools = writers.clone();
        replayer_pools.push(source.clone());
        let replayer = tokio::spawn(replay(source, writers, lag));
        Ok(SqliteForum {
            db,
            dir,
            replayer,
            replayer_pools,
        })
    }

    /// The folder holding the files (removed when `self` is dropped).
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stop the replayer and close every pool, its own included, while
    /// the runtime still runs, so that no pool task outlives the test or
    /// the server. (The forum's end-to-end test once hung in
    /// `Runtime::drop` on a pool's maintenance task: sqlx-core 0.9.0's
    /// idle-count underflow, launchbadge/sqlx#3645, fixed in 0.9.1.)
    pub(crate) async fn close(&mut self) -> Result<(), DbErr> {
        self.replayer.abort();
        let _ = (&mut self.replayer).await;
        for pool in &self.replayer_pools {
            pool.close_by_ref().await?;
        }
        self.db.close_by_ref().await
    }
}

impl Drop for SqliteForum {
    fn drop(&mut self) {
        self.replayer.abort();
    }
}

/// `sqlite://<path>?mode=<mode>`.
fn url(path: &Path, mode: &str) -> String {
    format!("sqlite://{}?mode={mode}", path.display())
}

/// Copy each new post of `source` into every replica of `replicas`, `lag`
/// after it was first seen. Runs until aborted; errors are logged and the
/// post retried.
async fn replay(source: DatabaseConnection, replicas: Vec<DatabaseConnection>, lag: Duration) {
    let mut last_seen = 0;
    let mut pending: VecDeque<(Instant, post::Model)> = VecDeque::new();
    let mut tick = tokio::time::interval(POLL);
    loop {
        tick.tick().await;
        match post::Entity::find()
            .filter(post::Column::Id.gt(last_seen))
            .order_by_asc(post::Column::Id)
            .all(&source)
            .await
        {
            Ok(posts) => {
                for post in posts {
                    last_seen = post.id;
                    pending.push_back((Instant::now() + lag, post));
                }
            }
            Err(error) => tracing::warn!(%error, "replayer: cannot read the primary"),
        }
        while let Some((due, post)) = pending.front() {
            if *due > Instant::now() {
                break;
            }
            if let Err(error) = copy(post, &replicas).await {
                tracing::warn!(%error, id = post.id, "replayer: cannot write a replica; retrying");
                break;
            }
            tracing::info!(
                id = post.id,
                lag_ms = lag.as_millis(),
                "replayer: post reached the replicas"
            );
            pending.pop_front();
        }
    }
}

/// Write `post` into every replica (idempotent: a retry overwrites).
async fn copy(post: &post::Model, replicas: &[DatabaseConnection]) -> Result<(), DbErr> {
    for replica in replicas {
        replica
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT OR REPLACE INTO forum_post (id, title, body) VALUES (?, ?, ?)",
                [
                    post.id.into(),
                    post.title.clone().into(),
                    post.body.clone().into(),
                ],
            ))
            .await?;
    }
    Ok(())
}
