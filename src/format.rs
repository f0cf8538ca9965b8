//! Names and numbers as people read them, shared by every command and renderer.

/// A thread count as a phrase: `serial`, `1 thread`, `8 threads` (0 is the serial baseline).
pub fn threads(thread_count: u32) -> String {
    match thread_count {
        0 => "serial".to_string(),
        1 => "1 thread".to_string(),
        n => format!("{n} threads"),
    }
}

/// A point's parallel units as a phrase: worker processes for tests that run a process pool
/// (`pool_*_processes`, `np_column_compute_mp`, `scale --mode processes`), threads otherwise.
pub fn workers(test: &str, count: u32) -> String {
    if !crate::workloads::uses_processes(test) {
        return threads(count);
    }
    match count {
        0 => "serial".to_string(),
        1 => "1 process".to_string(),
        n => format!("{n} processes"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thread_counts_read_as_words() {
        assert_eq!(super::threads(0), "serial");
        assert_eq!(super::threads(1), "1 thread");
        assert_eq!(super::threads(16), "16 threads");
        assert_eq!(super::workers("parallel_compute", 2), "2 threads");
        assert_eq!(super::workers("pool_cpu_bound_processes", 2), "2 processes");
        assert_eq!(super::workers("bench:work@processes", 1), "1 process");
        assert_eq!(super::workers("np_column_compute_mp", 0), "serial");
    }
}
