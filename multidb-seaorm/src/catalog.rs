//! Loading the server's catalog of functions and operators for the
//! classifier: which names are built-in, an extension's or a user's, and
//! whether each may write (PostgreSQL `provolatile`, MariaDB/MySQL
//! `SQL_DATA_ACCESS`, SQLite's function flags).

use multidb_core::{Catalog, Dialect, Origin, Volatility};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement};

/// PostgreSQL functions of every schema (all overloads count, so a user
/// function that shadows a built-in on the `search_path` is seen), with
/// where they come from: `pg_catalog`/`information_schema` (`b`), a member
/// of an extension (`e`), or a user's (`u`). Procedures are left out: only
/// `CALL` runs them, and that is a write anyway.
pub(crate) const POSTGRES_FUNCTIONS: &str = "\
SELECT p.proname::text AS name, p.provolatile::text AS volatility, \
       CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                         WHERE d.classid = 'pg_catalog.pg_proc'::regclass \
                           AND d.objid = p.oid AND d.deptype = 'e') THEN 'e' \
            WHEN n.nspname IN ('pg_catalog', 'information_schema') THEN 'b' \
            ELSE 'u' END AS origin \
FROM pg_catalog.pg_proc p \
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
WHERE p.prokind <> 'p'";

/// PostgreSQL operators, with the volatility of the function behind each.
pub(crate) const POSTGRES_OPERATORS: &str = "\
SELECT o.oprname::text AS name, p.provolatile::text AS volatility, \
       CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                         WHERE d.classid = 'pg_catalog.pg_operator'::regclass \
                           AND d.objid = o.oid AND d.deptype = 'e') THEN 'e' \
            WHEN n.nspname IN ('pg_catalog', 'information_schema') THEN 'b' \
            ELSE 'u' END AS origin \
FROM pg_catalog.pg_operator o \
JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode \
JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace";

/// MariaDB/MySQL stored functions of every schema the user can see. Their
/// `SQL_DATA_ACCESS` is declared, not enforced: a function declared
/// `READS SQL DATA` that writes is the declaration's fault.
pub(crate) const MYSQL_FUNCTIONS: &str = "\
SELECT CAST(ROUTINE_NAME AS CHAR) AS name, CAST(SQL_DATA_ACCESS AS CHAR) AS access \
FROM information_schema.ROUTINES WHERE ROUTINE_TYPE = 'FUNCTION'";

/// SQLite's functions as the connection knows them, application-defined
/// ones and compiled-in extensions' included (`builtin = 0`).
pub(crate) const SQLITE_FUNCTIONS: &str = "SELECT name, builtin, flags FROM pragma_function_list";

/// A cheap fingerprint of the catalog: it changes when a function or
/// operator is created, replaced or dropped (PostgreSQL: the row counts
/// and the newest row versions of `pg_proc` and `pg_operator`; MariaDB: the
/// count and last change of the stored functions; SQLite: the number of
/// functions the connection knows). The monitor can poll it and reload the
/// catalog with [`load_catalog`] only when it changed.
pub(crate) const POSTGRES_VERSION: &str = "\
SELECT concat_ws(':', (SELECT count(*) FROM pg_catalog.pg_proc), \
                      (SELECT max(xmin::text::bigint) FROM pg_catalog.pg_proc), \
                      (SELECT count(*) FROM pg_catalog.pg_operator), \
                      (SELECT max(xmin::text::bigint) FROM pg_catalog.pg_operator)) AS v";

/// See [`POSTGRES_VERSION`].
pub(crate) const MYSQL_VERSION: &str = "\
SELECT CAST(CONCAT(COUNT(*), ':', COALESCE(MAX(LAST_ALTERED), '')) AS CHAR) AS v \
FROM information_schema.ROUTINES WHERE ROUTINE_TYPE = 'FUNCTION'";

/// See [`POSTGRES_VERSION`].
pub(crate) const SQLITE_VERSION: &str =
    "SELECT CAST(count(*) AS TEXT) AS v FROM pragma_function_list";

