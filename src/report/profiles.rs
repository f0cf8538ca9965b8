//! The flame graphs a run recorded (`--profile`), as a report carries them: which files, read
//! safely, and the names they get in the report's `profiles/` folder.

use std::path::Path;

use crate::analysis::Analysis;
use crate::format::slug;

/// Every flame graph file a results file names, merged graphs first.
pub fn profile_files(results: &Analysis<'_>) -> Vec<String> {
    results
        .profiles()
        .iter()
        .flat_map(|p| {
            std::iter::once(p.file.clone())
                .chain(p.threads.iter().map(|t| t.file.clone()))
                .chain(
                    p.differential
                        .iter()
                        .flat_map(|d| [d.file.clone(), d.serial_file.clone()]),
                )
        })
        .collect()
}

/// Where a recorded flame graph goes in the report: `profiles/NAME`, NAME a slug of its file
/// name.
pub fn profile_name(file: &str) -> String {
    let name = Path::new(file)
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    format!("{}.svg", slug(&name))
}

/// The bytes of a recorded flame graph, if `file` is a relative `.svg` path below `base` that
/// is a regular file of at most 64 MiB.
pub fn read_profile(base: &Path, file: &str) -> Option<Vec<u8>> {
    let relative = Path::new(file);
    let plain = relative
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !plain || relative.extension().is_none_or(|e| e != "svg") {
        return None;
    }
    let path = base.join(relative);
    let meta = fs_err::symlink_metadata(&path).ok()?;
    if !meta.is_file() || meta.len() > 64 << 20 {
        return None;
    }
    fs_err::read(&path).ok()
}
