//! The word and function lists: the part of the classifier that changes most.
//!
//! * [`keyword`] names the bare words the scan cares about (write keywords,
//!   the words a context rule looks back at, and names that write wherever
//!   they appear).
//! * [`known_to_write`] is the deny list checked after a `.`
//!   (`(x).nextval`, `` `s`.`nextval` ``, `t.lo_unlink`).
//! * [`is_read_function`] is the allow list of calls: a call `name(…)` is a
//!   read only if `name` is a built-in known to be read-only in the dialect
//!   (or the application declared it so). Every list is sorted and lower
//!   case; a unit test checks both.

use super::profile::FnSet;

/// What a bare word is to the scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kw {
    /// Nothing the scan looks at.
    Other,
    /// A write keyword or a name that writes, locks or reads session state,
    /// wherever it appears.
    Write,
    /// A function that writes, locks, runs SQL given as text or reads
    /// session state, but whose name is also an ordinary column name
    /// (`changes`, `optimize`): a write after a `.`; as a call, the allow
    /// list decides anyway.
    Deny,
    /// `CREATE`: a write except in `SHOW CREATE …`.
    Create,
    /// `SHARE`: a lock after `FOR`, `KEY` or `IN`.
    Share,
    /// `VALUE`: a sequence after `NEXT` or `PREVIOUS` (MariaDB).
    Value,
    /// `REPLACE`: the string function when `(` follows, else a write.
    Replace,
    /// MySQL session-state variables read through `@@`: `identity`,
    /// `insert_id`, `last_insert_id`, `warning_count`, `error_count`.
    SessionVar,
    /// `SHOW WARNINGS`, `SHOW ERRORS`, `SHOW PROFILE(S)`: session state.
    ShowSession,
    /// `SESSION`, `LOCAL`, `GLOBAL`: the scope in `@@session.x`.
    Scope,
    For,
    Key,
    In,
    Next,
    Previous,
    Show,
    Explain,
    Describe,
    Select,
    With,
    Recursive,
    Values,
    Table,
    As,
    /// `SEARCH` and `CYCLE` after a CTE body: they end the CTE list.
    Search,
    PgCatalog,
}

/// Pack up to 16 bytes into an integer, each byte ORed with 0x20 (which
/// lower-cases ASCII letters, leaves digits and `$` alone and maps `_` to
/// 0x7F, never an identifier byte), so that a keyword is matched by one
/// integer comparison whatever its case.
const fn pack(w: &[u8]) -> u128 {
    let mut key = 0u128;
    let mut i = 0;
    while i < w.len() && i < 16 {
        key |= ((w[i] | 0x20) as u128) << (8 * i);
        i += 1;
    }
    key
}

/// [`pack`] of the first 16 bytes of `w`. `tail` is the input from the
/// start of `w` on, when known: one 16-byte load then replaces the loop.
#[inline]
pub(super) fn key_of(w: &[u8], tail: &[u8]) -> u128 {
    let n = w.len().min(16);
    if let Some(chunk) = tail.get(..16).and_then(|c| <[u8; 16]>::try_from(c).ok()) {
        return (u128::from_le_bytes(chunk) | u128::from_le_bytes([0x20; 16])) & low_bytes(n);
    }
    let mut lo = 0u64;
    let mut hi = 0u64;
    for (i, &c) in w.iter().take(8).enumerate() {
        lo |= u64::from(c | 0x20) << (8 * i);
    }
    for (i, &c) in w.iter().skip(8).take(8).enumerate() {
        hi |= u64::from(c | 0x20) << (8 * i);
    }
    u128::from(lo) | (u128::from(hi) << 64)
}

/// A mask of the low `n` bytes (`n` ≤ 16).
#[inline]
const fn low_bytes(n: usize) -> u128 {
    if n >= 16 {
        u128::MAX
    } else {
        (1u128 << (8 * n)) - 1
    }
}

/// Whether the word whose key is `key` and length `n` starts with `prefix`
/// (≤ 16 bytes, lower case).
#[inline]
fn has_prefix(key: u128, n: usize, prefix: &[u8]) -> bool {
    n >= prefix.len() && key & low_bytes(prefix.len()) == pack(prefix)
}

/// `w` lower-cased into `buf`, or `None` if it does not fit.
pub(super) fn lower<'b>(w: &[u8], buf: &'b mut [u8; 64]) -> Option<&'b [u8]> {
    let out = buf.get_mut(..w.len())?;
    for (o, &c) in out.iter_mut().zip(w) {
        *o = c.to_ascii_lowercase();
    }
    Some(out)
}

