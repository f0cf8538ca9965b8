//! Turning a results file into what people read. Renderers are pure: results in, text out.

pub mod table;

/// A number in engineering style: `13.4M`, `952k`, `3.21`, `0.0123`.
pub fn human(value: f64) -> String {
    let magnitude = value.abs();
    let (scaled, suffix) = if magnitude >= 1e9 {
        (value / 1e9, "G")
    } else if magnitude >= 1e6 {
        (value / 1e6, "M")
    } else if magnitude >= 1e4 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let digits = if scaled.abs() >= 100.0 {
        0
    } else if scaled.abs() >= 10.0 {
        1
    } else if scaled.abs() >= 0.1 || scaled == 0.0 {
        2
    } else {
        4
    };
    format!("{scaled:.digits$}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn human_numbers() {
        assert_eq!(human(13_412_345.0), "13.4M");
        assert_eq!(human(952_100.0), "952k");
        assert_eq!(human(3.214), "3.21");
        assert_eq!(human(0.012_34), "0.0123");
        assert_eq!(human(1_872.29), "1872");
        assert_eq!(human(2.5e9), "2.50G");
    }
}
