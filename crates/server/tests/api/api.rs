//! The JSON API over real HTTP: the real app on port 0 with a fresh temporary store, driven with
//! typed helpers. Bad input must get a clear error with a stable code and write nothing.

use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, change_body, spawn_app};

#[test]
fn a_change_goes_through_its_lifecycle_over_http() {
    let app = TestApp::builder().user("audrey", &["auditor"]).signed_checkpoints().spawn();
    let created = app.api_create_change(&app.alice.token, "Increase connection pool");
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["id"], "CHG-000001");
    assert_eq!(created.body["state"], "draft");
    assert_eq!(created.body["requester"], "alice");
    assert_eq!(created.body["test_evidence"], "https://ci.example.com/payments/runs/981");
    assert_eq!(created.body["security_evidence"], "SAST: 0 high; SCA: 0 critical");
    assert_eq!(created.body["outcome"], Value::Null, "an open change has no outcome");
    let submitted = app.api_act(&app.alice.token, "CHG-000001", "submit");
    assert_eq!(submitted.status, 200, "{}", submitted.body);
    assert_eq!(submitted.body["state"], "assessed");
    // Tier 2 with a rollback plan and evidence: a low factor score, its points recorded.
    assert_eq!(submitted.body["assessment"]["risk_class"], "low");
    let points: f64 = submitted.body["assessment"]["risk_factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|factor| factor["contribution"].as_f64().unwrap())
        .sum();
    assert_eq!(submitted.body["assessment"]["risk_score"].as_f64().unwrap(), points.round());
    assert_eq!(submitted.body["assessment"]["policy_sha256"].as_str().unwrap().len(), 64);
    let approved = app.api_act(&app.bob.token, "CHG-000001", "approve");
    assert_eq!(approved.body["state"], "approved", "{}", approved.body);
    for (action, state) in [
        ("schedule", "scheduled"),
        ("start", "implementing"),
        ("complete", "implemented"),
        ("verify", "verified"),
        ("close", "closed"),
    ] {
        let answer = app.api_act(&app.alice.token, "CHG-000001", action);
        assert_eq!(answer.status, 200, "{action}: {}", answer.body);
        assert_eq!(answer.body["state"], state);
    }
    let detail = app.get("/api/v1/changes/CHG-000001", Some(&app.user("audrey").token));
    assert_eq!(detail.status, 200);
    let types: Vec<&str> =
        detail.body["events"].as_array().unwrap().iter().map(|event| event["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "change_created",
            "change_submitted",
            "change_assessed",
            "change_approved",
            "change_scheduled",
            "change_started",
            "change_completed",
            "change_verified",
            "change_closed"
        ]
    );
    assert_eq!(detail.body["available_actions"], json!([]), "an auditor may do nothing");
    assert_eq!(detail.body["outcome"], "successful");
}