macro_rules! keyword_table {
    ($($name:ident = $lit:literal => $kw:ident,)*) => {
        /// Every keyword with its class, packed.
        const TABLE: &[(u128, Kw)] = &[$((pack($lit), Kw::$kw),)*];
        #[cfg(test)]
        pub(super) const KEYWORDS: &[&[u8]] = &[$($lit,)*];
    };
}

/// Slots of the perfect hash of [`TABLE`]: index + 1, or 0 for none.
const SLOT_BITS: u32 = 10;

/// The slot of a packed word; `HASH_SEED` makes it collision-free over
/// [`TABLE`] (checked when the table is built, at compile time).
#[inline]
const fn slot(key: u128) -> usize {
    const HASH_SEED: u64 = 0x442e_3d43_7204_e52d;
    let lo = key as u64;
    let hi = (key >> 64) as u64;
    let h = (lo ^ hi.rotate_left(31)).wrapping_mul(HASH_SEED);
    (h >> (64 - SLOT_BITS)) as usize
}

static SLOTS: [u8; 1 << SLOT_BITS] = {
    let mut slots = [0u8; 1 << SLOT_BITS];
    let mut i = 0;
    while i < TABLE.len() {
        let s = slot(TABLE[i].0);
        assert!(slots[s] == 0, "keyword hash collision: change HASH_SEED");
        assert!(i < 255);
        slots[s] = (i + 1) as u8;
        i += 1;
    }
    slots
};

/// The keyword class of a word of 2 to 16 bytes, packed.
#[inline]
fn by_key(key: u128) -> Kw {
    let index = usize::from(SLOTS[slot(key)]);
    match TABLE.get(index.wrapping_sub(1)) {
        Some(&(k, kw)) if k == key => kw,
        _ => Kw::Other,
    }
}

keyword_table! {
    ALTER = b"alter" => Write,
    ANALYZE = b"analyze" => Write,
    ANALYSE = b"analyse" => Write,
    DELETE = b"delete" => Write,
    DROP = b"drop" => Write,
    DECLARE = b"declare" => Write,
    EXECUTE = b"execute" => Write,
    GRANT = b"grant" => Write,
    INSERT = b"insert" => Write,
    INTO = b"into" => Write,
    MERGE = b"merge" => Write,
    PROCEDURE = b"procedure" => Write,
    RETURNING = b"returning" => Write,
    REVOKE = b"revoke" => Write,
    TRUNCATE = b"truncate" => Write,
    UPDATE = b"update" => Write,
    UPSERT = b"upsert" => Write,
    NEXTVAL = b"nextval" => Write,
    SETVAL = b"setval" => Write,
    CURRVAL = b"currval" => Write,
    LASTVAL = b"lastval" => Write,
    GET_LOCK = b"get_lock" => Write,
    RELEASE_LOCK = b"release_lock" => Write,
    IS_FREE_LOCK = b"is_free_lock" => Write,
    IS_USED_LOCK = b"is_used_lock" => Write,
    LOAD_EXTENSION = b"load_extension" => Write,
    PG_NOTIFY = b"pg_notify" => Write,
    SET_CONFIG = b"set_config" => Write,
    CHANGES = b"changes" => Deny,
    CONNECTBY = b"connectby" => Deny,
    EVAL = b"eval" => Deny,
    FOUND_ROWS = b"found_rows" => Deny,
    HEAP_FORCE_KILL = b"heap_force_kill" => Deny,
    ISN_WEAK = b"isn_weak" => Deny,
    OPTIMIZE = b"optimize" => Deny,
    ROW_COUNT = b"row_count" => Deny,
    SET_LIMIT = b"set_limit" => Deny,
    SETSEED = b"setseed" => Deny,
    SYS_EVAL = b"sys_eval" => Deny,
    SYS_EXEC = b"sys_exec" => Deny,
    TOTAL_CHANGES = b"total_changes" => Deny,
    TS_REWRITE = b"ts_rewrite" => Deny,
    TS_STAT = b"ts_stat" => Deny,
    WRITEFILE = b"writefile" => Deny,
    XPATH_TABLE = b"xpath_table" => Deny,
    CREATE = b"create" => Create,
    SHARE = b"share" => Share,
    VALUE = b"value" => Value,
    REPLACE = b"replace" => Replace,
    IDENTITY = b"identity" => SessionVar,
    INSERT_ID = b"insert_id" => SessionVar,
    LAST_INSERT_ID = b"last_insert_id" => Write,
    WARNING_COUNT = b"warning_count" => SessionVar,
    ERROR_COUNT = b"error_count" => SessionVar,
    WARNINGS = b"warnings" => ShowSession,
    ERRORS = b"errors" => ShowSession,
    PROFILE = b"profile" => ShowSession,
    PROFILES = b"profiles" => ShowSession,
    SESSION = b"session" => Scope,
    LOCAL = b"local" => Scope,
    GLOBAL = b"global" => Scope,
    FOR = b"for" => For,
    KEY = b"key" => Key,
    IN = b"in" => In,
    NEXT = b"next" => Next,
    PREVIOUS = b"previous" => Previous,
    SHOW = b"show" => Show,
    EXPLAIN = b"explain" => Explain,
    DESCRIBE = b"describe" => Describe,
    DESC = b"desc" => Describe,
    SELECT = b"select" => Select,
    WITH = b"with" => With,
    RECURSIVE = b"recursive" => Recursive,
    VALUES = b"values" => Values,
    TABLE = b"table" => Table,
    AS = b"as" => As,
    SEARCH = b"search" => Search,
    CYCLE = b"cycle" => Search,
    PG_CATALOG = b"pg_catalog" => PgCatalog,
}

