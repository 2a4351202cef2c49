//! The server's own functions and operators, as its catalog describes them:
//! what the classifier consults for names its built-in lists do not settle.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Dialect;

/// What a function (or an operator's function) may do, as the server's
/// catalog declares it.
///
/// PostgreSQL's `provolatile` maps one to one. MariaDB/MySQL
/// `SQL_DATA_ACCESS` `NO SQL` and `READS SQL DATA` are [`Stable`](Self::Stable),
/// `CONTAINS SQL` and `MODIFIES SQL DATA` [`Volatile`](Self::Volatile). An
/// SQLite function flagged `SQLITE_DETERMINISTIC` is
/// [`Immutable`](Self::Immutable), `SQLITE_INNOCUOUS` [`Stable`](Self::Stable),
/// any other [`Volatile`](Self::Volatile).
///
/// ```
/// use multidb_core::Volatility;
///
/// assert_eq!(Volatility::from_pg_provolatile("s"), Some(Volatility::Stable));
/// assert_eq!(Volatility::from_sql_data_access("MODIFIES SQL DATA"), Some(Volatility::Volatile));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Volatility {
    /// Depends on its arguments only.
    Immutable,
    /// Reads the database (or the session) but does not change it.
    Stable,
    /// May write, lock or have any other effect.
    Volatile,
}

impl Volatility {
    /// PostgreSQL `pg_proc.provolatile` (`i`, `s`, `v`).
    ///
    /// ```
    /// use multidb_core::Volatility;
    ///
    /// assert_eq!(Volatility::from_pg_provolatile("i"), Some(Volatility::Immutable));
    /// assert_eq!(Volatility::from_pg_provolatile("x"), None);
    /// ```
    #[must_use]
    pub fn from_pg_provolatile(code: &str) -> Option<Self> {
        match code {
            "i" => Some(Self::Immutable),
            "s" => Some(Self::Stable),
            "v" => Some(Self::Volatile),
            _ => None,
        }
    }

    /// MariaDB/MySQL `information_schema.ROUTINES.SQL_DATA_ACCESS`.
    ///
    /// ```
    /// use multidb_core::Volatility;
    ///
    /// assert_eq!(Volatility::from_sql_data_access("READS SQL DATA"), Some(Volatility::Stable));
    /// assert_eq!(Volatility::from_sql_data_access("CONTAINS SQL"), Some(Volatility::Volatile));
    /// ```
    #[must_use]
    pub fn from_sql_data_access(access: &str) -> Option<Self> {
        match access.trim().to_ascii_uppercase().as_str() {
            "NO SQL" | "READS SQL DATA" => Some(Self::Stable),
            "CONTAINS SQL" | "MODIFIES SQL DATA" => Some(Self::Volatile),
            _ => None,
        }
    }

    /// SQLite `pragma_function_list.flags`.
    ///
    /// ```
    /// use multidb_core::Volatility;
    ///
    /// assert_eq!(Volatility::from_sqlite_flags(0x800), Volatility::Immutable);
    /// assert_eq!(Volatility::from_sqlite_flags(0), Volatility::Volatile);
    /// ```
    #[must_use]
    pub const fn from_sqlite_flags(flags: i64) -> Self {
        const DETERMINISTIC: i64 = 0x800;
        const INNOCUOUS: i64 = 0x20_0000;
        if flags & DETERMINISTIC != 0 {
            Self::Immutable
        } else if flags & INNOCUOUS != 0 {
            Self::Stable
        } else {
            Self::Volatile
        }
    }
}

/// Who defined a function or operator in a [`Catalog`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The server's own (PostgreSQL `pg_catalog` outside any extension,
    /// MariaDB native functions, SQLite `builtin = 1`). The classifier's
    /// allow list is the authority on these; the catalog adds only the
    /// immutable ones it does not list.
    BuiltIn,
    /// A member of an installed extension (PostGIS, pg_trgm, …): judged by
    /// its volatility, unless the allow list knows it.
    Extension,
    /// Defined by a user or an application: judged by its volatility, and
    /// it shadows a built-in of the same name.
    User,
}

// Bits of an entry: one "has" and one "may write" bit per origin, and
// whether every built-in overload is immutable.
const CORE: u8 = 1;
const CORE_NOT_IMMUTABLE: u8 = 2;
const EXT: u8 = 4;
const EXT_WRITES: u8 = 8;
const USER: u8 = 16;
const USER_WRITES: u8 = 32;

