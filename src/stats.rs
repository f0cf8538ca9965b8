//! Measurement statistics: pure functions over samples.
//!
//! Samples are throughputs (higher is better) or durations; nothing here knows which. Confidence
//! intervals are percentile bootstraps with a fixed seed, so the same samples always give the
//! same interval (reports must be reproducible from the raw samples in a results file).

use serde::Serialize;

pub use crate::model::stats::Summary;

/// Bootstrap resamples per interval: enough for stable 2.5/97.5 percentiles on small samples.
pub const RESAMPLES: usize = 2000;
/// Coverage of every confidence interval ftbench reports.
pub const CONFIDENCE: f64 = 0.95;
/// Above this coefficient of variation a point is called noisy (pyperf warns at 10%).
pub const NOISY_CV: f64 = 0.10;

/// A small deterministic generator (`SplitMix64`) for bootstrap resampling.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform index below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// The `q`-quantile (0..=1) of sorted values, linearly interpolated (R's type 7, numpy's
/// default). Invariant: `sorted[0] <= quantile <= sorted[n-1]`.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    debug_assert!(!sorted.is_empty());
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    let fraction = position - low as f64;
    sorted[low] + (sorted[high] - sorted[low]) * fraction
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut copy = values.to_vec();
    copy.sort_by(f64::total_cmp);
    copy
}

/// `f` of each item, spread over the cores in equal runs, in the items' order: for independent
/// estimates (each bootstrap is seeded by its own samples, so the numbers do not depend on the
/// spread).
pub fn on_every_core<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunk = items.len().div_ceil(workers).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().expect("an estimate does not panic"))
            .collect()
    })
}

/// The median; `NaN` for no values.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    quantile_of(&mut values.to_vec(), 0.5)
}

/// Medians of bootstrap resamples of one sample.
///
/// A resample of `n` values drawn with replacement has a median that can only be one of the
/// sample's values (odd `n`) or the mean of two of them (even `n`), and the probability of each
/// follows from the binomial distribution: the lower middle rank is at most the `a`-th value
/// when at least `k` of the `n` draws fall at or below it. Up to [`EXACT_MAX_N`] samples that
/// distribution is computed once, exactly, and each resample's median is one uniform draw from
/// it (a binary search), instead of `n` draws and a count per rank: the same distribution as
/// resampling, about 10x cheaper per replicate. Above it each resample is drawn and its ranks
/// counted (the values are sorted once, so no resample is sorted).
enum Resampler {
    Exact(MedianDistribution),
    Counted {
        sorted: Vec<f64>,
        /// `rank[i]`: where `values[i]` sits in `sorted`.
        rank: Vec<usize>,
        counts: Vec<u32>,
    },
}

/// Up to this many samples, a resample's median is drawn from its exact distribution.
const EXACT_MAX_N: usize = 64;

/// The medians of n draws (n odd) with their probabilities: the median is the k-th smallest.
fn odd_medians(sorted: &[f64], tail: &[Vec<f64>]) -> Vec<(f64, f64)> {
    let mut weighted = Vec::new();
    let k = sorted.len().div_ceil(2);
    let mut below = 0.0;
    for (j, value) in sorted.iter().enumerate() {
        let at_most = tail[j][k];
        weighted.push((*value, (at_most - below).max(0.0)));
        below = at_most;
    }
    weighted
}

/// The medians of n draws (n even) with their probabilities, in ascending order.
fn even_medians(sorted: &[f64], pmf: &[Vec<f64>], tail: &[Vec<f64>]) -> Vec<(f64, f64)> {
    let n = sorted.len();
    let mut weighted = Vec::new();
    // The mean of the k-th and (k+1)-th smallest draws, lower L and upper U:
    // P(L <= a, U <= b) for a <= b is P(N_a >= k + 1) + P(N_a = k) P(one of the other
    // n - k draws, all above sorted[a], is at most sorted[b]); for a > b it is
    // P(U <= b).
    let k = n / 2;
    let share = |j: usize| (j + 1) as f64 / n as f64;
    let joint = |a: Option<usize>, b: Option<usize>| -> f64 {
        let (Some(a), Some(b)) = (a, b) else {
            return 0.0;
        };
        if a > b {
            return tail[b][k + 1];
        }
        let above_a = 1.0 - share(a);
        let one_more = if above_a > 0.0 {
            1.0 - ((1.0 - share(b)) / above_a).powf((n - k) as f64)
        } else {
            0.0
        };
        tail[a][k + 1] + pmf[a][k] * one_more
    };
    for a in 0..n {
        for b in a..n {
            let p = joint(Some(a), Some(b))
                - joint(a.checked_sub(1), Some(b))
                - joint(Some(a), b.checked_sub(1))
                + joint(a.checked_sub(1), b.checked_sub(1));
            if p > 0.0 {
                weighted.push((f64::midpoint(sorted[a], sorted[b]), p));
            }
        }
    }
    weighted.sort_by(|x, y| x.0.total_cmp(&y.0));
    weighted
}

