//! `ssc-card`: the virtual social security card on the command line.

use std::io;
use std::process::ExitCode;

use anyhow::Context;
use applet_sim::{Card, Profile, SmartCard, profile};
use clap::{CommandFactory, Parser, Subcommand};

/// `--profile`'s help: every built-in profile by name (a test checks it against
/// `profile::BUILTIN`).
const PROFILE_HELP: &str = "A built-in profile, gen3 (the default) or gen2 (`ssc-card profile` \
lists them), or a profile file (TOML; `ssc-card profile --show gen3` prints one to edit)";

/// The virtual Chinese social security card (社会保障卡).
#[derive(Parser)]
#[command(name = "ssc-card", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Answer hex APDUs from stdin (spaces or colons between bytes; `reset`; `exit` or `quit`
    /// ends), one `< HEX : meaning` line each on stdout.
    Shell {
        #[arg(long, default_value = profile::DEFAULT_PROFILE, help = PROFILE_HELP)]
        profile: String,
        /// Keep the card's persistent state in this file across runs (created from the
        /// profile when missing; locked while in use).
        #[arg(long, value_name = "FILE")]
        state: Option<std::path::PathBuf>,
    },
    /// Be the card in pcscd's virtual reader (vsmartcard's vpcd). SIGINT/SIGTERM stop it
    /// (exit 0); SIGUSR1 removes the card, SIGUSR2 inserts it, SIGHUP restores the profile's
    /// initial state.
    Serve {
        /// vpcd's address; repeat for several slots (default 127.0.0.1:35963, slot 0).
        #[arg(long = "vpcd", value_name = "HOST:PORT", value_parser = vpcd_address)]
        vpcd: Vec<String>,
        /// Serve N independent cards on consecutive ports from the (single) address.
        #[arg(long, default_value_t = 1, value_name = "N")]
        slots: u16,
        /// Reversed mode: listen for vpcd instead of connecting to it.
        #[arg(long)]
        reversed: bool,
        /// Address to listen on in reversed mode (loopback unless told otherwise).
        #[arg(
            long,
            value_name = "ADDR",
            default_value = "127.0.0.1:35963",
            requires = "reversed",
            value_parser = vpcd_address
        )]
        listen: String,
        #[arg(long, default_value = profile::DEFAULT_PROFILE, help = PROFILE_HELP)]
        profile: String,
        /// Trace every APDU (`> ...` / `< ... : meaning`) and control message on stderr.
        #[arg(short, long)]
        verbose: bool,
        /// Keep the card's persistent state in this file across runs (slot N > 0 uses
        /// FILE.slotN); created from the profile when missing, locked while in use.
        #[arg(long, value_name = "FILE")]
        state: Option<std::path::PathBuf>,
        /// Drop a peer that stops in the middle of a frame for this many seconds (so one
        /// silent client cannot hold the card in reversed mode).
        #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = seconds)]
        frame_timeout: std::time::Duration,
    },
    /// Restore the card of a running `ssc-card serve` to its profile's initial state and wait
    /// until it is done (SIGHUP, then the serve's acknowledgement): for `ssc-harness run
    /// --restore-cmd 'ssc-card restore --pid PID'`.
    Restore {
        /// The process id of `ssc-card serve`.
        #[arg(long)]
        pid: u32,
        /// The slot to wait for.
        #[arg(long, default_value_t = 0)]
        slot: usize,
        /// Give up after this many seconds (more than 0, at most 3600).
        #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = seconds)]
        timeout: std::time::Duration,
    },
    /// Print a built-in profile as an editable TOML file, or list them.
    Profile {
        /// The built-in profile to print.
        #[arg(long, value_name = "NAME")]
        show: Option<String>,
    },
    /// Print a completion script for a shell on stdout, e.g. `ssc-card completions bash >
    /// ~/.local/share/bash-completion/completions/ssc-card`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (ssc-card.1 and one per subcommand) into a folder, e.g. `ssc-card
    /// man ~/.local/share/man/man1`.
    Man {
        /// The folder (created when missing).
        dir: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", applet_sim::message::chain(e.as_ref()));
            ExitCode::from(2)
        }
    }
}

