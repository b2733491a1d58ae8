//! Why a transport could not reach the card (not a card's answer).

use applet_sim::ProfileError;
use applet_sim::StateError;
use applet_sim::testing::OpenError;

/// What `--reader` says when the harness was built without the PC/SC transport.
pub const NO_PCSC: &str = "this ssc-harness was built without the `pcsc` feature; build it with \
`cargo build --release -p harness --features pcsc` (needs libpcsclite-dev and pkg-config)";

/// A transport failure (the card could not be reached, not a card's answer). Each variant
/// keeps the error it comes from as its [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The card answered 61xx/6Cxx to every follow-up, past the limit.
    #[error("transport: the card kept answering 61xx/6Cxx")]
    EndlessFollowUp,
    /// A profile asked for by a vector file cannot be loaded.
    #[error("transport")]
    Profile(#[source] ProfileError),
    /// The virtual card's state file cannot be opened (refused, locked, I/O).
    #[error("transport")]
    State(#[source] StateError),
    /// The virtual card's state file cannot be rewritten to the initial state.
    #[error("transport: restoring the state file")]
    Restore(#[source] std::io::Error),
    /// The in-memory state file of the tearing transport cannot be opened.
    #[error("transport: in-memory state file")]
    MemoryState(#[source] OpenError),
    /// PC/SC failed.
    #[cfg(feature = "pcsc")]
    #[error("transport: PC/SC")]
    Pcsc(#[from] pcsc::Error),
    /// The reader cannot be connected to (or holds no card).
    #[cfg(feature = "pcsc")]
    #[error("transport: reader {reader:?}")]
    Reader {
        /// The reader's name.
        reader: String,
        /// What PC/SC said.
        source: pcsc::Error,
    },
    /// A reader name that PC/SC cannot take.
    #[error("transport: reader name contains NUL")]
    ReaderName,
    /// The `--restore-cmd` command cannot be started.
    #[error("transport: restore command {command:?}")]
    RestoreCommand {
        /// The command.
        command: String,
        /// Why it could not run.
        source: std::io::Error,
    },
    /// The `--restore-cmd` command failed.
    #[error("transport: restore command {command:?} failed: {status}")]
    RestoreFailed {
        /// The command.
        command: String,
        /// How it ended.
        status: std::process::ExitStatus,
    },
    /// A reader was asked for and this build has no PC/SC transport.
    #[error("{NO_PCSC}")]
    NoPcsc,
}
