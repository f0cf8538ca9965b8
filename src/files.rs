//! Writing files so that nothing is ever half-written: results, caches, dashboards.

use std::io::Write as _;
use std::path::Path;

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
