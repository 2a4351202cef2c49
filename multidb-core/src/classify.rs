//! Statement classifier: is an SQL string *provably* a plain read?
//!
//! [`classify`] decides whether one SQL string may go to a read replica
//! ([`Access::Read`]) or must go to the primary ([`Access::Write`]). This is
//! routing rule 2 of the architecture, and it is **conservative**. A wrong
//! `Write` costs a little load on the primary. A wrong `Read` sends a write, a
//! lock or a change of session state to a replica. So whatever cannot be
//! proven a plain read is `Write`.
//!
//! ```
//! use multidb_core::{Access, classify};
//!
//! let read = r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" = $1 LIMIT $2"#;
//! assert_eq!(classify(read), Access::Read);
//! assert_eq!(classify("SELECT * FROM cake WHERE id = $1 FOR UPDATE"), Access::Write);
//! assert_eq!(classify("WITH gone AS (DELETE FROM cake RETURNING *) SELECT * FROM gone"), Access::Write);
//! assert_eq!(classify("SELECT 1 /* ; DELETE FROM cake */"), Access::Read);
//! ```
//!
//! # Rules
//!
//! A string is `Read` only if **all** of these hold:
//!
//! 1. It is a single statement: after a top-level `;` there may only be
//!    whitespace and comments (`SELECT 1;` is one statement, `SELECT 1;;` is not).
//! 2. Its first keyword is `SELECT`, `WITH`, `VALUES` or `TABLE` (which may
//!    follow opening parentheses, as in `(SELECT 1) UNION (SELECT 2)`), or
//!    `SHOW`, `EXPLAIN`, `DESCRIBE` or `DESC` (which may not). Whitespace and
//!    comments before it are skipped. Every other first word is `Write`:
//!    `INSERT`, `UPDATE`, `DELETE`, `MERGE`, `REPLACE`, all DDL, `CALL`, `DO`,
//!    `LOCK`, `COPY`, `SET`, `RESET`, transaction control, `LISTEN`/`NOTIFY`,
//!    `VACUUM`, `ANALYZE`, `PRAGMA`, `ATTACH`, `HANDLER`, `LOAD DATA`,
//!    `PREPARE`/`EXECUTE`, `USE`, `FLUSH`, `KILL`, `REFRESH`, and any other word.
//! 3. Parentheses and brackets balance, and every literal, quoted identifier,
//!    comment and dollar quote is terminated. Empty input and input that is only comments
//!    is `Write`.
//! 4. No bare (unquoted) word in it marks a write, a lock or a side effect:
//!    * statements nested in a query (data-modifying CTEs, the target of
//!      `EXPLAIN`): `INSERT`, `UPDATE`, `DELETE`, `MERGE`, `UPSERT`,
//!      `REPLACE` (except the `REPLACE(…)` string function), `RETURNING`,
//!      `EXECUTE`, `DECLARE`, `CREATE` (except in `SHOW CREATE …`), `ALTER`,
//!      `DROP`, `TRUNCATE`, `GRANT`, `REVOKE`;
//!    * `INTO` (Postgres `SELECT … INTO` creates a table; MySQL
//!      `INTO OUTFILE`, `INTO @var`);
//!    * locking reads: the word `UPDATE` (`FOR UPDATE`, `FOR NO KEY UPDATE`),
//!      and `SHARE` after `FOR`, `KEY` or `IN` (`FOR SHARE`, `FOR KEY SHARE`,
//!      `LOCK IN SHARE MODE`);
//!    * `ANALYZE`/`ANALYSE` (every `EXPLAIN ANALYZE` is `Write`: it runs the
//!      statement) and `PROCEDURE` (MySQL `PROCEDURE ANALYSE`);
//!    * sequences: `nextval`, `setval`, `currval`, `lastval`, MariaDB
//!      `NEXT VALUE FOR` and `PREVIOUS VALUE FOR`;
//!    * locks and session state: `pg_advisory_*`, `pg_try_advisory_*`,
//!      `GET_LOCK`, `RELEASE_LOCK`, `RELEASE_ALL_LOCKS`, `IS_FREE_LOCK`,
//!      `IS_USED_LOCK`, `LAST_INSERT_ID`, `last_insert_rowid`, `set_config`,
//!      `pg_notify`, `txid_current*`, `pg_current_xact_id*`, `dblink*`,
//!      `load_extension`.
//! 5. No function call `name(…)` (with a bare or a quoted name) calls a
//!    function that writes, locks, runs SQL passed as a string, or answers
//!    about the session: `changes`, `total_changes`, `ROW_COUNT`,
//!    `FOUND_ROWS`, `setseed`, `lo_*`, `query_to_xml*`, `cursor_to_xml*`,
//!    `ts_stat`, `crosstab`, `connectby`, `writefile`, `eval`, `sys_exec`,
//!    `sys_eval`, and every `pg_*` function except a short list of read-only
//!    ones (`pg_typeof`, `pg_get_*`, `pg_stat_get_*`, `pg_*_size`,
//!    `pg_size_*`, `pg_is_*`, `pg_last_*`, `pg_*_is_visible`, `pg_sleep*`,
//!    `pg_backend_pid`, …). So `pg_current_wal_lsn()`, `pg_switch_wal()` or
//!    `pg_cancel_backend()` are `Write`.
//! 6. No `:=` (MySQL user-variable assignment).
//!
//! Words match whole and ASCII case-insensitively: `updated_at`,
//! `insert_date`, `nextval_count`, `for_update_flag` and `returning_customer`
//! are ordinary identifiers, and a write keyword inside a string literal, a
//! quoted identifier (`"update"`, `` `delete` ``, `[insert]`) or a comment is
//! not a keyword. A write keyword used as a *bare* identifier
//! (`SELECT t.update FROM t`, `SELECT 1 AS delete`) makes the string `Write`:
//! a false write is acceptable, a false read is not.
//!
//! # One text, several lexers
//!
//! [`classify`] does not know which database will run the text, and
//! PostgreSQL, MySQL/MariaDB and SQLite split the same text into tokens
//! differently. What one of them skips as a comment or a literal, another may
//! execute. So the text is tokenised under six lexical *profiles*, and it is
//! `Read` only if **no profile finds a write** (and at least one profile
//! accepts it):
//!
//! | profile | `#` | `-- ` | `/* */` | `'…'` `\` escapes | `"…"` | `$$…$$` | `[…]` |
//! |---|---|---|---|---|---|---|---|
//! | PostgreSQL | operator | comment to `\n`/`\r` | nest | no (`E'…'`: yes) | identifier | literal | punctuation |
//! | PostgreSQL, `standard_conforming_strings=off` | operator | same | nest | yes | identifier | literal | punctuation |
//! | MySQL / MariaDB | comment | only before whitespace or a control char | flat; `/*!…*/` runs | yes | string, `\` escapes | code (`$` is an identifier char) | punctuation |
//! | MySQL `NO_BACKSLASH_ESCAPES` | comment | same | same | no | no escapes | code | punctuation |
//! | MySQL `ANSI_QUOTES` | comment | same | same | yes | identifier | code | punctuation |
//! | SQLite | `#name` parameter | comment to `\n` | flat | no | identifier | `$name` parameter | identifier |
//!
//! The conservative consequences:
//!
//! * **`#`** is a comment only in the MySQL profiles. Treating it as a
//!   comment everywhere could hide `; DELETE …` from the Postgres reading
//!   (where `#` is the XOR operator); treating it as an operator everywhere
//!   could expose a quote that MySQL never sees. Under the profiles, a
//!   statement is `Read` only if it is a read both with and without `#`
//!   comments.
//! * **MySQL executable comments** `/*! … */` and `/*M! … */` contain SQL
//!   that MySQL and MariaDB run, so they make the string `Write` (their
//!   contents are not analysed). Optimizer hints `/*+ … */` are comments.
//! * **Nested comments**: `/* /* */ … */` is one comment in Postgres but ends
//!   at the first `*/` in MySQL and SQLite, so the text after it is checked as
//!   code too.
//! * **`--` comments**: MySQL needs whitespace or a control character after
//!   `--` (`1--1` is arithmetic), and only a `\n` ends the comment in MySQL
//!   and SQLite, while a `\r` also ends it in Postgres.
//! * **Backslashes** escape quotes in MySQL strings, in Postgres `E'…'`
//!   strings and in every Postgres string when `standard_conforming_strings`
//!   is off; nowhere in SQLite. So `'it\'s'` is read both ways, and the
//!   statement must be harmless under each reading.
//! * **Dollar quotes** `$$…$$` and `$tag$…$tag$` are literals in Postgres
//!   only. MySQL and SQLite read the same bytes as code, so a dollar-quoted
//!   literal is `Read` only if its contents would also be harmless as code
//!   (`SELECT $$it's$$` is `Read`, `SELECT $$ DELETE $$` is `Write`).
//! * **`[insert]`** is a quoted identifier in SQLite only. Postgres and MySQL
//!   would see the word `insert` in brackets; a lone word in brackets is
//!   accepted (it cannot lock or write there), but anything more is checked.
//! * **Backticks** quote identifiers in MySQL and SQLite. Postgres has no
//!   built-in `` ` `` operator (we assume nobody creates one), so a Postgres
//!   statement containing one fails before anything runs, and the Postgres
//!   profiles read backticks as quotes too.
//! * **Postgres `U&"…"` identifiers** are `Write`: their Unicode escapes can
//!   spell any function name (`U&"\006Eextval"` is `nextval`).
//! * When a profile's lexer would reject the text *before executing anything*
//!   (an unterminated string or quoted identifier, an illegal SQLite token
//!   such as `@>` or `::` in the first statement), that dialect runs none of
//!   it, and the profile neither vetoes nor supports `Read`.
//!   Text that no profile accepts is `Write`. Unterminated comments and
//!   dollar quotes are always `Write`.
//! * A NUL byte anywhere is `Write`: drivers and servers disagree on where
//!   such a string ends.
//!
//! # Not covered
//!
//! The classifier reads the SQL text, not the schema. A `SELECT` that calls a
//! user-defined function with side effects (`SELECT archive_old_orders()`),
//! or reads a view whose rules or triggers write, looks like a plain read.
//! Run such code under `use_master` or `#[db_write]`.
//!
//! # Performance
//!
//! [`classify`] works on the bytes of the `&str` and never allocates: tokens
//! are sub-slices of the input, keywords are picked by their first letter and
//! compared with `eq_ignore_ascii_case`, a quoted name is only examined when a
//! `(` follows it, and the state is a few integers. A first byte scan looks
//! for the few constructs on which the profiles can disagree (`\`, `#`, `[`,
//! `--`, two or more `/*`, `/*!`, `$` not followed by a digit, and SQLite
//! `$name(…)`-style parameters). Without any of them, which is the case for
//! the SQL SeaORM generates, every profile produces the same tokens and one
//! profile pass decides: two linear passes over the text in all. With one of
//! them, three profiles run (six if the text holds a backslash). A unit
//! property test checks that these shortcuts never change the answer.

