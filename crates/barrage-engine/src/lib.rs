//! barrage-engine
