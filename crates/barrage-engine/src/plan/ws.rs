//! A WebSocket step as compiled: where the socket goes, and its messages with their
//! templates bound and checks compiled, as a request step's are.

use std::time::Duration;

use barrage_metrics::{CheckId, EndpointId};
use barrage_scenario::Think;
use barrage_template::{CompiledCheck, JsonTemplate, Template};
use http::HeaderName;

use super::{HeaderPlan, SavePlan, UrlPlan};

pub struct WsPlan {
    pub endpoint: EndpointId,
    /// A path (joined to the base URL, its scheme made `ws`/`wss`) or a whole `ws(s)://` URL.
    pub url: UrlPlan,
    /// Defaults merged with the step's own (the step wins).
    pub headers: Vec<(HeaderName, HeaderPlan)>,
    pub messages: Vec<WsMessagePlan>,
    /// `keep: true`: the user's kept socket of this step is found by this id (unique in
    /// the plan); `None` closes the socket at the end of the step.
    pub keep: Option<u32>,
    pub stop_on_failure: bool,
    /// The largest message accepted (`max_body_size`): a bigger one fails the receive.
    pub max_message: usize,
    /// `WS /chat`, for messages.
    pub label: String,
}

pub enum WsMessagePlan {
    Send(WsSendPlan),
    Receive(Box<ReceivePlan>),
    Think(Think),
}

pub enum WsSendPlan {
    Text(Template),
    Json(JsonTemplate),
}

pub struct ReceivePlan {
    pub timeout: Duration,
    pub saves: Vec<SavePlan>,
    pub check: CompiledCheck,
    /// `check.items()[i]` is counted as `check_ids[i]`.
    pub check_ids: Vec<CheckId>,
    /// Messages this rejects are skipped until one passes.
    pub until: Option<CompiledCheck>,
}

impl WsPlan {
    /// The variable slots this step's receives save into, in order.
    pub fn saved_slots(&self) -> Vec<usize> {
        self.messages
            .iter()
            .flat_map(|m| match m {
                WsMessagePlan::Receive(r) => r.saves.as_slice(),
                _ => &[],
            })
            .map(|s| s.slot as usize)
            .collect()
    }
}