/// A vpcd address, checked before anything runs (a usage error otherwise).
fn vpcd_address(text: &str) -> Result<String, applet_sim::vpcd::AddressError> {
    applet_sim::vpcd::check_address(text).map(|()| text.to_owned())
}

/// A number of seconds for a timeout: finite, more than 0, at most an hour (clap reports
/// anything else as a usage error, before anything is done).
fn seconds(text: &str) -> Result<std::time::Duration, String> {
    let s: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if s.is_finite() && s > 0.0 && s <= 3600.0 {
        Ok(std::time::Duration::from_secs_f64(s))
    } else {
        Err(format!(
            "{text:?}: a timeout is more than 0 and at most 3600 seconds"
        ))
    }
}

/// `host:port` with the port moved up by `offset` (slot n of a multi-slot vpcd).
fn shift_port(addr: &str, offset: u16) -> anyhow::Result<String> {
    let (host, port) = addr
        .rsplit_once(':')
        .with_context(|| format!("{addr} is not HOST:PORT"))?;
    let port: u16 = port
        .parse()
        .with_context(|| format!("{addr}: the port is not a number"))?;
    let port = port.checked_add(offset).with_context(|| {
        format!("--slots: slot {offset} would be past port 65535 (from {addr})")
    })?;
    Ok(format!("{host}:{port}"))
}

/// The card of a command: on its state file when given, else fresh from the profile.
fn open_card(profile: &Profile, state: Option<&std::path::Path>) -> anyhow::Result<Card> {
    match state {
        None => Ok(Card::new(profile)),
        Some(path) => {
            let card = Card::open(profile, path)?;
            if card.state_file_created() {
                eprintln!("{}: new state file from the profile", path.display());
            }
            Ok(card)
        }
    }
}

/// The state file of slot `i`: FILE for slot 0, FILE.slotN after.
fn slot_state(state: Option<&std::path::Path>, i: usize) -> Option<std::path::PathBuf> {
    state.map(|p| {
        if i == 0 {
            p.to_owned()
        } else {
            let mut name = p.as_os_str().to_owned();
            name.push(format!(".slot{i}"));
            name.into()
        }
    })
}

/// What `ssc-card serve` was asked.
struct ServeArgs<'a> {
    vpcd: &'a [String],
    slots: u16,
    listen: Option<String>,
    profile: &'a str,
    verbose: bool,
    state: Option<&'a std::path::Path>,
    frame_timeout: std::time::Duration,
}

fn serve(args: ServeArgs<'_>) -> anyhow::Result<()> {
    let ServeArgs {
        vpcd,
        slots,
        listen,
        profile,
        verbose,
        state,
        frame_timeout,
    } = args;
    use applet_sim::vpcd::{Controls, Endpoint, Slot, install_signal_handlers};
    use std::sync::Arc;

    let profile = Profile::load(profile)?;
    let base: Vec<String> = match (&listen, vpcd) {
        (Some(addr), _) => vec![addr.clone()],
        (None, []) => vec![format!("127.0.0.1:{}", applet_sim::vpcd::DEFAULT_PORT)],
        (None, list) => list.to_vec(),
    };
    let addrs: Vec<String> = match (base.as_slice(), slots) {
        (_, 0) => anyhow::bail!("--slots must be at least 1"),
        (list, 1) => list.to_vec(),
        ([one], n) => (0..n)
            .map(|i| shift_port(one, i))
            .collect::<anyhow::Result<_>>()?,
        _ => anyhow::bail!("use either --slots N with one address, or repeated --vpcd"),
    };
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut threads = Vec::new();
    for (i, addr) in addrs.into_iter().enumerate() {
        let endpoint = if listen.is_some() {
            Endpoint::Listen(addr)
        } else {
            Endpoint::Connect(addr)
        };
        let card = open_card(&profile, slot_state(state, i).as_deref())?;
        let mut slot = Slot::new(&format!("slot {i}"), card, Card::new(&profile), verbose);
        slot.set_frame_timeout(frame_timeout);
        let ack =
            applet_sim::restore_ack::RestoreAck::create(&applet_sim::restore_ack::base_dir(), i)
                .context("creating the restore acknowledgement")?;
        slot.acknowledge_restores(ack);
        let controls = Controls {
            stop: Arc::clone(&stop),
            ..Controls::default()
        };
        install_signal_handlers(&controls).context("installing signal handlers")?;
        threads.push(std::thread::spawn(move || -> anyhow::Result<()> {
            let served = applet_sim::vpcd::serve(&mut slot, &endpoint, &controls);
            if served.is_err() {
                // One slot cannot be served: stop the others too, and say why.
                controls
                    .stop
                    .store(true, std::sync::atomic::Ordering::SeqCst);
            }
            // The counter restores are written unsynced: sync them before exiting.
            let flushed = slot.card_mut().flush();
            served.with_context(|| slot.name.clone())?;
            flushed.with_context(|| format!("{}: syncing the state file", slot.name))
        }));
    }
    let mut results = Vec::new();
    for t in threads {
        // A slot's acknowledgement file goes with the slot, when its thread ends.
        results.push(t.join());
    }
    for r in results {
        match r {
            Ok(result) => result?,
            Err(_) => anyhow::bail!("a slot thread failed"),
        }
    }
    eprintln!("stopped");
    Ok(())
}

