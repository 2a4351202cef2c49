//! The fast path: one pass over the bytes for the shapes SeaQuery and most
//! hand-written reads take (`SELECT`, quoted and bare names, qualified
//! columns, parameters, numbers, plain strings, comparison operators,
//! calls of known functions, comments), skipping names, strings and
//! comments eight bytes at a time.
//!
//! It answers only "proven read" (`true`) or "not sure" (`false`): then the
//! full scan reads the text from the start. Everything it accepts, every
//! profile of the dialect reads alike (no backslash, no dollar quote, no
//! construct a profile or mode reads differently) and the full scan calls
//! a read; the unit tests, a property test and the fuzz target check that.
//!
//! One byte-class lookup dispatches each token; the state is the previous
//! token's kind and, for a bare word, where it lies (a call's name).

use super::lexer::{find3, operator_end};
use super::profile::{Family, FnSet, NOTABLE, Profile, at, has, is_ident_cont, is_operator};
use super::scan::{Extra, read_call};
use super::words::{inert_word, name_may_write, quoted_may_matter};

/// What the previous token was, as far as the fast path cares.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// An unquoted word not after a `.`: a call if `(` follows.
    Word,
    /// A quoted name: may be qualified by a `.`.
    Name,
    /// A name after a `.`: neither qualified again nor called here.
    Qualified,
    /// `.`
    Dot,
    /// A literal, a parameter or `)`: a `.` after it is PostgreSQL
    /// attribute notation.
    Value,
    /// Anything else: a keyword's place, `,`, `(`, an operator.
    Other,
}

// Byte classes of the dispatch (`CLASS`); 0 is anything the fast path
// leaves to the full scan (and the end of the text).
const STOP: u8 = 0;
const SPACE: u8 = 1;
const WORD: u8 = 2;
const DIGIT: u8 = 3;
const DOUBLE: u8 = 4;
const BACKTICK: u8 = 5;
const SINGLE: u8 = 6;
const DOLLAR: u8 = 7;
const QUESTION: u8 = 8;
const OPEN: u8 = 9;
const CLOSE: u8 = 10;
const COMMA: u8 = 11;
const DOT: u8 = 12;
const DASH: u8 = 13;
const SLASH: u8 = 14;
const COMPARE: u8 = 15;
const SEMICOLON: u8 = 16;

static CLASS: [u8; 256] = {
    let mut t = [STOP; 256];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        t[c] = match b {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => SPACE,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => WORD,
            b'0'..=b'9' => DIGIT,
            b'"' => DOUBLE,
            b'`' => BACKTICK,
            b'\'' => SINGLE,
            b'$' => DOLLAR,
            b'?' => QUESTION,
            b'(' => OPEN,
            b')' => CLOSE,
            b',' => COMMA,
            b'.' => DOT,
            b'-' => DASH,
            b'/' => SLASH,
            b'=' | b'<' | b'>' | b'*' | b'!' => COMPARE,
            b';' => SEMICOLON,
            _ => STOP,
        };
        c += 1;
    }
    t
};

/// Bytes that continue an unquoted ASCII word.
static WORD_CONT: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
        c += 1;
    }
    t
};

#[inline(always)]
fn class(c: u8) -> u8 {
    CLASS[usize::from(c)]
}

/// Whether `b` is, for certain, a plain read under profile `p` (the first
/// profile of its dialect, or the dialect-blind one).
pub(super) fn proven_read(b: &[u8], p: Profile, extra: Extra<'_>) -> bool {
    // One copy of the scan per family, its constants folded in.
    match (p.family, p.functions) {
        (Family::Postgres, FnSet::All) => scan::<POSTGRES, true>(b, p, extra),
        (Family::Postgres, _) => scan::<POSTGRES, false>(b, p, extra),
        (Family::MySql, _) => scan::<MYSQL, false>(b, p, extra),
        (Family::Sqlite, _) => scan::<SQLITE, false>(b, p, extra),
    }
}

const POSTGRES: u8 = 0;
const MYSQL: u8 = 1;
const SQLITE: u8 = 2;

