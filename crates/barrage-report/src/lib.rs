//! barrage-report
