//! Bounded, lossless-at-the-extremes history of step metrics.
//!
//! A run of a million steps cannot be plotted point by point, nor kept forever. The
//! [`History`] stores *buckets*: runs of consecutive steps with the minimum, maximum and
//! last value of every metric. When it holds more than its capacity, neighbouring buckets
//! merge pairwise, so memory stays bounded however long the run, while the minimum and
//! maximum over any range of whole buckets stay exactly those of the raw steps.

use super::run::StepRecord;

const M: usize = StepRecord::METRICS;

/// A run of consecutive steps, summarised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    /// First step covered.
    pub first: u64,
    /// Last step covered.
    pub last: u64,
    /// Per-metric minimum (NaN values are skipped; NaN if all were NaN).
    pub min: [f64; M],
    /// Per-metric maximum.
    pub max: [f64; M],
    /// The metrics of the last step.
    pub end: [f64; M],
}

impl Bucket {
    /// A bucket of one step.
    pub fn from_record(r: &StepRecord) -> Self {
        let v = r.metrics();
        Self {
            first: r.step,
            last: r.step,
            min: v,
            max: v,
            end: v,
        }
    }

    /// Absorbs the bucket that follows this one.
    pub fn merge(&mut self, next: &Bucket) {
        debug_assert!(next.first > self.last);
        self.last = next.last;
        for k in 0..M {
            self.min[k] = self.min[k].min(next.min[k]);
            self.max[k] = self.max[k].max(next.max[k]);
        }
        self.end = next.end;
    }

    /// The last step's record.
    pub fn end_record(&self) -> StepRecord {
        StepRecord::from_metrics(self.last, &self.end)
    }
}

/// Which metric of a record: an index into [`StepRecord::metrics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Metric(pub usize);

impl Metric {
    /// Temperature.
    pub const TEMPERATURE: Metric = Metric(0);
    /// Current energy.
    pub const ENERGY: Metric = Metric(1);
    /// Best energy so far.
    pub const BEST_ENERGY: Metric = Metric(2);
    /// Windowed acceptance rate.
    pub const ACCEPTANCE: Metric = Metric(3);

    /// The problem's `i`-th observable.
    pub const fn observable(i: usize) -> Metric {
        Metric(StepRecord::CORE + i)
    }
}

/// Buckets in step order, at most `capacity` of them.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    buckets: Vec<Bucket>,
    capacity: usize,
    /// Steps a bucket may span.
    width: u64,
}

impl History {
    /// An empty history holding at most `capacity` (at least 2) buckets.
    pub fn new(capacity: usize) -> Self {
        Self {
            buckets: Vec::new(),
            capacity: capacity.max(2),
            width: 1,
        }
    }

    /// Appends one step. (The common case, a step joining the last bucket, updates it in
    /// place: the trainer calls this for every step.)
    pub fn push(&mut self, r: &StepRecord) {
        let v = r.metrics();
        if let Some(last) = self.buckets.last_mut()
            && r.step > last.last
            && r.step - last.first < self.width
        {
            last.last = r.step;
            for ((lo, hi), &x) in last.min.iter_mut().zip(&mut last.max).zip(&v) {
                *lo = lo.min(x);
                *hi = hi.max(x);
            }
            last.end = v;
            return;
        }
        self.push_bucket(Bucket::from_record(r));
    }

    /// Appends a bucket that follows the last one (merging it into the last bucket while
    /// their span stays within the width).
    pub fn push_bucket(&mut self, b: Bucket) {
        if let Some(last) = self.buckets.last_mut()
            && b.last - last.first < self.width
        {
            last.merge(&b);
            return;
        }
        self.buckets.push(b);
        if self.buckets.len() > self.capacity {
            self.halve();
        }
    }

    /// Appends all of `other`'s buckets, in order.
    pub fn append(&mut self, other: &History) {
        for b in &other.buckets {
            self.push_bucket(*b);
        }
    }

    /// Merges neighbours pairwise, halving the number of buckets.
    fn halve(&mut self) {
        self.width *= 2;
        let mut out = Vec::with_capacity(self.capacity);
        for pair in self.buckets.chunks(2) {
            let mut b = pair[0];
            if let Some(next) = pair.get(1) {
                b.merge(next);
            }
            out.push(b);
        }
        self.buckets = out;
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.buckets.clear();
        self.width = 1;
    }

    /// Takes the buckets out, leaving the history empty.
    pub fn take(&mut self) -> History {
        let width = std::mem::replace(&mut self.width, 1);
        History {
            buckets: std::mem::take(&mut self.buckets),
            capacity: self.capacity,
            width,
        }
    }

