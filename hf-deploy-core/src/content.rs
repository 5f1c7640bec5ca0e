//! The content of one file of the Space tree: bytes in memory, or a file of the source read
//! when it is needed.
//!
//! A backend can hold a gigabyte of data files. The scaffold keeps only what it generates or
//! rewrites in memory ([`FileContent::Memory`]); every other file stays a path and a size
//! ([`FileContent::Source`]) and is read when the push hashes it, stores it as a git blob or
//! streams it to Git LFS. Peak memory then depends on the largest plain file (at most 10 MiB,
//! larger ones go to LFS and are streamed), not on the size of the tree.
//!
//! A source file that changes between the scaffold and the push is caught where it matters: its
//! size is checked when it is read, and LFS storage checks the SHA-256 of what is uploaded.

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Read size when a source file is streamed (hashing, uploading).
pub(crate) const STREAM_CHUNK: usize = 64 * 1024;

/// The content of one file of the Space tree. `Debug` shows sizes and paths, never content.
#[derive(Clone, PartialEq, Eq)]
pub enum FileContent {
    /// Held in memory: a file hf-deploy generated or rewrote (Dockerfile, README, ...).
    Memory(Bytes),
    /// A file of the source, read from `path` when needed; `size` is its length when the
    /// scaffold walked it.
    Source {
        /// Where to read it (absolute, symbolic links resolved).
        path: PathBuf,
        /// Its length in bytes when the scaffold saw it.
        size: u64,
    },
}

impl std::fmt::Debug for FileContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileContent::Memory(bytes) => write!(f, "Memory({} bytes)", bytes.len()),
            FileContent::Source { path, size } => {
                write!(f, "Source({}, {size} bytes)", path.display())
            }
        }
    }
}

impl From<Vec<u8>> for FileContent {
    fn from(bytes: Vec<u8>) -> Self {
        FileContent::Memory(Bytes::from(bytes))
    }
}

impl From<Bytes> for FileContent {
    fn from(bytes: Bytes) -> Self {
        FileContent::Memory(bytes)
    }
}

impl From<&[u8]> for FileContent {
    fn from(bytes: &[u8]) -> Self {
        FileContent::Memory(Bytes::copy_from_slice(bytes))
    }
}

impl From<&str> for FileContent {
    fn from(text: &str) -> Self {
        FileContent::from(text.as_bytes())
    }
}

impl From<String> for FileContent {
    fn from(text: String) -> Self {
        FileContent::from(text.into_bytes())
    }
}

impl FileContent {
    /// A source file at `path`, with its current length.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when `path` cannot be inspected.
    #[cfg(test)]
    pub(crate) fn source(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let size = std::fs::metadata(&path)
            .map_err(|e| Error::io("read", &path, e))?
            .len();
        Ok(FileContent::Source { path, size })
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            FileContent::Memory(bytes) => bytes.len() as u64,
            FileContent::Source { size, .. } => *size,
        }
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes when they are in memory (`None` for a source file).
    #[cfg(test)]
    pub(crate) fn in_memory(&self) -> Option<&[u8]> {
        match self {
            FileContent::Memory(bytes) => Some(bytes),
            FileContent::Source { .. } => None,
        }
    }

    /// The source path, for a file read from the source.
    pub(crate) fn source_path(&self) -> Option<&Path> {
        match self {
            FileContent::Memory(_) => None,
            FileContent::Source { path, .. } => Some(path),
        }
    }

    /// The whole content: borrowed when in memory, read from disk otherwise. Use it for files
    /// that are small or must be read as a whole (text the scaffold parses, a git blob).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read, or its length changed since the scaffold.
    pub fn read(&self) -> Result<Cow<'_, [u8]>> {
        match self {
            FileContent::Memory(bytes) => Ok(Cow::Borrowed(bytes)),
            FileContent::Source { path, size } => {
                let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
                check_size(path, *size, bytes.len() as u64)?;
                Ok(Cow::Owned(bytes))
            }
        }
    }

    /// The content as text (invalid UTF-8 replaced), for the files the scaffold scans.
    ///
    /// # Errors
    ///
    /// As [`FileContent::read`].
    pub fn text(&self) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.read()?).into_owned())
    }

    /// A reader over the content, for streaming.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the source file cannot be opened.
    pub(crate) fn open(&self) -> Result<Box<dyn Read + Send + '_>> {
        match self {
            FileContent::Memory(bytes) => Ok(Box::new(&bytes[..])),
            FileContent::Source { path, .. } => Ok(Box::new(
                std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?,
            )),
        }
    }

    /// SHA-256 (lowercase hex) and length of the content, read in 64 KiB pieces.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read, or its length changed since the scaffold.
    pub(crate) fn sha256(&self) -> Result<(String, u64)> {
        match self {
            FileContent::Memory(bytes) => {
                Ok((hex::encode(Sha256::digest(bytes)), bytes.len() as u64))
            }
            FileContent::Source { path, size } => {
                let mut file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
                let mut hasher = Sha256::new();
                let mut buffer = vec![0u8; STREAM_CHUNK];
                let mut total = 0u64;
                loop {
                    let n = match file.read(&mut buffer) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(Error::io("read", path, e)),
                    };
                    hasher.update(&buffer[..n]);
                    total += n as u64;
                }
                check_size(path, *size, total)?;
                Ok((hex::encode(hasher.finalize()), total))
            }
        }
    }
}

/// A source file whose length changed since the scaffold: its content is not what was planned.
pub(crate) fn check_size(path: &Path, expected: u64, found: u64) -> Result<()> {
    if expected == found {
        return Ok(());
    }
    Err(Error::io(
        "read",
        path,
        std::io::Error::other(format!(
            "the file changed while deploying ({expected} bytes when scanned, {found} now); run the deploy again"
        )),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_file_is_read_and_hashed_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        // More than one read chunk, so the streamed hash covers several reads.
        let data: Vec<u8> = (0..STREAM_CHUNK * 3 + 17)
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(&path, &data).unwrap();
        let content = FileContent::source(&path).unwrap();
        assert_eq!(content.len(), data.len() as u64);
        assert_eq!(content.read().unwrap().as_ref(), &data[..]);
        let (oid, size) = content.sha256().unwrap();
        assert_eq!(oid, hex::encode(Sha256::digest(&data)));
        assert_eq!(size, data.len() as u64);
        let memory = FileContent::from(data.clone());
        assert_eq!(memory.sha256().unwrap(), (oid, size));
        assert!(!format!("{content:?}{memory:?}").contains("\u{1}\u{2}"));

        // Changed behind the scaffold's back: refused with the path and what to do.
        std::fs::write(&path, b"short").unwrap();
        let err = content.read().unwrap_err();
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(err.to_string().contains("a.bin"), "{err}");
        assert!(cause.contains("changed while deploying"), "{cause}");
        assert!(content.sha256().is_err());
    }

    #[test]
    fn debug_shows_sizes_not_content() {
        let content = FileContent::from("TOKEN=hf_secret");
        assert_eq!(format!("{content:?}"), "Memory(15 bytes)");
    }
}
