//! Property tests of the statement classifier: writes are never `Read`,
//! harmless reads stay `Read` whatever they hide in literals and comments,
//! and nothing makes `classify` panic.

use multidb_core::{Access, classify};
use proptest::prelude::*;

/// Words that open a statement which writes, locks or changes state.
const WRITE_KEYWORDS: &[&str] = &[
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "REPLACE",
    "UPSERT",
    "CREATE",
    "DROP",
    "ALTER",
    "TRUNCATE",
    "RENAME",
    "COMMENT",
    "GRANT",
    "REVOKE",
    "CALL",
    "DO",
    "LOCK",
    "SET",
    "RESET",
    "COPY",
    "VACUUM",
    "ANALYZE",
    "PRAGMA",
    "ATTACH",
    "DETACH",
    "BEGIN",
    "START",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "LISTEN",
    "NOTIFY",
    "UNLISTEN",
    "PREPARE",
    "EXECUTE",
    "DEALLOCATE",
    "HANDLER",
    "LOAD",
    "USE",
    "FLUSH",
    "OPTIMIZE",
    "KILL",
    "REFRESH",
    "CLUSTER",
    "REINDEX",
    "DISCARD",
    "CHECKPOINT",
];

/// Write statements hidden inside literals and comments in property 5; no
/// quotes, backslashes or comment delimiters, so they fit in any wrapper.
const HIDDEN_WRITES: &[&str] = &[
    "DELETE FROM t",
    "UPDATE t SET a = 1",
    "INSERT INTO t VALUES (1)",
    "DROP TABLE t",
    "TRUNCATE t",
    "FOR UPDATE",
    "FOR SHARE",
    "FOR NO KEY UPDATE",
    "LOCK IN SHARE MODE",
    "; DELETE FROM t",
    "); DROP TABLE t; SELECT (",
    "nextval(s)",
    "pg_advisory_lock(1)",
    "GET_LOCK(x, 1)",
    "RETURNING *",
    "INTO OUTFILE x",
    "SET a = 1",
    "WITH x AS (DELETE FROM t) SELECT 1",
];

/// Fragments for SQL-flavoured noise.
const NOISE: &[&str] = &[
    "SELECT", " ", "'", "\"", "`", "[", "]", "$", "$$", "$a$", "--", "/*", "*/", "#", "\\", "(",
    ")", ";", ":", "=", "@", "E", "U&", "\n", "\r", "é", "x", "1", "/*!", "$1(", "FOR", "UPDATE",
];

/// Random upper/lower case of the ASCII letters of `s`.
fn random_case(s: &str, flips: &[bool]) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if flips.get(i % flips.len().max(1)).copied().unwrap_or(false) {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

fn cased(words: &'static [&'static str]) -> impl Strategy<Value = String> {
    (
        proptest::sample::select(words),
        proptest::collection::vec(any::<bool>(), 1..16),
    )
        .prop_map(|(w, flips)| random_case(w, &flips))
}

/// Whitespace and comments that may sit between tokens.
fn trivia() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        "/\\*[a-zA-Z0-9 ;'\"]{0,10}\\*/",
        "-- [a-zA-Z0-9 ;'\"]{0,10}\n",
    ]
}

fn trivia_run(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(trivia(), 0..max).prop_map(|v| v.concat())
}

/// Trivia and opening parentheses before a statement.
fn prefix() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![trivia(), Just("(".to_owned()), Just(" ( ".to_owned())],
        0..6,
    )
    .prop_map(|v| v.concat())
}

/// Arbitrary text after a keyword, sometimes SQL-looking, sometimes not.
fn tail() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(""), Just(" "), Just("\n"), Just("("), Just("\t")],
        prop_oneof![
            any::<String>(),
            "[ -~\t\n]{0,60}",
            Just(" INTO t VALUES (1)".to_owned()),
            Just(" TABLE t".to_owned()),
        ],
    )
        .prop_map(|(sep, rest)| format!("{sep}{rest}"))
}

/// Identifier-ish select-list and table items, all well formed.
fn item() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_][a-z0-9_]{0,8}",
        "\"[a-zA-Z _]{1,8}\"",
        "`[a-zA-Z_ ]{1,8}`",
        "[a-z]{1,5}\\.[a-z_]{1,6}",
        "\"[a-z]{1,5}\"\\.\"[a-z_]{1,6}\"",
        Just("*".to_owned()),
        Just("COUNT(*)".to_owned()),
        Just("$1".to_owned()),
        Just("?".to_owned()),
        Just("42".to_owned()),
        Just("'text'".to_owned()),
    ]
}

fn items() -> impl Strategy<Value = String> {
    proptest::collection::vec(item(), 1..5).prop_map(|v| v.join(", "))
}

const LOCK_CLAUSES: &[&str] = &[
    "FOR UPDATE",
    "FOR NO KEY UPDATE",
    "FOR SHARE",
    "FOR KEY SHARE",
    "LOCK IN SHARE MODE",
    "FOR UPDATE OF t",
    "FOR UPDATE NOWAIT",
    "FOR UPDATE SKIP LOCKED",
    "FOR UPDATE OF t NOWAIT",
    "FOR SHARE OF t SKIP LOCKED",
    "FOR UPDATE WAIT 5",
];

/// A locking clause, random case, with random trivia between its words.
fn lock_clause() -> impl Strategy<Value = String> {
    (
        cased(LOCK_CLAUSES),
        proptest::collection::vec(
            prop_oneof![
                Just(" ".to_owned()),
                Just("\n\t".to_owned()),
                Just(" /* x */ ".to_owned()),
                Just(" -- x\n".to_owned()),
                Just("/**/".to_owned()),
            ],
            8,
        ),
    )
        .prop_map(|(clause, seps)| {
            let mut out = String::new();
            for (i, word) in clause.split(' ').enumerate() {
                if i > 0 {
                    out.push_str(seps.get(i).map_or(" ", String::as_str));
                }
                out.push_str(word);
            }
            out
        })
}

