//! What `MultiDb` offers beside SeaORM's traits, as `DatabaseConnection`
//! does, so that swapping one for the other compiles: `ping`, `close`, the
//! schema builder, async-closure transactions and the driver pools.

use futures_util::future::{join, join_all};
use sea_orm::{
    AccessMode, DatabaseTransaction, DbErr, IsolationLevel, RuntimeErr, SchemaBuilder,
    TransactionError,
};

use crate::error::Role;
use crate::multidb::MultiDb;

impl MultiDb {
    /// Check that the primary and every replica answer (concurrently). The
    /// error names the first database that does not.
    ///
    /// A replica that is down fails it, although reads go on without it:
    /// for a readiness probe that tolerates that, ping
    /// [`primary()`](Self::primary) and read
    /// [`replica_status()`](Self::replica_status).
    ///
    /// ```
    /// # use multidb_seaorm::MultiDb;
    /// # use sea_orm::Database;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let db = MultiDb::new(
    ///     Database::connect("sqlite::memory:").await?,
    ///     vec![Database::connect("sqlite::memory:").await?],
    /// )?;
    /// db.ping().await?;
    /// db.close().await?;
    /// # Ok(()) }
    /// ```
    pub async fn ping(&self) -> Result<(), DbErr> {
        let set = self.inner.replicas.load_full();
        let replicas = join_all(set.members.iter().map(|m| m.connection.ping()));
        let (primary, replicas) = join(self.inner.primary.ping(), replicas).await;
        first_error(primary, replicas)
    }

    /// Close the primary's and every replica's pool, and stop the replica
    /// monitor. Statements sent afterwards fail. See
    /// [`close_by_ref`](Self::close_by_ref) for use through a reference.
    pub async fn close(self) -> Result<(), DbErr> {
        self.close_by_ref().await
    }

    /// Close the primary's and every replica's pool (concurrently), and stop
    /// the replica monitor; clones of this `MultiDb` are closed too. The
    /// error names the first database that failed to close.
    pub async fn close_by_ref(&self) -> Result<(), DbErr> {
        self.inner.close();
        let set = self.inner.replicas.load_full();
        let replicas = join_all(set.members.iter().map(|m| m.connection.close_by_ref()));
        let (primary, replicas) = join(self.inner.primary.close_by_ref(), replicas).await;
        first_error(primary, replicas)
    }

    /// A [`SchemaBuilder`] for this backend; what it creates runs on the
    /// primary (DDL is a write).
    ///
    /// ```
    /// # use multidb_seaorm::MultiDb;
    /// # use sea_orm::Database;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let db = MultiDb::new(Database::connect("sqlite::memory:").await?, vec![])?;
    /// let schema = db.get_schema_builder(); // .register(post::Entity).apply(&db)
    /// # let _ = schema;
    /// # Ok(()) }
    /// ```
    pub fn get_schema_builder(&self) -> SchemaBuilder {
        self.inner.primary.get_schema_builder()
    }

    /// Run `callback` in a transaction on the primary: committed when it
    /// returns `Ok`, rolled back otherwise (SeaORM's
    /// `DatabaseConnection::transaction_async`). It counts as a write for
    /// read-your-writes, seen once it committed.
    ///
    /// ```
    /// # use multidb_seaorm::MultiDb;
    /// # use sea_orm::{ConnectionTrait, Database, DbErr};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let db = MultiDb::new(Database::connect("sqlite::memory:").await?, vec![])?;
    /// db.transaction_async(async |txn| {
    ///     txn.execute_unprepared("CREATE TABLE t (x INT)").await?;
    ///     txn.execute_unprepared("INSERT INTO t VALUES (1)").await?;
    ///     Ok::<_, DbErr>(())
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn transaction_async<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> AsyncFnOnce(&'c DatabaseTransaction) -> Result<T, E> + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.awaited_transaction(None, |primary| primary.transaction_async(callback))
            .await
    }

    /// [`transaction_async`](Self::transaction_async) with an isolation
    /// level and/or an access mode. A `READ ONLY` one still runs on the
    /// primary, but does not count as a write.
    pub async fn transaction_with_config_async<F, T, E>(
        &self,
        callback: F,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> AsyncFnOnce(&'c DatabaseTransaction) -> Result<T, E> + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.awaited_transaction(access_mode, |primary| {
            primary.transaction_with_config_async(callback, isolation_level, access_mode)
        })
        .await
    }

    /// The primary's sqlx pool. Statements sent through it bypass routing;
    /// the replicas' are in [`replicas()`](Self::replicas).
    ///
    /// # Panics
    ///
    /// When the primary is not a PostgreSQL connection (as SeaORM's).
    #[cfg(feature = "sqlx-postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlx-postgres")))]
    pub fn get_postgres_connection_pool(&self) -> &sea_orm::sqlx::PgPool {
        self.inner.primary.get_postgres_connection_pool()
    }

    /// The primary's sqlx pool. Statements sent through it bypass routing;
    /// the replicas' are in [`replicas()`](Self::replicas).
    ///
    /// # Panics
    ///
    /// When the primary is not a MySQL/MariaDB connection (as SeaORM's).
    #[cfg(feature = "sqlx-mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlx-mysql")))]
    pub fn get_mysql_connection_pool(&self) -> &sea_orm::sqlx::MySqlPool {
        self.inner.primary.get_mysql_connection_pool()
    }

    /// The primary's sqlx pool. Statements sent through it bypass routing;
    /// the replicas' are in [`replicas()`](Self::replicas).
    ///
    /// # Panics
    ///
    /// When the primary is not a SQLite connection (as SeaORM's).
    #[cfg(feature = "sqlx-sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlx-sqlite")))]
    pub fn get_sqlite_connection_pool(&self) -> &sea_orm::sqlx::SqlitePool {
        self.inner.primary.get_sqlite_connection_pool()
    }
}

/// The first error of the primary's and the replicas' results, with the
/// database it came from.
fn first_error(primary: Result<(), DbErr>, replicas: Vec<Result<(), DbErr>>) -> Result<(), DbErr> {
    let roles = std::iter::once(Role::Primary).chain((0..replicas.len()).map(Role::Replica));
    for (role, result) in roles.zip(std::iter::once(primary).chain(replicas)) {
        result.map_err(|error| DbErr::Conn(RuntimeErr::Internal(format!("{role}: {error}"))))?;
    }
    Ok(())
}
