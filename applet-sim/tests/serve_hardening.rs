//! `ssc-card serve` and `ssc-card restore` under adversity (issue 16, items 6 and 7): a
//! failed restore is reported (exit status), timeouts are validated before any signal, no
//! acknowledgement is left behind; SIGTERM is honoured while a connect blocks; a peer silent
//! in the middle of a frame is dropped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ssc-card");

/// The serve process, killed when the test ends however it ends.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(args: &[&str]) -> Serve {
    Serve(
        Command::new(BIN)
            .arg("serve")
            .args(args)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn restore(pid: u32, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["restore", "--pid", &pid.to_string()])
        .args(extra)
        .output()
        .unwrap()
}

/// Waits (bounded) for the child to exit after `signal`; its status code.
fn stop(child: &mut Child, signal: &str, within: Duration) -> Option<i32> {
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let deadline = Instant::now() + within;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        assert!(
            Instant::now() < deadline,
            "serve ignored SIG{signal} for {within:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Runs `ssc-card restore` until the serve has created its acknowledgement (it answers
/// something other than "is ssc-card serve ... running").
fn first_restore(pid: u32) -> Output {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = restore(pid, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        if !err.contains("is ssc-card serve") || Instant::now() > deadline {
            return out;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Issue 16 item 6: a restore that failed (disk full) was acknowledged and `restore` exited
/// 0 while the card answered 6581. The failure here: the state file's folder is gone, so the
/// compaction of the restore cannot create its temporary file (root or not).
#[test]
fn a_failed_restore_makes_restore_fail() {
    let dir = std::env::temp_dir().join(format!("ssc-restore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("card.state");
    let port = closed_port();
    let mut s = serve(&[
        "--vpcd",
        &format!("127.0.0.1:{port}"),
        "--state",
        state.to_str().unwrap(),
    ]);
    let pid = s.0.id();
    let ok = first_restore(pid);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let ack = applet_sim::restore_ack::restore_ack_path(pid, 0).unwrap();
    assert!(ack.exists());
    std::fs::remove_dir_all(&dir).unwrap();
    let failed = restore(pid, &[]);
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(
        !failed.status.success(),
        "a failed restore reported success"
    );
    assert!(err.contains("restore failed"), "{err}");
    // Stopped: the acknowledgement goes too.
    assert_eq!(stop(&mut s.0, "TERM", Duration::from_secs(5)), Some(0));
    assert!(!ack.exists(), "{} left behind", ack.display());
}

/// Issue 16 item 6: `--timeout nan|inf|1e300|-1` panicked after the signal was sent.
#[test]
fn restore_timeouts_are_validated_before_any_signal() {
    let s = serve(&["--vpcd", &format!("127.0.0.1:{}", closed_port())]);
    let pid = s.0.id();
    assert!(first_restore(pid).status.success());
    for bad in ["nan", "inf", "1e300", "-1", "0", "soon"] {
        let out = restore(pid, &[&format!("--timeout={bad}")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--timeout {bad}: {err}");
        assert!(err.contains("--timeout"), "--timeout {bad}: {err}");
        assert!(!err.contains("panicked"), "--timeout {bad}: {err}");
    }
    // No signal was sent: the count is where the first restore left it.
    let ack = applet_sim::restore_ack::restore_ack_path(pid, 0).unwrap();
    let now = applet_sim::restore_ack::Ack::read(&ack).unwrap();
    assert_eq!(now.count, 1);
    let mut s = s;
    assert_eq!(stop(&mut s.0, "TERM", Duration::from_secs(5)), Some(0));
    assert!(!ack.exists(), "{} left behind", ack.display());
}

/// Issue 16 item 7: SIGTERM was ignored while `connect()` blocked. A listener whose
/// accept queue is full makes a loopback connect block (its SYN is dropped).
#[test]
fn sigterm_stops_serve_while_a_connect_blocks() {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    // Fill the queue (never accepted).
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(c) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            fillers.push(c);
        }
    }
    let mut s = serve(&["--vpcd", &addr.to_string()]);
    // Let it reach the blocking connect (any moment is a fair moment to stop).
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(stop(&mut s.0, "TERM", Duration::from_secs(3)), Some(0));
    drop(fillers);
}

/// A reversed-mode serve with a 0.5 s frame timeout; a peer connects, sends `first` and then
/// nothing: it must be dropped within seconds, and the card must serve the next client.
fn a_silent_peer_is_dropped(first: &[u8]) {
    let (port, mut s) = serve_reversed("0.5");
    let mut silent = connect(port);
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    silent.write_all(first).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 8];
    let got = silent.read(&mut buf);
    assert!(
        matches!(got, Ok(0)) || got.is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "the silent peer was not dropped"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    // The card serves the next client.
    let mut next = connect(port);
    next.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    next.write_all(&[0x00, 0x01, 0x04]).unwrap();
    let mut header = [0u8; 2];
    next.read_exact(&mut header).unwrap();
    assert_eq!(u16::from_be_bytes(header), 17);
    assert_eq!(stop(&mut s.0, "INT", Duration::from_secs(5)), Some(0));
}

/// Issue 16 item 7: in reversed mode one client that sent one byte held the card for ever.
#[test]
fn a_peer_silent_mid_frame_is_dropped_in_reversed_mode() {
    a_silent_peer_is_dropped(&[0x00]); // half a length
}

/// An adversarial pass: a peer that connects and sends nothing held the card for ever in
/// reversed mode (the frame timeout counted only once part of a frame had arrived).
#[test]
fn a_peer_silent_from_the_start_is_dropped_in_reversed_mode() {
    a_silent_peer_is_dropped(&[]);
}

/// A serve in reversed mode (listening) on a free port, with this frame timeout (seconds).
fn serve_reversed(frame_timeout: &str) -> (u16, Serve) {
    let port = closed_port();
    let s = serve(&[
        "--reversed",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--frame-timeout",
        frame_timeout,
    ]);
    (port, s)
}

/// Connects to a reversed-mode serve on `port`, retrying while it starts.
fn connect(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(c) => break c,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("no listener: {e}"),
        }
    }
}

/// An adversarial pass: a peer that sends frames but never reads the answers filled the
/// socket, the blocking write never returned, and SIGTERM was ignored.
#[test]
fn sigterm_stops_serve_while_a_peer_does_not_read() {
    let (port, mut s) = serve_reversed("30");
    let peer = connect(port);
    // GET ATR frames, never reading the 19-byte answers: the answers fill both buffers.
    let flood = [0x00, 0x01, 0x04].repeat(4096);
    let writer = std::thread::spawn(move || {
        let mut peer = peer;
        peer.set_write_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        for _ in 0..2000 {
            if peer.write_all(&flood).is_err() {
                break;
            }
        }
        peer
    });
    // Let the serve's outgoing buffer fill.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(stop(&mut s.0, "TERM", Duration::from_secs(3)), Some(0));
    drop(writer.join());
}