/// Long names (over 16 bytes) that write wherever they appear.
const LONG_WRITES: &[&[u8]] = &[
    b"last_insert_rowid",
    b"release_all_locks",
    b"sql_calc_found_rows",
];

/// The class of a bare word.
pub(super) fn keyword(w: &[u8]) -> Kw {
    keyword_in(w, &[])
}

/// [`keyword`], with `tail` the input from the start of `w` on (or empty).
#[inline]
pub(super) fn keyword_in(w: &[u8], tail: &[u8]) -> Kw {
    let n = w.len();
    if n < 2 {
        return Kw::Other;
    }
    let key = key_of(w, tail);
    let kw = if n <= 16 { by_key(key) } else { Kw::Other };
    if kw != Kw::Other {
        return kw;
    }
    // Names that write wherever they appear, by prefix.
    let write = match (key & 0xff) as u8 {
        b'd' => has_prefix(key, n, b"dblink"),
        b'p' => {
            has_prefix(key, n, b"pg_advisory")
                || has_prefix(key, n, b"pg_try_advisory")
                || has_prefix(key, n, b"pg_current_xact")
                // SQLite's table-valued pragmas run without `(` too.
                || (has_prefix(key, n, b"pragma_") && !is_read_pragma(w))
        }
        b't' => has_prefix(key, n, b"txid_current"),
        b'l' | b'r' | b's' if n > 16 => is_any(w, LONG_WRITES),
        _ => false,
    };
    if write { Kw::Write } else { Kw::Other }
}

fn is_read_pragma(w: &[u8]) -> bool {
    let mut buf = [0u8; 64];
    lower(w, &mut buf).is_some_and(|name| contains(SQLITE, name))
}

/// Names that write, lock, run SQL given as text or read session state, for
/// the places where a name is a call without `(`: after a `.` (PostgreSQL
/// attribute notation `(x).nextval`, MariaDB `` `s`.`nextval` ``). `kw` is
/// the name's [`keyword`] class.
pub(super) fn known_to_write(name: &[u8], kw: Kw) -> bool {
    if matches!(kw, Kw::Write | Kw::SessionVar | Kw::Deny) {
        return true;
    }
    let n = name.len();
    if n < 3 {
        return false;
    }
    match name.first().map_or(0, |c| c | 0x20) {
        b'b' | b'g' | b'h' => n > 16 && is_any(name, LONG_DENIED),
        b'c' => starts_with(name, b"crosstab") || starts_with(name, b"cursor_to_xml"),
        b'l' => starts_with(name, b"lo_"),
        b'q' => starts_with(name, b"query_to_xml"),
        b'p' => starts_with(name, b"pg_") && !pg_read_by_prefix(name) && !is_pg_read_exact(name),
        _ => false,
    }
}

