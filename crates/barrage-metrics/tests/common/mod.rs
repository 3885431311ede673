//! What the merge tests share: the registry their samples are recorded against.

use std::sync::Arc;

use barrage_metrics::Registry;

/// Three endpoints of scenario `s` (`GET /a`, `/b`, `/c`), each with a check `ok` and a
/// task of user `u` of the same name.
pub fn registry() -> Arc<Registry> {
    let mut r = Registry::default();
    for name in ["/a", "/b", "/c"] {
        let ep = r.add_endpoint("s", "GET", name);
        r.add_check(ep, "ok");
        r.add_task("s", "u", name);
    }
    Arc::new(r)
}
