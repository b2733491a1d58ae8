//! The SSC conformance harness: the native vector format ([`vectors`], [`pattern`]),
//! transports ([`transport`]), replay ([`runner`]) and reports ([`report`]).
//!
//! The same vectors run against the in-process card and, later, any PC/SC reader; see
//! design/ARCHITECTURE.md for the command-line contract of `ssc-harness`.

pub mod bench;
pub mod cli;
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
