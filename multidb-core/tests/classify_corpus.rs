//! The realistic-read corpus (`tests/data/realistic_reads.txt`: what
//! applications send, in the three dialects, extension functions included):
//! with `classify_for` alone at most 2 % of it may go to the primary. Those
//! that do are the calls text alone cannot prove safe (PostGIS); with the
//! server's catalog none do (multidb-seaorm's catalog tests).
//!
//!     cargo test -p multidb-core --test classify_corpus -- --nocapture

use multidb_core::{Access, Dialect, classify_for};

const CORPUS: &str = include_str!("data/realistic_reads.txt");

fn corpus() -> Vec<(Dialect, &'static str)> {
    CORPUS
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (dialect, sql) = line.split_once('|').expect("dialect|SQL");
            let dialect = match dialect {
                "pg" => Dialect::Postgres,
                "my" => Dialect::MySql,
                "lite" => Dialect::Sqlite,
                other => panic!("unknown dialect {other:?}"),
            };
            (dialect, sql)
        })
        .collect()
}

#[test]
fn at_most_two_percent_of_realistic_reads_go_to_the_primary() {
    let corpus = corpus();
    assert!(corpus.len() >= 150, "{} statements", corpus.len());
    for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
        assert!(corpus.iter().filter(|(d, _)| *d == dialect).count() >= 40);
    }
    let to_primary: Vec<_> = corpus
        .iter()
        .filter(|(dialect, sql)| classify_for(*dialect, sql) == Access::Write)
        .collect();
    for (dialect, sql) in &to_primary {
        println!("to the primary ({dialect:?}): {sql}");
    }
    println!("{} of {} to the primary", to_primary.len(), corpus.len());
    assert!(
        to_primary.len() * 50 <= corpus.len(),
        "{} of {} go to the primary",
        to_primary.len(),
        corpus.len()
    );
    // Only PostGIS, which text alone cannot prove safe.
    assert!(
        to_primary.iter().all(|(_, sql)| sql.contains("ST_")),
        "{to_primary:?}"
    );
}

/// The PostgreSQL statements are single plain SELECTs to PostgreSQL's own
/// parser: the corpus holds reads, not guesses.
#[test]
fn postgres_corpus_parses_as_selects() {
    for (dialect, sql) in corpus() {
        if dialect != Dialect::Postgres {
            continue;
        }
        let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(parsed.statement_types(), ["SelectStmt"], "{sql}");
    }
}

/// The SQLite statements prepare on a schema that has their tables, and
/// SQLite calls each of them read-only.
#[test]
fn sqlite_corpus_is_read_only_to_sqlite() {
    let db = rusqlite::Connection::open_in_memory().expect("SQLite");
    db.execute_batch(
        "CREATE TABLE post (id, title, author_id, created_at, body);
         CREATE TABLE cake (id, name, price);
         CREATE TABLE fruit (id, name, cake_id);
         CREATE TABLE customer (id, doc);
         CREATE TABLE \"order\" (id, doc, created_at, person_id);
         CREATE TABLE tag (id, name, post_id);
         CREATE VIRTUAL TABLE post_fts USING fts5(title, body);
         CREATE TABLE person (id, email, code, name, first_name, last_name, birthday, created_at);
         CREATE TABLE t (id, a, b, c, d, e, path, code, blob, name, price, z, x, flag);
         CREATE TABLE grade (score);
         CREATE TABLE sales (day, amount);
         CREATE TABLE metric (id, value, ts);
         CREATE TABLE category (id, parent_id);
         CREATE TABLE a (id); CREATE TABLE b (id); CREATE TABLE c (id);
         CREATE TABLE product (price, id, x, category);
         CREATE TABLE event (id, ts);",
    )
    .expect("schema");
    for (dialect, sql) in corpus() {
        if dialect != Dialect::Sqlite {
            continue;
        }
        let statement = db.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert!(statement.readonly(), "{sql}");
    }
}