/// The exact distribution of the median of a resample: each possible median, ascending, with
/// the probability of a median at most that value.
#[derive(Debug, Clone)]
struct MedianDistribution {
    medians: Vec<f64>,
    cumulative: Vec<f64>,
}

impl MedianDistribution {
    /// For `sorted` values (ascending, `1 <= n <= EXACT_MAX_N`).
    fn of(sorted: &[f64]) -> Self {
        let n = sorted.len();
        // pmf[j][i]: P(i of the n draws fall at or below sorted[j]), p = (j + 1) / n.
        let ln_choose: Vec<f64> = {
            let mut ln_factorial = vec![0.0; n + 1];
            for i in 1..=n {
                ln_factorial[i] = ln_factorial[i - 1] + (i as f64).ln();
            }
            (0..=n)
                .map(|i| ln_factorial[n] - ln_factorial[i] - ln_factorial[n - i])
                .collect()
        };
        let pmf: Vec<Vec<f64>> = (0..n)
            .map(|j| {
                let p = (j + 1) as f64 / n as f64;
                (0..=n)
                    .map(|i| {
                        if j + 1 == n {
                            f64::from(u8::from(i == n))
                        } else {
                            (ln_choose[i] + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln())
                                .exp()
                        }
                    })
                    .collect()
            })
            .collect();
        // tail[j][k]: P(at least k draws at or below sorted[j]).
        let tail: Vec<Vec<f64>> = pmf
            .iter()
            .map(|row| {
                let mut tail = vec![0.0; n + 2];
                for k in (0..=n).rev() {
                    tail[k] = tail[k + 1] + row[k];
                }
                tail
            })
            .collect();
        let weighted = if n % 2 == 1 {
            odd_medians(sorted, &tail)
        } else {
            even_medians(sorted, &pmf, &tail)
        };
        let mut medians = Vec::with_capacity(weighted.len());
        let mut cumulative = Vec::with_capacity(weighted.len());
        let mut total = 0.0;
        for (value, p) in weighted {
            total += p;
            if medians.last() == Some(&value) {
                *cumulative.last_mut().expect("a median was pushed") = total;
            } else {
                medians.push(value);
                cumulative.push(total);
            }
        }
        // Rounding leaves the total a hair off 1: scale to it.
        for c in &mut cumulative {
            *c /= total;
        }
        Self {
            medians,
            cumulative,
        }
    }

    /// One resample's median: the smallest median whose cumulative probability exceeds `u`.
    fn draw(&self, u: f64) -> f64 {
        let i = self.cumulative.partition_point(|&c| c <= u);
        self.medians[i.min(self.medians.len() - 1)]
    }

    /// The `q`-quantile of the distribution: the smallest median with at least `q` below it.
    fn quantile(&self, q: f64) -> f64 {
        let i = self.cumulative.partition_point(|&c| c < q);
        self.medians[i.min(self.medians.len() - 1)]
    }
}

impl Resampler {
    fn new(values: &[f64]) -> Self {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let sorted: Vec<f64> = order.iter().map(|&i| values[i]).collect();
        if (1..=EXACT_MAX_N).contains(&values.len()) {
            return Self::Exact(MedianDistribution::of(&sorted));
        }
        let mut rank = vec![0; values.len()];
        for (position, &index) in order.iter().enumerate() {
            rank[index] = position;
        }
        Self::Counted {
            sorted,
            rank,
            counts: vec![0; values.len()],
        }
    }

