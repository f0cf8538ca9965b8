//! A model of each curve: Gunther's Universal Scalability Law,
//! `C(N) = N / (1 + σ(N−1) + κN(N−1))`, where `C(N)` is throughput at N threads over throughput
//! at one thread. σ is contention (the serial share; Amdahl's law when κ = 0), κ is coherency
//! cost (cache lines and reference counts bouncing between cores, which turns a curve down),
//! and the peak is at `N* = √((1−σ)/κ)`.
//!
//! The fit: every sample of every thread count within the CPUs the run used, over the median
//! one-thread throughput, linearised as `N/C − 1 = σ(N−1) + κN(N−1)` and solved by least
//! squares with σ in [0, 1] and κ ≥ 0. The intervals are percentile bootstraps: each point's
//! samples resampled, the one-thread reference with them, the fit redone. Points above the CPU
//! count measure oversubscription, which the law does not describe; points judged disturbed or
//! unequal measured the machine: all are left out. A curve with fewer than three thread counts
//! left, or one the fitted curve misses by more than [`MAX_RELATIVE_ERROR`], is "not described",
//! with the reason, instead of numbers.

use serde::Serialize;

use crate::stats::{self, Estimate, Rng};

/// Thread counts a fit needs at least (two parameters, and one more to check them).
pub const MIN_THREAD_COUNTS: usize = 3;
/// The largest root-mean-square relative error of the fitted curve against the measured
/// medians for the model to describe a curve.
pub const MAX_RELATIVE_ERROR: f64 = 0.10;
/// Bootstrap resamples of a fit.
const RESAMPLES: usize = 1000;

/// One thread count's throughput samples.
#[derive(Debug, Clone)]
pub struct Measured {
    pub threads: u32,
    pub values: Vec<f64>,
}

/// A fitted curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fit {
    pub sigma: Estimate,
    pub kappa: Estimate,
    /// Of the fitted capacity against the measured medians.
    pub r_squared: f64,
    /// Root mean square of (fitted − measured) / measured over the thread counts used.
    pub relative_error: f64,
    /// The thread counts the fit used.
    pub thread_counts: Vec<u32>,
    /// `√((1−σ)/κ)`: where throughput peaks; `None` when κ = 0 (no peak: more threads keep
    /// helping, ever less).
    pub peak_threads: Option<Estimate>,
    /// The measured thread count with the best median throughput (all points, oversubscribed
    /// ones included).
    pub best_measured_threads: u32,
    /// Predicted speedups over the serial run on machines with more CPUs.
    pub predictions: Vec<Prediction>,
    /// The fitted speedup over the serial run, with its band, from one thread to the highest
    /// measured thread count (for figures; not in the results file).
    #[serde(skip)]
    pub curve: Vec<(f64, Estimate)>,
}

/// A predicted speedup, with its interval: a prediction, not a measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// `2x` or `4x` the CPUs the run used.
    pub cores: String,
    pub threads: u32,
    pub speedup: Estimate,
}

/// The model of one curve, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    Described(Box<Fit>),
    NotDescribed { reason: String },
}

impl Model {
    /// As the results file has it: the fit's fields with `"law": "usl", "described": true`, or
    /// `{"described": false, "reason": …}`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Described(fit) => {
                let mut json = serde_json::to_value(fit).unwrap_or_default();
                if let Some(map) = json.as_object_mut() {
                    map.insert("law".into(), "usl".into());
                    map.insert("described".into(), true.into());
                    map.insert(
                        "fit_quality".into(),
                        serde_json::json!({
                            "r_squared": fit.r_squared,
                            "relative_error": fit.relative_error,
                        }),
                    );
                }
                json
            }
            Self::NotDescribed { reason } => {
                serde_json::json!({"law": "usl", "described": false, "reason": reason})
            }
        }
    }
}

