mod cache;
mod catalog;
mod fast;
mod lexer;
mod profile;
mod scan;
mod words;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use catalog::{Catalog, CatalogBuilder, Origin, Volatility};
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

impl Dialect {
    /// The dialect's part of a verdict cache key (0: no dialect).
    const fn code(self) -> u8 {
        match self {
            Dialect::Postgres => 1,
            Dialect::MySql => 2,
            Dialect::Sqlite => 3,
        }
    }
}

/// Classify one SQL string as a plain read or a possible write, in no
/// particular dialect: the most conservative form.
///
/// Returns [`Access::Read`] only if the text is provably a single plain read
/// under the PostgreSQL, MySQL/MariaDB and SQLite lexical rules alike, and
/// every function it calls is known to be read-only in all three (see the
/// [crate documentation](crate#the-classifier)); [`Access::Write`] otherwise, including for
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
    cache::verdict(cache::Key::default(), bytes, || {
        // The fast path takes only text without the bytes the pre-scan looks at.
        if fast::proven_read(bytes, profile::BLIND_FAST, Extra::default()) {
            return Access::Read;
        }
        blind_full(bytes)
    })
}

/// [`classify`] without the fast path.
fn blind_full(bytes: &[u8]) -> Access {
    let Some(scan) = profile::prescan(bytes) else {
        return Access::Write;
    };
    if !scan.divergent {
        // Every profile reads these tokens alike; the fast profile applies
        // every dialect's word and function rules at once.
        return full_verdict(profile::BLIND_FAST, &[], bytes, Extra::default());
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
        match run_one(bytes, p, Extra::default()) {
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
/// A text seen before is answered from a bounded, exact verdict cache
/// (the crate's `docs/classify.md`, "Performance").
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
    let key = cache::Key {
        dialect: dialect.code(),
        ..cache::Key::default()
    };
    cache::verdict(key, sql.as_bytes(), || {
        verdict_of(profile::of(dialect), sql.as_bytes(), Extra::default())
    })
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
    /// Names `read_only` for the verdict cache: never reused (0: none).
    declared_id: u64,
    catalog: Option<Arc<Catalog>>,
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
            declared_id: 0,
            catalog: None,
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
        static DECLARED: AtomicU64 = AtomicU64::new(1);
        Ok(Self {
            declared_id: if all.is_empty() {
                0
            } else {
                DECLARED.fetch_add(1, Ordering::Relaxed)
            },
            read_only: (!all.is_empty()).then(|| Arc::from(all)),
            ..self
        })
    }

    /// Consult the server's catalog: a call of a function the built-in
    /// lists do not know is a read if the catalog says every function of
    /// that name is immutable or stable; a user function or operator that
    /// may write is a write even where it shares a built-in's name; and in
    /// PostgreSQL a name after a `.` that is a writing user function is a
    /// write (`t.archive` may call `archive(t)`). A catalog of another
    /// dialect is not consulted.
    ///
    /// The catalog is shared, not copied: refreshing it means building a
    /// new `Classifier` (cheap) around the new catalog and swapping it in,
    /// or passing the current one to [`Classifier::classify_with`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use multidb_core::{Access, Catalog, Classifier, Dialect, Origin, Volatility};
    ///
    /// let mut catalog = Catalog::builder(Dialect::Postgres);
    /// catalog.function("st_intersects", Origin::Extension, Volatility::Immutable);
    /// let classifier = Classifier::new(Dialect::Postgres).with_catalog(Arc::new(catalog.build()));
    /// assert_eq!(classifier.classify("SELECT * FROM parks WHERE st_intersects(geom, $1)"), Access::Read);
    /// // Without the catalog, an unknown function is a write.
    /// assert_eq!(Classifier::new(Dialect::Postgres).classify("SELECT st_intersects(a, b)"), Access::Write);
    /// ```
    #[must_use]
    pub fn with_catalog(self, catalog: Arc<Catalog>) -> Self {
        Self {
            catalog: Some(catalog),
            ..self
        }
    }

    /// The catalog this classifier consults, if any.
    ///
    /// ```
    /// use multidb_core::{Classifier, Dialect};
    ///
    /// assert!(Classifier::new(Dialect::MySql).catalog().is_none());
    /// ```
    #[must_use]
    pub fn catalog(&self) -> Option<&Arc<Catalog>> {
        self.catalog.as_ref()
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
        self.classify_with(sql, self.catalog.as_deref())
    }

    /// Classify one SQL string with `catalog` in place of the classifier's
    /// own: for a caller that holds the current catalog itself (and swaps
    /// it on refresh) and keeps one `Classifier` for the declared
    /// functions. Never panics, never allocates.
    ///
    /// ```
    /// use multidb_core::{Access, Catalog, Classifier, Dialect, Origin, Volatility};
    ///
    /// let mut b = Catalog::builder(Dialect::MySql);
    /// b.function("cake_price", Origin::User, Volatility::Stable);
    /// let catalog = b.build();
    /// let classifier = Classifier::new(Dialect::MySql);
    /// assert_eq!(classifier.classify_with("SELECT cake_price(1)", Some(&catalog)), Access::Read);
    /// assert_eq!(classifier.classify_with("SELECT cake_price(1)", None), Access::Write);
    /// ```
    #[must_use]
    pub fn classify_with(&self, sql: &str, catalog: Option<&Catalog>) -> Access {
        let extra = Extra {
            declared: self.read_only.as_deref().unwrap_or_default(),
            catalog: catalog.filter(|c| c.dialect() == self.dialect),
        };
        let key = cache::Key {
            dialect: self.dialect.code(),
            declared: self.declared_id,
            catalog: extra.catalog.map_or(0, Catalog::id),
        };
        cache::verdict(key, sql.as_bytes(), || {
            verdict_of(profile::of(self.dialect), sql.as_bytes(), extra)
        })
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
    if words::known_to_write(b, kw)
        || !matches!(
            kw,
            words::Kw::Other | words::Kw::ShowScoped | words::Kw::Temp
        )
    {
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
    if fast::proven_read(sql, first, extra) {
        return Access::Read;
    }
    full_verdict(first, others, sql, extra)
}

/// [`classify_for`] (or, without a dialect, [`classify`]) without the
/// fast path: the reference it must agree with, for the fuzz target.
#[cfg(fuzzing)]
pub fn classify_full(dialect: Option<Dialect>, sql: &str) -> Access {
    let Some(dialect) = dialect else {
        return blind_full(sql.as_bytes());
    };
    match profile::of(dialect).split_first() {
        Some((&first, others)) => full_verdict(first, others, sql.as_bytes(), Extra::default()),
        None => Access::Write,
    }
}

/// [`verdict_of`] without the fast path.
fn full_verdict(first: Profile, others: &[Profile], sql: &[u8], extra: Extra<'_>) -> Access {
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