    /// The median of one resample (`quantile_sorted(resample, 0.5)`).
    fn median(&mut self, rng: &mut Rng) -> f64 {
        let (sorted, rank, counts) = match self {
            Self::Exact(distribution) => return distribution.draw(rng.unit()),
            Self::Counted {
                sorted,
                rank,
                counts,
            } => (sorted, rank, counts),
        };
        let n = sorted.len();
        counts.fill(0);
        for _ in 0..n {
            counts[rank[rng.below(n)]] += 1;
        }
        let position = 0.5 * (n - 1) as f64;
        let (low, high) = (position.floor() as usize, position.ceil() as usize);
        let fraction = position - low as f64;
        let (mut at_low, mut at_high) = (None, None);
        let mut seen = 0usize;
        for (value, &count) in sorted.iter().zip(counts.iter()) {
            seen += count as usize;
            if at_low.is_none() && seen > low {
                at_low = Some(*value);
            }
            if seen > high {
                at_high = Some(*value);
                break;
            }
        }
        let (low, high) = (
            at_low.expect("n draws fill rank n/2"),
            at_high.expect("n draws fill rank n/2"),
        );
        low + (high - low) * fraction
    }
}

/// The `q`-quantile of `values` (reordered) as [`quantile_sorted`] reads it from the sorted
/// values, found by selection instead of a sort (`values` not empty).
pub fn quantile_of(values: &mut [f64], q: f64) -> f64 {
    let position = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    let (_, lower, rest) = values.select_nth_unstable_by(low, f64::total_cmp);
    let lower = *lower;
    let upper = if high > low {
        *rest
            .iter()
            .min_by(|a, b| a.total_cmp(b))
            .expect("a value above the low rank")
    } else {
        lower
    };
    lower + (upper - lower) * (position - low as f64)
}

/// The `alpha` and `1 - alpha` quantiles of `values` (reordered): a percentile interval.
pub fn interval_of(values: &mut [f64], alpha: f64) -> (f64, f64) {
    (quantile_of(values, alpha), quantile_of(values, 1.0 - alpha))
}

fn seed_of(values: &[f64]) -> u64 {
    values
        .iter()
        .fold(0x5EED_u64, |h, v| h.rotate_left(7) ^ v.to_bits())
}

/// Above this many samples, intervals are not bootstrapped from every sample: the cost would
/// grow as `RESAMPLES x n log n` (100 000 samples took 49 s).
pub const BOOTSTRAP_MAX_N: usize = 500;

/// `BOOTSTRAP_MAX_N` evenly spaced order statistics of a large sample (all of a small one). The
/// thinned sample has the same distribution but fewer values, so an interval bootstrapped from it
/// is wider than the full sample's: conservative, never falsely sure.
fn thinned(values: &[f64]) -> std::borrow::Cow<'_, [f64]> {
    if values.len() <= BOOTSTRAP_MAX_N {
        return std::borrow::Cow::Borrowed(values);
    }
    let sorted = sorted(values);
    let step = (sorted.len() - 1) as f64 / (BOOTSTRAP_MAX_N - 1) as f64;
    std::borrow::Cow::Owned(
        (0..BOOTSTRAP_MAX_N)
            .map(|i| sorted[((i as f64 * step).round() as usize).min(sorted.len() - 1)])
            .collect(),
    )
}

/// 95% interval of the median: percentile bootstrap, or for more than [`BOOTSTRAP_MAX_N`]
/// samples the distribution-free order-statistic interval (ranks `n/2 ± 1.96 √n / 2`), which
/// costs one sort.
///
/// Invariants: `low <= median(values) <= high` and both lie within `[min, max]`.
pub fn median_ci(values: &[f64]) -> (f64, f64) {
    if values.len() < 2 {
        let m = median(values);
        return (m, m);
    }
    if values.len() > BOOTSTRAP_MAX_N {
        let sorted = sorted(values);
        let n = sorted.len() as f64;
        let half = 1.96 * n.sqrt() / 2.0;
        let low = ((n / 2.0 - half).floor().max(0.0)) as usize;
        let high = ((n / 2.0 + half).ceil() as usize).min(sorted.len() - 1);
        let m = quantile_sorted(&sorted, 0.5);
        return (sorted[low].min(m), sorted[high].max(m));
    }
    let alpha = (1.0 - CONFIDENCE) / 2.0;
    let m = median(values);
    let mut resampler = Resampler::new(values);
    // The percentile interval of a skewed bootstrap can miss the sample median by a hair;
    // widen it to include the point estimate so the invariant holds.
    if let Resampler::Exact(distribution) = &resampler {
        // The bootstrap's own quantiles, with no resampling error.
        return (
            distribution.quantile(alpha).min(m),
            distribution.quantile(1.0 - alpha).max(m),
        );
    }
    let mut rng = Rng::new(seed_of(values));
    let mut medians: Vec<f64> = (0..RESAMPLES).map(|_| resampler.median(&mut rng)).collect();
    let (low, high) = interval_of(&mut medians, alpha);
    (low.min(m), high.max(m))
}