/// Whether a statement is a plain read or may write.
///
/// ```
/// use multidb_core::{Access, classify};
///
/// assert_eq!(classify("SELECT `cake`.`id` FROM `cake` WHERE `cake`.`id` = ?"), Access::Read);
/// assert_eq!(classify("UPDATE cake SET name = ? WHERE id = ?"), Access::Write);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// Provably a plain read: safe on a replica.
    Read,
    /// May write, lock, change session state, or could not be understood.
    Write,
}

/// Classify one SQL string as a plain read or a possible write.
///
/// Returns [`Access::Read`] only if the text is provably a single plain read
/// under the PostgreSQL, MySQL/MariaDB and SQLite lexical rules alike (see
/// the [module documentation](self) for the rules), and [`Access::Write`]
/// otherwise, including for empty, comment-only or unparsable input. It never
/// panics and never allocates.
///
/// ```
/// use multidb_core::{Access, classify};
///
/// // What SeaORM generates.
/// assert_eq!(
///     classify(r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" = $1 LIMIT $2"#),
///     Access::Read,
/// );
/// assert_eq!(
///     classify(r#"INSERT INTO "cake" ("name") VALUES ($1) RETURNING "id", "name""#),
///     Access::Write,
/// );
///
/// // Locking reads, sequences, advisory locks, several statements.
/// assert_eq!(classify("SELECT * FROM cake FOR SHARE"), Access::Write);
/// assert_eq!(classify("SELECT nextval('cake_id_seq')"), Access::Write);
/// assert_eq!(classify("SELECT pg_advisory_lock(42)"), Access::Write);
/// assert_eq!(classify("SELECT 1; DROP TABLE cake"), Access::Write);
///
/// // Keywords inside literals, quoted identifiers and comments are not keywords.
/// assert_eq!(classify(r#"SELECT "update", 'DELETE FROM cake' FROM t -- FOR UPDATE"#), Access::Read);
///
/// // Nothing to prove a read from.
/// assert_eq!(classify("  /* nothing */ "), Access::Write);
/// assert_eq!(classify("SELECT 'unterminated"), Access::Write);
/// ```
#[must_use]
pub fn classify(sql: &str) -> Access {
    let bytes = sql.as_bytes();
    let Some(scan) = prescan(bytes) else {
        return Access::Write;
    };
    let first = run(bytes, PROFILES[0]);
    if first == Verdict::Write {
        return Access::Write;
    }
    let mut accepted = first == Verdict::Read;
    if scan.divergent {
        for &profile in &PROFILES[1..] {
            // Without a backslash, a backslash variant reads like its base profile.
            if profile.backslash_variant && !scan.backslash {
                continue;
            }
            match run(bytes, profile) {
                Verdict::Write => return Access::Write,
                Verdict::Read => accepted = true,
                Verdict::Rejected => {}
            }
        }
    }
    if accepted {
        Access::Read
    } else {
        Access::Write
    }
}

// ---------------------------------------------------------------------------
// Lexical profiles
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Postgres,
    MySql,
    Sqlite,
}

/// How one dialect (in one configuration) splits text into tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Profile {
    family: Family,
    /// Backslash escapes inside `'…'`.
    backslash_single: bool,
    /// Backslash escapes inside `"…"`.
    backslash_double: bool,
    /// Differs from an earlier profile only in backslash handling.
    backslash_variant: bool,
}