/// Whether `sql` may change the catalog of functions and operators: its
/// first word (after spaces and comments) is `CREATE`, `ALTER` or `DROP`.
/// Such a statement makes the monitor check the catalog's fingerprint on
/// its next ticks instead of waiting for the periodic check; any other
/// DDL costs one fingerprint query, nothing more.
pub(crate) fn may_change_catalog(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if let Some(comment) = rest.strip_prefix("--") {
            rest = comment.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(comment) = rest.strip_prefix("/*") {
            rest = comment.split_once("*/").map_or("", |(_, after)| after);
        } else {
            break;
        }
        rest = rest.trim_start();
    }
    let word = rest
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default();
    ["create", "alter", "drop"]
        .iter()
        .any(|ddl| word.eq_ignore_ascii_case(ddl))
}

/// The catalog's fingerprint ([`POSTGRES_VERSION`]): poll it, and call
/// [`load_catalog`] again when it differs from the last one.
///
/// # Errors
///
/// The query's.
pub(crate) async fn catalog_version(db: &DatabaseConnection) -> Result<String, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => POSTGRES_VERSION,
        DbBackend::MySql => MYSQL_VERSION,
        _ => SQLITE_VERSION,
    };
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| DbErr::Custom("the catalog version query returned no row".into()))?;
    row.try_get("", "v")
}

/// Load the catalog of the server `db` talks to (the primary), for
/// `Classifier::with_catalog` (or `Classifier::classify_with`). One query
/// per kind of object; on PostgreSQL with PostGIS about 4,000 rows.
///
/// # Errors
///
/// The first query or row that fails.
pub(crate) async fn load_catalog(db: &DatabaseConnection) -> Result<Catalog, DbErr> {
    let backend = db.get_database_backend();
    let rows = |sql: &'static str| db.query_all_raw(Statement::from_string(backend, sql));
    let catalog = match backend {
        DbBackend::Postgres => {
            let mut builder = Catalog::builder(Dialect::Postgres);
            for row in rows(POSTGRES_FUNCTIONS).await? {
                let (name, origin, volatility) = postgres_entry(&row)?;
                builder.function(&name, origin, volatility);
            }
            for row in rows(POSTGRES_OPERATORS).await? {
                let (name, origin, volatility) = postgres_entry(&row)?;
                builder.operator(&name, origin, volatility);
            }
            builder.build()
        }
        DbBackend::MySql => {
            let mut builder = Catalog::builder(Dialect::MySql);
            for row in rows(MYSQL_FUNCTIONS).await? {
                let name: String = row.try_get("", "name")?;
                let access: Option<String> = row.try_get("", "access")?;
                let volatility = access
                    .as_deref()
                    .and_then(Volatility::from_sql_data_access)
                    .unwrap_or(Volatility::Volatile);
                builder.function(&name, Origin::User, volatility);
            }
            builder.build()
        }
        DbBackend::Sqlite => {
            let mut builder = Catalog::builder(Dialect::Sqlite);
            for row in rows(SQLITE_FUNCTIONS).await? {
                let name: String = row.try_get("", "name")?;
                let builtin: i64 = row.try_get("", "builtin")?;
                let flags: i64 = row.try_get("", "flags")?;
                // `builtin = 0` covers the application's functions and the
                // compiled-in extensions alike (FTS5's `highlight`, `bm25`):
                // judged as an extension's, by the allow list first.
                let origin = if builtin != 0 {
                    Origin::BuiltIn
                } else {
                    Origin::Extension
                };
                builder.function(&name, origin, Volatility::from_sqlite_flags(flags));
            }
            builder.build()
        }
        other => {
            return Err(DbErr::Custom(format!(
                "no function catalog for the {other:?} backend"
            )));
        }
    };
    Ok(catalog)
}

