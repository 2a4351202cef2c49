//! The statement scan: one pass of one profile over the tokens, deciding
//! read, write or rejected. The state is a few integers and the last two
//! tokens, copied, never allocated; nesting is a counter, so the stack is
//! bounded for any input.

use super::lexer::{Lexer, Tok};
use super::profile::{FnSet, Profile, at};
use super::words::{Kw, is_read_function, keyword, keyword_in, known_to_write, lower, may_write};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Read,
    Write,
    /// This dialect would refuse the text before running any of it.
    Rejected,
}

/// A token the scan looks back at.
#[derive(Clone, Copy, Debug)]
struct Last<'a> {
    tok: Tok<'a>,
    kw: Kw,
    /// A name whose `(` opens a column list, not a call (a CTE name).
    not_callee: bool,
    /// A `.` after `pg_catalog`, or the second `:` of `::`.
    flag: bool,
}

impl<'a> Last<'a> {
    const NONE: Self = Self::of(Tok::End);

    const fn of(tok: Tok<'a>) -> Self {
        Self {
            tok,
            kw: Kw::Other,
            not_callee: false,
            flag: false,
        }
    }
}

/// One profile's scan of one statement; `Copy`, so that another profile can
/// resume from the point where the readings may start to differ.
#[derive(Clone, Copy, Debug)]
pub(super) struct Scan<'a> {
    lx: Lexer<'a>,
    opening: Kw,
    parens: usize,
    brackets: usize,
    ended: bool,
    prev: Last<'a>,
    prev2: Last<'a>,
    /// The parenthesis depth of the `WITH` list being read.
    cte: Option<usize>,
    /// The next name is a CTE name.
    cte_name_next: bool,
}

/// Functions the application declared read-only: sorted, lower case.
pub(super) type Extra<'e> = &'e [Box<str>];

impl<'a> Scan<'a> {
    /// Read up to the first keyword; `Err` if it does not open a read.
    pub(super) fn start(sql: &'a [u8], p: Profile) -> Result<Self, Verdict> {
        let mut lx = Lexer::new(sql, p);
        let mut parens = 0usize;
        let first = loop {
            match lx.next() {
                Tok::Punct(b'(') => parens += 1,
                Tok::Word(w) => break w,
                Tok::Rejected => return Err(Verdict::Rejected),
                _ => return Err(Verdict::Write),
            }
        };
        let opening = keyword(first);
        let opens_read = match opening {
            Kw::Select | Kw::With | Kw::Values | Kw::Table => true,
            // `SHOW`, `EXPLAIN` and `DESCRIBE` cannot be parenthesised.
            Kw::Show | Kw::Explain | Kw::Describe => parens == 0,
            _ => false,
        };
        if !opens_read {
            return Err(Verdict::Write);
        }
        let with = opening == Kw::With;
        Ok(Self {
            lx,
            opening,
            parens,
            brackets: 0,
            ended: false,
            prev: Last {
                kw: opening,
                ..Last::of(Tok::Word(first))
            },
            prev2: Last::NONE,
            cte: with.then_some(parens),
            cte_name_next: with,
        })
    }

    /// Scan to the end. With `snapshot`, also return the state just before
    /// the first literal whose backslash the dialect's other profiles read
    /// differently, rewound to that literal, for them to resume from.
    pub(super) fn run(&mut self, extra: Extra<'_>, snapshot: bool) -> (Verdict, Option<Self>) {
        let mut snap = None;
        loop {
            let tok = self.lx.next();
            if snapshot && self.lx.backslash && snap.is_none() {
                let mut s = *self;
                s.lx.i = s.lx.start;
                s.lx.backslash = false;
                snap = Some(s);
            }
            if let Some(verdict) = self.step(tok, extra) {
                return (verdict, snap);
            }
        }
    }

    /// Resume from a snapshot under another profile of the same dialect.
    pub(super) fn resume(mut self, p: Profile, extra: Extra<'_>) -> Verdict {
        self.lx.p = p;
        self.run(extra, false).0
    }

