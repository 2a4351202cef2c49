//! The fast path: one pass over the bytes for the shapes SeaQuery and most
//! hand-written reads take (`SELECT`, quoted and bare names, qualified
//! columns, parameters, numbers, plain strings, comparison operators,
//! calls of known functions, comments), skipping names, strings and
//! comments in bulk.
//!
//! It answers only "proven read" (`true`) or "not sure" (`false`): then the
//! full scan reads the text from the start. Everything it accepts, every
//! profile of the dialect reads alike (no backslash, no dollar quote, no
//! construct a profile or mode reads differently) and the full scan calls
//! a read; the unit tests check that on every statement they hold.

use super::lexer::{find3, operator_end};
use super::profile::{Family, FnSet, Profile, at, is_ident_cont, is_space};
use super::scan::{Extra, read_call};
use super::words::{Kw, keyword_in, name_may_write};

/// What the previous token was, as far as the fast path cares.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev<'a> {
    /// An unquoted word not after a `.`: a call if `(` follows.
    Word(&'a [u8]),
    /// A quoted name, or a word after a `.`: may be qualified by a `.`.
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

/// Whether `b` is, for certain, a plain read under profile `p` (the first
/// profile of its dialect).
pub(super) fn proven_read(b: &[u8], p: Profile, extra: Extra<'_>) -> bool {
    let mut i = skip_space(b, 0);
    let mut prev = match b.get(i..i + 6) {
        Some(w) if w.eq_ignore_ascii_case(b"select") && !is_ident_cont(at(b, i + 6)) => {
            Prev::Word(w)
        }
        _ => return false,
    };
    i += 6;
    let family = p.family;
    let mut parens = 0usize;
    loop {
        i = skip_space(b, i);
        let start = i;
        prev = match at(b, i) {
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let mut j = i + 1;
                while matches!(at(b, j), b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'$') {
                    j += 1;
                }
                // Non-ASCII names, prefixed strings (`E'…'`, `_utf8'…'`,
                // `U&"…"`): the full scan.
                if at(b, j) >= 0x80 || matches!(at(b, j), b'\'' | b'"' | b'`' | b'&') {
                    return false;
                }
                let w = &b[i..j];
                i = j;
                if !inert(keyword_in(w, b.get(start..).unwrap_or_default())) {
                    return false;
                }
                if prev == Prev::Dot {
                    if after_dot_may_write(w, extra) {
                        return false;
                    }
                    Prev::Qualified
                } else {
                    Prev::Word(w)
                }
            }
            b'"' if family != Family::MySql => match quoted_name(b, &mut i, b'"', prev, extra) {
                Some(kind) => kind,
                None => return false,
            },
            b'`' if family == Family::MySql => match quoted_name(b, &mut i, b'`', prev, extra) {
                Some(kind) => kind,
                None => return false,
            },
            b'\'' => {
                let Some(end) = quoted_end(b, i, b'\'') else {
                    return false;
                };
                i = end + 1;
                // A PostgreSQL string continued on the next line.
                if at(b, skip_space(b, i)) == b'\'' {
                    return false;
                }
                Prev::Value
            }
            b'0'..=b'9' => {
                i += 1;
                while at(b, i).is_ascii_digit() {
                    i += 1;
                }
                Prev::Value
            }
            b'$' if family == Family::Postgres && at(b, i + 1).is_ascii_digit() => {
                i += 2;
                while at(b, i).is_ascii_digit() {
                    i += 1;
                }
                Prev::Value
            }
            b'?' if family != Family::Postgres && !at(b, i + 1).is_ascii_digit() => {
                i += 1;
                Prev::Other
            }
            b'(' => {
                match prev {
                    Prev::Word(name) if read_call(name, false, p.functions, extra) => {}
                    Prev::Word(_) | Prev::Name | Prev::Qualified => return false,
                    _ => {}
                }
                i += 1;
                parens += 1;
                Prev::Other
            }
            b')' => {
                if parens == 0 {
                    return false;
                }
                i += 1;
                parens -= 1;
                Prev::Value
            }
            b',' => {
                i += 1;
                Prev::Other
            }
            b'.' => {
                if !matches!(prev, Prev::Word(_) | Prev::Name) {
                    return false;
                }
                i += 1;
                Prev::Dot
            }
            b'-' if at(b, i + 1) == b'-' => {
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
            b'/' if at(b, i + 1) == b'*' => {
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
            b'=' | b'<' | b'>' | b'*' | b'!' => {
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
            b';' => {
                return parens == 0 && skip_space(b, i + 1) == b.len();
            }
            0 if i >= b.len() => return parens == 0,
            _ => return false,
        };
    }
}

/// A quoted name at `*i`, and with it the `."name"` that qualifies it
/// right after (SeaQuery's `"table"."column"`), in one step; `None` to
/// hand the text to the full scan.
#[inline(always)]
fn quoted_name<'a>(
    b: &'a [u8],
    i: &mut usize,
    quote: u8,
    prev: Prev<'a>,
    extra: Extra<'_>,
) -> Option<Prev<'a>> {
    let end = quoted_end(b, *i, quote)?;
    let name = &b[*i + 1..end];
    *i = end + 1;
    if special_name(name) {
        return None;
    }
    if prev == Prev::Dot {
        return (!after_dot_may_write(name, extra)).then_some(Prev::Qualified);
    }
    if at(b, *i) != b'.' || at(b, *i + 1) != quote {
        return Some(Prev::Name);
    }
    let end = quoted_end(b, *i + 1, quote)?;
    let column = &b[*i + 2..end];
    *i = end + 1;
    (!special_name(column) && !after_dot_may_write(column, extra)).then_some(Prev::Qualified)
}

/// A quoted name the full scan looks at: `"pragma_…"` tables and SQLite's
/// `"temp"` schema.
#[inline(always)]
fn special_name(name: &[u8]) -> bool {
    match (name.len(), name.first().map(|c| c | 0x20)) {
        (4, Some(b't')) => name.eq_ignore_ascii_case(b"temp"),
        (8.., Some(b'p')) => name
            .get(..7)
            .is_some_and(|head| head.eq_ignore_ascii_case(b"pragma_")),
        _ => false,
    }
}

/// Keyword classes that change nothing in a `SELECT` without `@`, `.` or
/// `(` rules of their own.
fn inert(kw: Kw) -> bool {
    matches!(
        kw,
        Kw::Other
            | Kw::Select
            | Kw::As
            | Kw::In
            | Kw::For
            | Kw::Key
            | Kw::Next
            | Kw::Previous
            | Kw::Show
            | Kw::Explain
            | Kw::Describe
            | Kw::Values
            | Kw::Table
            | Kw::Recursive
            | Kw::Search
            | Kw::Scope
            | Kw::Global
            | Kw::ShowSession
            | Kw::ShowScoped
    )
}

/// A name after a `.` that may call a writer (`t.lo_unlink`,
/// `s."nextval"`, a user's function in attribute notation).
#[inline(always)]
fn after_dot_may_write(name: &[u8], extra: Extra<'_>) -> bool {
    name_may_write(name) || extra.catalog.is_some_and(|c| c.writer_named(name))
}

/// The closing `quote` of a literal opened at `i`, if it holds no doubled
/// quote, backslash or NUL byte and its last byte is ASCII.
#[inline(always)]
fn quoted_end(b: &[u8], i: usize, quote: u8) -> Option<usize> {
    let end = find3(b, i + 1, quote, b'\\', 0)?;
    (at(b, end) == quote && at(b, end + 1) != quote && at(b, end - 1) < 0x80 && end > i + 1)
        .then_some(end)
}

#[inline(always)]
fn skip_space(b: &[u8], mut i: usize) -> usize {
    while is_space(at(b, i)) {
        i += 1;
    }
    i
}

/// Whether the fast path is allowed for a function set: the dialect-blind
/// set has its own pre-scan.
pub(super) const fn applies(set: FnSet) -> bool {
    !matches!(set, FnSet::All)
}
