//! `classify`, `classify_for` and `Classifier::classify` never panic, and no
//! text that SQLite prepares as a write (or as more than one statement) is
//! `Read` for SQLite or for the dialect-blind form.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use multidb_core::{Access, Classifier, Dialect, classify, classify_for};

thread_local! {
    static SQLITE: RefCell<Option<rusqlite::Connection>> = const { RefCell::new(None) };
    static DECLARED: Classifier = Classifier::new(Dialect::Postgres)
        .with_read_only_functions(["slugify", "price_with_tax"])
        .expect("valid names");
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
    let blind = classify(sql);
    let sqlite = classify_for(Dialect::Sqlite, sql);
    let _ = classify_for(Dialect::Postgres, sql);
    let _ = classify_for(Dialect::MySql, sql);
    let declared = DECLARED.with(|c| c.classify(sql));
    // Declaring functions read-only only ever turns calls of them into reads.
    if classify_for(Dialect::Postgres, sql) == Access::Read {
        assert_eq!(declared, Access::Read, "{sql:?}");
    }
    if (blind == Access::Read || sqlite == Access::Read)
        && !sql.contains('\0')
        && sqlite_writes(sql)
    {
        panic!("SQLite writes, classifier says Read (blind {blind:?}, sqlite {sqlite:?}): {sql:?}");
    }
});
