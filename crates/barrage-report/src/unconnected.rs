//! Users that never got a connection because this machine ran out of descriptors or ports
//! (failure category `local_resources`), in one wording for the live header, the summary,
//! the result file's warnings and the gate's reason.
//!
//! Why it gets words of its own rather than only a failure count: such users put no load on
//! the target at all, so a run that lost some of them measured a smaller load than it was
//! asked for, however good its numbers look.

use barrage_metrics::{ConnectionStats, FailureCategory, FailureStats};

/// `11500 of 30000 users never got a connection`, or `None` when every user got one.
/// `asked` is the users the run was asked for, when the load model has such a number.
pub fn count(connections: &ConnectionStats, asked: Option<u64>) -> Option<String> {
    let n = connections.users_never_connected;
    if n == 0 {
        return None;
    }
    let of = asked
        .filter(|&a| a >= n)
        .map(|a| format!(" of {a}"))
        .unwrap_or_default();
    let users = if n == 1 && of.is_empty() {
        "user"
    } else {
        "users"
    };
    Some(format!("{n}{of} {users} never got a connection"))
}

/// The count with why, for people: the first `local_resources` failure's message, which
/// names the error and the fix.
pub fn explained(
    connections: &ConnectionStats,
    failures: &[FailureStats],
    asked: Option<u64>,
) -> Option<String> {
    let count = count(connections, asked)?;
    let local = FailureCategory::LocalResources.as_str();
    Some(match failures.iter().find(|f| f.category == local) {
        Some(f) => format!("{count}: {}", f.sample),
        None => format!("{count}: this machine ran out of file descriptors or ports"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conns(n: u64) -> ConnectionStats {
        ConnectionStats {
            users_never_connected: n,
            ..Default::default()
        }
    }

    #[test]
    fn says_how_many_of_how_many_and_why() {
        assert_eq!(count(&conns(0), Some(10)), None);
        assert_eq!(
            count(&conns(11500), Some(30000)).unwrap(),
            "11500 of 30000 users never got a connection"
        );
        assert_eq!(
            count(&conns(1), None).unwrap(),
            "1 user never got a connection"
        );
        let failure = FailureStats {
            scenario: "s".into(),
            method: "GET".into(),
            name: "/".into(),
            category: "local_resources".into(),
            count: 12,
            sample: "connect to http://127.0.0.1:1 failed for lack of local resources: \
                     Too many open files (os error 24)"
                .into(),
        };
        assert_eq!(
            explained(&conns(3), &[failure], Some(400)).unwrap(),
            "3 of 400 users never got a connection: connect to http://127.0.0.1:1 failed for \
             lack of local resources: Too many open files (os error 24)"
        );
        assert_eq!(
            explained(&conns(3), &[], None).unwrap(),
            "3 users never got a connection: this machine ran out of file descriptors or ports"
        );
    }
}