#[test]
fn bad_bodies_get_clear_errors_and_write_nothing() {
    let app = spawn_app();
    let before = app.event_count();
    let malformed =
        app.post_raw("/api/v1/changes", Some(&app.alice.token), Some("application/json"), b"{\"title\": ", None);
    assert_eq!((malformed.status, malformed.code()), (400, "malformed_json"));
    let mut unknown = change_body("x");
    unknown["colour"] = json!("red");
    let unknown = app.post("/api/v1/changes", &app.alice.token, unknown);
    assert_eq!((unknown.status, unknown.code()), (422, "validation_failed"));
    assert!(unknown.body["error"]["message"].as_str().unwrap().contains("colour"), "{}", unknown.body);
    let mut wrong_type = change_body("x");
    wrong_type["links"] = json!("not a list");
    let wrong_type = app.post("/api/v1/changes", &app.alice.token, wrong_type);
    assert_eq!((wrong_type.status, wrong_type.code()), (422, "validation_failed"));
    let huge = json!({"title": "x".repeat(300 * 1024)}).to_string();
    let oversized =
        app.post_raw("/api/v1/changes", Some(&app.alice.token), Some("application/json"), huge.as_bytes(), None);
    assert_eq!((oversized.status, oversized.code()), (413, "payload_too_large"));
    let no_type =
        app.post_raw("/api/v1/changes", Some(&app.alice.token), None, change_body("x").to_string().as_bytes(), None);
    assert_eq!((no_type.status, no_type.code()), (415, "unsupported_media_type"));
    let mut invalid = change_body("");
    invalid["type"] = json!("urgent");
    invalid["service"] = json!("no-such-service");
    invalid["planned_start"] = json!("tomorrow");
    let invalid = app.post("/api/v1/changes", &app.alice.token, invalid);
    assert_eq!((invalid.status, invalid.code()), (422, "validation_failed"));
    let fields: Vec<&str> =
        invalid.body["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    for field in ["title", "type", "planned_start", "service"] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }
    assert_eq!(app.event_count(), before, "nothing was written");
}

#[test]
fn unknown_ids_actions_and_paths_are_404() {
    let app = spawn_app();
    assert_eq!(app.get("/api/v1/changes/CHG-000099", Some(&app.alice.token)).status, 404);
    assert_eq!(app.get("/api/v1/changes/banana", Some(&app.alice.token)).code(), "not_found");
    app.api_create_change(&app.alice.token, "x");
    let before = app.event_count();
    let unknown_action = app.api_act(&app.alice.token, "CHG-000001", "explode");
    assert_eq!((unknown_action.status, unknown_action.code()), (404, "unknown_action"));
    assert_eq!(app.get("/api/v1/nothing-here", Some(&app.alice.token)).status, 404);
    assert_eq!(app.api_act(&app.alice.token, "CHG-000042", "submit").status, 404);
    assert_eq!(app.event_count(), before);
}

#[test]
fn illegal_transitions_are_409_and_change_nothing() {
    let app = spawn_app();
    app.api_create_change(&app.alice.token, "x");
    let before = app.event_count();
    let refused = app.api_act(&app.alice.token, "CHG-000001", "start");
    assert_eq!((refused.status, refused.code()), (409, "illegal_transition"));
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("draft"));
    assert_eq!(app.event_count(), before);
    assert_eq!(app.get("/api/v1/changes/CHG-000001", Some(&app.alice.token)).body["state"], "draft");
}

#[test]
fn authentication_and_authorization() {
    let app = TestApp::builder().user("audrey", &["auditor"]).signed_checkpoints().spawn();
    let before = app.event_count();
    let anonymous =
        app.post_raw("/api/v1/changes", None, Some("application/json"), change_body("x").to_string().as_bytes(), None);
    assert_eq!((anonymous.status, anonymous.code()), (401, "unauthenticated"));
    assert_eq!(anonymous.headers.get("www-authenticate").unwrap(), "Bearer");
    let forged = app.get("/api/v1/changes", Some(&format!("cg_{}", "0".repeat(64))));
    assert_eq!(forged.status, 401);
    assert_eq!(app.event_count(), before, "unauthenticated attempts are not written");
    let metrics = app.get("/metrics", None);
    let metrics = metrics.body.as_str().unwrap().to_owned();
    assert!(metrics.contains("changegate_unauthenticated_requests_total 2"), "they are counted: {metrics}");

    let auditor = app.api_create_change(&app.user("audrey").token, "x");
    assert_eq!((auditor.status, auditor.code()), (403, "forbidden"));
    app.api_create_change(&app.alice.token, "mine");
    app.api_act(&app.alice.token, "CHG-000001", "submit");
    let own = app.api_act(&app.alice.token, "CHG-000001", "approve");
    assert_eq!((own.status, own.code()), (403, "forbidden"));
    assert!(own.body["error"]["message"].as_str().unwrap().contains("approve needs one of the roles"), "{}", own.body);
    let sam = app.post("/api/v1/users", &app.admin.token, json!({"name": "sam", "roles": ["requester", "approver"]}));
    let sam = sam.body["token"].as_str().unwrap().to_owned();
    app.api_create_change(&sam, "sam's");
    app.api_act(&sam, "CHG-000002", "submit");
    let self_approval = app.api_act(&sam, "CHG-000002", "approve");
    assert_eq!(self_approval.status, 403);
    assert!(
        self_approval.body["error"]["message"].as_str().unwrap().contains("separation of duties"),
        "{}",
        self_approval.body
    );
    let not_admin = app.post("/api/v1/users", &app.alice.token, json!({"name": "eve", "roles": ["admin"]}));
    assert_eq!(not_admin.status, 403);
    let denials = app.get("/api/v1/events?after=0&limit=1000", Some(&app.admin.token));
    let denied: Vec<&Value> =
        denials.body["items"].as_array().unwrap().iter().filter(|e| e["type"] == "access_denied").collect();
    assert_eq!(denied.len(), 4, "every denial of an authenticated user is an event");
    assert_eq!(denied[1]["actor"], "alice");
    assert_eq!(denied[1]["data"]["action"], "approve");
}

