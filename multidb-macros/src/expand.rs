//! The expansion, on `proc_macro2` tokens so that it can be unit-tested.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, ExprAsync, ExprPath, Ident, Item, ItemFn, ReturnType, Stmt, Type};

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
/// On error, returns the item unchanged followed by `compile_error!`s, so
/// that the rest of the crate (and the IDE) still sees the function.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let args = syn::parse2::<Args>(args);
    // Check the item even when the arguments are wrong, to report both.
    let default_args = Args::default();
    let expanded = parse_fn(kind, item.clone())
        .and_then(|func| wrap(kind, args.as_ref().unwrap_or(&default_args), func));
    let result = match (args, expanded) {
        (Ok(_), Ok(tokens)) => Ok(tokens),
        (Err(mut error), Err(item_error)) => {
            error.combine(item_error);
            Err(error)
        }
        (Err(error), Ok(_)) | (Ok(_), Err(error)) => Err(error),
    };
    match result {
        Ok(tokens) => tokens,
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#item #error)
        }
    }
}

/// Parse the item as a function with a body, or explain what it is instead.
fn parse_fn(kind: Kind, item: TokenStream) -> syn::Result<ItemFn> {
    if let Ok(func) = syn::parse2::<ItemFn>(item.clone()) {
        return Ok(func);
    }
    let attr = kind.name();
    if let Ok(method) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
        // Only a declaration without a body gets here (`fn f();`).
        return Err(syn::Error::new_spanned(
            &method.sig,
            format!(
                "#[{attr}] needs an async fn with a body; put it on the implementations, not on the declaration"
            ),
        ));
    }
    // Span the error on the item's keyword and name, not on all of it.
    let not_a_fn = |keyword: &dyn ToTokens, name: &dyn ToTokens, what: &str| {
        syn::Error::new_spanned(
            quote!(#keyword #name),
            format!("#[{attr}] goes on an async fn, not on {what}"),
        )
    };
    Err(match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Struct(s)) => not_a_fn(&s.struct_token, &s.ident, "a struct"),
        Ok(Item::Enum(e)) => not_a_fn(&e.enum_token, &e.ident, "an enum"),
        Ok(Item::Union(u)) => not_a_fn(&u.union_token, &u.ident, "a union"),
        Ok(Item::Trait(t)) => not_a_fn(
            &t.trait_token,
            &t.ident,
            "a trait; put it on the async fns (with a body) inside",
        ),
        Ok(Item::Impl(i)) => not_a_fn(
            &i.impl_token,
            &i.self_ty,
            "an impl block; put it on each async fn inside (also under #[async_trait])",
        ),
        Ok(Item::Mod(m)) => not_a_fn(&m.mod_token, &m.ident, "a module"),
        Ok(Item::Const(c)) => not_a_fn(&c.const_token, &c.ident, "a const"),
        Ok(Item::Static(s)) => not_a_fn(&s.static_token, &s.ident, "a static"),
        Ok(_) | Err(_) => syn::Error::new_spanned(
            &item,
            format!("#[{attr}] goes on an async fn, not on this item"),
        ),
    })
}

/// Rewrite the function's body to run inside the runtime function.
fn wrap(kind: Kind, args: &Args, mut func: ItemFn) -> syn::Result<TokenStream> {
    let attr = kind.name();
    if let Some(constness) = &func.sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            format!("#[{attr}] cannot be used on a const fn; it needs an async fn"),
        ));
    }
    let krate = args.krate();
    // With `crate = "..."`, errors about the path (no such function there)
    // point at the string.
    let path_span = args
        .krate
        .as_ref()
        .map_or_else(Span::call_site, Spanned::span);
    let runtime_fn = Ident::new(attr, path_span);

    if func.sig.asyncness.is_some() {
        // `async fn f(..) -> R { body }` becomes
        // `async fn f(..) -> R { path::use_master(async move { pin body }).await }`.
        // The outer future owns the arguments, so moving them into the inner
        // block is fine; `&self` moves a reference.
        let pin = return_type_pin(&func.sig.output);
        let stmts = &func.block.stmts;
        let body = quote! {
            #krate::#runtime_fn(async move { #pin #(#stmts)* }).await
        };
        func.block.stmts = vec![Stmt::Expr(Expr::Verbatim(body), None)];
        // Inner attributes (`#![allow(..)]`) stay in `func.attrs`; ItemFn's
        // `ToTokens` prints them inside the new body.
        return Ok(func.into_token_stream());
    }

    if let Some(future) = async_trait_future(&mut func.block) {
        // `#[async_trait]` already ran and left
        // `fn f(..) -> Pin<Box<dyn Future<..>>> { Box::pin(async move { body }) }`;
        // it pins the block's output type itself. Wrap the block's contents,
        // capturing the same way (`move` or not) as the original block.
        if let Expr::Async(ExprAsync {
            attrs,
            async_token,
            capture,
            block,
        }) = &*future
        {
            let wrapped = quote! {
                #(#attrs)* #async_token #capture {
                    #krate::#runtime_fn(async #capture #block).await
                }
            };
            *future = Expr::Verbatim(wrapped);
        }
        return Ok(func.into_token_stream());
    }

    let fn_token = &func.sig.fn_token;
    let ident = &func.sig.ident;
    Err(syn::Error::new_spanned(
        quote!(#fn_token #ident),
        format!("#[{attr}] needs an async fn; for a future use multidb_seaorm::{attr}(fut)"),
    ))
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

    /// The messages of the `compile_error!`s in the expansion.
    fn errors(tokens: &TokenStream) -> Vec<String> {
        let file: syn::File =
            syn::parse2(tokens.clone()).unwrap_or_else(|e| panic!("{e}: {tokens}"));
        file.items
            .iter()
            .filter_map(|item| match item {
                Item::Macro(m)
                    if m.mac
                        .path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == "compile_error") =>
                {
                    let lit: syn::LitStr = m.mac.parse_body().expect("a string");
                    Some(lit.value())
                }
                _ => None,
            })
            .collect()
    }

    fn normalize(tokens: impl ToTokens) -> String {
        tokens.to_token_stream().to_string()
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
        let expected: ItemFn = syn::parse_quote! {
            async fn load(id: u32) -> Result<u32, Error> {
                ::multidb_seaorm::use_master(async move {
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
                        let __multidb_ret: Result<u32, Error> = loop {};
                        return __multidb_ret;
                    }
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
}
