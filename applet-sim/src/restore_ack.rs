//! How `ssc-card serve` tells `ssc-card restore` that a restore (SIGHUP) was applied, and
//! whether it succeeded (docs/SECURITY.md "The state file on a shared host"; README "Durable
//! state and power cuts").
//!
//! A file per slot, `<pid>.slot<N>`, holding `COUNT ok` or `COUNT failed: WHY` (the number
//! of restores handled and the outcome of the last), in a private folder of the user:
//! `$XDG_RUNTIME_DIR/ssc-card-<uid>` (or `$TMPDIR/ssc-card-<uid>` without one), mode 0700, created exclusively by the first serve and refused
//! unless it is a real folder (not a symlink) owned by this user that no one else can enter.
//! Nobody else can create, replace or link a name in it, so its names may be predictable.
//! Each update is written to a temporary file in the folder and renamed over the
//! acknowledgement (a reader never sees half a line). The serve removes its files when it
//! stops (and the folder when it is empty); a serve killed with SIGKILL leaves one small file
//! in the private folder (never anything in `$TMPDIR` itself), removed by the next serve.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::storage::effective_uid;

/// Where the private folder goes: `$XDG_RUNTIME_DIR` when the session has one (a folder of
/// the user's own, so no other user can take the folder's name first), else `$TMPDIR`.
#[must_use]
pub fn base_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

/// The largest acknowledgement file read.
const MAX_ACK_BYTES: u64 = 4096;

/// The user's private folder under `base`, created (0700) when `create` and missing, and
/// checked: a folder, not a symlink, owned by this user, closed to group and others.
///
/// # Errors
/// I/O, or a folder that is not private (named in the message).
pub fn private_dir(base: &Path, create: bool) -> io::Result<PathBuf> {
    let uid = effective_uid()?;
    let dir = base.join(format!("ssc-card-{uid}"));
    if create {
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    let meta = fs::symlink_metadata(&dir)?;
    let unsafe_dir = |why: String| {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{}: {why}; refused (remove it)", dir.display()),
        )
    };
    if !meta.is_dir() {
        return Err(unsafe_dir("not a folder (a symlink or a file)".into()));
    }
    if meta.uid() != uid {
        return Err(unsafe_dir(format!(
            "owned by user {}, not {uid}",
            meta.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(unsafe_dir(format!(
            "mode {:04o}, open to group or others",
            meta.mode() & 0o7777
        )));
    }
    Ok(dir)
}

/// Where `ssc-card serve` (process `pid`) acknowledges the restores of slot `slot` (the
/// folder is checked, not created).
///
/// # Errors
/// As [`private_dir`].
pub fn restore_ack_path(pid: u32, slot: usize) -> io::Result<PathBuf> {
    Ok(private_dir(&base_dir(), false)?.join(format!("{pid}.slot{slot}")))
}

/// What an acknowledgement file says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    /// Restores handled so far.
    pub count: u64,
    /// Why the last one failed (`None`: it succeeded, or none was asked).
    pub failure: Option<String>,
}

impl Ack {
    /// Reads an acknowledgement file (a regular file of at most 4 KiB).
    ///
    /// # Errors
    /// I/O, or a file that is not an acknowledgement.
    pub fn read(path: &Path) -> io::Result<Self> {
        let file = fs::File::open(path)?;
        if !file.metadata()?.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        let mut text = String::new();
        file.take(MAX_ACK_BYTES).read_to_string(&mut text)?;
        let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("bad line {text:?}"));
        let (count, rest) = text.trim_end().split_once(' ').ok_or_else(bad)?;
        let count = count.parse().map_err(|_| bad())?;
        let failure = match rest {
            "ok" => None,
            _ => Some(rest.strip_prefix("failed: ").ok_or_else(bad)?.to_owned()),
        };
        Ok(Self { count, failure })
    }
}

/// A slot's acknowledgement file, removed when dropped (the serve stops).
#[derive(Debug)]
pub struct RestoreAck {
    path: PathBuf,
}

impl RestoreAck {
    /// Creates the acknowledgement of slot `slot` of this process (no restore handled yet),
    /// in the user's private folder under `base` ([`base_dir`] for the serve).
    ///
    /// # Errors
    /// I/O, or a folder that is not private.
    pub fn create(base: &Path, slot: usize) -> io::Result<Self> {
        let dir = private_dir(base, true)?;
        remove_stale(&dir);
        let ack = Self {
            path: dir.join(format!("{}.slot{slot}", std::process::id())),
        };
        ack.record(&Ack {
            count: 0,
            failure: None,
        })?;
        Ok(ack)
    }

    /// The file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the file's content with `ack`, atomically.
    ///
    /// # Errors
    /// I/O.
    pub fn record(&self, ack: &Ack) -> io::Result<()> {
        let line = match &ack.failure {
            None => format!("{} ok\n", ack.count),
            Some(why) => format!("{} failed: {}\n", ack.count, why.replace('\n', " ")),
        };
        let mut tmp = self.path.as_os_str().to_owned();
        tmp.push(".tmp");
        fs::write(&tmp, line)?;
        fs::rename(&tmp, &self.path)
    }
}

/// Removes the acknowledgements of serves that no longer run (killed with SIGKILL: no
/// `/proc/<pid>`), so that nothing stays behind for long.
fn remove_stale(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.split('.').next()) else {
            continue;
        };
        if pid.bytes().all(|b| b.is_ascii_digit())
            && !pid.is_empty()
            && !Path::new("/proc").join(pid).exists()
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

impl Drop for RestoreAck {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
        if let Some(dir) = self.path.parent() {
            // Only when empty: another serve of this user may still use it.
            let _ = fs::remove_dir(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn base(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ssc-ack-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn acknowledgements_round_trip_and_vanish() {
        let b = base("round");
        let ack = RestoreAck::create(&b, 3).unwrap();
        let dir = ack.path().parent().unwrap().to_owned();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        let failed = Ack {
            count: 2,
            failure: Some("disk\nfull".into()),
        };
        ack.record(&failed).unwrap();
        assert_eq!(
            Ack::read(ack.path()).unwrap().failure.as_deref(),
            Some("disk full")
        );
        // A killed serve's file (no such process) goes when the next serve starts.
        let stale = dir.join("4294967295.slot0");
        fs::write(&stale, "0 ok\n").unwrap();
        let next = RestoreAck::create(&b, 4).unwrap();
        assert!(!stale.exists() && ack.path().exists());
        drop(next);
        drop(ack);
        assert!(!dir.exists(), "left behind");
        fs::remove_dir(&b).unwrap();
    }

    /// Issue 16 item 1: the acknowledgement was `fs::write` at a predictable name in /tmp,
    /// through any symlink planted there. Its folder now must be private and real.
    #[test]
    fn a_planted_or_open_folder_is_refused() {
        let b = base("planted");
        let uid = effective_uid().unwrap();
        let victim = b.join("victim");
        fs::create_dir(&victim).unwrap();
        std::os::unix::fs::symlink(&victim, b.join(format!("ssc-card-{uid}"))).unwrap();
        let e = RestoreAck::create(&b, 0).unwrap_err();
        assert!(e.to_string().contains("not a folder"), "{e}");
        assert_eq!(fs::read_dir(&victim).unwrap().count(), 0);
        fs::remove_file(b.join(format!("ssc-card-{uid}"))).unwrap();
        let open = b.join(format!("ssc-card-{uid}"));
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        let e = RestoreAck::create(&b, 0).unwrap_err();
        assert!(e.to_string().contains("open to group or others"), "{e}");
        fs::remove_dir_all(&b).unwrap();
    }
}
