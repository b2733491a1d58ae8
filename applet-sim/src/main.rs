//! `ssc-card`: the virtual social security card on the command line.

use std::io;
use std::process::ExitCode;

use anyhow::Context;
use applet_sim::psam::{self, PsamProfile};
use applet_sim::{Card, Profile, Psam, SmartCard, profile};
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
        #[arg(
            long,
            default_value = profile::DEFAULT_PROFILE,
            help = PROFILE_HELP,
            conflicts_with = "psam"
        )]
        profile: String,
        /// Keep the card's persistent state in this file across runs (created from the
        /// profile when missing; locked while in use).
        #[arg(long, value_name = "FILE", conflicts_with = "psam")]
        state: Option<std::path::PathBuf>,
        /// Start the state file again from the profile (its card's state is lost): after
        /// the profile was edited, or to use the file with another profile.
        #[arg(long, requires = "state")]
        reset_state: bool,
        /// Talk to a PSAM (the terminal's security module, docs/PSAM.md) instead of a card.
        #[arg(long)]
        psam: bool,
        /// The PSAM: a built-in name (psam) or a PSAM profile file.
        #[arg(long, value_name = "P", default_value = psam::DEFAULT_PSAM, requires = "psam")]
        psam_profile: String,
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
        /// Start the state file(s) again from the profile (their cards' state is lost):
        /// after the profile was edited, or to use them with another profile.
        #[arg(long, requires = "state")]
        reset_state: bool,
        /// Also serve the PSAM paired with the built-in cards (docs/PSAM.md) in the next slot
        /// (port) after the cards': with the defaults, the card is vpcd's reader "Virtual PCD
        /// 00 00" and the PSAM "Virtual PCD 00 01".
        #[arg(long)]
        psam: bool,
        /// The PSAM to serve: a built-in name (psam) or a PSAM profile file.
        #[arg(long, value_name = "P", default_value = psam::DEFAULT_PSAM, requires = "psam")]
        psam_profile: String,
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
    /// Show a state file's PIN and key counters, blocks and files, without opening it for
    /// writing (nothing is created, locked or changed).
    State {
        /// The state file.
        file: std::path::PathBuf,
        /// The profile that names the file's PINs, keys and files (default: the one the file
        /// says it was made from, if it is found and still declares that card).
        #[arg(long)]
        profile: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Make profiles for other cardholders from a base profile and holder records (one
    /// holder in a TOML file, many in a CSV file): one profile per card, CARDNUMBER.toml,
    /// with the ATR serial, card identification code, card number and EF05/EF06 consistent.
    Personalise {
        /// Holder records: TOML (one holder) or CSV (a header line, then one holder a line).
        #[arg(required = true, value_name = "HOLDERS")]
        holders: Vec<std::path::PathBuf>,
        /// The base profile: a built-in name or a profile file.
        #[arg(long, default_value = profile::DEFAULT_PROFILE)]
        base: String,
        /// The folder the profiles are written to (made if missing).
        #[arg(long, short, value_name = "DIR")]
        out: std::path::PathBuf,
        /// Replace profiles that exist already (otherwise nothing is written).
        #[arg(long)]
        force: bool,
    },
    /// Print a built-in profile (a card's or a PSAM's) as an editable TOML file, or list
    /// them.
    Profile {
        /// The built-in profile to print (gen3, gen2, psam).
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

/// The card of a command: on its state file when given (started again from the profile
/// with `reset`), else fresh from the profile.
fn open_card(
    profile: &Profile,
    state: Option<&std::path::Path>,
    reset: bool,
) -> anyhow::Result<Card> {
    let Some(path) = state else {
        return Ok(Card::new(profile));
    };
    if reset {
        let card = Card::recreate(profile, path)?;
        eprintln!(
            "{}: state file started again from the profile",
            path.display()
        );
        return Ok(card);
    }
    let card = match Card::open(profile, path) {
        Err(e @ applet_sim::StateError::OtherDeclaration { .. }) => anyhow::bail!(
            "{e}; to start the card again from {}, add --reset-state (the state in the file is \
             lost)",
            profile.source_name
        ),
        other => other?,
    };
    if card.state_file_created() {
        eprintln!("{}: new state file from the profile", path.display());
    }
    if card.state_file_adopted() {
        eprintln!(
            "warning: {}: written by an older build, it did not say which profile it came \
             from; taken as {}'s, which it records from now on (if it came from another \
             profile, start again with --reset-state)",
            path.display(),
            profile.source_name
        );
    }
    Ok(card)
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
    reset_state: bool,
    frame_timeout: std::time::Duration,
    /// The PSAM to serve in the slot after the cards'.
    psam: Option<&'a str>,
}

fn serve(args: ServeArgs<'_>) -> anyhow::Result<()> {
    let ServeArgs {
        vpcd,
        slots,
        listen,
        profile,
        verbose,
        state,
        reset_state,
        frame_timeout,
        psam,
    } = args;
    use applet_sim::vpcd::{Endpoint, Slot};
    use std::sync::Arc;

    let profile = Profile::load(profile)?;
    let psam = psam.map(PsamProfile::load).transpose()?;
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
    // The PSAM's slot: the port after the highest card port, never one of the cards'.
    let psam_addr = match (
        &psam,
        addrs.iter().max_by_key(|a| applet_sim::vpcd::port_of(a)),
    ) {
        (Some(_), Some(highest)) => {
            let addr = shift_port(highest, 1).context("no port left for the PSAM's slot")?;
            anyhow::ensure!(
                !addrs.contains(&addr),
                "the PSAM's slot {addr} is also a card's: give the cards' addresses in order"
            );
            Some(addr)
        }
        _ => None,
    };
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let endpoint = |addr: String| {
        if listen.is_some() {
            Endpoint::Listen(addr)
        } else {
            Endpoint::Connect(addr)
        }
    };
    let mut threads = Vec::new();
    let cards = addrs.len();
    for (i, addr) in addrs.into_iter().enumerate() {
        let card = open_card(&profile, slot_state(state, i).as_deref(), reset_state)?;
        let slot = Slot::new(&format!("slot {i}"), card, Card::new(&profile), verbose);
        threads.push(spawn_slot(slot, i, endpoint(addr), frame_timeout, &stop)?);
    }
    if let (Some(psam), Some(addr)) = (psam, psam_addr) {
        eprintln!("PSAM {} in slot {cards} ({addr})", psam.source_name);
        let slot = Slot::new(
            &format!("slot {cards} (PSAM)"),
            Psam::new(psam.clone()),
            Psam::new(psam),
            verbose,
        );
        threads.push(spawn_slot(
            slot,
            cards,
            endpoint(addr),
            frame_timeout,
            &stop,
        )?);
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

/// Serves one slot on its own thread: frame timeout, restore acknowledgement number `i`,
/// the shared stop flag and signal handlers; the card's pending writes synced at the end.
fn spawn_slot<C: SmartCard + Send + 'static>(
    mut slot: applet_sim::vpcd::Slot<C>,
    i: usize,
    endpoint: applet_sim::vpcd::Endpoint,
    frame_timeout: std::time::Duration,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> anyhow::Result<std::thread::JoinHandle<anyhow::Result<()>>> {
    use applet_sim::vpcd::{Controls, install_signal_handlers};
    slot.set_frame_timeout(frame_timeout);
    let ack = applet_sim::restore_ack::RestoreAck::create(&applet_sim::restore_ack::base_dir(), i)
        .context("creating the restore acknowledgement")?;
    slot.acknowledge_restores(ack);
    let controls = Controls {
        stop: std::sync::Arc::clone(stop),
        ..Controls::default()
    };
    install_signal_handlers(&controls).context("installing signal handlers")?;
    Ok(std::thread::spawn(move || -> anyhow::Result<()> {
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
    }))
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

/// `ssc-card state`: the state file read (never written), named by `profile` or by the
/// profile the file says it was made from when that one is found and declares the same card.
fn show_state(file: &std::path::Path, profile: Option<&str>, json: bool) -> anyhow::Result<()> {
    use applet_sim::state_view::StateFile;
    let state = StateFile::read(file)?;
    let mut notes = Vec::new();
    let profile = match (profile, state.declaration()) {
        (Some(p), _) => Some(Profile::load(p)?),
        (None, None) => None,
        // Only a built-in is loaded on the file's word: a path recorded in a file someone
        // else may have written is never opened (give it with --profile).
        (None, Some(d)) if d.name.strip_prefix("builtin:").is_none() => {
            notes.push(format!(
                "made from the profile file {}: give it with --profile to see names",
                applet_sim::message::printable(&d.name)
            ));
            None
        }
        (None, Some(d)) => {
            let name = d.name.strip_prefix("builtin:").unwrap_or(&d.name);
            match Profile::builtin(name) {
                Ok(p) if state.made_from(&p) => Some(p),
                Ok(_) => {
                    notes.push(format!(
                        "profile {} declares another card now (edited since?): give the one \
                         the file was made from with --profile",
                        applet_sim::message::printable(&d.name)
                    ));
                    None
                }
                Err(_) => {
                    notes.push(format!(
                        "profile {} is not a built-in of this build: give it with --profile",
                        applet_sim::message::printable(&d.name)
                    ));
                    None
                }
            }
        }
    };
    let mut view = state.view(profile.as_ref());
    view.notes.extend(notes);
    let text = if json {
        format!("{}\n", serde_json::to_string_pretty(&view)?)
    } else {
        view.to_string()
    };
    match io::Write::write_all(&mut io::stdout().lock(), text.as_bytes()) {
        // A reader that stopped early (`| head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

/// `ssc-card personalise`: every holder checked (and no two cards alike) before anything is
/// written; then one profile per card in `out`, private (0600: keys and personal data), none
/// replaced without `force`. Each is written to a temporary file in `out` that then takes
/// its name (a hard link, or a rename with `force`): a symlink planted at a name is never
/// written through.
fn personalise(
    holders: &[std::path::PathBuf],
    base: &str,
    out: &std::path::Path,
    force: bool,
) -> anyhow::Result<()> {
    use applet_sim::personalise::{Base, check_all, personalise, read_holders};
    let base = Base::load(base)?;
    let mut all = Vec::new();
    for file in holders {
        all.extend(read_holders(file)?);
    }
    let cards = check_all(&all, base.letter)?;
    let mut made = Vec::new();
    for card in &cards {
        let path = out.join(format!("{}.toml", card.card_number));
        let text = personalise(&base, card, &path.display().to_string())?;
        // Not `exists()`, which follows a symlink: a dangling one is there too.
        if !force && path.symlink_metadata().is_ok() {
            anyhow::bail!(
                "{}: exists already (nothing was written; --force replaces it)",
                path.display()
            );
        }
        made.push((path, text, card));
    }
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot make it", out.display()))?;
    for (written, (path, text, card)) in made.iter().enumerate() {
        if let Err(e) = applet_sim::write_private(path, text.as_bytes(), force) {
            let so_far = match written {
                0 => "nothing was written".to_owned(),
                n => format!("the {n} profiles listed above were written"),
            };
            if e.kind() == io::ErrorKind::AlreadyExists {
                anyhow::bail!(
                    "{}: exists already (it appeared meanwhile; {so_far}; --force replaces it)",
                    path.display()
                );
            }
            return Err(anyhow::Error::new(e)
                .context(format!("{}: cannot write ({so_far})", path.display())));
        }
        println!("{}: {card}", path.display());
    }
    if base.value_keys > 0 {
        eprintln!(
            "warning: {} gives {} keys as card values (`value`): every card made from it keeps \
             them; give them as `master` + `diversify` for keys of each card's own \
             (docs/CARD.md §6.6)",
            base.name(),
            base.value_keys
        );
    }
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Shell {
            psam: true,
            psam_profile,
            ..
        } => {
            let mut psam = Psam::load(&psam_profile)?;
            applet_sim::shell::run(&mut psam, io::stdin().lock(), io::stdout().lock())
                .context("shell I/O")
        }
        Cmd::Shell {
            profile,
            state,
            reset_state,
            ..
        } => {
            let profile = Profile::load(&profile)?;
            let mut card = open_card(&profile, state.as_deref(), reset_state)?;
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
            reset_state,
            frame_timeout,
            psam,
            psam_profile,
        } => serve(ServeArgs {
            vpcd: &vpcd,
            slots,
            listen: reversed.then_some(listen),
            profile: &profile,
            verbose,
            state: state.as_deref(),
            reset_state,
            frame_timeout,
            psam: psam.then_some(psam_profile.as_str()),
        }),
        Cmd::Restore { pid, slot, timeout } => restore(pid, slot, timeout),
        Cmd::State {
            file,
            profile,
            json,
        } => show_state(&file, profile.as_deref(), json),
        Cmd::Personalise {
            holders,
            base,
            out,
            force,
        } => personalise(&holders, &base, &out, force),
        Cmd::Profile { show: Some(name) } => {
            let psams = psam::BUILTIN.iter();
            let text = profile::builtin_text(&name)
                .or_else(|| psams.clone().find(|(n, _)| *n == name).map(|(_, t)| *t))
                .with_context(|| {
                    format!(
                        "no built-in profile {name:?} (built-in: {})",
                        profile::BUILTIN
                            .iter()
                            .chain(psams)
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
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
            for (name, _) in psam::BUILTIN {
                let p = PsamProfile::builtin(name)?;
                println!("{name}\t(PSAM) {}", p.description);
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
