pub mod _entities;
pub mod posts;
pub mod users;
