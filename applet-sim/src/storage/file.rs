//! The state file on disk (docs/SECURITY.md "Persistence and power loss", "The state file on
//! a shared host"): resolved once to the real file, checked (a regular file with one name,
//! owned by this user, writable by no one else, of bounded size), locked on its own
//! descriptor (so every path to it, symlink or hard link, meets the lock), appended and
//! synced (a failed fsync is an error), replaced atomically (a private temporary file with
//! an unpredictable name created exclusively in the same folder, fsync, rename over the real
//! file, fsync of the folder) and cut durably.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::{Medium, StateError};

/// The largest state file read: a bound on the memory a file can make the card use. The
/// journal is compacted long before (see `journal.rs`).
pub const MAX_STATE_BYTES: u64 = 256 << 20;

/// The mode of every file this module creates: the owner's only.
const PRIVATE: u32 = 0o600;

/// A state file on disk, locked while open (a second process is refused, by whatever path
/// it comes); a missing state file is created by an atomic link of a complete private file,
/// so it never exists half written.
#[derive(Debug)]
pub struct FileMedium {
    /// The real file: the path given, resolved once at opening (symlinks followed).
    real: PathBuf,
    /// The open, locked state file (`None` until a missing one is created).
    file: Option<File>,
}

impl FileMedium {
    /// Resolves, checks, locks and opens the state file; `created` tells that it did not
    /// exist (it is created by the first [`Medium::replace`]).
    ///
    /// # Errors
    /// [`StateError::Io`]; [`StateError::Unsafe`] for a file that is not a regular file, has
    /// several names, another user owns, others can write, is too large, or a dangling
    /// symlink; [`StateError::Locked`] when another process holds it.
    pub fn open(path: &Path) -> Result<(Self, bool), StateError> {
        let io = |what: &'static str| {
            let path = path.to_owned();
            move |source| StateError::Io { path, what, source }
        };
        let refuse = |reason: String| StateError::Unsafe {
            path: path.to_owned(),
            reason,
        };
        let real = match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // A new file: in the real folder, at the name given.
                let name = path
                    .file_name()
                    .ok_or_else(|| refuse("no file name".into()))?;
                let folder = folder_of(path)
                    .canonicalize()
                    .map_err(io("cannot resolve the folder"))?;
                return Ok((
                    Self {
                        real: folder.join(name),
                        file: None,
                    },
                    true,
                ));
            }
            Err(e) => return Err(io("cannot look at")(e)),
            // A symlink another user planted (say in a shared /tmp) is never followed: its
            // target is not this user's to open, lock or make private.
            Ok(link)
                if link.file_type().is_symlink()
                    && link.uid()
                        != effective_uid().map_err(io("cannot tell this process's user"))? =>
            {
                return Err(refuse(format!(
                    "a symlink owned by user {}, not by this process's user",
                    link.uid()
                )));
            }
            Ok(_) => match path.canonicalize() {
                Ok(real) => real,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(refuse(
                        "a dangling symlink (it is never replaced by a new file)".into(),
                    ));
                }
                Err(e) => return Err(io("cannot resolve")(e)),
            },
        };
        // Look before opening: a device or FIFO is never opened (a FIFO would block).
        let meta = std::fs::metadata(&real).map_err(io("cannot look at"))?;
        check(&meta).map_err(refuse)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&real)
            .map_err(io("cannot open"))?;
        lock(&file, path)?;
        // Checked again on the descriptor: what was looked at is what is open and locked
        // (a symlink swapped in between is caught here), and it is still the file at that
        // name (not an old one that a compaction replaced while we waited).
        let meta = file.metadata().map_err(io("cannot look at"))?;
        check(&meta).map_err(refuse)?;
        let now = std::fs::metadata(&real).map_err(io("cannot look at"))?;
        if (now.dev(), now.ino()) != (meta.dev(), meta.ino()) {
            return Err(StateError::Locked {
                path: path.to_owned(),
            });
        }
        if meta.nlink() != 1 {
            return Err(refuse(format!(
                "{} names (hard links) for one state file; a compaction could replace only one",
                meta.nlink()
            )));
        }
        // A file an older build wrote (0644) is not made private here, before its content is
        // known to be a state file: its first compaction (which a format-1 file gets at once,
        // by migration) writes it 0600.
        Ok((
            Self {
                real,
                file: Some(file),
            },
            false,
        ))
    }

    fn file(&mut self) -> io::Result<&mut File> {
        self.file.as_mut().ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "the state file is not created yet")
        })
    }

    fn sync_dir(&self) -> io::Result<()> {
        File::open(folder_of(&self.real))?.sync_all()
    }
}

