//! The verdicts of recent statements, so that the same text is classified
//! once: an ORM sends few distinct statement texts (the values are bound
//! apart), and looking one up costs a hash and a compare of its bytes,
//! a tenth of reading it.
//!
//! Bounded and exact. A fixed table of [`SETS`] × 2 slots, allocated once
//! (static, zero until touched); a text longer than [`MAX_LEN`] bytes is not
//! kept. A slot holds the whole text and the whole key (the dialect, the
//! declared functions' identity, the catalog's identity), and a hit needs
//! every byte equal: a colliding hash can evict a verdict, never change
//! one, and a new catalog is a new key. No lock: each slot is a sequence
//! lock over atomic words, so a reader that races a writer misses (and
//! classifies) rather than waits, and a writer that finds the slot busy
//! does not keep the verdict.

use std::sync::atomic::{AtomicU64, Ordering, fence};

use super::Access;

/// Texts up to this long are kept (SeaORM's statements are 80–600 bytes).
pub(super) const MAX_LEN: usize = 1024;

const WORDS: usize = MAX_LEN / 8;

/// Sets of two slots; a power of two.
const SETS: usize = 512;

/// What a verdict depends on besides the text: the dialect (or none), the
/// declared read-only functions and the catalog, as ids that are never
/// reused (0: none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Key {
    pub(super) dialect: u8,
    pub(super) declared: u64,
    pub(super) catalog: u64,
}

struct Slot {
    /// Even: stable; odd: being written.
    seq: AtomicU64,
    /// The dialect and the declared functions' id (`dialect << 56 | id`).
    key: AtomicU64,
    catalog: AtomicU64,
    /// `len << 2 | verdict` (1 read, 2 write); 0: empty.
    meta: AtomicU64,
    words: [AtomicU64; WORDS],
}

impl Slot {
    const fn new() -> Self {
        Slot {
            seq: AtomicU64::new(0),
            key: AtomicU64::new(0),
            catalog: AtomicU64::new(0),
            meta: AtomicU64::new(0),
            words: [const { AtomicU64::new(0) }; WORDS],
        }
    }
}

static SLOTS: [Slot; SETS * 2] = [const { Slot::new() }; SETS * 2];

/// The verdict for `sql` under `key`, from the table or from `classify`
/// (then kept).
pub(super) fn verdict(key: Key, sql: &[u8], classify: impl FnOnce() -> Access) -> Access {
    if sql.len() > MAX_LEN {
        return classify();
    }
    let packed = (u64::from(key.dialect) << 56) | (key.declared & ((1 << 56) - 1));
    let hash = hash(packed, key.catalog, sql);
    let set = (hash >> 32) as usize & (SETS - 1);
    let meta_of = |access| ((sql.len() as u64) << 2) | if access == Access::Read { 1 } else { 2 };
    for way in 0..2 {
        let slot = &SLOTS[set * 2 + way];
        if let Some(access) = lookup(slot, packed, key.catalog, sql) {
            return access;
        }
    }
    let access = classify();
    // An empty way first, else the one the hash's low bit names.
    let way = (0..2)
        .find(|&way| SLOTS[set * 2 + way].meta.load(Ordering::Relaxed) == 0)
        .unwrap_or((hash & 1) as usize);
    store(
        &SLOTS[set * 2 + way],
        packed,
        key.catalog,
        meta_of(access),
        sql,
    );
    access
}

fn lookup(slot: &Slot, packed: u64, catalog: u64, sql: &[u8]) -> Option<Access> {
    let seq = slot.seq.load(Ordering::Acquire);
    if seq & 1 == 1 {
        return None;
    }
    let meta = slot.meta.load(Ordering::Relaxed);
    if meta >> 2 != sql.len() as u64
        || meta & 3 == 0
        || slot.key.load(Ordering::Relaxed) != packed
        || slot.catalog.load(Ordering::Relaxed) != catalog
    {
        return None;
    }
    // Every word compared, without an early exit: a plain loop that
    // compiles the same wherever it is inlined.
    let mut kept = slot.words.iter();
    let mut whole = sql.chunks_exact(8);
    let mut equal = true;
    for (chunk, k) in (&mut whole).zip(&mut kept) {
        equal &= k.load(Ordering::Relaxed) == load(chunk);
    }
    if let Some(tail) = tail_word(whole.remainder()) {
        equal &= kept
            .next()
            .is_some_and(|k| k.load(Ordering::Relaxed) == tail);
    }
    // What was read belongs to one write only if no write began meanwhile.
    fence(Ordering::Acquire);
    if !equal || slot.seq.load(Ordering::Relaxed) != seq {
        return None;
    }
    Some(if meta & 3 == 1 {
        Access::Read
    } else {
        Access::Write
    })
}

