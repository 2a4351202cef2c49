//! The actix-web side of the pinning conformance suite: `multidb_tests`'
//! [`Routes`] in an actix `App` behind `PinningMiddleware`, through
//! `actix_web::test`.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::rc::Rc;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse, test};
use futures_util::StreamExt as _;
use futures_util::future::LocalBoxFuture;
use multidb_actix::{DbWrite, PinningConfig, PinningMiddleware};
use multidb_tests::http;
use multidb_tests::http1::Reply;
use multidb_tests::pinning::{self, Handled, PinningApp, Routes};

async fn handle(routes: web::Data<Routes>, request: HttpRequest) -> HttpResponse {
    let query = Some(request.query_string()).filter(|q| !q.is_empty());
    response(routes.handle(request.path(), query).await)
}

fn response(handled: Handled) -> HttpResponse {
    let mut builder =
        HttpResponse::build(StatusCode::from_u16(handled.status).expect("a valid status"));
    for (name, value) in handled.headers {
        builder.append_header((name, value));
    }
    let mut response = match handled.body {
        pinning::Body::Full(text) => builder.body(text),
        pinning::Body::Stream(chunks) => {
            builder.streaming(chunks.map(|chunk| Ok::<_, Infallible>(Bytes::from(chunk))))
        }
    };
    if handled.marked {
        response.extensions_mut().insert(DbWrite);
    }
    response
}

/// Call `service` with `request` and read the reply whole. A service error
/// becomes its response, as actix-web's dispatcher does (the forum's
/// over-HTTP tests check that for real).
pub async fn call<S, B>(service: &S, request: actix_http::Request) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (status, headers, body) = match test::try_call_service(service, request).await {
        Ok(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            (status, headers, test::read_body(response).await)
        }
        Err(error) => {
            let response = error.error_response();
            let status = response.status();
            let headers = response.headers().clone();
            let body = actix_web::body::to_bytes(response.into_body())
                .await
                .unwrap_or_default();
            (status, headers, body)
        }
    };
    let mut reply = Reply {
        status: http::StatusCode::from_u16(status.as_u16()).expect("a valid status"),
        headers: http::HeaderMap::new(),
        body: String::from_utf8(body.to_vec()).expect("UTF-8"),
    };
    for (name, value) in headers.iter() {
        reply.headers.append(
            http::HeaderName::from_bytes(name.as_str().as_bytes()).expect("a valid name"),
            http::HeaderValue::from_bytes(value.as_bytes()).expect("a valid value"),
        );
    }
    reply
}

/// An `actix_web::test` request made of `request`.
pub fn test_request(request: http::Request<String>) -> test::TestRequest {
    let method = actix_web::http::Method::from_bytes(request.method().as_str().as_bytes())
        .expect("a valid method");
    let mut test = test::TestRequest::default()
        .method(method)
        .uri(&request.uri().to_string());
    for (name, value) in request.headers() {
        test = test.append_header((
            HeaderName::from_bytes(name.as_str().as_bytes()).expect("a valid name"),
            HeaderValue::from_bytes(value.as_bytes()).expect("a valid value"),
        ));
    }
    test.set_payload(request.into_body())
}

/// The middleware in an actix-web `App`.
pub struct Actix {
    send: Box<dyn Fn(actix_http::Request) -> LocalBoxFuture<'static, Reply>>,
}

impl PinningApp for Actix {
    async fn start(config: PinningConfig) -> Self {
        let service = Rc::new(
            test::init_service(
                App::new()
                    .app_data(web::Data::new(Routes::default()))
                    .default_service(web::to(handle))
                    .wrap(PinningMiddleware::new(config).expect("valid configuration")),
            )
            .await,
        );
        Actix {
            send: Box::new(move |request| {
                let service = service.clone();
                Box::pin(async move { call(&*service, request).await })
            }),
        }
    }

    async fn send(&self, request: http::Request<String>) -> Reply {
        (self.send)(test_request(request).to_request()).await
    }
}
