//! Bounded, lossless-at-the-extremes history of step metrics.
//!
//! A run of a million steps cannot be plotted point by point, nor kept forever. The
//! [`History`] stores *buckets*: runs of consecutive steps with the minimum, maximum and
//! last value of every metric. When it holds more than its capacity, neighbouring buckets
//! merge pairwise, so memory stays bounded however long the run, while the minimum and
//! maximum over any range of whole buckets stay exactly those of the raw steps.

use super::run::StepRecord;
use std::sync::atomic::{AtomicU64, Ordering};

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
#[derive(Debug)]
pub struct History {
    buckets: Vec<Bucket>,
    capacity: usize,
    /// Steps a bucket may span.
    width: u64,
    /// See [`History::epoch`].
    epoch: u64,
}

/// A number no history has had yet.
fn fresh_epoch() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Clone for History {
    fn clone(&self) -> Self {
        Self {
            buckets: self.buckets.clone(),
            capacity: self.capacity,
            width: self.width,
            // The copy will be appended to on its own.
            epoch: fresh_epoch(),
        }
    }
}

/// Equal buckets and the same capacity; the epoch is not content.
impl PartialEq for History {
    fn eq(&self, other: &Self) -> bool {
        (&self.buckets, self.capacity, self.width) == (&other.buckets, other.capacity, other.width)
    }
}

impl History {
    /// An empty history holding at most `capacity` (at least 2) buckets.
    pub fn new(capacity: usize) -> Self {
        Self {
            buckets: Vec::new(),
            capacity: capacity.max(2),
            width: 1,
            epoch: fresh_epoch(),
        }
    }

    /// Names this history's contents up to appends: while the epoch stays the same, every
    /// bucket but the last is as it was (only appending happened, which may change the
    /// last bucket). Clearing, merging, taking and cloning start a new epoch, so a view
    /// may keep what it computed from the older buckets.
    pub fn epoch(&self) -> u64 {
        self.epoch
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
        self.epoch = fresh_epoch();
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.buckets.clear();
        self.width = 1;
        self.epoch = fresh_epoch();
    }

    /// Takes the buckets out, leaving the history empty.
    pub fn take(&mut self) -> History {
        let width = std::mem::replace(&mut self.width, 1);
        let epoch = std::mem::replace(&mut self.epoch, fresh_epoch());
        History {
            buckets: std::mem::take(&mut self.buckets),
            capacity: self.capacity,
            width,
            epoch,
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
        self.envelopes_of(&[metric], lo, hi, columns, std::slice::from_mut(out));
    }

    /// The envelopes of every metric over `[lo, hi]`, as [`Self::envelope`], indexed by
    /// metric. One pass over the buckets: a frame plotting several metrics of a long
    /// history reads each bucket once, not once per metric.
    pub fn envelopes(&self, lo: f64, hi: f64, columns: usize) -> Vec<Vec<[f64; 2]>> {
        let metrics: [Metric; M] = std::array::from_fn(Metric);
        let mut out = vec![Vec::new(); M];
        self.envelopes_of(&metrics, lo, hi, columns, &mut out);
        out
    }

    /// The envelopes of `metrics` into `out` (one vector per metric), in one pass.
    fn envelopes_of(
        &self,
        metrics: &[Metric],
        lo: f64,
        hi: f64,
        columns: usize,
        out: &mut [Vec<[f64; 2]>],
    ) {
        debug_assert_eq!(metrics.len(), out.len());
        for o in out.iter_mut() {
            o.clear();
        }
        let start = self.buckets.partition_point(|b| (b.last as f64) < lo);
        let end = self.buckets.partition_point(|b| (b.first as f64) <= hi);
        let visible = &self.buckets[start..end.max(start)];
        if visible.is_empty() {
            return;
        }
        let per = visible.len().div_ceil(columns.max(1));
        let single = per == 1;
        let all = metrics.len() == M;
        for o in out.iter_mut() {
            o.reserve(2 * visible.len().div_ceil(per));
        }
        for group in visible.chunks(per) {
            let (first, last) = (&group[0], &group[group.len() - 1]);
            let mut lo_v = [f64::INFINITY; M];
            let mut hi_v = [f64::NEG_INFINITY; M];
            if all {
                // A fixed-size loop the compiler turns into vector instructions.
                for b in group {
                    for k in 0..M {
                        lo_v[k] = lo_v[k].min(b.min[k]);
                        hi_v[k] = hi_v[k].max(b.max[k]);
                    }
                }
            } else {
                for b in group {
                    for &Metric(k) in metrics {
                        lo_v[k] = lo_v[k].min(b.min[k]);
                        hi_v[k] = hi_v[k].max(b.max[k]);
                    }
                }
            }
            let (x0, x1) = (first.first as f64, last.last as f64);
            for (Metric(k), o) in metrics.iter().zip(out.iter_mut()) {
                let (lo_v, hi_v) = (lo_v[*k], hi_v[*k]);
                if !lo_v.is_finite() && !hi_v.is_finite() {
                    continue;
                }
                if single && first.first == first.last {
                    o.push([x0, first.end[*k]]);
                } else {
                    o.push([x0, lo_v]);
                    o.push([x1, hi_v]);
                }
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

    /// The next value in [0, 1) of a cheap deterministic pseudo-random signal.
    fn next_uniform(x: &mut u64) -> f64 {
        *x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*x >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn memory_is_bounded_and_extremes_survive() {
        let mut h = History::new(64);
        let mut raw = Vec::new();
        let mut x: u64 = 12345;
        for step in 1..=100_000u64 {
            let v = next_uniform(&mut x);
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
    fn one_pass_envelopes_equal_each_metric_alone() {
        let mut h = History::new(256);
        let mut raw = Vec::new();
        let mut x: u64 = 99;
        for step in 1..=3000u64 {
            let v = next_uniform(&mut x);
            let mut r = rec(step, v);
            r.observables[2] = v * v - 0.5;
            // Measured only now and then, as a test accuracy may be.
            r.observables[3] = if step % 97 == 0 { v } else { f64::NAN };
            h.push(&r);
            raw.push(r.metrics());
        }
        for (lo, hi, columns) in [(0.0, 3000.0, 50), (700.0, 1200.0, 7), (10.0, 12.0, 900)] {
            let all = h.envelopes(lo, hi, columns);
            assert_eq!(all.len(), StepRecord::METRICS);
            for (k, pts) in all.iter().enumerate() {
                let mut alone = Vec::new();
                h.envelope(Metric(k), lo, hi, columns, &mut alone);
                assert_eq!(pts, &alone, "metric {k} over {lo}..{hi} in {columns}");
            }
            // Measured metrics give points, never-measured ones none.
            assert!(!all[Metric::ENERGY.0].is_empty());
            assert!(all[Metric::observable(1).0].is_empty());
        }
        // Over the whole run the extremes are the raw data's, for every metric.
        let all = h.envelopes(0.0, 3000.0, 40);
        for (k, pts) in all.iter().enumerate() {
            let values = raw.iter().map(|m| m[k]).filter(|v| !v.is_nan());
            let extremes = |it: &mut dyn Iterator<Item = f64>| {
                it.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(v), b.max(v))
                })
            };
            let drawn = extremes(&mut pts.iter().map(|p| p[1]));
            assert_eq!(drawn, extremes(&mut values.into_iter()), "metric {k}");
        }
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
