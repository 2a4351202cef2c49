mod users;

mod posts;
