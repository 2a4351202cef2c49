//! The statement scan: one pass of one profile over the tokens, deciding
//! read, write or rejected. The state is a few integers and the last two
//! tokens, copied, never allocated; nesting is a counter, so the stack is
//! bounded for any input.

use super::catalog::{Catalog, judge};
use super::lexer::{Lexer, Tok};
use super::profile::{Family, FnSet, Profile, at};
use super::words::{
    Kw, PG_OPERATORS, contains, is_read_function, keyword, keyword_in, known_to_write, lower,
    may_write,
};

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
    /// A name in PostgreSQL attribute-notation position (`(x).f`, and so
    /// `(x).f.g`): a call of that name.
    attr: bool,
}

impl<'a> Last<'a> {
    const NONE: Self = Self::of(Tok::End);

    const fn of(tok: Tok<'a>) -> Self {
        Self {
            tok,
            kw: Kw::Other,
            not_callee: false,
            flag: false,
            attr: false,
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

/// What the scan knows beyond the built-in lists: the functions the
/// application declared read-only (sorted, lower case) and the server's
/// catalog.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Extra<'e> {
    pub(super) declared: &'e [Box<str>],
    pub(super) catalog: Option<&'e Catalog>,
}

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
        if !opens_read || (opening == Kw::Show && !show_reads(&lx)) {
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
                last.attr = self.attribute_position();
                if self.word_is_write(w, kw, last.attr, extra) || self.user_variable() {
                    return Some(Verdict::Write);
                }
                self.track_cte(kw, &mut last);
            }
            Tok::Quoted(q) => {
                last.attr = self.attribute_position();
                if self.quoted_is_write(q, last.attr, extra) || self.user_variable() {
                    return Some(Verdict::Write);
                }
                self.track_cte(Kw::Other, &mut last);
            }
            Tok::Literal => {
                if self.user_variable() {
                    return Some(Verdict::Write);
                }
            }
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
                // SQLite's `temp.t`: the connection's own temporary tables.
                if (self.prev.kw == Kw::Temp || self.prev.tok == Tok::Quoted(b"temp"))
                    && matches!(self.lx.p.functions, FnSet::Sqlite | FnSet::All)
                {
                    return Some(Verdict::Write);
                }
            }
            Tok::Punct(b':') => {
                let start = self.lx.start;
                last.flag = self.prev.tok == Tok::Punct(b':')
                    && start > 0
                    && at(self.lx_bytes(), start - 1) == b':';
            }
            Tok::Op(op) => {
                if self.operator_is_write(op, extra) {
                    return Some(Verdict::Write);
                }
                // `@@name` read by the PostgreSQL lexer (dialect-blind): the
                // trailing `@`s are MySQL's variable sigils.
                if let [.., before, b'@'] = *op
                    && self.lx.p.functions == FnSet::All
                {
                    self.prev2 = Last::of(if before == b'@' {
                        Tok::Punct(b'@')
                    } else {
                        tok
                    });
                    self.prev = Last::of(Tok::Punct(b'@'));
                    return None;
                }
            }
            Tok::Punct(c) => {
                if extra.catalog.is_some_and(|cat| cat.operator_writes(&[c])) {
                    return Some(Verdict::Write);
                }
            }
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
    fn word_is_write(&self, w: &[u8], kw: Kw, attr: bool, extra: Extra<'_>) -> bool {
        let write = match kw {
            Kw::Other => false,
            Kw::Returning => self.parens == 0,
            Kw::ShowScoped => {
                self.opening == Kw::Show && matches!(self.prev.kw, Kw::Show | Kw::Scope)
            }
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
        write
            || (self.prev.tok == Tok::Punct(b'.')
                && self.after_dot_is_write(w, kw, false, attr, extra))
            || self.session_system_variable(w, kw)
    }

    /// Whether a PostgreSQL operator of two or more bytes may write: one the
    /// catalog knows is judged by it, any other must be a known built-in.
    fn operator_is_write(&self, op: &[u8], extra: Extra<'_>) -> bool {
        match extra.catalog.filter(|c| c.operator_bits(op).is_some()) {
            Some(catalog) => catalog.operator_writes(op),
            None => !contains(PG_OPERATORS, op),
        }
    }

    /// Whether this name is in PostgreSQL attribute-notation position: after
    /// a `.` that follows an expression (`(x).f`, `a[1].f`, `$1.f`) or
    /// another such name (`(x).f.g` calls `g(f(x))`).
    fn attribute_position(&self) -> bool {
        self.prev.tok == Tok::Punct(b'.')
            && (self.prev2.attr
                || matches!(
                    self.prev2.tok,
                    Tok::Punct(b')') | Tok::Punct(b']') | Tok::Literal
                ))
    }

    /// MySQL `@name`, `@'name'`: a user variable, set on another connection.
    #[inline]
    fn user_variable(&self) -> bool {
        self.prev.tok == Tok::Punct(b'@')
            && self.prev2.tok != Tok::Punct(b'@')
            && (self.lx.p.family == Family::MySql || self.lx.p.functions == FnSet::All)
    }

    /// MySQL `@@name` and `@@session.name`: the session's value, unless the
    /// variable has no session scope (`@@version`, `@@port`, …).
    fn session_system_variable(&self, w: &[u8], kw: Kw) -> bool {
        if self.prev.tok != Tok::Punct(b'@') || self.prev2.tok != Tok::Punct(b'@') {
            return false;
        }
        if kw == Kw::Global {
            return false;
        }
        if kw == Kw::Scope {
            return true;
        }
        let mut buf = [0u8; 64];
        !lower(w, &mut buf).is_some_and(|name| contains(SERVER_VARIABLES, name))
    }

    /// Whether a quoted name makes the statement a write.
    fn quoted_is_write(&self, q: &[u8], attr: bool, extra: Extra<'_>) -> bool {
        // `EXPLAIN ("analyze")` runs the statement.
        if matches!(self.opening, Kw::Explain | Kw::Describe)
            && (q.eq_ignore_ascii_case(b"analyze") || q.eq_ignore_ascii_case(b"analyse"))
        {
            return true;
        }
        // `@@"name"` and `@@session."name"` (the keyword is looked up only
        // after a sigil or a scope, not for every quoted name).
        if self.is_system_variable()
            && (matches!(keyword(q), Kw::SessionVar | Kw::Write)
                || self.session_system_variable(q, keyword(q)))
        {
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
        self.after_dot_is_write(q, kw, true, attr, extra)
            || (kw == Kw::SessionVar && matches!(self.prev2.kw, Kw::Scope | Kw::Global))
    }

    /// MySQL `@@identity`, `@@session.warning_count`, `@ @insert_id`: the
    /// answer depends on the session's last statements.
    fn is_system_variable(&self) -> bool {
        self.prev.tok == Tok::Punct(b'@')
            || matches!(self.prev.tok, Tok::Op(op) if op.ends_with(b"@"))
            || (self.prev.tok == Tok::Punct(b'.')
                && matches!(self.prev2.kw, Kw::Scope | Kw::Global))
    }

    /// A name after `.`: a known writer is a write wherever it stands; in
    /// attribute-notation position it is a call and must read; and a name
    /// the server's catalog knows as a writing function is a write after
    /// any `.` (`t.archive` calls `archive(t)` when `t` has no such column).
    fn after_dot_is_write(
        &self,
        name: &[u8],
        kw: Kw,
        quoted: bool,
        attr: bool,
        extra: Extra<'_>,
    ) -> bool {
        (may_write(name) && known_to_write(name, kw))
            || (attr && !self.is_read_call(name, quoted, extra))
            || (self.lx.p.family == Family::Postgres
                && extra.catalog.is_some_and(|c| c.writer_named(name)))
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
            _ => !self.is_read_call(name, quoted, extra) && (quoted || !self.syntax_paren(name)),
        }
    }

    /// At `(` after the bare word `name` that is no read-only function: the
    /// few places where a keyword that could also name a user function
    /// takes `(` as syntax (`JOIN (`, `GROUP BY (`, `ROLLUP(`, `EXPLAIN (`,
    /// `AS MATERIALIZED (`, `character varying(`, `MEMBER OF (`).
    fn syntax_paren(&self, name: &[u8]) -> bool {
        let before: &[u8] = match self.prev2.tok {
            Tok::Word(w) => w,
            Tok::End if self.prev.kw == Kw::Explain => return true,
            Tok::Quoted(_) | Tok::Punct(b')') => return name.eq_ignore_ascii_case(b"join"),
            // `JSON_TABLE(doc, '$[*]' COLUMNS (…))`, `NESTED PATH '$.a' COLUMNS (…)`.
            Tok::Literal => return name.eq_ignore_ascii_case(b"columns"),
            _ => return false,
        };
        let is = |a: &[u8], b: &[u8]| a.eq_ignore_ascii_case(b);
        let any = |a: &[u8], list: &[&[u8]]| list.iter().any(|b| a.eq_ignore_ascii_case(b));
        if is(name, b"join") {
            // After a table, an alias or a join type; not after a word that
            // starts an expression (`WHERE x AND join(1)`).
            return self.prev2.kw == Kw::Other && !any(before, EXPRESSION_WORDS)
                || any(
                    before,
                    &[
                        b"inner", b"left", b"right", b"full", b"cross", b"natural", b"outer",
                    ],
                );
        }
        match name.len() {
            2 if is(name, b"by") => any(before, &[b"group", b"order", b"partition"]),
            2 if is(name, b"of") => is(before, b"member"),
            4 if is(name, b"cube") => is(before, b"by"),
            6 if is(name, b"rollup") => is(before, b"by"),
            4 if is(name, b"sets") => is(before, b"grouping"),
            7 if is(name, b"varying") => any(before, &[b"character", b"char", b"bit"]),
            12 if is(name, b"materialized") => self.prev2.kw == Kw::As || is(before, b"not"),
            // MySQL's table function: a stored function elsewhere on MariaDB.
            10 if is(name, b"json_table") => any(before, &[b"from", b"join"]),
            _ => false,
        }
    }

    /// Whether calling `name` reads: a built-in known to be read-only in
    /// this profile's dialect, or a function the application declared so,
    /// as the server's catalog (when known) confirms; or a function the
    /// catalog knows to read.
    fn is_read_call(&self, name: &[u8], quoted: bool, extra: Extra<'_>) -> bool {
        read_call(name, quoted, self.lx.p.functions, extra)
    }
}

/// Whether calling `name` reads in the function set `set`: a built-in
/// known to be read-only there, or a function the application declared so,
/// as the server's catalog (when known) confirms; or a function the catalog
/// knows to read.
pub(super) fn read_call(name: &[u8], quoted: bool, set: FnSet, extra: Extra<'_>) -> bool {
    let mut buf = [0u8; 64];
    let Some(lowered) = lower(name, &mut buf) else {
        return false;
    };
    // A quoted name is case-sensitive in PostgreSQL and SQLite looks it up
    // like a bare one: only a lower-case built-in name is that built-in. In
    // MySQL a quoted name is a stored function.
    let exact = !quoted
        || !(matches!(set, FnSet::MySql | FnSet::All) || name.iter().any(u8::is_ascii_uppercase));
    let allowed =
        exact && (is_read_function(lowered, set, quoted) || contains_str(extra.declared, lowered));
    match extra.catalog.and_then(|c| c.function_bits(lowered)) {
        Some(bits) => judge(bits, allowed),
        None => allowed,
    }
}

/// What `SHOW x` reads, for the PostgreSQL function sets: only settings that
/// no session can change are the same on a replica's connection; in the
/// dialect-blind set, MySQL's catalog listings too.
fn show_reads(lx: &Lexer<'_>) -> bool {
    let set = lx.p.functions;
    if !matches!(set, FnSet::Postgres | FnSet::All) {
        return true;
    }
    let Tok::Word(w) = lx.peek() else {
        return false;
    };
    let mut buf = [0u8; 64];
    lower(w, &mut buf).is_some_and(|w| {
        contains(SERVER_SETTINGS, w) || (set == FnSet::All && contains(MYSQL_SHOW_LISTINGS, w))
    })
}

/// PostgreSQL settings that a session cannot change (`internal` and
/// `postmaster` context): `SHOW` of one answers alike on every connection.
const SERVER_SETTINGS: &[&[u8]] = &[
    b"block_size",
    b"config_file",
    b"data_checksums",
    b"data_directory",
    b"hba_file",
    b"hot_standby",
    b"in_hot_standby",
    b"integer_datetimes",
    b"lc_collate",
    b"lc_ctype",
    b"listen_addresses",
    b"max_connections",
    b"max_function_args",
    b"max_identifier_length",
    b"max_index_keys",
    b"max_wal_senders",
    b"port",
    b"segment_size",
    b"server_encoding",
    b"server_version",
    b"server_version_num",
    b"shared_buffers",
    b"ssl_library",
    b"wal_block_size",
    b"wal_level",
    b"wal_segment_size",
];

/// What MySQL's `SHOW` lists from the catalog or the server, not the session.
const MYSQL_SHOW_LISTINGS: &[&[u8]] = &[
    b"binary",
    b"binlog",
    b"character",
    b"charset",
    b"collation",
    b"columns",
    b"create",
    b"databases",
    b"engine",
    b"engines",
    b"events",
    b"fields",
    b"full",
    b"function",
    b"global",
    b"grants",
    b"index",
    b"indexes",
    b"keys",
    b"master",
    b"open",
    b"plugins",
    b"privileges",
    b"procedure",
    b"processlist",
    b"replica",
    b"schemas",
    b"slave",
    b"storage",
    b"table",
    b"tables",
    b"triggers",
];

/// MySQL/MariaDB system variables without session scope, read through
/// `@@name`: the server's value on every connection.
const SERVER_VARIABLES: &[&[u8]] = &[
    b"basedir",
    b"datadir",
    b"gtid_binlog_pos",
    b"gtid_current_pos",
    b"gtid_executed",
    b"gtid_slave_pos",
    b"have_ssl",
    b"hostname",
    b"innodb_read_only",
    b"innodb_version",
    b"license",
    b"log_bin",
    b"lower_case_table_names",
    b"max_connections",
    b"pid_file",
    b"port",
    b"protocol_version",
    b"read_only",
    b"server_uuid",
    b"socket",
    b"system_time_zone",
    b"version",
    b"version_comment",
    b"version_compile_machine",
    b"version_compile_os",
];

/// Words after which `join(` would be a call, not a join.
const EXPRESSION_WORDS: &[&[u8]] = &[
    b"all",
    b"and",
    b"any",
    b"between",
    b"by",
    b"case",
    b"distinct",
    b"else",
    b"exists",
    b"from",
    b"having",
    b"ilike",
    b"is",
    b"like",
    b"limit",
    b"not",
    b"offset",
    b"on",
    b"or",
    b"return",
    b"set",
    b"some",
    b"then",
    b"using",
    b"when",
    b"where",
];

fn contains_str(list: &[Box<str>], name: &[u8]) -> bool {
    list.binary_search_by(|probe| probe.as_bytes().cmp(name))
        .is_ok()
}
