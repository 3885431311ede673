//! A throwaway nginx for tests that need a server faster than the generator: Debian's
//! binary (`BARRAGE_NGINX`, set by scripts/test.sh; `/usr/sbin/nginx` when unset), one
//! process (`master_process off`, so stopping it is killing one child) in the foreground,
//! its configuration, logs, pid file and temporary folders in a temporary directory,
//! listening on 127.0.0.1 and a free port, answering `200 ok` to everything. Stopped when
//! the guard drops, failing tests included.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::{free_port, wait_for_http, ChildGuard};

pub struct Nginx {
    // Dropped first: the process ends before its folder is removed.
    process: ChildGuard,
    _dir: tempfile::TempDir,
    pub addr: SocketAddr,
}

impl Nginx {
    /// Writes the configuration, starts nginx and waits until it answers.
    pub fn start() -> Nginx {
        let bin = std::env::var_os("BARRAGE_NGINX")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/sbin/nginx"));
        assert!(
            bin.exists(),
            "{} does not exist: run scripts/test.sh, which installs Debian's nginx and sets \
             BARRAGE_NGINX",
            bin.display()
        );
        let dir = tempfile::tempdir().expect("a temporary folder for nginx");
        let root = dir.path();
        std::fs::create_dir_all(root.join("tmp")).expect("nginx's temporary folder");
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let conf = root.join("nginx.conf");
        std::fs::write(&conf, config(&root.display().to_string(), port))
            .expect("writing nginx.conf");
        let mut process = ChildGuard::spawn(
            "nginx",
            Command::new(&bin)
                .arg("-p")
                .arg(root)
                // The error log before the configuration is read (its default is under
                // /var/log, which a test must not need).
                .arg("-e")
                .arg(root.join("error.log"))
                .arg("-c")
                .arg(&conf),
            &root.join("nginx.out"),
        )
        .expect("starting nginx");
        if let Err(e) = wait_for_http(addr, "/", Duration::from_secs(10), &mut process) {
            let errors = std::fs::read_to_string(root.join("error.log")).unwrap_or_default();
            panic!("nginx did not come up: {e}\n--- error.log ---\n{errors}");
        }
        Nginx {
            process,
            _dir: dir,
            addr,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }
}

/// The configuration: one process in the foreground, everything it writes under `root`,
/// keep-alive that does not end a load test's connections early.
fn config(root: &str, port: u16) -> String {
    format!(
        "daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;

events {{
    worker_connections 4096;
}}

http {{
    access_log off;
    server_tokens off;
    keepalive_requests 100000000;
    keepalive_timeout 65;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;

    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            default_type text/plain;
            return 200 \"ok\";
        }}
    }}
}}
"
    )
}
