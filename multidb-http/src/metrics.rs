//! The pins through the `metrics` crate facade (feature `metrics`):
//! `multidb.http.pins{reason}` for each pin a response hands out, and
//! `multidb.http.rejected_pins{reason}` for each pin token a request carried
//! that was ignored. No-ops without the feature. The names and labels are
//! public promises (the README lists them).

use crate::pin::PinnedBy;
use crate::token::Reject;

/// Why a pin token a request carried was ignored (`reason` of
/// `multidb.http.rejected_pins`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// Not a token we could have issued.
    Malformed,
    /// Keys are configured and its signature is missing or matches none.
    BadSignature,
    /// The pin is over.
    Expired,
    /// It ends later than any pin we issue could.
    TooFarAhead,
    /// Its position belongs to another cluster than the other pins' (the
    /// request then reads the primary, as for a timed pin).
    OtherCluster,
}

impl Rejected {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn as_str(self) -> &'static str {
        match self {
            Rejected::Malformed => "malformed",
            Rejected::BadSignature => "bad_signature",
            Rejected::Expired => "expired",
            Rejected::TooFarAhead => "too_far_ahead",
            Rejected::OtherCluster => "other_cluster",
        }
    }
}

impl From<Reject> for Rejected {
    fn from(reject: Reject) -> Self {
        match reject {
            Reject::Malformed => Rejected::Malformed,
            Reject::Unsigned | Reject::BadSignature => Rejected::BadSignature,
            Reject::Expired => Rejected::Expired,
            Reject::TooFarAhead => Rejected::TooFarAhead,
        }
    }
}

/// The `reason` of `multidb.http.pins`: the words of the logs, but
/// `response_marked` for a response carrying `DbWrite`.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
fn pin_reason(reason: PinnedBy) -> &'static str {
    match reason {
        PinnedBy::Marked => "response_marked",
        other => other.as_str(),
    }
}

/// `multidb.http.pins{reason}` +1: a response pins its client.
#[inline]
pub(crate) fn pin_issued(reason: PinnedBy) {
    #[cfg(feature = "metrics")]
    metrics::counter!("multidb.http.pins", "reason" => pin_reason(reason)).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = reason;
}

/// `multidb.http.rejected_pins{reason}` +1: a pin token a request carried
/// was ignored.
#[inline]
pub(crate) fn pin_rejected(reason: impl Into<Rejected>) {
    let reason = reason.into();
    #[cfg(feature = "metrics")]
    metrics::counter!("multidb.http.rejected_pins", "reason" => reason.as_str()).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = reason;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_promised_words() {
        let pins: Vec<_> = [
            PinnedBy::Method,
            PinnedBy::DbWrite,
            PinnedBy::Marked,
            PinnedBy::Wrote,
        ]
        .into_iter()
        .map(pin_reason)
        .collect();
        assert_eq!(pins, ["method", "db_write", "response_marked", "wrote"]);
        let rejected: Vec<_> = [
            Reject::Malformed,
            Reject::Unsigned,
            Reject::BadSignature,
            Reject::Expired,
            Reject::TooFarAhead,
        ]
        .into_iter()
        .map(|r| Rejected::from(r).as_str())
        .collect();
        assert_eq!(
            rejected,
            [
                "malformed",
                "bad_signature",
                "bad_signature",
                "expired",
                "too_far_ahead"
            ]
        );
        assert_eq!(Rejected::OtherCluster.as_str(), "other_cluster");
    }
}