#[test]
fn idempotency_keys_make_pipeline_retries_safe() {
    let app = spawn_app();
    let body = change_body("From the pipeline").to_string();
    let first = app.post_raw(
        "/api/v1/changes",
        Some(&app.alice.token),
        Some("application/json"),
        body.as_bytes(),
        Some("run-1234"),
    );
    let events = app.event_count();
    let retry = app.post_raw(
        "/api/v1/changes",
        Some(&app.alice.token),
        Some("application/json"),
        body.as_bytes(),
        Some("run-1234"),
    );
    assert_eq!(first.status, 201);
    assert_eq!(retry.status, 201);
    assert_eq!(retry.body["id"], first.body["id"]);
    assert_eq!(retry.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(app.event_count(), events, "a retry writes nothing");
    let other = change_body("Something else").to_string();
    let reused = app.post_raw(
        "/api/v1/changes",
        Some(&app.alice.token),
        Some("application/json"),
        other.as_bytes(),
        Some("run-1234"),
    );
    assert_eq!((reused.status, reused.code()), (422, "idempotency_key_reused"));
    let submit =
        app.post_raw("/api/v1/changes/CHG-000001/actions/submit", Some(&app.alice.token), None, b"", Some("submit-1"));
    let submit_again =
        app.post_raw("/api/v1/changes/CHG-000001/actions/submit", Some(&app.alice.token), None, b"", Some("submit-1"));
    assert_eq!(submit.status, 200);
    assert_eq!(submit_again.status, 200, "{}", submit_again.body);
    assert_eq!(submit_again.headers.get("idempotent-replayed").unwrap(), "true");
    let list = app.get("/api/v1/changes", Some(&app.alice.token));
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[test]
fn lists_page_with_cursors_and_refuse_bad_parameters() {
    let app = spawn_app();
    for number in 0..5 {
        app.api_create_change(&app.alice.token, &format!("Change {number}"));
    }
    let first = app.get("/api/v1/changes?limit=2", Some(&app.alice.token));
    let ids: Vec<&str> = first.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["CHG-000005", "CHG-000004"]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("/api/v1/changes?limit=2&cursor={cursor}"), Some(&app.alice.token));
    assert_eq!(second.body["items"][0]["id"], "CHG-000003");
    let filtered = app.get("/api/v1/changes?state=draft&service=payments-api", Some(&app.alice.token));
    assert_eq!(filtered.body["items"].as_array().unwrap().len(), 5);
    assert_eq!(app.get("/api/v1/changes?limit=0", Some(&app.alice.token)).code(), "validation_failed");
    assert_eq!(app.get("/api/v1/changes?limit=501", Some(&app.alice.token)).status, 422);
    assert_eq!(app.get("/api/v1/changes?state=sleeping", Some(&app.alice.token)).status, 422);
    assert_eq!(app.get("/api/v1/changes?limit=many", Some(&app.alice.token)).code(), "invalid_query");
    assert_eq!(app.get("/api/v1/changes?colour=red", Some(&app.alice.token)).code(), "invalid_query");
    let events = app.get("/api/v1/events?after=3&limit=2", Some(&app.alice.token));
    let sequences: Vec<u64> =
        events.body["items"].as_array().unwrap().iter().map(|e| e["sequence"].as_u64().unwrap()).collect();
    assert_eq!(sequences, [4, 5]);
    assert_eq!(events.body["next_after"], 5);
}

#[test]
fn services_and_users() {
    let app = spawn_app();
    let service = app.post(
        "/api/v1/services",
        &app.admin.token,
        json!({"name": "ledger-db", "team": "platform", "tier": 1, "scopes": ["sox"], "depends_on": ["payments-api"]}),
    );
    assert_eq!(service.status, 201, "{}", service.body);
    let duplicate =
        app.post("/api/v1/services", &app.admin.token, json!({"name": "ledger-db", "team": "platform", "tier": 1}));
    assert_eq!((duplicate.status, duplicate.code()), (409, "conflict"));
    let bad = app.post(
        "/api/v1/services",
        &app.admin.token,
        json!({"name": "Bad Name", "team": "platform", "tier": 9, "depends_on": ["ghost"]}),
    );
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["error"]["fields"].as_array().unwrap().len(), 3, "{}", bad.body);
    let services = app.get("/api/v1/services", Some(&app.bob.token));
    assert_eq!(services.body["items"].as_array().unwrap().len(), 2);
    let created = app.post("/api/v1/users", &app.admin.token, json!({"name": "carol", "roles": ["requester", "cab"]}));
    assert_eq!(created.status, 201, "{}", created.body);
    let token = created.body["token"].as_str().unwrap();
    assert!(token.starts_with("cg_") && token.len() == 67);
    let as_carol = app.api_create_change(token, "Carol's change");
    assert_eq!(as_carol.status, 201);
    let bad_role = app.post("/api/v1/users", &app.admin.token, json!({"name": "dan", "roles": ["wizard"]}));
    assert_eq!(bad_role.status, 422);
}