/// σ and κ of `C(N) = N / (1 + σ(N−1) + κN(N−1))`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Law {
    pub sigma: f64,
    pub kappa: f64,
}

impl Law {
    /// Capacity at `n` threads, relative to one.
    pub fn capacity(self, n: f64) -> f64 {
        n / (1.0 + self.sigma * (n - 1.0) + self.kappa * n * (n - 1.0))
    }

    /// Where capacity peaks, `None` without coherency cost.
    pub fn peak(self) -> Option<f64> {
        // Below one thread means "from the first thread on, more is slower": one.
        (self.kappa > 0.0).then(|| ((1.0 - self.sigma).max(0.0) / self.kappa).sqrt().max(1.0))
    }

    /// Least squares over `(threads, capacity)` pairs, σ in [0, 1], κ ≥ 0; `None` without
    /// data above one thread.
    pub fn fit(pairs: &[(f64, f64)]) -> Option<Self> {
        let rows = || {
            pairs
                .iter()
                .filter(|(n, c)| *n > 1.0 && *c > 0.0 && c.is_finite())
                .map(|&(n, c)| (n - 1.0, n * (n - 1.0), n / c - 1.0))
        };
        rows().next()?;
        let sum = |f: &dyn Fn(&(f64, f64, f64)) -> f64| rows().map(|r| f(&r)).sum::<f64>();
        let (a11, a12, a22) = (
            sum(&|r| r.0 * r.0),
            sum(&|r| r.0 * r.1),
            sum(&|r| r.1 * r.1),
        );
        let (b1, b2) = (sum(&|r| r.0 * r.2), sum(&|r| r.1 * r.2));
        let only_sigma = || (b1 / a11).clamp(0.0, 1.0);
        let kappa_given = |sigma: f64| (sum(&|r| r.1 * (r.2 - sigma * r.0)) / a22).max(0.0);
        let det = a11 * a22 - a12 * a12;
        let (mut sigma, mut kappa) = if det.abs() > 1e-12 * a11 * a22 {
            ((b1 * a22 - b2 * a12) / det, (a11 * b2 - a12 * b1) / det)
        } else {
            // One thread count above 1: σ and κ cannot be told apart; Amdahl alone.
            (only_sigma(), 0.0)
        };
        if kappa < 0.0 {
            (sigma, kappa) = (only_sigma(), 0.0);
        }
        if sigma < 0.0 {
            sigma = 0.0;
            kappa = kappa_given(0.0);
        } else if sigma > 1.0 {
            sigma = 1.0;
            kappa = kappa_given(1.0);
        }
        Some(Self { sigma, kappa })
    }
}

/// Capacity pairs of every sample of `curve` over the one-thread reference.
fn pairs(curve: &[Measured], reference: f64) -> Vec<(f64, f64)> {
    let mut pairs = Vec::new();
    extend_pairs(&mut pairs, curve, reference);
    pairs
}

/// [`pairs`] into a buffer kept across bootstrap replicates.
fn extend_pairs(into: &mut Vec<(f64, f64)>, curve: &[Measured], reference: f64) {
    into.clear();
    into.extend(curve.iter().flat_map(|m| {
        m.values
            .iter()
            .map(move |v| (f64::from(m.threads), v / reference))
    }));
}

/// The 95% percentile interval of `values` around `value`; an infinite replicate (a peak that a
/// resample put at infinity) makes an infinite bound, not a number interpolated from it.
fn quantiles(mut values: Vec<f64>, value: f64) -> Estimate {
    values.retain(|v| !v.is_nan());
    if values.is_empty() {
        return Estimate::exact(value);
    }
    for v in &mut values {
        *v = v.clamp(f64::MIN, f64::MAX);
    }
    let (low, high) = stats::interval_of(&mut values, (1.0 - stats::CONFIDENCE) / 2.0);
    let bound = |v: f64| {
        if v >= f64::MAX / 2.0 {
            f64::INFINITY
        } else {
            v
        }
    };
    Estimate::new(value, bound(low).min(value), bound(high).max(value))
}

