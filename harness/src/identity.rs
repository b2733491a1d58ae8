//! What a run was, so that a report says what it is evidence of: when it ran and with which
//! version of the tool, the card (its ATR, as read at the start of the run), the declaration
//! the cases were written against, the suite and the requirements list. Each input is
//! named by its SM3 digest (the hash the card itself uses, already in the tree):
//!
//! - the declaration: [`applet_sim::Profile::digest`], SM3 of the profile's canonical text
//!   (the same digest a state file records);
//! - the suite ([`suite_digest`]): for every vector file and script the run read (includes
//!   once each), sorted by path, the line `PATH NUL SM3(contents) in hex LF`, and SM3 of
//!   their concatenation;
//! - the requirements list: SM3 of its file's bytes.

use std::time::{SystemTime, UNIX_EPOCH};

use sm3::Digest;

use crate::vectors::Declared;

/// The hash of every digest of the identity.
pub const DIGEST_ALGORITHM: &str = "SM3";

/// The tool's name.
pub const TOOL: &str = "ssc-harness";

/// The tool's version (the harness crate's).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The identity of a run (the target is [`crate::runner::RunReport::target`], the
/// requirements list [`crate::runner::RunReport::requirements`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunIdentity {
    /// When the run started, UTC, RFC 3339 (`2026-12-03T15:34:02Z`).
    pub started: String,
    /// [`VERSION`].
    pub version: String,
    /// The card's ATR, read from the first job's transport before the first case.
    pub atr: Option<Vec<u8>>,
    /// The declaration the cases were written against.
    pub declaration: Option<DeclarationId>,
    /// The suite that was read.
    pub suite: Option<SuiteId>,
}

impl RunIdentity {
    /// A run starting now on a card whose ATR is `atr`.
    #[must_use]
    pub fn starting_now(atr: Option<Vec<u8>>) -> Self {
        Self {
            started: rfc3339(SystemTime::now()),
            version: VERSION.to_owned(),
            atr,
            declaration: None,
            suite: None,
        }
    }
}

/// A declaration by name and digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclarationId {
    /// The name it was given by (`gen3`, `vendor.toml`).
    pub name: String,
    /// SM3 of the profile's canonical text ([`applet_sim::Profile::digest`]).
    pub digest: [u8; 32],
    /// True when the run declared it (`--profile`, or any run on a reader); false: the
    /// built-in card, which a file's `profile` line replaces for its cases.
    pub fixed: bool,
}

impl DeclarationId {
    /// The identity of the card `declared`.
    #[must_use]
    pub fn of(declared: &Declared) -> Self {
        Self {
            name: declared.declaration.name.clone(),
            digest: declared.declaration.profile.digest(),
            fixed: declared.fixed,
        }
    }
}

/// The suite a run read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuiteId {
    /// [`suite_digest`] of its files.
    pub digest: [u8; 32],
    /// How many files it read (includes once each).
    pub files: usize,
}

/// SM3 of `bytes`.
#[must_use]
pub fn sm3(bytes: &[u8]) -> [u8; 32] {
    sm3::Sm3::digest(bytes).into()
}

/// The digest of a suite from each file's path and SM3, which must come sorted by path:
/// SM3 over `PATH NUL HEX(SM3(contents)) LF` for each file.
#[must_use]
pub fn suite_digest<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8; 32])>) -> [u8; 32] {
    let mut h = sm3::Sm3::new();
    for (path, digest) in files {
        h.update(path.as_bytes());
        h.update([0]);
        h.update(hex::encode(digest).as_bytes());
        h.update(b"\n");
    }
    h.finalize().into()
}

/// `t` in UTC as RFC 3339 to the second (`2026-12-03T15:34:02Z`); a time before 1970 is
/// written as 1970-01-01T00:00:00Z.
#[must_use]
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`,
/// for days ≥ 0).
fn civil(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64) -> String {
        rfc3339(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_210_096), "2024-02-29T12:34:56Z");
        assert_eq!(at(1_798_761_599), "2026-12-31T23:59:59Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn the_suite_digest_depends_on_paths_and_contents() {
        let (a, b) = (sm3(b"case a\n"), sm3(b"case b\n"));
        let one = suite_digest([("x/a.apdu", &a), ("x/b.apdu", &b)]);
        assert_eq!(one, suite_digest([("x/a.apdu", &a), ("x/b.apdu", &b)]));
        assert_ne!(one, suite_digest([("x/a.apdu", &b), ("x/b.apdu", &a)]));
        assert_ne!(one, suite_digest([("y/a.apdu", &a), ("x/b.apdu", &b)]));
        assert_ne!(one, suite_digest([("x/a.apdu", &a)]));
    }

    #[test]
    fn sm3_is_the_standard_one() {
        // GB/T 32905-2016, example 1: SM3("abc").
        assert_eq!(
            hex::encode(sm3(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }
}