/// A statistic with its 95% interval. Invariant: `low <= value <= high`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

impl Estimate {
    pub fn new(value: f64, low: f64, high: f64) -> Self {
        Self { value, low, high }
    }

    /// A value without an interval (one sample, or none to resample).
    pub fn exact(value: f64) -> Self {
        Self::new(value, value, value)
    }

    /// Whether the interval lies wholly above or below `x` (a real difference from it).
    pub fn excludes(&self, x: f64) -> bool {
        self.low > x || self.high < x
    }
}

/// The ratio of medians `median(a) / median(b)` with a 95% bootstrap interval (both sides
/// resampled independently).
pub fn ratio_ci(a: &[f64], b: &[f64]) -> Estimate {
    let ratio = median(a) / median(b);
    if a.len() < 2 || b.len() < 2 {
        return Estimate::exact(ratio);
    }
    let (a, b) = (thinned(a), thinned(b));
    let (a, b) = (a.as_ref(), b.as_ref());
    let mut rng = Rng::new(seed_of(a) ^ seed_of(b).rotate_left(17));
    let (mut top, mut bottom) = (Resampler::new(a), Resampler::new(b));
    let mut ratios: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let top = top.median(&mut rng);
            let bottom = bottom.median(&mut rng);
            top / bottom
        })
        .collect();
    let (low, high) = interval_of(&mut ratios, (1.0 - CONFIDENCE) / 2.0);
    Estimate::new(ratio, low.min(ratio), high.max(ratio))
}

/// The geometric mean over tests of `median(a_i) / median(b_i)`, with a 95% bootstrap interval
/// (every test's samples resampled together in each replicate), as the summary of a suite.
/// `None` without pairs; no interval (an exact estimate) where a test has one value on a side.
pub fn geometric_mean_ci(pairs: &[(&[f64], &[f64])]) -> Option<Estimate> {
    let full: Vec<&(&[f64], &[f64])> = pairs
        .iter()
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .collect();
    if full.is_empty() {
        return None;
    }
    let geomean = |ratios: &mut dyn Iterator<Item = f64>| {
        let (sum, n) = ratios.fold((0.0, 0usize), |(s, n), r| (s + r.ln(), n + 1));
        (sum / n as f64).exp()
    };
    let mean = geomean(&mut full.iter().map(|(a, b)| median(a) / median(b)));
    // A test with one value on a side cannot be resampled: an interval from the others alone
    // would claim a precision the suite does not have.
    if full.iter().any(|(a, b)| a.len() < 2 || b.len() < 2) {
        return Some(Estimate::exact(mean));
    }
    let thin: Vec<[std::borrow::Cow<'_, [f64]>; 2]> =
        full.iter().map(|(a, b)| [thinned(a), thinned(b)]).collect();
    let pairs: Vec<(&[f64], &[f64])> = thin.iter().map(|[a, b]| (a.as_ref(), b.as_ref())).collect();
    let mut rng = Rng::new(pairs.iter().fold(0x6E0_u64, |h, (a, b)| {
        h ^ seed_of(a) ^ seed_of(b).rotate_left(9)
    }));
    let mut resamplers: Vec<(Resampler, Resampler)> = pairs
        .iter()
        .map(|(a, b)| (Resampler::new(a), Resampler::new(b)))
        .collect();
    let mut replicates: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let ratios: Vec<f64> = resamplers
                .iter_mut()
                .map(|(a, b)| a.median(&mut rng) / b.median(&mut rng))
                .collect();
            geomean(&mut ratios.into_iter())
        })
        .collect();
    let (low, high) = interval_of(&mut replicates, (1.0 - CONFIDENCE) / 2.0);
    Some(Estimate::new(mean, low.min(mean), high.max(mean)))
}

