//! SeaORM's connection traits for [`MultiDb`]: every statement goes down
//! the read path (`read_path.rs`); transactions and executors go to the
//! primary.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use multidb_core::__private::Op;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseExecutor, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, IntoDatabaseExecutor, IsolationLevel, QueryResult, QueryStream, Statement,
    StreamTrait, TransactionError, TransactionOptions, TransactionTrait,
};

use crate::multidb::MultiDb;
use crate::read_path::{Pending, transaction};

#[async_trait::async_trait]
impl ConnectionTrait for MultiDb {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.primary.get_database_backend()
    }

    // The statement methods return `run`'s future boxed as it is: written
    // out, not `async fn`, so that `async_trait` puts no state machine of
    // its own around it.

    fn execute_raw<'a, 'async_trait>(&'a self, stmt: Statement) -> Pending<'async_trait, ExecResult>
    where
        'a: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(self.run(stmt, |db, stmt| db.execute_raw(stmt)))
    }

    fn execute_unprepared<'a, 'b, 'async_trait>(
        &'a self,
        sql: &'b str,
    ) -> Pending<'async_trait, ExecResult>
    where
        'a: 'async_trait,
        'b: 'async_trait,
        Self: 'async_trait,
    {
        // Owned: the future borrows it from its own state, and a retry
        // needs it again.
        Box::pin(self.run(sql.to_owned(), |db, sql| {
            Box::pin(async move { db.execute_unprepared(&sql).await })
        }))
    }

    fn query_one_raw<'a, 'async_trait>(
        &'a self,
        stmt: Statement,
    ) -> Pending<'async_trait, Option<QueryResult>>
    where
        'a: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(self.run(stmt, |db, stmt| db.query_one_raw(stmt)))
    }

    fn query_all_raw<'a, 'async_trait>(
        &'a self,
        stmt: Statement,
    ) -> Pending<'async_trait, Vec<QueryResult>>
    where
        'a: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(self.run(stmt, |db, stmt| db.query_all_raw(stmt)))
    }

    fn support_returning(&self) -> bool {
        self.inner.primary.support_returning()
    }

    fn is_mock_connection(&self) -> bool {
        self.inner.primary.is_mock_connection()
    }
}

impl StreamTrait for MultiDb {
    type Stream<'a> = QueryStream;

    fn get_database_backend(&self) -> DbBackend {
        self.inner.primary.get_database_backend()
    }

    fn stream_raw<'a>(&'a self, stmt: Statement) -> Pending<'a, QueryStream> {
        Box::pin(self.run(stmt, |db, stmt| db.stream_raw(stmt)))
    }
}

/// Transactions run on the primary, and everything inside them with them.
/// Opening one counts as a write for read-your-writes.
#[async_trait::async_trait]
impl TransactionTrait for MultiDb {
    type Transaction = DatabaseTransaction;

    async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.primary_for(Op::Transaction { read_only: false }, "BEGIN")
            .begin()
            .await
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.primary_for(transaction(access_mode), "BEGIN")
            .begin_with_config(isolation_level, access_mode)
            .await
    }

    async fn begin_with_options(
        &self,
        options: TransactionOptions,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.primary_for(transaction(options.access_mode), "BEGIN")
            .begin_with_options(options)
            .await
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: fmt::Display + fmt::Debug + Send,
    {
        self.awaited_transaction(None, |primary| primary.transaction(callback))
            .await
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: fmt::Display + fmt::Debug + Send,
    {
        self.awaited_transaction(access_mode, |primary| {
            primary.transaction_with_config(callback, isolation_level, access_mode)
        })
        .await
    }
}

/// Migrations and other `DatabaseExecutor` users run on the primary
/// (`Migrator::up(&db, None)`); this counts as a write for read-your-writes.
impl<'c> IntoDatabaseExecutor<'c> for &'c MultiDb {
    fn into_database_executor(self) -> DatabaseExecutor<'c> {
        DatabaseExecutor::Connection(self.primary_for(Op::Executor, "(migration executor)"))
    }
}
