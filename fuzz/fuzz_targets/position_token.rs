//! The replication-position token parser (`WritePosition::from_str`), as it
//! reads job payloads and pin cookies: never panics, and whatever it
//! accepts prints back to text it reads as the same position.
#![no_main]

use libfuzzer_sys::fuzz_target;
use multidb_core::position::WritePosition;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(position) = text.parse::<WritePosition>()
    {
        let again = position.to_string().parse::<WritePosition>().ok();
        assert_eq!(again, Some(position), "round trip of {text:?}");
    }
});
