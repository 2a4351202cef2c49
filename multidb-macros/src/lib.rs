//! The `#[use_master]` and `#[db_write]` attributes of multidb.
//!
//! Use them through `multidb_seaorm`, which re-exports them next to the
//! functions of the same names (`multidb_seaorm::use_master` is both an
//! attribute and a function, as `serde::Serialize` is both a derive and a
//! trait):
//!
//! ```
//! use multidb_seaorm::{this_task_is_pinned, use_master};
//!
//! /// Reads that must see the caller's own writes: on the primary.
//! #[use_master]
//! async fn load_after_write(id: u32) -> Result<u32, std::num::ParseIntError> {
//!     assert!(this_task_is_pinned());
//!     let parsed: u32 = "41".parse()?;
//!     Ok(parsed + id)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! assert_eq!(load_after_write(1).await, Ok(42));
//! assert!(!this_task_is_pinned()); // only the body ran on the primary
//! # }
//! ```
//!
//! # What they expand to
//!
//! ```text
//! #[use_master]
//! async fn f(args..) -> R { body }
//! ```
//!
//! becomes
//!
//! ```text
//! async fn f(args..) -> R {
//!     ::multidb_seaorm::use_master(async move {
//!         // A never-taken return of type R, so that `?` knows its target.
//!         if false { let __multidb_ret: R = loop {}; return __multidb_ret; }
//!         body
//!     })
//!     .await
//! }
//! ```
//!
//! and `#[db_write]` the same with `::multidb_seaorm::db_write`. The
//! signature is kept as written: attributes and doc comments, visibility,
//! generics and `where` clauses, receivers (`self`, `&self`, `&mut self`,
//! `mut self`), `mut` and pattern parameters, `impl Trait` arguments and
//! returns. `?` and `return` in the body work as in any async fn: the
//! never-taken `return` pins the inner block's output type. An `impl Trait`
//! cannot be named in a `let`, so each `impl Trait` in the return type is
//! replaced by `_` there (`Result<impl Display, MyError>` still pins
//! `MyError`); a return type that is only `impl Trait` gets no pin, and there
//! `?` may need the error type spelled out (`Err::<_, MyError>(e)?`).
//!
//! The wrapped future is `Send` exactly when the body's future is.
//!
//! # `#[async_trait]`
//!
//! Native `async fn` in traits and their impls (Rust 1.75+) need nothing
//! special. Inside an `#[async_trait]` impl (or trait, for default methods),
//! put the attribute on the method:
//!
//! ```
//! # use multidb_seaorm::this_task_is_pinned;
//! #[async_trait::async_trait]
//! trait Orders {
//!     async fn place(&self, total: u32) -> Result<u32, String>;
//! }
//!
//! struct Db;
//!
//! #[async_trait::async_trait]
//! impl Orders for Db {
//!     #[multidb_seaorm::db_write]
//!     async fn place(&self, total: u32) -> Result<u32, String> {
//!         assert!(this_task_is_pinned());
//!         Ok(total)
//!     }
//! }
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! assert_eq!(Db.place(3).await, Ok(3));
//! # }
//! ```
//!
//! `#[async_trait]` on the impl expands first and turns the method into a
//! plain `fn` whose body is `Box::pin(async move { .. })`. The attribute
//! recognizes that shape (a non-async fn whose tail expression is
//! `Box::pin(async { .. })` — tracing-attributes does the same) and wraps the
//! async block's contents instead of the body. Put on the `impl` or `trait`
//! block itself, it is an error that says where it goes.
//! (`#[async_trait]` parses the whole impl before this attribute runs, so a
//! syntax error in such a method's body is reported by `#[async_trait]`.)
//!
//! # Arguments
//!
//! `crate = "path"` names where multidb is reached when `multidb_seaorm` is
//! renamed or re-exported: `#[use_master(crate = "my_app::db::multidb")]`
//! calls `my_app::db::multidb::use_master(..)`.
//!
//! # Errors
//!
//! These are compile errors, reported on the offending tokens; the item is
//! still emitted unchanged next to the error, so the rest of the crate (and
//! the IDE) keeps working:
//!
//! * a fn that is not `async` (for a future, call the function
//!   `multidb_seaorm::use_master(fut)` instead), or a `const fn`;
//! * a declaration without a body, or an item that is not a fn;
//! * an unknown argument, or a `crate` that is not a string holding a path.
//!
//! A body that does not compile yet (a syntax error while typing, a type
//! error) gets rustc's own errors on its own lines and none from the
//! attribute: the body of an `async fn` is not parsed, only wrapped as
//! written. What the item is comes from the tokens before the body:
//!
//! * an item whose leading words are not a fn's (`struct`, `impl`, `trait`,
//!   ...) gets the error above, even when its body does not parse;
//! * a fn whose signature does not parse is emitted unchanged, and rustc
//!   says what is wrong with it;
//! * a non-async fn has its body parsed, to find the `Box::pin(async ..)`
//!   of `#[async_trait]`; if the body does not parse, the fn is emitted
//!   unchanged, with the "not `async`" error unless the body ends in
//!   `Box::pin(async ..)`.

mod args;
mod expand;

use proc_macro::TokenStream;

use crate::expand::Kind;

/// Run the body of an async fn with every statement on the primary.
///
/// The body runs inside `multidb_seaorm::use_master`: for as long as it
/// runs, this task's reads go to the primary, and the previous state comes
/// back afterwards — on success, on error, on panic, or when the future is
/// dropped early. Calls nest. It works inside or outside a request scope.
///
/// Use it for reads that must see a write just made by someone else the
/// replicas may not have replayed yet (a write made in the same request is
/// already followed on the primary).
///
/// ```
/// use multidb_seaorm::{this_task_is_pinned, use_master};
///
/// struct Accounts {
///     balance: u64,
/// }
///
/// impl Accounts {
///     /// The balance, read on the primary.
///     #[use_master]
///     pub async fn balance(&self) -> u64 {
///         assert!(this_task_is_pinned());
///         self.balance
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// multidb_seaorm::scope(async {
///     let accounts = Accounts { balance: 7 };
///     assert_eq!(accounts.balance().await, 7);
///     assert!(!this_task_is_pinned()); // the caller is not pinned
/// })
/// .await;
/// # }
/// ```
///
/// The only argument is `crate = "path"` (see the [crate docs](crate)).
#[proc_macro_attribute]
pub fn use_master(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::UseMaster, args.into(), item.into()).into()
}

/// Mark an async handler as one that writes: its body runs on the primary
/// (as with [`use_master`](macro@use_master)), and the current request is
/// marked so that the HTTP layer pins the client to the primary for a while
/// after the response — so that the user's next page shows what they just
/// wrote (django-multidb-router's `@db_write`).
///
/// The request is marked when the body starts, whatever it returns.
/// Outside a request scope there is nothing to mark, and it behaves as
/// `#[use_master]`.
///
/// ```
/// use multidb_seaorm::{db_write, this_task_is_pinned};
///
/// #[db_write]
/// async fn create_post(title: &str) -> Result<usize, String> {
///     assert!(this_task_is_pinned());
///     if title.is_empty() {
///         return Err("a title is needed".into());
///     }
///     Ok(title.len())
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(create_post("hello").await, Ok(5));
/// assert!(create_post("").await.is_err());
/// assert!(!this_task_is_pinned());
/// # }
/// ```
///
/// The only argument is `crate = "path"` (see the [crate docs](crate)).
#[proc_macro_attribute]
pub fn db_write(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::DbWrite, args.into(), item.into()).into()
}
