//! Replication positions: how far a server has applied its primary's
//! changes, in each backend's own terms, and whether one position has
//! reached another.
//!
//! * PostgreSQL: a WAL LSN (`pg_current_wal_lsn()` on the primary,
//!   `pg_last_wal_replay_lsn()` on a replica), totally ordered;
//! * MariaDB: a GTID list, one `domain-server-seq` per replication domain
//!   (`@@gtid_binlog_pos`, `@@gtid_slave_pos`); a position has reached
//!   another when it is at least as far in every domain of the other;
//! * MySQL: a GTID set, `uuid:intervals` per source (`@@gtid_executed`);
//!   reached when it contains the other.
//!
//! ```
//! use multidb_core::position::Position;
//!
//! let primary = Position::parse_mariadb("0-1-42,1-2-7").unwrap();
//! let replica = Position::parse_mariadb("0-1-40,1-2-7").expect("valid position");
//! assert!(!replica.reached(&primary));
//! assert!(primary.reached(&replica));
//!
//! let lsn = Position::parse_pg_lsn("0/16B3748").expect("valid position");
//! assert_eq!(lsn.to_string(), "0/16B3748");
//! ```

use std::fmt;

/// A replication position (see the [module](self) docs).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Position {
    /// PostgreSQL WAL location, in bytes.
    Lsn(u64),
    /// MariaDB GTID list, sorted by domain, one entry per domain.
    MariaDb(Vec<MariaGtid>),
    /// MySQL GTID set, sorted by source; intervals sorted and disjoint.
    MySql(Vec<MySqlSource>),
}

/// One MariaDB GTID: `domain-server-seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MariaGtid {
    /// Replication domain.
    pub domain: u32,
    /// Server that wrote it.
    pub server: u32,
    /// Sequence number within the domain.
    pub seq: u64,
}

/// The transactions of one MySQL source: `uuid[:tag]:a-b:c-d…`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MySqlSource {
    /// The source UUID (lower case), with its tag if any.
    pub source: String,
    /// Inclusive intervals of transaction numbers.
    pub intervals: Vec<(u64, u64)>,
}

/// A position string that is not in the backend's format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PositionParseError {
    what: &'static str,
    input: String,
}

impl fmt::Display for PositionParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a {}: {:?}", self.what, self.input)
    }
}

impl std::error::Error for PositionParseError {}

fn error(what: &'static str, input: &str) -> PositionParseError {
    // At most 80 bytes of it, cut on a character boundary.
    let end = (0..=input.len().min(80))
        .rev()
        .find(|&i| input.is_char_boundary(i))
        .unwrap_or(0);
    PositionParseError {
        what,
        input: input[..end].to_owned(),
    }
}

impl Position {
    /// A PostgreSQL LSN in its text form, `X/Y` (hex).
    pub fn parse_pg_lsn(text: &str) -> Result<Position, PositionParseError> {
        let bad = || error("PostgreSQL LSN (X/Y in hex)", text);
        let (hi, lo) = text.trim().split_once('/').ok_or_else(bad)?;
        let hex = |s: &str| {
            (!s.is_empty() && s.len() <= 8)
                .then(|| u32::from_str_radix(s, 16).ok())
                .flatten()
        };
        let (hi, lo) = (hex(hi).ok_or_else(bad)?, hex(lo).ok_or_else(bad)?);
        Ok(Position::Lsn(u64::from(hi) << 32 | u64::from(lo)))
    }

