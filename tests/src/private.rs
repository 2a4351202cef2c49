//! The library plumbing that tests reach into, and nothing else does: the
//! one place to change when it moves.

pub use multidb_core::__private::{TaskState, note_write, task_state};
pub use multidb_seaorm::__private::failure_of;
