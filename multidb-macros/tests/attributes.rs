//! What `#[use_master]` and `#[db_write]` do at run time, on every shape of
//! async fn they accept.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::task::Poll;

use multidb_core::context::RequestContext;
use multidb_seaorm::{db_write, scope, this_task_is_pinned, use_master};

#[use_master]
async fn pinned() -> bool {
    this_task_is_pinned()
}

#[multidb_seaorm::use_master]
async fn pinned_by_full_path() -> bool {
    this_task_is_pinned()
}

#[db_write]
async fn handler() -> bool {
    this_task_is_pinned()
}

#[tokio::test]
async fn use_master_pins_the_body_only() {
    scope(async {
        assert!(!this_task_is_pinned());
        assert!(pinned().await);
        assert!(pinned_by_full_path().await);
        assert!(!this_task_is_pinned());
    })
    .await;
    // Outside any scope too.
    assert!(pinned().await);
    assert!(!this_task_is_pinned());
}

#[tokio::test]
async fn db_write_pins_and_marks_the_request() {
    let request = RequestContext::new();
    let pinned_inside = request
        .scope(false, async {
            let pinned_inside = handler().await;
            assert!(!this_task_is_pinned());
            pinned_inside
        })
        .await;
    assert!(pinned_inside);
    assert!(request.db_write_marked());

    // use_master does not mark it.
    let request = RequestContext::new();
    assert!(request.scope(false, pinned()).await);
    assert!(!request.db_write_marked());

    // Outside any scope there is nothing to mark, but the body is pinned.
    assert!(handler().await);
}

#[tokio::test]
async fn nesting_restores_the_outer_state() {
    #[use_master]
    async fn outer() -> [bool; 3] {
        let before = this_task_is_pinned();
        let inner = handler().await;
        [before, inner, this_task_is_pinned()]
    }
    let request = RequestContext::new();
    assert_eq!(request.scope(false, outer()).await, [true; 3]);
    assert!(request.db_write_marked()); // #[db_write] inside #[use_master] marks
}

/// A repository with methods of every receiver kind.
#[derive(Clone, Debug, PartialEq)]
struct Repo {
    rows: Vec<u32>,
}

impl Repo {
    /// `Self` in the signature and in the body.
    #[use_master]
    async fn new_pinned() -> Self {
        assert!(this_task_is_pinned());
        Self { rows: Vec::new() }
    }

    #[use_master]
    async fn len(&self) -> (usize, bool) {
        (self.rows.len(), this_task_is_pinned())
    }

    #[db_write]
    async fn insert(&mut self, row: u32) -> &mut Self {
        assert!(this_task_is_pinned());
        self.rows.push(row);
        self
    }

    #[use_master]
    async fn into_rows(self) -> Vec<u32> {
        assert!(this_task_is_pinned());
        self.rows
    }

    #[use_master]
    async fn with(mut self, row: u32) -> Self {
        self.rows.push(row);
        self
    }

    #[use_master]
    async fn first<'a>(&'a self, fallback: &'a u32) -> &'a u32 {
        self.rows.first().unwrap_or(fallback)
    }

    /// Calls another wrapped method through `Self::`.
    #[use_master]
    async fn rebuilt(&self) -> Self {
        Self::new_pinned().await.with(self.rows.len() as u32).await
    }
}

#[tokio::test]
async fn methods_with_every_receiver() {
    let request = RequestContext::new();
    request
        .scope(false, async {
            let mut repo = Repo::new_pinned().await;
            assert!(!this_task_is_pinned());
            repo.insert(1).await.insert(2).await;
            assert_eq!(repo.len().await, (2, true));
            assert_eq!(*repo.first(&9).await, 1);
            assert_eq!(Repo::rebuilt(&repo).await.rows, [2]);
            let repo = repo.with(3).await;
            assert_eq!(repo.clone().into_rows().await, [1, 2, 3]);
            assert!(!this_task_is_pinned());
        })
        .await;
    assert!(request.db_write_marked());
}

#[use_master]
async fn first_cloned<T, I>(items: I) -> Option<T>
where
    I: IntoIterator<Item = T>,
    T: Clone + fmt::Debug,
{
    assert!(this_task_is_pinned());
    items.into_iter().next()
}

#[use_master]
async fn sum_of<const N: usize>(values: [u32; N]) -> u32 {
    values.iter().sum()
}

#[use_master]
async fn trimmed(text: &str) -> &str {
    text.trim()
}

#[use_master]
async fn shown(value: impl fmt::Display + Send) -> impl fmt::Display {
    assert!(this_task_is_pinned());
    format!("<{value}>")
}

#[use_master]
async fn parsed_display(
    text: impl AsRef<str>,
) -> Result<impl fmt::Display, std::num::ParseIntError> {
    let n: u32 = text.as_ref().parse()?;
    Ok(n * 2)
}

struct Pair {
    left: u32,
    right: u32,
}

#[use_master]
async fn patterns((a, b): (u32, u32), Pair { left, right }: Pair, _: u8, mut total: u32) -> u32 {
    total += a + b + left + right;
    total
}

