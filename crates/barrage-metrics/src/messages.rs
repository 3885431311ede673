//! WebSocket messages of one endpoint: sockets opened, how long their upgrades took, and
//! the messages sent and received.
//!
//! Kept apart from the request counters because a socket's messages are not requests: a
//! `receive` is one timed exchange (its round trip lands in the endpoint's response-time
//! histogram like a response), but a `send`, a message skipped by `until` and a pushed
//! message the scenario never waited for are counted here only.

use serde::{Deserialize, Serialize};

use crate::histogram::LazyHistogram;
use crate::snapshot::LatencyStats;

/// What a worker counted of one endpoint's sockets in one interval (or, summed, a run).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct MessageData {
    pub(crate) sockets: u64,
    pub(crate) sent: u64,
    pub(crate) received: u64,
    /// From the start of the upgrade request to its `101` answer, per socket opened.
    pub(crate) upgrade_time: LazyHistogram,
}

impl MessageData {
    pub(crate) fn is_idle(&self) -> bool {
        self.sockets == 0 && self.sent == 0 && self.received == 0
    }

    pub(crate) fn merge(&mut self, other: &MessageData) {
        self.sockets += other.sockets;
        self.sent += other.sent;
        self.received += other.received;
        self.upgrade_time.add(&other.upgrade_time);
    }

    pub(crate) fn take_rewarmed(&mut self) -> MessageData {
        MessageData {
            sockets: std::mem::take(&mut self.sockets),
            sent: std::mem::take(&mut self.sent),
            received: std::mem::take(&mut self.received),
            upgrade_time: self.upgrade_time.take_rewarmed(),
        }
    }

    /// The statistics, or `None` for an endpoint that is no WebSocket.
    pub(crate) fn stats(&self) -> Option<MessageStats> {
        (!self.is_idle()).then(|| MessageStats {
            sockets: self.sockets,
            sent: self.sent,
            received: self.received,
            upgrade_time: LatencyStats::from_lazy(&self.upgrade_time),
        })
    }
}

/// The `messages` object of a WebSocket endpoint in snapshots and result files.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageStats {
    /// Sockets opened (a kept socket counts once, when it is opened).
    pub sockets: u64,
    /// Messages sent.
    pub sent: u64,
    /// Messages received, those skipped by `until` included.
    pub received: u64,
    /// The upgrade (request written to `101` read), per socket; TCP and TLS set-up are in
    /// the run's `connections`.
    pub upgrade_time: LatencyStats,
}
