//! Statement classifier: is an SQL string *provably* a plain read?
//!
//! [`classify_for`] decides whether one SQL string, in one dialect, may go to
//! a read replica ([`Access::Read`]) or must go to the primary
//! ([`Access::Write`]). This is routing rule 2 of the architecture, and it is
//! **conservative**. A wrong `Write` costs a little load on the primary. A
//! wrong `Read` sends a write, a lock or a change of session state to a
//! replica. So whatever cannot be proven a plain read is `Write`.
//!
//! ```
//! use multidb_core::{Access, Dialect, classify_for};
//!
//! let pg = |sql| classify_for(Dialect::Postgres, sql);
//! assert_eq!(pg(r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" = $1 LIMIT $2"#), Access::Read);
//! assert_eq!(pg("SELECT * FROM cake WHERE id = $1 FOR UPDATE"), Access::Write);
//! assert_eq!(pg("WITH gone AS (DELETE FROM cake RETURNING *) SELECT * FROM gone"), Access::Write);
//! assert_eq!(pg("SELECT 1 /* ; DELETE FROM cake */"), Access::Read);
//! // A call is a read only if the function is known to be read-only.
//! assert_eq!(pg("SELECT lower(name), count(*) FROM cake GROUP BY 1"), Access::Read);
//! assert_eq!(pg("SELECT archive_old_cakes()"), Access::Write);
//! ```
//!
//! Three forms:
//!
//! * [`classify_for`]`(dialect, sql)`: the statement in its own dialect. This
//!   is what `MultiDb` routes with.
//! * [`Classifier`]: the same, plus functions the application declares
//!   read-only ([`Classifier::with_read_only_functions`]).
//! * [`classify`]`(sql)`: dialect-blind, the most conservative form. The text
//!   is read under the rules of every dialect at once, and is `Read` only if
//!   no dialect would run it as a write and every dialect knows each function
//!   it calls to be read-only.
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
//!    comment and dollar quote is terminated. Empty input and input that is
//!    only comments is `Write`, and so is a NUL byte anywhere.
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
//!      statement, and so does `EXPLAIN ("analyze")`) and `PROCEDURE` (MySQL
//!      `PROCEDURE ANALYSE`);
//!    * sequences, locks and session state, wherever they appear: `nextval`,
//!      `setval`, `currval`, `lastval`, MariaDB `NEXT VALUE FOR` and
//!      `PREVIOUS VALUE FOR`, `pg_advisory_*`, `pg_try_advisory_*`,
//!      `GET_LOCK`, `RELEASE_LOCK`, `RELEASE_ALL_LOCKS`, `IS_FREE_LOCK`,
//!      `IS_USED_LOCK`, `LAST_INSERT_ID`, `last_insert_rowid`, `set_config`,
//!      `pg_notify`, `txid_current*`, `pg_current_xact_id*`, `dblink*`,
//!      `load_extension`, MySQL `SQL_CALC_FOUND_ROWS`;
//!    * MySQL session state: `@@identity`, `@@insert_id`, `@@last_insert_id`,
//!      `@@warning_count`, `@@error_count` (also as `@@session.…`), and
//!      `SHOW WARNINGS`, `SHOW ERRORS`, `SHOW PROFILE(S)`. On a replica they
//!      answer about another connection.
//! 5. **Every function call is to a function known to be read-only.** A call
//!    `name(…)` (bare or quoted name) is a read only if `name` is on the
//!    dialect's allow list of read-only built-ins (aggregates, window
//!    functions, string, math, date/time, JSON, array, full-text, casts,
//!    `random`, `gen_random_uuid`, `now`, read-only `pg_*` functions such as
//!    `pg_typeof`, `pg_get_*` or `pg_is_in_recovery`, …) or the application
//!    declared it read-only ([`Classifier::with_read_only_functions`]). An
//!    unknown function is `Write`: a user-defined function, `ts_rewrite`,
//!    `xpath_table`, `brin_summarize_range`, `gin_clean_pending_list`,
//!    `heap_force_kill`, `set_limit`, SQLite's `changes()`, FTS `optimize(…)`
//!    and `pragma_optimize`, MySQL's `ROW_COUNT()` and `FOUND_ROWS()`. A
//!    qualified call `schema.f(…)` is a read only as `pg_catalog.f(…)` in
//!    PostgreSQL with `f` on the list.
//! 6. A name after a `.` is checked too: PostgreSQL's attribute notation
//!    `(x).f` and `(x)."f"` call `f(x)`, so after `)` the name must be on the
//!    allow list; and a name known to write (`nextval`, `lo_import`,
//!    `dblink_exec`, every `pg_*` function off the read list, …) is `Write`
//!    after any `.` (MariaDB `` `s`.`nextval` ``, `s."nextval"`).
//! 7. No `:=` (MySQL user-variable assignment).
//!
//! Words match whole and ASCII case-insensitively: `updated_at`,
//! `insert_date`, `nextval_count`, `for_update_flag` and `returning_customer`
//! are ordinary identifiers, and a write keyword inside a string literal, a
//! quoted identifier (`"update"`, `` `delete` ``, `[insert]`) or a comment is
//! not a keyword. A write keyword used as a *bare* identifier
//! (`SELECT t.update FROM t`, `SELECT 1 AS delete`) makes the string `Write`:
//! a false write is acceptable, a false read is not.
//!
//! A `(` after a name is not a call in a few places the scan recognises: a
//! type modifier or a column list after `AS` or `::`
//! (`CAST(x AS varchar(10))`, `generate_series(1, 3) AS g(i)`), an alias
//! column list after `)` (`unnest(a) u(x)`), and a CTE name
//! (`WITH RECURSIVE n(i) AS (…)`). SQL keywords that take `(` (`IN`,
//! `EXISTS`, `OVER`, `FILTER`, `VALUES`, …) are on every allow list.
//!
//! # Dialects and lexical profiles
//!
//! PostgreSQL, MySQL/MariaDB and SQLite split the same text into tokens
//! differently, and each has settings that change how: what one of them
//! skips as a comment or a literal, another may execute. [`classify_for`]
//! reads the text under each *profile* of its dialect and calls it `Read`
//! only if no profile finds a write (and at least one accepts it):
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
//! The profiles of one dialect differ only inside literals that hold a
//! backslash, so the first profile reads the text alone unless it meets such
//! a literal; the others then resume from that literal, not from the start.
//! So for PostgreSQL, `#` is an operator (`data #>> '{a,b}'`, pgvector
//! `<#>`), and a dollar-quoted literal is a literal whatever it holds.
//!
//! [`classify`] reads the text under all six profiles. The consequences:
//!
//! * **`#`** is a comment only in the MySQL profiles: a statement is `Read`
//!   only if it is a read both with and without `#` comments.
//! * **Dollar quotes** `$$…$$` are literals in PostgreSQL only; MySQL and
//!   SQLite read the same bytes as code, so `SELECT $$ DELETE $$` is `Write`.
//! * **Nested comments**: `/* /* */ … */` is one comment in PostgreSQL but
//!   ends at the first `*/` in MySQL and SQLite.
//! * A call must be on every dialect's allow list: `SELECT now()` is `Read`
//!   for PostgreSQL and MySQL but not for the blind form (SQLite has no
//!   `now()`, and an application may have defined one).
//!
//! In every dialect:
//!
//! * **PostgreSQL string continuation**: two string constants separated by
//!   whitespace that holds a newline (and possibly `--` comments, or a bare
//!   `\r`) are one constant, and an `E'…'` prefix carries its backslash
//!   escapes into the continuation. The lexer follows these rules of
//!   PostgreSQL's `scan.l`.
//! * **MySQL executable comments** `/*! … */` and `/*M! … */` contain SQL
//!   that MySQL and MariaDB run, so they make the string `Write`. Optimizer
//!   hints `/*+ … */` are comments.
//! * **Backticks** quote identifiers in MySQL and SQLite; PostgreSQL has no
//!   `` ` `` operator, so its profiles read backticks as quotes too.
//! * **PostgreSQL `U&"…"` identifiers** are `Write`: their Unicode escapes
//!   can spell any function name (`U&"\006Eextval"` is `nextval`).
//! * When a profile's lexer would reject the text *before executing
//!   anything* (an unterminated string or quoted identifier, an illegal
//!   SQLite token such as `@>`), that profile neither vetoes nor supports
//!   `Read`. Unterminated comments and dollar quotes are always `Write`.
//!
//! # Not covered
//!
//! The classifier reads the SQL text, not the schema. A view whose rules or
//! triggers write looks like a plain read, and so does a user-defined
//! function reached through PostgreSQL's attribute notation on a table
//! alias (`SELECT t.archive FROM orders t`, which calls `archive(t)` when
//! `orders` has no column `archive`), or a user-defined overload of a
//! built-in name. Run such code under `use_master` or `#[db_write]`.
//!
//! # Performance
//!
//! The classifier works on the bytes of the `&str` and never allocates:
//! tokens are sub-slices of the input, keywords are lower-cased into an
//! integer and matched in one `match`, the allow lists are sorted tables
//! searched only at a `(`, and the state is a few integers and the last two
//! tokens. [`classify_for`] makes one pass over the text (plus a resumed pass
//! per other profile from the first literal whose backslash the profiles
//! read differently). Nesting is a counter, so the stack is bounded. The
//! dialect-blind [`classify`] first scans the bytes for the constructs on
//! which the profiles can disagree and runs one profile when there are none.

