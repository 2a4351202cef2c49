pub mod common;

pub mod posts;
