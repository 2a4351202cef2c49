//! Differential test against SQLite's own parser: for every statement that
//! SQLite prepares, `sqlite3_stmt_readonly()` false (a write) must never be
//! `classify_for(Dialect::Sqlite, …) == Read`, nor `classify(…) == Read`;
//! and text with a second statement after the first (the prepare tail) must
//! be `Write`.
//!
//! Fed with the SQL of the SeaQL test suites (`tests/data/seaql_*.sql`), the
//! classifier's own unit-test cases (`tests/data/classify_cases.sql`) and
//! generated statements. Run with `--nocapture` for the counts:
//!
//!     cargo test -p multidb-core --test classify_differential_sqlite -- --nocapture

use multidb_core::{Access, Dialect, classify, classify_for};
use proptest::prelude::*;
use rusqlite::Connection;

/// What SQLite says of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reference {
    /// Prepared; `sqlite3_stmt_readonly()` is true.
    ReadOnly,
    /// Prepared; it writes (or would).
    Writes,
    /// A statement follows the first one.
    Several,
    /// SQLite refuses it (syntax, unknown table or column): nothing runs.
    Refused,
}

/// Tables and columns the corpora use, so that more of them prepare.
const SCHEMA: &str = "
CREATE TABLE t (id, a, b, c, x, y, z, name, data, v, n, k, share, lock, changes, updated_at,
    nextval_count, insert_date, for_update_flag, returning_customer, deleted, created_at,
    created_by, into_count, lock_version, share_price, selected, setvalue, droplet, altered,
    version, next_value, identity, warning_count, \"update\", \"delete\", \"insert\", \"for\",
    \"order\", \"group\", \"into\", p, title, body, price, tags, kind);
CREATE TABLE u (id, a, b);
CREATE TABLE cake (id, name, price, tags, bakery_id, gluten_free, serial);
CREATE TABLE fruit (id, name, cake_id);
CREATE TABLE filling (id, name, vendor_id, ignored_attr);
CREATE TABLE cake_filling (cake_id, filling_id);
CREATE TABLE bakery (id, name, profit_margin);
CREATE TABLE post (id, title, body, author_id, published, created_at, kind);
CREATE TABLE character (id, character, font_size, size_w, size_h, font_id, created);
CREATE TABLE glyph (id, image, aspect, tokens);
CREATE TABLE font (id, name, variant, language);
CREATE TABLE \"table\" (id);
CREATE TABLE stocks (share, lock);
CREATE TABLE audit (changes);
CREATE TABLE \"insert\" (id);
CREATE TABLE \"delete\" (id);
CREATE TABLE [update] (id);
CREATE TABLE dual (x);
CREATE TABLE new_table (x);
CREATE VIEW v AS SELECT 1 AS x;
";

fn connection() -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory SQLite");
    conn.execute_batch(SCHEMA).expect("schema");
    conn
}

fn reference(conn: &Connection, sql: &str) -> Reference {
    match conn.prepare(sql) {
        Ok(stmt) if stmt.readonly() => Reference::ReadOnly,
        Ok(_) => Reference::Writes,
        Err(rusqlite::Error::MultipleStatement) => Reference::Several,
        Err(_) => Reference::Refused,
    }
}

/// The lines of a corpus file, unescaped.
fn corpus(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with("-- ") && !l.is_empty())
        .map(unescape)
        .collect()
}

fn unescape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[derive(Default, Debug)]
struct Counts {
    compared: usize,
    agreed: usize,
    /// SQLite read-only, we say Write (conservative), by reason.
    conservative: Vec<(String, &'static str)>,
    refused: usize,
}

/// Why a statement SQLite runs read-only is `Write` for us: the documented,
/// deliberate differences.
fn reason(sql: &str) -> &'static str {
    let lower = sql.to_ascii_lowercase();
    let first = lower
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    if sql.contains('\0') {
        "a NUL byte: drivers and servers disagree on where the text ends"
    } else if ["begin", "commit", "end", "rollback", "savepoint", "release"].contains(&first) {
        "transaction control: read-only for SQLite, but it changes the session"
    } else if [
        "pragma", "explain", "analyze", "vacuum", "reindex", "detach", "attach",
    ]
    .contains(&first)
    {
        "PRAGMA, ATTACH, DETACH: not a plain read"
    } else if lower.contains("changes(") || lower.contains("last_insert_rowid") {
        "session state (changes(), last_insert_rowid()): differs on another connection"
    } else if lower.contains("pragma_optimize") || lower.contains("load_extension") {
        "pragma_optimize runs ANALYZE, load_extension loads code: SQLite calls both read-only"
    } else if lower.contains("\"lower\"(") {
        "a quoted call in mixed case: not the built-in for PostgreSQL, so not on the list"
    } else if first.is_empty() || lower.contains(";;") || lower.contains("/* unterminated") {
        "empty statements (`;;`, a leading `;`, comment-only text) and an unterminated comment"
    } else if lower.contains('(') {
        "a call of a function outside SQLite's allow list"
    } else {
        "a write keyword used as an identifier, or another conservative rule"
    }
}

