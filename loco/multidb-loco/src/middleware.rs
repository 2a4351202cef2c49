//! multidb's pinning layer as one of Loco's middlewares.

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use loco_rs::app::AppContext;
use loco_rs::controller::middleware::{
    MiddlewareLayer, MiddlewareStackExt, default_middleware_stack,
};
use multidb_seaorm::{MultiDb, PinningLayer};

use crate::settings::Settings;

/// Loco's default middleware stack with [`PinningMiddleware`] in its place:
/// what to return from `Hooks::middlewares`.
///
/// The place: right outside `timeout_request` (Loco applies its stack in
/// order, each middleware wrapping the ones before it), so the pinning
/// layer sits
/// - **outside the timeout and catch-panic layers**: a response they make
///   (408 after a write that got stuck, 500 after a panic) still passes
///   through it and pins the client who may have written;
/// - **inside the logger and request id**: the access log sees the
///   `Set-Cookie` and the time pinning took, and multidb's logs carry the
///   request's span.
#[must_use]
pub fn middlewares(ctx: &AppContext) -> Vec<Box<dyn MiddlewareLayer>> {
    let mut stack = default_middleware_stack(ctx);
    stack.insert_after("timeout_request", Box::new(PinningMiddleware::new(ctx)));
    stack
}

/// multidb's [`PinningLayer`] as a Loco [`MiddlewareLayer`] named
/// `multidb_pinning`, configured by `initializers.multidb.pinning`; see
/// [`middlewares`] for where it goes. It needs the routed connection the
/// [`initializer`](crate::initializer) built.
#[derive(Clone)]
pub struct PinningMiddleware {
    ctx: AppContext,
}

impl std::fmt::Debug for PinningMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinningMiddleware").finish_non_exhaustive()
    }
}

impl PinningMiddleware {
    /// The middleware for `ctx`'s configuration (read when it is applied).
    #[must_use]
    pub fn new(ctx: &AppContext) -> Self {
        PinningMiddleware { ctx: ctx.clone() }
    }
}

impl MiddlewareLayer for PinningMiddleware {
    fn name(&self) -> &'static str {
        "multidb_pinning"
    }

    fn is_enabled(&self) -> bool {
        matches!(Settings::from_config(&self.ctx.config), Ok(Some(_)))
    }

    fn config(&self) -> serde_json::Result<serde_json::Value> {
        let pinning = Settings::from_config(&self.ctx.config)
            .ok()
            .flatten()
            .map(|settings| settings.pinning);
        Ok(serde_json::json!({
            "cookie_name": pinning.as_ref().and_then(|p| p.cookie_name.clone()),
            "pin_for_secs": pinning.as_ref().and_then(|p| p.pin_for_secs),
            "capture_writes_elsewhere": pinning.as_ref().map(|p| p.capture_writes_elsewhere),
        }))
    }

    fn apply(&self, app: Router<AppContext>) -> loco_rs::Result<Router<AppContext>> {
        let Some(settings) = Settings::from_config(&self.ctx.config)? else {
            return Ok(app);
        };
        let db = crate::db(&self.ctx)?;
        let layer = PinningLayer::new(settings.pinning_config(&self.ctx.environment)?)
            .map_err(loco_rs::Error::wrap)?;
        let app = if settings.pinning.capture_writes_elsewhere {
            app.layer(from_fn_with_state(db, capture_writes_elsewhere))
        } else {
            app
        };
        Ok(app.layer(layer))
    }
}

/// Inside the pinning layer: after a request whose method may write, count
/// its writes through `ctx.db` (invisible to multidb) as the scope's, so the
/// pinning layer captures the primary's position for the pin.
async fn capture_writes_elsewhere(
    State(db): State<MultiDb>,
    request: Request,
    next: Next,
) -> Response {
    let may_write = !request.method().is_safe();
    let response = next.run(request).await;
    if may_write {
        db.wrote_elsewhere();
    }
    response
}
