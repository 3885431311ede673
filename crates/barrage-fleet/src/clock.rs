//! An agent's clock offset, measured as NTP does: the coordinator sends its time `t0`, the
//! agent answers with its own time `a`, and the coordinator reads `t1` when the answer
//! comes. If the network took as long each way, the agent read its clock at the
//! coordinator's `(t0 + t1) / 2`, so its offset is `a - (t0 + t1) / 2`, uncertain by half
//! the round trip. Of several round trips the one with the least delay is kept: the one
//! least disturbed by queues.
//!
//! The offset is what lets agents start together (each is told the start in its own clock)
//! and is reported per agent in the result, so a reader can tell how far the agents'
//! seconds may be apart.

/// One round trip, in Unix nanoseconds: sent (coordinator), read (agent), answered
/// (coordinator).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundTrip {
    pub t0: u64,
    pub agent: u64,
    pub t1: u64,
}

/// An offset and the round trip it came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Offset {
    /// The agent's clock minus the coordinator's, in nanoseconds.
    pub offset_ns: i64,
    /// The round trip's duration, in nanoseconds: the offset is within half of it.
    pub delay_ns: u64,
}

impl Offset {
    /// The offset from the round trip with the least delay; `None` without any.
    pub fn estimate(trips: &[RoundTrip]) -> Option<Offset> {
        trips
            .iter()
            .filter(|t| t.t1 >= t.t0)
            .min_by_key(|t| t.t1 - t.t0)
            .map(|t| {
                let mid = (i128::from(t.t0) + i128::from(t.t1)) / 2;
                Offset {
                    offset_ns: (i128::from(t.agent) - mid) as i64,
                    delay_ns: t.t1 - t.t0,
                }
            })
    }

    /// A coordinator time in the agent's clock.
    pub fn to_agent(self, coordinator_ns: u64) -> u64 {
        (i128::from(coordinator_ns) + i128::from(self.offset_ns)).max(0) as u64
    }

    pub fn offset_ms(self) -> f64 {
        self.offset_ns as f64 / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_round_trip_with_the_least_delay_decides() {
        // The agent's clock runs 250 ms ahead. A symmetric 2 ms trip reads it exactly;
        // a 40 ms trip that waited 30 ms on the way back would read 235 ms.
        let ahead = 250_000_000u64;
        let trips = [
            RoundTrip {
                t0: 1_000_000_000,
                agent: 1_000_000_000 + 5_000_000 + ahead,
                t1: 1_040_000_000,
            },
            RoundTrip {
                t0: 2_000_000_000,
                agent: 2_000_000_000 + 1_000_000 + ahead,
                t1: 2_002_000_000,
            },
        ];
        let o = Offset::estimate(&trips).unwrap();
        assert_eq!(o.offset_ns, 250_000_000);
        assert_eq!(o.delay_ns, 2_000_000);
        assert_eq!(o.to_agent(10_000_000_000), 10_250_000_000);
        assert_eq!(Offset::estimate(&[]), None);
    }

    #[test]
    fn an_agent_behind_has_a_negative_offset() {
        let trips = [RoundTrip {
            t0: 5_000_000_000,
            agent: 4_000_000_500,
            t1: 5_000_001_000,
        }];
        let o = Offset::estimate(&trips).unwrap();
        assert_eq!(o.offset_ns, -1_000_000_000);
        assert_eq!(o.offset_ms(), -1000.0);
    }
}
