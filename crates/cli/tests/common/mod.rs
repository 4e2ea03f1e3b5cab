//! Helpers shared by the tests that run the real `changegate` binary: start `serve` on a free
//! port and wait until it is ready, run one-shot commands, and make JSON requests.

#![allow(dead_code)]

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BINARY: &str = env!("CARGO_BIN_EXE_changegate");

/// How long `serve` may take to become ready.
const READY_TIMEOUT_MS: u64 = 60_000;

/// Runs the binary with `arguments` (without the caller's store or key environment).
pub fn changegate(arguments: &[&str]) -> Output {
    Command::new(BINARY)
        .args(arguments)
        .env_remove("CHANGEGATE_DATABASE_URL")
        .env_remove("CHANGEGATE_SIGNING_KEY")
        .env_remove("CHANGEGATE_SERVER")
        .output()
        .expect("the binary runs")
}

/// Standard output and standard error, together.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// `changegate init --json` with `arguments`; returns the admin token.
pub fn init(arguments: &[&str]) -> String {
    let mut all = vec!["init", "--json"];
    all.extend_from_slice(arguments);
    let output = changegate(&all);
    assert!(output.status.success(), "init failed: {}", text(&output));
    let answer: Value = serde_json::from_slice(&output.stdout).expect("init --json prints JSON");
    assert!(answer["ledger_public_key"].as_str().unwrap().starts_with("changegate-"));
    answer["admin_token"].as_str().unwrap().to_owned()
}

/// A running `changegate serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// Starts `serve` with `arguments` on a free port and waits for `/readyz`.
    pub fn start(arguments: &[&str]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(BINARY)
            .arg("serve")
            .args(arguments)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env_remove("CHANGEGATE_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_millis(READY_TIMEOUT_MS);
        while Instant::now() < deadline {
            if agent().get(format!("{base}/readyz")).call().is_ok_and(|response| response.status() == 200) {
                return Server { child, base };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("serve did not become ready within {READY_TIMEOUT_MS} ms");
    }

    /// SIGKILL: no shutdown handler runs, nothing gets flushed on the way out.
    pub fn kill_hard(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// POSTs JSON with a bearer token; returns the status and the JSON answer.
pub fn post(base: &str, token: &str, path: &str, body: Value) -> (u16, Value) {
    let mut response = agent()
        .post(format!("{base}{path}"))
        .header("Authorization", format!("Bearer {token}"))
        .send_json(body)
        .unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_json().unwrap_or(Value::Null))
}

/// GETs JSON with a bearer token.
pub fn get(base: &str, token: &str, path: &str) -> Value {
    agent()
        .get(format!("{base}{path}"))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap()
}