    /// One token; `Some` once the verdict is known.
    fn step(&mut self, tok: Tok<'a>, extra: Extra<'_>) -> Option<Verdict> {
        if self.ended && tok != Tok::End {
            return Some(Verdict::Write); // a second statement
        }
        // `REPLACE` is the string function only when called.
        if self.prev.kw == Kw::Replace && tok != Tok::Punct(b'(') {
            return Some(Verdict::Write);
        }
        let mut last = Last::of(tok);
        match tok {
            Tok::Word(w) => {
                let kw = keyword_in(w, self.lx.tail_of(w));
                last.kw = kw;
                if self.word_is_write(w, kw, extra) {
                    return Some(Verdict::Write);
                }
                self.track_cte(kw, &mut last);
            }
            Tok::Quoted(q) => {
                if self.quoted_is_write(q, extra) {
                    return Some(Verdict::Write);
                }
                self.track_cte(Kw::Other, &mut last);
            }
            Tok::Literal => {}
            Tok::Punct(b'(') => {
                if self.call_is_write(extra) {
                    return Some(Verdict::Write);
                }
                // A parenthesised main query after the CTE list.
                if self.cte == Some(self.parens) && self.prev.tok == Tok::Punct(b')') {
                    self.cte = None;
                }
                self.parens += 1;
            }
            Tok::Punct(b')') => {
                if self.parens == 0 {
                    return Some(Verdict::Write);
                }
                self.parens -= 1;
                if self.cte.is_some_and(|depth| self.parens < depth) {
                    self.cte = None;
                }
            }
            Tok::Punct(b'[') => self.brackets += 1,
            Tok::Punct(b']') => {
                if self.brackets == 0 {
                    return Some(Verdict::Write);
                }
                self.brackets -= 1;
            }
            Tok::Punct(b';') => {
                if self.parens != 0 || self.brackets != 0 {
                    return Some(Verdict::Write);
                }
                self.ended = true;
            }
            Tok::Punct(b',') => {
                if self.cte == Some(self.parens) && self.prev.tok == Tok::Punct(b')') {
                    self.cte_name_next = true;
                }
            }
            Tok::Punct(b'.') => {
                last.flag =
                    self.prev.kw == Kw::PgCatalog || self.prev.tok == Tok::Quoted(b"pg_catalog");
            }
            Tok::Punct(b':') => {
                let start = self.lx.start;
                last.flag = self.prev.tok == Tok::Punct(b':')
                    && start > 0
                    && at(self.lx_bytes(), start - 1) == b':';
            }
            Tok::Punct(_) => {}
            Tok::Write | Tok::Assign => return Some(Verdict::Write),
            Tok::Rejected => return Some(Verdict::Rejected),
            Tok::End => {
                return Some(if self.parens == 0 && self.brackets == 0 {
                    Verdict::Read
                } else {
                    Verdict::Write
                });
            }
        }
        self.prev2 = self.prev;
        self.prev = last;
        None
    }