mod lexer;
mod profile;
mod scan;
mod words;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use profile::Profile;
use scan::{Extra, Scan, Verdict};

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

/// The SQL dialect a statement is written in, for [`classify_for`] and
/// [`Classifier`].
///
/// ```
/// use multidb_core::{Access, Dialect, classify_for};
///
/// // `#>>` is a JSON operator in PostgreSQL, a comment in MySQL.
/// let sql = "SELECT data #>> '{a,b}' FROM t";
/// assert_eq!(classify_for(Dialect::Postgres, sql), Access::Read);
/// assert_eq!(classify_for(Dialect::MySql, sql), Access::Read);
/// let sql = "SELECT data #>> '{a,b}' FROM t; DELETE FROM t";
/// assert_eq!(classify_for(Dialect::Postgres, sql), Access::Write);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// PostgreSQL, with `standard_conforming_strings` on or off.
    Postgres,
    /// MySQL and MariaDB, in any of the `sql_mode`s that change lexing
    /// (`NO_BACKSLASH_ESCAPES`, `ANSI_QUOTES`).
    MySql,
    /// SQLite.
    Sqlite,
}

/// Classify one SQL string as a plain read or a possible write, in no
/// particular dialect: the most conservative form.
///
/// Returns [`Access::Read`] only if the text is provably a single plain read
/// under the PostgreSQL, MySQL/MariaDB and SQLite lexical rules alike, and
/// every function it calls is known to be read-only in all three (see the
/// [module documentation](self)); [`Access::Write`] otherwise, including for
/// empty, comment-only or unparsable input. It never panics and never
/// allocates. When the dialect is known, [`classify_for`] is as safe and
/// sends fewer reads to the primary.
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
    let Some(scan) = profile::prescan(bytes) else {
        return Access::Write;
    };
    if !scan.divergent {
        // Every profile reads these tokens alike; the fast profile applies
        // every dialect's word and function rules at once.
        return verdict_of(&[profile::BLIND_FAST], bytes, &[]);
    }
    let mut accepted = false;
    for &p in &profile::ALL {
        // Without a backslash, a backslash variant reads like its base profile.
        let variant = p == profile::POSTGRES_NONSTANDARD_STRINGS
            || p == profile::MYSQL_NO_BACKSLASH_ESCAPES
            || p == profile::MYSQL_ANSI_QUOTES;
        if variant && !scan.backslash {
            continue;
        }
        match run_one(bytes, p, &[]) {
            Verdict::Write => return Access::Write,
            Verdict::Read => accepted = true,
            Verdict::Rejected => {}
        }
    }
    if accepted {
        Access::Read
    } else {
        Access::Write
    }
}

