//! The card behind vsmartcard's virtual reader (vpcd) in pcscd: the vicc side of the vpcd
//! protocol (docs/PROTOCOLS.md §2.1).
//!
//! Frames in both directions are a big-endian `u16` length and that many bytes. A 1-byte
//! frame is a control message (00 power off, 01 power on, 02 reset, 04 get ATR); anything
//! else is a command APDU, answered with the response. A removed card closes the connection
//! (pcscd polls presence only while clients wait, so a closed socket is what it notices) and
//! connects again when inserted. Frames are read exactly: a partial read is never taken
//! for a frame, and a dropped connection drops the partial frame, not the card's state.
//!
//! A slot holds one card: vpcd accepts one connection per slot and talks only to it (the
//! kernel queues one more connection, which vpcd never speaks to while the first lasts). A
//! real vpcd asks for the ATR as soon as it takes a connection and then about twice a second
//! (pcscd's polling), so a connection that hears nothing for [`SLOT_SILENCE`] is one that
//! another card's connection keeps waiting: [`serve`] stops with [`ServeError::SlotInUse`]
//! instead of claiming the slot (issue 17).
//!
//! Availability: a stop (SIGTERM) is seen within [`CONNECT_TIMEOUT`] while connecting and
//! within [`POLL`] otherwise; a peer that stops in the middle of a frame for longer than the
//! slot's frame timeout ([`DEFAULT_FRAME_TIMEOUT`], `serve --frame-timeout`) is dropped, so
//! one silent client cannot hold the card (reversed mode).
//!
//! Speed (docs/PROTOCOLS.md, "the 40 ms trap"): TCP_NODELAY, one write per response (length and bytes
//! together), and TCP_QUICKACK re-armed after every read.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use apdu::hex_spaced;
use socket2::SockRef;

use crate::SmartCard;
use crate::restore_ack::{Ack, RestoreAck};
use crate::shell::answer_line;

pub use crate::restore_ack::restore_ack_path;

mod address;

use self::address::connect_hint;
pub use self::address::{AddressError, ServeError, check_address, port_of};

/// vpcd's first port (`0x8C7B`): slot 0 is "Virtual PCD 00 00", 35964 is slot 1.
pub const DEFAULT_PORT: u16 = 35963;

/// Control bytes (vpcd.h).
const CTRL_OFF: u8 = 0;
const CTRL_ON: u8 = 1;
const CTRL_RESET: u8 = 2;
const CTRL_ATR: u8 = 4;

/// How often a blocked read looks at the control flags.
pub const POLL: Duration = Duration::from_millis(20);

/// How long one attempt to connect to vpcd may block (a stop waits at most this long).
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// How long a peer may stay silent in the middle of a frame before it is dropped.
pub const DEFAULT_FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// How long vpcd may say nothing after taking our connection before the slot is taken to be
/// another card's: pcscd asks every slot for its ATR every 400 ms, so a vpcd that serves the
/// connection speaks well within this.
pub const SLOT_SILENCE: Duration = Duration::from_secs(3);

/// Where the card meets vpcd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// Normal mode: vpcd listens inside pcscd, the card connects to it (`host:port`).
    Connect(String),
    /// Reversed mode: the card listens (`addr:port`), vpcd connects out to it.
    Listen(String),
}

impl std::fmt::Display for Endpoint {
    /// `127.0.0.1:35963`, or `127.0.0.1:35963 (reversed mode)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connect(addr) => f.write_str(addr),
            Self::Listen(addr) => write!(f, "{addr} (reversed mode)"),
        }
    }
}