    fn lx_bytes(&self) -> &'a [u8] {
        self.lx.bytes()
    }

    /// CTE names: after `WITH [RECURSIVE]` opening a query, and after `,`
    /// following a CTE body; the list ends at the main query.
    fn track_cte(&mut self, kw: Kw, last: &mut Last<'a>) {
        if kw == Kw::With
            && (self.prev.tok == Tok::Punct(b'(')
                || (self.prev.kw == Kw::Explain && self.prev2.tok == Tok::End))
        {
            self.cte = Some(self.parens);
            self.cte_name_next = true;
            return;
        }
        if self.cte_name_next {
            if kw == Kw::Recursive && self.prev.kw == Kw::With {
                return;
            }
            last.not_callee = true;
            self.cte_name_next = false;
            return;
        }
        if self.cte == Some(self.parens)
            && matches!(kw, Kw::Select | Kw::Values | Kw::Table | Kw::Search)
        {
            self.cte = None;
        }
    }

    /// Whether a bare word makes the statement a write.
    fn word_is_write(&self, w: &[u8], kw: Kw, extra: Extra<'_>) -> bool {
        let write = match kw {
            Kw::Other => false,
            // A lone word in brackets outside SQLite (`a[update]`): an array
            // subscript or a syntax error, never a lock or a write.
            Kw::Write => !(self.prev.tok == Tok::Punct(b'[') && self.lx.peek() == Tok::Punct(b']')),
            Kw::Create => self.prev.kw != Kw::Show,
            Kw::Share => matches!(self.prev.kw, Kw::For | Kw::Key | Kw::In),
            Kw::Value => matches!(self.prev.kw, Kw::Next | Kw::Previous),
            Kw::SessionVar => self.is_system_variable(),
            Kw::ShowSession => self.opening == Kw::Show,
            _ => false,
        };
        write || (self.prev.tok == Tok::Punct(b'.') && self.after_dot_is_write(w, kw, false, extra))
    }

    /// Whether a quoted name makes the statement a write.
    fn quoted_is_write(&self, q: &[u8], extra: Extra<'_>) -> bool {
        // `EXPLAIN ("analyze")` runs the statement.
        if matches!(self.opening, Kw::Explain | Kw::Describe)
            && (q.eq_ignore_ascii_case(b"analyze") || q.eq_ignore_ascii_case(b"analyse"))
        {
            return true;
        }
        if self.prev.tok == Tok::Punct(b'@') && matches!(keyword(q), Kw::SessionVar | Kw::Write) {
            return true;
        }
        // SQLite's table-valued pragmas run when named, quoted or not
        // (`FROM "pragma_optimize"`).
        if q.len() > 7
            && q.get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"pragma_"))
            && keyword(q) == Kw::Write
        {
            return true;
        }
        if self.prev.tok != Tok::Punct(b'.') {
            return false;
        }
        let kw = if may_write(q) {
            keyword_in(q, self.lx.tail_of(q))
        } else {
            Kw::Other
        };
        self.after_dot_is_write(q, kw, true, extra)
            || (kw == Kw::SessionVar && self.prev2.kw == Kw::Scope)
    }

    /// MySQL `@@identity`, `@@session.warning_count`, `@ @insert_id`: the
    /// answer depends on the session's last statements.
    fn is_system_variable(&self) -> bool {
        self.prev.tok == Tok::Punct(b'@')
            || (self.prev.tok == Tok::Punct(b'.') && self.prev2.kw == Kw::Scope)
    }

    /// A name after `.`: a known writer is a write wherever it stands, and
    /// after `)` (or `]`, or a parameter) it is a PostgreSQL attribute-notation
    /// call, `(x).f` = `f(x)`.
    fn after_dot_is_write(&self, name: &[u8], kw: Kw, quoted: bool, extra: Extra<'_>) -> bool {
        // `(x).f`, `(a)[1].f`, `$1.f`: the argument is an expression.
        let attribute = matches!(
            self.prev2.tok,
            Tok::Punct(b')') | Tok::Punct(b']') | Tok::Literal
        );
        (may_write(name) && known_to_write(name, kw))
            || (attribute && !self.is_read_call(name, quoted, extra))
    }

    /// At `(`: whether the name before it is a call that may write.
    fn call_is_write(&self, extra: Extra<'_>) -> bool {
        let (name, quoted) = match self.prev.tok {
            Tok::Word(w) => (w, false),
            Tok::Quoted(q) => (q, true),
            _ => return false,
        };
        if self.prev.not_callee {
            return false;
        }
        match self.prev2.tok {
            // `CAST(x AS varchar(10))`, `AS t(a, b)`, `x::numeric(10, 2)` and
            // `f(x) t(a)`: a type modifier or a column list, not a call.
            Tok::Word(_) if self.prev2.kw == Kw::As => false,
            Tok::Punct(b':') if self.prev2.flag => false,
            Tok::Punct(b')') => false,
            // A qualified name: only `pg_catalog.` names a built-in for sure.
            Tok::Punct(b'.') => {
                !(self.prev2.flag
                    && self.lx.p.functions == FnSet::Postgres
                    && self.is_read_call(name, quoted, extra))
            }
            _ => !self.is_read_call(name, quoted, extra),
        }
    }

    /// Whether calling `name` reads: a built-in known to be read-only in
    /// this profile's dialect, or a function the application declared so.
    fn is_read_call(&self, name: &[u8], quoted: bool, extra: Extra<'_>) -> bool {
        let set = self.lx.p.functions;
        let mut buf = [0u8; 64];
        let name = if quoted {
            // A quoted name is case-sensitive in PostgreSQL and SQLite looks
            // it up like a bare one: only a lower-case built-in name is that
            // built-in. In MySQL a quoted name is a stored function.
            if matches!(set, FnSet::MySql | FnSet::All) || name.iter().any(u8::is_ascii_uppercase) {
                return false;
            }
            name
        } else {
            match lower(name, &mut buf) {
                Some(name) => name,
                None => return false,
            }
        };
        is_read_function(name, set) || contains_str(extra, name)
    }
}

fn contains_str(list: &[Box<str>], name: &[u8]) -> bool {
    list.binary_search_by(|probe| probe.as_bytes().cmp(name))
        .is_ok()
}