/// [`proven_read`] for the family `F` (`p.family`), `BLIND` for the
/// dialect-blind function set.
#[inline(never)]
fn scan<const F: u8, const BLIND: bool>(b: &[u8], p: Profile, extra: Extra<'_>) -> bool {
    let mut i = skip_space(b, 0);
    // `select` in any case, as one comparison (`| 0x20` lower-cases letters).
    let opens = match b.get(i..i + 6) {
        Some(&[c0, c1, c2, c3, c4, c5]) => {
            u64::from_le_bytes([c0, c1, c2, c3, c4, c5, 0, 0]) | 0x2020_2020_2020
                == u64::from_le_bytes(*b"select\0\0")
        }
        _ => false,
    };
    if !opens || is_ident_cont(at(b, i + 6)) {
        return false;
    }
    let family = match F {
        POSTGRES => Family::Postgres,
        MYSQL => Family::MySql,
        _ => Family::Sqlite,
    };
    // The dialect-blind profile (PostgreSQL's lexer, every dialect's
    // function rules) takes only text that no dialect reads differently:
    // what `profile::prescan` finds no divergent byte in.
    let blind = BLIND;
    // The quote of identifiers: `"` in PostgreSQL and SQLite, `` ` `` in
    // MySQL (where `"` quotes a string, with escapes); both when blind.
    let quote = if family == Family::MySql { b'`' } else { b'"' };
    // The last bare word, for a call.
    let (mut word_start, mut word_end) = (i, i + 6);
    i += 6;
    let mut prev = Prev::Word;
    let mut parens = 0usize;
    loop {
        let mut c = at(b, i);
        // One space, the usual separator, without a dispatch.
        if c == b' ' {
            i += 1;
            c = at(b, i);
        }
        prev = match class(c) {
            SPACE => {
                i = skip_space(b, i);
                continue;
            }
            WORD => {
                let start = i;
                i = word_end_at(b, i + 1);
                // Non-ASCII names, prefixed strings (`E'…'`, `_utf8'…'`,
                // `U&"…"`): the full scan.
                if AFTER_WORD_STOPS[usize::from(at(b, i))] {
                    return false;
                }
                let w = &b[start..i];
                // Blind, a `$` in a word is read differently by the dialects.
                if blind && w.contains(&b'$') {
                    return false;
                }
                if !inert_word(w, &b[start..]) {
                    return false;
                }
                if prev == Prev::Dot {
                    if after_dot_may_write(w, extra) {
                        return false;
                    }
                    Prev::Qualified
                } else {
                    (word_start, word_end) = (start, i);
                    Prev::Word
                }
            }
            DOUBLE | BACKTICK if c == quote || blind => {
                let Some(end) = name_end(b, i + 1, c) else {
                    return false;
                };
                let after_dot = prev == Prev::Dot;
                if !plain_name(&b[i + 1..end], after_dot, family, blind, extra) {
                    return false;
                }
                i = end + 1;
                if after_dot {
                    Prev::Qualified
                } else if at(b, i) == b'.' && at(b, i + 1) == c {
                    // SeaQuery's `"table"."column"`, in one step.
                    let Some(end) = name_end(b, i + 2, c) else {
                        return false;
                    };
                    if !plain_name(&b[i + 2..end], true, family, blind, extra) {
                        return false;
                    }
                    i = end + 1;
                    Prev::Qualified
                } else {
                    Prev::Name
                }
            }
            SINGLE => {
                let Some(end) = quoted_end(b, i, b'\'') else {
                    return false;
                };
                if blind && divergent(&b[i + 1..end]) {
                    return false;
                }
                i = end + 1;
                // A PostgreSQL string continued on the next line.
                if at(b, skip_space(b, i)) == b'\'' {
                    return false;
                }
                Prev::Value
            }
            DIGIT => {
                i = digits_end(b, i + 1);
                Prev::Value
            }
            DOLLAR if family == Family::Postgres && at(b, i + 1).is_ascii_digit() => {
                i = digits_end(b, i + 2);
                // SQLite reads `$1x(…)` and `$1::y` as one variable.
                if blind && (is_ident_cont(at(b, i)) || matches!(at(b, i), b'(' | b':')) {
                    return false;
                }
                Prev::Value
            }
            // Blind, PostgreSQL's lexer reads a lone `?` as an operator byte,
            // which no rule looks at.
            QUESTION
                if (family != Family::Postgres || (blind && !is_operator(at(b, i + 1))))
                    && !at(b, i + 1).is_ascii_digit() =>
            {
                i += 1;
                Prev::Other
            }
            OPEN => {
                match prev {
                    Prev::Word => {
                        let name = &b[word_start..word_end];
                        if !read_call(name, false, p.functions, extra) {
                            return false;
                        }
                    }
                    Prev::Name | Prev::Qualified => return false,
                    _ => {}
                }
                i += 1;
                parens += 1;
                Prev::Other
            }
            CLOSE => {
                if parens == 0 {
                    return false;
                }
                i += 1;
                parens -= 1;
                Prev::Value
            }
            COMMA => {
                i += 1;
                Prev::Other
            }
            DOT => {
                if !matches!(prev, Prev::Word | Prev::Name) {
                    return false;
                }
                i += 1;
                Prev::Dot
            }
            DASH if at(b, i + 1) == b'-' && !blind => {
                // MySQL: only before whitespace or a control character.
                if family == Family::MySql && !matches!(at(b, i + 2), 0..=b' ' | 0x7f) {
                    return false;
                }
                let cr = if family == Family::Postgres {
                    b'\r'
                } else {
                    b'\n'
                };
                match find3(b, i + 2, b'\n', cr, 0) {
                    Some(end) if at(b, end) == 0 => return false,
                    Some(end) => i = end,
                    None => i = b.len(),
                }
                continue;
            }
            SLASH if at(b, i + 1) == b'*' && !blind => {
                // MySQL's executable comments run; a nested one is read
                // differently by the dialects.
                if family == Family::MySql && matches!(at(b, i + 2), b'!' | b'M' | b'm') {
                    return false;
                }
                let mut j = i + 2;
                loop {
                    match find3(b, j, b'*', b'/', 0) {
                        Some(k) if at(b, k) == b'*' && at(b, k + 1) == b'/' => {
                            i = k + 2;
                            break;
                        }
                        Some(k) if at(b, k) == b'/' && at(b, k + 1) == b'*' => return false,
                        Some(k) if at(b, k) != 0 => j = k + 1,
                        _ => return false,
                    }
                }
                continue;
            }
            COMPARE => {
                let end = if family == Family::Postgres {
                    operator_end(b, i)
                } else {
                    i + 1
                };
                let op = &b[i..end];
                let known = matches!(
                    op,
                    b"=" | b"<" | b">" | b"*" | b"<>" | b"<=" | b">=" | b"!="
                ) || (family != Family::Postgres && op == b"!");
                if !known || extra.catalog.is_some_and(|c| c.operator_writes(op)) {
                    return false;
                }
                i = end;
                Prev::Other
            }
            SEMICOLON => return parens == 0 && skip_space(b, i + 1) == b.len(),
            // The end of the text (a NUL byte inside it is left to the full scan).
            STOP if i >= b.len() => return parens == 0,
            _ => return false,
        };
    }
}