/// Per first byte (lower case), a bit per name length (bit 31: 31 or
/// more) that some name [`known_to_write`] may answer `true` for can have:
/// most column names after a `.` are passed over on this one lookup.
static MAY_WRITE: [u32; 256] = {
    const fn from(len: usize) -> u32 {
        if len >= 31 { 1 << 31 } else { !0u32 << len }
    }
    const fn exact(len: usize) -> u32 {
        if len >= 31 { 1 << 31 } else { 1 << len }
    }
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < TABLE.len() {
        let (key, kw) = TABLE[i];
        if matches!(kw, Kw::Write | Kw::Deny | Kw::SessionVar) {
            let first = (key & 0xff) as usize;
            let mut len = 0;
            while len < 16 && (key >> (8 * len)) & 0xff != 0 {
                len += 1;
            }
            t[first] |= exact(len);
        }
        i += 1;
    }
    let mut i = 0;
    while i < LONG_WRITES.len() {
        t[LONG_WRITES[i][0] as usize] |= exact(LONG_WRITES[i].len());
        i += 1;
    }
    let mut i = 0;
    while i < LONG_DENIED.len() {
        t[LONG_DENIED[i][0] as usize] |= exact(LONG_DENIED[i].len());
        i += 1;
    }
    // The prefix families of `keyword` and `known_to_write`.
    t[b'd' as usize] |= from(6); // dblink
    t[b'p' as usize] |= from(3); // pg_, pragma_
    t[b't' as usize] |= from(12); // txid_current
    t[b'c' as usize] |= from(8); // crosstab, cursor_to_xml
    t[b'l' as usize] |= from(3); // lo_
    t[b'q' as usize] |= from(12); // query_to_xml
    t
};

/// Whether [`known_to_write`] may be `true` for `name`: `false` settles it.
#[inline]
pub(super) fn may_write(name: &[u8]) -> bool {
    let Some(&first) = name.first() else {
        return false;
    };
    let bit = if name.len() >= 31 {
        1 << 31
    } else {
        1u32 << name.len()
    };
    MAY_WRITE[usize::from(first | 0x20)] & bit != 0
}

/// Denied names over 16 bytes.
const LONG_DENIED: &[&[u8]] = &[
    b"brin_desummarize_range",
    b"brin_summarize_new_values",
    b"brin_summarize_range",
    b"gin_clean_pending_list",
    b"heap_force_freeze",
];

/// Whether a call of `name` (lower case) is a read in the function set.
pub(super) fn is_read_function(name: &[u8], set: FnSet) -> bool {
    if contains(COMMON, name) {
        return true;
    }
    let pg = || contains(POSTGRES, name) || pg_read_by_prefix(name);
    match set {
        FnSet::Postgres => pg(),
        FnSet::MySql => contains(MYSQL, name),
        FnSet::Sqlite => contains(SQLITE, name),
        FnSet::All => pg() && contains(MYSQL, name) && contains(SQLITE, name),
    }
}

fn is_pg_read_exact(name: &[u8]) -> bool {
    let mut buf = [0u8; 64];
    lower(name, &mut buf).is_some_and(|n| contains(POSTGRES, n))
}

/// The `pg_*` families known to be read-only and to work on a standby.
fn pg_read_by_prefix(name: &[u8]) -> bool {
    const PREFIXES: &[&[u8]] = &[
        b"pg_column_",
        b"pg_control_",
        b"pg_get_",
        b"pg_identify_object",
        b"pg_index",
        b"pg_input_",
        b"pg_is_",
        b"pg_last_",
        b"pg_partition_",
        b"pg_relation_",
        b"pg_size_",
        b"pg_sleep",
        b"pg_snapshot_",
        b"pg_stat_get_",
        b"pg_xact_",
    ];
    const SUFFIXES: &[&[u8]] = &[b"_size", b"_is_visible"];
    starts_with(name, b"pg_")
        && (starts_with_any(name, PREFIXES) || SUFFIXES.iter().any(|s| ends_with(name, s)))
}

/// Binary search of a sorted lower-case list.
pub(super) fn contains(list: &[&[u8]], name: &[u8]) -> bool {
    list.binary_search(&name).is_ok()
}

fn is_any(w: &[u8], any_of: &[&[u8]]) -> bool {
    any_of.iter().any(|k| w.eq_ignore_ascii_case(k))
}