fn compare(conn: &Connection, sql: &str, counts: &mut Counts) {
    let ours = classify_for(Dialect::Sqlite, sql);
    let blind = classify(sql);
    match reference(conn, sql) {
        Reference::Writes | Reference::Several => {
            counts.compared += 1;
            assert_eq!(
                ours,
                Access::Write,
                "SQLite writes, classify_for says Read: {sql:?}"
            );
            assert_eq!(
                blind,
                Access::Write,
                "SQLite writes, classify says Read: {sql:?}"
            );
            counts.agreed += 1;
        }
        Reference::ReadOnly => {
            counts.compared += 1;
            if ours == Access::Read {
                counts.agreed += 1;
            } else {
                counts.conservative.push((sql.to_owned(), reason(sql)));
            }
        }
        Reference::Refused => counts.refused += 1,
    }
}

fn report(name: &str, counts: &Counts) {
    eprintln!(
        "{name}: compared {}, agreed {}, conservative (SQLite read-only, ours Write) {}, refused by SQLite {}",
        counts.compared,
        counts.agreed,
        counts.conservative.len(),
        counts.refused
    );
    let mut reasons: Vec<&str> = counts.conservative.iter().map(|(_, r)| *r).collect();
    reasons.sort_unstable();
    reasons.dedup();
    for r in reasons {
        let examples: Vec<&str> = counts
            .conservative
            .iter()
            .filter(|(_, x)| *x == r)
            .map(|(s, _)| s.as_str())
            .collect();
        eprintln!("  {} × {r}:", examples.len());
        for e in examples {
            eprintln!("      {e:?}");
        }
    }
}

#[test]
fn seaql_and_own_cases_agree_with_sqlite() {
    let conn = connection();
    for (name, text) in [
        ("seaql_sqlite", include_str!("data/seaql_sqlite.sql")),
        ("seaql_mysql", include_str!("data/seaql_mysql.sql")),
        ("seaql_postgres", include_str!("data/seaql_postgres.sql")),
        ("classify_cases", include_str!("data/classify_cases.sql")),
    ] {
        let mut counts = Counts::default();
        for sql in corpus(text) {
            compare(&conn, &sql, &mut counts);
        }
        report(name, &counts);
        assert!(counts.compared > 0, "{name}: nothing compared");
    }
}

/// Fragments for generated statements: SQLite's quoting, comments,
/// parameters, functions that write or read session state, nesting.
const FRAGMENTS: &[&str] = &[
    "SELECT ",
    "SELECT * FROM t",
    "SELECT a FROM t",
    " WHERE ",
    " a = ",
    "1",
    "?",
    "?1",
    ":a",
    "@a",
    "$a",
    "'x'",
    "''",
    "'it''s'",
    "\"a\"",
    "[a]",
    "`a`",
    " FROM t",
    " FROM u",
    ", ",
    "(",
    ")",
    ";",
    " ; ",
    "-- c\n",
    "/* c */",
    "/*",
    "*/",
    "\n",
    " UNION SELECT 1",
    " LIMIT 1",
    "changes()",
    "total_changes()",
    "last_insert_rowid()",
    "random()",
    "lower(a)",
    "count(*)",
    "json_each('[1]')",
    " AS x",
    "DELETE FROM t",
    "UPDATE t SET a = 1",
    "INSERT INTO t(a) VALUES (1)",
    "WITH x AS (SELECT 1) ",
    "WITH x AS (DELETE FROM t RETURNING a) ",
    " RETURNING a",
    "BEGIN",
    "COMMIT",
    "PRAGMA optimize",
    "pragma_table_info('t')",
    "pragma_optimize",
    "VALUES (1)",
    "EXPLAIN ",
    "EXPLAIN QUERY PLAN ",
    "CREATE TABLE z(a)",
    "DROP TABLE u",
    "\\",
    "#a",
    " a[",
    "]",
    "x'00'",
    "1e5",
    ".5",
    " IN (1, 2)",
    " ORDER BY 1",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    /// Generated text: whenever SQLite prepares it as a write (or finds a
    /// second statement), the classifier says `Write`.
    #[test]
    fn generated_statements_never_read_where_sqlite_writes(
        parts in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 1..12)
    ) {
        let sql = parts.concat();
        let conn = connection();
        match reference(&conn, &sql) {
            Reference::Writes | Reference::Several => {
                prop_assert_eq!(classify_for(Dialect::Sqlite, &sql), Access::Write, "{:?}", sql);
                prop_assert_eq!(classify(&sql), Access::Write, "{:?}", sql);
            }
            Reference::ReadOnly | Reference::Refused => {}
        }
    }
}
