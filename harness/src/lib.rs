//! The SSC conformance harness as a library; the `ssc-harness` binary (`src/main.rs`,
//! `src/cli/`) is its command line and the only place that knows about flags.
//!
//! What is where, from the bottom up:
//!
//! - [`card`]: commands built from the card model's names (SELECT by name, of the SSSE);
//!   the names and key ids themselves are `applet_sim::model`'s.
//! - [`transport`]: where APDUs go: the [`transport::Transport`] trait, the in-process card
//!   ([`transport::SimTransport`], any [`applet_sim::SmartCard`]), PC/SC readers (feature
//!   `pcsc`), and the reader-style T=0 follow-up ([`transport::exchange`]).
//! - [`pattern`]: expected responses (`< 9000`, `* 61xx`, captures).
//! - [`psam`]: the software PSAM: its keys ([`psam::keys`]), the issuer-security operations,
//!   and the operations as vectors name them ([`psam::op`]).
//! - [`vectors`]: the native vector format: model, parser, high-level steps; [`import`]:
//!   scripts in other formats.
//! - [`runner`]: replay of cases against a transport; [`jobs`]: the same over several
//!   transports; [`report`]: text, JSON and JUnit reports of the results; [`writer`]:
//!   results written back as native vectors (`record`).
//! - [`service`]: service-centre flows (read the holder's data, PIN reset, blocking);
//!   [`bench`](mod@bench): VERIFY throughput; [`tear`]: power cuts at every write.
//!
//! The same vectors run against the in-process card and any PC/SC reader; see
//! docs/ARCHITECTURE.md for the command-line contract of `ssc-harness`.

pub mod bench;
pub mod card;
pub mod import;
pub mod jobs;
pub mod pattern;
pub mod psam;
pub mod report;
pub mod runner;
pub mod service;
pub mod tear;
pub mod transport;
pub mod vectors;
pub mod writer;
