//! Compiling a `stream:` step's own parts: the event-count check, the checks on named
//! events and the saves that read an event or the count (docs/STREAMS.md). The decoder
//! has already refused these keys on a step that does not stream.

use std::collections::BTreeSet;

use barrage_metrics::EndpointId;
use barrage_scenario::{Check, EventCount, RequestStep, SaveSource};
use barrage_template::{CompiledCheck, Extractor, Slot};

use super::{describe_source, value_to_json};
use crate::compile::Compiler;
use crate::plan::{EventCheckPlan, SavePlan, StreamPlan};

impl Compiler<'_> {
    /// The stream plan of `r`, or `None` when it does not stream.
    pub(super) fn stream_plan(
        &mut self,
        r: &RequestStep,
        endpoint: EndpointId,
        available: &BTreeSet<String>,
        saved_elsewhere: &BTreeSet<String>,
    ) -> Option<Box<StreamPlan>> {
        let mode = r.stream.as_ref()?.value;
        let count = r.check.events.as_ref().map(|c| {
            let name = count_name(c.value);
            (c.value, self.check_id(endpoint, &name), name)
        });
        let mut event_checks = Vec::new();
        for e in &r.check.event {
            let check = Check {
                json: e.json.clone(),
                body_contains: e.data_contains.clone(),
                ..Check::default()
            };
            let compiled = {
                let mut resolve = |n: &str| self.resolve(n);
                CompiledCheck::compile(&check, &mut resolve)
            };
            match compiled {
                Ok(check) => {
                    self.check_names(check.names(), available, saved_elsewhere);
                    let names: Vec<String> = check
                        .items()
                        .iter()
                        .map(|i| format!("event {}: {}", e.name.value, data_words(i.name())))
                        .collect();
                    let ids = names.iter().map(|n| self.check_id(endpoint, n)).collect();
                    event_checks.push(EventCheckPlan {
                        event: e.name.value.clone(),
                        check,
                        ids,
                        names,
                    });
                }
                Err((span, message, help)) => self.error(span, message, help),
            }
        }
        let mut event_saves = Vec::new();
        let mut count_saves = Vec::new();
        for save in &r.save {
            let slot = match self.resolve(&save.var.value) {
                Some(Slot::Var(v)) => v,
                _ => 0,
            };
            if save.source.value == SaveSource::Events {
                count_saves.push(slot);
                continue;
            }
            let Some(event) = &save.event else {
                continue;
            };
            match Extractor::compile(&save.source.value) {
                Ok(extractor) => event_saves.push((
                    event.value.clone(),
                    SavePlan {
                        slot,
                        what: format!(
                            "{} of event `{}`",
                            describe_source(&save.source.value),
                            event.value
                        ),
                        extractor,
                        default: save.default.as_ref().map(|d| value_to_json(&d.value)),
                    },
                )),
                Err(e) => self.error(save.source.span, e.to_string(), None),
            }
        }
        Some(Box::new(StreamPlan {
            mode,
            max_events: r.max_events.as_ref().map(|m| m.value),
            count,
            event_checks,
            event_saves,
            count_saves,
        }))
    }
}

/// How the `events` check is named in reports: `events == 5`, `events >= 1`,
/// `events in 1..=50`.
fn count_name(c: EventCount) -> String {
    match (c.min, c.max) {
        (Some(a), Some(b)) if a == b => format!("events == {a}"),
        (Some(a), Some(b)) => format!("events in {a}..={b}"),
        (Some(a), None) => format!("events >= {a}"),
        (None, Some(b)) => format!("events <= {b}"),
        (None, None) => "events".to_string(),
    }
}

/// A data check's name reads "data contains", not the body's words.
fn data_words(name: &str) -> String {
    match name.strip_prefix("body contains ") {
        Some(rest) => format!("data contains {rest}"),
        None => name.to_string(),
    }
}