fn postgres_entry(row: &QueryResult) -> Result<(String, Origin, Volatility), DbErr> {
    let name: String = row.try_get("", "name")?;
    let volatility: String = row.try_get("", "volatility")?;
    let origin: String = row.try_get("", "origin")?;
    let origin = match origin.as_str() {
        "b" => Origin::BuiltIn,
        "e" => Origin::Extension,
        _ => Origin::User,
    };
    let volatility = Volatility::from_pg_provolatile(&volatility).unwrap_or(Volatility::Volatile);
    Ok((name, origin, volatility))
}

/// The loader and the classifier against the real servers of
/// `scripts/replicas.sh` (PostgreSQL with PostGIS, MariaDB) and SQLite.
#[cfg(test)]
mod tests {
    #[test]
    fn ddl_that_may_change_the_catalog_is_recognised() {
        for sql in [
            "CREATE FUNCTION f() RETURNS int STABLE LANGUAGE sql AS 'SELECT 1'",
            "  create or replace function f() returns int as 'select 1' language sql",
            "/* migration 7 */ -- functions\n ALTER FUNCTION f() IMMUTABLE",
            "DROP EXTENSION postgis",
            "CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = f)",
        ] {
            assert!(super::may_change_catalog(sql), "{sql}");
        }
        for sql in [
            "SELECT 1",
            "INSERT INTO created (a) VALUES (1)",
            "UPDATE t SET dropped = true",
            "-- CREATE FUNCTION\nSELECT 1",
            "/* unterminated CREATE",
            "",
        ] {
            assert!(!super::may_change_catalog(sql), "{sql}");
        }
    }

    use std::sync::Arc;

    use multidb_core::{Access, Classifier, Dialect, classify_for};
    use sea_orm::{
        ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, TransactionTrait,
    };

    /// The realistic-read corpus of multidb-core's tests: `dialect|SQL`.
    const CORPUS: &str = include_str!("../../multidb-core/tests/data/realistic_reads.txt");

