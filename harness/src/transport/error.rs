//! Why a transport could not reach the card (not a card's answer).

use applet_sim::ProfileError;
use applet_sim::StateError;
use applet_sim::testing::OpenError;

/// What `--reader` says when the harness was built without the PC/SC transport.
pub const NO_PCSC: &str = "this ssc-harness was built without the `pcsc` feature, which \
`--reader` and `readers` need: install it with `cargo install --locked --path harness --features \
pcsc` (or build it with `cargo build --release -p harness --features pcsc`); either needs \
libpcsclite-dev and pkg-config (README, \"Installation\")";

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
    /// The reader cannot be connected to.
    #[cfg(feature = "pcsc")]
    #[error("reader {reader:?}")]
    Reader {
        /// The reader's name.
        reader: String,
        /// What PC/SC said.
        source: pcsc::Error,
    },
    /// No reader has that name.
    #[error("{}", unknown_reader(reader, available))]
    UnknownReader {
        /// The name asked for.
        reader: String,
        /// The readers PC/SC knows.
        available: Vec<String>,
    },
    /// The reader holds no card.
    #[error(
        "reader {reader:?} holds no card: for ssc-card's virtual card, is `ssc-card serve` \
         running? (it puts the card in \"Virtual PCD 00 00\"; README, \"Common problems\"); \
         for a real reader, insert the card"
    )]
    NoCard {
        /// The reader.
        reader: String,
    },
    /// The PC/SC service (pcscd) is not running.
    #[error(
        "PC/SC is not available: pcscd is not running (start it: `systemctl start pcscd`, or \
         `pcscd -f` in a terminal; README, \"Common problems\")"
    )]
    NoService,
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

/// The message for a reader name PC/SC does not know: the readers it does know, or what to
/// do when it knows none.
fn unknown_reader(reader: &str, available: &[String]) -> String {
    if available.is_empty() {
        return format!(
            "no reader named {reader:?}: PC/SC has no readers at all (is vsmartcard-vpcd \
             installed, and pcscd restarted since? README, \"Common problems\")"
        );
    }
    let names: Vec<String> = available.iter().map(|n| format!("{n:?}")).collect();
    format!(
        "no reader named {reader:?}; the readers are: {} (`ssc-harness readers` lists them \
         with their cards; the name must match exactly)",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_reader_lists_the_readers() {
        let e = TransportError::UnknownReader {
            reader: "Virtual PCD".into(),
            available: vec!["Virtual PCD 00 00".into(), "Virtual PCD 00 01".into()],
        };
        assert_eq!(
            e.to_string(),
            "no reader named \"Virtual PCD\"; the readers are: \"Virtual PCD 00 00\", \
             \"Virtual PCD 00 01\" (`ssc-harness readers` lists them with their cards; the \
             name must match exactly)"
        );
        let none = TransportError::UnknownReader {
            reader: "x".into(),
            available: Vec::new(),
        };
        assert!(none.to_string().contains("no readers at all"), "{none}");
    }

    #[test]
    fn no_card_says_ssc_card_serve_may_not_be_running() {
        let e = TransportError::NoCard {
            reader: "Virtual PCD 00 00".into(),
        };
        assert!(
            e.to_string().contains("is `ssc-card serve` running?"),
            "{e}"
        );
    }
}