const fn profile(
    family: Family,
    backslash_single: bool,
    backslash_double: bool,
    backslash_variant: bool,
) -> Profile {
    Profile {
        family,
        backslash_single,
        backslash_double,
        backslash_variant,
    }
}

/// The first profile is the one used alone when the profiles cannot disagree.
const PROFILES: [Profile; 6] = [
    profile(Family::Postgres, false, false, false),
    profile(Family::MySql, true, true, false), // default sql_mode
    profile(Family::Sqlite, false, false, false),
    profile(Family::Postgres, true, false, true), // standard_conforming_strings = off
    profile(Family::MySql, false, false, true),   // NO_BACKSLASH_ESCAPES
    profile(Family::MySql, true, false, true),    // ANSI_QUOTES
];

/// What the byte scan found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Prescan {
    /// The profiles may tokenise the text differently: all must run.
    divergent: bool,
    /// The text holds a backslash: the backslash variants must run too.
    backslash: bool,
}

/// `None` if the text holds a NUL byte.
fn prescan(b: &[u8]) -> Option<Prescan> {
    const CHUNK: usize = 32;
    let mut divergent = false;
    let mut backslash = false;
    let mut block_comments = 0u32;
    for (n, chunk) in b.chunks(CHUNK).enumerate() {
        // Branch-free test first: most chunks hold no notable byte at all.
        if chunk.iter().fold(0, |acc, &c| acc | CLASS[usize::from(c)]) & NOTABLE == 0 {
            continue;
        }
        for (k, &c) in chunk.iter().enumerate() {
            if !has(c, NOTABLE) {
                continue;
            }
            let i = n * CHUNK + k;
            match c {
                0 => return None,
                b'\\' => backslash = true,
                b'#' | b'[' => divergent = true,
                b'-' if at(b, i + 1) == b'-' => divergent = true,
                b'/' if at(b, i + 1) == b'*' => {
                    block_comments += 1;
                    if block_comments > 1 || matches!(at(b, i + 2), b'!' | b'M' | b'm') {
                        divergent = true;
                    }
                }
                b'$' if !at(b, i + 1).is_ascii_digit() => divergent = true,
                b'$' | b':' | b'@' if sqlite_variable_has_suffix(b, i) => divergent = true,
                _ => {}
            }
        }
    }
    Some(Prescan {
        divergent: divergent || backslash,
        backslash,
    })
}

/// Whether an SQLite variable at `i` (`$x`, `:x`, `@x`) carries a TCL-style
/// `(…)` suffix, which SQLite swallows into the variable.
fn sqlite_variable_has_suffix(b: &[u8], i: usize) -> bool {
    let mut j = i + 1;
    let mut n = 0;
    loop {
        let c = at(b, j);
        if is_ident_cont(c) {
            n += 1;
            j += 1;
        } else if c == b':' && at(b, j + 1) == b':' {
            j += 2;
        } else {
            return n > 0 && c == b'(';
        }
    }
}

/// The byte at `i`, or 0 past the end (the text holds no NUL by then).
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

const SPACE: u8 = 1;
const IDENT_START: u8 = 2;
const IDENT_CONT: u8 = 4;
/// A byte the pre-scan must look at.
const NOTABLE: u8 = 8;

/// Byte classes, one table lookup per byte in the hot loops.
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let mut class = 0;
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            class |= SPACE;
        }
        // Bytes of non-ASCII characters are identifier bytes in all three dialects.
        if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            class |= IDENT_START | IDENT_CONT;
        }
        if c.is_ascii_digit() || c == b'$' {
            class |= IDENT_CONT;
        }
        if matches!(
            c,
            0 | b'\\' | b'#' | b'[' | b'-' | b'/' | b'$' | b':' | b'@'
        ) {
            class |= NOTABLE;
        }
        table[i] = class;
        i += 1;
    }
    table
};

fn has(c: u8, class: u8) -> bool {
    CLASS[usize::from(c)] & class != 0
}

fn is_space(c: u8) -> bool {
    has(c, SPACE)
}

/// First byte of an unquoted identifier or keyword.
fn is_ident_start(c: u8) -> bool {
    has(c, IDENT_START)
}

fn is_ident_cont(c: u8) -> bool {
    has(c, IDENT_CONT)
}

// ---------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok<'a> {
    /// An unquoted identifier or keyword.
    Word(&'a [u8]),
    /// A quoted identifier (or MySQL `"string"`): its raw contents.
    Quoted(&'a [u8]),
    /// A string literal, a number or a parameter.
    Literal,
    /// Any other single byte.
    Punct(u8),
    /// `:=`
    Assign,
    /// Something that settles it: MySQL executable comment, `U&"…"`,
    /// unterminated comment or dollar quote.
    Write,
    /// The dialect's lexer fails here, before anything runs.
    Rejected,
    End,
}

#[derive(Clone, Copy)]
struct Lexer<'a> {
    b: &'a [u8],
    i: usize,
    p: Profile,
}

impl<'a> Lexer<'a> {
    fn at(&self, i: usize) -> u8 {
        at(self.b, i)
    }

