//! The addresses `serve` is given and why serving stops: a bad `HOST:PORT` (told before
//! anything runs), a slot another card holds, and the hints each error gives.

use std::io;
use std::net::ToSocketAddrs;
use std::time::Duration;

use super::DEFAULT_PORT;

/// Why a vpcd address given on the command line cannot be used (told before anything runs).
#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    /// Not `HOST:PORT`.
    #[error("expected HOST:PORT, e.g. 127.0.0.1:35963 (vpcd's slot 0; 35964 is slot 1)")]
    NotHostPort,
    /// The port is not 1..=65535.
    #[error("{port:?} is not a port: expected a number from 1 to 65535, e.g. 127.0.0.1:35963")]
    BadPort {
        /// The text after the last `:`.
        port: String,
    },
    /// The host name does not resolve.
    #[error("cannot resolve the host {host:?}: {error}")]
    Unresolved {
        /// The host part.
        host: String,
        /// Why (kept in the message: this is printed by the argument parser).
        error: io::Error,
    },
}

/// Checks a vpcd address, `HOST:PORT` (`[::1]:35963` for IPv6): the port a number from 1 to
/// 65535 and the host resolvable.
///
/// # Errors
/// [`AddressError`] saying what is wrong, with an example of a good address.
pub fn check_address(addr: &str) -> Result<(), AddressError> {
    let (host, port) = addr.rsplit_once(':').ok_or(AddressError::NotHostPort)?;
    if host.is_empty() {
        return Err(AddressError::NotHostPort);
    }
    if !port.parse::<u16>().is_ok_and(|p| p > 0) {
        return Err(AddressError::BadPort {
            port: port.to_owned(),
        });
    }
    match addr.to_socket_addrs().map(|mut found| found.next()) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(AddressError::Unresolved {
            host: host.to_owned(),
            error: io::Error::new(io::ErrorKind::NotFound, "no address"),
        }),
        Err(error) => Err(AddressError::Unresolved {
            host: host.to_owned(),
            error,
        }),
    }
}

/// Why serving a slot stopped before a stop was asked for.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Reversed mode: the address cannot be listened on.
    #[error("cannot listen for vpcd on {addr}: {error}{hint}", hint = listen_hint(error))]
    Listen {
        /// The address.
        addr: String,
        /// Why (kept in the message).
        error: io::Error,
    },
    /// vpcd took the connection and never spoke: another card holds the slot.
    #[error(
        "vpcd at {addr} took the connection but asked nothing in {} s (it asks a card in \
         its slot for the ATR twice a second): the slot is in use by another card, most \
         likely another `ssc-card serve`. Stop that one (`ss -tnp 'dport = :{port}'` shows \
         its process), or serve a free slot: `--vpcd {host}:{next}` is vpcd's next slot",
        waited.as_secs(),
        port = port_of(addr),
        host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h),
        next = port_of(addr).saturating_add(1)
    )]
    SlotInUse {
        /// vpcd's address.
        addr: String,
        /// How long it said nothing.
        waited: Duration,
    },
}

/// The port of a checked `host:port`.
pub fn port_of(addr: &str) -> u16 {
    addr.rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(DEFAULT_PORT)
}

pub(super) fn listen_hint(error: &io::Error) -> &'static str {
    match error.kind() {
        io::ErrorKind::AddrInUse => {
            " (another program listens there, perhaps another `ssc-card serve --reversed`: \
             stop it or choose another --listen address)"
        }
        io::ErrorKind::AddrNotAvailable => " (not an address of this machine)",
        _ => "",
    }
}

/// What to do about a failed attempt to reach vpcd, for the log.
pub(super) fn connect_hint(error: &io::Error) -> &'static str {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => {
            "nothing listens there: is pcscd running, with vsmartcard-vpcd installed? \
             (README, \"Common problems\")"
        }
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            "vpcd takes no more connections on this slot: another card holds it, most \
             likely another `ssc-card serve` (or a firewall drops the connection). Stop that \
             one, or serve another slot (--vpcd HOST:PORT+1); until then this one waits"
        }
        _ => "is pcscd running, with vsmartcard-vpcd installed?",
    }
}
