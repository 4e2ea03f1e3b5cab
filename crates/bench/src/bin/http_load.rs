//! HTTP load: `clients` concurrent clients each create a change and submit it, over and over, on a
//! fresh SQLite store; then the raw single-row SQLite commit rate on the same disk, same run.
//!
//! Usage: http_load [clients=64] [seconds=20]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use changegate_bench::{percentile, raw_commit_rate, raw_sqlite};
use changegate_server::{Application, ServerConfig};
use changegate_service::{NewService, Service, SystemClock};
use changegate_store::{Store, StoreLocation};
use serde_json::json;

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let clients: usize = arguments.get(1).and_then(|text| text.parse().ok()).unwrap_or(64);
    let seconds: u64 = arguments.get(2).and_then(|text| text.parse().ok()).unwrap_or(20);
    let directory = std::env::temp_dir().join(format!("changegate-bench-http-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (base, token) = runtime.block_on(async {
        let store = Store::open(&StoreLocation::DataDir(directory.join("store"))).await.unwrap();
        let service = Service::new(store, Arc::new(SystemClock));
        let admin = service.bootstrap_admin("admin").await.unwrap();
        let caller = admin.caller();
        let payments =
            NewService { name: "payments-api".into(), team: "payments".into(), tier: 2, ..NewService::default() };
        service.register_service(&caller, payments, None).await.unwrap();
        let config = ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), secure_cookies: false };
        let application = Application::build(service, config).await.unwrap();
        let base = format!("http://{}", application.local_addr());
        tokio::spawn(application.run_until(std::future::pending()));
        (base, admin.token)
    });

    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|client| {
            let base = base.clone();
            let token = token.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
                let mut latencies = Vec::new();
                let mut number = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let body = json!({"title": format!("client {client} change {number}"), "type": "normal", "service": "payments-api", "environment": "production"});
                    let begun = Instant::now();
                    let mut response = agent.post(format!("{base}/api/v1/changes")).header("Authorization", format!("Bearer {token}")).send_json(&body).unwrap();
                    latencies.push(begun.elapsed());
                    assert_eq!(response.status(), 201);
                    let change: serde_json::Value = response.body_mut().read_json().unwrap();
                    let id = change["id"].as_str().unwrap().to_owned();
                    let begun = Instant::now();
                    let mut response = agent
                        .post(format!("{base}/api/v1/changes/{id}/actions/submit"))
                        .header("Authorization", format!("Bearer {token}"))
                        .send_empty()
                        .unwrap();
                    // Reading the body returns the connection to the pool (keep-alive).
                    let _ = response.body_mut().read_to_vec().unwrap();
                    latencies.push(begun.elapsed());
                    assert_eq!(response.status(), 200);
                    number += 1;
                }
                latencies
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut latencies: Vec<Duration> = workers.into_iter().flat_map(|worker| worker.join().unwrap()).collect();
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let requests = latencies.len() as f64;
    let pairs_per_second = requests / 2.0 / elapsed;
    let commits_per_second = requests / elapsed;
    let raw = runtime.block_on(async {
        let pool = raw_sqlite(&directory).await;
        raw_commit_rate(&pool, 3_000, 1).await
    });
    std::fs::remove_dir_all(&directory).ok();
    println!("clients: {clients}, duration: {elapsed:.1} s, requests: {}", latencies.len());
    println!("create+submit pairs/s: {pairs_per_second:.0}");
    println!("write requests/s (each one commit): {commits_per_second:.0}");
    println!(
        "latency p50: {:.2} ms, p99: {:.2} ms, max: {:.2} ms",
        percentile(&latencies, 50.0).as_secs_f64() * 1e3,
        percentile(&latencies, 99.0).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!("raw SQLite single-row commits/s (WAL, synchronous=FULL): {raw:.0}");
    println!("ratio (HTTP write requests/s ÷ raw commits/s): {:.0} %", 100.0 * commits_per_second / raw);
}