/// What the catalog says about calling a name, given whether the allow
/// list knows it as a read.
#[inline]
pub(super) fn judge(bits: u8, allowed: bool) -> bool {
    if bits & USER_WRITES != 0 || (bits & EXT_WRITES != 0 && !allowed) {
        return false;
    }
    if allowed {
        return true;
    }
    // Not on the allow list: user and extension entries read (checked
    // above), and built-ins count only when all of them are immutable
    // (stable built-ins include `txid_current` and session readers).
    bits & (EXT | USER) != 0 && bits & CORE_NOT_IMMUTABLE == 0
        || bits & (CORE | CORE_NOT_IMMUTABLE) == CORE
}

/// The functions and operators a server knows, with what each may do: the
/// classifier consults it for every name its built-in lists do not settle,
/// and a user function or operator that shares a name with a built-in is
/// judged by the user's definition.
///
/// Build it with [`Catalog::builder`] from the server's catalog (the
/// `multidb-seaorm` crate loads it from the primary), and hand it to
/// [`Classifier::with_catalog`](crate::Classifier::with_catalog). Names
/// are matched ASCII case-insensitively; all overloads of a name (in every
/// schema) count, so a name is a read only if every overload is.
///
/// ```
/// use std::sync::Arc;
/// use multidb_core::{Access, Catalog, Classifier, Dialect, Origin, Volatility};
///
/// let mut builder = Catalog::builder(Dialect::Postgres);
/// builder
///     .function("st_distance", Origin::Extension, Volatility::Immutable)
///     .function("archive_orders", Origin::User, Volatility::Volatile)
///     .function("lower", Origin::User, Volatility::Volatile) // shadows lower(text)
///     .operator("<->", Origin::Extension, Volatility::Immutable);
/// let classifier = Classifier::new(Dialect::Postgres).with_catalog(Arc::new(builder.build()));
///
/// assert_eq!(classifier.classify("SELECT st_distance(a.geom, $1) FROM a"), Access::Read);
/// assert_eq!(classifier.classify("SELECT archive_orders()"), Access::Write);
/// assert_eq!(classifier.classify("SELECT lower(name) FROM t"), Access::Write);
/// ```
#[derive(Clone)]
pub struct Catalog {
    dialect: Dialect,
    functions: Table,
    operators: Table,
    /// Per first byte (lower case), a bit per name length (bit 31: 31 or
    /// more) of the user and extension functions that may write: most
    /// column names after a `.` are passed over on one lookup.
    writers: Box<[u32; 256]>,
    /// Whether any user or extension operator may write.
    operator_writers: bool,
    /// Never reused: verdicts the verdict cache keeps under it are this
    /// catalog's.
    id: u64,
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog")
            .field("dialect", &self.dialect)
            .field("functions", &self.functions.len())
            .field("operators", &self.operators.len())
            .finish()
    }
}

impl Catalog {
    /// An empty catalog of `dialect`, to fill.
    ///
    /// ```
    /// use multidb_core::{Catalog, Dialect};
    ///
    /// let catalog = Catalog::builder(Dialect::MySql).build();
    /// assert_eq!(catalog.function_count(), 0);
    /// ```
    #[must_use]
    pub fn builder(dialect: Dialect) -> CatalogBuilder {
        CatalogBuilder {
            dialect,
            functions: Vec::new(),
            operators: Vec::new(),
        }
    }

    /// The dialect whose server this catalog describes.
    ///
    /// ```
    /// use multidb_core::{Catalog, Dialect};
    ///
    /// assert_eq!(Catalog::builder(Dialect::Sqlite).build().dialect(), Dialect::Sqlite);
    /// ```
    #[must_use]
    pub const fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// This catalog's key in the verdict cache (a clone shares it).
    pub(super) const fn id(&self) -> u64 {
        self.id
    }

    /// How many distinct function names it holds.
    ///
    /// ```
    /// use multidb_core::{Catalog, Dialect, Origin, Volatility};
    ///
    /// let mut b = Catalog::builder(Dialect::Postgres);
    /// b.function("f", Origin::User, Volatility::Stable).function("F", Origin::User, Volatility::Volatile);
    /// assert_eq!(b.build().function_count(), 1);
    /// ```
    #[must_use]
    pub fn function_count(&self) -> usize {
        self.functions.len()
    }

