//! Statement classifier (placeholder: being written).

/// Whether a statement is a plain read or may write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// Provably a plain read: safe on a replica.
    Read,
    /// May write, lock, change session state, or could not be understood.
    Write,
}

/// Classify one SQL string.
pub fn classify(sql: &str) -> Access {
    let s = sql.trim_start().to_ascii_lowercase();
    if s.starts_with("select") && !s.contains("for update") && !s.contains(';') {
        Access::Read
    } else {
        Access::Write
    }
}
