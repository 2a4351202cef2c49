//! `classify`, `classify_for` and `Classifier::classify` never panic, the
//! fast path of `classify_for` agrees with its full scan, no
//! text that SQLite prepares as a write (or as more than one statement) is
//! `Read` for SQLite or for the dialect-blind form, and a catalog of
//! writing functions and operators never turns a write into a read.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

use multidb_core::{
    Access, Catalog, Classifier, Dialect, Origin, Volatility, classify, classify_for,
};

thread_local! {
    static SQLITE: RefCell<Option<rusqlite::Connection>> = const { RefCell::new(None) };
    static DECLARED: Classifier = Classifier::new(Dialect::Postgres)
        .with_read_only_functions(["slugify", "price_with_tax"])
        .expect("valid names");
    /// A catalog of writers only: it can turn reads into writes, never the
    /// other way round.
    static WRITERS: Classifier = {
        let mut b = Catalog::builder(Dialect::Postgres);
        for name in ["lower", "count", "t", "x", "archive", "select", "in"] {
            b.function(name, Origin::User, Volatility::Volatile);
        }
        for op in ["=", "<>", "@>", "||"] {
            b.operator(op, Origin::User, Volatility::Volatile);
        }
        Classifier::new(Dialect::Postgres).with_catalog(Arc::new(b.build()))
    };
}

/// Whether SQLite sees a write: prepared and not read-only, or a second
/// statement in the prepare tail.
fn sqlite_writes(sql: &str) -> bool {
    SQLITE.with(|cell| {
        let mut cell = cell.borrow_mut();
        let conn = cell.get_or_insert_with(|| {
            let conn = rusqlite::Connection::open_in_memory().expect("SQLite");
            conn.execute_batch("CREATE TABLE t (a, b, x); CREATE TABLE u (a);")
                .expect("schema");
            conn
        });
        match conn.prepare(sql) {
            Ok(stmt) => !stmt.readonly(),
            Err(rusqlite::Error::MultipleStatement) => true,
            Err(_) => false,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    // The fast path only ever proves what the full scan finds.
    for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
        assert_eq!(
            classify_for(dialect, sql),
            multidb_core::__private::classify_full(Some(dialect), sql),
            "fast path and full scan disagree ({dialect:?}): {sql:?}"
        );
    }
    let blind = classify(sql);
    assert_eq!(
        blind,
        multidb_core::__private::classify_full(None, sql),
        "fast path and full scan disagree (blind): {sql:?}"
    );
    let sqlite = classify_for(Dialect::Sqlite, sql);
    let _ = classify_for(Dialect::Postgres, sql);
    let _ = classify_for(Dialect::MySql, sql);
    let declared = DECLARED.with(|c| c.classify(sql));
    // Declaring functions read-only only ever turns calls of them into reads.
    if classify_for(Dialect::Postgres, sql) == Access::Read {
        assert_eq!(declared, Access::Read, "{sql:?}");
    }
    // A catalog of writers only ever turns reads into writes.
    if WRITERS.with(|c| c.classify(sql)) == Access::Read {
        assert_eq!(
            classify_for(Dialect::Postgres, sql),
            Access::Read,
            "{sql:?}"
        );
    }
    if (blind == Access::Read || sqlite == Access::Read)
        && !sql.contains('\0')
        && sqlite_writes(sql)
    {
        panic!("SQLite writes, classifier says Read (blind {blind:?}, sqlite {sqlite:?}): {sql:?}");
    }
});
