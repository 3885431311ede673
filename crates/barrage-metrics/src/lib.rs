//! barrage-metrics