pub(super) fn starts_with(w: &[u8], prefix: &[u8]) -> bool {
    w.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

fn starts_with_any(w: &[u8], prefixes: &[&[u8]]) -> bool {
    prefixes.iter().any(|p| starts_with(w, p))
}

fn ends_with(w: &[u8], suffix: &[u8]) -> bool {
    w.len()
        .checked_sub(suffix.len())
        .and_then(|from| w.get(from..))
        .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

/// Read-only in all three dialects, and the keywords that take `(` without
/// being a call (`IN (`, `OVER (`, `AS (`, `CAST(x AS varchar(10))`).
pub(super) const COMMON: &[&[u8]] = &[
    b"abs",
    b"against",
    b"all",
    b"and",
    b"any",
    b"array",
    b"as",
    b"avg",
    b"between",
    b"bigint",
    b"binary",
    b"bit",
    b"by",
    b"case",
    b"cast",
    b"char",
    b"character",
    b"coalesce",
    b"columns",
    b"count",
    b"cross",
    b"cube",
    b"date",
    b"datetime",
    b"dec",
    b"decimal",
    b"distinct",
    b"else",
    b"except",
    b"exists",
    b"explain",
    b"filter",
    b"float",
    b"for",
    b"from",
    b"full",
    b"group",
    b"grouping",
    b"having",
    b"ilike",
    b"in",
    b"index",
    b"inner",
    b"int",
    b"integer",
    b"intersect",
    b"interval",
    b"is",
    b"join",
    b"json",
    b"key",
    b"lateral",
    b"left",
    b"length",
    b"like",
    b"limit",
    b"lower",
    b"ltrim",
    b"match",
    b"materialized",
    b"max",
    b"min",
    b"natural",
    b"nchar",
    b"nested",
    b"not",
    b"nullif",
    b"numeric",
    b"nvarchar",
    b"offset",
    b"on",
    b"only",
    b"or",
    b"outer",
    b"over",
    b"partition",
    b"path",
    b"range",
    b"real",
    b"replace",
    b"right",
    b"rollup",
    b"round",
    b"row",
    b"rows",
    b"rtrim",
    b"select",
    b"sets",
    b"similar",
    b"smallint",
    b"some",
    b"substr",
    b"sum",
    b"table",
    b"text",
    b"then",
    b"time",
    b"timestamp",
    b"to",
    b"trim",
    b"union",
    b"upper",
    b"using",
    b"values",
    b"varbinary",
    b"varchar",
    b"varying",
    b"when",
    b"where",
    b"window",
    b"with",
    b"within",
    b"zone",
];

/// PostgreSQL built-ins that read (plus contrib and pgvector functions that
/// SeaORM users call in SELECTs). `pg_*` families are in [`pg_read_by_prefix`].
pub(super) const POSTGRES: &[&[u8]] = &[
    b"acos",
    b"acosd",
    b"acosh",
    b"age",
    b"array_agg",
    b"array_append",
    b"array_cat",
    b"array_dims",
    b"array_fill",
    b"array_length",
    b"array_lower",
    b"array_ndims",
    b"array_position",
    b"array_positions",
    b"array_prepend",
    b"array_remove",
    b"array_replace",
    b"array_sample",
    b"array_shuffle",
    b"array_to_json",
    b"array_to_string",
    b"array_to_tsvector",
    b"array_upper",
    b"ascii",
    b"asin",
    b"asind",
    b"asinh",
    b"atan",
    b"atan2",
    b"atan2d",
    b"atand",
    b"atanh",
    b"bernoulli",
    b"bit_and",
    b"bit_count",
    b"bit_length",
    b"bit_or",
    b"bit_xor",
    b"bool",
    b"bool_and",
    b"bool_or",
    b"boolean",
    b"btrim",
    b"cardinality",
    b"casefold",
    b"cbrt",
    b"ceil",
    b"ceiling",
    b"char_length",
    b"character_length",
    b"chr",
    b"clock_timestamp",
    b"col_description",
    b"concat",
    b"concat_ws",
    b"convert",
    b"convert_from",
    b"convert_to",
    b"corr",
    b"cos",
    b"cosd",
    b"cosh",
    b"cosine_distance",
    b"cot",
    b"cotd",
    b"covar_pop",
    b"covar_samp",
    b"crypt",
    b"cume_dist",
    b"current_database",
    b"current_date",
    b"current_schema",
    b"current_schemas",
    b"current_setting",
    b"current_time",
    b"current_timestamp",
    b"current_user",
    b"date_add",
    b"date_bin",
    b"date_part",
    b"date_subtract",
    b"date_trunc",
    b"decode",
    b"degrees",
    b"dense_rank",
    b"difference",
    b"digest",
    b"div",
    b"double",
    b"encode",
    b"every",
    b"exp",
    b"extract",
    b"factorial",
    b"first_value",
    b"float4",
    b"float8",
    b"floor",
    b"format",
    b"format_type",
    b"gcd",
    b"gen_random_bytes",
    b"gen_random_uuid",
    b"gen_salt",
    b"generate_series",
    b"generate_subscripts",
    b"greatest",
    b"has_column_privilege",
    b"has_database_privilege",
    b"has_function_privilege",
    b"has_schema_privilege",
    b"has_sequence_privilege",
    b"has_table_privilege",
    b"hmac",
    b"inet_client_addr",
    b"inet_client_port",
    b"inet_server_addr",
    b"inet_server_port",
    b"initcap",
    b"inner_product",
    b"int2",
    b"int4",
    b"int8",
    b"is_normalized",
    b"isempty",
    b"isfinite",
    b"json_agg",
    b"json_array",
    b"json_array_elements",
    b"json_array_elements_text",
    b"json_array_length",
    b"json_arrayagg",
    b"json_build_array",
    b"json_build_object",
    b"json_each",
    b"json_each_text",
    b"json_exists",
    b"json_extract_path",
    b"json_extract_path_text",
    b"json_object",
    b"json_object_agg",
    b"json_object_keys",
    b"json_objectagg",
    b"json_populate_record",
    b"json_populate_recordset",
    b"json_query",
    b"json_scalar",
    b"json_serialize",
    b"json_strip_nulls",
    b"json_table",
    b"json_to_record",
    b"json_to_recordset",
    b"json_typeof",
    b"json_value",
    b"jsonb",
    b"jsonb_agg",
    b"jsonb_array_elements",
    b"jsonb_array_elements_text",
    b"jsonb_array_length",
    b"jsonb_build_array",
    b"jsonb_build_object",
    b"jsonb_each",
    b"jsonb_each_text",
    b"jsonb_extract_path",
    b"jsonb_extract_path_text",
    b"jsonb_insert",
    b"jsonb_object",
    b"jsonb_object_agg",
    b"jsonb_object_keys",
    b"jsonb_path_exists",
    b"jsonb_path_match",
    b"jsonb_path_query",
    b"jsonb_path_query_array",
    b"jsonb_path_query_first",
    b"jsonb_populate_record",
    b"jsonb_populate_recordset",
    b"jsonb_pretty",
    b"jsonb_set",
    b"jsonb_set_lax",
    b"jsonb_strip_nulls",
    b"jsonb_to_record",
    b"jsonb_to_recordset",
    b"jsonb_typeof",
    b"justify_days",
    b"justify_hours",
    b"justify_interval",
    b"l1_distance",
    b"l2_distance",
    b"l2_normalize",
    b"lag",
    b"last_value",
    b"lcm",
    b"lead",
    b"levenshtein",
    b"like_escape",
    b"ln",
    b"localtime",
    b"localtimestamp",
    b"log",
    b"log10",
    b"lower_inc",
    b"lower_inf",
    b"lpad",
    b"make_date",
    b"make_interval",
    b"make_time",
    b"make_timestamp",
    b"make_timestamptz",
    b"md5",
    b"metaphone",
    b"min_scale",
    b"mod",
    b"mode",
    b"normalize",
    b"now",
    b"nth_value",
    b"ntile",
    b"num_nonnulls",
    b"num_nulls",
    b"obj_description",
    b"octet_length",
    b"overlaps",
    b"overlay",
    b"percent_rank",
    b"percentile_cont",
    b"percentile_disc",
    b"pg_backend_pid",
    b"pg_blocking_pids",
    b"pg_char_to_encoding",
    b"pg_client_encoding",
    b"pg_collation_for",
    b"pg_conf_load_time",
    b"pg_describe_object",
    b"pg_encoding_max_length",
    b"pg_encoding_to_char",
    b"pg_filenode_relation",
    b"pg_has_role",
    b"pg_jit_available",
    b"pg_listening_channels",
    b"pg_lsn",
    b"pg_my_temp_schema",
    b"pg_notification_queue_usage",
    b"pg_options_to_table",
    b"pg_postmaster_start_time",
    b"pg_safe_snapshot_blocking_pids",
    b"pg_settings_get_flags",
    b"pg_split_walfile_name",
    b"pg_tablespace_databases",
    b"pg_tablespace_location",
    b"pg_trigger_depth",
    b"pg_typeof",
    b"pg_visible_in_snapshot",
    b"pg_wal_lsn_diff",
    b"pg_walfile_name",
    b"pg_walfile_name_offset",
    b"phraseto_tsquery",
    b"pi",
    b"plainto_tsquery",
    b"position",
    b"power",
    b"precision",
    b"querytree",
    b"quote_ident",
    b"quote_literal",
    b"quote_nullable",
    b"radians",
    b"random",
    b"random_normal",
    b"rank",
    b"regexp_count",
    b"regexp_instr",
    b"regexp_like",
    b"regexp_match",
    b"regexp_matches",
    b"regexp_replace",
    b"regexp_split_to_array",
    b"regexp_split_to_table",
    b"regexp_substr",
    b"regr_avgx",
    b"regr_avgy",
    b"regr_count",
    b"regr_intercept",
    b"regr_r2",
    b"regr_slope",
    b"regr_sxx",
    b"regr_sxy",
    b"regr_syy",
    b"repeat",
    b"repeatable",
    b"reverse",
    b"row_number",
    b"row_to_json",
    b"rpad",
    b"scale",
    b"session_user",
    b"setweight",
    b"sha224",
    b"sha256",
    b"sha384",
    b"sha512",
    b"show_trgm",
    b"sign",
    b"similar_escape",
    b"similar_to_escape",
    b"similarity",
    b"sin",
    b"sind",
    b"sinh",
    b"soundex",
    b"split_part",
    b"sqrt",
    b"starts_with",
    b"statement_timestamp",
    b"stddev",
    b"stddev_pop",
    b"stddev_samp",
    b"string_agg",
    b"string_to_array",
    b"string_to_table",
    b"strip",
    b"strpos",
    b"substring",
    b"system",
    b"system_user",
    b"tan",
    b"tand",
    b"tanh",
    b"timeofday",
    b"timestamptz",
    b"timetz",
    b"timezone",
    b"to_ascii",
    b"to_char",
    b"to_date",
    b"to_hex",
    b"to_json",
    b"to_jsonb",
    b"to_number",
    b"to_regclass",
    b"to_regnamespace",
    b"to_regproc",
    b"to_regprocedure",
    b"to_regrole",
    b"to_regtype",
    b"to_timestamp",
    b"to_tsquery",
    b"to_tsvector",
    b"transaction_timestamp",
    b"translate",
    b"trim_array",
    b"trim_scale",
    b"trunc",
    b"ts_delete",
    b"ts_filter",
    b"ts_headline",
    b"ts_rank",
    b"ts_rank_cd",
    b"tsvector_to_array",
    b"unistr",
    b"unnest",
    b"upper_inc",
    b"upper_inf",
    b"uuid",
    b"uuid_generate_v4",
    b"uuidv4",
    b"uuidv7",
    b"var_pop",
    b"var_samp",
    b"variance",
    b"vector_dims",
    b"vector_norm",
    b"websearch_to_tsquery",
    b"width_bucket",
    b"word_similarity",
    b"xmlagg",
    b"xmlattributes",
    b"xmlconcat",
    b"xmlelement",
    b"xmlexists",
    b"xmlforest",
    b"xmlparse",
    b"xmlpi",
    b"xmlroot",
    b"xmlserialize",
    b"xmltable",
    b"xpath",
    b"xpath_exists",
];

/// MySQL and MariaDB built-ins that read.
pub(super) const MYSQL: &[&[u8]] = &[
    b"acos",
    b"adddate",
    b"addtime",
    b"any_value",
    b"ascii",
    b"asin",
    b"atan",
    b"atan2",
    b"bin",
    b"bin_to_uuid",
    b"bit_and",
    b"bit_count",
    b"bit_length",
    b"bit_or",
    b"bit_xor",
    b"ceil",
    b"ceiling",
    b"char_length",
    b"character_length",
    b"charset",
    b"coercibility",
    b"collation",
    b"concat",
    b"concat_ws",
    b"conv",
    b"convert",
    b"convert_tz",
    b"cos",
    b"cot",
    b"crc32",
    b"cume_dist",
    b"curdate",
    b"current_date",
    b"current_time",
    b"current_timestamp",
    b"current_user",
    b"curtime",
    b"database",
    b"date_add",
    b"date_format",
    b"date_sub",
    b"datediff",
    b"day",
    b"dayname",
    b"dayofmonth",
    b"dayofweek",
    b"dayofyear",
    b"default",
    b"degrees",
    b"dense_rank",
    b"div",
    b"double",
    b"elt",
    b"exp",
    b"export_set",
    b"extract",
    b"field",
    b"find_in_set",
    b"first_value",
    b"floor",
    b"format",
    b"from_base64",
    b"from_days",
    b"from_unixtime",
    b"greatest",
    b"group_concat",
    b"hex",
    b"hour",
    b"if",
    b"ifnull",
    b"inet6_aton",
    b"inet6_ntoa",
    b"inet_aton",
    b"inet_ntoa",
    b"instr",
    b"is_ipv4",
    b"is_ipv6",
    b"is_uuid",
    b"isnull",
    b"json_array",
    b"json_array_append",
    b"json_array_insert",
    b"json_arrayagg",
    b"json_contains",
    b"json_contains_path",
    b"json_depth",
    b"json_extract",
    b"json_insert",
    b"json_keys",
    b"json_length",
    b"json_merge_patch",
    b"json_merge_preserve",
    b"json_object",
    b"json_objectagg",
    b"json_overlaps",
    b"json_pretty",
    b"json_quote",
    b"json_remove",
    b"json_replace",
    b"json_search",
    b"json_set",
    b"json_table",
    b"json_type",
    b"json_unquote",
    b"json_valid",
    b"json_value",
    b"lag",
    b"last_day",
    b"last_value",
    b"lcase",
    b"lead",
    b"ln",
    b"localtime",
    b"localtimestamp",
    b"locate",
    b"log",
    b"log10",
    b"log2",
    b"lpad",
    b"makedate",
    b"maketime",
    b"md5",
    b"microsecond",
    b"mid",
    b"minute",
    b"mod",
    b"month",
    b"monthname",
    b"now",
    b"nth_value",
    b"ntile",
    b"oct",
    b"octet_length",
    b"ord",
    b"percent_rank",
    b"period_add",
    b"period_diff",
    b"pi",
    b"position",
    b"pow",
    b"power",
    b"quarter",
    b"quote",
    b"radians",
    b"rand",
    b"rank",
    b"regexp_instr",
    b"regexp_like",
    b"regexp_replace",
    b"regexp_substr",
    b"repeat",
    b"reverse",
    b"row_number",
    b"rpad",
    b"sec_to_time",
    b"second",
    b"sha1",
    b"sha2",
    b"sign",
    b"signed",
    b"sin",
    b"soundex",
    b"space",
    b"sqrt",
    b"std",
    b"stddev",
    b"stddev_pop",
    b"stddev_samp",
    b"str_to_date",
    b"strcmp",
    b"subdate",
    b"substring",
    b"substring_index",
    b"subtime",
    b"sysdate",
    b"tan",
    b"time_format",
    b"time_to_sec",
    b"timediff",
    b"timestampadd",
    b"timestampdiff",
    b"to_base64",
    b"to_days",
    b"to_seconds",
    b"ucase",
    b"unhex",
    b"unix_timestamp",
    b"unsigned",
    b"utc_date",
    b"utc_time",
    b"utc_timestamp",
    b"uuid",
    b"uuid_to_bin",
    b"var_pop",
    b"var_samp",
    b"variance",
    b"week",
    b"weekday",
    b"weekofyear",
    b"weight_string",
    b"year",
    b"yearweek",
];

/// SQLite built-ins that read.
pub(super) const SQLITE: &[&[u8]] = &[
    b"acos",
    b"acosh",
    b"asin",
    b"asinh",
    b"atan",
    b"atan2",
    b"atanh",
    b"bm25",
    b"ceil",
    b"ceiling",
    b"char",
    b"concat",
    b"concat_ws",
    b"cos",
    b"cosh",
    b"cume_dist",
    b"degrees",
    b"dense_rank",
    b"exp",
    b"first_value",
    b"floor",
    b"format",
    b"glob",
    b"group_concat",
    b"hex",
    b"highlight",
    b"ifnull",
    b"iif",
    b"instr",
    b"json",
    b"json_array",
    b"json_array_length",
    b"json_each",
    b"json_extract",
    b"json_group_array",
    b"json_group_object",
    b"json_insert",
    b"json_object",
    b"json_patch",
    b"json_quote",
    b"json_remove",
    b"json_replace",
    b"json_set",
    b"json_tree",
    b"json_type",
    b"json_valid",
    b"jsonb",
    b"julianday",
    b"lag",
    b"last_value",
    b"lead",
    b"likelihood",
    b"likely",
    b"ln",
    b"log",
    b"log10",
    b"log2",
    b"matchinfo",
    b"mod",
    b"nth_value",
    b"ntile",
    b"octet_length",
    b"offsets",
    b"percent_rank",
    b"pi",
    b"pow",
    b"power",
    b"pragma_foreign_key_list",
    b"pragma_index_info",
    b"pragma_index_list",
    b"pragma_index_xinfo",
    b"pragma_table_info",
    b"pragma_table_xinfo",
    b"printf",
    b"quote",
    b"radians",
    b"random",
    b"randomblob",
    b"rank",
    b"row_number",
    b"sign",
    b"sin",
    b"sinh",
    b"snippet",
    b"sqlite_source_id",
    b"sqlite_version",
    b"sqrt",
    b"strftime",
    b"string_agg",
    b"substring",
    b"tan",
    b"tanh",
    b"timediff",
    b"total",
    b"trunc",
    b"typeof",
    b"unhex",
    b"unicode",
    b"unixepoch",
    b"unlikely",
    b"zeroblob",
];
