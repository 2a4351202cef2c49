//! The expansion, on `proc_macro2` tokens so that it can be unit-tested.
//!
//! Of an `async fn`, only what comes before the body is parsed; the body is
//! wrapped as the tokens it was given (as tokio-macros does), so that a body
//! that does not compile yet gets rustc's own errors, and none from here.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::token::Brace;
use syn::visit_mut::VisitMut;
use syn::{
    Attribute, Block, Expr, ExprAsync, ExprPath, Ident, ItemFn, ReturnType, Signature, Stmt, Token,
    Type, Visibility, braced,
};

use crate::args::Args;

/// Which attribute is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[use_master]`.
    UseMaster,
    /// `#[db_write]`.
    DbWrite,
}

impl Kind {
    /// The attribute's name, which is also the runtime function it calls.
    fn name(self) -> &'static str {
        match self {
            Kind::UseMaster => "use_master",
            Kind::DbWrite => "db_write",
        }
    }
}

/// Expand `#[kind(args)] item`.
///
/// When it cannot be wrapped, the item is returned unchanged, followed by
/// `compile_error!`s if any, so that the rest of the crate (and the IDE)
/// still sees the function.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let args = syn::parse2::<Args>(args);
    // Check the item even when the arguments are wrong, to report both.
    let default_args = Args::default();
    let expanded = expand_item(kind, args.as_ref().unwrap_or(&default_args), &item);
    match (args, expanded) {
        (Ok(_), Ok(tokens)) => tokens,
        (args, expanded) => {
            let error = args
                .err()
                .into_iter()
                .chain(expanded.err().flatten())
                .reduce(|mut all, error| {
                    all.combine(error);
                    all
                })
                .map(|error| error.to_compile_error());
            quote!(#item #error)
        }
    }
}

/// Why an item is left unchanged: the macro's own error, or `None` when the
/// item is broken in a way rustc reports by itself (a syntax error), where
/// an error of ours would only add noise.
type Unchanged = Option<syn::Error>;

/// A fn parsed up to its body, which is kept as tokens (tokio-macros'
/// `ItemFn`): `body` is `None` for a declaration (`fn f();`).
struct FnItem {
    attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    body: Option<(Brace, TokenStream)>,
}

