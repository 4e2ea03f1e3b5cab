//! `changegate policy …` and `changegate risk benchmark` through the real binary.

mod common;

use common::{changegate, text};
use serde_json::Value;

const INPUT: &str = r#"{
  "change": {
    "id": "CHG-000042", "type": "normal", "title": "Rotate the gateway certificate",
    "environment": "production", "risk_class": "high", "risk_score": 71,
    "has_rollback_plan": true, "test_evidence": "pipeline run 812",
    "security_evidence": {"present": true, "critical_findings": 0},
    "template": null, "requester": "rita", "implementer": "ivan"
  },
  "services": [{"name": "payments", "team": "pay", "tier": 1, "scopes": ["pci"], "depends_on": ["ledger"]}],
  "calendar": {"freeze": null, "in_maintenance_window": true, "conflicts": []},
  "requester": {"name": "rita", "roles": ["requester"], "team": "pay", "recent_failures_90d": 0},
  "approvals_so_far": [],
  "now": "2026-11-26T10:00:00Z"
}"#;

#[test]
fn policy_eval_decides_as_documented_and_policy_test_fails_on_a_failing_test() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("input.json");
    std::fs::write(&input, INPUT).unwrap();
    let output = changegate(&["policy", "eval", "--json", "--input", input.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    let decision: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(decision["auto_approve"], false);
    assert_eq!(
        decision["required_approvals"],
        serde_json::json!([{"role": "security", "count": 1}, {"role": "team:pay", "count": 1}])
    );
    assert_eq!(decision["input_sha256"].as_str().unwrap().len(), 64);

    let policies = directory.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(policies.join("mine.rego"), "package mine\n\nanswer := 42\n").unwrap();
    std::fs::write(
        policies.join("mine_test.rego"),
        "package mine_test\n\nimport data.mine\n\ntest_answer if data.mine.answer == 42\n",
    )
    .unwrap();
    let passing = changegate(&["policy", "test", policies.to_str().unwrap()]);
    assert!(passing.status.success(), "{}", text(&passing));
    assert!(text(&passing).contains("1 passed, 0 failed"), "{}", text(&passing));
    std::fs::write(policies.join("broken_test.rego"), "package broken_test\n\ntest_wrong if 1 == 2\n").unwrap();
    let failing = changegate(&["policy", "test", policies.to_str().unwrap()]);
    assert!(!failing.status.success(), "a failing policy test exits non-zero");
    assert!(text(&failing).contains("FAIL"), "{}", text(&failing));
}

#[test]
fn risk_benchmark_reports_the_documented_keys_and_refuses_bad_files() {
    let directory = tempfile::tempdir().unwrap();
    // A synthetic history in the held-out spelling: the bigger the change, the likelier a bug.
    let mut csv = String::from("_id,date,ns,nd,nf,entrophy,la,ld,lt,fix,ndev,age,nuc,exp,rexp,sexp,bug\n");
    let mut state: u64 = 7;
    for row in 0..600u64 {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let size = (state >> 33) % 400;
        let bug = u64::from(size > 200 && !(state >> 20).is_multiple_of(3));
        csv.push_str(&format!(
            "c{row},{},1,1,{},0.5,{size},{},{},0,2,10,3,50,20,10,{bug}\n",
            1_600_000_000 + row * 3_600,
            1 + size / 100,
            size / 4,
            1_000 + size
        ));
    }
    let path = directory.path().join("history.csv");
    std::fs::write(&path, csv).unwrap();
    let output = changegate(&["risk", "benchmark", "--json", "--csv", path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in
        ["auc", "brier", "train_rows", "test_rows", "test_positive_rate", "train_seconds", "score_micros_per_row"]
    {
        assert!(report.get(key).is_some(), "{key} missing from {report}");
    }
    assert_eq!(report["train_rows"].as_u64().unwrap() + report["test_rows"].as_u64().unwrap(), 600);
    assert!(report["auc"].as_f64().unwrap() > 0.7, "the signal is found: {report}");

    let bad = directory.path().join("bad.csv");
    std::fs::write(&bad, "date,ns,bug\n1,2,0\n").unwrap();
    let refused = changegate(&["risk", "benchmark", "--csv", bad.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("missing column"), "{}", text(&refused));
}