#[test]
fn incidents_link_to_changes() {
    let app = TestApp::builder().user("audrey", &["auditor"]).signed_checkpoints().spawn();
    app.api_create_change(&app.alice.token, "x");
    let opened = app.post(
        "/api/v1/incidents",
        &app.alice.token,
        json!({"title": "Checkout errors", "service": "payments-api", "severity": "sev2", "caused_by": "CHG-000001"}),
    );
    assert_eq!(opened.status, 201, "{}", opened.body);
    assert_eq!(opened.body["caused_by"], "CHG-000001");
    let resolved = app.post("/api/v1/incidents/INC-000001/resolve", &app.alice.token, json!({}));
    assert_eq!(resolved.status, 200, "{}", resolved.body);
    assert!(resolved.body["resolved_at"].is_string());
    let again = app.post("/api/v1/incidents/INC-000001/resolve", &app.alice.token, json!({}));
    assert_eq!(again.status, 409);
    let list = app.get("/api/v1/incidents", Some(&app.user("audrey").token));
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[test]
fn the_openapi_document_describes_the_stable_paths() {
    let app = spawn_app();
    let document = app.get("/api/openapi.json", None);
    assert_eq!(document.status, 200);
    let paths = document.body["paths"].as_object().unwrap();
    for path in [
        "/api/v1/services",
        "/api/v1/users",
        "/api/v1/changes",
        "/api/v1/changes/{id}",
        "/api/v1/changes/{id}/actions/{action}",
        "/api/v1/events",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(path), "{path} is not in the OpenAPI document");
    }
    assert!(document.body["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(app.get("/healthz", None).body["status"], "ok");
    assert_eq!(app.get("/readyz", None).status, 200);
}

/// Regression: 32 query parameters of 16 GET operations were declared as path parameters, so
/// generated clients and fuzzers put them in the path.
#[test]
fn every_parameter_is_declared_where_it_really_is() {
    let app = spawn_app();
    let document = app.get("/api/openapi.json", None);
    let mut query_parameters = 0;
    for (path, operations) in document.body["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                let placeholder = format!("{{{name}}}");
                match parameter["in"].as_str().unwrap() {
                    "path" => assert!(path.contains(&placeholder), "{method} {path}: `{name}` is no part of the path"),
                    "query" => {
                        assert!(!path.contains(&placeholder), "{method} {path}: `{name}` is in the path");
                        query_parameters += 1;
                    }
                    "header" => {}
                    other => panic!("{method} {path}: `{name}` in {other}"),
                }
            }
        }
    }
    assert!(query_parameters >= 32, "the list, ledger, compliance, metrics and maturity queries: {query_parameters}");
    // And the query of a list really is read from the query string.
    let listed = app.get("/api/v1/events?after=0&limit=2", Some(&app.admin.token));
    assert_eq!(listed.status, 200, "{:?}", listed.body);
}

