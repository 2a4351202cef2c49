//! Compile-time tests with trybuild: what the compiler says when a
//! `MultiDb` is used where it cannot be, and when the builder is used in a
//! way that would ignore a setting. The notes must name public paths only.
//!
//! Diagnostics change between compiler versions, so this runs only on the
//! toolchain the `.stderr` snapshots were made with. To update them:
//! `TRYBUILD=overwrite cargo test -p multidb-seaorm --test ui`, then review
//! the diff.

use std::process::Command;

/// The toolchain the snapshots were made with.
const SNAPSHOT_TOOLCHAIN: &str = "rustc 1.95.";

#[test]
fn ui() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = Command::new(&rustc)
        .arg("--version")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
        .unwrap_or_default();
    if !version.starts_with(SNAPSHOT_TOOLCHAIN) {
        println!(
            "skipping the UI tests: the snapshots are for {SNAPSHOT_TOOLCHAIN}x, not {version:?}"
        );
        return;
    }
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