/// The folder a file is in (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// This process's effective user id: the owner of `/proc/self` (Linux; std has no
/// `geteuid`, and this crate has no `unsafe`).
///
/// # Errors
/// When `/proc` is not mounted.
pub fn effective_uid() -> io::Result<u32> {
    std::fs::metadata("/proc/self").map(|m| m.uid())
}

/// What makes a file unusable as a state file, if anything.
fn check(meta: &std::fs::Metadata) -> Result<(), String> {
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let uid = effective_uid().map_err(|e| format!("cannot tell this process's user: {e}"))?;
    if meta.uid() != uid {
        return Err(format!(
            "owned by user {}, not by this process's user {uid}",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "mode {:04o}: writable by group or others (a state file must be private: chmod 600)",
            meta.mode() & 0o7777
        ));
    }
    if meta.len() > MAX_STATE_BYTES {
        return Err(format!(
            "{} bytes, larger than any state file ({MAX_STATE_BYTES} bytes)",
            meta.len()
        ));
    }
    Ok(())
}

/// Takes the lock on the file's own descriptor (every path to it meets the same lock).
fn lock(file: &File, path: &Path) -> Result<(), StateError> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(StateError::Locked {
            path: path.to_owned(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(StateError::Io {
            path: path.to_owned(),
            what: "cannot lock",
            source,
        }),
    }
}

/// Creates a private (0600) file with an unpredictable name in `folder`, exclusively: a name
/// that exists already (planted, or a symlink) is never opened, another is drawn. Returns
/// its path and the open file. The caller removes it (or renames it) when done.
///
/// # Errors
/// I/O, or no random source.
pub fn create_private(folder: &Path, prefix: &str) -> io::Result<(PathBuf, File)> {
    for _ in 0..16 {
        let mut random = [0u8; 12];
        getrandom::fill(&mut random).map_err(|e| io::Error::other(e.to_string()))?;
        let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let path = folder.join(format!("{prefix}{hex}.tmp"));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(PRIVATE)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free temporary name after 16 random draws",
    ))
}

/// Writes `bytes` to a new private (0600) file at `path` without ever opening `path` itself:
/// the bytes go to a fresh temporary file beside it ([`create_private`]), which then takes
/// the name — by a hard link when `replace` is false (refused with
/// [`io::ErrorKind::AlreadyExists`] when the name exists, a symlink there included, dangling
/// or not), by a rename over it when `replace` is true (the name's directory entry is
/// replaced: a symlink there is replaced itself, the file it points to is left alone). A
/// planted symlink is never written through. The temporary file is gone afterwards,
/// whatever happens.
///
/// # Errors
/// I/O: the folder, the write, the link or the rename.
pub fn write_private(path: &Path, bytes: &[u8], replace: bool) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push("-");
    let (tmp, mut file) = create_private(folder_of(path), &prefix.to_string_lossy())?;
    let placed = file.write_all(bytes).and_then(|()| {
        drop(file);
        if replace {
            std::fs::rename(&tmp, path)
        } else {
            std::fs::hard_link(&tmp, path)
        }
    });
    // After a rename the temporary name is gone already; after a link (or a failure) it is
    // removed here.
    if !(replace && placed.is_ok()) {
        let _ = std::fs::remove_file(&tmp);
    }
    placed
}

impl Medium for FileMedium {
    fn read_all(&mut self) -> io::Result<Vec<u8>> {
        let Some(file) = self.file.as_mut() else {
            return Ok(Vec::new());
        };
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.take(MAX_STATE_BYTES + 1).read_to_end(&mut bytes)?;
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_STATE_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("larger than any state file ({MAX_STATE_BYTES} bytes)"),
            ));
        }
        Ok(bytes)
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let file = self.file()?;
        file.seek(SeekFrom::End(0))?;
        file.write_all(bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.file()?.sync_data()
    }

    fn replace(&mut self, bytes: &[u8]) -> io::Result<()> {
        let prefix = format!(
            ".{}.",
            self.real
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        );
        let (tmp, mut f) = create_private(folder_of(&self.real), &prefix)?;
        let result = (|| {
            f.write_all(bytes)?;
            f.sync_all()?;
            // Locked before it takes the name: no moment when the state file is free.
            f.try_lock().map_err(io::Error::from)?;
            if self.file.is_some() {
                std::fs::rename(&tmp, &self.real)
            } else {
                // Creation: a link fails if the name was taken meanwhile (never overwrites).
                std::fs::hard_link(&tmp, &self.real).and_then(|()| std::fs::remove_file(&tmp))
            }
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        self.sync_dir()?;
        self.file = Some(f);
        Ok(())
    }

    fn truncate(&mut self, len: usize) -> io::Result<()> {
        let file = self.file()?;
        file.set_len(u64::try_from(len).unwrap_or(u64::MAX))?;
        file.sync_all()
    }
}
