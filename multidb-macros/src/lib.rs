//! Attribute macros of multidb (being written).
use proc_macro::TokenStream;

/// Placeholder.
#[proc_macro_attribute]
pub fn use_master(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Placeholder.
#[proc_macro_attribute]
pub fn db_write(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