/// A write keyword hidden in a literal, a quoted identifier or a comment.
fn hidden_write() -> impl Strategy<Value = String> {
    (
        cased(HIDDEN_WRITES),
        0..6usize,
        cased(&["insert", "update", "delete", "drop", "merge"]),
    )
        .prop_map(|(f, wrapper, word)| match wrapper {
            0 => format!(", '{f}'"),
            1 => format!(", \"{f}\""),
            2 => format!(", `{f}`"),
            3 => format!(" /* {f} */"),
            4 => format!(" -- {f}\n"),
            _ => format!(", [{word}]"),
        })
}

proptest! {
    /// (1) A write keyword in statement position is never a read, whatever
    /// precedes it (whitespace, comments, parentheses) or follows it.
    #[test]
    fn write_keyword_in_statement_position_is_never_read(
        pre in prefix(),
        keyword in cased(WRITE_KEYWORDS),
        rest in tail(),
    ) {
        let sql = format!("{pre}{keyword}{rest}");
        prop_assert_eq!(classify(&sql), Access::Write, "{:?}", sql);
    }

    /// (2) `SELECT … FOR UPDATE` and every other locking read is never a read.
    #[test]
    fn locking_select_is_never_read(
        cols in items(),
        table in item(),
        filter in prop_oneof![Just(""), Just(" WHERE id = $1"), Just(" WHERE a = ? AND b IN (1, 2)"), Just(" ORDER BY 1 LIMIT 10")],
        lock in lock_clause(),
        select in cased(&["SELECT"]),
        end in prop_oneof![Just(""), Just(";"), Just(" ;\n"), Just("; -- done")],
        wrap in any::<bool>(),
    ) {
        let body = format!("{select} {cols} FROM {table}{filter} {lock}");
        let sql = if wrap { format!("({body}){end}") } else { format!("{body}{end}") };
        prop_assert_eq!(classify(&sql), Access::Write, "{:?}", sql);
    }

    /// (3) A read followed by any write statement is never a read.
    #[test]
    fn read_then_write_is_never_read(
        first in prop_oneof![Just("SELECT 1"), Just("SELECT * FROM t WHERE id = $1"), Just("(SELECT 1)"), Just("VALUES (1)")],
        between in trivia_run(4),
        keyword in cased(WRITE_KEYWORDS),
        rest in tail(),
    ) {
        let sql = format!("{first};{between}{keyword}{rest}");
        prop_assert_eq!(classify(&sql), Access::Write, "{:?}", sql);
    }

    /// (3b) A read followed by a second read is not a single read either.
    #[test]
    fn two_statements_are_never_read(between in trivia_run(4), second in items()) {
        let sql = format!("SELECT 1;{between}SELECT {second}");
        prop_assert_eq!(classify(&sql), Access::Write, "{:?}", sql);
    }

    /// (4) `classify` never panics, on any string.
    #[test]
    fn never_panics_on_any_string(sql in any::<String>()) {
        let _ = classify(&sql);
    }

    /// (4b) … nor on arbitrary bytes made valid UTF-8.
    #[test]
    fn never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let sql = String::from_utf8_lossy(&bytes);
        let _ = classify(&sql);
    }

    /// (4c) … nor on SQL-flavoured noise full of quotes, comments and dollars.
    #[test]
    fn never_panics_on_sql_noise(
        parts in proptest::collection::vec(
            proptest::sample::select(NOISE),
            0..40,
        )
    ) {
        let sql = parts.concat();
        let _ = classify(&sql);
    }

    /// (5) A harmless read stays `Read` when a write keyword hides in a
    /// string, a quoted identifier or a comment.
    #[test]
    fn hidden_write_keywords_do_not_make_a_read_write(
        hidden in hidden_write(),
        select in cased(&["SELECT"]),
        filter in prop_oneof![Just(""), Just(" WHERE b = $1"), Just(" WHERE b = ?"), Just(" WHERE b = :b LIMIT 1")],
        end in prop_oneof![Just(""), Just(";"), Just(" ;\n")],
    ) {
        let sql = format!("{select} a{hidden} FROM t{filter}{end}");
        prop_assert_eq!(classify(&sql), Access::Read, "{:?}", sql);
    }

    /// A plain read of random, well-formed identifiers is a read.
    #[test]
    fn plain_reads_are_read(
        pre in trivia_run(3),
        cols in items(),
        table in item(),
    ) {
        // Items are never write keywords: a bare `update` column would be Write.
        let sql = format!("{pre}SELECT {cols} FROM {table}");
        let has_bare_keyword = sql
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .any(|w| ["into", "update", "delete", "insert", "merge", "drop", "alter", "grant", "revoke",
                      "truncate", "returning", "analyze", "analyse", "execute", "declare", "procedure",
                      "replace", "upsert", "create", "nextval", "setval", "currval", "lastval"]
                .contains(&w.to_ascii_lowercase().as_str()));
        prop_assume!(!has_bare_keyword);
        // Deliberately Write: after a `.`, names of the `lo_*` and `pg_*`
        // families may be calls (attribute notation); `pragma`, `temp.` and
        // `pg_temp` name SQLite pragmas and per-connection schemas.
        let lower = sql.to_ascii_lowercase();
        prop_assume!(![".lo_", ".pg_", ".\"lo_", ".\"pg_", "pragma", "temp.", "\"temp\".", "pg_temp"]
            .iter()
            .any(|w| lower.contains(w)));
        prop_assert_eq!(classify(&sql), Access::Read, "{:?}", sql);
    }
}
