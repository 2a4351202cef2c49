//! Which connection gets which statement: every ordinary SeaORM operation run
//! through `&MultiDb` over `MockDatabase` connections, checked from the mocks'
//! own transaction logs (and from `db.stats()`), on Postgres, MySQL and SQLite.
//! One file per topic (`reads.rs`, `writes.rs`, …); this module is what they
//! share: the entities, the `MultiDb` over mocks, the log assertions.
//!
//! Each case builds a fresh `MultiDb` (its own unscoped write window, its own
//! rotation) with `RoundRobin::starting_at(0)` and, unless the rotation itself
//! is under test, one replica. A mock that receives a statement it has no
//! result queued for answers with an error, so a statement sent to the wrong
//! connection fails the operation as well as the log assertions.
#![allow(dead_code, unused_imports, unreachable_pub)]

pub use std::collections::BTreeMap;
pub use std::time::Duration;

pub use futures_util::TryStreamExt;
pub use multidb_seaorm::policy::RoundRobin;
pub use multidb_seaorm::{MultiDb, MultiDbError, Reason, Target, pin_this_task, scope, use_master};
pub use sea_orm::sea_query::{Expr, LockBehavior, LockType};
pub use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ActiveValue::Unchanged, ColumnTrait,
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, IntoDatabaseExecutor,
    IsolationLevel, LoaderTrait, MockDatabase, MockExecResult, ModelTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, RuntimeErr, Schema, Statement, StreamTrait,
    Transaction, TransactionError, TransactionOptions, TransactionTrait, Value,
};

pub const BACKENDS: [DbBackend; 3] = [DbBackend::Postgres, DbBackend::MySql, DbBackend::Sqlite];

pub mod cake {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cake")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {
        #[sea_orm(has_many = "super::fruit::Entity")]
        Fruit,
    }

    impl Related<super::fruit::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Fruit.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod fruit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "fruit")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
        pub cake_id: Option<i32>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {
        #[sea_orm(
            belongs_to = "super::cake::Entity",
            from = "Column::CakeId",
            to = "super::cake::Column::Id"
        )]
        Cake,
    }

    impl Related<super::cake::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Cake.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// The table `sea-orm-migration` keeps its applied versions in.
pub mod seaql_migrations {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "seaql_migrations")]
    pub(crate) struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: String,
        pub applied_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

// ---------------------------------------------------------------- helpers

pub fn cake(id: i32, name: &str) -> cake::Model {
    cake::Model {
        id,
        name: name.to_owned(),
    }
}

pub fn fruit(id: i32, name: &str, cake_id: i32) -> fruit::Model {
    fruit::Model {
        id,
        name: name.to_owned(),
        cake_id: Some(cake_id),
    }
}

pub fn new_cake(name: &str) -> cake::ActiveModel {
    cake::ActiveModel {
        id: NotSet,
        name: Set(name.to_owned()),
    }
}

pub fn affected(rows: u64, last_insert_id: u64) -> MockExecResult {
    MockExecResult {
        last_insert_id,
        rows_affected: rows,
    }
}

/// A mock row of one column.
pub fn row(column: &str, value: impl Into<Value>) -> BTreeMap<String, Value> {
    BTreeMap::from([(column.to_owned(), value.into())])
}

/// A `MultiDb` over these mocks, rotating from replica 0.
pub fn multidb(primary: MockDatabase, replicas: Vec<MockDatabase>) -> MultiDb {
    multidb_with_window(
        primary,
        replicas,
        Duration::from_secs(15), // the default window
    )
}

pub fn multidb_with_window(
    primary: MockDatabase,
    replicas: Vec<MockDatabase>,
    window: Duration,
) -> MultiDb {
    MultiDb::builder()
        .policy(RoundRobin::starting_at(0))
        .unscoped_write_window(window)
        .build(
            primary.into_connection(),
            replicas
                .into_iter()
                .map(MockDatabase::into_connection)
                .collect(),
        )
        .expect("the mocks all use the same backend")
}

/// Everything the mock behind `conn` received (and forget it): one
/// `Transaction` per statement run outside a transaction, one per
/// committed or rolled-back transaction.
pub fn drain(conn: &DatabaseConnection) -> Vec<Transaction> {
    conn.clone().into_transaction_log()
}

/// The SQL of every statement `conn` received, all outside transactions.
/// Backticks (MySQL) are turned into double quotes so that one expectation
/// fits every backend.
#[track_caller]
pub fn sqls(conn: &DatabaseConnection) -> Vec<String> {
    drain(conn)
        .into_iter()
        .map(|txn| match txn.statements() {
            [one] => normalize(&one.sql),
            many => panic!("expected single statements, got a transaction: {many:#?}"),
        })
        .collect()
}

/// The SQL of every transaction `conn` received, statement by statement.
pub fn transactions(conn: &DatabaseConnection) -> Vec<Vec<String>> {
    drain(conn)
        .into_iter()
        .map(|txn| txn.statements().iter().map(|s| normalize(&s.sql)).collect())
        .collect()
}

pub fn normalize(sql: &str) -> String {
    sql.replace('`', "\"")
}

/// `got` has exactly as many statements as `expected`, and each starts with
/// the matching prefix.
#[track_caller]
pub fn assert_prefixes(who: &str, got: &[String], expected: &[&str]) {
    let matches = got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .all(|(sql, prefix)| sql.starts_with(prefix));
    assert!(
        matches,
        "{who}: expected statements starting with {expected:#?}\n got {got:#?}"
    );
}

/// The routing counters are exactly these (every pair not listed is zero).
#[track_caller]
pub fn assert_routed(db: &MultiDb, expected: &[(Target, Reason, u64)]) {
    let stats = db.stats();
    for target in [Target::Primary, Target::Replica] {
        for &reason in Reason::ALL {
            let want = expected
                .iter()
                .filter(|(t, r, _)| *t == target && *r == reason)
                .map(|(_, _, n)| n)
                .sum::<u64>();
            assert_eq!(
                stats.count(target, reason),
                want,
                "statements routed to {target} for {reason}; all counters: {stats:?}"
            );
        }
    }
}

pub fn primary(db: &MultiDb) -> &DatabaseConnection {
    db.primary()
}

pub fn replica(db: &MultiDb, index: usize) -> DatabaseConnection {
    db.replicas().swap_remove(index)
}