/// Bytes that may not follow an unquoted word on the fast path: non-ASCII
/// (the name goes on), and the quotes and `&` of prefixed strings.
static AFTER_WORD_STOPS: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0x80;
    while c < 256 {
        t[c] = true;
        c += 1;
    }
    t[b'\'' as usize] = true;
    t[b'"' as usize] = true;
    t[b'`' as usize] = true;
    t[b'&' as usize] = true;
    t
};

/// The end of the word whose second byte is at `i`.
#[inline(always)]
fn word_end_at(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        if !WORD_CONT[usize::from(c)] {
            break;
        }
        i += 1;
    }
    i
}

#[inline(always)]
fn digits_end(b: &[u8], mut i: usize) -> usize {
    while at(b, i).is_ascii_digit() {
        i += 1;
    }
    i
}

/// The closing `quote` of a quoted name whose contents start at `s`: a
/// non-empty run of ASCII bytes other than the quote, `\`, NUL and DEL
/// (which the keyword tables pack like `_`, so that the full scan may take
/// `"pragma\x7fa"` for a pragma), not followed by a second quote. Eight
/// bytes at a time.
#[inline(always)]
fn name_end(b: &[u8], s: usize, quote: u8) -> Option<usize> {
    let mut j = s;
    let end = loop {
        let Some(chunk) = b.get(j..j + 8) else {
            // The last few bytes, one at a time.
            while let Some(&c) = b.get(j) {
                if c == quote || c == b'\\' || c == 0 || c >= 0x7f {
                    break;
                }
                j += 1;
            }
            break j;
        };
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let hits = zero_bytes(v ^ (ONES * u64::from(quote)))
            | zero_bytes(v ^ (ONES * u64::from(b'\\')))
            | zero_bytes(v)
            // Bytes from 0x7f up: DEL and non-ASCII.
            | (((v & !HIGHS) + ONES) | v) & HIGHS;
        if hits != 0 {
            break j + (hits.trailing_zeros() / 8) as usize;
        }
        j += 8;
    };
    (end > s && at(b, end) == quote && at(b, end + 1) != quote).then_some(end)
}

