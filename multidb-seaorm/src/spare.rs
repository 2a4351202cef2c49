//! The copy of a statement a replica read keeps for its retry, made in the
//! buffers of a spare statement that the thread keeps, so that a read
//! that needs no retry allocates nothing for it.
//!
//! SeaORM's connections take a [`Statement`] by value, so a read that may
//! be retried elsewhere must keep a copy of it. The original goes to the
//! replica (and is freed there, as without multidb); the copy is given
//! back once the read answered, and the next read on this thread copies
//! into its buffers.

use std::cell::Cell;

use sea_orm::{Statement, Values};

/// A spare whose buffers grew past these is not kept: a rare huge
/// statement should not stay allocated per thread.
const MAX_SQL: usize = 16 * 1024;
const MAX_VALUES: usize = 256;

thread_local! {
    static SPARE: Cell<Option<Statement>> = const { Cell::new(None) };
}

/// A copy of `stmt`, in the thread's spare buffers when it has some.
pub(crate) fn copy(stmt: &Statement) -> Statement {
    let Some(mut spare) = SPARE.take() else {
        return stmt.clone();
    };
    // Field by field: `Statement`'s derived `clone_from` would allocate.
    spare.sql.clone_from(&stmt.sql);
    match (&mut spare.values, &stmt.values) {
        (Some(Values(into)), Some(Values(from))) => into.clone_from(from),
        (into, from) => *into = from.clone(),
    }
    spare.db_backend = stmt.db_backend;
    spare
}

/// `copy` is no longer needed: keep its buffers for the next read.
pub(crate) fn give_back(copy: Statement) {
    let values = copy.values.as_ref().map_or(0, |v| v.0.capacity());
    if copy.sql.capacity() <= MAX_SQL && values <= MAX_VALUES {
        SPARE.set(Some(copy));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbBackend, Value};

    fn statement(sql: &str, values: Option<Vec<Value>>) -> Statement {
        Statement {
            sql: sql.to_owned(),
            values: values.map(Values),
            db_backend: DbBackend::Postgres,
        }
    }

    #[test]
    fn a_copy_equals_its_original_whatever_the_spare_held() {
        let originals = [
            statement("SELECT 1", None),
            statement(
                "SELECT * FROM t WHERE id = $1 AND name = $2",
                Some(vec![7.into(), "x".into()]),
            ),
            statement("SELECT $1", Some(vec![Value::Int(None)])),
            Statement {
                db_backend: DbBackend::Sqlite,
                ..statement("SELECT 2", None)
            },
        ];
        for _ in 0..2 {
            for original in &originals {
                let copy = copy(original);
                assert_eq!(&copy, original);
                give_back(copy);
            }
        }
    }

    #[test]
    fn the_next_copy_reuses_the_spare_buffers() {
        let original = statement("SELECT * FROM t WHERE id = $1", Some(vec![1.into()]));
        let _ = SPARE.take();
        give_back(copy(&original));
        let spare = SPARE.take().expect("the copy was kept");
        let buffer = spare.sql.as_ptr();
        SPARE.set(Some(spare));
        assert_eq!(copy(&original).sql.as_ptr(), buffer, "no new allocation");
    }

    #[test]
    fn huge_statements_are_not_kept() {
        let huge = statement(&"x".repeat(MAX_SQL + 1), None);
        let _ = SPARE.take();
        give_back(copy(&huge));
        assert!(SPARE.take().is_none());
    }
}
