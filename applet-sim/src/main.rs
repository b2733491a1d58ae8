//! `ssc-card`: the virtual social security card on the command line.

use std::io;
use std::process::ExitCode;

use anyhow::Context;
use applet_sim::{Card, Profile, profile};
use clap::{Parser, Subcommand};

/// The virtual Chinese social security card (社会保障卡).
#[derive(Parser)]
#[command(name = "ssc-card", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Answer hex APDUs from stdin, one `< HEX : meaning` line each on stdout.
    Shell {
        /// A built-in profile name (gen3) or a profile file.
        #[arg(long, default_value = profile::DEFAULT_PROFILE)]
        profile: String,
    },
    /// Print a built-in profile as an editable TOML file, or list them.
    Profile {
        /// The built-in profile to print.
        #[arg(long, value_name = "NAME")]
        show: Option<String>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Shell { profile } => {
            let profile = Profile::load(&profile)?;
            let mut card = Card::new(&profile);
            applet_sim::shell::run(&mut card, io::stdin().lock(), io::stdout().lock())
                .context("shell I/O")
        }
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
        Cmd::Profile { show: None } => {
            for (name, _) in profile::BUILTIN {
                let p = Profile::builtin(name)?;
                println!("{name}\t{}", p.description);
            }
            Ok(())
        }
    }
}
