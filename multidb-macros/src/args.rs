//! The arguments of `#[use_master(...)]` and `#[db_write(...)]`.
//!
//! The only one is `crate = "path"`, for users who reach multidb through a
//! renamed dependency or a re-export.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, Meta, Path, Token};

/// Parsed attribute arguments.
///
/// Not `Debug`: syn's `Path` is `Debug` only with its `extra-traits`
/// feature, which this crate does not need otherwise.
#[derive(Default)]
pub(crate) struct Args {
    /// `crate = "..."`: where `use_master` and `db_write` (the functions)
    /// live; `None` means `::multidb_seaorm`.
    pub(crate) krate: Option<Path>,
}

impl Args {
    /// The path the expansion calls the runtime functions through.
    pub(crate) fn krate(&self) -> Path {
        self.krate
            .clone()
            .unwrap_or_else(|| syn::parse_quote!(::multidb_seaorm))
    }
}

const USAGE: &str =
    "the only argument is `crate = \"path\"`, e.g. `crate = \"my_reexport::multidb\"`";

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        for meta in Punctuated::<Meta, Token![,]>::parse_terminated(input)? {
            if !meta.path().is_ident("crate") {
                return Err(syn::Error::new_spanned(
                    &meta,
                    format!("unknown argument `{}`; {USAGE}", path_name(meta.path())),
                ));
            }
            let value = match &meta {
                Meta::NameValue(name_value) => &name_value.value,
                Meta::Path(_) | Meta::List(_) => {
                    return Err(syn::Error::new_spanned(
                        &meta,
                        "`crate` needs a value: `crate = \"path\"`, e.g. `crate = \"my_reexport::multidb\"`",
                    ));
                }
            };
            let Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) = value
            else {
                return Err(syn::Error::new_spanned(
                    value,
                    "`crate` expects a string holding a path, e.g. `crate = \"my_reexport::multidb\"`",
                ));
            };
            let path = lit.parse::<Path>().map_err(|_| {
                syn::Error::new_spanned(
                    lit,
                    format!(
                        "`{}` is not a path; `crate` expects a path such as \"my_reexport::multidb\"",
                        lit.value()
                    ),
                )
            })?;
            if args.krate.replace(path).is_some() {
                return Err(syn::Error::new_spanned(&meta, "`crate` is given twice"));
            }
        }
        Ok(args)
    }
}

fn path_name(path: &Path) -> String {
    let segments: Vec<String> = path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    segments.join("::")
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::{ToTokens, quote};

    fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<Args> {
        syn::parse2(tokens)
    }

    fn error(tokens: proc_macro2::TokenStream) -> String {
        match parse(tokens) {
            Ok(args) => panic!(
                "expected an error, got crate = {}",
                args.krate().to_token_stream()
            ),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn no_arguments_means_multidb_seaorm() {
        let args = parse(quote!()).expect("empty arguments parse");
        assert!(args.krate.is_none());
        assert_eq!(
            args.krate().to_token_stream().to_string(),
            ":: multidb_seaorm"
        );
    }

    #[test]
    fn crate_override() {
        let args = parse(quote!(crate = "my_reexport::multidb")).expect("parses");
        assert_eq!(
            args.krate().to_token_stream().to_string(),
            "my_reexport :: multidb"
        );
        let args = parse(quote!(crate = "::renamed",)).expect("trailing comma parses");
        assert_eq!(args.krate().to_token_stream().to_string(), ":: renamed");
    }

    #[test]
    fn unknown_argument() {
        assert!(error(quote!(foo)).starts_with("unknown argument `foo`"));
        assert!(error(quote!(foo = "bar")).starts_with("unknown argument `foo`"));
        assert!(error(quote!(a::b(1))).starts_with("unknown argument `a::b`"));
        assert!(error(quote!(crate = "x", name = "y")).starts_with("unknown argument `name`"));
    }

    #[test]
    fn crate_must_be_a_string_path() {
        assert!(error(quote!(crate = 5)).starts_with("`crate` expects a string"));
        assert!(error(quote!(crate = my::path)).starts_with("`crate` expects a string"));
        assert!(error(quote!(crate = "not a path")).contains("is not a path"));
        assert!(error(quote!(crate)).starts_with("`crate` needs a value"));
        assert!(error(quote!(crate("x"))).starts_with("`crate` needs a value"));
        assert_eq!(
            error(quote!(crate = "a", crate = "b")),
            "`crate` is given twice"
        );
    }

    #[test]
    fn not_a_meta() {
        assert!(parse(quote!(5)).is_err());
        assert!(parse(quote!(crate = "a" "b")).is_err());
    }
}
