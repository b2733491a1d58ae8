//! Text files the tools read from a path a user or a file names (profiles here; vector
//! files, includes, scripts and keys files in the harness): a regular file, read with a size
//! limit, as UTF-8. A device (`/dev/zero`), a FIFO or a folder is refused before it is
//! read, so a planted name can neither hang a run nor fill memory.
//!
//! The state file is opened by the storage layer; only its read-only view (`ssc-card state`,
//! [`crate::state_view`]) reads it through here, as bytes ([`read_bytes`]).

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

/// An input file that was not read: which, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct InputError {
    /// The file.
    pub path: PathBuf,
    /// Why it was not read.
    pub problem: InputProblem,
}

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
pub enum InputProblem {
    /// The file cannot be opened or read.
    #[error("cannot read: {0}")]
    Io(std::io::Error),
    /// Not a regular file (a folder, a device, a FIFO, a socket).
    #[error("not a regular file ({0}); only regular files are read")]
    NotRegular(&'static str),
    /// Larger than the limit for its kind of file.
    #[error("larger than {limit} bytes, the most this kind of file may hold")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// Not UTF-8 text.
    #[error("not UTF-8 text")]
    NotText,
}

impl InputError {
    /// True when the file does not exist.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(&self.problem, InputProblem::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// What a file that is not regular is, for messages.
fn what(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// The text of the regular file at `path` (symbolic links followed), at most `limit` bytes
/// ([`read_bytes`], then UTF-8).
///
/// # Errors
/// [`InputError`] naming the file: missing or unreadable, not a regular file, larger than
/// `limit`, or not UTF-8.
pub fn read_text(path: &Path, limit: u64) -> Result<String, InputError> {
    let bytes = read_bytes(path, limit)?;
    String::from_utf8(bytes).map_err(|_| InputError {
        path: path.to_owned(),
        problem: InputProblem::NotText,
    })
}

/// The bytes of the regular file at `path` (symbolic links followed), at most `limit`
/// bytes. The file is only opened for reading: nothing is created, locked or written.
///
/// The file's kind is checked before it is opened and again on the opened file (the name may
/// have changed in between). The open itself never waits: on Unix it is non-blocking, so a
/// FIFO swapped in after the first check is opened at once (a blocking open would wait for
/// a writer) and refused by the second. At most `limit + 1` bytes are read whatever the
/// file claims.
///
/// # Errors
/// [`InputError`] naming the file: missing or unreadable, not a regular file, or larger
/// than `limit`.
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let fail = |problem| InputError {
        path: path.to_owned(),
        problem,
    };
    let regular = |meta: &Metadata| {
        if !meta.is_file() {
            return Err(fail(InputProblem::NotRegular(what(meta))));
        }
        if meta.len() > limit {
            return Err(fail(InputProblem::TooLarge { limit }));
        }
        Ok(())
    };
    regular(&std::fs::metadata(path).map_err(|e| fail(InputProblem::Io(e)))?)?;
    let file = open_for_reading(path).map_err(|e| fail(InputProblem::Io(e)))?;
    regular(&file.metadata().map_err(|e| fail(InputProblem::Io(e)))?)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| fail(InputProblem::Io(e)))?;
    if u64::try_from(bytes.len()).map_or(true, |n| n > limit) {
        return Err(fail(InputProblem::TooLarge { limit }));
    }
    Ok(bytes)
}

/// Opens `path` for reading without waiting: `O_NONBLOCK` on Unix (for a regular file it
/// changes nothing; for a FIFO or a device it keeps the open from waiting).
fn open_for_reading(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ssc-input-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_regular_file_within_the_limit_is_read() {
        let dir = temp("regular");
        let f = dir.join("a.txt");
        std::fs::write(&f, "hello").unwrap();
        assert_eq!(read_text(&f, 5).unwrap(), "hello");
        let e = read_text(&f, 4).unwrap_err();
        assert!(
            matches!(e.problem, InputProblem::TooLarge { limit: 4 }),
            "{e}"
        );
        assert!(e.to_string().contains("a.txt"), "{e}");
        std::fs::write(&f, [0xFF, 0xFE]).unwrap();
        assert!(matches!(
            read_text(&f, 5).unwrap_err().problem,
            InputProblem::NotText
        ));
        let missing = read_text(&dir.join("none"), 5).unwrap_err();
        assert!(missing.is_not_found(), "{missing}");
        let e = read_text(&dir, 5).unwrap_err();
        assert!(
            matches!(e.problem, InputProblem::NotRegular("a folder")),
            "{e}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_refused_without_reading() {
        let e = read_text(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(
            matches!(e.problem, InputProblem::NotRegular("a device")),
            "{e}"
        );
        assert!(
            e.to_string().starts_with("/dev/zero: not a regular file"),
            "{e}"
        );
        let dir = temp("fifo");
        let fifo = dir.join("p");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Opening a FIFO without a writer blocks: it must not be opened at all.
            let e = read_text(&fifo, 1 << 20).unwrap_err();
            assert!(
                matches!(e.problem, InputProblem::NotRegular("a FIFO")),
                "{e}"
            );
            // A FIFO swapped in between the check and the open: the open returns at once
            // (a blocking one would wait for a writer for ever) and the second check
            // refuses it. Run on a thread so that a regression fails instead of hanging.
            let (sent, got) = std::sync::mpsc::channel();
            let path = fifo.clone();
            std::thread::spawn(move || {
                let opened = open_for_reading(&path).map(|f| f.metadata().map(|m| m.is_file()));
                let _ = sent.send(opened.is_ok_and(|regular| regular.is_ok_and(|r| !r)));
            });
            let answer = got.recv_timeout(std::time::Duration::from_secs(10));
            assert_eq!(answer, Ok(true), "the open of a FIFO waited or failed");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