    /// How many distinct operator names it holds.
    ///
    /// ```
    /// use multidb_core::{Catalog, Dialect, Origin, Volatility};
    ///
    /// let mut b = Catalog::builder(Dialect::Postgres);
    /// b.operator("&&&", Origin::Extension, Volatility::Immutable);
    /// assert_eq!(b.build().operator_count(), 1);
    /// ```
    #[must_use]
    pub fn operator_count(&self) -> usize {
        self.operators.len()
    }

    /// Whether a call of `name` (a function, any case) is a read by the
    /// catalog's account, given whether the built-in allow list knows it as
    /// a read; `None` if the catalog does not know the name.
    #[inline]
    pub(super) fn function_bits(&self, name: &[u8]) -> Option<u8> {
        self.functions.get(name)
    }

    /// The same for an operator.
    #[inline]
    pub(super) fn operator_bits(&self, name: &[u8]) -> Option<u8> {
        self.operators.get(name)
    }

    /// Whether a user or extension function called `name` may write: the
    /// name after a `.` may call it in PostgreSQL's attribute notation
    /// (`t.archive` is `archive(t)`), which built-ins cannot take.
    #[inline]
    pub(super) fn writer_named(&self, name: &[u8]) -> bool {
        let Some(&first) = name.first() else {
            return false;
        };
        self.writers[usize::from(first.to_ascii_lowercase())] & length_bit(name.len()) != 0
            && self
                .functions
                .get(name)
                .is_some_and(|bits| bits & (USER_WRITES | EXT_WRITES) != 0)
    }

    /// Whether calling the operator `name` may write: a user or extension
    /// operator whose function is volatile.
    #[inline]
    pub(super) fn operator_writes(&self, name: &[u8]) -> bool {
        self.operator_writers
            && self
                .operators
                .get(name)
                .is_some_and(|bits| bits & (USER_WRITES | EXT_WRITES) != 0)
    }
}

/// Collects a [`Catalog`]'s entries; see [`Catalog::builder`].
#[derive(Clone, Debug)]
pub struct CatalogBuilder {
    dialect: Dialect,
    functions: Vec<(Box<[u8]>, u8)>,
    operators: Vec<(Box<[u8]>, u8)>,
}

impl CatalogBuilder {
    /// Add one function (one overload, in one schema).
    ///
    /// ```
    /// use multidb_core::{Catalog, Dialect, Origin, Volatility};
    ///
    /// let mut b = Catalog::builder(Dialect::Postgres);
    /// b.function("similarity", Origin::Extension, Volatility::Immutable);
    /// assert_eq!(b.build().function_count(), 1);
    /// ```
    pub fn function(&mut self, name: &str, origin: Origin, volatility: Volatility) -> &mut Self {
        self.functions.push(entry(name, origin, volatility));
        self
    }

    /// Add one operator (PostgreSQL `pg_operator.oprname`), with the
    /// volatility of the function that implements it.
    ///
    /// ```
    /// use multidb_core::{Catalog, Dialect, Origin, Volatility};
    ///
    /// let mut b = Catalog::builder(Dialect::Postgres);
    /// b.operator("&&", Origin::Extension, Volatility::Immutable);
    /// assert_eq!(b.build().operator_count(), 1);
    /// ```
    pub fn operator(&mut self, name: &str, origin: Origin, volatility: Volatility) -> &mut Self {
        self.operators.push(entry(name, origin, volatility));
        self
    }

    /// The catalog.
    ///
    /// ```
    /// use multidb_core::{Catalog, Dialect};
    ///
    /// let catalog = Catalog::builder(Dialect::Postgres).build();
    /// assert_eq!(catalog.operator_count(), 0);
    /// ```
    #[must_use]
    pub fn build(self) -> Catalog {
        let mut writers = Box::new([0u32; 256]);
        for (name, bits) in &self.functions {
            if let Some(&first) = name.first()
                && bits & (USER_WRITES | EXT_WRITES) != 0
            {
                writers[usize::from(first)] |= length_bit(name.len());
            }
        }
        let operator_writers = self
            .operators
            .iter()
            .any(|(_, bits)| bits & (USER_WRITES | EXT_WRITES) != 0);
        static BUILT: AtomicU64 = AtomicU64::new(1);
        Catalog {
            id: BUILT.fetch_add(1, Ordering::Relaxed),
            dialect: self.dialect,
            functions: Table::new(self.functions),
            operators: Table::new(self.operators),
            writers,
            operator_writers,
        }
    }
}

