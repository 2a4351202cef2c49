//! multidb for SeaORM (being written).

pub use multidb_core::context::{
    db_write, in_current_scope, mark_db_write, pin_this_task, scope, this_task_is_pinned,
    unpin_this_task, use_master,
};
pub use multidb_core::{Access, classify};
pub use multidb_macros::{db_write, use_master};
