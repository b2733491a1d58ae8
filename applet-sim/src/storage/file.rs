//! The state file on disk: opened under a lock file (a second process is refused), appended
//! and synced (a failed fsync is an error), replaced atomically (temporary file in the same
//! folder, fsync, rename, fsync of the folder) and cut durably (docs/SECURITY.md "Persistence and
//! power loss").

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{Medium, StateError};

/// A state file on disk. A lock file beside it (`FILE.lock`) is held while it is open, so a
/// second process is refused; a missing state file is created by an atomic replace, so it
/// never exists half written.
#[derive(Debug)]
pub struct FileMedium {
    path: PathBuf,
    file: Option<File>,
    _lock: File,
}

impl FileMedium {
    /// Locks and opens the state file; `created` tells that it did not exist (it is created
    /// by the first [`Medium::replace`]).
    ///
    /// # Errors
    /// [`StateError::Io`], or [`StateError::Locked`] when another process holds it.
    pub fn open(path: &Path) -> Result<(Self, bool), StateError> {
        let io = |what: &'static str| {
            let path = path.to_owned();
            move |source| StateError::Io { path, what, source }
        };
        let mut lock_name = path.as_os_str().to_owned();
        lock_name.push(".lock");
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(PathBuf::from(lock_name))
            .map_err(io("cannot open the lock file"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StateError::Locked {
                    path: path.to_owned(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io("cannot lock")(e)),
        }
        let file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io("cannot open")(e)),
        };
        let created = file.is_none();
        Ok((
            Self {
                path: path.to_owned(),
                file,
                _lock: lock,
            },
            created,
        ))
    }

    fn file(&mut self) -> io::Result<&mut File> {
        self.file.as_mut().ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "the state file is not created yet")
        })
    }

    fn sync_dir(&self) -> io::Result<()> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()
    }
}

impl Medium for FileMedium {
    fn read_all(&mut self) -> io::Result<Vec<u8>> {
        let Some(file) = self.file.as_mut() else {
            return Ok(Vec::new());
        };
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut bytes)?;
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
        let mut tmp_name = self.path.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = PathBuf::from(tmp_name);
        {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        self.sync_dir()?;
        self.file = Some(OpenOptions::new().read(true).write(true).open(&self.path)?);
        Ok(())
    }

    fn truncate(&mut self, len: usize) -> io::Result<()> {
        let file = self.file()?;
        file.set_len(u64::try_from(len).unwrap_or(u64::MAX))?;
        file.sync_all()
    }
}