fn entry(name: &str, origin: Origin, volatility: Volatility) -> (Box<[u8]>, u8) {
    let bits = match (origin, volatility) {
        (Origin::BuiltIn, Volatility::Immutable) => CORE,
        (Origin::BuiltIn, _) => CORE | CORE_NOT_IMMUTABLE,
        (Origin::Extension, Volatility::Volatile) => EXT | EXT_WRITES,
        (Origin::Extension, _) => EXT,
        (Origin::User, Volatility::Volatile) => USER | USER_WRITES,
        (Origin::User, _) => USER,
    };
    (
        name.to_ascii_lowercase().into_bytes().into_boxed_slice(),
        bits,
    )
}

/// An open-addressing hash table of lower-case names to entry bits, built
/// once: a lookup hashes the name (lower-casing on the fly) and compares
/// one or two keys, with no allocation.
#[derive(Clone, Default)]
struct Table {
    /// Index + 1 into `entries`, or 0 for an empty slot; a power of two long.
    slots: Box<[u32]>,
    entries: Box<[(Box<[u8]>, u8)]>,
}

impl Table {
    fn new(mut all: Vec<(Box<[u8]>, u8)>) -> Self {
        all.sort_unstable();
        let mut entries: Vec<(Box<[u8]>, u8)> = Vec::with_capacity(all.len());
        for (name, bits) in all {
            match entries.last_mut() {
                Some(last) if last.0 == name => last.1 |= bits,
                _ => entries.push((name, bits)),
            }
        }
        if entries.is_empty() {
            return Self::default();
        }
        let size = (entries.len() * 2).next_power_of_two();
        let mut slots = vec![0u32; size].into_boxed_slice();
        for (i, (name, _)) in entries.iter().enumerate() {
            let mut s = hash(name) & (size - 1);
            while slots[s] != 0 {
                s = (s + 1) & (size - 1);
            }
            slots[s] = u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
        Self {
            slots,
            entries: entries.into_boxed_slice(),
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    #[inline]
    fn get(&self, name: &[u8]) -> Option<u8> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut s = hash(name) & mask;
        loop {
            let index = *self.slots.get(s)? as usize;
            let (key, bits) = self.entries.get(index.checked_sub(1)?)?;
            if key.eq_ignore_ascii_case(name) {
                return Some(*bits);
            }
            s = (s + 1) & mask;
        }
    }
}

const fn length_bit(len: usize) -> u32 {
    if len >= 31 { 1 << 31 } else { 1 << len }
}

/// FNV-1a over the ASCII-lower-cased bytes.
#[inline]
fn hash(name: &[u8]) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in name {
        h ^= u64::from(c.to_ascii_lowercase());
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h ^ (h >> 29)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judgements() {
        let bits = |list: &[(Origin, Volatility)]| {
            let mut b = Catalog::builder(Dialect::Postgres);
            for &(o, v) in list {
                b.function("f", o, v);
            }
            b.build().function_bits(b"F").unwrap_or(0)
        };
        use Origin::*;
        use Volatility::*;
        // A user's volatile overload always writes, even of an allowed name.
        assert!(!judge(bits(&[(BuiltIn, Stable), (User, Volatile)]), true));
        assert!(judge(bits(&[(BuiltIn, Stable), (User, Stable)]), true));
        // An allowed extension function stays a read (gen_random_bytes is volatile).
        assert!(judge(bits(&[(Extension, Volatile)]), true));
        assert!(!judge(bits(&[(Extension, Volatile)]), false));
        assert!(judge(
            bits(&[(Extension, Immutable), (User, Stable)]),
            false
        ));
        // Built-ins off the allow list: only when every overload is immutable.
        assert!(judge(bits(&[(BuiltIn, Immutable)]), false));
        assert!(!judge(bits(&[(BuiltIn, Stable)]), false));
        assert!(!judge(
            bits(&[(BuiltIn, Immutable), (BuiltIn, Stable)]),
            false
        ));
        assert!(!judge(
            bits(&[(BuiltIn, Stable), (Extension, Immutable)]),
            false
        ));
    }

    #[test]
    fn lookups_ignore_ascii_case_and_miss_cleanly() {
        let mut b = Catalog::builder(Dialect::Postgres);
        for i in 0..1000 {
            b.function(&format!("Fn_{i}"), Origin::User, Volatility::Stable);
        }
        let c = b.build();
        assert_eq!(c.function_count(), 1000);
        for i in 0..1000 {
            assert_eq!(c.function_bits(format!("FN_{i}").as_bytes()), Some(USER));
        }
        assert_eq!(c.function_bits(b"fn_1000"), None);
        assert_eq!(c.operator_bits(b"+"), None);
    }
}
