//! The lexer: one profile's reading of the text as tokens, borrowed from the
//! input, with no allocation and no recursion.

use super::profile::{Family, Profile, at, is_ident_cont, is_ident_start, is_operator, is_space};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tok<'a> {
    /// An unquoted identifier or keyword.
    Word(&'a [u8]),
    /// A quoted identifier (or MySQL `"string"`): its raw contents.
    Quoted(&'a [u8]),
    /// A string literal, a number or a parameter.
    Literal,
    /// Any other single byte.
    Punct(u8),
    /// A PostgreSQL operator of two or more bytes (`@>`, `<->`, `!~~*`).
    Op(&'a [u8]),
    /// `:=`
    Assign,
    /// Something that settles it: a MySQL executable comment, `U&"…"`, a
    /// NUL byte, an unterminated comment or dollar quote.
    Write,
    /// The dialect's lexer fails here, before anything runs.
    Rejected,
    End,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Lexer<'a> {
    b: &'a [u8],
    pub(super) i: usize,
    pub(super) p: Profile,
    /// Where the last token started.
    pub(super) start: usize,
    /// A literal held a backslash whose meaning depends on the profile's
    /// escape setting: the dialect's other profiles must read the text too.
    pub(super) backslash: bool,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(b: &'a [u8], p: Profile) -> Self {
        Self {
            b,
            i: 0,
            p,
            start: 0,
            backslash: false,
        }
    }

    fn at(&self, i: usize) -> u8 {
        at(self.b, i)
    }

    pub(super) fn bytes(&self) -> &'a [u8] {
        self.b
    }

    /// The input from the start of `part` (a sub-slice of it) on.
    #[inline]
    pub(super) fn tail_of(&self, part: &[u8]) -> &'a [u8] {
        let offset = (part.as_ptr() as usize).wrapping_sub(self.b.as_ptr() as usize);
        self.b.get(offset..).unwrap_or_default()
    }

    fn slice(&self, from: usize, to: usize) -> &'a [u8] {
        self.b.get(from..to).unwrap_or_default()
    }

    /// The next token, without consuming it.
    pub(super) fn peek(&self) -> Tok<'a> {
        let mut ahead = *self;
        ahead.next()
    }

    #[inline(always)]
    pub(super) fn next(&mut self) -> Tok<'a> {
        let family = self.p.family;
        loop {
            let mut i = self.i;
            while is_space(self.at(i)) {
                i += 1;
            }
            self.i = i;
            self.start = i;
            let c = self.at(i);
            // Words, the commonest token (and Postgres prefixed strings, `E'…'`).
            if is_ident_start(c) {
                return self.word(i);
            }
            match c {
                b'"' => {
                    let escapes = family == Family::MySql && self.p.backslash_in_double;
                    return self.quoted(i, b'"', escapes);
                }
                b'.' | b',' | b'(' | b')' => {
                    self.i = i + 1;
                    return Tok::Punct(c);
                }
                b'=' if family != Family::Postgres || !is_operator(self.at(i + 1)) => {
                    self.i = i + 1;
                    return Tok::Punct(c);
                }
                b'`' => return self.quoted(i, b'`', false),
                b'\'' => return self.string(i, self.p.backslash_in_single, true),
                b'0'..=b'9' => {
                    let mut j = i + 1;
                    while self.at(j).is_ascii_digit() {
                        j += 1;
                    }
                    self.i = j;
                    return Tok::Literal;
                }
                0 if i >= self.b.len() => return Tok::End,
                // Drivers and servers disagree on where such a string ends.
                0 => return Tok::Write,
                b'-' if self.at(i + 1) == b'-' && self.dash_comment_starts(i) => {
                    self.skip_line(i + 2);
                }
                b'#' if family == Family::MySql => self.skip_line(i + 1),
                b'/' if self.at(i + 1) == b'*' => {
                    if let Some(tok) = self.block_comment(i) {
                        return tok;
                    }
                }
                // SQLite, and MariaDB with `sql_mode=MSSQL` (elsewhere MySQL
                // has no `[` at all: reading it as a quote is exact or moot).
                b'[' if family != Family::Postgres => return self.quoted(i, b'[', false),
                b'$' => {
                    return match family {
                        Family::Postgres => self.dollar(i),
                        Family::MySql => self.word(i),
                        Family::Sqlite => self.sqlite_variable(i),
                    };
                }
                b'@' | b':' | b'#' if family == Family::Sqlite => {
                    return self.sqlite_variable(i);
                }
                b':' if self.at(i + 1) == b'=' => {
                    self.i = i + 2;
                    return Tok::Assign;
                }
                c if family == Family::Postgres && is_operator(c) && c != b'`' => {
                    return self.operator(i);
                }
                c => {
                    self.i = i + 1;
                    return Tok::Punct(c);
                }
            }
        }
    }

    /// A PostgreSQL operator starting at `i`, as `scan.l` delimits it: the
    /// longest run of operator bytes, ended before `--` or `/*`, without
    /// trailing `+`/`-` unless it holds one of `~!@#^&|`?%`.
    fn operator(&mut self, i: usize) -> Tok<'a> {
        let j = operator_end(self.b, i);
        self.i = j;
        if j - i == 1 {
            Tok::Punct(self.at(i))
        } else {
            Tok::Op(self.slice(i, j))
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

    /// Skip a line comment from `j`; a NUL in it is left for `next` to see.
    fn skip_line(&mut self, j: usize) {
        // Only PostgreSQL also ends it at `\r`.
        let cr = if self.p.family == Family::Postgres {
            b'\r'
        } else {
            b'\n'
        };
        self.i = find3(self.b, j, b'\n', cr, 0).unwrap_or(self.b.len());
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
                (0, _) => return Some(Tok::Write), // unterminated, or a NUL
                (b'*', b'/') => {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        self.i = j;
                        return None;
                    }
                }
                (b'/', b'*') if nests => {
                    depth = depth.saturating_add(1);
                    j += 2;
                }
                _ => j += 1,
            }
        }
    }

    /// A string literal whose opening `'` is at `i`. `plain` marks a string
    /// whose escapes follow the profile's setting (not `E'…'`, `B'…'`,
    /// `X'…'`): a backslash in it is noted for the other profiles.
    fn string(&mut self, mut i: usize, escapes: bool, plain: bool) -> Tok<'a> {
        loop {
            let Some(end) = self.closing(i + 1, b'\'', escapes, plain) else {
                return if self.i == usize::MAX {
                    Tok::Write
                } else {
                    Tok::Rejected
                };
            };
            self.i = end + 1;
            if self.p.family != Family::Postgres {
                return Tok::Literal;
            }
            // PostgreSQL joins string constants separated by whitespace that
            // holds a newline (`--` comments allowed, block comments not); the
            // continuation keeps the first part's escape rules.
            match self.continuation(end + 1) {
                Some(next) => i = next,
                None => return Tok::Literal,
            }
        }
    }

    /// After a PostgreSQL string constant ending before `j`: the `'` of a
    /// continuation, as `scan.l`'s `quotecontinue` finds it.
    fn continuation(&self, mut j: usize) -> Option<usize> {
        let mut newline = false;
        loop {
            match self.at(j) {
                b' ' | b'\t' | 0x0c | 0x0b => j += 1,
                b'\n' | b'\r' => {
                    newline = true;
                    j += 1;
                }
                b'-' if self.at(j + 1) == b'-' => {
                    while !matches!(self.at(j), 0 | b'\n' | b'\r') {
                        j += 1;
                    }
                }
                b'\'' if newline => return Some(j),
                _ => return None,
            }
        }
    }

    /// A quoted identifier opened at `i`.
    fn quoted(&mut self, i: usize, open: u8, escapes: bool) -> Tok<'a> {
        let close = if open == b'[' { b']' } else { open };
        match self.closing(i + 1, close, escapes, open == b'"') {
            Some(end) => {
                self.i = end + 1;
                Tok::Quoted(self.slice(i + 1, end))
            }
            None if self.i == usize::MAX => Tok::Write,
            None => Tok::Rejected,
        }
    }

    /// The index of the closing `quote` of a literal whose contents start at
    /// `j`; a doubled quote is part of the contents (except for `]`). `None`
    /// if unterminated, or (with `self.i` set to `usize::MAX`) if it holds a
    /// NUL byte.
    #[inline]
    fn closing(&mut self, mut j: usize, quote: u8, escapes: bool, plain: bool) -> Option<usize> {
        loop {
            j = find3(self.b, j, quote, b'\\', 0)?;
            let c = self.at(j);
            if self.at(j.wrapping_sub(1)) >= 0x80 && (c == b'\\' || quote == b'`' || quote == b']')
            {
                // A client encoding like SJIS or GBK reads the last byte of
                // a UTF-8 character and this byte as one character.
                self.i = usize::MAX;
                return None;
            }
            match c {
                0 => {
                    self.i = usize::MAX;
                    return None;
                }
                b'\\' if c != quote => {
                    self.backslash |= plain;
                    if !escapes {
                        j += 1;
                        continue;
                    }
                    if j + 1 >= self.b.len() {
                        return None; // a backslash at the very end
                    }
                    j += 2; // a backslash and the byte it escapes
                }
                _ => {
                    if quote == b']' || self.at(j + 1) != quote {
                        return Some(j);
                    }
                    j += 2; // a doubled quote
                }
            }
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
        loop {
            let Some(at) = find3(self.b, k, b'$', b'$', 0) else {
                return Tok::Write; // unterminated dollar quote
            };
            k = at;
            if self.at(k) == 0 {
                return Tok::Write;
            }
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
    }

    /// An unquoted word starting at `i`, or a Postgres prefixed string.
    fn word(&mut self, i: usize) -> Tok<'a> {
        let mut j = i + 1;
        while is_ident_cont(self.at(j)) {
            j += 1;
        }
        if matches!(self.at(j), b'\\' | b'`' | b'[' | b']') && self.at(j - 1) >= 0x80 {
            // A client encoding like SJIS or GBK reads the last byte of a
            // UTF-8 character and this byte as one character.
            return Tok::Write;
        }
        if self.p.family == Family::Postgres && j == i + 1 {
            match (self.at(i) | 0x20, self.at(j), self.at(j + 1)) {
                (b'e', b'\'', _) => return self.string(j, true, false),
                (b'b' | b'x', b'\'', _) => return self.string(j, false, false),
                (b'n', b'\'', _) => return self.string(j, self.p.backslash_in_single, true),
                (b'u', b'&', b'\'') => return self.string(j + 1, false, false),
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
                if self.at(j) == 0 && j < self.b.len() {
                    return Tok::Write; // a NUL byte
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

/// The end of the PostgreSQL operator starting at `i`, as `scan.l`
/// delimits it: the longest run of operator bytes, ended before `--` or
/// `/*`, without trailing `+`/`-` unless it holds one of `~!@#^&|`?%`.
pub(super) fn operator_end(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while is_operator(at(b, j))
        && at(b, j) != b'`'
        && !matches!((at(b, j), at(b, j + 1)), (b'-', b'-') | (b'/', b'*'))
    {
        j += 1;
    }
    let special = |c: &u8| {
        matches!(
            c,
            b'~' | b'!' | b'@' | b'#' | b'^' | b'&' | b'|' | b'`' | b'?' | b'%'
        )
    };
    if j - i > 1 && !b.get(i..j).unwrap_or_default().iter().any(special) {
        while j - i > 1 && matches!(at(b, j - 1), b'+' | b'-') {
            j -= 1;
        }
    }
    j
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each zero byte of `v` (exact up to the first zero byte).
#[inline]
const fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(ONES) & !v & HIGHS
}

/// The index of the first of the bytes `a`, `b` or `c` in `s` at or after
/// `from`, eight bytes at a time.
#[inline]
pub(super) fn find3(s: &[u8], mut from: usize, a: u8, b: u8, c: u8) -> Option<usize> {
    while let Some(chunk) = s.get(from..from + 8) {
        let v = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).ok()?);
        let hits = zero_bytes(v ^ (ONES * a as u64))
            | zero_bytes(v ^ (ONES * b as u64))
            | zero_bytes(v ^ (ONES * c as u64));
        if hits != 0 {
            return Some(from + (hits.trailing_zeros() / 8) as usize);
        }
        from += 8;
    }
    let tail = s.get(from..)?;
    tail.iter()
        .position(|&x| x == a || x == b || x == c)
        .map(|k| from + k)
}