impl Parse for FnItem {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let body = if input.parse::<Option<Token![;]>>()?.is_some() {
            None
        } else {
            let content;
            let brace = braced!(content in input);
            Some((brace, content.parse()?))
        };
        Ok(FnItem {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

/// The wrapped item, or why it is left unchanged.
fn expand_item(kind: Kind, args: &Args, item: &TokenStream) -> Result<TokenStream, Unchanged> {
    let attr = kind.name();
    let Ok(func) = syn::parse2::<FnItem>(item.clone()) else {
        return Err(not_a_fn(attr, item));
    };
    let FnItem {
        attrs,
        vis,
        sig,
        body,
    } = func;
    let Some((brace, body)) = body else {
        return Err(Some(syn::Error::new_spanned(
            &sig,
            format!(
                "#[{attr}] needs an async fn with a body; put it on the implementations, not on the declaration"
            ),
        )));
    };
    if let Some(constness) = &sig.constness {
        return Err(Some(syn::Error::new_spanned(
            constness,
            format!("#[{attr}] cannot be used on a const fn; it needs an async fn"),
        )));
    }
    // With `crate = "..."`, errors about the path (no such function there)
    // point at the string.
    let krate = args.krate();
    let path_span = args
        .krate
        .as_ref()
        .map_or_else(Span::call_site, Spanned::span);
    let runtime_fn = Ident::new(attr, path_span);
    let runtime_fn = quote!(#krate::#runtime_fn);

    if sig.asyncness.is_none() {
        return wrap_async_trait_future(attr, &runtime_fn, item, &sig, &body);
    }

    // `async fn f(..) -> R { body }` becomes
    // `async fn f(..) -> R { path::use_master(async move { pin body }).await }`.
    // The outer future owns the arguments, so moving them into the inner
    // block is fine; `&self` moves a reference. Inner attributes
    // (`#![allow(..)]`) must stay first in the fn's own body.
    let pin = return_type_pin(&sig.output);
    let (inner_attrs, stmts) = split_inner_attrs(body);
    let mut tokens = quote!(#(#attrs)* #vis #sig);
    brace.surround(&mut tokens, |tokens| {
        tokens.extend(quote! {
            #inner_attrs
            #runtime_fn(async move { #pin #stmts }).await
        });
    });
    Ok(tokens)
}

/// `#[async_trait]` already ran and left a non-async
/// `fn f(..) -> Pin<Box<dyn Future<..>>> { Box::pin(async move { body }) }`;
/// wrap the async block's contents (it pins the block's output type itself),
/// capturing the same way (`move` or not) as the original block.
///
/// This needs the body parsed. If it does not parse, rustc reports why; the
/// fn is then also said not to be async unless its tokens end in that shape.
fn wrap_async_trait_future(
    attr: &str,
    runtime_fn: &TokenStream,
    item: &TokenStream,
    sig: &Signature,
    body: &TokenStream,
) -> Result<TokenStream, Unchanged> {
    let not_async = || {
        let fn_token = &sig.fn_token;
        let ident = &sig.ident;
        syn::Error::new_spanned(
            quote!(#fn_token #ident),
            format!("#[{attr}] needs an async fn; for a future use multidb_seaorm::{attr}(fut)"),
        )
    };
    let Ok(mut func) = syn::parse2::<ItemFn>(item.clone()) else {
        return Err((!ends_in_box_pin_async(body)).then(not_async));
    };
    let Some(future) = async_trait_future(&mut func.block) else {
        return Err(Some(not_async()));
    };
    if let Expr::Async(ExprAsync {
        attrs,
        async_token,
        capture,
        block,
    }) = &*future
    {
        let wrapped = quote! {
            #(#attrs)* #async_token #capture {
                #runtime_fn(async #capture #block).await
            }
        };
        *future = Expr::Verbatim(wrapped);
    }
    Ok(func.into_token_stream())
}

/// Splits a body into its leading inner attributes (`#![..]`, `//!`) and
/// the rest, without parsing either.
fn split_inner_attrs(body: TokenStream) -> (TokenStream, TokenStream) {
    let tokens: Vec<TokenTree> = body.into_iter().collect();
    let mut rest = tokens.as_slice();
    while let [
        TokenTree::Punct(hash),
        TokenTree::Punct(bang),
        TokenTree::Group(group),
        tail @ ..,
    ] = rest
        && hash.as_char() == '#'
        && bang.as_char() == '!'
        && group.delimiter() == Delimiter::Bracket
    {
        rest = tail;
    }
    let split = tokens.len() - rest.len();
    let inner_attrs = tokens[..split].iter().cloned().collect();
    let stmts = rest.iter().cloned().collect();
    (inner_attrs, stmts)
}

/// Whether a body's tokens end in `Box::pin(async ..)`, the shape
/// `#[async_trait]` leaves, told without parsing the body.
fn ends_in_box_pin_async(body: &TokenStream) -> bool {
    let tokens: Vec<TokenTree> = body.clone().into_iter().collect();
    let [
        ..,
        TokenTree::Ident(boxed),
        TokenTree::Punct(colon),
        TokenTree::Punct(colon2),
        TokenTree::Ident(pin),
        TokenTree::Group(call),
    ] = tokens.as_slice()
    else {
        return false;
    };
    boxed == "Box"
        && colon.as_char() == ':'
        && colon2.as_char() == ':'
        && pin == "pin"
        && call.delimiter() == Delimiter::Parenthesis
        && call
            .stream()
            .into_iter()
            .next()
            .is_some_and(|first| matches!(first, TokenTree::Ident(word) if word == "async"))
}

/// The error for an item that does not parse as a fn, told from its first
/// words after outer attributes and visibility, so that it works on items
/// whose body does not parse either. `None` for a fn whose signature does
/// not parse: rustc says what is wrong with it.
fn not_a_fn(attr: &str, item: &TokenStream) -> Option<syn::Error> {
    let tokens: Vec<TokenTree> = item.clone().into_iter().collect();
    let mut rest = tokens.as_slice();
    while let [TokenTree::Punct(hash), TokenTree::Group(group), tail @ ..] = rest
        && hash.as_char() == '#'
        && group.delimiter() == Delimiter::Bracket
    {
        rest = tail;
    }
    if let [TokenTree::Ident(word), tail @ ..] = rest
        && word == "pub"
    {
        rest = tail;
        if let [TokenTree::Group(group), tail @ ..] = rest
            && group.delimiter() == Delimiter::Parenthesis
        {
            rest = tail;
        }
    }
    // The leading words: `unsafe impl Repo for Db`, `const X`,
    // `extern "C" fn f` (the ABI string skipped).
    let words: Vec<&Ident> = rest
        .iter()
        .take_while(|token| matches!(token, TokenTree::Ident(_) | TokenTree::Literal(_)))
        .filter_map(|token| match token {
            TokenTree::Ident(word) => Some(word),
            _ => None,
        })
        .collect();
    let not_on = |spanned: TokenStream, what: &str| {
        syn::Error::new_spanned(
            spanned,
            format!("#[{attr}] goes on an async fn, not on {what}"),
        )
    };
    const QUALIFIERS: [&str; 7] = [
        "async", "const", "unsafe", "extern", "default", "safe", "auto",
    ];
    let Some(i) = words
        .iter()
        .position(|word| !QUALIFIERS.iter().any(|qualifier| *word == qualifier))
    else {
        return Some(not_on(item.clone(), "this item"));
    };
    // The keyword and the name after it, to report on (`struct Post`).
    let named = |keyword: &Ident, name: Option<&&Ident>| quote!(#keyword #name);
    let what = match words[i].to_string().as_str() {
        "fn" => return None,
        "struct" => "a struct",
        "enum" => "an enum",
        "union" => "a union",
        "trait" => "a trait; put it on the async fns (with a body) inside",
        "impl" => "an impl block; put it on each async fn inside (also under #[async_trait])",
        "mod" => "a module",
        "static" => "a static",
        // `const X`: the keyword was taken for a qualifier (`const fn`).
        _ if words[0] == "const" => {
            return Some(not_on(named(words[0], words.get(i)), "a const"));
        }
        _ => return Some(not_on(item.clone(), "this item")),
    };
    Some(not_on(named(words[i], words.get(i + 1)), what))
}

/// A never-taken `return` of the declared type, put first in the inner async
/// block so that the block's output type is known before its body is checked
/// (otherwise `?` cannot tell which `From` conversion to use), as
/// tracing-attributes and tokio-macros do.
///
/// `impl Trait` is not allowed in a `let`: each `impl Trait` in the return type
/// becomes `_` (so `Result<impl Display, MyError>` still pins `MyError`).
/// Nothing is emitted without a return type (`()`: `?` cannot be used
/// there anyway), for `!`, or for a return type that is all `impl Trait`.
fn return_type_pin(output: &ReturnType) -> Option<TokenStream> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    if matches!(**ty, Type::Never(_)) {
        return None;
    }
    let mut ty = (**ty).clone();
    ImplTraitToInfer.visit_type_mut(&mut ty);
    if matches!(ty, Type::Infer(_)) {
        return None;
    }
    Some(quote_spanned! {ty.span()=>
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let __multidb_ret: #ty = loop {};
            return __multidb_ret;
        }
    })
}

/// Replaces every `impl Trait` by `_`.
struct ImplTraitToInfer;

impl VisitMut for ImplTraitToInfer {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(impl_trait) = ty {
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: syn::Token![_](impl_trait.impl_token.span),
            });
            return;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

/// The async block in the `Box::pin(async move { .. })` that ends the body,
/// if any: the shape `#[async_trait]` leaves behind (tracing-attributes looks
/// for it too). Any path ending in `Box::pin` counts; the call must be the
/// tail expression (a statement ending in `;` returns nothing).
fn async_trait_future(block: &mut Block) -> Option<&mut Expr> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = block.stmts.last_mut() else {
        return None;
    };
    let Expr::Path(ExprPath {
        qself: None, path, ..
    }) = &*call.func
    else {
        return None;
    };
    let mut segments = path.segments.iter().rev();
    let is_box_pin = segments.next().is_some_and(|s| s.ident == "pin")
        && segments.next().is_some_and(|s| s.ident == "Box");
    if !is_box_pin || call.args.len() != 1 {
        return None;
    }
    let future = call.args.first_mut()?;
    matches!(future, Expr::Async(_)).then_some(future)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn use_master(args: TokenStream, item: TokenStream) -> TokenStream {
        expand(Kind::UseMaster, args, item)
    }

    /// The expansion, parsed back as a function.
    fn expanded_fn(kind: Kind, args: TokenStream, item: TokenStream) -> ItemFn {
        let tokens = expand(kind, args, item);
        syn::parse2(tokens.clone()).unwrap_or_else(|e| panic!("{e}: {tokens}"))
    }

    /// The messages of the `compile_error!`s in the expansion, found in its
    /// tokens (the item next to them may not parse).
    fn errors(tokens: &TokenStream) -> Vec<String> {
        let tokens: Vec<TokenTree> = tokens.clone().into_iter().collect();
        tokens
            .windows(3)
            .filter_map(|window| match window {
                [
                    TokenTree::Ident(name),
                    TokenTree::Punct(bang),
                    TokenTree::Group(message),
                ] if name == "compile_error" && bang.as_char() == '!' => {
                    let lit: syn::LitStr = syn::parse2(message.stream()).expect("a string");
                    Some(lit.value())
                }
                _ => None,
            })
            .collect()
    }

    fn normalize(tokens: impl ToTokens) -> String {
        tokens.to_token_stream().to_string()
    }

    /// The never-taken `return` of type `ty` every wrapped body starts
    /// with, spelled out as expected.
    fn never_taken_return(ty: TokenStream) -> TokenStream {
        quote! {
            #[allow(
                unknown_lints,
                unreachable_code,
                clippy::diverging_sub_expression,
                clippy::empty_loop,
                clippy::let_unit_value,
                clippy::let_with_type_underscore,
                clippy::needless_return,
                clippy::unreachable
            )]
            if false {
                let __multidb_ret: #ty = loop {};
                return __multidb_ret;
            }
        }
    }

    #[test]
    fn wraps_the_body_of_an_async_fn() {
        let func = expanded_fn(
            Kind::UseMaster,
            quote!(),
            quote! {
                async fn load(id: u32) -> Result<u32, Error> { let x = id?; Ok(x) }
            },
        );
        let pin = never_taken_return(quote!(Result<u32, Error>));
        let expected: ItemFn = syn::parse_quote! {
            async fn load(id: u32) -> Result<u32, Error> {
                ::multidb_seaorm::use_master(async move {
                    #pin
                    let x = id?;
                    Ok(x)
                })
                .await
            }
        };
        assert_eq!(normalize(&func), normalize(&expected));
    }

    #[test]
    fn db_write_calls_db_write() {
        let func = expanded_fn(
            Kind::DbWrite,
            quote!(),
            quote!(
                async fn handler() {}
            ),
        );
        assert_eq!(
            normalize(&func.block),
            normalize(quote!({ ::multidb_seaorm::db_write(async move {}).await }))
        );
    }

    #[test]
    fn crate_argument_replaces_the_path() {
        let func = expanded_fn(
            Kind::DbWrite,
            quote!(crate = "my_reexport::multidb"),
            quote!(
                async fn handler() {}
            ),
        );
        assert_eq!(
            normalize(&func.block),
            normalize(quote!({
                my_reexport::multidb::db_write(async move {}).await
            }))
        );
    }

    #[test]
    fn signature_and_attributes_are_kept() {
        let input: ItemFn = syn::parse_quote! {
            /// Docs.
            #[inline]
            #[must_use = "read it"]
            pub(crate) async unsafe fn get<'a, T: Clone + 'a, const N: usize>(
                &'a mut self,
                mut count: usize,
                (a, b): (T, T),
                Wrapper { inner }: Wrapper,
                _: u8,
                f: impl Fn(T) -> T,
            ) -> impl Iterator<Item = T> + 'a
            where
                T: Send,
            {
                #![allow(unused_mut)]
                Self::helper(self, count, a, b, inner, f)
            }
        };
        let output = expanded_fn(Kind::UseMaster, quote!(), input.to_token_stream());
        assert_eq!(normalize(&output.sig), normalize(&input.sig));
        assert_eq!(normalize(&output.vis), normalize(&input.vis));
        assert_eq!(output.attrs.len(), 4);
        for (got, want) in output.attrs.iter().zip(&input.attrs) {
            assert_eq!(normalize(got), normalize(want));
        }
        // The inner attribute is printed inside the new body, not before the fn.
        let printed = normalize(&output);
        assert!(
            printed.starts_with("# [doc = r\" Docs.\"] # [inline]"),
            "{printed}"
        );
        assert!(printed.contains("{ # ! [allow (unused_mut)] :: multidb_seaorm :: use_master"));
        // An `impl Trait` return cannot be named: no pin.
        assert!(!printed.contains("__multidb_ret"), "{printed}");
    }

    #[test]
    fn impl_trait_inside_the_return_type_becomes_infer() {
        let pin =
            return_type_pin(&syn::parse_quote!(-> Result<impl Display, MyError>)).expect("a pin");
        assert!(normalize(pin).contains("let __multidb_ret : Result < _ , MyError > = loop { } ;"));
        assert!(return_type_pin(&syn::parse_quote!(-> impl Future<Output = u8>)).is_none());
        assert!(return_type_pin(&syn::parse_quote!(-> !)).is_none());
        assert!(return_type_pin(&ReturnType::Default).is_none());
        let pin = return_type_pin(&syn::parse_quote!(-> &'a Self)).expect("a pin");
        assert!(normalize(pin).contains("let __multidb_ret : & 'a Self = loop { } ;"));
    }

    #[test]
    fn wraps_the_future_left_by_async_trait() {
        // What `#[async_trait]` makes of `async fn load(&self) -> u32 { 1 }`.
        let item = quote! {
            #[must_use]
            fn load<'life0, 'async_trait>(
                &'life0 self,
            ) -> ::core::pin::Pin<Box<dyn ::core::future::Future<Output = u32> + ::core::marker::Send + 'async_trait>>
            where
                'life0: 'async_trait,
                Self: 'async_trait,
            {
                Box::pin(async move {
                    if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<u32> {
                        #[allow(unreachable_code)]
                        return __ret;
                    }
                    let __self = self;
                    let __ret: u32 = { 1 };
                    #[allow(unreachable_code)]
                    __ret
                })
            }
        };
        let input: ItemFn = syn::parse2(item.clone()).expect("parses");
        let output = expanded_fn(Kind::UseMaster, quote!(), item);
        assert_eq!(normalize(&output.sig), normalize(&input.sig));
        assert_eq!(normalize(&output.attrs[0]), "# [must_use]");
        let Stmt::Expr(Expr::Async(original), None) = &syn::parse2::<Block>(quote!({
            async move {
                if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<u32> {
                    #[allow(unreachable_code)]
                    return __ret;
                }
                let __self = self;
                let __ret: u32 = { 1 };
                #[allow(unreachable_code)]
                __ret
            }
        }))
        .expect("a block")
        .stmts[0] else {
            panic!("not an async block")
        };
        let inner = &original.block;
        assert_eq!(
            normalize(&output.block),
            normalize(quote!({
                Box::pin(async move {
                    ::multidb_seaorm::use_master(async move #inner).await
                })
            }))
        );
    }

    #[test]
    fn async_trait_shape_with_full_box_path() {
        let output = expanded_fn(
            Kind::DbWrite,
            quote!(),
            quote!(
                fn f(&self) -> Pin<Box<dyn Future<Output = ()> + Send>> {
                    ::std::boxed::Box::pin(async move { work().await })
                }
            ),
        );
        assert_eq!(
            normalize(&output.block),
            normalize(quote!({
                ::std::boxed::Box::pin(async move {
                    ::multidb_seaorm::db_write(async move { work().await }).await
                })
            }))
        );
    }

    #[test]
    fn non_async_fn_is_an_error_and_the_item_is_kept() {
        let item = quote!(
            fn load() -> u32 {
                1
            }
        );
        let output = use_master(quote!(), item.clone());
        assert!(normalize(&output).starts_with(&normalize(&item)));
        assert_eq!(
            errors(&output),
            ["#[use_master] needs an async fn; for a future use multidb_seaorm::use_master(fut)"]
        );
        let output = expand(Kind::DbWrite, quote!(), item);
        assert_eq!(
            errors(&output),
            ["#[db_write] needs an async fn; for a future use multidb_seaorm::db_write(fut)"]
        );
    }

    #[test]
    fn other_non_async_shapes_are_errors() {
        // A plain async block (not boxed), a `Box::pin` of something else, a
        // `Box::pin(..);` statement: not what #[async_trait] leaves.
        for item in [
            quote!(
                fn f() -> impl Future<Output = ()> {
                    async move {}
                }
            ),
            quote!(
                fn f() -> Pin<Box<dyn Future<Output = ()>>> {
                    Box::pin(other())
                }
            ),
            quote!(
                fn f() {
                    Box::pin(async move {});
                }
            ),
            quote!(
                fn f() -> Pin<Box<dyn Future<Output = ()>>> {
                    Pin::new(async move {})
                }
            ),
        ] {
            let output = use_master(quote!(), item);
            assert_eq!(errors(&output).len(), 1, "{output}");
            assert!(errors(&output)[0].contains("needs an async fn"));
        }
    }

    #[test]
    fn const_fn_is_an_error() {
        let output = use_master(
            quote!(),
            quote!(
                const fn f() -> u32 {
                    1
                }
            ),
        );
        assert_eq!(
            errors(&output),
            ["#[use_master] cannot be used on a const fn; it needs an async fn"]
        );
    }

    #[test]
    fn non_fn_items_are_errors() {
        for (item, what) in [
            (
                quote!(
                    struct S {
                        a: u32,
                    }
                ),
                "a struct",
            ),
            (
                quote!(
                    enum E {
                        A,
                    }
                ),
                "an enum",
            ),
            (
                quote!(impl Repo for Db { async fn f(&self) {} }),
                "an impl block",
            ),
            (
                quote!(
                    trait T {
                        async fn f(&self);
                    }
                ),
                "a trait",
            ),
            (
                quote!(
                    mod m {}
                ),
                "a module",
            ),
            (
                quote!(
                    static X: u32 = 1;
                ),
                "a static",
            ),
            (
                quote!(
                    const X: u32 = 1;
                ),
                "a const",
            ),
            (
                quote!(
                    use std::fmt;
                ),
                "this item",
            ),
        ] {
            let output = use_master(quote!(), item.clone());
            assert!(normalize(&output).starts_with(&normalize(&item)));
            let errors = errors(&output);
            assert_eq!(errors.len(), 1, "{output}");
            assert!(
                errors[0].starts_with(&format!("#[use_master] goes on an async fn, not on {what}")),
                "{}",
                errors[0]
            );
        }
    }

    #[test]
    fn declaration_without_body_is_an_error() {
        let output = use_master(
            quote!(),
            quote!(
                async fn f(&self) -> u32;
            ),
        );
        assert_eq!(
            errors(&output),
            [
                "#[use_master] needs an async fn with a body; put it on the implementations, not on the declaration"
            ]
        );
    }

    #[test]
    fn argument_errors_keep_the_item() {
        let item = quote!(
            async fn f() {}
        );
        let output = use_master(quote!(name = "x"), item.clone());
        assert!(normalize(&output).starts_with(&normalize(&item)));
        assert_eq!(errors(&output).len(), 1);
        assert!(errors(&output)[0].starts_with("unknown argument `name`"));
        let output = use_master(quote!(crate = 5), item);
        assert!(errors(&output)[0].starts_with("`crate` expects a string"));
    }

    #[test]
    fn argument_and_item_errors_are_both_reported() {
        let output = use_master(
            quote!(name = "x"),
            quote!(
                fn f() {}
            ),
        );
        let errors = errors(&output);
        assert_eq!(errors.len(), 2, "{output}");
        assert!(errors[0].starts_with("unknown argument"));
        assert!(errors[1].contains("needs an async fn"));
    }

    #[test]
    fn unparsable_item_is_an_error() {
        let item = quote!(this is not an item);
        let output = use_master(quote!(), item.clone());
        assert!(normalize(&output).starts_with(&normalize(&item)));
        assert!(normalize(&output).contains("compile_error"));
    }

    #[test]
    fn async_body_is_wrapped_without_being_parsed() {
        // A missing `;` and a stray token: rustc reports them on the
        // wrapped tokens, which keep their spans; the macro says nothing.
        let output = use_master(
            quote!(),
            quote!(
                async fn load(id: u32) -> u32 {
                    #![allow(unused)]
                    let x = id
                    let y = x + ;
                    y
                }
            ),
        );
        assert!(errors(&output).is_empty(), "{output}");
        let pin = never_taken_return(quote!(u32));
        assert_eq!(
            normalize(&output),
            normalize(quote!(
                async fn load(id: u32) -> u32 {
                    #![allow(unused)]
                    ::multidb_seaorm::use_master(async move {
                        #pin
                        let x = id
                        let y = x + ;
                        y
                    })
                    .await
                }
            ))
        );
    }

    #[test]
    fn broken_signature_is_left_to_rustc() {
        for item in [
            quote!(
                async fn load(id: ) -> u32 { id }
            ),
            quote!(
                #[inline]
                pub(crate) async unsafe fn load<T>(x: u32 y: u32) {}
            ),
            quote!(
                extern "C" fn f() -> {}
            ),
            quote!(async fn f() {}, trailing),
        ] {
            let output = use_master(quote!(), item.clone());
            assert_eq!(normalize(&output), normalize(&item));
        }
        // The arguments' errors are still reported.
        let item = quote!(
            async fn load(id: ) {}
        );
        let output = use_master(quote!(name = "x"), item);
        assert_eq!(errors(&output).len(), 1, "{output}");
        assert!(errors(&output)[0].starts_with("unknown argument `name`"));
    }

    #[test]
    fn non_async_fn_with_a_broken_body_is_still_not_async() {
        let item = quote!(
            fn load() -> u32 {
                1 +
            }
        );
        let output = use_master(quote!(), item.clone());
        assert!(normalize(&output).starts_with(&normalize(&item)));
        assert_eq!(
            errors(&output),
            ["#[use_master] needs an async fn; for a future use multidb_seaorm::use_master(fut)"]
        );
    }

    #[test]
    fn async_trait_shape_with_a_broken_body_is_left_to_rustc() {
        let item = quote!(
            fn load(&self) -> Pin<Box<dyn Future<Output = u32> + Send>> {
                Box::pin(async move {
                    let x = 1
                    x
                })
            }
        );
        let output = use_master(quote!(), item.clone());
        assert_eq!(normalize(&output), normalize(&item));
    }

    #[test]
    fn non_fn_items_with_broken_bodies_are_errors() {
        for (item, what) in [
            (
                quote!(impl Db { async fn f(&self) { let x = } }),
                "an impl block",
            ),
            (quote!(pub struct S { a: }), "a struct"),
            (
                quote!(#[doc = "d"] unsafe trait T { fn f() -> {} }),
                "a trait",
            ),
            (quote!(pub(crate) const X: u32 = ;), "a const"),
            (quote!(enum E { A = }), "an enum"),
            (quote!(extern crate;), "this item"),
        ] {
            let output = use_master(quote!(), item.clone());
            assert!(normalize(&output).starts_with(&normalize(&item)));
            let errors = errors(&output);
            assert_eq!(errors.len(), 1, "{output}");
            assert!(
                errors[0].starts_with(&format!("#[use_master] goes on an async fn, not on {what}")),
                "{}",
                errors[0]
            );
        }
    }
}
