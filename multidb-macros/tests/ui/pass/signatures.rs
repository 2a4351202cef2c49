//! Every signature shape the attributes accept, compiled with warnings denied
//! (the expansion adds none, and attributes on the fn are kept).
#![deny(warnings)]

use std::fmt::{Debug, Display};

use multidb_seaorm::{db_write, use_master};

/// A documented, public wrapped function.
#[use_master]
#[allow(unused_variables)] // kept: `unused` would fail under deny(warnings)
pub async fn documented(unused: u32) -> u32 {
    1
}

#[use_master]
#[must_use]
async fn must_be_used() -> u32 {
    2
}

#[db_write]
async unsafe fn unsafe_fn(pointer: *const u32) -> u32 {
    // SAFETY: callers pass a valid pointer.
    unsafe { *pointer }
}

#[use_master]
async fn generic<'a, T, const N: usize>(items: &'a [T; N], fallback: &'a T) -> &'a T
where
    T: Debug + Sync,
{
    items.first().unwrap_or(fallback)
}

#[use_master]
async fn impl_trait(value: impl Display + Send) -> impl Display {
    format!("{value}")
}

#[use_master]
async fn impl_trait_in_result(text: &str) -> Result<impl Display, std::num::ParseIntError> {
    let n: u8 = text.parse()?;
    Ok(n)
}

#[use_master]
async fn never_returns() -> ! {
    loop {
        std::future::pending::<()>().await;
    }
}

#[use_master]
async fn inner_attribute() -> u32 {
    #![allow(unused_mut)]
    let mut n = 3;
    n
}

struct Thing(u32);

impl Thing {
    #[use_master]
    async fn by_ref(&self) -> &u32 {
        &self.0
    }

    #[use_master]
    async fn by_mut(&mut self) -> &mut Self {
        self.0 += 1;
        self
    }

    #[use_master]
    async fn by_value(self) -> Self {
        Self(self.0 + 1)
    }

    #[use_master]
    async fn by_mut_value(mut self, (a, b): (u32, u32)) -> Self {
        self.0 += a + b;
        self
    }
}

mod renamed {
    pub(crate) use multidb_seaorm as db;
}

#[use_master(crate = "crate::renamed::db")]
async fn through_renamed() {}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let _ = documented(0).await;
    let _ = must_be_used().await;
    let value = 5;
    let _ = unsafe { unsafe_fn(&value).await };
    let _ = generic(&[1, 2], &0).await;
    let _ = impl_trait(1).await.to_string();
    let _ = impl_trait_in_result("1").await.map(|n| n.to_string());
    let _ = never_returns;
    let _ = inner_attribute().await;
    let thing = Thing(0);
    let _ = thing.by_ref().await;
    let mut thing = thing.by_value().await.by_mut_value((1, 2)).await;
    thing.by_mut().await;
    through_renamed().await;
}
