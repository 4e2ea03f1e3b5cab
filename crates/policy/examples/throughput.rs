//! Measures evaluations per second of the default policy (one prepared policy, a cloned engine
//! and a worker thread per evaluation), and the cost of the parts.
//!
//! `cargo run --release -p changegate-policy --example throughput`

use std::time::Instant;

use changegate_core::{ChangeType, RiskClass, Tier};
use changegate_policy::{
    CalendarFacts, ChangeFacts, EvalLimits, Policy, PolicyInput, RequesterFacts, SecurityEvidence, ServiceFacts,
    evaluate,
};

fn main() {
    let input = PolicyInput {
        change: ChangeFacts {
            id: "CHG-000001".into(),
            change_type: ChangeType::Normal,
            title: "Rotate the payment gateway certificate".into(),
            environment: "production".into(),
            risk_class: RiskClass::High,
            risk_score: Some(71),
            has_rollback_plan: true,
            test_evidence: Some("pipeline run 42".into()),
            security_evidence: Some(SecurityEvidence { present: true, critical_findings: 0 }),
            template: None,
            requester: "rita".into(),
            implementer: Some("ivan".into()),
            justification: None,
        },
        services: vec![ServiceFacts {
            name: "payments".into(),
            team: "pay".into(),
            tier: Tier::new(1).expect("valid tier"),
            scopes: vec!["pci".into()],
            depends_on: vec!["ledger".into()],
        }],
        calendar: CalendarFacts { freeze: None, in_maintenance_window: true, conflicts: vec!["CHG-000002".into()] },
        requester: RequesterFacts {
            name: "rita".into(),
            roles: vec!["requester".into()],
            team: Some("pay".into()),
            recent_failures_90d: 1,
        },
        approvals_so_far: vec![],
        now: "2026-11-26T10:00:00Z".into(),
    };

    let started = Instant::now();
    let policy = Policy::default_policy();
    println!("parse + prepare the default policy: {:?}", started.elapsed());

    let rounds: u32 = 2_000;
    let started = Instant::now();
    for _ in 0..rounds {
        evaluate(&policy, &input, EvalLimits::default()).expect("decides");
    }
    let elapsed = started.elapsed();
    println!(
        "{rounds} evaluations in {elapsed:?}: {:.0} evaluations/s, {:.1} µs each",
        f64::from(rounds) / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / f64::from(rounds)
    );

    let started = Instant::now();
    for _ in 0..rounds {
        std::thread::spawn(|| ()).join().expect("joins");
    }
    println!("of which thread spawn + join: {:.1} µs", started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds));

    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(input.sha256());
    }
    println!("of which input hash: {:.1} µs", started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds));

    let threads = std::thread::available_parallelism().map_or(1, |count| count.get());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                for _ in 0..rounds {
                    evaluate(&policy, &input, EvalLimits::default()).expect("decides");
                }
            });
        }
    });
    let total = rounds as usize * threads;
    println!("{threads} callers in parallel: {:.0} evaluations/s", total as f64 / started.elapsed().as_secs_f64());
}