    /// A MariaDB GTID list, `d-s-n[,d-s-n…]` (empty: nothing applied yet).
    pub fn parse_mariadb(text: &str) -> Result<Position, PositionParseError> {
        let bad = || {
            error(
                "MariaDB GTID list (domain-server-seq, comma separated)",
                text,
            )
        };
        let mut gtids: Vec<MariaGtid> = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut fields = part.split('-');
            let (Some(d), Some(s), Some(n), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err(bad());
            };
            let gtid = MariaGtid {
                domain: d.parse().map_err(|_| bad())?,
                server: s.parse().map_err(|_| bad())?,
                seq: n.parse().map_err(|_| bad())?,
            };
            if gtids.iter().any(|g| g.domain == gtid.domain) {
                return Err(bad());
            }
            gtids.push(gtid);
        }
        gtids.sort_by_key(|g| g.domain);
        Ok(Position::MariaDb(gtids))
    }

    /// A MySQL GTID set, `uuid[:tag]:a[-b][:c[-d]…][,…]` (whitespace and
    /// newlines allowed, as `@@gtid_executed` prints them).
    pub fn parse_mysql(text: &str) -> Result<Position, PositionParseError> {
        let bad = || {
            error(
                "MySQL GTID set (uuid:interval[:interval…], comma separated)",
                text,
            )
        };
        let mut sources: Vec<MySqlSource> = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut fields = part.split(':').map(str::trim);
            let uuid = fields.next().ok_or_else(bad)?.to_ascii_lowercase();
            if uuid.len() != 36 || !uuid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
                return Err(bad());
            }
            let mut source = uuid;
            let mut intervals = Vec::new();
            for field in fields {
                if field.starts_with(|c: char| c.is_ascii_digit()) {
                    let (a, b) = field.split_once('-').unwrap_or((field, field));
                    let (a, b): (u64, u64) =
                        (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                    if a == 0 || b < a {
                        return Err(bad());
                    }
                    intervals.push((a, b));
                } else if intervals.is_empty() && !field.is_empty() {
                    // A tag (MySQL 8.4): part of the source's name.
                    source.push(':');
                    source.push_str(&field.to_ascii_lowercase());
                } else {
                    return Err(bad());
                }
            }
            match sources.iter_mut().find(|s| s.source == source) {
                Some(existing) => existing.intervals.extend(intervals),
                None => sources.push(MySqlSource { source, intervals }),
            }
        }
        for source in &mut sources {
            source.intervals = merge(std::mem::take(&mut source.intervals));
        }
        sources.sort_by(|a, b| a.source.cmp(&b.source));
        Ok(Position::MySql(sources))
    }

    /// Whether this position includes everything `target` includes: a
    /// replica at `self` can serve a read that must see `target`.
    /// Positions of different backends never reach each other.
    pub fn reached(&self, target: &Position) -> bool {
        match (self, target) {
            (Position::Lsn(have), Position::Lsn(want)) => have >= want,
            (Position::MariaDb(have), Position::MariaDb(want)) => want
                .iter()
                .all(|w| have.iter().any(|h| h.domain == w.domain && h.seq >= w.seq)),
            (Position::MySql(have), Position::MySql(want)) => want.iter().all(|w| {
                let Some(h) = have.iter().find(|h| h.source == w.source) else {
                    return w.intervals.is_empty();
                };
                w.intervals
                    .iter()
                    .all(|&(a, b)| h.intervals.iter().any(|&(c, d)| c <= a && b <= d))
            }),
            _ => false,
        }
    }

    /// The least position that has reached both `self` and `other`: the
    /// larger LSN; per MariaDB domain the larger sequence number; the union
    /// of two MySQL GTID sets. `None` for positions of different backends,
    /// which no server reaches together.
    ///
    /// ```
    /// use multidb_core::position::Position;
    ///
    /// let a = Position::parse_mariadb("0-1-42,1-2-7").expect("valid position");
    /// let b = Position::parse_mariadb("0-1-40,2-3-5").expect("valid position");
    /// let both = a.join(&b).expect("one backend");
    /// assert_eq!(both.to_string(), "0-1-42,1-2-7,2-3-5");
    /// assert!(both.reached(&a) && both.reached(&b));
    /// assert_eq!(Position::Lsn(1).join(&both), None);
    /// ```
    pub fn join(&self, other: &Position) -> Option<Position> {
        match (self, other) {
            (Position::Lsn(a), Position::Lsn(b)) => Some(Position::Lsn(*a.max(b))),
            (Position::MariaDb(a), Position::MariaDb(b)) => {
                let mut gtids = a.clone();
                for gtid in b {
                    match gtids.iter_mut().find(|g| g.domain == gtid.domain) {
                        Some(have) if have.seq >= gtid.seq => {}
                        Some(have) => *have = *gtid,
                        None => gtids.push(*gtid),
                    }
                }
                gtids.sort_by_key(|g| g.domain);
                Some(Position::MariaDb(gtids))
            }
            (Position::MySql(a), Position::MySql(b)) => {
                let mut sources = a.clone();
                for source in b {
                    match sources.iter_mut().find(|s| s.source == source.source) {
                        Some(have) => {
                            have.intervals.extend_from_slice(&source.intervals);
                            have.intervals = merge(std::mem::take(&mut have.intervals));
                        }
                        None => sources.push(source.clone()),
                    }
                }
                sources.sort_by(|a, b| a.source.cmp(&b.source));
                Some(Position::MySql(sources))
            }
            _ => None,
        }
    }

    /// How many bytes of WAL `self` is behind `ahead` (PostgreSQL only).
    pub fn bytes_behind(&self, ahead: &Position) -> Option<u64> {
        match (self, ahead) {
            (Position::Lsn(have), Position::Lsn(want)) => Some(want.saturating_sub(*have)),
            _ => None,
        }
    }
}