    fn slice(&self, from: usize, to: usize) -> &'a [u8] {
        self.b.get(from..to).unwrap_or_default()
    }

    /// The next token, without consuming it.
    fn peek(&self) -> Tok<'a> {
        let mut ahead = *self;
        ahead.next()
    }

    fn next(&mut self) -> Tok<'a> {
        loop {
            let mut i = self.i;
            while is_space(self.at(i)) {
                i += 1;
            }
            self.i = i;
            let c = self.at(i);
            // Words, the commonest token (and Postgres prefixed strings, `E'…'`).
            if is_ident_start(c) {
                return self.word(i);
            }
            match c {
                0 => return Tok::End,
                b'-' if self.at(i + 1) == b'-' && self.dash_comment_starts(i) => {
                    self.skip_line(i + 2)
                }
                b'#' if self.p.family == Family::MySql => self.skip_line(i + 1),
                b'/' if self.at(i + 1) == b'*' => {
                    if let Some(tok) = self.block_comment(i) {
                        return tok;
                    }
                }
                b'\'' => return self.string(i, self.p.backslash_single),
                b'"' => {
                    let escapes = self.p.family == Family::MySql && self.p.backslash_double;
                    return self.quoted(i, b'"', b'"', escapes);
                }
                b'`' => return self.quoted(i, b'`', b'`', false),
                b'[' if self.p.family == Family::Sqlite => {
                    return self.quoted(i, b'[', b']', false);
                }
                b'$' => {
                    return match self.p.family {
                        Family::Postgres => self.dollar(i),
                        Family::MySql => self.word(i),
                        Family::Sqlite => self.sqlite_variable(i),
                    };
                }
                b'@' | b':' | b'#' if self.p.family == Family::Sqlite => {
                    return self.sqlite_variable(i);
                }
                b':' if self.at(i + 1) == b'=' => {
                    self.i = i + 2;
                    return Tok::Assign;
                }
                b'0'..=b'9' => {
                    let mut j = i + 1;
                    while self.at(j).is_ascii_digit() {
                        j += 1;
                    }
                    self.i = j;
                    return Tok::Literal;
                }
                c => {
                    self.i = i + 1;
                    return Tok::Punct(c);
                }
            }
        }
    }

    /// At `--`: does a comment start here?
    fn dash_comment_starts(&self, i: usize) -> bool {
        if self.p.family != Family::MySql {
            return true;
        }
        // MySQL: `--` must be followed by whitespace, a control character or the end.
        let c = self.at(i + 2);
        c <= b' ' || c == 0x7f
    }

    fn skip_line(&mut self, mut j: usize) {
        loop {
            match self.at(j) {
                0 | b'\n' => break,
                b'\r' if self.p.family == Family::Postgres => break,
                _ => j += 1,
            }
        }
        self.i = j;
    }

    /// At `/*`: skip the comment, or return the token that settles it.
    fn block_comment(&mut self, i: usize) -> Option<Tok<'a>> {
        if self.p.family == Family::MySql
            && (self.at(i + 2) == b'!'
                || (matches!(self.at(i + 2), b'M' | b'm') && self.at(i + 3) == b'!'))
        {
            // MySQL/MariaDB executable comment: its contents run.
            return Some(Tok::Write);
        }
        let nests = self.p.family == Family::Postgres;
        let mut depth = 1u32;
        let mut j = i + 2;
        loop {
            match (self.at(j), self.at(j + 1)) {
                (0, _) => return Some(Tok::Write), // unterminated
                (b'*', b'/') => {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        self.i = j;
                        return None;
                    }
                }
                (b'/', b'*') if nests => {
                    depth += 1;
                    j += 2;
                }
                _ => j += 1,
            }
        }
    }

    /// A string literal whose opening `'` is at `i`.
    fn string(&mut self, i: usize, escapes: bool) -> Tok<'a> {
        match self.closing(i + 1, b'\'', escapes) {
            Some(end) => {
                self.i = end + 1;
                Tok::Literal
            }
            None => Tok::Rejected,
        }
    }

    /// A quoted identifier opened by `open` at `i`.
    fn quoted(&mut self, i: usize, open: u8, close: u8, escapes: bool) -> Tok<'a> {
        debug_assert_eq!(self.at(i), open);
        match self.closing(i + 1, close, escapes) {
            Some(end) => {
                self.i = end + 1;
                Tok::Quoted(self.slice(i + 1, end))
            }
            None => Tok::Rejected,
        }
    }

    /// The index of the closing `quote` of a literal whose contents start at
    /// `j`; a doubled quote is part of the contents (except for `]`).
    fn closing(&self, mut j: usize, quote: u8, escapes: bool) -> Option<usize> {
        loop {
            let rest = self.b.get(j..)?;
            j += rest
                .iter()
                .position(|&c| c == quote || (escapes && c == b'\\'))?;
            if self.at(j) == quote {
                if quote == b']' || self.at(j + 1) != quote {
                    return Some(j);
                }
            } else if self.at(j + 1) == 0 {
                return None; // a backslash at the very end
            }
            j += 2; // a doubled quote, or a backslash and the byte it escapes
        }
    }

    /// Postgres at `$`: a parameter, a dollar quote or an operator byte.
    fn dollar(&mut self, i: usize) -> Tok<'a> {
        let c1 = self.at(i + 1);
        if c1.is_ascii_digit() {
            let mut j = i + 2;
            while self.at(j).is_ascii_digit() {
                j += 1;
            }
            self.i = j;
            return Tok::Literal;
        }
        let mut j = i + 1;
        if is_ident_start(c1) {
            j += 1;
            while matches!(self.at(j), c if is_ident_start(c) || c.is_ascii_digit()) {
                j += 1;
            }
        }
        if self.at(j) != b'$' {
            self.i = i + 1;
            return Tok::Punct(b'$');
        }
        let delimiter = self.slice(i, j + 1);
        let mut k = j + 1;
        while k < self.b.len() {
            if self
                .b
                .get(k..)
                .is_some_and(|rest| rest.starts_with(delimiter))
            {
                self.i = k + delimiter.len();
                return Tok::Literal;
            }
            k += 1;
        }
        Tok::Write // unterminated dollar quote
    }

    /// An unquoted word starting at `i`, or a Postgres prefixed string.
    fn word(&mut self, i: usize) -> Tok<'a> {
        let mut j = i + 1;
        while is_ident_cont(self.at(j)) {
            j += 1;
        }
        if self.p.family == Family::Postgres && j == i + 1 {
            match (self.at(i) | 0x20, self.at(j), self.at(j + 1)) {
                (b'e', b'\'', _) => return self.string(j, true),
                (b'b' | b'x', b'\'', _) => return self.string(j, false),
                (b'u', b'&', b'\'') => return self.string(j + 1, false),
                // Unicode-escaped identifier: could spell any function name.
                (b'u', b'&', b'"') => return Tok::Write,
                _ => {}
            }
        }
        self.i = j;
        Tok::Word(self.slice(i, j))
    }

    /// SQLite at `$`, `@`, `:` or `#`: a named parameter, as SQLite's own
    /// tokenizer reads it (including the TCL `$a(…)` and `$a::b` forms).
    fn sqlite_variable(&mut self, i: usize) -> Tok<'a> {
        let mut j = i + 1;
        let mut n = 0;
        loop {
            let c = self.at(j);
            if is_ident_cont(c) {
                n += 1;
                j += 1;
            } else if c == b'(' && n > 0 {
                j += 1;
                while !matches!(self.at(j), 0 | b')') && !is_space(self.at(j)) {
                    j += 1;
                }
                if self.at(j) != b')' {
                    return Tok::Rejected;
                }
                j += 1;
                break;
            } else if c == b':' && self.at(j + 1) == b':' {
                j += 2;
            } else {
                break;
            }
        }
        if n == 0 {
            return Tok::Rejected;
        }
        self.i = j;
        Tok::Literal
    }
}

// ---------------------------------------------------------------------------
// Statement scan (one profile)
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Read,
    Write,
    /// This dialect would refuse the text before running any of it.
    Rejected,
}

fn run(sql: &[u8], p: Profile) -> Verdict {
    let mut lexer = Lexer { b: sql, i: 0, p };
    let mut started = false;
    let mut leading_paren = false;
    let mut ended = false;
    let mut parens = 0usize;
    let mut brackets = 0usize;
    let mut prev = Tok::End;
    loop {
        let tok = lexer.next();
        if ended && !matches!(tok, Tok::End) {
            return Verdict::Write; // a second statement
        }
        match tok {
            Tok::Word(w) if started => {
                if word_is_write(w, prev, &lexer) {
                    return Verdict::Write;
                }
            }
            Tok::Quoted(name) if started => {
                if call_of_write_function(name, &lexer) {
                    return Verdict::Write;
                }
            }
            Tok::Literal => {
                if !started {
                    return Verdict::Write;
                }
            }
            Tok::Punct(b'(') => {
                leading_paren |= !started;
                parens += 1;
            }
            Tok::Word(w) => {
                if !starts_read(w, leading_paren) {
                    return Verdict::Write;
                }
                started = true;
            }
            Tok::Write | Tok::Assign | Tok::Quoted(_) => return Verdict::Write,
            Tok::Rejected => return Verdict::Rejected,
            Tok::End => {
                return if started && parens == 0 && brackets == 0 {
                    Verdict::Read
                } else {
                    Verdict::Write
                };
            }
            Tok::Punct(_) if !started => return Verdict::Write,
            Tok::Punct(b')') if parens > 0 => parens -= 1,
            Tok::Punct(b'[') => brackets += 1,
            Tok::Punct(b']') if brackets > 0 => brackets -= 1,
            Tok::Punct(b';') if parens == 0 && brackets == 0 => ended = true,
            Tok::Punct(b')' | b']' | b';') => return Verdict::Write,
            Tok::Punct(_) => {}
        }
        prev = tok;
    }
}