/// Classify one SQL string, written in `dialect`, as a plain read or a
/// possible write.
///
/// The same rules as [`classify`], read under `dialect`'s lexical profiles
/// and function list only. It is exactly as safe for statements of that
/// dialect (`Read` only if no profile of the dialect finds a write) and stops
/// sending reads to the primary for the other dialects' sake. Never panics,
/// never allocates. Equal to `Classifier::new(dialect).classify(sql)`.
///
/// ```
/// use multidb_core::{Access, Dialect, classify, classify_for};
///
/// // A dollar-quoted literal is a literal in PostgreSQL, code in MySQL.
/// let sql = "SELECT $$ DELETE FROM t $$";
/// assert_eq!(classify_for(Dialect::Postgres, sql), Access::Read);
/// assert_eq!(classify_for(Dialect::MySql, sql), Access::Write);
/// assert_eq!(classify(sql), Access::Write);
///
/// // pgvector's `<#>` and bitwise `#` are operators in PostgreSQL.
/// let sql = r#"SELECT "id" FROM "items" ORDER BY "embedding" <#> $1 LIMIT 5"#;
/// assert_eq!(classify_for(Dialect::Postgres, sql), Access::Read);
///
/// // MySQL session state answers about the connection it runs on.
/// assert_eq!(classify_for(Dialect::MySql, "SELECT @@identity"), Access::Write);
/// assert_eq!(classify_for(Dialect::Sqlite, "SELECT changes()"), Access::Write);
/// ```
#[must_use]
pub fn classify_for(dialect: Dialect, sql: &str) -> Access {
    verdict_of(profile::of(dialect), sql.as_bytes(), &[])
}