/// Regression: 400 and 415 were undocumented on JSON bodies, and 422 on the deletions.
#[test]
fn every_refusal_an_operation_can_answer_is_documented() {
    let app = spawn_app();
    let document = app.get("/api/openapi.json", None);
    for (path, operations) in document.body["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let documented = |status: &str| responses.contains_key(status);
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415"] {
                    assert!(documented(status), "{method} {path} does not document {status}");
                }
            }
            if method == "delete" {
                assert!(documented("422"), "{method} {path} does not document 422");
            }
        }
    }
    // What the document promises, the server answers.
    let not_json = app.post_raw("/api/v1/changes", Some(&app.alice.token), Some("text/plain"), b"{}", None);
    assert_eq!(not_json.status, 415, "{:?}", not_json.body);
    let malformed = app.post_raw("/api/v1/changes", Some(&app.alice.token), Some("application/json"), b"{", None);
    assert_eq!(malformed.status, 400, "{:?}", malformed.body);
}

/// Regression: names had no pattern and roles no enum in the document, so generated clients and
/// fuzzers sent values the server can only refuse.
#[test]
fn names_carry_their_pattern_and_roles_their_values() {
    let app = spawn_app();
    let schemas = app.get("/api/openapi.json", None).body["components"]["schemas"].clone();
    let pattern = "^[a-z0-9][a-z0-9._-]{0,63}$";
    assert_eq!(schemas["CreateServiceRequest"]["properties"]["name"]["pattern"], pattern);
    assert_eq!(schemas["CreateServiceRequest"]["properties"]["team"]["pattern"], pattern);
    assert_eq!(schemas["CreateServiceRequest"]["properties"]["tier"]["maximum"], 4);
    assert_eq!(schemas["CreateUserRequest"]["properties"]["name"]["pattern"], pattern);
    assert_eq!(schemas["CreateChangeRequest"]["properties"]["service"]["pattern"], pattern);
    assert_eq!(schemas["CreateChangeRequest"]["properties"]["environment"]["pattern"], pattern);
    assert_eq!(schemas["CreateIncidentRequest"]["properties"]["service"]["pattern"], pattern);
    let roles = &schemas["CreateUserRequest"]["properties"]["roles"]["items"]["enum"];
    assert_eq!(roles, &json!(["requester", "approver", "security", "cab", "auditor", "admin"]), "{schemas}");
}

/// Regression: a known path asked with another method answered 405 with an empty body.
#[test]
fn a_method_a_path_does_not_take_is_a_json_405() {
    let app = spawn_app();
    let answer = app.delete("/api/v1/changes", Some(&app.admin.token));
    assert_eq!(answer.status, 405, "{:?}", answer.body);
    assert_eq!(answer.code(), "method_not_allowed");
    assert!(answer.body["error"]["message"].as_str().unwrap().contains("DELETE"), "{:?}", answer.body);
}

#[test]
fn the_api_works_the_same_on_postgres() {
    let Some(app) = TestApp::builder().postgres().try_spawn() else {
        return;
    };
    let created = app.api_create_change(&app.alice.token, "On PostgreSQL");
    assert_eq!(created.status, 201);
    assert_eq!(app.api_act(&app.alice.token, "CHG-000001", "submit").body["state"], "assessed");
    assert_eq!(app.api_act(&app.bob.token, "CHG-000001", "approve").body["state"], "approved");
    let before = app.event_count();
    assert_eq!(app.api_act(&app.alice.token, "CHG-000001", "close").status, 409);
    assert_eq!(app.event_count(), before);
}

#[test]
fn oversized_bodies_get_413_in_the_error_shape_everywhere() {
    let app = spawn_app();
    app.api_create_change(&app.alice.token, "x");
    let before = app.event_count();
    let huge = json!({"comment": "y".repeat(300 * 1024)}).to_string();
    for path in
        ["/api/v1/changes/CHG-000001/actions/submit", "/api/v1/services", "/api/v1/incidents/INC-000001/resolve"]
    {
        let answer = app.post_raw(path, Some(&app.admin.token), Some("application/json"), huge.as_bytes(), None);
        assert_eq!((answer.status, answer.code()), (413, "payload_too_large"), "{path}");
    }
    // A change with three long non-ASCII texts fits (the service allows 20,000 characters each).
    let mut long = change_body("Long texts");
    for field in ["description", "implementation_plan", "rollback_plan"] {
        long[field] = json!("é".repeat(19_000));
    }
    assert_eq!(app.post("/api/v1/changes", &app.alice.token, long).status, 201);
    assert_eq!(app.event_count(), before + 1);
}

