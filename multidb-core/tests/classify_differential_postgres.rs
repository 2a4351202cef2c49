//! Differential test against PostgreSQL's own parser (libpg_query, through
//! the `pg_query` crate), under both `standard_conforming_strings` settings:
//! for every text it parses, one that is not a single plain `SELECT` (or
//! `SHOW`, or `EXPLAIN` without `ANALYZE`), has a locking or `INTO` clause,
//! holds a data-modifying statement anywhere, or calls a function outside
//! the read-only set must never be `classify_for(Dialect::Postgres, …) ==
//! Read`, nor `classify(…) == Read`.
//!
//! The read-only set is the classifier's own allow list (asked through the
//! public API): what the parser adds is an independent reading of where the
//! calls, literals, comments and statements are. Attribute-notation calls
//! `(x).f` are resolved after parsing, so the parser cannot see them; the
//! unit tests cover them.
//!
//!     cargo test -p multidb-core --test classify_differential_postgres -- --nocapture

use multidb_core::{Access, Dialect, classify, classify_for};
use pg_query::{NodeEnum, NodeRef, ParserOptions};
use proptest::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reference {
    ReadOnly,
    Writes,
    /// PostgreSQL refuses it: nothing runs.
    Refused,
}

/// Whether the classifier's allow list holds `name` (`schema.name` or `name`).
fn is_read_only_function(name: &str) -> bool {
    let call = match name.split_once('.') {
        Some((schema, f)) => format!("SELECT {}.{}()", quote(schema), quote(f)),
        None => format!("SELECT {}()", quote(name)),
    };
    classify_for(Dialect::Postgres, &call) == Access::Read
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn reference(sql: &str, standard_strings: bool) -> Reference {
    let options = if standard_strings {
        ParserOptions::DEFAULT
    } else {
        ParserOptions::DISABLE_STANDARD_CONFORMING_STRINGS
    };
    let Ok(parsed) = pg_query::parse(sql, options) else {
        return Reference::Refused;
    };
    let types = parsed.statement_types();
    if types.len() != 1 || !matches!(types[0], "SelectStmt" | "VariableShowStmt" | "ExplainStmt") {
        return Reference::Writes;
    }
    for (node, _depth, _context, _) in parsed.protobuf.nodes() {
        let writes = match node {
            NodeRef::LockingClause(_)
            | NodeRef::IntoClause(_)
            | NodeRef::InsertStmt(_)
            | NodeRef::UpdateStmt(_)
            | NodeRef::DeleteStmt(_)
            | NodeRef::MergeStmt(_) => true,
            // `nodes()` does not descend into these clauses: read them here.
            NodeRef::SelectStmt(select) => {
                !select.locking_clause.is_empty() || select.into_clause.is_some()
            }
            NodeRef::ExplainStmt(explain) => explain.options.iter().any(|option| {
                matches!(
                    &option.node,
                    Some(NodeEnum::DefElem(d)) if d.defname.eq_ignore_ascii_case("analyze")
                )
            }),
            _ => false,
        };
        if writes {
            return Reference::Writes;
        }
    }
    if parsed.functions().iter().any(|f| !is_read_only_function(f)) {
        return Reference::Writes;
    }
    Reference::ReadOnly
}

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

#[derive(Default)]
struct Counts {
    compared: usize,
    agreed: usize,
    conservative: Vec<String>,
    refused: usize,
}

/// Compare under both string settings; `Read` needs both to be harmless.
fn compare(sql: &str, counts: &mut Counts) {
    if sql.contains('\0') {
        return; // libpg_query reads a C string
    }
    let ours = classify_for(Dialect::Postgres, sql);
    let refs = [reference(sql, true), reference(sql, false)];
    if refs.contains(&Reference::Writes) {
        counts.compared += 1;
        assert_eq!(
            ours,
            Access::Write,
            "PostgreSQL writes, classify_for says Read: {sql:?}"
        );
        assert_eq!(
            classify(sql),
            Access::Write,
            "PostgreSQL writes, classify says Read: {sql:?}"
        );
        counts.agreed += 1;
    } else if refs.contains(&Reference::ReadOnly) {
        counts.compared += 1;
        if ours == Access::Read {
            counts.agreed += 1;
        } else {
            counts.conservative.push(sql.to_owned());
        }
    } else {
        counts.refused += 1;
    }
}

#[test]
fn seaql_and_own_cases_agree_with_postgres() {
    for (name, text) in [
        ("seaql_postgres", include_str!("data/seaql_postgres.sql")),
        ("seaql_sqlite", include_str!("data/seaql_sqlite.sql")),
        ("classify_cases", include_str!("data/classify_cases.sql")),
    ] {
        let mut counts = Counts::default();
        for sql in corpus(text) {
            compare(&sql, &mut counts);
        }
        eprintln!(
            "{name}: compared {}, agreed {}, conservative (PostgreSQL read-only, ours Write) {}, refused by PostgreSQL {}",
            counts.compared,
            counts.agreed,
            counts.conservative.len(),
            counts.refused
        );
        for sql in &counts.conservative {
            eprintln!("    {sql:?}");
        }
        assert!(counts.compared > 0, "{name}: nothing compared");
    }
}

/// Fragments for generated statements: continuations, E'' escapes,
/// dollar quotes, nested comments, quoted identifiers, JSON and pgvector
/// operators, casts, calls, locking clauses and CTEs.
const FRAGMENTS: &[&str] = &[
    "SELECT ",
    "SELECT * FROM t",
    " FROM t",
    " WHERE ",
    "a",
    " = ",
    "$1",
    "1",
    "'x'",
    "''",
    "E'\\''",
    "E'\\\\'",
    "'\\'",
    "'\\''",
    "\n",
    "\r",
    " -- c\n",
    "/* c */",
    "/* /* n */ */",
    "/*",
    "*/",
    "$$",
    "$$ x $$",
    "$q$;$q$",
    "\"a\"",
    "\"nextval\"",
    "\"Lower\"",
    "(",
    ")",
    ", ",
    ";",
    " ; ",
    ".",
    "::text",
    "::regclass",
    " #>> '{a}'",
    " #> ",
    " <#> ",
    " # ",
    "nextval('s')",
    "lower(a)",
    "count(*)",
    "evil(1)",
    "pg_catalog.lower('A')",
    "public.f()",
    " FOR UPDATE",
    " FOR SHARE",
    " INTO x",
    "WITH c AS (SELECT 1) ",
    "WITH c AS (DELETE FROM t RETURNING a) ",
    "DELETE FROM t",
    "UPDATE t SET a = 1",
    "EXPLAIN ",
    "EXPLAIN (ANALYZE) ",
    "EXPLAIN (\"analyze\") ",
    "SHOW x",
    " UNION SELECT 1",
    " AS g(i)",
    "generate_series(1, 2)",
    "U&\"a\"",
    "'a'\n'b'",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    /// Generated text: whenever PostgreSQL's parser sees a write, the
    /// classifier says `Write`.
    #[test]
    fn generated_statements_never_read_where_postgres_writes(
        parts in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 1..12)
    ) {
        let sql = parts.concat();
        let refs = [reference(&sql, true), reference(&sql, false)];
        if refs.contains(&Reference::Writes) {
            prop_assert_eq!(classify_for(Dialect::Postgres, &sql), Access::Write, "{:?}", sql);
            prop_assert_eq!(classify(&sql), Access::Write, "{:?}", sql);
        }
    }
}