    /// The buckets, oldest first.
    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }

    /// True when no step is stored.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// The latest step stored.
    pub fn last(&self) -> Option<&Bucket> {
        self.buckets.last()
    }

    /// The envelope of `metric` over steps `[lo, hi]`, in at most `columns` columns: two
    /// points per column, `(x, min)` and `(x, max)`, so a line through them fills the band
    /// between the extremes. Every bucket overlapping the range contributes to exactly
    /// one column, so the extremes of the drawn points are the extremes of the data.
    pub fn envelope(
        &self,
        metric: Metric,
        lo: f64,
        hi: f64,
        columns: usize,
        out: &mut Vec<[f64; 2]>,
    ) {
        out.clear();
        let k = metric.0;
        let start = self.buckets.partition_point(|b| (b.last as f64) < lo);
        let end = self.buckets.partition_point(|b| (b.first as f64) <= hi);
        let visible = &self.buckets[start..end.max(start)];
        if visible.is_empty() {
            return;
        }
        let per = visible.len().div_ceil(columns.max(1));
        for group in visible.chunks(per) {
            let mut lo_v = f64::INFINITY;
            let mut hi_v = f64::NEG_INFINITY;
            for b in group {
                lo_v = lo_v.min(b.min[k]);
                hi_v = hi_v.max(b.max[k]);
            }
            if !lo_v.is_finite() && !hi_v.is_finite() {
                continue;
            }
            let x0 = group[0].first as f64;
            let x1 = group[group.len() - 1].last as f64;
            if per == 1 && group[0].first == group[0].last {
                out.push([x0, group[0].end[k]]);
            } else {
                out.push([x0, lo_v]);
                out.push([x1, hi_v]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(step: u64, v: f64) -> StepRecord {
        StepRecord {
            step,
            temperature: v,
            energy: -v,
            best_energy: v * 2.0,
            acceptance_rate: 0.5,
            observables: [1.0, f64::NAN, 0.0, f64::NAN, f64::NAN, f64::NAN],
        }
    }

    #[test]
    fn memory_is_bounded_and_extremes_survive() {
        let mut h = History::new(64);
        let mut raw = Vec::new();
        let mut x: u64 = 12345;
        for step in 1..=100_000u64 {
            // A cheap deterministic pseudo-random signal.
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = (x >> 11) as f64 / (1u64 << 53) as f64;
            raw.push(v);
            h.push(&rec(step, v));
            assert!(h.buckets().len() <= 64);
        }
        // Over any run of whole buckets, min and max equal the raw data's.
        let b = h.buckets();
        for i in 0..b.len() {
            for j in i..b.len().min(i + 5) {
                let (lo, hi) = (b[i].first as usize - 1, b[j].last as usize);
                let raw_min = raw[lo..hi].iter().cloned().fold(f64::INFINITY, f64::min);
                let raw_max = raw[lo..hi]
                    .iter()
                    .cloned()
                    .fold(f64::NEG_INFINITY, f64::max);
                let mut pts = Vec::new();
                h.envelope(
                    Metric::TEMPERATURE,
                    b[i].first as f64,
                    b[j].last as f64,
                    3,
                    &mut pts,
                );
                let lo_p = pts.iter().map(|p| p[1]).fold(f64::INFINITY, f64::min);
                let hi_p = pts.iter().map(|p| p[1]).fold(f64::NEG_INFINITY, f64::max);
                assert_eq!((lo_p, hi_p), (raw_min, raw_max), "buckets {i}..={j}");
            }
        }
        assert_eq!(h.buckets()[0].first, 1);
        // Resolution is uniform: no bucket is more than twice as wide as another.
        let widths: Vec<u64> = b[..b.len() - 1]
            .iter()
            .map(|b| b.last - b.first + 1)
            .collect();
        let (lo, hi) = (widths.iter().min(), widths.iter().max());
        assert!(hi <= lo.map(|l| 2 * l).as_ref(), "{lo:?} {hi:?}");
        assert_eq!(h.last().map(|b| b.last), Some(100_000));
        assert_eq!(h.last().map(|b| b.end[0]), raw.last().copied());
    }

    #[test]
    fn envelope_uses_at_most_two_points_per_column() {
        let mut h = History::new(4096);
        for step in 1..=4000 {
            h.push(&rec(step, step as f64));
        }
        let mut pts = Vec::new();
        h.envelope(Metric::ENERGY, 0.0, 5000.0, 100, &mut pts);
        assert!(pts.len() <= 200, "{}", pts.len());
        assert_eq!(pts.first().map(|p| p[1]), Some(-40.0));
        assert_eq!(pts.last().map(|p| p[1]), Some(-3961.0));
        // A window in the middle sees only its own steps.
        h.envelope(Metric::TEMPERATURE, 1000.0, 1999.0, 4000, &mut pts);
        assert_eq!(pts.len(), 1000);
        assert_eq!(pts[0], [1000.0, 1000.0]);
    }

    #[test]
    fn all_nan_metrics_are_skipped() {
        let mut h = History::new(16);
        for step in 1..=10 {
            h.push(&rec(step, 1.0));
        }
        let mut pts = vec![[0.0; 2]];
        h.envelope(Metric::observable(1), 0.0, 100.0, 10, &mut pts);
        assert!(pts.is_empty());
    }
}
