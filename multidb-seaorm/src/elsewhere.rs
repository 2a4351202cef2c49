//! Writes that did not go through `MultiDb`: a framework's own
//! `DatabaseConnection` to the same primary (Loco's `ctx.db`, a job queue's
//! pool). `MultiDb` cannot see them, so whoever knows they may have happened
//! says so, and they count as the scope's writes.

use std::sync::Arc;
use std::time::Instant;

use multidb_core::__private::{CapturePosition, snapshot, with_causal};

use crate::causal::Capturer;
use crate::multidb::MultiDb;

impl MultiDb {
    /// Record that the current scope may have written to the primary through
    /// another connection (a framework's own `DatabaseConnection`), once those
    /// writes are done: the scope's later reads must see them, and, with
    /// causal reads, the HTTP pinning layer captures the primary's position
    /// when the request ends (one round trip) and puts it in the client's
    /// pin, exactly as for a write routed through this `MultiDb`. Outside
    /// any scope it opens the unscoped write window, as an unscoped write
    /// does.
    ///
    /// ```
    /// use multidb_seaorm::{MultiDb, scope};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let db = MultiDb::new(sea_orm::Database::connect("sqlite::memory:").await?, vec![])?;
    /// let position = scope(async {
    ///     // ... an INSERT through another connection to the primary ...
    ///     db.wrote_elsewhere();
    ///     db.write_position().await // SQLite has no positions: None
    /// })
    /// .await?;
    /// assert!(position.is_none());
    /// # Ok(()) }
    /// ```
    pub fn wrote_elsewhere(&self) {
        let task = snapshot();
        let inner = &self.inner;
        if !task.note_write() {
            inner.unscoped_wrote();
            if inner.positions {
                inner.with_unscoped(|c| c.write_done(Instant::now()));
            }
            return;
        }
        if inner.causal {
            task.note_causal();
        }
        if let Some(request) = task.scope().filter(|_| inner.positions) {
            with_causal(request, |c| {
                c.wrote(|| {
                    inner
                        .causal
                        .then(|| Arc::new(Capturer(self.clone())) as Arc<dyn CapturePosition>)
                });
                c.write_done(Instant::now());
            });
        }
    }
}