/// Sort and merge overlapping or adjacent intervals.
fn merge(mut intervals: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    intervals.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(intervals.len());
    for (a, b) in intervals {
        match merged.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

impl fmt::Display for Position {
    /// The backend's own text form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Lsn(lsn) => write!(f, "{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF),
            Position::MariaDb(gtids) => {
                for (i, g) in gtids.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "," };
                    write!(f, "{sep}{}-{}-{}", g.domain, g.server, g.seq)?;
                }
                Ok(())
            }
            Position::MySql(sources) => {
                for (i, s) in sources.iter().enumerate() {
                    f.write_str(if i == 0 { "" } else { "," })?;
                    f.write_str(&s.source)?;
                    for &(a, b) in &s.intervals {
                        if a == b {
                            write!(f, ":{a}")?;
                        } else {
                            write!(f, ":{a}-{b}")?;
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsn_round_trips_and_orders() {
        for text in ["0/0", "0/16B3748", "1/0", "FFFFFFFF/FFFFFFFF"] {
            assert_eq!(
                Position::parse_pg_lsn(text)
                    .expect("valid position")
                    .to_string(),
                text
            );
        }
        let a = Position::parse_pg_lsn("0/16B3748").expect("valid position");
        let b = Position::parse_pg_lsn("1/0").expect("valid position");
        assert!(b.reached(&a) && !a.reached(&b) && a.reached(&a));
        assert_eq!(a.bytes_behind(&b), Some((1 << 32) - 0x16B3748));
        for bad in ["", "0", "x/1", "0/", "/0", "123456789/0", "0/-1", "0/1/2"] {
            assert!(Position::parse_pg_lsn(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn mariadb_lists_compare_per_domain() {
        let p = |s| Position::parse_mariadb(s).expect("valid position");
        assert_eq!(p("1-2-7, 0-1-42").to_string(), "0-1-42,1-2-7");
        assert!(p("0-1-42,1-2-7").reached(&p("0-1-42")));
        assert!(!p("0-1-42").reached(&p("0-1-42,1-2-7")), "domain 1 missing");
        assert!(
            p("0-9-50").reached(&p("0-1-42")),
            "server id is not compared"
        );
        assert!(p("").reached(&p("")));
        assert!(p("0-1-1").reached(&p("")));
        assert!(!p("").reached(&p("0-1-1")));
        for bad in ["0-1", "0-1-2-3", "a-1-2", "0-1-2,0-1-3", "-1-2-3"] {
            assert!(Position::parse_mariadb(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn mysql_sets_compare_by_inclusion() {
        let u1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        let u2 = "4E11FA47-71CA-11E1-9E33-C80AA9429562";
        let p = |s: &str| Position::parse_mysql(s).expect("valid position");
        let have = p(&format!("{u1}:1-5:7-9,\n{u2}:1-3"));
        assert!(have.reached(&p(&format!("{u1}:3-5"))));
        assert!(have.reached(&p(&format!("{u1}:8"))));
        assert!(!have.reached(&p(&format!("{u1}:6"))));
        assert!(!have.reached(&p(&format!("{u1}:9-10"))));
        assert!(have.reached(&p(&format!("{}:2", u2.to_lowercase()))));
        assert!(have.reached(&p("")));
        assert_eq!(
            p(&format!("{u1}:1-3:4-5:5")).to_string(),
            format!("{u1}:1-5")
        );
        assert_eq!(
            p(&format!("{u1}:tag:1-2")).to_string(),
            format!("{u1}:tag:1-2")
        );
        for bad in [
            "x:1",
            &format!("{u1}:0"),
            &format!("{u1}:5-3"),
            &format!("{u1}:1:tag"),
        ] {
            assert!(Position::parse_mysql(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn join_is_the_least_position_reaching_both() {
        let check = |a: &Position, b: &Position, expected: &str| {
            let joined = a.join(b).expect("one backend");
            assert_eq!(joined.to_string(), expected, "{a} + {b}");
            assert!(joined.reached(a) && joined.reached(b), "{joined}");
            assert_eq!(b.join(a).as_ref(), Some(&joined), "commutes");
            assert_eq!(joined.join(a).as_ref(), Some(&joined), "idempotent");
        };
        let lsn = |s| Position::parse_pg_lsn(s).expect("valid position");
        check(&lsn("0/16B3748"), &lsn("1/0"), "1/0");
        check(&lsn("1/0"), &lsn("1/0"), "1/0");

        let mdb = |s| Position::parse_mariadb(s).expect("valid position");
        check(&mdb("0-1-42,1-2-7"), &mdb("0-3-40,1-2-9"), "0-1-42,1-2-9");
        check(&mdb("1-2-7"), &mdb("0-1-3"), "0-1-3,1-2-7");
        check(&mdb(""), &mdb("0-1-3"), "0-1-3");
        // Neither list reaches the other; the join reaches both.
        let (a, b) = (mdb("0-1-5,1-1-1"), mdb("0-1-1,1-1-5"));
        assert!(!a.reached(&b) && !b.reached(&a));
        check(&a, &b, "0-1-5,1-1-5");

        let u1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        let u2 = "4e11fa47-71ca-11e1-9e33-c80aa9429562";
        let my = |s: &str| Position::parse_mysql(s).expect("valid position");
        check(
            &my(&format!("{u1}:1-5")),
            &my(&format!("{u1}:6-7:9,{u2}:1")),
            &format!("{u1}:1-7:9,{u2}:1"),
        );
        check(
            &my(&format!("{u2}:3")),
            &my(&format!("{u1}:tag:1")),
            &format!("{u1}:tag:1,{u2}:3"),
        );
        check(&my(""), &my(&format!("{u1}:2")), &format!("{u1}:2"));

        assert_eq!(lsn("1/0").join(&mdb("0-1-1")), None);
        assert_eq!(my("").join(&mdb("")), None);
    }

    #[test]
    fn backends_never_reach_each_other() {
        let lsn = Position::Lsn(u64::MAX);
        let gtid = Position::parse_mariadb("").expect("valid position");
        assert!(!lsn.reached(&gtid) && !gtid.reached(&lsn));
        assert_eq!(gtid.bytes_behind(&lsn), None);
    }
}

/// Where the writes of a scope reached on the primary: what a later read
/// must see. Opaque and compact, tagged with the cluster it belongs to;
/// its text form ([`Display`](fmt::Display) / [`FromStr`](std::str::FromStr))
/// uses only `[0-9A-Za-z.~-]`, so it fits a cookie, a header, a URL or any
/// job payload.
///
/// ```
/// use multidb_core::position::{Position, WritePosition};
///
/// let position = WritePosition::new(0x5eed, Position::Lsn(0x16B3748));
/// let text = position.to_string();
/// assert_eq!(text, "v1.0000000000005eed.pg.16b3748");
/// assert_eq!(text.parse::<WritePosition>().unwrap(), position);
/// assert!("v1.nonsense".parse::<WritePosition>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WritePosition {
    cluster: u64,
    position: Position,
}

impl WritePosition {
    /// `position` on the cluster whose identity hashes to `cluster` (see
    /// [`cluster_id`]).
    pub fn new(cluster: u64, position: Position) -> Self {
        WritePosition { cluster, position }
    }

    /// The cluster's identity.
    pub fn cluster(&self) -> u64 {
        self.cluster
    }

    /// The replication position.
    pub fn position(&self) -> &Position {
        &self.position
    }

    /// The least position that has reached both `self` and `other`
    /// ([`Position::join`]): what a read that must see both waits for.
    /// `None` for positions of different clusters or backends, which no
    /// server reaches together.
    ///
    /// ```
    /// use multidb_core::position::{Position, WritePosition};
    ///
    /// let older = WritePosition::new(7, Position::Lsn(0x100));
    /// let newer = WritePosition::new(7, Position::Lsn(0x200));
    /// assert_eq!(older.join(&newer), Some(newer.clone()));
    /// assert_eq!(older.join(&WritePosition::new(8, Position::Lsn(0x200))), None);
    /// ```
    pub fn join(&self, other: &WritePosition) -> Option<WritePosition> {
        if self.cluster != other.cluster {
            return None;
        }
        let position = self.position.join(&other.position)?;
        Some(WritePosition::new(self.cluster, position))
    }

    /// Whether a server at `position` of cluster `cluster` has this.
    pub fn reached_by(&self, cluster: u64, position: &Position) -> bool {
        self.cluster == cluster && position.reached(&self.position)
    }
}

/// A stable 64-bit identity for a cluster, from what identifies it
/// (PostgreSQL's `system_identifier`; MariaDB/MySQL the primary's host, port
/// and server id or uuid). FNV-1a: the same everywhere, across processes.
pub fn cluster_id(identity: &str) -> u64 {
    identity.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A [`WritePosition`] that could not be read back from text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WritePositionError {
    reason: &'static str,
}

impl fmt::Display for WritePositionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not a multidb write position ({}); it is the text of a WritePosition, \
             e.g. v1.<cluster>.pg.<lsn>",
            self.reason
        )
    }
}

impl std::error::Error for WritePositionError {}

impl fmt::Display for WritePosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v1.{:016x}.", self.cluster)?;
        match &self.position {
            Position::Lsn(lsn) => write!(f, "pg.{lsn:x}"),
            Position::MariaDb(gtids) => {
                f.write_str("mdb.")?;
                for (i, g) in gtids.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "~" };
                    write!(f, "{sep}{}-{}-{}", g.domain, g.server, g.seq)?;
                }
                Ok(())
            }
            Position::MySql(_) => {
                // The GTID set's own text, with `,` and `:` (not token-safe)
                // as `~` and `.` (neither occurs in uuids, tags or numbers).
                let text = self.position.to_string();
                write!(f, "my.{}", text.replace(',', "~").replace(':', "."))
            }
        }
    }
}

impl std::str::FromStr for WritePosition {
    type Err = WritePositionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |reason| WritePositionError { reason };
        if text.len() > 4096 {
            return Err(bad("too long"));
        }
        let rest = text.strip_prefix("v1.").ok_or(bad("no v1. prefix"))?;
        let (cluster, rest) = rest.split_once('.').ok_or(bad("no cluster"))?;
        if cluster.len() != 16 {
            return Err(bad("the cluster is not 16 hex digits"));
        }
        let cluster =
            u64::from_str_radix(cluster, 16).map_err(|_| bad("the cluster is not hex"))?;
        let (kind, body) = rest.split_once('.').ok_or(bad("no kind"))?;
        let position = match kind {
            "pg" if !body.is_empty() && body.len() <= 16 => {
                Position::Lsn(u64::from_str_radix(body, 16).map_err(|_| bad("the LSN is not hex"))?)
            }
            "mdb" => Position::parse_mariadb(&body.replace('~', ","))
                .map_err(|_| bad("not a MariaDB GTID list"))?,
            "my" => Position::parse_mysql(&body.replace('~', ",").replace('.', ":"))
                .map_err(|_| bad("not a MySQL GTID set"))?,
            _ => return Err(bad("unknown kind")),
        };
        Ok(WritePosition { cluster, position })
    }
}

#[cfg(test)]
mod write_position_tests {
    use super::*;

    #[test]
    fn round_trips_through_text_with_cookie_safe_characters() {
        let positions = [
            WritePosition::new(1, Position::Lsn(0)),
            WritePosition::new(u64::MAX, Position::Lsn(u64::MAX)),
            WritePosition::new(7, Position::parse_mariadb("0-1-42,1-2-7").expect("gtid")),
            WritePosition::new(7, Position::parse_mariadb("").expect("gtid")),
            WritePosition::new(
                9,
                Position::parse_mysql("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,4e11fa47-71ca-11e1-9e33-c80aa9429562:3")
                    .expect("gtid set"),
            ),
        ];
        for position in positions {
            let text = position.to_string();
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".~-".contains(&b)),
                "{text}"
            );
            assert_eq!(text.parse::<WritePosition>(), Ok(position), "{text}");
        }
    }

    #[test]
    fn malformed_text_is_refused() {
        for text in [
            "",
            "v2.0000000000000001.pg.1",
            "v1.1.pg.1",
            "v1.000000000000000g.pg.1",
            "v1.0000000000000001.pg.",
            "v1.0000000000000001.pg.xyz",
            "v1.0000000000000001.pg.11111111111111111",
            "v1.0000000000000001.mdb.0-1",
            "v1.0000000000000001.zz.1",
            "v1.0000000000000001",
        ] {
            assert!(text.parse::<WritePosition>().is_err(), "{text:?}");
        }
        assert!("v1.".repeat(2000).parse::<WritePosition>().is_err());
        // Found by the position_token fuzzer: a multi-byte character across
        // the 80-byte cut of the error message panicked.
        let crash = "v1.0000000000000009.my.3e11a5-87f1ca-11e1-9e33-c80aa9429562.1-5.7~4e11fa47-71ca-11e1-9E33-c80aa9429562\u{48e}a-71";
        assert!(crash.parse::<WritePosition>().is_err());
        for text in ["é".repeat(100), format!("{}é", "x".repeat(79))] {
            assert!(Position::parse_mysql(&text).is_err());
            assert!(Position::parse_mariadb(&text).is_err());
            assert!(Position::parse_pg_lsn(&text).is_err());
        }
    }

    #[test]
    fn joins_stay_within_one_cluster() {
        let mdb = |s| Position::parse_mariadb(s).expect("valid position");
        let a = WritePosition::new(1, mdb("0-1-9,1-1-2"));
        let b = WritePosition::new(1, mdb("0-1-3,1-1-8"));
        let both = a.join(&b).expect("one cluster");
        assert_eq!(both, WritePosition::new(1, mdb("0-1-9,1-1-8")));
        assert!(
            !both.reached_by(1, a.position()),
            "a alone is behind in domain 1"
        );
        assert!(a.reached_by(1, both.position()) && b.reached_by(1, both.position()));
        assert_eq!(a.join(&WritePosition::new(2, mdb("0-1-9"))), None);
        assert_eq!(a.join(&WritePosition::new(1, Position::Lsn(9))), None);
    }

    #[test]
    fn positions_of_another_cluster_are_never_reached() {
        let position = WritePosition::new(1, Position::Lsn(10));
        assert!(position.reached_by(1, &Position::Lsn(10)));
        assert!(!position.reached_by(2, &Position::Lsn(99)));
        assert!(!position.reached_by(1, &Position::Lsn(9)));
        assert_ne!(cluster_id("a"), cluster_id("b"));
        assert_eq!(
            cluster_id("7714269837312367919"),
            cluster_id("7714269837312367919")
        );
    }
}