/// `ssc-card restore`: SIGHUP to the serve, then wait until its acknowledgement counts one
/// more restore (the serve applies it between frames, within its 20 ms poll); an error when
/// that restore failed.
fn restore(pid: u32, slot: usize, timeout: std::time::Duration) -> anyhow::Result<()> {
    use applet_sim::restore_ack::{Ack, restore_ack_path};
    let ack = restore_ack_path(pid, slot)
        .with_context(|| format!("is ssc-card serve {pid} running, as this user?"))?;
    let read = || -> anyhow::Result<Ack> {
        Ack::read(&ack)
            .with_context(|| format!("{} (is ssc-card serve {pid} running?)", ack.display()))
    };
    let before = read()?.count;
    // The shell's kill: no process-control code of our own (no `unsafe`).
    let status = std::process::Command::new("sh")
        .args(["-c", &format!("kill -HUP {pid}")])
        .status()
        .context("running kill")?;
    anyhow::ensure!(status.success(), "kill -HUP {pid} failed: {status}");
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let now = read()?;
        if now.count > before {
            return match now.failure {
                None => Ok(()),
                Some(why) => anyhow::bail!("ssc-card serve {pid}: the restore failed: {why}"),
            };
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "ssc-card serve {pid} did not acknowledge the restore within {} s (is it stopped, \
             e.g. with SIGSTOP? --timeout gives it longer)",
            timeout.as_secs_f64()
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Shell { profile, state } => {
            let profile = Profile::load(&profile)?;
            let mut card = open_card(&profile, state.as_deref())?;
            applet_sim::shell::run(&mut card, io::stdin().lock(), io::stdout().lock())
                .context("shell I/O")?;
            card.flush().context("syncing the state file")
        }
        Cmd::Serve {
            vpcd,
            slots,
            reversed,
            listen,
            profile,
            verbose,
            state,
            frame_timeout,
        } => serve(ServeArgs {
            vpcd: &vpcd,
            slots,
            listen: reversed.then_some(listen),
            profile: &profile,
            verbose,
            state: state.as_deref(),
            frame_timeout,
        }),
        Cmd::Restore { pid, slot, timeout } => restore(pid, slot, timeout),
        Cmd::Profile { show: Some(name) } => {
            let text = profile::builtin_text(&name).with_context(|| {
                format!(
                    "no built-in profile {name:?} (built-in: {})",
                    profile::BUILTIN.map(|(n, _)| n).join(", ")
                )
            })?;
            print!("{text}");
            Ok(())
        }
        Cmd::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "ssc-card", &mut io::stdout());
            Ok(())
        }
        Cmd::Man { dir } => man_pages(&dir),
        Cmd::Profile { show: None } => {
            for (name, _) in profile::BUILTIN {
                let p = Profile::builtin(name)?;
                println!("{name}\t{}", p.description);
            }
            Ok(())
        }
    }
}

/// `ssc-card man DIR`: the man pages of the command line above, one per subcommand.
fn man_pages(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .with_context(|| format!("cannot write the man pages in {}", dir.display()))?;
    println!(
        "{}: ssc-card.1 and ssc-card-SUBCOMMAND.1 (read one with `man -l {}`)",
        dir.display(),
        dir.join("ssc-card.1").display()
    );
    Ok(())
}
