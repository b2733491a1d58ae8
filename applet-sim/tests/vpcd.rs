//! `ssc-card serve` against a stand-in for vpcd (a TCP listener speaking the vpcd protocol
//! of docs/PROTOCOLS.md): framing, partial writes, control messages, reconnection without
//! losing card state, removal/insertion and stop by signal. The real pcscd + vpcd stack is
//! exercised by scripts/e2e-pcsc.sh.

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The tests here run one at a time: the reversed-mode test frees a port for the card to
/// listen on, which a parallel test's `bind(0)` could otherwise be given.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Vpcd {
    stream: TcpStream,
}

impl Vpcd {
    fn accept(listener: &TcpListener) -> Self {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Self { stream }
    }

    fn send(&mut self, payload: &[u8]) {
        let mut frame = u16::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
        frame.extend_from_slice(payload);
        self.stream.write_all(&frame).unwrap();
    }

    fn receive(&mut self) -> Vec<u8> {
        let mut header = [0u8; 2];
        self.stream.read_exact(&mut header).unwrap();
        let mut body = vec![0; usize::from(u16::from_be_bytes(header))];
        self.stream.read_exact(&mut body).unwrap();
        body
    }

    fn apdu(&mut self, hex: &str) -> String {
        self.send(&apdu::parse_hex(hex).unwrap());
        apdu::hex_compact(&self.receive())
    }
}

/// The serve process, killed when the test ends however it ends (a panicking test must not
/// leave a card process holding the test runner's output open).
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(args: &[&str]) -> Serve {
    Serve(
        Command::new(env!("CARGO_BIN_EXE_ssc-card"))
            .arg("serve")
            .args(args)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Sends Get ATR until the answer satisfies `want` (signals are applied asynchronously).
fn atr_until(v: &mut Vpcd, want: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        v.send(&[4]);
        let atr = v.receive();
        if want(&atr) || Instant::now() > deadline {
            return atr;
        }
        sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_card_speaks_the_vpcd_protocol() {
    let _serial = serial();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut serve = serve(&["--vpcd", &format!("127.0.0.1:{port}")]);
    let child = &mut serve.0;
    let mut v = Vpcd::accept(&listener);

    // Power on, Get ATR: the gen3 ATR.
    v.send(&[1]);
    v.send(&[4]);
    assert_eq!(
        apdu::hex_compact(&v.receive()),
        "3B6D000000814A44468660320100 1C9B25".replace(' ', "")
    );
    // An unknown control byte and an empty frame get no answer; the next APDU still works.
    v.send(&[3]);
    v.send(&[]);
    assert_eq!(v.apdu("00A404000F7378312E73682EC9E7BBE1B1A3D5CF"), "611E");
    // A frame written in pieces is read whole.
    let cmd = apdu::parse_hex("00 04 00 20 00 00").unwrap();
    v.stream.write_all(&cmd[..1]).unwrap();
    sleep(Duration::from_millis(150));
    v.stream.write_all(&cmd[1..4]).unwrap();
    sleep(Duration::from_millis(150));
    v.stream.write_all(&cmd[4..]).unwrap();
    assert_eq!(apdu::hex_compact(&v.receive()), "63C3");
    // A wrong PIN costs a try; a malformed APDU is the card's 6700.
    assert_eq!(v.apdu("0020000003111111"), "63C2");
    assert_eq!(v.apdu("00A404"), "6700");

    // vpcd goes away mid-frame and comes back: the card is still there, its state kept.
    v.stream.write_all(&[0x00, 0x08, 0x00]).unwrap();
    drop(v);
    let mut v = Vpcd::accept(&listener);
    v.send(&[1]);
    assert_eq!(v.apdu("00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF"), "9000");
    assert_eq!(v.apdu("00200000"), "63C2");

    // Removal closes the connection; insertion connects again, state kept.
    signal(child, "USR1");
    let mut byte = [0u8; 1];
    assert_eq!(
        v.stream.read(&mut byte).unwrap(),
        0,
        "the card closes the connection"
    );
    signal(child, "USR2");
    let mut v = Vpcd::accept(&listener);
    v.send(&[1]);
    assert_eq!(atr_until(&mut v, |a| !a.is_empty()).len(), 17);
    assert_eq!(v.apdu("00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF"), "9000");
    assert_eq!(v.apdu("00200000"), "63C2");
    // SIGHUP restores the profile's initial state.
    signal(child, "HUP");
    let deadline = Instant::now() + Duration::from_secs(5);
    while v.apdu("00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF") == "9000"
        && v.apdu("00200000") != "63C3"
        && Instant::now() < deadline
    {
        sleep(Duration::from_millis(20));
    }
    assert_eq!(v.apdu("00200000"), "63C3");

    // SIGTERM: exit 0.
    signal(child, "TERM");
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not stop");
        sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn reversed_mode_listens_on_loopback() {
    let _serial = serial();
    let probe = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let mut serve = serve(&["--reversed", "--listen", &format!("127.0.0.1:{port}")]);
    let child = &mut serve.0;
    let deadline = Instant::now() + Duration::from_secs(5);
    let stream = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => sleep(Duration::from_millis(20)),
            Err(e) => panic!("no listener: {e}"),
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut v = Vpcd { stream };
    v.send(&[4]);
    assert_eq!(v.receive().len(), 17);
    assert_eq!(v.apdu("00A40000"), "9000");
    signal(child, "INT");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// Three listeners on consecutive free loopback ports.
fn three_consecutive_listeners() -> (u16, [TcpListener; 3]) {
    for _ in 0..50 {
        let first = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = first.local_addr().unwrap().port();
        let (Some(p1), Some(p2)) = (p.checked_add(1), p.checked_add(2)) else {
            continue;
        };
        if let (Ok(a), Ok(b)) = (
            TcpListener::bind(("127.0.0.1", p1)),
            TcpListener::bind(("127.0.0.1", p2)),
        ) {
            return (p, [first, a, b]);
        }
    }
    panic!("no three consecutive free ports");
}

#[test]
fn serve_psam_puts_the_psam_after_the_highest_card_port() {
    let _serial = serial();
    let (p, [l0, l1, l2]) = three_consecutive_listeners();
    // The cards' addresses out of order: the PSAM still goes after the highest one.
    let _serve = serve(&[
        "--vpcd",
        &format!("127.0.0.1:{}", p + 1),
        "--vpcd",
        &format!("127.0.0.1:{p}"),
        "--psam",
    ]);
    let mut psam = Vpcd::accept(&l2);
    let atr = atr_until(&mut psam, |a| !a.is_empty());
    assert_eq!(atr, applet_sim::Psam::load("psam").unwrap().profile().atr);
    assert_eq!(psam.apdu("00B0960006"), "3201000000019000");
    for l in [&l0, &l1] {
        let mut card = Vpcd::accept(l);
        let atr = atr_until(&mut card, |a| !a.is_empty());
        assert_eq!(atr, applet_sim::Card::default_card().unwrap().atr());
    }
}
