//! Secrets of ftbench's own (a `PostgreSQL` store's password) stay out of files, messages, stores
//! and child processes: URLs are redacted wherever they are shown or recorded, and no child
//! inherits the variables that hold them.

use std::process::Command;

/// Keep benchmark code from reading ftbench's own environment (`/proc/<ppid>/environ`, with
/// `PGPASSWORD` or a store URL in it): a process that is not dumpable can be read through
/// `/proc` only by one allowed to trace any process (root, `CAP_SYS_PTRACE`), not by the
/// user's other processes. Children are dumpable again after `exec`, so workers stay
/// profilable. On other systems, nothing happens.
pub fn hide_own_environment() {
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_dumpable(false);
}

/// The URL with its password (if any) replaced by `***`, for messages and files: in the
/// user-info part (the driver accepts an unencoded `/`, `?` or `@` there, so the user info
/// ends at the last `@` before the host) and in a `password=` query parameter.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let rest = match rest.rfind('@') {
        Some(at) => {
            let (userinfo, host) = rest.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***{host}"),
                None => rest.to_string(),
            }
        }
        None => rest.to_string(),
    };
    let rest = match rest.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=***")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => rest,
    };
    format!("{scheme}://{rest}")
}

/// The command line as a results file records it: any URL's password (`--store
/// postgresql://user:PW@host/db`, `?password=`) replaced by `***`, so no secret reaches the
/// file, its reports or a store.
pub fn redacted_args(args: impl IntoIterator<Item = String>) -> Vec<String> {
    args.into_iter()
        .map(|arg| match arg.find("://") {
            Some(at) => {
                // `--store=URL` keeps its flag; the URL starts at its scheme.
                let start = arg[..at]
                    .rfind(|c: char| {
                        !(c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
                    })
                    .map_or(0, |i| i + 1);
                format!("{}{}", &arg[..start], redact_url(&arg[start..]))
            }
            None => arg,
        })
        .collect()
}

/// Variables that may hold a secret of ftbench's own (the store's URL and password): no child
/// (a worker running anyone's code, pip, perf, a compiler) inherits them.
pub const SECRET_VARIABLES: [&str; 2] = ["FTBENCH_STORE", "PGPASSWORD"];

/// Remove [`SECRET_VARIABLES`] from a child's environment.
pub fn keep_secrets(command: &mut Command) {
    for name in SECRET_VARIABLES {
        command.env_remove(name);
    }
}

/// What to do instead of a password in a URL on the command line.
pub const PASSWORD_ADVICE: &str = "a password in a URL on the command line shows in `ps` and in shell history (ftbench records it as ***, but cannot hide it from them): put it in PGPASSWORD or a password file (~/.pgpass, or the file PGPASSFILE names) instead";

/// Whether this process's own command line holds a URL with a password: whether recording it
/// would redact anything.
pub fn password_on_command_line() -> bool {
    let args: Vec<String> = std::env::args().collect();
    redacted_args(args.clone()) != args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn ftbench_hides_its_environment_from_other_processes() {
        hide_own_environment();
        assert_eq!(nix::sys::prctl::get_dumpable(), Ok(false));
    }

    #[test]
    fn command_lines_are_recorded_without_passwords() {
        let args = [
            "ftbench",
            "run",
            "--store",
            "postgresql://bench:pa/ss@db/ftbench",
            "--store=postgres://u@h/db?password=s3cret",
            "-o",
            "x.json",
        ]
        .map(str::to_string);
        let recorded = redacted_args(args).join(" ");
        assert_eq!(
            recorded,
            "ftbench run --store postgresql://bench:***@db/ftbench --store=postgres://u@h/db?password=*** -o x.json"
        );
        assert!(!recorded.contains("s3cret") && !recorded.contains("pa/ss"));
    }

    #[test]
    fn children_do_not_inherit_the_store_or_its_password() {
        let mut command = Command::new("env");
        command
            .env("PGPASSWORD", "s3cret")
            .env("FTBENCH_STORE", "x");
        keep_secrets(&mut command);
        let envs: Vec<_> = command.get_envs().collect();
        for name in SECRET_VARIABLES {
            assert!(
                envs.iter().any(|(k, v)| *k == name && v.is_none()),
                "{name}: {envs:?}"
            );
        }
    }
}