fn hash(text: &Value) -> [u8; 32] {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text.as_str().unwrap()).unwrap().try_into().unwrap()
}

#[test]
fn the_ledger_api_serves_checkpoints_entries_and_proofs_that_verify() {
    let app = TestApp::builder().user("audrey", &["auditor"]).signed_checkpoints().spawn();
    app.api_create_change(&app.alice.token, "Ledgered");
    app.api_act(&app.alice.token, "CHG-000001", "submit");
    assert_eq!(app.get("/api/v1/ledger/checkpoint", Some(&app.alice.token)).status, 404, "none signed yet");
    let signed = app.post("/api/v1/ledger/checkpoint", &app.admin.token, json!({}));
    assert_eq!(signed.status, 200, "{}", signed.body);
    let size = signed.body["size"].as_u64().unwrap();
    let Answer { status, text: note, .. } = app.get("/api/v1/ledger/checkpoint", Some(&app.alice.token));
    assert_eq!(status, 200);
    let public_key = app.get("/api/v1/ledger/public-key", Some(&app.alice.token)).text;
    let verifier = changegate_ledger::NoteVerifier::from_verifier_key(public_key.trim()).unwrap();
    let checkpoint = changegate_ledger::open_checkpoint(&note, &verifier).unwrap();
    assert_eq!(checkpoint.size, size);

    let entries = app.get(&format!("/api/v1/ledger/entries?start=0&end={size}"), Some(&app.alice.token));
    assert_eq!(entries.body.as_array().unwrap().len() as u64, size);
    let leaf = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(entries.body[2]["leaf"].as_str().unwrap()).unwrap()
    };
    let proof = app.get(&format!("/api/v1/ledger/proof/inclusion?index=2&tree_size={size}"), Some(&app.alice.token));
    assert_eq!(proof.status, 200, "{}", proof.body);
    let hashes: Vec<[u8; 32]> = proof.body["hashes"].as_array().unwrap().iter().map(hash).collect();
    changegate_ledger::verify_inclusion(&changegate_ledger::leaf_hash(&leaf), 2, size, &hashes, &checkpoint.root)
        .unwrap();

    let consistency = app.get(&format!("/api/v1/ledger/proof/consistency?from=3&to={size}"), Some(&app.alice.token));
    assert_eq!(consistency.status, 200, "{}", consistency.body);
    let hashes: Vec<[u8; 32]> = consistency.body["hashes"].as_array().unwrap().iter().map(hash).collect();
    let from_root = hash(&consistency.body["from_root"]);
    changegate_ledger::verify_consistency(3, size, &hashes, &from_root, &checkpoint.root).unwrap();

    let change_proof = app.get("/api/v1/changes/CHG-000001/proof", Some(&app.user("audrey").token));
    assert_eq!(change_proof.status, 200);
    assert_eq!(change_proof.body["proofs"].as_array().unwrap().len(), 3, "created, submitted, assessed");

    assert_eq!(
        app.get(&format!("/api/v1/ledger/entries?start=0&end={}", size + 5), Some(&app.alice.token)).status,
        422
    );
    assert_eq!(
        app.get(&format!("/api/v1/ledger/proof/inclusion?index={size}&tree_size={size}"), Some(&app.alice.token))
            .status,
        422
    );
    assert_eq!(app.get("/api/v1/ledger/proof/inclusion?index=1", Some(&app.alice.token)).code(), "invalid_query");

    let before = app.event_count();
    let refused = app.post("/api/v1/ledger/verify", &app.alice.token, json!({}));
    assert_eq!((refused.status, refused.code()), (403, "forbidden"));
    let denial = app.get(&format!("/api/v1/events?after={before}"), Some(&app.admin.token));
    assert_eq!(denial.body["items"][0]["type"], "access_denied", "the refusal is recorded");
    let verified = app.post("/api/v1/ledger/verify", &app.user("audrey").token, json!({}));
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(verified.body["ok"], true);
    let status = app.get("/api/v1/ledger/status", Some(&app.alice.token));
    assert_eq!(status.body["last_verification"]["ok"], true);
    assert!(status.body["verifier_key"].as_str().unwrap().starts_with("changegate-apitest+"));
}
