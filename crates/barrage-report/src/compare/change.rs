//! One endpoint's figures in both runs, and each metric's change with its noise interval and
//! verdict. The methods behind the intervals are in [`super::noise`]; this module picks the
//! one for each metric, applies the minimum sample sizes, and says which way is better.

use barrage_metrics::{decode_histogram, ns_to_ms, EndpointStats};

use super::noise::{
    self, min_samples_for_percentile, Cdf, Interval, MIN_SAMPLES, MIN_TAIL_SAMPLES,
};
use super::{
    ChangeVerdict, CompareError, EndpointComparison, Metric, MetricChange, Presence, Side,
};

/// What one run measured at one endpoint, with its response-time distribution.
pub(super) struct Figures<'a> {
    stats: &'a EndpointStats,
    cdf: Cdf,
    mean_ms: f64,
    stdev_ms: f64,
    max_ms: f64,
}

impl<'a> Figures<'a> {
    /// Endpoint `index` of `side`, or its aggregate for `None`.
    pub(super) fn of(side: Side<'a>, index: Option<usize>) -> Result<Figures<'a>, CompareError> {
        let hists = &side.doc.histograms;
        let (stats, encoded, what) = match index {
            Some(i) => {
                let stats = &side.doc.endpoints[i];
                let encoded = hists.endpoints.get(i).ok_or_else(|| CompareError {
                    file: side.label.to_owned(),
                    problem: format!(
                        "`histograms.endpoints` has {} entries for {} endpoints",
                        hists.endpoints.len(),
                        side.doc.endpoints.len()
                    ),
                })?;
                (stats, encoded, format!("{} {}", stats.method, stats.name))
            }
            None => (
                &side.doc.aggregate,
                &hists.aggregate,
                "the aggregate".to_owned(),
            ),
        };
        let h = decode_histogram(&encoded.response_time).map_err(|e| CompareError {
            file: side.label.to_owned(),
            problem: format!("the response-time histogram of {what} cannot be read ({e})"),
        })?;
        Ok(Figures {
            stats,
            cdf: Cdf::new(&h),
            mean_ms: h.mean() / 1e6,
            stdev_ms: h.stdev() / 1e6,
            max_ms: if h.is_empty() { 0.0 } else { ns_to_ms(h.max()) },
        })
    }

    fn error_rate(&self) -> f64 {
        if self.stats.requests == 0 {
            0.0
        } else {
            self.stats.failures as f64 * 100.0 / self.stats.requests as f64
        }
    }
}

pub(super) fn compare_endpoint(
    e: &EndpointStats,
    b: &Figures<'_>,
    n: &Figures<'_>,
    metrics: &[Metric],
    resamples: usize,
) -> EndpointComparison {
    EndpointComparison {
        scenario: e.scenario.clone(),
        method: e.method.clone(),
        name: e.name.clone(),
        presence: Presence::Both,
        requests: [b.stats.requests, n.stats.requests],
        metrics: metrics
            .iter()
            .map(|&m| metric_change(m, b, n, resamples))
            .collect(),
    }
}

/// The change of one metric with its noise; see [`noise`] for the methods.
fn metric_change(
    metric: Metric,
    b: &Figures<'_>,
    n: &Figures<'_>,
    resamples: usize,
) -> MetricChange {
    let latency_samples = [b.cdf.len(), n.cdf.len()];
    let request_samples = [b.stats.requests, n.stats.requests];
    let too_few = |samples: [u64; 2], need: u64, what: &str| {
        (samples[0] < need || samples[1] < need).then(|| {
            format!(
                "not enough data: {} needs at least {need} {what} in each run; BASE has {}, NEW {}",
                metric.as_str(),
                samples[0],
                samples[1]
            )
        })
    };
    // (base, new, samples, interval or why none)
    let (base, new, samples, interval): (f64, f64, [u64; 2], Result<Option<Interval>, String>) =
        match metric {
            Metric::Rps => {
                let (rb, rn) = (b.stats.rps, n.stats.rps);
                let interval = match too_few(request_samples, MIN_SAMPLES, "requests") {
                    Some(why) => Err(why),
                    None => Ok(Some(noise::normal_change(
                        rn - rb,
                        rb / (request_samples[0] as f64).sqrt(),
                        rn / (request_samples[1] as f64).sqrt(),
                    ))),
                };
                (rb, rn, request_samples, interval)
            }
            Metric::ErrorRate => {
                let interval = match too_few(request_samples, 1, "request") {
                    Some(why) => Err(why),
                    None => Ok(Some(
                        noise::proportion_change(
                            b.stats.failures,
                            b.stats.requests,
                            n.stats.failures,
                            n.stats.requests,
                        )
                        .scaled(100.0),
                    )),
                };
                (b.error_rate(), n.error_rate(), request_samples, interval)
            }
            Metric::Mean => {
                let interval = match too_few(latency_samples, MIN_SAMPLES, "successful requests") {
                    Some(why) => Err(why),
                    None => Ok(Some(noise::normal_change(
                        n.mean_ms - b.mean_ms,
                        b.stdev_ms / (latency_samples[0] as f64).sqrt(),
                        n.stdev_ms / (latency_samples[1] as f64).sqrt(),
                    ))),
                };
                (b.mean_ms, n.mean_ms, latency_samples, interval)
            }
            Metric::Max => {
                let interval = match too_few(latency_samples, 1, "successful request") {
                    Some(why) => Err(why),
                    None => Ok(None),
                };
                (b.max_ms, n.max_ms, latency_samples, interval)
            }
            _ => {
                let per_mille = metric
                    .per_mille()
                    .expect("every metric but rps, error_rate, mean and max is a percentile");
                let q = f64::from(per_mille) / 1000.0;
                let need = min_samples_for_percentile(per_mille);
                let what = format!("successful requests ({MIN_TAIL_SAMPLES} above the percentile)");
                let interval = match too_few(latency_samples, need, &what) {
                    Some(why) => Err(why),
                    None => Ok(Some(
                        noise::quantile_change(&b.cdf, &n.cdf, q, resamples).scaled(1e-6),
                    )),
                };
                let at = |f: &Figures<'_>| {
                    if f.cdf.len() == 0 {
                        0.0
                    } else {
                        ns_to_ms(f.cdf.quantile(q))
                    }
                };
                (at(b), at(n), latency_samples, interval)
            }
        };
    let change = new - base;
    let relative = (base != 0.0).then(|| change / base);
    let worse_if_up = !metric.higher_is_better();
    let direction = |up: bool, down: bool| match (up, down) {
        (true, _) if worse_if_up => ChangeVerdict::Worse,
        (true, _) => ChangeVerdict::Better,
        (_, true) if worse_if_up => ChangeVerdict::Better,
        (_, true) => ChangeVerdict::Worse,
        _ => ChangeVerdict::Same,
    };
    let (verdict, interval, note) = match interval {
        Err(why) => (ChangeVerdict::NotEnoughData, None, Some(why)),
        Ok(Some(i)) => (direction(i.above_zero(), i.below_zero()), Some(i), None),
        Ok(None) => (
            direction(change > 0.0, change < 0.0),
            None,
            Some("max is one request: no noise interval, judged on the raw values".to_owned()),
        ),
    };
    MetricChange {
        metric,
        unit: metric.unit().as_str(),
        base,
        new,
        change,
        relative,
        interval: interval.map(|i| [i.lo, i.hi]),
        samples,
        verdict,
        note,
    }
}