/// A dialect's classifier, with the functions the application declares
/// read-only.
///
/// [`classify_for`] treats every call of a function it does not know as a
/// write, so `SELECT my_schema_version()` goes to the primary. An
/// application that knows its own functions to be read-only (PostgreSQL
/// `STABLE`/`IMMUTABLE` functions, for example: they cannot write) declares
/// them here. Building a `Classifier` allocates; [`Classifier::classify`]
/// does not. It is cheap to clone (the names are shared).
///
/// ```
/// use multidb_core::{Access, Classifier, Dialect};
///
/// let classifier = Classifier::new(Dialect::Postgres)
///     .with_read_only_functions(["price_with_tax", "Slugify"])?;
/// assert_eq!(classifier.classify("SELECT price_with_tax(price) FROM cake"), Access::Read);
/// assert_eq!(classifier.classify("SELECT SLUGIFY(name) FROM cake"), Access::Read);
/// assert_eq!(classifier.classify("SELECT archive_cakes()"), Access::Write);
/// // Declared functions do not hide anything else.
/// assert_eq!(classifier.classify("SELECT price_with_tax(1) FOR UPDATE"), Access::Write);
///
/// // A function known to write cannot be declared read-only.
/// assert!(Classifier::new(Dialect::Postgres).with_read_only_functions(["nextval"]).is_err());
/// # Ok::<(), multidb_core::InvalidFunctionName>(())
/// ```
#[derive(Clone, Debug)]
pub struct Classifier {
    dialect: Dialect,
    /// Sorted, deduplicated, lower case.
    read_only: Option<Arc<[Box<str>]>>,
}

impl Classifier {
    /// The classifier of `dialect`, knowing only the built-in read-only
    /// functions: the same answers as [`classify_for`].
    ///
    /// ```
    /// use multidb_core::{Access, Classifier, Dialect};
    ///
    /// let classifier = Classifier::new(Dialect::MySql);
    /// assert_eq!(classifier.classify("SELECT `id` FROM `cake` WHERE `id` = ?"), Access::Read);
    /// ```
    #[must_use]
    pub const fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            read_only: None,
        }
    }

    /// Declare functions read-only: a call `name(…)` of one of them is a
    /// read (nothing else about the statement changes).
    ///
    /// Names match ASCII case-insensitively, like unquoted names; a quoted
    /// call matches only in lower case (`"slugify"(x)`, not `"Slugify"(x)`),
    /// and only unqualified calls match (`slugify(x)`, not `app.slugify(x)`).
    /// A name must be a plain identifier of 1 to 63 bytes (ASCII letters,
    /// digits, `_`, `$` or non-ASCII characters, not starting with a digit or
    /// `$`), and must not be a name the classifier knows to write, lock or
    /// read session state (`nextval`, `pg_advisory_lock`, `lo_import`, …).
    ///
    /// # Errors
    ///
    /// [`InvalidFunctionName`] for the first name that breaks these rules.
    ///
    /// ```
    /// use multidb_core::{Classifier, Dialect, InvalidFunctionName};
    ///
    /// let err = Classifier::new(Dialect::Sqlite)
    ///     .with_read_only_functions(["ok_name", "no spaces"])
    ///     .unwrap_err();
    /// assert_eq!(err.name(), "no spaces");
    /// assert_eq!(err.to_string(), r#"cannot declare "no spaces" read-only: not a plain identifier"#);
    /// ```
    pub fn with_read_only_functions<I>(self, names: I) -> Result<Self, InvalidFunctionName>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut all: Vec<Box<str>> = self
            .read_only
            .as_deref()
            .map(<[Box<str>]>::to_vec)
            .unwrap_or_default();
        for name in names {
            let name = name.as_ref();
            validate(name)?;
            all.push(name.to_ascii_lowercase().into_boxed_str());
        }
        all.sort_unstable();
        all.dedup();
        Ok(Self {
            dialect: self.dialect,
            read_only: (!all.is_empty()).then(|| Arc::from(all)),
        })
    }

    /// The dialect this classifier reads.
    ///
    /// ```
    /// use multidb_core::{Classifier, Dialect};
    ///
    /// assert_eq!(Classifier::new(Dialect::Sqlite).dialect(), Dialect::Sqlite);
    /// ```
    #[must_use]
    pub const fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The declared read-only functions, lower case and sorted.
    ///
    /// ```
    /// use multidb_core::{Classifier, Dialect};
    ///
    /// let c = Classifier::new(Dialect::Postgres).with_read_only_functions(["b", "A", "a"])?;
    /// assert_eq!(c.read_only_functions().collect::<Vec<_>>(), ["a", "b"]);
    /// # Ok::<(), multidb_core::InvalidFunctionName>(())
    /// ```
    pub fn read_only_functions(&self) -> impl Iterator<Item = &str> {
        self.extra().iter().map(|name| &**name)
    }

    /// Classify one SQL string: [`classify_for`] with the declared
    /// functions. Never panics, never allocates.
    ///
    /// ```
    /// use multidb_core::{Access, Classifier, Dialect};
    ///
    /// let classifier = Classifier::new(Dialect::Postgres).with_read_only_functions(["slugify"])?;
    /// assert_eq!(classifier.classify("SELECT slugify($1)"), Access::Read);
    /// assert_eq!(classifier.classify("SELECT nextval('s')"), Access::Write);
    /// # Ok::<(), multidb_core::InvalidFunctionName>(())
    /// ```
    #[must_use]
    pub fn classify(&self, sql: &str) -> Access {
        verdict_of(profile::of(self.dialect), sql.as_bytes(), self.extra())
    }

    fn extra(&self) -> &[Box<str>] {
        self.read_only.as_deref().unwrap_or_default()
    }
}

