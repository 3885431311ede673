//! Executors decide *when* users start. One load model per module; each computes start
//! times from its schedule formula, never from `now()`, so a slow moment in the generator
//! does not bend the schedule. Later models (ramping users, arrival rates) join here.

pub mod constant_users;
