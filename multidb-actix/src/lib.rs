//! actix-web middleware of multidb (work in progress).