/// A function name that [`Classifier::with_read_only_functions`] refused.
///
/// ```
/// use multidb_core::{Classifier, Dialect};
///
/// let err = Classifier::new(Dialect::Postgres).with_read_only_functions([""]).unwrap_err();
/// assert_eq!(err.to_string(), r#"cannot declare "" read-only: empty"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidFunctionName {
    name: Box<str>,
    reason: &'static str,
}

impl InvalidFunctionName {
    /// The refused name, as given.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for InvalidFunctionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot declare {:?} read-only: {}",
            self.name, self.reason
        )
    }
}

impl std::error::Error for InvalidFunctionName {}

fn validate(name: &str) -> Result<(), InvalidFunctionName> {
    let refuse = |reason| {
        Err(InvalidFunctionName {
            name: name.into(),
            reason,
        })
    };
    let b = name.as_bytes();
    let Some(&first) = b.first() else {
        return refuse("empty");
    };
    if b.len() > 63 {
        return refuse("longer than 63 bytes");
    }
    let plain = !first.is_ascii_digit()
        && first != b'$'
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80);
    if !plain {
        return refuse("not a plain identifier");
    }
    let kw = words::keyword(b);
    if words::known_to_write(b, kw) || kw != words::Kw::Other {
        return refuse("a name the classifier knows to write, lock or read session state");
    }
    Ok(())
}

/// The verdict of a dialect's profiles: the first reads the whole text, the
/// others resume where the readings may start to differ.
fn verdict_of(profiles: &[Profile], sql: &[u8], extra: Extra<'_>) -> Access {
    let Some((&first, others)) = profiles.split_first() else {
        return Access::Write;
    };
    let mut scan = match Scan::start(sql, first) {
        Ok(scan) => scan,
        Err(Verdict::Rejected) if !others.is_empty() => {
            // Rejected before the first keyword: the other profiles read the
            // opening differently only inside a literal, which is no opening.
            return Access::Write;
        }
        Err(_) => return Access::Write,
    };
    let (verdict, snapshot) = scan.run(extra, !others.is_empty());
    if verdict == Verdict::Write {
        return Access::Write;
    }
    let mut accepted = verdict == Verdict::Read;
    if let Some(snapshot) = snapshot {
        for &p in others {
            match snapshot.resume(p, extra) {
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

/// One profile over the whole text.
fn run_one(sql: &[u8], p: Profile, extra: Extra<'_>) -> Verdict {
    match Scan::start(sql, p) {
        Ok(mut scan) => scan.run(extra, false).0,
        Err(verdict) => verdict,
    }
}