    fn corpus(tag: &str) -> impl Iterator<Item = &'static str> {
        CORPUS
            .lines()
            .filter_map(|line| line.split_once('|'))
            .filter(move |(d, _)| *d == tag)
            .map(|(_, sql)| sql)
    }

    use super::load_catalog;

    /// The server's URL, or `None` when a developer opted out of server
    /// tests (`MULTIDB_SKIP_SERVER_TESTS=1`, never in CI).
    fn server(var: &str) -> Option<String> {
        let skip = std::env::var_os("CI").is_none()
            && std::env::var_os("MULTIDB_TEST_SERVERS").is_none()
            && std::env::var("MULTIDB_SKIP_SERVER_TESTS").is_ok_and(|v| v == "1");
        match std::env::var(var) {
            Ok(url) if !url.is_empty() => Some(url),
            _ if skip => None,
            _ => panic!(
                "{var} is not set: run these tests under `scripts/replicas.sh run -- cargo test` \
                 (or set MULTIDB_SKIP_SERVER_TESTS=1 to skip them locally)"
            ),
        }
    }

    async fn exec(db: &DatabaseConnection, sql: &str) {
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    async fn run(db: &DatabaseConnection, sql: &str) {
        db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    async fn value(db: &DatabaseConnection, sql: &str) -> Option<i64> {
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))?;
        row.try_get_by_index::<Option<i64>>(0).ok().flatten()
    }

    /// A fresh database on the cluster's PostgreSQL primary with PostGIS,
    /// pg_trgm and user functions and operators of each volatility.
    async fn postgres_with_postgis() -> Option<DatabaseConnection> {
        let url = server("MULTIDB_PG_PRIMARY_URL")?;
        let admin = Database::connect(&url)
            .await
            .expect("connect to the primary");
        exec(
            &admin,
            "DROP DATABASE IF EXISTS multidb_catalog WITH (FORCE)",
        )
        .await;
        exec(&admin, "CREATE DATABASE multidb_catalog").await;
        let (base, _) = url.rsplit_once('/').expect("a database in the URL");
        let db = Database::connect(format!("{base}/multidb_catalog"))
            .await
            .expect("connect to multidb_catalog");
        for sql in [
            "CREATE EXTENSION postgis",
            "CREATE EXTENSION pg_trgm",
            "CREATE EXTENSION unaccent",
            "CREATE EXTENSION fuzzystrmatch",
            "CREATE EXTENSION pgcrypto",
        ] {
            exec(&db, sql).await;
        }
        // With the extensions' catalog (PostGIS installed), none of the
        // realistic reads goes to the primary.
        let with = Classifier::new(Dialect::Postgres)
            .with_catalog(Arc::new(load_catalog(&db).await.expect("load the catalog")));
        for sql in corpus("pg") {
            assert_eq!(with.classify(sql), Access::Read, "with the catalog: {sql}");
        }
        let version = super::catalog_version(&db).await.expect("catalog version");
        assert_eq!(super::catalog_version(&db).await.expect("again"), version);
        for sql in [
            "CREATE TABLE counter (n int)",
            "INSERT INTO counter VALUES (0)",
            "CREATE FUNCTION f_immutable(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1 + 1'",
            "CREATE FUNCTION f_stable() RETURNS bigint STABLE LANGUAGE sql AS 'SELECT count(*) FROM counter'",
            "CREATE FUNCTION f_volatile() RETURNS int VOLATILE LANGUAGE sql \
             AS 'UPDATE counter SET n = n + 1 RETURNING n'",
            // Shadows lower(text) for integers: `lower(1)` runs it.
            "CREATE FUNCTION public.lower(int) RETURNS int VOLATILE LANGUAGE sql \
             AS 'UPDATE counter SET n = n + 1 RETURNING n'",
            // Named like a MySQL keyword that the old allow list held.
            "CREATE FUNCTION against(int) RETURNS int VOLATILE LANGUAGE sql \
             AS 'UPDATE counter SET n = n + 1 RETURNING n'",
            "CREATE FUNCTION bump(a int, b int) RETURNS boolean VOLATILE LANGUAGE sql \
             AS 'UPDATE counter SET n = n + 1 RETURNING true'",
            "CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = bump)",
            "CREATE TABLE orders (id int)",
            "CREATE FUNCTION archive(orders) RETURNS int VOLATILE LANGUAGE sql \
             AS 'UPDATE counter SET n = n + 1 RETURNING n'",
            "INSERT INTO orders VALUES (1)",
        ] {
            exec(&db, sql).await;
        }
        assert_ne!(
            super::catalog_version(&db).await.expect("catalog version"),
            version,
            "new functions change the fingerprint"
        );
        Some(db)
    }

    #[tokio::test]
    async fn postgres_catalog_with_postgis_and_user_functions() {
        let Some(db) = postgres_with_postgis().await else {
            return;
        };
        let catalog = Arc::new(load_catalog(&db).await.expect("load the catalog"));
        assert!(catalog.function_count() > 3000, "{catalog:?}");
        let with = Classifier::new(Dialect::Postgres).with_catalog(catalog);
        let counter = || value(&db, "SELECT n::bigint FROM counter");
        let before = counter().await;
        // Reads with the catalog; PostGIS calls go to the primary without it.
        for sql in [
            "SELECT ST_Distance(ST_MakePoint(1, 2), ST_MakePoint(3, 4))",
            "SELECT ST_AsText(ST_Transform(ST_SetSRID(ST_MakePoint(1, 2), 4326), 3857))",
            "SELECT ST_X(geom) FROM (SELECT ST_MakePoint(1, 2) AS geom) g WHERE geom && ST_MakeEnvelope(0, 0, 5, 5)",
            "SELECT f_immutable(1), f_stable()",
            "SELECT similarity('cake', 'cakes'), upper('a')",
        ] {
            assert_eq!(with.classify(sql), Access::Read, "with the catalog: {sql}");
            run(&db, sql).await;
        }
        assert_eq!(
            classify_for(
                Dialect::Postgres,
                "SELECT ST_Distance(ST_MakePoint(1, 2), ST_MakePoint(3, 4))"
            ),
            Access::Write
        );
        assert_eq!(counter().await, before, "none of the reads wrote");

        // A user's volatile overload makes every call of the name a write
        // (the classifier does not resolve argument types).
        assert_eq!(with.classify("SELECT lower('A')"), Access::Write);
        // Each of these writes on the server, and goes to the primary.
        for sql in [
            "SELECT f_volatile()",
            "SELECT lower(1)",
            "SELECT against(1)",
            "SELECT 1 === 2",
            "SELECT o.archive FROM orders o",
            "SELECT AddGeometryColumn('orders', 'geom', 4326, 'POINT', 2)",
        ] {
            assert_eq!(with.classify(sql), Access::Write, "with the catalog: {sql}");
            // Text alone cannot see a user's overload of `lower` or attribute
            // notation on a table alias: only the catalog can.
            if !sql.contains("lower") && !sql.contains("archive") {
                assert_eq!(classify_for(Dialect::Postgres, sql), Access::Write, "{sql}");
            }
            let n = counter().await;
            run(&db, sql).await;
            if !sql.contains("AddGeometryColumn") {
                assert_ne!(
                    counter().await,
                    n,
                    "{sql} did not write: the test proves nothing"
                );
            }
        }
    }

    #[tokio::test]
    async fn mariadb_catalog_judges_stored_functions_by_data_access() {
        let Some(url) = server("MULTIDB_MYSQL_ADMIN_PRIMARY_URL") else {
            return;
        };
        let db = Database::connect(&url).await.expect("connect to MariaDB");
        for sql in [
            "DROP FUNCTION IF EXISTS cat_reads",
            "DROP FUNCTION IF EXISTS cat_modifies",
            "DROP FUNCTION IF EXISTS cat_default",
            "DROP FUNCTION IF EXISTS `columns`",
            "CREATE TABLE IF NOT EXISTS cat_counter (n int)",
            "DELETE FROM cat_counter",
            "INSERT INTO cat_counter VALUES (0)",
            "CREATE FUNCTION cat_reads() RETURNS int READS SQL DATA RETURN (SELECT n FROM cat_counter)",
            "CREATE FUNCTION cat_modifies() RETURNS int DETERMINISTIC MODIFIES SQL DATA \
             BEGIN UPDATE cat_counter SET n = n + 1; RETURN 1; END",
            "CREATE FUNCTION cat_default() RETURNS int DETERMINISTIC RETURN 7",
            // Named like a keyword the old allow list held for every dialect.
            "CREATE FUNCTION `columns`(x int) RETURNS int DETERMINISTIC MODIFIES SQL DATA \
             BEGIN UPDATE cat_counter SET n = n + 1; RETURN x; END",
        ] {
            exec(&db, sql).await;
        }
        let version = super::catalog_version(&db).await.expect("catalog version");
        exec(&db, "DROP FUNCTION cat_default").await;
        assert_ne!(super::catalog_version(&db).await.expect("again"), version);
        exec(
            &db,
            "CREATE FUNCTION cat_default() RETURNS int DETERMINISTIC RETURN 7",
        )
        .await;
        let catalog = Arc::new(load_catalog(&db).await.expect("load the catalog"));
        let with = Classifier::new(Dialect::MySql).with_catalog(catalog);
        for sql in corpus("my") {
            assert_eq!(with.classify(sql), Access::Read, "with the catalog: {sql}");
        }
        assert_eq!(with.classify("SELECT cat_reads()"), Access::Read);
        assert_eq!(with.classify("SELECT cat_modifies()"), Access::Write);
        // CONTAINS SQL (the default) may write.
        assert_eq!(with.classify("SELECT cat_default()"), Access::Write);
        assert_eq!(
            classify_for(Dialect::MySql, "SELECT cat_reads()"),
            Access::Write
        );
        let n = value(&db, "SELECT n FROM cat_counter").await;
        assert_eq!(
            value(&db, "SELECT columns(5)").await,
            Some(5),
            "columns(…) ran the stored function"
        );
        assert_ne!(value(&db, "SELECT n FROM cat_counter").await, n);
        assert_eq!(
            classify_for(Dialect::MySql, "SELECT columns(5)"),
            Access::Write
        );
        assert_eq!(with.classify("SELECT columns(5)"), Access::Write);
        for sql in [
            "DROP FUNCTION cat_reads",
            "DROP FUNCTION cat_modifies",
            "DROP FUNCTION cat_default",
            "DROP FUNCTION `columns`",
            "DROP TABLE cat_counter",
        ] {
            exec(&db, sql).await;
        }
    }

    #[tokio::test]
    async fn sqlite_catalog_lists_built_ins() {
        let db = Database::connect("sqlite::memory:")
            .await
            .expect("SQLite in memory");
        let catalog = load_catalog(&db).await.expect("pragma_function_list");
        assert!(catalog.function_count() > 50, "{catalog:?}");
        let with = Classifier::new(Dialect::Sqlite).with_catalog(Arc::new(catalog));
        assert_eq!(
            with.classify("SELECT lower(name), json_extract(doc, '$.a') FROM t"),
            Access::Read
        );
        assert_eq!(with.classify("SELECT changes()"), Access::Write);
        for sql in corpus("lite") {
            assert_eq!(with.classify(sql), Access::Read, "with the catalog: {sql}");
        }
        assert_eq!(db.get_database_backend(), DbBackend::Sqlite);
    }

    /// With `sql_mode=MSSQL`, MariaDB quotes identifiers with `[…]`: what a
    /// lexer without the mode reads as a string is an identifier, and the
    /// locking clause after it is code.
    #[tokio::test]
    async fn mariadb_mssql_mode_brackets_hide_a_locking_clause() {
        let Some(url) = server("MULTIDB_MYSQL_ADMIN_PRIMARY_URL") else {
            return;
        };
        let db = Database::connect(&url).await.expect("connect to MariaDB");
        let txn = db.begin().await.expect("one connection");
        exec_on(&txn, "SET SESSION sql_mode = 'MSSQL'").await;
        let sql = "SELECT [it's] FROM (SELECT 1 AS [it's]) t FOR UPDATE -- '";
        let rows = txn
            .query_all_raw(Statement::from_string(DbBackend::MySql, sql))
            .await
            .expect("MariaDB runs it as a locking read");
        assert_eq!(rows.len(), 1);
        assert_eq!(classify_for(Dialect::MySql, sql), Access::Write);
        txn.rollback().await.expect("rollback");
    }

    /// A user variable lives on its connection: another connection (a
    /// replica's) reads NULL.
    #[tokio::test]
    async fn mariadb_user_variables_are_per_connection() {
        let Some(url) = server("MULTIDB_MYSQL_ADMIN_PRIMARY_URL") else {
            return;
        };
        let one = Database::connect(&url).await.expect("connect");
        let other = Database::connect(&url).await.expect("connect");
        let txn = one.begin().await.expect("one connection");
        exec_on(&txn, "SET @multidb_marker = 42").await;
        let row = txn
            .query_one_raw(Statement::from_string(
                DbBackend::MySql,
                "SELECT @multidb_marker AS v",
            ))
            .await
            .expect("query")
            .expect("a row");
        assert_eq!(row.try_get::<Option<i64>>("", "v").ok().flatten(), Some(42));
        assert_eq!(value(&other, "SELECT @multidb_marker").await, None);
        assert_eq!(
            classify_for(Dialect::MySql, "SELECT @multidb_marker"),
            Access::Write
        );
        txn.rollback().await.expect("rollback");
    }

    async fn exec_on(db: &impl ConnectionTrait, sql: &str) {
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}