/// Whether the first keyword `w` opens a read.
fn starts_read(w: &[u8], leading_paren: bool) -> bool {
    is_any(w, &[b"select", b"with", b"values", b"table"])
        || (!leading_paren && is_any(w, &[b"show", b"explain", b"describe", b"desc"]))
}

/// Whether an unquoted word after the first one makes the statement a write.
fn word_is_write(w: &[u8], before: Tok<'_>, lexer: &Lexer<'_>) -> bool {
    // No keyword or name below is shorter than four bytes.
    if w.len() < 4 {
        return false;
    }
    // A lone word in brackets outside SQLite (`a[update]`, `[insert]`): an
    // array subscript or a syntax error, never a lock or a write.
    if before == Tok::Punct(b'[') && lexer.peek() == Tok::Punct(b']') {
        return false;
    }
    keyword_is_write(w, before, lexer)
        || name_is_write(w)
        || (call_is_write(w) && lexer.peek() == Tok::Punct(b'('))
}

/// Whether a quoted name is the name of a write function, called.
fn call_of_write_function(name: &[u8], lexer: &Lexer<'_>) -> bool {
    (name_is_write(name) || call_is_write(name)) && lexer.peek() == Tok::Punct(b'(')
}

/// Keywords that make a statement write or lock, dispatched on the first
/// letter so that an ordinary word costs one or two comparisons. Only
/// `REPLACE` looks at the next token (the string function `REPLACE(…)` reads).
fn keyword_is_write(w: &[u8], before: Tok<'_>, lexer: &Lexer<'_>) -> bool {
    match w.first().map(u8::to_ascii_lowercase) {
        Some(b'a') => is_any(w, &[b"alter", b"analyze", b"analyse"]),
        Some(b'c') => is(w, b"create") && !is_word(before, &[b"show"]),
        Some(b'd') => is_any(w, &[b"delete", b"drop", b"declare"]),
        Some(b'e') => is(w, b"execute"),
        Some(b'g') => is(w, b"grant"),
        Some(b'i') => is_any(w, &[b"insert", b"into"]),
        Some(b'm') => is(w, b"merge"),
        Some(b'p') => is(w, b"procedure"),
        Some(b'r') => {
            is_any(w, &[b"returning", b"revoke"])
                || (is(w, b"replace") && lexer.peek() != Tok::Punct(b'('))
        }
        Some(b's') => is(w, b"share") && is_word(before, &[b"for", b"key", b"in"]),
        Some(b't') => is(w, b"truncate"),
        Some(b'u') => is_any(w, &[b"update", b"upsert"]),
        Some(b'v') => is(w, b"value") && is_word(before, &[b"next", b"previous"]),
        _ => false,
    }
}

/// Function names that write, lock or touch session state, wherever they
/// appear (a call, Oracle-mode `seq.nextval`, or a plain mention).
fn name_is_write(w: &[u8]) -> bool {
    match w.first().map(u8::to_ascii_lowercase) {
        Some(b'c') => is(w, b"currval"),
        Some(b'd') => starts_with(w, b"dblink"),
        Some(b'g') => is(w, b"get_lock"),
        Some(b'i') => is_any(w, &[b"is_free_lock", b"is_used_lock"]),
        Some(b'l') => is_any(
            w,
            &[
                b"lastval",
                b"last_insert_id",
                b"last_insert_rowid",
                b"load_extension",
            ],
        ),
        Some(b'n') => is(w, b"nextval"),
        Some(b'p') => {
            is(w, b"pg_notify")
                || starts_with(w, b"pg_advisory")
                || starts_with(w, b"pg_try_advisory")
                || starts_with(w, b"pg_current_xact_id")
        }
        Some(b'r') => is_any(w, &[b"release_lock", b"release_all_locks"]),
        Some(b's') => is_any(w, &[b"setval", b"set_config"]),
        Some(b't') => starts_with(w, b"txid_current"),
        _ => false,
    }
}

/// Functions that write, lock, run SQL given as a string, or answer about
/// the session, when called.
fn call_is_write(w: &[u8]) -> bool {
    const NAMES: &[&[u8]] = &[
        b"changes",
        b"total_changes",
        b"row_count",
        b"found_rows",
        b"setseed",
        b"writefile",
        b"eval",
        b"sys_exec",
        b"sys_eval",
        b"ts_stat",
        b"crosstab",
        b"connectby",
    ];
    const PREFIXES: &[&[u8]] = &[b"lo_", b"query_to_xml", b"cursor_to_xml"];
    is_any(w, NAMES)
        || PREFIXES.iter().any(|p| starts_with(w, p))
        || (starts_with(w, b"pg_") && !pg_function_is_read(w))
}

/// The Postgres `pg_*` functions known to be read-only and to work on a
/// standby; every other `pg_*` call is treated as a write.
fn pg_function_is_read(name: &[u8]) -> bool {
    const EXACT: &[&[u8]] = &[
        b"pg_typeof",
        b"pg_backend_pid",
        b"pg_postmaster_start_time",
        b"pg_conf_load_time",
        b"pg_client_encoding",
        b"pg_encoding_to_char",
        b"pg_char_to_encoding",
        b"pg_encoding_max_length",
        b"pg_jit_available",
        b"pg_trigger_depth",
        b"pg_my_temp_schema",
        b"pg_blocking_pids",
        b"pg_safe_snapshot_blocking_pids",
        b"pg_listening_channels",
        b"pg_notification_queue_usage",
        b"pg_wal_lsn_diff",
        b"pg_lsn",
        b"pg_tablespace_location",
        b"pg_tablespace_databases",
        b"pg_filenode_relation",
        b"pg_visible_in_snapshot",
        b"pg_options_to_table",
        b"pg_settings_get_flags",
        b"pg_has_role",
        b"pg_describe_object",
        b"pg_walfile_name",
        b"pg_walfile_name_offset",
        b"pg_split_walfile_name",
        b"pg_stat_statements",
        b"pg_stat_statements_info",
        b"pg_available_extensions",
        b"pg_available_extension_versions",
    ];
    const PREFIXES: &[&[u8]] = &[
        b"pg_get_",
        b"pg_stat_get_",
        b"pg_last_",
        b"pg_size_",
        b"pg_is_",
        b"pg_input_",
        b"pg_identify_object",
        b"pg_index",
        b"pg_partition_",
        b"pg_control_",
        b"pg_column_",
        b"pg_relation_",
        b"pg_snapshot_",
        b"pg_xact_",
        b"pg_sleep",
    ];
    const SUFFIXES: &[&[u8]] = &[b"_size", b"_is_visible"];
    is_any(name, EXACT)
        || PREFIXES.iter().any(|p| starts_with(name, p))
        || SUFFIXES.iter().any(|s| ends_with(name, s))
}