/// Below this relative difference two medians are called the same, however significant (as
/// pyperformance ignores differences under 1%).
pub const MIN_EFFECT: f64 = 0.01;
/// Significance level of the Mann-Whitney U test.
pub const ALPHA: f64 = 0.05;

/// Two-sided p-value of the Mann-Whitney U test that `a` and `b` come from the same
/// distribution, by the normal approximation with tie correction and continuity correction
/// (fine from about 5 samples a side; ftbench keeps 6 to 15). 1.0 when either side is empty or
/// every value is tied.
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|v| (*v, true))
        .chain(b.iter().map(|v| (*v, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Average ranks over ties, and the tie correction term sum(t^3 - t).
    let mut rank_sum_a = 0.0;
    let mut ties = 0.0;
    let mut first = 0;
    while first < all.len() {
        let mut last = first;
        while last + 1 < all.len() && all[last + 1].0.total_cmp(&all[first].0).is_eq() {
            last += 1;
        }
        let rank = (first + last) as f64 / 2.0 + 1.0;
        let group = (last - first + 1) as f64;
        ties += group * group * group - group;
        rank_sum_a += all[first..=last].iter().filter(|v| v.1).count() as f64 * rank;
        first = last + 1;
    }
    let u_statistic = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let total = n1 + n2;
    let variance = n1 * n2 / 12.0 * ((total + 1.0) - ties / (total * (total - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z_score = ((u_statistic - n1 * n2 / 2.0).abs() - 0.5).max(0.0) / variance.sqrt();
    (2.0 * (1.0 - normal_cdf(z_score))).clamp(0.0, 1.0)
}

/// The standard normal CDF, by the Abramowitz-Stegun 7.1.26 erf approximation (|error| < 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// How `b` compares with `a` (throughputs: higher is faster).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Faster,
    Slower,
    Same,
    /// Other work on the machine disturbed either side: no verdict on speed.
    Disturbed,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Faster => "faster",
            Self::Slower => "slower",
            Self::Same => "same",
            Self::Disturbed => "disturbed",
        })
    }
}

/// `b` against `a`: the ratio of medians with its 95% interval, the Mann-Whitney p-value, and
/// the verdict: faster or slower only when the test is significant, the interval excludes 1
/// and the difference is at least [`MIN_EFFECT`]; otherwise the same.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Comparison {
    pub ratio: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    pub verdict: Verdict,
}

impl Comparison {
    pub fn of(a: &[f64], b: &[f64]) -> Self {
        let Estimate {
            value: ratio,
            low: ci_low,
            high: ci_high,
        } = ratio_ci(b, a);
        let p_value = mann_whitney_p(a, b);
        let significant = p_value < ALPHA;
        let verdict = if significant && ci_low > 1.0 && ratio >= 1.0 + MIN_EFFECT {
            Verdict::Faster
        } else if significant && ci_high < 1.0 && ratio <= 1.0 - MIN_EFFECT {
            Verdict::Slower
        } else {
            Verdict::Same
        };
        Self {
            ratio,
            ci_low,
            ci_high,
            p_value,
            verdict,
        }
    }
}

/// Karp-Flatt metric: the experimentally determined serial fraction
/// `e = (1/S - 1/p) / (1 - 1/p)` for speedup `S` on `p > 1` threads; `None` for `p <= 1`.
/// 0 means perfectly parallel, 1 means fully serial, above 1 means slower than serial.
pub fn karp_flatt(speedup: f64, threads: u32) -> Option<f64> {
    if threads <= 1 || speedup <= 0.0 {
        return None;
    }
    let p = f64::from(threads);
    Some((1.0 / speedup - 1.0 / p) / (1.0 - 1.0 / p))
}

