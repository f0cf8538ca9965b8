//! Where results may be written: only to a regular file the user chose, never over a results
//! file by accident, and never by two runs at once.

use std::path::{Path, PathBuf};

/// Why a results path cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "`{}` exists and is not a regular file (a device, directory, FIFO or socket); ftbench writes results only to regular files",
        path.display()
    )]
    NotRegular { path: PathBuf },
    #[error(
        "`{}` already exists; {}",
        path.display(),
        match command {
            Command::Run => format!("pass --force to replace it, or complete it with `ftbench run --resume {}`", path.display()),
            Command::Pyperformance => format!("choose another -o, or complete it with `ftbench pyperformance --resume {}`", path.display()),
        }
    )]
    Exists { path: PathBuf, command: Command },
    #[error("`{}` is not a directory", path.display())]
    NotADirectory { path: PathBuf },
    #[error(
        "another ftbench run is writing `{}` (its lock `{}` is held); wait for it, or choose another -o",
        path.display(),
        lock.display()
    )]
    Locked { path: PathBuf, lock: PathBuf },
    #[error("cannot lock `{}`", lock.display())]
    Lock {
        lock: PathBuf,
        #[source]
        err: std::io::Error,
    },
}

/// The command that writes a new results file, for the advice on one that exists: each has its
/// own way to replace or complete it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `run` and `scale`: `--force` replaces, `run --resume` completes.
    Run,
    /// `pyperformance`: no `--force`; `pyperformance --resume` completes.
    Pyperformance,
}

/// What to do when the output file exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// A new run: an existing file is someone's results, refuse it.
    Refuse(Command),
    /// `--force`: replace it.
    Replace,
    /// `--resume` or an import that adds to it: it must be there and be a regular file.
    Continue,
}

/// Check that `path` can take a results file: a regular file or nothing, under a directory.
pub fn check_output(path: &Path, existing: Existing) -> Result<(), Error> {
    if let Ok(meta) = fs_err::metadata(path) {
        if !meta.is_file() {
            return Err(Error::NotRegular {
                path: path.to_path_buf(),
            });
        }
        if let Existing::Refuse(command) = existing {
            return Err(Error::Exists {
                path: path.to_path_buf(),
                command,
            });
        }
    }
    // A dangling symlink or any other non-file entry: the rename would replace it.
    if let Ok(meta) = fs_err::symlink_metadata(path)
        && !meta.is_file()
        && !meta.file_type().is_symlink()
    {
        return Err(Error::NotRegular {
            path: path.to_path_buf(),
        });
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && parent.exists()
        && !parent.is_dir()
    {
        return Err(Error::NotADirectory {
            path: parent.to_path_buf(),
        });
    }
    Ok(())
}

/// An advisory lock beside a results file (`.NAME.lock`), held while a run writes it.
///
/// The lock file is removed when the lock is dropped. A run that took the lock checks that the
/// file it locked is still the one at the path, so a run that opened the file just before the
/// previous owner removed it cannot hold a lock nobody else sees.
#[derive(Debug)]
pub struct OutputLock {
    lock: PathBuf,
    file: Option<std::fs::File>,
}

impl OutputLock {
    /// Take the lock for `results`, failing at once if another process holds it.
    pub fn acquire(results: &Path) -> Result<Self, Error> {
        use std::os::unix::fs::MetadataExt;
        let name = results
            .file_name()
            .map_or_else(|| "results".into(), |n| n.to_string_lossy().into_owned());
        let lock = results.with_file_name(format!(".{name}.lock"));
        let io = |err| Error::Lock {
            lock: lock.clone(),
            err,
        };
        loop {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock)
                .map_err(io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::Locked {
                        path: results.to_path_buf(),
                        lock,
                    });
                }
                Err(std::fs::TryLockError::Error(err)) => return Err(io(err)),
            }
            let ours = file.metadata().map_err(io)?;
            match fs_err::metadata(&lock) {
                Ok(now) if now.ino() == ours.ino() && now.dev() == ours.dev() => {
                    return Ok(Self {
                        lock,
                        file: Some(file),
                    });
                }
                // The previous owner removed it after we opened it: take the new one.
                _ => {}
            }
        }
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Remove while still holding it, then release.
        let _ = fs_err::remove_file(&self.lock);
        drop(self.file.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_that_are_not_regular_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert!(matches!(
            check_output(&fifo, Existing::Replace),
            Err(Error::NotRegular { .. })
        ));
        assert!(matches!(
            check_output(dir.path(), Existing::Replace),
            Err(Error::NotRegular { .. })
        ));
        let file = dir.path().join("r.json");
        assert!(check_output(&file, Existing::Refuse(Command::Run)).is_ok());
        fs_err::write(&file, "{}").unwrap();
        let err = check_output(&file, Existing::Refuse(Command::Run))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--force") && err.contains("ftbench run --resume"),
            "{err}"
        );
        // pyperformance has no --force, and its files resume with pyperformance.
        let err = check_output(&file, Existing::Refuse(Command::Pyperformance))
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("--force") && err.contains("ftbench pyperformance --resume"),
            "{err}"
        );
        assert!(check_output(&file, Existing::Replace).is_ok());
        assert!(matches!(
            check_output(&file.join("below"), Existing::Refuse(Command::Run)),
            Err(Error::NotADirectory { .. })
        ));
    }

    #[test]
    fn a_second_lock_on_the_same_output_fails_and_the_lock_goes_away() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("r.json");
        let first = OutputLock::acquire(&results).unwrap();
        let err = OutputLock::acquire(&results).unwrap_err().to_string();
        assert!(err.contains("another ftbench run is writing"), "{err}");
        drop(first);
        assert!(!dir.path().join(".r.json.lock").exists());
        let _again = OutputLock::acquire(&results).unwrap();
    }
}