/// `w` equals the lower-case keyword `k`, ignoring ASCII case.
fn is(w: &[u8], k: &[u8]) -> bool {
    w.eq_ignore_ascii_case(k)
}

fn is_any(w: &[u8], any_of: &[&[u8]]) -> bool {
    any_of.iter().any(|k| w.eq_ignore_ascii_case(k))
}

fn is_word(t: Tok<'_>, any_of: &[&[u8]]) -> bool {
    matches!(t, Tok::Word(w) if is_any(w, any_of))
}

fn starts_with(w: &[u8], prefix: &[u8]) -> bool {
    w.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

fn ends_with(w: &[u8], suffix: &[u8]) -> bool {
    w.len() >= suffix.len()
        && w.get(w.len() - suffix.len()..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn read(sql: &str) {
        assert_eq!(classify(sql), Access::Read, "expected Read: {sql:?}");
    }

    #[track_caller]
    fn write(sql: &str) {
        assert_eq!(classify(sql), Access::Write, "expected Write: {sql:?}");
    }

    #[test]
    fn seaorm_postgres_reads() {
        read(r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" = $1 LIMIT $2"#);
        read(
            r#"SELECT COUNT(*) AS num_items FROM (SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."name" LIKE $1) AS "sub_query""#,
        );
        read(
            r#"SELECT "fruit"."id", "fruit"."name", "fruit"."cake_id" FROM "fruit" INNER JOIN "cake" ON "fruit"."cake_id" = "cake"."id" WHERE "cake"."id" IN ($1, $2, $3) ORDER BY "fruit"."id" ASC"#,
        );
        read(
            r#"SELECT CAST("cake"."price" AS text), "cake"."tags" @> $1 FROM "cake" WHERE "cake"."name" ILIKE $2 OFFSET $3"#,
        );
        read("select * from cake where id = any($1)");
        read("SELECT 1");
    }

    #[test]
    fn seaorm_mysql_and_sqlite_reads() {
        read("SELECT `cake`.`id` FROM `cake` WHERE `cake`.`id` = ?");
        read(
            "SELECT COUNT(*) AS num_items FROM (SELECT `cake`.`id`, `cake`.`name` FROM `cake`) AS `sub_query`",
        );
        read(r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" = ? LIMIT ?"#);
        read("SELECT `id` FROM `cake` WHERE `name` = ? LIMIT ? OFFSET ?");
    }

    #[test]
    fn other_reads() {
        read("WITH t AS (SELECT 1 AS x) SELECT x FROM t");
        read(
            "WITH RECURSIVE n(i) AS (VALUES (1) UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT * FROM n",
        );
        read("VALUES (1, 'a'), (2, 'b')");
        read("TABLE cake");
        read("SHOW search_path");
        read("SHOW TABLES LIKE 'cake%'");
        read("SHOW CREATE TABLE cake");
        read("EXPLAIN SELECT * FROM cake");
        read("EXPLAIN (FORMAT JSON, COSTS false) SELECT * FROM cake");
        read("EXPLAIN QUERY PLAN SELECT * FROM cake");
        read("DESCRIBE cake");
        read("DESC cake");
        read("(SELECT 1) UNION (SELECT 2)");
        read("((SELECT 1)) INTERSECT (SELECT 1) EXCEPT SELECT 2");
        read("(VALUES (1))");
        read("SELECT 1;");
        read("SELECT 1 ; -- done\n /* really */ ");
        read("SELECT replace(name, 'a', 'b') FROM cake");
        read("SELECT * FROM cake ORDER BY id DESC FETCH NEXT 10 ROWS ONLY");
        read("SELECT substring(name FROM 1 FOR 3) FROM cake");
        read("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), pg_typeof(1)");
        read("SELECT pg_size_pretty(pg_total_relation_size('cake'))");
        read("SELECT share, lock FROM stocks");
        read("SELECT * FROM t WHERE x = ANY(ARRAY[1, 2]) AND y[1] = 2");
        read("SELECT data #>> '{a,b}' FROM t");
        read("SELECT a # b FROM t");
        read("SELECT @a, @@version");
        read("SELECT $1::text, $2::int");
    }

    #[test]
    fn dml_is_write() {
        write(r#"INSERT INTO "cake" ("name") VALUES ($1) RETURNING "id", "name""#);
        write("INSERT INTO `cake` (`name`) VALUES (?)");
        write(r#"UPDATE "cake" SET "name" = $1 WHERE "cake"."id" = $2"#);
        write(r#"DELETE FROM "cake" WHERE "cake"."id" = $1"#);
        write("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE");
        write("REPLACE INTO cake (id, name) VALUES (1, 'x')");
        write("UPSERT INTO cake VALUES (1)");
        write("INSERT OR REPLACE INTO cake VALUES (1)");
        write("(INSERT INTO cake VALUES (1))");
    }

    #[test]
    fn ddl_and_admin_is_write() {
        for sql in [
            "CREATE TABLE t (id int)",
            "ALTER TABLE t ADD COLUMN c int",
            "DROP TABLE t",
            "TRUNCATE t",
            "RENAME TABLE a TO b",
            "COMMENT ON TABLE t IS 'x'",
            "GRANT SELECT ON t TO u",
            "REVOKE ALL ON t FROM u",
            "REFRESH MATERIALIZED VIEW v",
            "CLUSTER t",
            "REINDEX TABLE t",
            "VACUUM",
            "VACUUM ANALYZE t",
            "ANALYZE t",
            "CHECKPOINT",
            "DISCARD ALL",
            "OPTIMIZE TABLE t",
            "FLUSH TABLES",
            "KILL 42",
            "USE shop",
        ] {
            write(sql);
        }
    }

    #[test]
    fn session_and_transaction_control_is_write() {
        for sql in [
            "SET search_path = public",
            "SET NAMES utf8mb4",
            "RESET ALL",
            "BEGIN",
            "START TRANSACTION",
            "COMMIT",
            "ROLLBACK",
            "SAVEPOINT s",
            "LISTEN ch",
            "NOTIFY ch, 'x'",
            "UNLISTEN *",
            "PREPARE p AS SELECT 1",
            "EXECUTE p",
            "DEALLOCATE p",
            "LOCK TABLE t IN SHARE MODE",
            "CALL proc()",
            "DO $$ BEGIN PERFORM 1; END $$",
            "COPY t FROM STDIN",
            "COPY (SELECT 1) TO STDOUT",
            "HANDLER t OPEN",
            "LOAD DATA INFILE 'x' INTO TABLE t",
        ] {
            write(sql);
        }
    }

    #[test]
    fn locking_reads_are_write() {
        write("SELECT * FROM t FOR UPDATE");
        write("SELECT * FROM t FOR SHARE");
        write("SELECT * FROM t FOR NO KEY UPDATE");
        write("SELECT * FROM t FOR KEY SHARE");
        write("SELECT * FROM t FOR UPDATE OF t NOWAIT");
        write("SELECT * FROM t FOR UPDATE OF t SKIP LOCKED");
        write("SELECT * FROM t for\n\tupdate");
        write("SELECT * FROM t FOR /* hm */ SHARE");
        write("SELECT * FROM t LOCK IN SHARE MODE");
        write("(SELECT * FROM t FOR UPDATE)");
    }

    #[test]
    fn data_modifying_ctes_and_into_are_write() {
        write("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x");
        write("WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM x");
        write("WITH x AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM x");
        write("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x");
        write("WITH x AS (SELECT 1) DELETE FROM t");
        write("SELECT * INTO new_table FROM t");
        write("SELECT * FROM t INTO OUTFILE '/tmp/x'");
        write("SELECT a INTO @v FROM t");
        write("SELECT @v := 1");
        write("VALUES (1) RETURNING 1");
    }

    #[test]
    fn side_effect_functions_are_write() {
        for sql in [
            "SELECT nextval('s')",
            "SELECT NEXTVAL('s')",
            "SELECT pg_catalog.nextval('s')",
            r#"SELECT "nextval"('s')"#,
            "SELECT setval('s', 1)",
            "SELECT currval('s')",
            "SELECT lastval()",
            "SELECT NEXT VALUE FOR s",
            "SELECT PREVIOUS VALUE FOR s",
            "SELECT s.nextval FROM dual",
            "SELECT pg_advisory_lock(1)",
            "SELECT pg_advisory_xact_lock_shared(1)",
            "SELECT pg_try_advisory_lock(1)",
            "SELECT pg_advisory_unlock_all()",
            "SELECT pg_notify('ch', 'x')",
            "SELECT set_config('a.b', 'c', false)",
            "SELECT lo_import('/etc/passwd')",
            "SELECT lo_unlink(42)",
            "SELECT txid_current()",
            "SELECT pg_current_xact_id()",
            "SELECT pg_current_wal_lsn()",
            "SELECT pg_switch_wal()",
            "SELECT pg_terminate_backend(1)",
            "SELECT * FROM dblink('db', 'DELETE FROM t') AS x(a int)",
            "SELECT query_to_xml('select 1', true, true, '')",
            "SELECT U&\"\\006Eextval\"('s')",
        ] {
            write(sql);
        }
    }

    #[test]
    fn explain_analyze_and_explained_writes_are_write() {
        write("EXPLAIN ANALYZE SELECT * FROM t");
        write("EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM t");
        write("EXPLAIN (FORMAT JSON, ANALYSE true) SELECT 1");
        write("EXPLAIN UPDATE t SET a = 1");
        write("EXPLAIN DELETE FROM t");
        write("EXPLAIN INSERT INTO t VALUES (1)");
        write("EXPLAIN EXECUTE p");
        write("EXPLAIN CREATE TABLE x AS SELECT 1");
        write("DESCRIBE DELETE FROM t");
        write("(EXPLAIN SELECT 1)");
        write("(SHOW TABLES)");
    }

    #[test]
    fn comments_never_fool_it() {
        read("SELECT 1 -- DELETE FROM t");
        read("SELECT 1 -- ; DELETE FROM t\n");
        read("/* INSERT */ SELECT 1");
        read("-- UPDATE t\nSELECT 1");
        read("SELECT /* FOR UPDATE */ 1 FROM t /*; DROP TABLE t */");
        read("SELECT 1 /*+ MAX_EXECUTION_TIME(1000) */");
        write("/* SELECT */ DELETE FROM t");
        write("-- SELECT 1\nDELETE FROM t");
        write("SELECT 1 -- x\r; DELETE FROM t");
        // Postgres nests comments, MySQL and SQLite do not.
        write("SELECT 1 /* /* */ ; DELETE FROM t /* */ */");
        read("SELECT 1 /* /* */ */");
        write("SELECT 1 /* /* */");
        // MySQL executable comments run.
        write("SELECT 1 /*! FOR UPDATE */");
        write("SELECT * FROM t /*!50000 FOR UPDATE */");
        write("SELECT 1 /*M! ; DELETE FROM t */");
        // `#`: an operator in Postgres, a comment in MySQL.
        read("SELECT 1 # just a comment in MySQL\n");
        write("SELECT 1 # DELETE\n");
        write("SELECT a # 1 FROM t; DELETE FROM t");
        write("SELECT 1 #'\n; DELETE FROM t; -- '");
        // `--` without a space is not a comment in MySQL.
        write("SELECT 1 --'\n, '; DELETE FROM t; --'");
        read("SELECT 1 -- '\n");
        // Comment-only text cannot be proven a read.
        write("-- SELECT 1");
        write("/* SELECT 1 */");
    }

    #[test]
    fn strings_never_fool_it() {
        read("SELECT 'DELETE FROM t'");
        read("SELECT 'it''s; DROP TABLE t' FROM t");
        read("SELECT E'it\\'s' FROM t");
        // Without backslash escapes (MySQL NO_BACKSLASH_ESCAPES) the `;` is code.
        write("SELECT E'it\\'s; DELETE' FROM t");
        read("SELECT 'it\\'s' FROM t");
        read("SELECT * FROM t WHERE a = 'O''Brien' AND b = 'x--y' AND c = '/*'");
        read("SELECT N'update', X'FF', B'01', U&'d\\0061t\\+000061'");
        read("SELECT _utf8mb4'delete' COLLATE utf8mb4_bin");
        write("SELECT '' ; DELETE FROM t");
        // A backslash ends a Postgres string but escapes in MySQL: both readings count.
        write("SELECT 'a\\'; DELETE FROM t; -- '");
        write("SELECT '\\' ; DELETE FROM t; SELECT ''");
        write("SELECT \"\\\" ; DELETE FROM t; SELECT \"");
        write("SELECT E'\\' ; DELETE FROM t; SELECT '");
    }

    #[test]
    fn quoted_identifiers_never_fool_them() {
        read(r#"SELECT "update", "delete" FROM "insert" WHERE "for" = 'share'"#);
        read(r#"SELECT "a""; DELETE FROM t" FROM t"#);
        read("SELECT `delete`, `update` FROM `insert`");
        read("SELECT `a``; DROP TABLE t` FROM t");
        read("SELECT [insert] FROM [delete]");
        read("SELECT `into` FROM `t` FOR SYSTEM_TIME AS OF '2020-01-01'");
        write(r#"SELECT "x" FROM t FOR UPDATE"#);
        write("SELECT [a] FROM t; DELETE FROM t");
        write("SELECT [a'] FROM t; DELETE FROM t; SELECT [']");
        write("SELECT x[']'] ; DELETE FROM t");
        write("SELECT [insert into] FROM t");
        write(r#"SELECT "a" FROM "t"; UPDATE "t" SET "a" = 1"#);
    }

    #[test]
    fn dollar_quotes() {
        read("SELECT $$it's$$");
        read("SELECT $tag$a 'quote' and a \"dq\"$tag$ AS x");
        read("SELECT $a$ $ $b$ $a$");
        // MySQL and SQLite read dollar-quoted text as code.
        write("SELECT $$ DELETE FROM t $$");
        write("SELECT $q$ ; DROP TABLE t $q$");
        // A dollar quote hides nothing from the Postgres reading either.
        write("SELECT $$x$$; DELETE FROM t");
        write("SELECT $a$ $$ $a$ FOR UPDATE");
        // Unterminated.
        write("SELECT $$abc");
        write("SELECT $tag$abc$tagx$");
        // `$` inside an identifier does not open a quote.
        write("SELECT x$a$ FROM t; DELETE FROM t; SELECT $a$");
        // SQLite TCL-style parameters swallow `(...)`.
        write("SELECT $a(') FROM t; DELETE FROM t; SELECT $b(')");
        read("SELECT :name, :other FROM t");
    }

    #[test]
    fn case_whitespace_and_parentheses() {
        read("select 1");
        read("SeLeCt\t*\nFROM\r\ncake");
        read("\n\t  SELECT 1  \n");
        read("(((SELECT 1)))");
        read("SELECT (1 + (2 * 3))");
        write("InSeRt InTo t VaLuEs (1)");
        write("sElEcT * fRoM t FoR uPdAtE");
        write("SELECT (1");
        write("SELECT 1)");
        write("(SELECT 1");
        write("SELECT 1 FROM t WHERE (a = 1))");
        write("()");
        write("(");
        write(")");
    }

    #[test]
    fn identifiers_containing_keywords_are_identifiers() {
        read(
            "SELECT nextval_count, updated_at, insert_date, for_update_flag, returning_customer, deleted, created_at FROM t",
        );
        read("SELECT t.created_by, t.into_count, lock_version, share_price FROM t");
        read("SELECT selected, setvalue, droplet, altered FROM t");
        read("SELECT café_update, x$update FROM t");
        // Bare write keywords as identifiers: conservatively Write.
        write("SELECT t.update FROM t");
        write("SELECT 1 AS delete");
        write("SELECT t.nextval FROM t");
    }

    #[test]
    fn multiple_statements_are_write() {
        write("SELECT 1; SELECT 2");
        write("SELECT 1;SELECT 2");
        write("SELECT 1;;");
        write("SELECT 1; -- c\n DELETE FROM t");
        write("SELECT 1; /* c */ x");
        write("SELECT (1; 2)");
        write(";");
        write("; SELECT 1");
        read("SELECT 1;  \n\t-- trailing comment");
    }

    #[test]
    fn empty_and_unparsable_are_write() {
        for sql in [
            "",
            " ",
            "\n\t",
            ";",
            "-- nothing",
            "/* nothing */",
            "SELECT 'abc",
            "SELECT \"abc",
            "SELECT `abc",
            "SELECT 1 /* unterminated",
            "SELECT $$unterminated",
            "SELECT 1\0",
            "1",
            "'SELECT 1'",
            "\"select\"",
            "SELECT[abc",
            "SELECT a]",
        ] {
            write(sql);
        }
    }

    #[test]
    fn mysql_mariadb_specials() {
        write("SELECT * FROM t LOCK IN SHARE MODE");
        write("SELECT * FROM t WHERE id = ? LOCK\nIN\tSHARE MODE");
        write("SELECT GET_LOCK('x', 10)");
        write("SELECT RELEASE_LOCK('x')");
        write("SELECT RELEASE_ALL_LOCKS()");
        write("SELECT IS_USED_LOCK('x')");
        write("SELECT LAST_INSERT_ID()");
        write("SELECT LAST_INSERT_ID(42)");
        write("SELECT last_insert_id ()");
        write("SELECT ROW_COUNT()");
        write("SELECT FOUND_ROWS()");
        write("REPLACE INTO t VALUES (1)");
        write("REPLACE t SET a = 1");
        write("SELECT * FROM t PROCEDURE ANALYSE()");
        write("HANDLER t READ FIRST");
        write("DO SLEEP(1)");
        read("SELECT SQL_NO_CACHE `a` FROM `t` WHERE `b` = 'x\\'y'");
        read("SELECT * FROM t WHERE a = \"it\\\"s\"");
    }

    #[test]
    fn sqlite_specials() {
        write("INSERT OR REPLACE INTO t VALUES (1)");
        write("INSERT OR IGNORE INTO t VALUES (1)");
        write("PRAGMA journal_mode");
        write("PRAGMA table_info(t)");
        write("VACUUM");
        write("ATTACH DATABASE 'x.db' AS x");
        write("DETACH DATABASE x");
        write("SELECT last_insert_rowid()");
        write("SELECT changes()");
        write("SELECT total_changes()");
        write("SELECT load_extension('x')");
        read("SELECT changes FROM audit");
        read("SELECT [order], [group] FROM [table] WHERE x = ?1");
        read("SELECT * FROM t WHERE a = :a AND b = @b AND c = $c");
    }

    #[test]
    fn common_sql_takes_the_single_pass_path() {
        // Not a timing test: it pins the design. The SQL SeaORM generates
        // contains nothing the profiles could read differently, so one
        // profile pass decides (plus a byte scan), without allocating.
        for sql in [
            r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" = $1 LIMIT $2"#,
            "SELECT `cake`.`id` FROM `cake` WHERE `cake`.`id` = ?",
            r#"INSERT INTO "cake" ("name") VALUES ($1) RETURNING "id", "name""#,
        ] {
            let scan = prescan(sql.as_bytes()).map(|s| s.divergent);
            assert_eq!(scan, Some(false), "{sql}");
        }
        let divergent = |sql: &[u8]| prescan(sql).map(|s| s.divergent);
        assert_eq!(divergent(b"SELECT $$x$$"), Some(true));
        assert_eq!(divergent(b"SELECT 1 -- x"), Some(true));
        assert_eq!(divergent(b"SELECT '\\'"), Some(true));
        assert_eq!(divergent(b"SELECT 1\0"), None);
    }

    /// Every profile, always: the reference the fast path must agree with.
    fn classify_slow(sql: &str) -> Access {
        let b = sql.as_bytes();
        if b.contains(&0) {
            return Access::Write;
        }
        let verdicts = PROFILES.map(|p| run(b, p));
        if verdicts.contains(&Verdict::Write) || !verdicts.contains(&Verdict::Read) {
            Access::Write
        } else {
            Access::Read
        }
    }

    proptest::proptest! {
        /// The shortcuts (one profile when the pre-scan finds nothing to
        /// disagree on; no backslash variants without a backslash) never
        /// change the answer of running every profile.
        #[test]
        fn shortcuts_agree_with_all_profiles(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "SELECT", "select", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN", "DESC",
                    "FROM", "t", "x", "update", "delete", "into", "for", "share", "in", "key",
                    "nextval", "pg_sleep", "pg_cancel_backend", "replace", "changes", "E", "U",
                    "&", "'", "''", "\"", "`", "(", ")", ";", ",", ".", "=", ":", "::", "@",
                    "$1", "?", "1", " ", "\n", "\r", "\t", "*", "/", "-", "+", "[", "]", "é",
                    "/* c */", "$", "$$", "--", "#", "\\", "/*!", "*/",
                ]),
                0..24,
            )
        ) {
            let sql: String = parts.concat();
            proptest::prop_assert_eq!(classify(&sql), classify_slow(&sql), "{:?}", sql);
        }
    }
}