/// Requests from outside (signals) to one slot; `stop` is shared by all slots. Each flag is
/// set by the signal handler itself, at delivery, so a request made with `kill` is seen by
/// the next frame (what `ssc-harness run --restore-cmd` relies on between cases).
#[derive(Debug, Default, Clone)]
pub struct Controls {
    /// Set to stop serving (SIGINT, SIGTERM).
    pub stop: Arc<AtomicBool>,
    /// Set to take the card out of the reader (SIGUSR1).
    pub remove: Arc<AtomicBool>,
    /// Set to put it back (SIGUSR2).
    pub insert: Arc<AtomicBool>,
    /// Set to restore the card to the profile's initial state (SIGHUP).
    pub restore: Arc<AtomicBool>,
}

impl Controls {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// One reader slot: a card, its initial state, and whether it is in the reader.
#[derive(Debug)]
pub struct Slot<C: SmartCard = crate::Card> {
    /// A name for the log (`slot 0`).
    pub name: String,
    card: C,
    initial: C,
    present: bool,
    verbose: bool,
    /// Restores handled, and the file that acknowledges them.
    restores: u64,
    ack: Option<RestoreAck>,
    frame_timeout: Duration,
}

/// Why a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The peer closed it or it failed: reconnect.
    Disconnected,
    /// A stop was requested.
    Stopped,
    /// The card was taken out of the reader: stay away until it is put back.
    Removed,
    /// The peer stopped in the middle of a frame, sent no frame at all after connecting, or
    /// stopped reading our answer, for longer than the frame timeout.
    Stalled,
    /// The peer sent nothing at all since the connection was made, for as long as it may
    /// ([`SLOT_SILENCE`] for vpcd, the frame timeout for a peer of reversed mode).
    Silent,
    /// The peer closed the connection before sending anything.
    ClosedSilently,
}

impl<C: SmartCard> Slot<C> {
    /// A slot holding `card`, inserted.
    #[must_use]
    pub fn new(name: &str, card: C, initial: C, verbose: bool) -> Self {
        Self {
            name: name.to_owned(),
            restores: 0,
            ack: None,
            frame_timeout: DEFAULT_FRAME_TIMEOUT,
            initial,
            card,
            present: true,
            verbose,
        }
    }

    /// Acknowledges each restore handled, with its outcome, in `ack` (see
    /// [`crate::restore_ack`]); the file goes when the slot does.
    pub fn acknowledge_restores(&mut self, ack: RestoreAck) {
        self.ack = Some(ack);
    }

    /// Drops a peer silent for `timeout` in the middle of a frame (default
    /// [`DEFAULT_FRAME_TIMEOUT`]).
    pub fn set_frame_timeout(&mut self, timeout: Duration) {
        self.frame_timeout = timeout;
    }

    /// The card in the slot.
    #[must_use]
    pub fn card(&self) -> &C {
        &self.card
    }

    /// The card in the slot, to flush its state file at exit.
    pub fn card_mut(&mut self) -> &mut C {
        &mut self.card
    }

    fn log(&self, line: &str) {
        if self.verbose {
            eprintln!("[{}] {line}", self.name);
        }
    }

    /// Applies removal, insertion and restore requests made since the last look.
    fn apply(&mut self, controls: &Controls) {
        if controls.restore.swap(false, Ordering::SeqCst) {
            let failure = match self.card.restore_from(&self.initial) {
                Ok(()) => {
                    self.log("card restored to the profile's initial state");
                    None
                }
                Err(e) => {
                    eprintln!("[{}] restore failed: {e}", self.name);
                    Some(e.to_string())
                }
            };
            // Acknowledge with the outcome, so `ssc-card restore` knows the next frame meets
            // the restored card — or that there is none.
            self.restores += 1;
            if let Some(ack) = &self.ack {
                let done = Ack {
                    count: self.restores,
                    failure,
                };
                if let Err(e) = ack.record(&done) {
                    eprintln!("[{}] cannot acknowledge the restore: {e}", self.name);
                }
            }
        }
        if controls.remove.swap(false, Ordering::SeqCst) {
            self.present = false;
            self.card.power_off();
            eprintln!("[{}] card removed", self.name);
        }
        if controls.insert.swap(false, Ordering::SeqCst) {
            self.present = true;
            eprintln!("[{}] card inserted", self.name);
        }
    }