impl Summary {
    /// Summarize samples; `None` for an empty slice.
    pub fn from_samples(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let sorted = sorted(values);
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let variance = if n > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        let stdev = variance.sqrt();
        let (q1, q3) = (
            quantile_sorted(&sorted, 0.25),
            quantile_sorted(&sorted, 0.75),
        );
        let fence = 1.5 * (q3 - q1);
        let (ci_low, ci_high) = median_ci(values);
        Some(Self {
            n,
            median: quantile_sorted(&sorted, 0.5),
            ci_low,
            ci_high,
            mean,
            stdev,
            cv: if mean == 0.0 { 0.0 } else { stdev / mean.abs() },
            min: sorted[0],
            max: sorted[n - 1],
            outliers: values
                .iter()
                .filter(|v| **v < q1 - fence || **v > q3 + fence)
                .count(),
        })
    }

    /// Half the CI width relative to the median, e.g. 0.02 for ±2%.
    pub fn relative_half_width(&self) -> f64 {
        if self.median == 0.0 {
            return 0.0;
        }
        (self.ci_high - self.ci_low) / 2.0 / self.median.abs()
    }

    pub fn is_noisy(&self) -> bool {
        self.cv > NOISY_CV
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use proptest::prelude::*;

    /// The exact distribution of a resample's median against resampling itself: each median's
    /// probability within 0.006 of its frequency in 200 000 sorted resamples, odd and even n,
    /// with ties.
    #[test]
    fn the_exact_median_distribution_is_the_bootstraps() {
        for values in [
            vec![5.0, 1.0, 3.0],
            vec![4.0, 1.0, 3.0, 2.0],
            vec![1.0, 2.0, 2.0, 3.0, 7.0, 9.0],
            vec![3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0],
            (0..15).map(|i| f64::from(i * i % 11)).collect(),
        ] {
            let mut sorted_values = values.clone();
            sorted_values.sort_by(f64::total_cmp);
            let exact = MedianDistribution::of(&sorted_values);
            assert!((exact.cumulative.last().unwrap() - 1.0).abs() < 1e-12);
            let mut rng = super::Rng::new(7);
            let draws = 200_000;
            let mut counts: std::collections::HashMap<u64, usize> =
                std::collections::HashMap::new();
            for _ in 0..draws {
                let resample: Vec<f64> = (0..values.len())
                    .map(|_| values[rng.below(values.len())])
                    .collect();
                *counts.entry(median(&resample).to_bits()).or_default() += 1;
            }
            let mut below = 0.0;
            for (m, c) in exact.medians.iter().zip(&exact.cumulative) {
                let p = c - below;
                below = *c;
                let seen = counts.remove(&m.to_bits()).unwrap_or(0) as f64 / f64::from(draws);
                assert!(
                    (p - seen).abs() < 0.006,
                    "{values:?}: median {m}: {p} vs {seen}"
                );
            }
            assert!(
                counts.is_empty(),
                "{values:?}: medians the distribution lacks: {counts:?}"
            );
        }
    }

    #[test]
    fn hand_computed_summary() {
        let s = Summary::from_samples(&[1.0, 2.0, 3.0, 4.0, 100.0]).unwrap();
        assert_relative_eq!(s.median, 3.0);
        assert_relative_eq!(s.mean, 22.0);
        // sample stdev of [1,2,3,4,100]: sqrt(7610/4)
        assert_relative_eq!(s.stdev, (7610.0f64 / 4.0).sqrt());
        assert_eq!(s.outliers, 1);
        assert_relative_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_relative_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75);
    }

    #[test]
    fn geometric_mean_hand_computed() {
        // ratios 2 and 8: geometric mean 4
        let (a1, b1) = ([2.0, 2.0, 2.0], [1.0, 1.0, 1.0]);
        let (a2, b2) = ([8.0, 8.0], [1.0, 1.0]);
        let Estimate {
            value: mean,
            low,
            high,
        } = geometric_mean_ci(&[(&a1, &b1), (&a2, &b2)]).unwrap();
        assert_relative_eq!(mean, 4.0);
        assert_relative_eq!(low, 4.0);
        assert_relative_eq!(high, 4.0);
        assert!(geometric_mean_ci(&[]).is_none());
    }