/// Whether a quoted name is one the fast path passes over: not a name
/// the full scan looks at (`"pragma_…"` tables, SQLite's `"temp"` schema),
/// nor, after a `.`, a name that may call a writer (`s."nextval"`, a
/// user's function in attribute notation).
#[inline(always)]
fn plain_name(name: &[u8], after_dot: bool, family: Family, blind: bool, extra: Extra<'_>) -> bool {
    !(quoted_may_matter(name, after_dot)
        || ((family == Family::Sqlite || blind) && name.eq_ignore_ascii_case(b"temp"))
        || (blind && divergent(name))
        || (after_dot && extra.catalog.is_some_and(|c| c.writer_named(name))))
}

/// Whether a literal's contents hold a byte on which the dialects may
/// read the text differently (`profile::prescan`'s notable bytes): blind,
/// the fast path leaves such text to the pre-scan and every profile.
#[inline(always)]
fn divergent(contents: &[u8]) -> bool {
    contents.iter().any(|&c| has(c, NOTABLE))
}

/// A name after a `.` that may call a writer (`t.lo_unlink`, a user's
/// function in attribute notation).
#[inline(always)]
fn after_dot_may_write(name: &[u8], extra: Extra<'_>) -> bool {
    name_may_write(name) || extra.catalog.is_some_and(|c| c.writer_named(name))
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each zero byte of `v` (exact up to the first zero byte).
#[inline(always)]
const fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(ONES) & !v & HIGHS
}

/// The closing `quote` of a literal opened at `i`, if it is not empty and
/// holds no doubled quote, backslash or NUL byte, and its last byte is
/// ASCII. Eight bytes at a time: most names end in the first eight.
#[inline(always)]
fn quoted_end(b: &[u8], i: usize, quote: u8) -> Option<usize> {
    let mut j = i + 1;
    let end = loop {
        match b.get(j..j + 8) {
            Some(chunk) => {
                let mut word = [0u8; 8];
                word.copy_from_slice(chunk);
                let v = u64::from_le_bytes(word);
                let hits = zero_bytes(v ^ (ONES * u64::from(quote)))
                    | zero_bytes(v ^ (ONES * u64::from(b'\\')))
                    | zero_bytes(v);
                if hits != 0 {
                    break j + (hits.trailing_zeros() / 8) as usize;
                }
                j += 8;
            }
            None => break find3(b, j, quote, b'\\', 0)?,
        }
    };
    (at(b, end) == quote && at(b, end + 1) != quote && end > i + 1 && at(b, end - 1) < 0x80)
        .then_some(end)
}

#[inline(always)]
fn skip_space(b: &[u8], mut i: usize) -> usize {
    while class(at(b, i)) == SPACE {
        i += 1;
    }
    i
}