    /// Answers one frame; `None` for messages that get no answer.
    fn handle(&mut self, frame: &[u8], out: &mut Vec<u8>) -> Option<()> {
        out.clear();
        match frame {
            [CTRL_OFF] => {
                self.card.power_off();
                self.log("power off");
                None
            }
            [CTRL_ON] | [CTRL_RESET] => {
                self.card.reset();
                self.log(if frame == [CTRL_ON] {
                    "power on"
                } else {
                    "reset"
                });
                None
            }
            [CTRL_ATR] => {
                if self.present {
                    out.extend_from_slice(self.card.atr());
                }
                Some(())
            }
            [other] => {
                eprintln!(
                    "[{}] unknown vpcd control byte {other:02X}, ignored",
                    self.name
                );
                None
            }
            [] => {
                eprintln!("[{}] empty vpcd frame, ignored", self.name);
                None
            }
            apdu => {
                self.card.transmit_into(apdu, out);
                if self.verbose {
                    eprintln!("[{}] > {}", self.name, hex_spaced(apdu));
                    eprintln!("[{}] {}", self.name, answer_line(out));
                }
                Some(())
            }
        }
    }
}

/// Serves one slot until a stop is requested: connects (or accepts), answers frames, and
/// reconnects with backoff when the peer goes away, keeping the card's state. "connected" is
/// logged when vpcd first speaks, not when the socket connects: a connection vpcd keeps
/// waiting is not a slot served.
///
/// # Errors
/// [`ServeError::Listen`]: the listening socket cannot be bound (reversed mode);
/// [`ServeError::SlotInUse`]: vpcd took the connection and said nothing for
/// [`SLOT_SILENCE`] (another card holds the slot).
pub fn serve<C: SmartCard>(
    slot: &mut Slot<C>,
    endpoint: &Endpoint,
    controls: &Controls,
) -> Result<(), ServeError> {
    let listener = match endpoint {
        Endpoint::Listen(addr) => {
            let listen = |error| ServeError::Listen {
                addr: addr.clone(),
                error,
            };
            let l = TcpListener::bind(addr).map_err(listen)?;
            l.set_nonblocking(true).map_err(listen)?;
            eprintln!(
                "[{}] listening on {addr} for vpcd (reversed mode)",
                slot.name
            );
            Some(l)
        }
        Endpoint::Connect(_) => None,
    };
    let mut backoff = Duration::from_millis(50);
    let mut announced_wait = false;
    while !controls.stopped() {
        slot.apply(controls);
        let stream = match (&listener, endpoint) {
            (Some(l), _) => match l.accept() {
                Ok((s, _)) => s.set_nonblocking(false).map(|()| s),
                Err(e) => Err(e),
            },
            (None, Endpoint::Connect(addr)) => connect(addr),
            (None, Endpoint::Listen(_)) => Err(io::Error::other("no listener")),
        };
        match stream {
            Ok(stream) => match serve_connection(slot, stream, controls, endpoint) {
                Ok(Ended::Stopped) => break,
                Ok(Ended::Removed) => {
                    // Closing the connection is how vpcd learns the card is gone; come
                    // back when the card is inserted again.
                    while !slot.present && !controls.stopped() {
                        thread::sleep(POLL);
                        slot.apply(controls);
                    }
                    backoff = Duration::from_millis(50);
                }
                Ok(Ended::Disconnected) => {
                    eprintln!("[{}] vpcd went away; reconnecting", slot.name);
                    announced_wait = false;
                    backoff = Duration::from_millis(50);
                }
                Ok(Ended::Stalled) => eprintln!(
                    "[{}] the peer stalled (mid-frame, silent since connecting, or not \
                     reading) for {} s; dropped",
                    slot.name,
                    slot.frame_timeout.as_secs_f64()
                ),
                Ok(Ended::Silent) => match endpoint {
                    Endpoint::Connect(addr) => {
                        return Err(ServeError::SlotInUse {
                            addr: addr.clone(),
                            waited: SLOT_SILENCE,
                        });
                    }
                    Endpoint::Listen(_) => eprintln!(
                        "[{}] the peer sent nothing for {} s after connecting; dropped",
                        slot.name,
                        slot.frame_timeout.as_secs_f64()
                    ),
                },
                Ok(Ended::ClosedSilently) => {
                    if !announced_wait {
                        eprintln!(
                            "[{}] {endpoint} closed the connection before asking anything \
                             (the slot may be in use by another card, or pcscd is stopping); \
                             trying again",
                            slot.name
                        );
                        announced_wait = true;
                    }
                    sleep_unless_stopped(backoff, controls);
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
                Err(e) => eprintln!("[{}] connection error: {e}; reconnecting", slot.name),
            },
            Err(e) => {
                if !announced_wait && e.kind() != io::ErrorKind::WouldBlock {
                    eprintln!(
                        "[{}] waiting for vpcd at {endpoint}: {e}; {}",
                        slot.name,
                        connect_hint(&e)
                    );
                    announced_wait = true;
                }
                sleep_unless_stopped(if listener.is_some() { POLL } else { backoff }, controls);
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
    if !slot.verbose && slot.restores > 0 {
        eprintln!(
            "[{}] card restored to the profile's initial state {} time{} (-v logs each)",
            slot.name,
            slot.restores,
            if slot.restores == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// One attempt to connect to `addr`, blocking at most [`CONNECT_TIMEOUT`] per address.
fn connect(addr: &str) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{addr}: no address"));
    for a in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Sleeps `total`, in [`POLL`] slices, returning early on a stop.
fn sleep_unless_stopped(total: Duration, controls: &Controls) {
    let until = Instant::now() + total;
    while !controls.stopped() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        thread::sleep(left.min(POLL));
    }
}

/// What waiting for a frame came to.
enum ReadOutcome {
    /// A whole frame is in the buffer.
    Frame,
    /// The peer closed the connection (a partial frame is dropped).
    Closed,
    /// A stop was requested while the line was idle.
    Stopped,
    /// Nothing arrived for a while (a partial frame stays buffered).
    Idle,
    /// A partial frame waited longer than the frame timeout.
    Stalled,
}

/// Reads vpcd frames, taking whatever the socket holds in one `recv` (often the length and
/// the APDU together), and completing partial frames across reads and timeouts.
struct FrameReader {
    buf: Vec<u8>,
    /// Bytes of `buf` that hold data.
    len: usize,
    /// Size of the frame handed out last (header included), dropped on the next call.
    consumed: usize,
    /// Since when a partial frame has waited for the rest.
    partial_since: Option<Instant>,
    /// How long it may wait.
    frame_timeout: Duration,
    /// When the connection began, until its first byte: a peer that connects and sends
    /// nothing would otherwise hold the card (a real vpcd sends its first frame at once).
    silent_since: Option<Instant>,
    /// How long it may stay silent from the start.
    silence_limit: Duration,
}

impl FrameReader {
    fn new(frame_timeout: Duration, silence_limit: Duration) -> Self {
        Self {
            buf: vec![0; 4096],
            len: 0,
            consumed: 0,
            partial_since: None,
            frame_timeout,
            silent_since: Some(Instant::now()),
            silence_limit,
        }
    }

    /// True once the peer has sent a byte.
    fn spoke(&self) -> bool {
        self.silent_since.is_none()
    }

    /// The complete frame at the front of the buffer, if there is one: (total size, payload).
    fn complete(&self) -> Option<(usize, &[u8])> {
        split_frame(self.buf.get(..self.len)?)
    }

    /// Waits until a whole frame is buffered. Quick ACK is re-armed after every read: it is
    /// not sticky on Linux, and vpcd writes the length and the APDU separately, so a delayed
    /// ACK of the length would stall the APDU behind Nagle's algorithm for 40 ms (docs/PROTOCOLS.md).
    fn next(&mut self, mut stream: &TcpStream, controls: &Controls) -> io::Result<ReadOutcome> {
        self.buf.copy_within(self.consumed..self.len, 0);
        self.len -= self.consumed;
        self.consumed = 0;
        loop {
            if let Some((size, _)) = self.complete() {
                self.consumed = size;
                self.partial_since = None;
                self.silent_since = None;
                return Ok(ReadOutcome::Frame);
            }
            if self.len > 0 && self.partial_since.is_none() {
                self.partial_since = Some(Instant::now());
                self.silent_since = None;
            }
            if self.len == self.buf.len() {
                // A frame longer than the buffer: grow to its size (at most 2 + 65,535).
                let need = self
                    .buf
                    .first_chunk::<2>()
                    .map_or(4096, |h| 2 + usize::from(u16::from_be_bytes(*h)));
                self.buf.resize(need.max(self.buf.len() * 2), 0);
            }
            let read = stream.read(self.buf.get_mut(self.len..).unwrap_or_default());
            let _ = SockRef::from(stream).set_tcp_quickack(true);
            match read {
                Ok(0) => return Ok(ReadOutcome::Closed),
                Ok(n) => self.len += n,
                Err(e) if timed_out(&e) => {
                    if controls.stopped() {
                        return Ok(ReadOutcome::Stopped);
                    }
                    let stalled = match (self.partial_since, self.silent_since) {
                        (Some(t), _) => t.elapsed() >= self.frame_timeout,
                        (None, Some(t)) => t.elapsed() >= self.silence_limit,
                        (None, None) => false,
                    };
                    if stalled {
                        return Ok(ReadOutcome::Stalled);
                    }
                    return Ok(ReadOutcome::Idle);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The payload of the frame returned by the last [`FrameReader::next`].
    fn frame(&self) -> &[u8] {
        self.complete().map_or(&[], |(_, payload)| payload)
    }
}

/// The complete vpcd frame (2-byte big-endian length, payload) at the front of `data`:
/// (total size, payload), or `None` while it is incomplete.
fn split_frame(data: &[u8]) -> Option<(usize, &[u8])> {
    let (header, rest) = data.split_first_chunk::<2>()?;
    let size = usize::from(u16::from_be_bytes(*header));
    rest.get(..size).map(|payload| (size + 2, payload))
}

/// Appends `payload` as one vpcd frame.
fn put_frame(payload: &[u8], wire: &mut Vec<u8>) {
    let len = u16::try_from(payload.len()).unwrap_or(u16::MAX);
    wire.extend_from_slice(&len.to_be_bytes());
    wire.extend_from_slice(payload.get(..usize::from(len)).unwrap_or_default());
}

/// What the slot writes back for a byte stream from vpcd, without a socket: each complete
/// frame is answered as `serve` answers it; a trailing partial frame is left unanswered (the
/// fuzz target and tests of the framing).
pub fn answer_stream<C: SmartCard>(slot: &mut Slot<C>, mut input: &[u8]) -> Vec<u8> {
    let mut wire = Vec::new();
    let mut answer = Vec::new();
    while let Some((size, frame)) = split_frame(input) {
        if slot.handle(frame, &mut answer).is_some() {
            put_frame(&answer, &mut wire);
        }
        input = input.get(size..).unwrap_or_default();
    }
    wire
}

/// Serves one connection until it ends; says "connected" when the peer first speaks.
fn serve_connection<C: SmartCard>(
    slot: &mut Slot<C>,
    stream: TcpStream,
    controls: &Controls,
    endpoint: &Endpoint,
) -> io::Result<Ended> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(POLL))?;
    let _ = SockRef::from(&stream).set_tcp_quickack(true);
    let silence_limit = match endpoint {
        Endpoint::Connect(_) => SLOT_SILENCE,
        Endpoint::Listen(_) => slot.frame_timeout,
    };
    let mut reader = FrameReader::new(slot.frame_timeout, silence_limit);
    let mut answer = Vec::with_capacity(512);
    let mut wire = Vec::with_capacity(514);
    let mut announced = false;
    loop {
        let outcome = reader.next(&stream, controls)?;
        slot.apply(controls);
        if !slot.present {
            return Ok(Ended::Removed);
        }
        match outcome {
            ReadOutcome::Frame => {}
            ReadOutcome::Idle => continue,
            ReadOutcome::Closed if reader.spoke() => return Ok(Ended::Disconnected),
            ReadOutcome::Closed => return Ok(Ended::ClosedSilently),
            ReadOutcome::Stalled if reader.spoke() => return Ok(Ended::Stalled),
            ReadOutcome::Stalled => return Ok(Ended::Silent),
            ReadOutcome::Stopped => return Ok(Ended::Stopped),
        }
        if !std::mem::replace(&mut announced, true) {
            match endpoint {
                Endpoint::Connect(addr) => {
                    eprintln!("[{}] connected to vpcd at {addr}", slot.name);
                }
                Endpoint::Listen(_) => eprintln!("[{}] vpcd connected", slot.name),
            }
        }
        if !slot.present {
            return Ok(Ended::Removed);
        }
        if slot.handle(reader.frame(), &mut answer).is_some() {
            wire.clear();
            put_frame(&answer, &mut wire);
            match write_frame(&stream, &wire, controls, slot.frame_timeout)? {
                ReadOutcome::Frame | ReadOutcome::Idle => {}
                ReadOutcome::Stopped => return Ok(Ended::Stopped),
                ReadOutcome::Closed => return Ok(Ended::Disconnected),
                ReadOutcome::Stalled => return Ok(Ended::Stalled),
            }
            // Our write put the socket back in delayed-ACK ("pingpong") mode: re-arm now, so
            // the next length frame is ACKed on arrival, before this thread even wakes.
            let _ = SockRef::from(&stream).set_tcp_quickack(true);
        }
    }
}

/// Writes a whole frame in steps of at most [`POLL`], so a stop is seen while a peer that
/// does not read keeps the socket full; `Stalled` after `timeout` without progress, `Frame`
/// when all is written.
fn write_frame(
    mut stream: &TcpStream,
    mut wire: &[u8],
    controls: &Controls,
    timeout: Duration,
) -> io::Result<ReadOutcome> {
    stream.set_write_timeout(Some(POLL))?;
    let mut since = Instant::now();
    while !wire.is_empty() {
        match stream.write(wire) {
            Ok(0) => return Ok(ReadOutcome::Closed),
            Ok(n) => {
                wire = wire.get(n..).unwrap_or_default();
                since = Instant::now();
            }
            Err(e) if timed_out(&e) => {
                if controls.stopped() {
                    return Ok(ReadOutcome::Stopped);
                }
                if since.elapsed() >= timeout {
                    return Ok(ReadOutcome::Stalled);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(ReadOutcome::Frame)
}

/// A socket call that ended at its timeout (or a signal): time to look at the controls.
fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Routes SIGINT/SIGTERM to stop, SIGUSR1 to removal, SIGUSR2 to insertion and SIGHUP to
/// restore for one slot's controls (call once per slot: every slot's flags are set).
///
/// # Errors
/// When the signal handlers cannot be installed.
pub fn install_signal_handlers(controls: &Controls) -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
    use signal_hook::flag::register;
    register(SIGINT, Arc::clone(&controls.stop))?;
    register(SIGTERM, Arc::clone(&controls.stop))?;
    register(SIGUSR1, Arc::clone(&controls.remove))?;
    register(SIGUSR2, Arc::clone(&controls.insert))?;
    register(SIGHUP, Arc::clone(&controls.restore))?;
    Ok(())
}

#[cfg(test)]
mod tests;