    #[test]
    fn mann_whitney_hand_computed() {
        // Fully separated groups of 5: U = 0, z = (12.5 - 0.5) / sqrt(22.9167) = 2.5067,
        // p = 2 * (1 - Phi(2.5067)) = 0.01219 (scipy, use_continuity=True, method="asymptotic").
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [6.0, 7.0, 8.0, 9.0, 10.0];
        assert_relative_eq!(mann_whitney_p(&a, &b), 0.012_185, epsilon = 1e-4);
        assert_relative_eq!(mann_whitney_p(&a, &a), 1.0, epsilon = 1e-6);
        assert_eq!(Comparison::of(&a, &b).verdict, Verdict::Faster);
        assert_eq!(Comparison::of(&b, &a).verdict, Verdict::Slower);
        assert_relative_eq!(normal_cdf(0.0), 0.5, epsilon = 1e-7);
        assert_relative_eq!(normal_cdf(1.959_964), 0.975, epsilon = 1e-6);
    }

    #[test]
    fn karp_flatt_known_values() {
        assert_eq!(karp_flatt(1.0, 1), None);
        assert_relative_eq!(karp_flatt(2.0, 2).unwrap(), 0.0);
        assert_relative_eq!(karp_flatt(1.0, 2).unwrap(), 1.0);
        // S = 3 on 4 threads: (1/3 - 1/4) / (3/4) = 1/9
        assert_relative_eq!(karp_flatt(3.0, 4).unwrap(), 1.0 / 9.0);
    }

    proptest! {
        #[test]
        fn ci_contains_the_median(values in prop::collection::vec(0.1f64..1e9, 1..40)) {
            let s = Summary::from_samples(&values).unwrap();
            prop_assert!(s.ci_low <= s.median && s.median <= s.ci_high);
            prop_assert!(s.min <= s.ci_low && s.ci_high <= s.max);
        }

        #[test]
        fn ratio_of_identical_samples_is_one(values in prop::collection::vec(0.1f64..1e9, 2..30)) {
            let Estimate { value: ratio, low, high } = ratio_ci(&values, &values);
            prop_assert!((ratio - 1.0).abs() < 1e-12);
            prop_assert!(low <= 1.0 && 1.0 <= high);
        }

        #[test]
        fn geometric_mean_of_identical_suites_is_one(
            tests in prop::collection::vec(prop::collection::vec(0.1f64..1e3, 2..10), 1..6)
        ) {
            let pairs: Vec<(&[f64], &[f64])> = tests.iter().map(|t| (t.as_slice(), t.as_slice())).collect();
            let Estimate { value: mean, low, high } = geometric_mean_ci(&pairs).unwrap();
            prop_assert!((mean - 1.0).abs() < 1e-9);
            prop_assert!(low <= mean && mean <= high);
        }

        #[test]
        fn identical_samples_are_the_same(values in prop::collection::vec(0.1f64..1e9, 2..30)) {
            let c = Comparison::of(&values, &values);
            prop_assert_eq!(c.verdict, Verdict::Same);
            prop_assert!(c.p_value > 0.9);
        }

        #[test]
        fn tiny_differences_are_the_same(values in prop::collection::vec(1.0f64..2.0, 5..20)) {
            // A 0.5% shift is below the minimum effect, whatever the test says.
            let shifted: Vec<f64> = values.iter().map(|v| v * 1.005).collect();
            prop_assert_eq!(Comparison::of(&values, &shifted).verdict, Verdict::Same);
        }

        #[test]
        fn scaling_invariants(speedup in 0.05f64..64.0, threads in 2u32..256) {
            // efficiency <= 1 exactly when the Karp-Flatt serial fraction is >= 0
            let e = karp_flatt(speedup, threads).unwrap();
            let efficiency = speedup / f64::from(threads);
            prop_assert_eq!(efficiency <= 1.0 + 1e-12, e >= -1e-12);
        }

        #[test]
        fn summary_is_scale_equivariant(values in prop::collection::vec(1.0f64..1e6, 1..20), k in 0.5f64..4.0) {
            let a = Summary::from_samples(&values).unwrap();
            let scaled: Vec<f64> = values.iter().map(|v| v * k).collect();
            let b = Summary::from_samples(&scaled).unwrap();
            prop_assert!((b.median - a.median * k).abs() <= 1e-9 * b.median.abs());
            prop_assert!((b.cv - a.cv).abs() < 1e-9);
        }
    }
}
