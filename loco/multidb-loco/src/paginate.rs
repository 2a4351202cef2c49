//! Loco's `query::paginate`, over any connection.

use loco_rs::model::query::{PageResponse, PaginationQuery, fetch_page};
use sea_orm::{Condition, ConnectionTrait, EntityTrait, QueryFilter, Select};

/// What `loco_rs::model::query::paginate` does, over any SeaORM connection
/// (Loco's takes only a `DatabaseConnection`): pass `&db`, the
/// [`MultiDb`](crate::MultiDb), and the page's two reads (count and rows)
/// go to a replica.
///
/// # Errors
/// The database's.
pub async fn paginate<C, E>(
    db: &C,
    entity: Select<E>,
    condition: Option<Condition>,
    pagination_query: &PaginationQuery,
) -> loco_rs::Result<PageResponse<E::Model>>
where
    C: ConnectionTrait + Sync,
    E: EntityTrait,
    E::Model: Sync,
{
    let entity = match condition {
        Some(condition) => entity.filter(condition),
        None => entity,
    };
    fetch_page(db, entity, pagination_query).await
}
