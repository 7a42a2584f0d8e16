//! The recorder of one application: where its figures are kept, and the text that
//! `/metrics` answers.

use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use super::catalogue::{BUILD_COMMIT, METRICS, MetricKind};

/// Bucket bounds (seconds) of roomgate's own answers: a cached page takes well under a
/// millisecond, a cold room waits for the vendor.
const HTTP_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Bucket bounds (seconds) of vendor calls, up to the longest `api.timeout_ms` allowed.
const VENDOR_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
];

/// The metrics of one application.
///
/// The recorder is leaked on purpose: a worker thread keeps it as its recorder for the
/// rest of its life, which the `metrics` crate allows only for a `'static` one. One
/// application is one recorder of a few kilobytes; a process runs one application (the
/// test suite a few hundred).
#[derive(Clone)]
pub struct AppRecorder {
    recorder: &'static PrometheusRecorder,
    handle: PrometheusHandle,
    process: metrics_process::Collector,
}

impl AppRecorder {
    /// A new recorder, with every metric described and the build recorded.
    pub fn new() -> Self {
        let recorder: &'static PrometheusRecorder = Box::leak(Box::new(prometheus_recorder()));
        let app = AppRecorder {
            recorder,
            handle: recorder.handle(),
            process: metrics_process::Collector::default(),
        };
        app.record(|| {
            for m in METRICS {
                match m.kind {
                    MetricKind::Counter => metrics::describe_counter!(m.name, m.help),
                    MetricKind::Gauge => metrics::describe_gauge!(m.name, m.help),
                    MetricKind::Histogram => metrics::describe_histogram!(m.name, m.help),
                }
            }
            app.process.describe();
            metrics::gauge!(
                "roomgate_build_info",
                "version" => env!("CARGO_PKG_VERSION"),
                "commit" => BUILD_COMMIT
            )
            .set(1.0);
        });
        app
    }

    /// Makes this the recorder of the calling thread for the rest of its life: everything
    /// recorded on it (and in the tasks it runs) is this application's.
    pub fn record_on_this_thread(&self) {
        // Forgotten, not dropped: dropping the guard would give the thread its old
        // recorder back. The recorder is 'static, so nothing it points to goes away.
        std::mem::forget(metrics::set_default_local_recorder(self.recorder));
    }

    /// Runs `f` with this recorder as the thread's, whatever the thread has otherwise.
    pub fn record<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(self.recorder, f)
    }

    /// The Prometheus text format of every figure, the process's read just now.
    pub fn render(&self) -> String {
        self.record(|| self.process.collect());
        self.handle.render()
    }

    /// Folds the histograms' samples into their buckets. A scrape does it too; run it
    /// every few seconds so that an instance nobody scrapes does not keep every sample.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }
}

impl Default for AppRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for AppRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppRecorder")
    }
}

/// The exporter's recorder: histograms as buckets (summaries by default, which cannot be
/// added up across instances), names as recorded.
fn prometheus_recorder() -> PrometheusRecorder {
    let buckets = |builder: PrometheusBuilder, name: &str, bounds: &[f64]| {
        builder
            .set_buckets_for_metric(Matcher::Full(name.to_owned()), bounds)
            // Only an empty list is refused, and these are constants.
            .expect("bucket bounds are not empty")
    };
    let builder = PrometheusBuilder::new();
    let builder = buckets(
        builder,
        "roomgate_http_request_duration_seconds",
        HTTP_BUCKETS,
    );
    let builder = buckets(
        builder,
        "roomgate_vendor_call_duration_seconds",
        VENDOR_BUCKETS,
    );
    builder.build_recorder()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_recorders_count_apart() {
        let (a, b) = (AppRecorder::new(), AppRecorder::new());
        a.record(|| metrics::counter!("roomgate_vendor_listings_total").increment(2));
        b.record(|| metrics::counter!("roomgate_vendor_listings_total").increment(5));
        assert!(a.render().contains("roomgate_vendor_listings_total 2\n"));
        assert!(b.render().contains("roomgate_vendor_listings_total 5\n"));
    }

    #[test]
    fn durations_are_buckets_and_the_build_is_shown() {
        let app = AppRecorder::new();
        app.record(|| {
            metrics::histogram!("roomgate_http_request_duration_seconds", "route" => "/healthz")
                .record(0.002)
        });
        let text = app.render();
        assert!(
            text.contains(
                "roomgate_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.0025\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("# TYPE roomgate_http_request_duration_seconds histogram"));
        assert!(text.contains(&format!(
            "roomgate_build_info{{version=\"{}\",commit=\"{BUILD_COMMIT}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )));
        assert!(text.contains("process_resident_memory_bytes"));
    }
}
