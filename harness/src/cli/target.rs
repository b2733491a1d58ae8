//! `--sim`, `--reader`, `--profile`, `--keys`: where the APDUs go, shared by the subcommands
//! that talk to a card; `--psam`, `--psam-reader`, `--region`: where the SSSE's cryptograms
//! come from (`run`, `record`, `card`).

use std::path::PathBuf;

use applet_sim::Profile;
use applet_sim::psam::{DEFAULT_PSAM, PsamProfile};
use clap::Args;
use harness::declaration::Declaration;
use harness::psam::{Keys, PsamSource};
use harness::transport::{self, SimTransport, Transport};
use harness::vectors::Declared;

/// Where the APDUs go.
#[derive(Args)]
pub(super) struct Target {
    /// The in-process virtual card (the default).
    #[arg(long, conflicts_with = "reader")]
    sim: bool,
    /// A PC/SC reader by name, e.g. 'Virtual PCD 00 00' (needs the `pcsc` feature); `run`
    /// takes several, one job each.
    #[arg(long, value_name = "NAME")]
    pub(super) reader: Vec<String>,
    /// The card's declaration: a built-in profile name (gen3, gen2) or a profile file. In
    /// process the card is built from it; with --reader it says what the card in the reader
    /// holds. Given, every case is for this card and `$…` values come from it (a file's
    /// `profile` line is ignored); default: the built-in gen3, with each file's `profile`.
    #[arg(long, value_name = "PROFILE")]
    pub(super) profile: Option<String>,
    /// The software PSAM's keys (TOML, README "Keys files"); on the virtual card the
    /// profile's keys are used when this is not given.
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
}

impl Target {
    /// The declaration's name: `--profile`, or the built-in default.
    pub(super) fn profile_name(&self) -> &str {
        self.profile
            .as_deref()
            .unwrap_or(applet_sim::profile::DEFAULT_PROFILE)
    }

    /// The card the cases are for: the one `--profile` declares (always on a reader), else
    /// the built-in default, which a file's `profile` line replaces.
    pub(super) fn declared(&self) -> anyhow::Result<Declared> {
        if self.profile.is_none() && !self.on_reader() {
            return Ok(Declared::builtin());
        }
        let name = self.profile_name();
        Ok(Declared::fixed(Declaration::new(
            name,
            Profile::load(name)?,
        )))
    }

    /// True when the APDUs go to readers.
    pub(super) fn on_reader(&self) -> bool {
        !self.reader.is_empty()
    }

    /// The transport of the first job.
    pub(super) fn open(&self, restore: Option<String>) -> anyhow::Result<Box<dyn Transport>> {
        self.open_nth(0, restore)
    }

    /// The transport of job `n`: a virtual card, or the n-th `--reader`.
    pub(super) fn open_nth(
        &self,
        n: usize,
        restore: Option<String>,
    ) -> anyhow::Result<Box<dyn Transport>> {
        match self.reader.get(n) {
            None if self.reader.is_empty() => Ok(Box::new(SimTransport::new(&Profile::load(
                self.profile_name(),
            )?))),
            None => anyhow::bail!("no reader for job {n}"),
            Some(name) => Ok(transport::open_reader(name, restore, self.profile_name())?),
        }
    }

    /// The PSAM keys given with `--keys` (else the transport's own: the virtual card's
    /// profile keys, none for a reader).
    pub(super) fn psam_keys(&self) -> anyhow::Result<Option<Keys>> {
        Ok(self.keys.as_deref().map(Keys::load).transpose()?)
    }
}

/// Where the SSSE's cryptograms come from: software keys (the default), or a PSAM card.
#[derive(Args)]
pub(super) struct PsamArgs {
    /// Compute the SSSE's cryptograms with an in-process PSAM card (BF DE / 80 FA): a
    /// built-in PSAM profile (psam, or `builtin` for it) or a PSAM profile file. The
    /// financial application's keep the software keys.
    #[arg(long, value_name = "PSAM", conflicts_with = "psam_reader")]
    psam: Option<String>,
    /// Compute them with the PSAM in this PC/SC reader (needs the `pcsc` feature).
    #[arg(long, value_name = "NAME")]
    psam_reader: Option<String>,
    /// The card's region code (6 digits) for the PSAM's city and province factors; default:
    /// the first 3 bytes (BCD) of the card identification code in the card's EF05.
    #[arg(long, value_name = "CODE", value_parser = region)]
    pub(super) region: Option<String>,
}

/// `--region`: 6 digits.
fn region(text: &str) -> Result<String, String> {
    if text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err("expected a 6-digit region code such as 320100".into())
    }
}

impl PsamArgs {
    /// The PSAM card asked for, if any (its profile loaded).
    pub(super) fn source(&self) -> anyhow::Result<Option<PsamSource>> {
        if let Some(name) = &self.psam {
            let name = if name == "builtin" {
                DEFAULT_PSAM
            } else {
                name.as_str()
            };
            let profile = PsamProfile::load(name)?;
            return Ok(Some(PsamSource::InProcess(Box::new(
                applet_sim::Psam::new(profile),
            ))));
        }
        Ok(self.psam_reader.clone().map(PsamSource::Reader))
    }
}
