//! How users name an interpreter: `[LABEL=](PATH|COMMAND|VERSION)[+gil|+nogil]`.
//!
//! Parsing and the GIL mode's effect on the environment live here and nowhere else, so every
//! command understands the same specs.

use std::path::PathBuf;

pub use crate::model::interpreter::GilMode;

/// A version request: `3`, `3.13`, `3.13.15`, with `t` for a free-threaded build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRequest {
    pub parts: Vec<u32>,
    pub free_threaded: bool,
}

impl VersionRequest {
    /// Parse `3.13t`-style text; `None` if it is not a version request.
    pub fn parse(text: &str) -> Option<Self> {
        let (digits, free_threaded) = match text.strip_suffix('t') {
            Some(rest) => (rest, true),
            None => (text, false),
        };
        let parts: Option<Vec<u32>> = digits.split('.').map(|p| p.parse().ok()).collect();
        let parts = parts?;
        if parts.is_empty() || parts.len() > 3 || digits.starts_with('.') {
            return None;
        }
        Some(Self {
            parts,
            free_threaded,
        })
    }

    /// Whether an interpreter of this version and build answers the request.
    pub fn matches(&self, version: [u32; 3], free_threaded: bool) -> bool {
        free_threaded == self.free_threaded
            && self.parts.iter().zip(version.iter()).all(|(a, b)| a == b)
    }
}

impl std::fmt::Display for VersionRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.parts.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{}{}",
            parts.join("."),
            if self.free_threaded { "t" } else { "" }
        )
    }
}

/// What a spec points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecTarget {
    /// Contains a `/`: a file.
    Path(PathBuf),
    /// A version request, resolved through discovery.
    Version(VersionRequest),
    /// Any other word, looked up on `PATH` (`python3.12`, `pypy3`).
    Command(String),
}

/// A parsed `--python` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// What the user typed.
    pub raw: String,
    pub label: Option<String>,
    pub target: SpecTarget,
    pub gil: GilMode,
}

/// A `--python` value that cannot be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    #[error("empty interpreter spec")]
    Empty,
    #[error(
        "malformed interpreter spec `{raw}`: expected LABEL=PATH, LABEL=VERSION or LABEL=COMMAND with a non-empty label and target"
    )]
    MalformedLabel { raw: String },
    #[error("malformed interpreter spec `{raw}`: a label may not contain spaces")]
    BadLabel { raw: String },
}

impl Spec {
    pub fn parse(raw: &str) -> Result<Self, SpecError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(SpecError::Empty);
        }
        // A label is whatever stands before the first `=`, unless that part looks like a path
        // (paths may contain `=`).
        let (label, rest) = match text.split_once('=') {
            Some((label, rest)) if !label.contains('/') => {
                if label.is_empty() || rest.is_empty() {
                    return Err(SpecError::MalformedLabel {
                        raw: raw.to_string(),
                    });
                }
                if label.contains(char::is_whitespace) {
                    return Err(SpecError::BadLabel {
                        raw: raw.to_string(),
                    });
                }
                (Some(label.to_string()), rest)
            }
            _ => (None, text),
        };
        let (rest, gil) = if let Some(rest) = rest.strip_suffix("+gil") {
            (rest, GilMode::ForceOn)
        } else if let Some(rest) = rest.strip_suffix("+nogil") {
            (rest, GilMode::ForceOff)
        } else {
            (rest, GilMode::Default)
        };
        if rest.is_empty() {
            return Err(SpecError::MalformedLabel {
                raw: raw.to_string(),
            });
        }
        let target = if rest.contains('/') {
            SpecTarget::Path(PathBuf::from(rest))
        } else if let Some(version) = VersionRequest::parse(rest) {
            SpecTarget::Version(version)
        } else {
            SpecTarget::Command(rest.to_string())
        };
        Ok(Self {
            raw: raw.to_string(),
            label,
            target,
            gil,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let spec = Spec::parse("3.13t+gil").unwrap();
        assert_eq!(spec.label, None);
        assert_eq!(spec.gil, GilMode::ForceOn);
        assert_eq!(
            spec.target,
            SpecTarget::Version(VersionRequest {
                parts: vec![3, 13],
                free_threaded: true
            })
        );
        let spec = Spec::parse("old=/opt/py/bin/python3.13t+nogil").unwrap();
        assert_eq!(spec.label.as_deref(), Some("old"));
        assert_eq!(spec.gil, GilMode::ForceOff);
        assert_eq!(
            spec.target,
            SpecTarget::Path("/opt/py/bin/python3.13t".into())
        );
        assert_eq!(
            Spec::parse("python3.12").unwrap().target,
            SpecTarget::Command("python3.12".into())
        );
        assert_eq!(
            Spec::parse("/a=b/python").unwrap().target,
            SpecTarget::Path("/a=b/python".into())
        );
    }

    #[test]
    fn rejects_malformed_labels() {
        assert!(matches!(
            Spec::parse("=3.13"),
            Err(SpecError::MalformedLabel { .. })
        ));
        assert!(matches!(
            Spec::parse("x="),
            Err(SpecError::MalformedLabel { .. })
        ));
        assert!(matches!(
            Spec::parse("a b=3.13"),
            Err(SpecError::BadLabel { .. })
        ));
        assert_eq!(Spec::parse("  "), Err(SpecError::Empty));
    }

    #[test]
    fn version_requests_match_prefixes() {
        let request = VersionRequest::parse("3.13t").unwrap();
        assert!(request.matches([3, 13, 15], true));
        assert!(!request.matches([3, 13, 15], false));
        assert!(!request.matches([3, 14, 0], true));
        assert!(VersionRequest::parse("3.x").is_none());
        assert!(VersionRequest::parse("t").is_none());
        assert_eq!(request.to_string(), "3.13t");
    }
}
