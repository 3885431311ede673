//! A door for `benches/request.rs`, and for the request side of the engine's differential
//! test against hyper: building a request is private to [`Vu`] (it needs a user's
//! variables, generator and buffers), and the criterion bench of request building must
//! measure that exact code, not a copy. Rather than make the VU's internals public, this
//! module owns one user outside any run and lets a caller build a request from the plan,
//! as the user would before sending it. It sends nothing, opens no connection and records
//! nothing; it is `#[doc(hidden)]` because it is not part of the engine's interface and
//! may change with the bench.

use std::rc::Rc;
use std::sync::Arc;

use barrage_metrics::Recorder;

use super::{BuildError, Vu};
use crate::context::{ScenarioCtx, WorkerCtx};
use crate::http::{tls_config, Connector, TlsError};
use crate::plan::{Plan, Step};

/// One virtual user (user 1 of the first user type of the first scenario) that can build
/// requests but never sends them. See the module documentation.
#[doc(hidden)]
pub struct BenchUser {
    /// Open to the user's own tests, which need a user outside any run too.
    pub(super) vu: Vu,
}

impl BenchUser {
    /// A user for `plan`; `plan` must have at least one scenario with one user type.
    pub fn new(plan: Arc<Plan>) -> Result<BenchUser, TlsError> {
        BenchUser::with(plan, false)
    }

    /// The same user with `--traceparent` on: each request it builds carries the header.
    pub fn traced(plan: Arc<Plan>) -> Result<BenchUser, TlsError> {
        BenchUser::with(plan, true)
    }

    fn with(plan: Arc<Plan>, traceparent: bool) -> Result<BenchUser, TlsError> {
        // `insecure`: no certificate store is read, and no connection is ever made.
        let tls = tls_config(true)?;
        let connector = Connector::new(plan.connect_timeout, tls);
        let ctx = WorkerCtx::new(
            crate::segment::Segment::WHOLE,
            Recorder::new(&plan.registry),
            connector,
        );
        let ctx = Rc::new(match traceparent {
            true => ctx.with_traceparent(std::time::Instant::now()),
            false => ctx,
        });
        let sctx = Rc::new(ScenarioCtx::new(0, None));
        Ok(BenchUser {
            vu: Vu::new(1, 0, 0, Rc::new(plan), ctx, sctx, None),
        })
    }

    /// Builds (renders) the `step`-th step of task `task` of the user's type, which must be
    /// a request, and returns its size on the wire. `None` when there is no such request step.
    /// Always renders, as a user does the first time it sends a step: a user sending a fixed
    /// step again reuses its bytes instead (`Vu::build`), which is not what this measures.
    pub fn build(&mut self, task: usize, step: usize) -> Option<Result<u64, BuildError>> {
        let plan = Rc::clone(&self.vu.plan);
        let user = plan.scenarios.first()?.users.first()?;
        let Step::Request(r) = user.tasks.get(task)?.steps.get(step)? else {
            return None;
        };
        Some(self.vu.render(r, None).map(|origin| {
            std::hint::black_box(origin);
            self.vu.request.len() as u64
        }))
    }

    /// The request the last [`BenchUser::build`] rendered, as it would go on the wire.
    pub fn wire(&self) -> &[u8] {
        self.vu.request.wire()
    }
}
