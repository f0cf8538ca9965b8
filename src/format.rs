//! Names and numbers as people read them, shared by every command and renderer.

/// A thread count as a phrase: `serial`, `1 thread`, `8 threads` (0 is the serial baseline).
pub fn threads(thread_count: u32) -> String {
    match thread_count {
        0 => "serial".to_string(),
        1 => "1 thread".to_string(),
        n => format!("{n} threads"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thread_counts_read_as_words() {
        assert_eq!(super::threads(0), "serial");
        assert_eq!(super::threads(1), "1 thread");
        assert_eq!(super::threads(16), "16 threads");
    }
}
