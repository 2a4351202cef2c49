//! Compile-time tests with trybuild: what compiles, and the exact
//! diagnostics of what does not.
//!
//! Diagnostics change between compiler versions, so this runs only on the
//! toolchain the `.stderr` snapshots were made with. To update them after
//! a change: `TRYBUILD=overwrite cargo test -p multidb-macros --test ui`,
//! then review the diff.

use std::process::Command;

/// The toolchain the snapshots were made with.
const SNAPSHOT_TOOLCHAIN: &str = "rustc 1.95.";

#[test]
fn ui() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = match Command::new(&rustc).arg("--version").output() {
        Ok(output) => String::from_utf8_lossy(&output.stdout).into_owned(),
        Err(error) => {
            println!("skipping the UI tests: cannot run {rustc:?} --version: {error}");
            return;
        }
    };
    if !version.starts_with(SNAPSHOT_TOOLCHAIN) {
        println!(
            "skipping the UI tests: the snapshots are for {SNAPSHOT_TOOLCHAIN}x, this is {}",
            version.trim()
        );
        return;
    }
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
