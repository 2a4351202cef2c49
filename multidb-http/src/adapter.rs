//! The life cycle of one request, the same in every framework: the
//! middleware builds a [`RequestState`] from the request's head, runs the
//! handler in it ([`RequestState::scope`]), and reports how it ended; the
//! state decides, issues the pin, and warns when a request that may have
//! written ends without a response.
//!
//! What the framework middleware crates build on; not for applications, no
//! stability promise.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use multidb_core::__private::{scope_request, with_causal};
use multidb_core::context::{RequestContext, Scoped, this_task_is_pinned};
use multidb_core::position::WritePosition;
use pin_project_lite::pin_project;

use crate::{ConfigError, PinningConfig};

pub use crate::config::Settings;
pub use crate::pin::{
    HeaderWrite, Incoming, IssuedPin, PinHeader, PinnedBy, TARGET, is_read_method,
};
pub use crate::token::now_secs;

/// Check `config` and precompute what each request needs: once, when the
/// middleware is built.
pub fn compile(config: &PinningConfig) -> Result<Settings, ConfigError> {
    config.compile()
}

/// A panic caught from the handler's future.
pub type Panic = Box<dyn Any + Send>;

/// One request, from its head to its response.
pub struct RequestState {
    settings: Arc<Settings>,
    incoming: Incoming,
    request: RequestContext,
    done: bool,
}

impl RequestState {
    /// The request's routing, decided from its head (see
    /// [`Settings::incoming`]).
    pub fn new(settings: Arc<Settings>, incoming: Incoming) -> Self {
        let request = match incoming.after() {
            Some(position) => RequestContext::after(position.clone()),
            None => RequestContext::new(),
        };
        if let Some(replica) = incoming.affinity() {
            request.stick_to_replica(replica);
        }
        RequestState {
            settings,
            incoming,
            request,
            done: false,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The request's routing as decided from its head (and the position
    /// its pins carried, [`Incoming::after`]).
    pub fn incoming(&self) -> &Incoming {
        &self.incoming
    }

    /// The request's routing facts, shared with the handler and the body.
    pub fn request(&self) -> &RequestContext {
        &self.request
    }

    /// Run `f` (the inner service's `call`) in the request's context.
    pub fn sync_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        self.request.sync_scope(self.incoming.pinned(), f)
    }

    /// Run `future` (the handler) in the request's context; it reports the
    /// pin the task ended with, and with `catch_panics` a panic instead of
    /// unwinding.
    pub fn scope<F: Future>(&self, future: F) -> Scoped<WithFinalPin<F>> {
        let future = WithFinalPin {
            inner: future,
            catch: self.settings.catch_panics(),
            ready: None,
            capture: None,
        };
        self.request.scope(self.incoming.pinned(), future)
    }

    /// The handler answered with `status` (or the middleware answered 500
    /// for a caught `panic`); `marked` says whether the response carries
    /// [`DbWrite`](crate::DbWrite). What to tell the client's cookies, if
    /// anything: the pin the request earned, the clearing of a pin every
    /// replica has reached, its replica (see [`Settings::tell`]).
    pub fn respond(
        &mut self,
        status: u16,
        marked: bool,
        panic: Option<&Panic>,
    ) -> Option<IssuedPin<'_>> {
        self.done = true;
        if let Some(panic) = panic {
            self.settings.caught_panic(&**panic);
        }
        let settings = &*self.settings;
        let reason = settings.earns_pin(&self.incoming, &self.request, marked);
        let mut issued = match reason {
            Some(reason) => {
                // The position the handler's writes reached (captured when
                // the handler finished, see `WithFinalPin`), for the next
                // requests.
                let position = with_causal(&self.request, |c| c.own_position().cloned());
                settings.issue(now_secs(), position.as_ref(), reason, status)
            }
            None => IssuedPin::nothing(settings),
        };
        let pin_everywhere = with_causal(&self.request, |c| c.after_is_everywhere());
        settings.tell(
            &mut issued,
            &self.incoming,
            pin_everywhere,
            self.request.sticky_replica(),
        );
        (!issued.is_empty()).then_some(issued)
    }

    /// The inner service failed with an error, not a response: nothing to
    /// pin; warns if the request may have written.
    pub fn failed(&mut self) {
        self.done = true;
        self.settings.unpinned(
            &self.incoming,
            &self.request,
            "failed with an error instead of a response",
        );
    }
}

impl Drop for RequestState {
    fn drop(&mut self) {
        if !self.done {
            self.settings.unpinned(
                &self.incoming,
                &self.request,
                "was dropped before its response was ready",
            );
        }
    }
}

impl fmt::Debug for RequestState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestState")
            .field("incoming", &self.incoming)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

type Capture = Pin<Box<dyn Future<Output = Option<WritePosition>> + Send>>;

pin_project! {
    /// The handler's future, reporting with its output whether the task was
    /// pinned when it finished (the body goes on from there), and, with
    /// `catch`, a panic instead of unwinding. If the handler wrote, it then
    /// captures the position its writes reached (one round trip to the
    /// primary), still in the request's scope, for the pin.
    pub struct WithFinalPin<F: Future> {
        #[pin]
        inner: F,
        catch: bool,
        ready: Option<(Result<F::Output, Panic>, bool)>,
        capture: Option<Capture>,
    }
}

impl<F: Future> fmt::Debug for WithFinalPin<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithFinalPin")
            .field("catch", &self.catch)
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for WithFinalPin<F> {
    type Output = (Result<F::Output, Panic>, bool);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if this.ready.is_none() {
            let output = if *this.catch {
                // Not polled again after a panic: the output is ready.
                match catch_unwind(AssertUnwindSafe(|| this.inner.as_mut().poll(cx))) {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(output)) => Ok(output),
                    Err(panic) => Err(panic),
                }
            } else {
                Ok(ready!(this.inner.as_mut().poll(cx)))
            };
            // Still inside the request's scope: the handler task's last pin.
            *this.ready = Some((output, this_task_is_pinned()));
            if let Some(request) = scope_request().filter(|r| r.wrote()) {
                *this.capture = Some(Box::pin(async move { request.write_position().await }));
            }
        }
        if let Some(capture) = this.capture.as_mut() {
            ready!(capture.as_mut().poll(cx));
            *this.capture = None;
        }
        match this.ready.take() {
            Some(ready) => Poll::Ready(ready),
            // Polled again after it completed: a caller bug; stay pending
            // rather than panic.
            None => Poll::Pending,
        }
    }
}
