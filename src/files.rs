//! Writing files so that nothing is ever half-written (results, caches, dashboards), and
//! reading them within a size limit, so that a huge, sparse or endless file (`/dev/zero`, a FIFO)
//! is refused before it is read instead of filling memory.

use std::io::{Read as _, Seek as _, Write as _};
use std::path::Path;

/// Why [`read_bounded`] refused a file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A device, FIFO, socket or folder: not a file that ends.
    #[error("not a regular file")]
    NotRegular,
    #[error("{} MiB, more than the {} MiB ftbench reads", .size >> 20, .limit >> 20)]
    TooLarge { size: u64, limit: u64 },
}

/// Read a whole regular file of at most `limit` bytes. The size is checked before anything is
/// read, and the reading stops one byte past the limit (a file that grows meanwhile).
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    use fs_err::os::unix::fs::OpenOptionsExt as _;
    // Opening a FIFO for reading waits for a writer: it is opened without waiting, and what was
    // opened is checked (not the name, which could change in between).
    let file = fs_err::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// The last `limit` bytes of a file as text, from its first whole line: a log's or a probe's
/// end, read from the end without reading the rest.
pub fn read_tail(path: &Path, limit: u64) -> std::io::Result<String> {
    let mut file = fs_err::File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(limit);
    file.seek(std::io::SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(if start > 0 {
        text.split_once('\n')
            .map_or(String::new(), |(_, rest)| rest.to_string())
    } else {
        text.into_owned()
    })
}

/// Replace `path` with `bytes` atomically: readers see the old file or the new one, never half.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".ftbench-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|err| {
            std::io::Error::new(
                err.kind(),
                format!("cannot create a file in `{}`: {err}", dir.display()),
            )
        })?;
    temp.write_all(bytes)?;
    // Temp files are created private (0600); a results file is for sharing (0644), and a file
    // being replaced keeps its own permissions, never fewer.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs_err::metadata(path)
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map_or(0o644, |meta| meta.permissions().mode() & 0o7777);
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|err| {
        std::io::Error::new(
            err.error.kind(),
            format!("cannot replace `{}`: {}", path.display(), err.error),
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_reads_refuse_what_never_ends_or_is_too_large() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs_err::write(&path, b"0123456789").unwrap();
        assert_eq!(read_bounded(&path, 10).unwrap(), b"0123456789");
        assert!(matches!(
            read_bounded(&path, 9),
            Err(ReadError::TooLarge { size: 10, limit: 9 })
        ));
        // A sparse file is refused by its size, before a byte is read.
        let sparse = dir.path().join("sparse");
        fs_err::File::create(&sparse)
            .unwrap()
            .set_len(3 << 30)
            .unwrap();
        assert!(matches!(
            read_bounded(&sparse, 1 << 20),
            Err(ReadError::TooLarge { .. })
        ));
        assert!(matches!(
            read_bounded(Path::new("/dev/zero"), 1 << 20),
            Err(ReadError::NotRegular)
        ));
        // A FIFO with no writer: refused at once, not waited on.
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(matches!(
            read_bounded(&fifo, 1 << 20),
            Err(ReadError::NotRegular)
        ));
        assert!(matches!(
            read_bounded(dir.path(), 1 << 20),
            Err(ReadError::NotRegular | ReadError::Io(_))
        ));
    }

    #[test]
    fn a_tail_starts_at_a_whole_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        fs_err::write(&path, "first line\nsecond\nthird\n").unwrap();
        assert_eq!(
            read_tail(&path, 1000).unwrap(),
            "first line\nsecond\nthird\n"
        );
        assert_eq!(read_tail(&path, 10).unwrap(), "third\n");
    }

    #[test]
    fn written_files_are_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_atomically(&path, b"{}").unwrap();
        let mode = fs_err::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        assert_eq!(fs_err::read(&path).unwrap(), b"{}");
        // A replaced file keeps the permissions it had, wider or narrower.
        for kept in [0o664, 0o600] {
            fs_err::set_permissions(&path, std::fs::Permissions::from_mode(kept)).unwrap();
            write_atomically(&path, b"[]").unwrap();
            let mode = fs_err::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, kept);
        }
    }
}
