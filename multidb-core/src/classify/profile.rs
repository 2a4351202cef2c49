//! Lexical profiles: how one dialect, in one configuration, splits text into
//! tokens, and which built-in functions it knows to be read-only.

use super::Dialect;

/// The lexical family of a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Family {
    Postgres,
    MySql,
    Sqlite,
}

/// Which allow list of built-in functions a profile checks calls against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FnSet {
    Postgres,
    MySql,
    Sqlite,
    /// Read-only in every dialect: the dialect-blind fast path.
    All,
}

/// One lexical profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Profile {
    pub(super) family: Family,
    /// Backslash escapes inside `'…'` (outside PostgreSQL `E'…'`, which always has them).
    pub(super) backslash_in_single: bool,
    /// Backslash escapes inside `"…"`.
    pub(super) backslash_in_double: bool,
    pub(super) functions: FnSet,
}

pub(super) const POSTGRES: Profile = Profile {
    family: Family::Postgres,
    backslash_in_single: false,
    backslash_in_double: false,
    functions: FnSet::Postgres,
};

/// `standard_conforming_strings = off`.
pub(super) const POSTGRES_NONSTANDARD_STRINGS: Profile = Profile {
    backslash_in_single: true,
    ..POSTGRES
};

/// The default `sql_mode`: `"…"` is a string, with backslash escapes.
pub(super) const MYSQL: Profile = Profile {
    family: Family::MySql,
    backslash_in_single: true,
    backslash_in_double: true,
    functions: FnSet::MySql,
};

/// `sql_mode = NO_BACKSLASH_ESCAPES`.
pub(super) const MYSQL_NO_BACKSLASH_ESCAPES: Profile = Profile {
    backslash_in_single: false,
    backslash_in_double: false,
    ..MYSQL
};

/// `sql_mode = ANSI_QUOTES`: `"…"` quotes an identifier, without escapes.
pub(super) const MYSQL_ANSI_QUOTES: Profile = Profile {
    backslash_in_double: false,
    ..MYSQL
};

pub(super) const SQLITE: Profile = Profile {
    family: Family::Sqlite,
    backslash_in_single: false,
    backslash_in_double: false,
    functions: FnSet::Sqlite,
};

/// The dialect-blind fast path: PostgreSQL's lexer (which reads text without
/// divergent constructs like every other profile does) with every dialect's
/// function rules.
pub(super) const BLIND_FAST: Profile = Profile {
    functions: FnSet::All,
    ..POSTGRES
};

/// All six profiles, for [`classify`](super::classify).
pub(super) const ALL: [Profile; 6] = [
    POSTGRES,
    MYSQL,
    SQLITE,
    POSTGRES_NONSTANDARD_STRINGS,
    MYSQL_NO_BACKSLASH_ESCAPES,
    MYSQL_ANSI_QUOTES,
];

/// A dialect's profiles: the first one is run first; the others differ from
/// it only inside literals that hold a backslash.
pub(super) const fn of(dialect: Dialect) -> &'static [Profile] {
    match dialect {
        Dialect::Postgres => &[POSTGRES, POSTGRES_NONSTANDARD_STRINGS],
        Dialect::MySql => &[MYSQL, MYSQL_NO_BACKSLASH_ESCAPES, MYSQL_ANSI_QUOTES],
        Dialect::Sqlite => &[SQLITE],
    }
}

pub(super) const SPACE: u8 = 1;
pub(super) const IDENT_START: u8 = 2;
pub(super) const IDENT_CONT: u8 = 4;
/// A byte the dialect-blind pre-scan must look at.
pub(super) const NOTABLE: u8 = 8;
/// A byte of a PostgreSQL operator.
pub(super) const OPERATOR: u8 = 16;

/// Byte classes, one table lookup per byte in the hot loops.
pub(super) static CLASS: [u8; 256] = {
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
            b'~' | b'!'
                | b'@'
                | b'#'
                | b'^'
                | b'&'
                | b'|'
                | b'`'
                | b'?'
                | b'+'
                | b'-'
                | b'*'
                | b'/'
                | b'%'
                | b'<'
                | b'>'
                | b'='
        ) {
            class |= OPERATOR;
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

#[inline(always)]
pub(super) fn has(c: u8, class: u8) -> bool {
    CLASS[usize::from(c)] & class != 0
}

pub(super) fn is_space(c: u8) -> bool {
    has(c, SPACE)
}

/// First byte of an unquoted identifier or keyword.
pub(super) fn is_ident_start(c: u8) -> bool {
    has(c, IDENT_START)
}

pub(super) fn is_operator(c: u8) -> bool {
    has(c, OPERATOR)
}

pub(super) fn is_ident_cont(c: u8) -> bool {
    has(c, IDENT_CONT)
}

/// The byte at `i`, or 0 past the end.
#[inline(always)]
pub(super) fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// What the dialect-blind byte scan found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Prescan {
    /// The profiles may tokenise the text differently: all must run.
    pub(super) divergent: bool,
    /// The text holds a backslash: the backslash variants must run too.
    pub(super) backslash: bool,
}

/// The constructs on which the six profiles can disagree; `None` if the
/// text holds a NUL byte.
pub(super) fn prescan(b: &[u8]) -> Option<Prescan> {
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
