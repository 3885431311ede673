//! What a compiled template reads at render time: [`Slot`]s name the places, a
//! [`RenderCtx`] holds one user's values for one request.
//!
//! Names are resolved to slots once, when a template is bound, so rendering indexes a slice
//! instead of looking a string up in a map: no hashing and no string comparison per request.
//! The context borrows everything; the user (a VU) owns its variables and random generator,
//! and nothing here is shared between threads.

use rand::rngs::SmallRng;
use serde_json::Value;

/// The built-in names every template may use without saving them first.
pub const BUILTIN_NAMES: [&str; 2] = ["user_id", "iteration"];

/// Where a name's value lives at render time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// A user variable (saved from a response), by index into [`RenderCtx::vars`].
    Var(u16),
    /// The 1-based number of the user (`user_id`).
    UserId,
    /// How many iterations this user has finished, from 0 (`iteration`).
    Iteration,
    /// A column of the current row of a data source (`accounts.username`).
    Data { source: u16, column: u16 },
}

impl Slot {
    /// The slot of a built-in name, if `name` is one.
    pub fn builtin(name: &str) -> Option<Slot> {
        match name {
            "user_id" => Some(Slot::UserId),
            "iteration" => Some(Slot::Iteration),
            _ => None,
        }
    }
}

/// One user's values for one render.
pub struct RenderCtx<'a> {
    /// The user's variables by [`Slot::Var`] index; `None` = not set yet.
    pub vars: &'a [Option<Value>],
    pub user_id: u64,
    pub iteration: u64,
    /// The user's own generator; every random function draws from it.
    pub rng: &'a mut SmallRng,
    /// The current row of each data source, by [`Slot::Data`] `source`; `column` indexes
    /// into the row.
    pub data: &'a [&'a [Value]],
}
