//! `barrage demo`: the bundled example scenario against the built-in target, headless or in
//! the web UI (`--web`), writing its result file and HTML report.

use std::path::{Path, PathBuf};

use barrage_engine::{CompileOptions, LoadOverrides};
use barrage_scenario::SourceFile;
use barrage_target::{DemoOptions, DemoTarget};

use crate::cli::{CommonArgs, DemoArgs};
use crate::commands::{execute, load, DEFAULT_STOP_TIMEOUT};
use crate::exit;
use crate::segments::SegmentArgs;

/// The bundled example, run by `barrage demo`.
const DEMO_SCENARIO: &str = include_str!("../../../examples/fastapi-items/scenario.yaml");

/// The demo's HTML report by default: `barrage-demo.html` beside its result file.
fn demo_html(json: &Path) -> PathBuf {
    json.with_file_name("barrage-demo.html")
}

pub async fn run(args: DemoArgs) -> u8 {
    let target = match DemoTarget::start(DemoOptions::default()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot start the demo target on 127.0.0.1: {e}");
            return exit::CANNOT_RUN;
        }
    };
    eprintln!(
        "Demo target (a small items API) listening on {}",
        target.url()
    );
    let file = SourceFile {
        name: "examples/fastapi-items/scenario.yaml (bundled)".to_string(),
        text: DEMO_SCENARIO.to_string(),
    };
    // The demo's own load: its users, half of them started per second, for its run time.
    let opts = CompileOptions {
        host: Some(target.url()),
        load: LoadOverrides {
            users: Some(args.users),
            spawn_rate: Some((args.users as f64 / 2.0).max(1.0)),
            duration: Some(args.run_time),
            ..LoadOverrides::default()
        },
        max_body_size: None,
        no_redact: args.no_redact,
    };
    let html = args.html.clone().unwrap_or_else(|| demo_html(&args.json));
    let common = CommonArgs {
        json: Some(args.json),
        workers: args.workers,
        insecure: false,
        http1: false,
        http2: false,
        local_addresses: None,
        pin_workers: false,
        batch_window: None,
        no_retry: false,
        max_body_size: None,
        max_body_memory: None,
        max_head_size: None,
        only_summary: false,
        no_redact: args.no_redact,
        outputs: crate::outputs::OutputArgs {
            html: Some(html),
            ..Default::default()
        },
        monitor: args.monitor,
    };
    if args.web.web {
        let code = crate::web_cmd::serve(crate::web_cmd::Setup {
            file,
            opts,
            common,
            stop_timeout: Some(DEFAULT_STOP_TIMEOUT),
            reset_stats: false,
            web: args.web.clone(),
            usage_error: exit::CANNOT_RUN,
        })
        .await;
        let served: u64 = target.counts().values().sum();
        eprintln!("The demo target served {served} requests.");
        return code;
    }
    let loaded = match load(file, &opts, exit::CANNOT_RUN) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let code = execute(
        loaded,
        &common,
        &SegmentArgs::NONE,
        DEFAULT_STOP_TIMEOUT,
        false,
        true,
    )
    .await;
    let served: u64 = target.counts().values().sum();
    eprintln!("The demo target served {served} requests.");
    code
}
