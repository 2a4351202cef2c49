//! Regression tests: every false read, crash or disagreement that a fuzz or
//! differential run has found stays here. (Fuzzing `classify` for 10
//! minutes, ~29 million inputs, found none so far; the entries below were
//! found by the differential tests and the unit tests' list checks while the
//! classifier was being reworked.)

use multidb_core::{Access, Dialect, classify, classify_for};

#[track_caller]
fn write_everywhere(sql: &str) {
    assert_eq!(classify(sql), Access::Write, "{sql:?}");
    for d in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
        assert_eq!(classify_for(d, sql), Access::Write, "{d:?}: {sql:?}");
    }
}

/// SQLite runs table-valued pragmas without parentheses too:
/// `sqlite3_stmt_readonly` calls this read-only, yet it runs ANALYZE.
#[test]
fn pragma_optimize_without_parentheses() {
    write_everywhere("SELECT * FROM pragma_optimize");
    write_everywhere("SELECT * FROM main.pragma_optimize");
    write_everywhere("SELECT * FROM \"pragma_optimize\"");
}

/// The parser qualifies what it generates (`LIKE … ESCAPE` becomes
/// `pg_catalog.like_escape(…)`), and a quoted `"pg_catalog"` is the same
/// schema: both are reads when the function is.
#[test]
fn quoted_pg_catalog_qualifies_a_built_in() {
    let pg = |sql| classify_for(Dialect::Postgres, sql);
    assert_eq!(
        pg(r#"SELECT "pg_catalog"."like_escape"('a', 'b')"#),
        Access::Read
    );
    assert_eq!(pg(r#"SELECT "pg_catalog"."nextval"('s')"#), Access::Write);
    assert_eq!(pg(r#"SELECT "Pg_Catalog"."lower"('a')"#), Access::Write);
    assert_eq!(
        pg(r#"SELECT "c" FROM "t" WHERE "c" LIKE $1 ESCAPE E'\\'"#),
        Access::Read
    );
}

/// An allow list out of order made a binary search miss `iif`: each list is
/// checked sorted by a unit test, and these calls are reads.
#[test]
fn allow_list_lookups_find_every_entry() {
    let lite = |sql| classify_for(Dialect::Sqlite, sql);
    assert_eq!(
        lite("SELECT iif(a, 1, 2), ifnull(b, 0) FROM t"),
        Access::Read
    );
    assert_eq!(
        classify_for(Dialect::MySql, "SELECT IFNULL(a, 0) FROM t"),
        Access::Read
    );
}

/// Found while writing the test above: a quoted eponymous pragma table runs
/// the pragma too.
#[test]
fn quoted_pragma_tables() {
    // `[…]` quotes in SQLite only (elsewhere it is a subscript).
    assert_eq!(
        classify_for(Dialect::Sqlite, "SELECT * FROM [pragma_optimize]"),
        Access::Write
    );
    assert_eq!(classify("SELECT * FROM [pragma_optimize]"), Access::Write);
    write_everywhere("SELECT * FROM `pragma_optimize`");
    assert_eq!(
        classify_for(Dialect::Sqlite, r#"SELECT * FROM "pragma_table_info"('t')"#),
        Access::Read
    );
}
