//! The SSC conformance harness as a library; the `ssc-harness` binary (`src/main.rs`,
//! `src/cli/`) is its command line and the only place that knows about flags.
//!
//! What is where, from the bottom up:
//!
//! - [`card`]: commands built from the card model's names (SELECT by name, of the SSSE);
//!   the names and key ids themselves are `applet_sim::model`'s.
//! - [`declaration`]: the card under test as its profile declares it, and the `$…` values
//!   vectors take from it; [`preflight`]: a reader's card checked against it before a run.
//! - [`transport`]: where APDUs go: the [`transport::Transport`] trait, the in-process card
//!   ([`transport::SimTransport`], any [`applet_sim::SmartCard`]), PC/SC readers (feature
//!   `pcsc`), the reader-style T=0 follow-up ([`transport::exchange`]) and `--trace`
//!   ([`transport::Traced`]).
//! - [`pattern`]: expected responses (`< 9000`, `* 61xx`, captures).
//! - [`psam`]: the terminal's security operations, written once over the primitives of
//!   [`psam::Crypto`]: software keys ([`psam::keys`], [`psam::Software`]) or a PSAM card
//!   through its APDUs ([`psam::PsamCard`]); the operations as vectors name them
//!   ([`psam::op`]).
//! - [`vectors`]: the native vector format: model, parser, high-level steps; [`import`]:
//!   scripts in other formats.
//! - [`runner`]: replay of cases against a transport; [`jobs`]: the same over several
//!   transports; [`identity`]: what a run was (time, tool, ATR, declaration, suite);
//!   [`requirements`]: the requirements list and a verdict for each; [`report`]: text,
//!   JSON, JUnit and HTML reports of the results; [`writer`]: results written back as
//!   native vectors (`record`).
//! - [`service`]: service-centre and bank flows (read the holder's data, the key check, PIN
//!   reset, blocking, the bank's PIN reload and temporary block); [`reissue`]: a new card
//!   for the same holder;
//!   [`bench`](mod@bench): VERIFY throughput; [`tear`]: power cuts at every write;
//!   [`check`]: the card's data checked item by item against the specification.
//!
//! The same vectors run against the in-process card and any PC/SC reader; see
//! docs/ARCHITECTURE.md for the command-line contract of `ssc-harness`.

pub mod bench;
pub mod card;
pub mod check;
pub mod declaration;
pub mod diff;
pub mod identity;
pub mod import;
pub mod jobs;
pub mod pattern;
pub mod preflight;
pub mod psam;
pub mod reissue;
pub mod report;
pub mod requirements;
pub mod runner;
pub mod service;
pub mod tear;
pub mod transport;
pub mod vectors;
pub mod writer;
