//! What some of issue 19's statements do on a real SQLite (the server tests
//! for PostgreSQL and MariaDB are in multidb-seaorm's catalog tests): the
//! effect is real, and the classifier sends the statement to the primary.

use multidb_core::{Access, Dialect, classify_for};

/// SQLite applies `PRAGMA case_sensitive_like` while preparing, so an
/// `EXPLAIN` in front does not stop it: the connection's `LIKE` changes.
#[test]
fn sqlite_explain_pragma_changes_the_connection() {
    let db = rusqlite::Connection::open_in_memory().expect("SQLite");
    let like = |db: &rusqlite::Connection| -> i64 {
        db.query_row("SELECT 'a' LIKE 'A'", [], |row| row.get(0))
            .expect("LIKE")
    };
    assert_eq!(like(&db), 1);
    let sql = "EXPLAIN PRAGMA case_sensitive_like = 1";
    let mut statement = db.prepare(sql).expect("prepare");
    let mut rows = statement.query([]).expect("run");
    while rows.next().expect("step").is_some() {}
    drop(rows);
    drop(statement);
    assert_eq!(like(&db), 0, "EXPLAIN PRAGMA changed the connection");
    assert_eq!(classify_for(Dialect::Sqlite, sql), Access::Write);
    assert_eq!(
        classify_for(
            Dialect::Sqlite,
            "EXPLAIN QUERY PLAN PRAGMA case_sensitive_like = 1"
        ),
        Access::Write
    );
}

/// Temporary tables belong to their connection: another one (a replica's)
/// does not see them.
#[test]
fn sqlite_temp_tables_are_per_connection() {
    let dir = std::env::temp_dir().join(format!("multidb-temp-{}.db", std::process::id()));
    let one = rusqlite::Connection::open(&dir).expect("SQLite");
    let other = rusqlite::Connection::open(&dir).expect("SQLite");
    one.execute_batch("CREATE TEMP TABLE scratch (x); INSERT INTO scratch VALUES (1);")
        .expect("temp table");
    let sql = "SELECT count(*) FROM temp.scratch";
    let n: i64 = one
        .query_row(sql, [], |row| row.get(0))
        .expect("own connection");
    assert_eq!(n, 1);
    assert!(
        other
            .query_row(sql, [], |row| row.get::<_, i64>(0))
            .is_err()
    );
    assert_eq!(classify_for(Dialect::Sqlite, sql), Access::Write);
    drop((one, other));
    let _ = std::fs::remove_file(&dir);
}