/// Why a curve with only `counts` thread counts to fit gets no model.
fn too_few(counts: &[u32], cpus: usize) -> Model {
    let listed = if counts.is_empty() {
        "none".to_string()
    } else {
        counts
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    Model::NotDescribed {
        reason: format!(
            "{} thread count(s) within the {cpus} CPU(s) and undisturbed ({listed}); the model needs {MIN_THREAD_COUNTS}: measure more thread counts up to the CPU count",
            counts.len(),
        ),
    }
}

/// Model one curve. `fit_points` are the thread counts the fit may use (within the CPUs, not
/// disturbed or unequal; the one-thread point among them, if measured); `all_points` every
/// measured thread count (for the best measured); `serial` the serial run's samples (for
/// speedups); `cpus` the CPUs the run used.
pub fn model(
    fit_points: &[Measured],
    all_points: &[Measured],
    serial: &[f64],
    cpus: usize,
) -> Model {
    let counts: Vec<u32> = fit_points.iter().map(|m| m.threads).collect();
    if counts.len() < MIN_THREAD_COUNTS {
        return too_few(&counts, cpus);
    }
    // The reference: the one-thread point's median, else the serial run's.
    let one = fit_points.iter().find(|m| m.threads == 1);
    let reference_values: &[f64] = one.map_or(serial, |m| m.values.as_slice());
    if reference_values.is_empty() {
        return Model::NotDescribed {
            reason: "no one-thread or serial point to compare with".to_string(),
        };
    }
    let reference = stats::median(reference_values);
    let Some(law) = Law::fit(&pairs(fit_points, reference)) else {
        return Model::NotDescribed {
            reason: "no point above one thread".to_string(),
        };
    };
    let (relative_error, r_squared) = quality(law, fit_points, reference);
    if relative_error > MAX_RELATIVE_ERROR {
        return Model::NotDescribed {
            reason: format!(
                "the fitted curve misses the measured medians by {:.0}% (root mean square; at most {:.0}% describes a curve): this curve does not have the law's shape",
                relative_error * 100.0,
                MAX_RELATIVE_ERROR * 100.0
            ),
        };
    }
    let serial_median = if serial.is_empty() {
        reference
    } else {
        stats::median(serial)
    };
    let targets = [("2x", 2 * cpus), ("4x", 4 * cpus)];
    // The figure's curve: 32 steps from 1 to the highest measured thread count, evenly on a
    // log scale.
    let highest = all_points
        .iter()
        .map(|m| m.threads)
        .max()
        .unwrap_or(1)
        .max(2);
    let grid: Vec<f64> = (0..=32)
        .map(|i| f64::from(highest).powf(f64::from(i) / 32.0))
        .collect();
    let boot = bootstrap(fit_points, serial, &targets, &grid);
    let best_measured_threads = all_points
        .iter()
        .max_by(|a, b| stats::median(&a.values).total_cmp(&stats::median(&b.values)))
        .map_or(1, |m| m.threads);
    Model::Described(Box::new(Fit {
        sigma: quantiles(boot.sigmas, law.sigma),
        kappa: quantiles(boot.kappas, law.kappa),
        r_squared,
        relative_error,
        thread_counts: counts,
        peak_threads: law.peak().map(|p| quantiles(boot.peaks, p)),
        best_measured_threads,
        predictions: targets
            .iter()
            .zip(boot.predicted)
            .map(|((cores, n), values)| Prediction {
                cores: (*cores).to_string(),
                threads: *n as u32,
                speedup: quantiles(values, law.capacity(*n as f64) * reference / serial_median),
            })
            .collect(),
        curve: grid
            .iter()
            .zip(boot.banded)
            .map(|(n, values)| {
                (
                    *n,
                    quantiles(values, law.capacity(*n) * reference / serial_median),
                )
            })
            .collect(),
    }))
}

/// How well `law` describes the medians of `curve` over `reference`: the root mean square of
/// the relative error, and R².
fn quality(law: Law, curve: &[Measured], reference: f64) -> (f64, f64) {
    let observed: Vec<(f64, f64)> = curve
        .iter()
        .map(|m| (f64::from(m.threads), stats::median(&m.values) / reference))
        .collect();
    let relative_error = (observed
        .iter()
        .map(|&(n, c)| ((law.capacity(n) - c) / c).powi(2))
        .sum::<f64>()
        / observed.len() as f64)
        .sqrt();
    let mean = observed.iter().map(|o| o.1).sum::<f64>() / observed.len() as f64;
    let total: f64 = observed.iter().map(|o| (o.1 - mean).powi(2)).sum();
    let residual: f64 = observed
        .iter()
        .map(|&(n, c)| (c - law.capacity(n)).powi(2))
        .sum();
    let r_squared = if total > 0.0 {
        1.0 - residual / total
    } else {
        1.0
    };
    (relative_error, r_squared)
}

/// Bootstrap replicates of a fit: σ, κ, the peak, the predictions and the figure's curve.
struct Replicates {
    sigmas: Vec<f64>,
    kappas: Vec<f64>,
    peaks: Vec<f64>,
    predicted: Vec<Vec<f64>>,
    banded: Vec<Vec<f64>>,
}

/// Every point's samples resampled (the one-thread reference with its point, else the serial
/// run's), the law fitted again, [`RESAMPLES`] times.
fn bootstrap(
    fit_points: &[Measured],
    serial: &[f64],
    targets: &[(&str, usize)],
    grid: &[f64],
) -> Replicates {
    let mut rng = Rng::new(
        fit_points
            .iter()
            .flat_map(|m| m.values.iter())
            .fold(0x5EED_u64, |h, v| h.rotate_left(7) ^ v.to_bits()),
    );
    // Every resample is drawn into buffers kept across replicates (in the same order of draws
    // as drawing fresh vectors): a 10 000-point report fits a few million laws.
    let refill = |into: &mut Vec<f64>, values: &[f64], rng: &mut Rng| {
        into.clear();
        into.extend((0..values.len()).map(|_| values[rng.below(values.len())]));
    };
    let mut sigmas = Vec::with_capacity(RESAMPLES);
    let mut kappas = Vec::with_capacity(RESAMPLES);
    let mut peaks = Vec::with_capacity(RESAMPLES);
    let mut predicted: Vec<Vec<f64>> = vec![Vec::with_capacity(RESAMPLES); targets.len()];
    let mut banded: Vec<Vec<f64>> = vec![Vec::with_capacity(RESAMPLES); grid.len()];
    let mut curve: Vec<Measured> = fit_points.to_vec();
    let mut drawn = Vec::with_capacity(serial.len());
    let mut capacities: Vec<(f64, f64)> = Vec::new();
    for _ in 0..RESAMPLES {
        for (resampled, m) in curve.iter_mut().zip(fit_points) {
            refill(&mut resampled.values, &m.values, &mut rng);
        }
        let reference = if let Some(one) = curve.iter().find(|m| m.threads == 1) {
            stats::median(&one.values)
        } else {
            refill(&mut drawn, serial, &mut rng);
            stats::median(&drawn)
        };
        let serial = if serial.is_empty() {
            reference
        } else {
            refill(&mut drawn, serial, &mut rng);
            stats::median(&drawn)
        };
        extend_pairs(&mut capacities, &curve, reference);
        let Some(law) = Law::fit(&capacities) else {
            continue;
        };
        sigmas.push(law.sigma);
        kappas.push(law.kappa);
        peaks.push(law.peak().unwrap_or(f64::INFINITY));
        for (i, (_, n)) in targets.iter().enumerate() {
            predicted[i].push(law.capacity(*n as f64) * reference / serial);
        }
        for (i, n) in grid.iter().enumerate() {
            banded[i].push(law.capacity(*n) * reference / serial);
        }
    }
    Replicates {
        sigmas,
        kappas,
        peaks,
        predicted,
        banded,
    }
}

impl Fit {
    /// A short line for the terminal's compact tables: where the fitted curve peaks, and how
    /// well the law fits.
    pub fn brief(&self) -> String {
        format!(
            "model: {}; fits within {:.1}% (σ {:.3}, κ {:.4})",
            self.peak_words(),
            self.relative_error * 100.0,
            self.sigma.value,
            self.kappa.value
        )
    }

    fn peak_words(&self) -> String {
        match &self.peak_threads {
            Some(p) if p.value.is_finite() => format!(
                "peak at {} [{:.0}, {}]",
                crate::format::threads(p.value.round() as u32),
                p.low,
                if p.high.is_finite() {
                    format!("{:.0}", p.high)
                } else {
                    "none".to_string()
                }
            ),
            _ => "no peak (κ = 0: more threads keep helping, ever less)".to_string(),
        }
    }

    /// One line for a table's notes.
    pub fn describe(&self) -> String {
        let peak = self.peak_words();
        let predictions: Vec<String> = self
            .predictions
            .iter()
            .map(|p| {
                format!(
                    "{} threads {:.2}x [{:.2}, {:.2}]",
                    p.threads, p.speedup.value, p.speedup.low, p.speedup.high
                )
            })
            .collect();
        format!(
            "σ {:.3} [{:.3}, {:.3}], κ {:.4} [{:.4}, {:.4}], fit within {:.1}% (R² {:.2}); best measured at {}; {}; predicted speedup (not measured) {}",
            self.sigma.value,
            self.sigma.low,
            self.sigma.high,
            self.kappa.value,
            self.kappa.low,
            self.kappa.high,
            self.relative_error * 100.0,
            self.r_squared,
            crate::format::threads(self.best_measured_threads),
            peak,
            predictions.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples of a curve that follows `law` exactly, times a small deterministic ripple.
    fn curve(law: Law, counts: &[u32], noise: f64) -> Vec<Measured> {
        let mut rng = Rng::new(7);
        counts
            .iter()
            .map(|&n| Measured {
                threads: n,
                values: (0..8)
                    .map(|_| {
                        let jitter = (rng.below(2001) as f64 / 1000.0 - 1.0) * noise;
                        100.0 * law.capacity(f64::from(n)) * (1.0 + jitter)
                    })
                    .collect(),
            })
            .collect()
    }

    fn fitted(model: &Model) -> &Fit {
        match model {
            Model::Described(fit) => fit,
            Model::NotDescribed { reason } => panic!("not described: {reason}"),
        }
    }

    #[test]
    fn exact_curves_give_back_their_law() {
        for law in [
            Law {
                sigma: 0.05,
                kappa: 0.002,
            },
            Law {
                sigma: 0.2,
                kappa: 0.0,
            },
            Law {
                sigma: 0.0,
                kappa: 0.01,
            },
            Law {
                sigma: 0.0,
                kappa: 0.0,
            },
        ] {
            let points = curve(law, &[1, 2, 4, 8, 16], 0.0);
            let got = Law::fit(&pairs(&points, 100.0)).unwrap();
            assert!((got.sigma - law.sigma).abs() < 1e-9, "{law:?} {got:?}");
            assert!((got.kappa - law.kappa).abs() < 1e-9, "{law:?} {got:?}");
        }
    }

    #[test]
    fn noisy_curves_recover_sigma_and_kappa_within_their_intervals() {
        let law = Law {
            sigma: 0.05,
            kappa: 0.002,
        };
        let points = curve(law, &[1, 2, 4, 8, 16], 0.03);
        let serial = points[0].values.clone();
        let fit = fitted(&model(&points, &points, &serial, 16)).clone();
        assert!(fit.sigma.low <= 0.05 && 0.05 <= fit.sigma.high, "{fit:?}");
        assert!(fit.kappa.low <= 0.002 && 0.002 <= fit.kappa.high, "{fit:?}");
        assert!(fit.sigma.low < fit.sigma.high, "{fit:?}");
        let peak = fit.peak_threads.unwrap();
        assert!(
            quantiles(vec![1.0, 2.0, f64::INFINITY], 1.5)
                .high
                .is_infinite()
        );
        let true_peak = law.peak().unwrap();
        assert!(
            peak.low <= true_peak && true_peak <= peak.high,
            "{peak:?} {true_peak}"
        );
        assert!(fit.relative_error < 0.05 && fit.r_squared > 0.95, "{fit:?}");
        assert_eq!(fit.thread_counts, vec![1, 2, 4, 8, 16]);
        // Predictions for 32 and 64 threads, around the law's own.
        assert_eq!(fit.predictions.len(), 2);
        let at_32 = &fit.predictions[0];
        assert_eq!((at_32.cores.as_str(), at_32.threads), ("2x", 32));
        let truth = law.capacity(32.0);
        assert!(
            at_32.speedup.low <= truth * 1.05 && truth * 0.95 <= at_32.speedup.high,
            "{at_32:?} {truth}"
        );
        assert!(
            fit.describe()
                .contains("predicted speedup (not measured) 32 threads")
        );
    }

    #[test]
    fn an_amdahl_curve_has_no_coherency_cost_and_no_peak() {
        let law = Law {
            sigma: 0.1,
            kappa: 0.0,
        };
        let points = curve(law, &[1, 2, 4, 8], 0.01);
        let fit = fitted(&model(&points, &points, &points[0].values, 8)).clone();
        assert!(fit.kappa.value < 1e-3 && fit.kappa.low == 0.0, "{fit:?}");
        assert!((fit.sigma.value - 0.1).abs() < 0.02, "{fit:?}");
        assert!(fit.sigma.low <= 0.1 && 0.1 <= fit.sigma.high, "{fit:?}");
        // Perfect scaling: σ's interval includes 0.
        let ideal = curve(
            Law {
                sigma: 0.0,
                kappa: 0.0,
            },
            &[1, 2, 4, 8],
            0.02,
        );
        let fit = fitted(&model(&ideal, &ideal, &ideal[0].values, 8)).clone();
        assert!(fit.sigma.low.abs() < 1e-12, "{fit:?}");
    }

    #[test]
    fn too_few_points_or_the_wrong_shape_are_not_described() {
        let law = Law {
            sigma: 0.05,
            kappa: 0.0,
        };
        let two = curve(law, &[1, 2], 0.0);
        let Model::NotDescribed { reason } = model(&two, &two, &two[0].values, 2) else {
            panic!("described with two thread counts");
        };
        assert!(
            reason.contains("2 thread count(s) within the 2 CPU(s)"),
            "{reason}"
        );
        // A curve that goes up, down and up again is not the law's.
        let zigzag: Vec<Measured> = [(1, 100.0), (2, 190.0), (4, 80.0), (8, 390.0)]
            .iter()
            .map(|&(threads, v)| Measured {
                threads,
                values: vec![v; 4],
            })
            .collect();
        let Model::NotDescribed { reason } = model(&zigzag, &zigzag, &[100.0; 4], 8) else {
            panic!("a zigzag described");
        };
        assert!(reason.contains("does not have the law's shape"), "{reason}");
    }

    #[test]
    fn the_model_serialises_with_its_described_flag() {
        let law = Law {
            sigma: 0.05,
            kappa: 0.002,
        };
        let points = curve(law, &[1, 2, 4], 0.0);
        let json = model(&points, &points, &points[0].values, 4).to_json();
        assert_eq!(json["described"], true);
        assert_eq!(json["law"], "usl");
        assert!(json["sigma"]["value"].as_f64().is_some(), "{json}");
        assert!(json["peak_threads"]["value"].as_f64().is_some(), "{json}");
        assert!(
            json["fit_quality"]["r_squared"].as_f64().is_some(),
            "{json}"
        );
        let json = Model::NotDescribed {
            reason: "why".into(),
        }
        .to_json();
        assert_eq!(
            json,
            serde_json::json!({"law": "usl", "described": false, "reason": "why"})
        );
    }
}

/// Validation on data nobody here tuned (issue 26): each curve of the seed's 16-core file and of
/// the committed 16-core runs fitted on 1..8 threads, its 16-thread speedup predicted and set
/// against the measured one. `cargo test --lib validation -- --nocapture` prints the table that
/// bench/RESULTS.md quotes.
#[cfg(test)]
mod validation {
    use super::*;
    use crate::analysis::Analysis;

    fn validate(path: &str) -> Vec<(String, String, f64, Estimate, f64)> {
        let file = crate::results::load(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(path)
                .as_path(),
        )
        .expect("the file loads");
        let analysis = Analysis::of(&file);
        let mut rows = Vec::new();
        for test in analysis.tests() {
            if !analysis.group_of(&test).scales() {
                continue;
            }
            for label in analysis.labels() {
                let points = analysis.file.points_of(&test, &label);
                let unit_scale = analysis.unit_scale_of(&test);
                let measured = |p: &&crate::results::Point| Measured {
                    threads: p.thread_count,
                    values: crate::results::throughputs(p, unit_scale),
                };
                let serial: Vec<f64> = points
                    .iter()
                    .find(|p| p.thread_count == 0)
                    .map(|p| crate::results::throughputs(p, unit_scale))
                    .unwrap_or_default();
                let threaded: Vec<Measured> = points
                    .iter()
                    .filter(|p| p.thread_count > 0)
                    .map(measured)
                    .collect();
                let fit_points: Vec<Measured> = threaded
                    .iter()
                    .filter(|m| m.threads <= 8)
                    .cloned()
                    .collect();
                let Some(at_16) = threaded.iter().find(|m| m.threads == 16) else {
                    continue;
                };
                if serial.is_empty() {
                    continue;
                }
                let Model::Described(fit) = model(&fit_points, &threaded, &serial, 8) else {
                    continue;
                };
                let measured_16 = stats::median(&at_16.values) / stats::median(&serial);
                rows.push((
                    test.clone(),
                    label.clone(),
                    fit.sigma.value,
                    fit.predictions[0].speedup,
                    measured_16,
                ));
            }
        }
        rows
    }

    #[test]
    #[expect(clippy::print_stderr, reason = "the validation table is the point")]
    fn predictions_of_16_threads_from_1_to_8() {
        let mut errors = Vec::new();
        for path in [
            "tests/fixtures/seed-results-16c.json",
            "bench/results/16-cores-2026-11-26.json",
        ] {
            eprintln!(
                "\n{path}\n| test | label | σ | predicted 16 | measured 16 | error |\n| --- | --- | --- | --- | --- | --- |"
            );
            for (test, label, sigma, predicted, measured) in validate(path) {
                let error = predicted.value / measured - 1.0;
                errors.push(error.abs());
                eprintln!(
                    "| {test} | {label} | {sigma:.3} | {:.2}x [{:.2}, {:.2}] | {measured:.2}x | {:+.0}% |",
                    predicted.value,
                    predicted.low,
                    predicted.high,
                    error * 100.0
                );
            }
        }
        assert!(errors.len() >= 10, "{errors:?}");
        // Most predictions land within a third of what 16 threads measured.
        let mut sorted = errors.clone();
        sorted.sort_by(f64::total_cmp);
        assert!(
            sorted[sorted.len() / 2] < 0.33,
            "median error {}",
            sorted[sorted.len() / 2]
        );
    }
}