#[tokio::test]
async fn generics_lifetimes_impl_trait_and_patterns() {
    assert_eq!(first_cloned(vec!["a", "b"]).await, Some("a"));
    assert_eq!(first_cloned(Vec::<u8>::new()).await, None);
    assert_eq!(sum_of([1, 2, 3]).await, 6);
    assert_eq!(trimmed("  x ").await, "x");
    assert_eq!(shown(5).await.to_string(), "<5>");
    assert_eq!(
        parsed_display("21").await.map(|d| d.to_string()),
        Ok("42".to_owned())
    );
    assert!(parsed_display("x").await.is_err());
    let pair = Pair { left: 3, right: 4 };
    assert_eq!(patterns((1, 2), pair, 0, 10).await, 20);
}

#[use_master]
async fn boxed_error(text: &str) -> Result<u32, Box<dyn Error + Send + Sync>> {
    // `?` converts ParseIntError into the box: needs the pinned return type.
    let n: u32 = text.parse()?;
    if n == 0 {
        return Err("zero".into());
    }
    Ok(n)
}

/// A custom error type that `?` converts into.
#[derive(Debug, PartialEq)]
enum AppError {
    Parse(String),
    Negative,
}

impl From<std::num::ParseIntError> for AppError {
    fn from(error: std::num::ParseIntError) -> Self {
        AppError::Parse(error.to_string())
    }
}

#[db_write]
async fn custom_error(text: &str) -> Result<i64, AppError> {
    let n: i64 = text.parse()?;
    if n < 0 {
        return Err(AppError::Negative);
    }
    Ok(n)
}

#[use_master]
async fn early_return(flag: bool) -> &'static str {
    if flag {
        return "early";
    }
    "late"
}

#[use_master]
async fn unit_early_return(flag: bool, out: &mut Vec<&'static str>) {
    if flag {
        return;
    }
    out.push("ran");
}

#[tokio::test]
async fn question_mark_and_return() {
    scope(async {
        assert_eq!(boxed_error("7").await.ok(), Some(7));
        assert_eq!(
            boxed_error("0").await.map_err(|e| e.to_string()),
            Err("zero".to_owned())
        );
        assert!(boxed_error("x").await.is_err());
        assert!(!this_task_is_pinned());

        assert_eq!(custom_error("5").await, Ok(5));
        assert_eq!(custom_error("-5").await, Err(AppError::Negative));
        assert!(matches!(custom_error("x").await, Err(AppError::Parse(_))));
        assert!(!this_task_is_pinned());

        assert_eq!(early_return(true).await, "early");
        assert_eq!(early_return(false).await, "late");
        let mut out = Vec::new();
        unit_early_return(true, &mut out).await;
        unit_early_return(false, &mut out).await;
        assert_eq!(out, ["ran"]);
        assert!(!this_task_is_pinned());
    })
    .await;
}

#[tokio::test]
async fn db_write_marks_even_when_the_body_fails() {
    let request = RequestContext::new();
    let result = request.scope(false, custom_error("x")).await;
    assert!(result.is_err());
    assert!(request.db_write_marked());
}

#[use_master]
async fn panics() -> u32 {
    assert!(this_task_is_pinned());
    panic!("boom")
}

/// Polls `future`, turning a panic into `Err`.
async fn catch_unwind<F: Future>(future: F) -> std::thread::Result<F::Output> {
    let mut future = pin!(future);
    std::future::poll_fn(|cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        }
    })
    .await
}

#[tokio::test]
async fn state_is_restored_after_a_panic() {
    scope(async {
        assert!(catch_unwind(panics()).await.is_err());
        assert!(!this_task_is_pinned());
        multidb_seaorm::pin_this_task();
        assert!(catch_unwind(panics()).await.is_err());
        assert!(this_task_is_pinned()); // the outer pin is kept
    })
    .await;
}

/// Where a renamed or re-exported `multidb_seaorm` lives.
mod reexport {
    pub(crate) use multidb_seaorm as multidb;
}

#[use_master(crate = "crate::reexport::multidb")]
async fn through_reexport() -> bool {
    this_task_is_pinned()
}

#[db_write(crate = "::multidb_seaorm")]
async fn handler_with_crate() -> bool {
    this_task_is_pinned()
}

#[tokio::test]
async fn crate_argument() {
    assert!(through_reexport().await);
    let request = RequestContext::new();
    assert!(request.scope(false, handler_with_crate()).await);
    assert!(request.db_write_marked());
}

#[tokio::test]
async fn wrapped_futures_are_send_when_the_body_is() {
    fn assert_send<T: Send>(value: T) -> T {
        value
    }
    let mut repo = Repo { rows: vec![1] };
    assert_send(boxed_error("1")).await.ok();
    assert_send(repo.insert(2)).await;
    assert_send(shown("x")).await;
    let handle = tokio::spawn(multidb_seaorm::in_current_scope(pinned()));
    assert!(handle.await.expect("the task ran"));
}

/// Native `async fn` in traits.
trait Store {
    async fn get(&self) -> bool;

    #[use_master]
    async fn default_get(&self) -> bool {
        this_task_is_pinned()
    }
}

struct Native;

impl Store for Native {
    #[use_master]
    async fn get(&self) -> bool {
        this_task_is_pinned()
    }
}

#[tokio::test]
async fn native_async_fn_in_traits() {
    assert!(Native.get().await);
    assert!(Native.default_get().await);
    assert!(!this_task_is_pinned());
}
