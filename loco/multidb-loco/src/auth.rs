//! Loco's `JWTWithUser`, loading the user through the router.

use std::future::Future;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use loco_rs::app::AppContext;
use loco_rs::auth::jwt::UserClaims;
use loco_rs::controller::extractor::auth::JWT;
use loco_rs::model::{ModelError, ModelResult};
use multidb_seaorm::{MultiDb, use_master};
use serde::{Deserialize, Serialize};

/// A user model that can be found through the [`MultiDb`]: Loco's
/// `Authenticable` takes a `DatabaseConnection`. The generated `users`
/// model implements it in three lines, with its `find_by_pid` taking
/// `&impl ConnectionTrait`:
///
/// ```ignore
/// impl multidb_loco::auth::Authenticable for Model {
///     async fn find_by_claims_key(db: &MultiDb, claims_key: &str) -> ModelResult<Self> {
///         Self::find_by_pid(db, claims_key).await
///     }
/// }
/// ```
pub trait Authenticable: Sized + Send {
    /// The user whose JWT carries `claims_key`.
    fn find_by_claims_key(
        db: &MultiDb,
        claims_key: &str,
    ) -> impl Future<Output = ModelResult<Self>> + Send;
}

/// Loco's `JWTWithUser`, with the user loaded through the router: from a
/// replica when the request carries no pin, else from a replica that has
/// reached the client's last write, else the primary. A valid token whose
/// user a replica does not have yet (a client that keeps no cookie, right
/// after registering) is looked up again on the primary: never a 401 for a
/// user who exists.
#[derive(Debug, Deserialize, Serialize)]
pub struct JWTWithUser<T> {
    /// The token's claims.
    pub claims: UserClaims,
    /// The user.
    pub user: T,
}

impl<S, T> FromRequestParts<S> for JWTWithUser<T>
where
    AppContext: FromRef<S>,
    S: Send + Sync,
    T: Authenticable,
{
    type Rejection = loco_rs::Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> loco_rs::Result<Self> {
        let JWT { claims } = JWT::from_request_parts(parts, state).await?;
        let db = crate::db(&AppContext::from_ref(state))?;
        let user = match T::find_by_claims_key(&db, &claims.pid).await {
            Err(ModelError::EntityNotFound) => {
                use_master(T::find_by_claims_key(&db, &claims.pid)).await
            }
            found => found,
        }
        .map_err(rejection)?;
        Ok(JWTWithUser { claims, user })
    }
}

/// As Loco answers: an unknown user is unauthorized, a database error a 500.
fn rejection(error: ModelError) -> loco_rs::Error {
    match error {
        ModelError::EntityNotFound => loco_rs::Error::Unauthorized("not found".to_owned()),
        ModelError::DbErr(error) => {
            tracing::error!(target: "multidb::loco", %error, "database error during authentication");
            loco_rs::Error::InternalServerError
        }
        error => {
            tracing::error!(target: "multidb::loco", %error, "authentication error");
            loco_rs::Error::Unauthorized("could not authorize".to_owned())
        }
    }
}