fn store(slot: &Slot, packed: u64, catalog: u64, meta: u64, sql: &[u8]) {
    let seq = slot.seq.load(Ordering::Relaxed);
    if seq & 1 == 1
        || slot
            .seq
            .compare_exchange(seq, seq + 1, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    fence(Ordering::Release);
    slot.meta.store(meta, Ordering::Relaxed);
    slot.key.store(packed, Ordering::Relaxed);
    slot.catalog.store(catalog, Ordering::Relaxed);
    for (word, kept) in words(sql).zip(&slot.words) {
        kept.store(word, Ordering::Relaxed);
    }
    slot.seq.store(seq + 2, Ordering::Release);
}

/// `sql` as little-endian words, the last one padded with zeros: what a
/// slot keeps (and what a lookup compares, word by word).
fn words(sql: &[u8]) -> impl Iterator<Item = u64> + '_ {
    let whole = sql.chunks_exact(8);
    let tail = tail_word(whole.remainder());
    whole.map(load).chain(tail)
}

/// Eight bytes as a little-endian word.
#[inline]
fn load(chunk: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(chunk);
    u64::from_le_bytes(word)
}

/// The last 1 to 7 bytes as a word padded with zeros (none for none).
fn tail_word(tail: &[u8]) -> Option<u64> {
    (!tail.is_empty()).then(|| {
        tail.iter()
            .rev()
            .fold(0u64, |word, &byte| (word << 8) | u64::from(byte))
    })
}

/// Word `i` of `sql` (within its length), padded with zeros.
fn word(sql: &[u8], i: usize) -> u64 {
    let at = i * 8;
    match sql.get(at..at + 8) {
        Some(chunk) => load(chunk),
        None => tail_word(sql.get(at..).unwrap_or_default()).unwrap_or(0),
    }
}

/// FxHash over the key, the length and five words spread over the text
/// (the first two, the middle one, the last two): it only places a text in
/// the table, where a hit is checked byte for byte, and it costs the same
/// for every length.
fn hash(packed: u64, catalog: u64, sql: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let n = sql.len().div_ceil(8);
    let h = mix(mix(mix(0, packed), catalog), sql.len() as u64);
    [0, 1, n / 2, n.saturating_sub(2), n.saturating_sub(1)]
        .into_iter()
        .fold(h, |h, i| mix(h, word(sql, i)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A key of a dialect code no real dialect uses, so that each test's
    /// texts stay its own.
    fn key(dialect: u8) -> Key {
        Key {
            dialect,
            ..Key::default()
        }
    }

    fn counted(key: Key, sql: &str, answer: Access, calls: &AtomicUsize) -> Access {
        verdict(key, sql.as_bytes(), || {
            calls.fetch_add(1, Ordering::Relaxed);
            answer
        })
    }

    #[test]
    fn a_text_is_classified_once_per_key() {
        let calls = AtomicUsize::new(0);
        let key = key(207);
        let sql = "SELECT \"cache_test\".\"id\" FROM \"cache_test\" WHERE \"id\" = $1 -- once";
        assert_eq!(counted(key, sql, Access::Read, &calls), Access::Read);
        assert_eq!(
            counted(key, sql, Access::Write, &calls),
            Access::Read,
            "kept"
        );
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        // Another catalog, other declared functions, another dialect: asked again.
        for other in [
            Key { catalog: 9, ..key },
            Key { declared: 3, ..key },
            Key {
                dialect: 206,
                ..key
            },
        ] {
            assert_eq!(counted(other, sql, Access::Write, &calls), Access::Write);
        }
        assert_eq!(calls.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn only_the_same_bytes_hit() {
        let calls = AtomicUsize::new(0);
        let key = key(205);
        let base = "SELECT a FROM t WHERE b = 'cache test, same bytes'";
        assert_eq!(counted(key, base, Access::Read, &calls), Access::Read);
        // Same length, one byte different; a prefix; trailing zeros do not
        // pass for padding.
        let changed = base.replace("same", "Same");
        assert_eq!(counted(key, &changed, Access::Write, &calls), Access::Write);
        assert_eq!(
            counted(key, &base[..base.len() - 1], Access::Write, &calls),
            Access::Write
        );
        let padded = format!("{base}\0");
        assert_eq!(counted(key, &padded, Access::Write, &calls), Access::Write);
        assert_eq!(calls.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn long_texts_are_not_kept() {
        let calls = AtomicUsize::new(0);
        let key = key(204);
        let long = format!("SELECT {} FROM t", "a, ".repeat(MAX_LEN));
        counted(key, &long, Access::Read, &calls);
        counted(key, &long, Access::Read, &calls);
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn many_texts_stay_within_the_table_and_right() {
        // Far more texts than slots, from several threads at once: every
        // answer is the one `classify` gave for that very text.
        let key = key(203);
        std::thread::scope(|scope| {
            for thread in 0..4u64 {
                scope.spawn(move || {
                    for n in 0..20_000u64 {
                        let id = (n * 7 + thread) % 5_000;
                        let sql = format!("SELECT x FROM t WHERE id = {id}");
                        let truth = if id % 3 == 0 {
                            Access::Write
                        } else {
                            Access::Read
                        };
                        assert_eq!(verdict(key, sql.as_bytes(), || truth), truth, "{sql}");
                    }
                });
            }
        });
    }
}
