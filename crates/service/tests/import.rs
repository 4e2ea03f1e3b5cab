//! History import through the service, on every backend: every column reaches the record, every
//! kind of bad row is reported with its line, column and reason and writes nothing, `skip_bad`
//! imports the good rows, re-importing creates nothing twice, the projections stay the fold of
//! the events and the ledger grows by exactly the events, and only admins may import.

use std::sync::Arc;

use changegate_core::{
    ApprovalMode, ChangeId, ChangeRecord, ChangeState, ChangeType, CreatedBy, ImportedChange, ImportedOutcome,
    LinkProvenance, ManualClock, Name, RiskClass, Severity, Timestamp,
};
use changegate_service::import::{IMPORTED_SERVICE_TIER, ProblemKind, RowProblem};
use changegate_service::{
    Caller, ImportInput, ImportOptions, ImportProgress, ImportReport, NewService, NewUser, Service, ServiceError,
};
use changegate_store::Store;
use changegate_store::testing::{TestStore, every_backend, sqlite_store};

const START: Timestamp = Timestamp::from_unix_ms(1_790_000_000_000);

const FULL_HEADER: &str = "id,title,type,service,team,environment,requester,created_at,submitted_at,risk_class,\
risk_score,approved_at,approvers,approval_mode,started_at,completed_at,outcome,rollback_plan,test_evidence,\
security_evidence,created_by,pir_done,root_cause,rollback_automated,commit_time";

const MINIMAL_HEADER: &str = "id,title,type,service,team,environment,requester,created_at";

struct World {
    service: Service,
    /// The store under the service, for checks the service does not offer.
    store: Store,
    admin: Caller,
    rita: Caller,
}

async fn world(test_store: &TestStore) -> World {
    let clock = Arc::new(ManualClock::new(START));
    let service = Service::new(test_store.store.clone(), clock);
    let admin = service.bootstrap_admin("admin").await.unwrap().caller();
    let rita = NewUser { name: "rita".into(), roles: vec!["requester".into()], team: None };
    let rita = service.add_user_locally(&rita).await.unwrap().caller();
    let checkout = NewService { name: "checkout".into(), team: "shop".into(), tier: 1, ..NewService::default() };
    service.register_service(&admin, checkout, None).await.unwrap();
    World { service, store: test_store.store.clone(), admin, rita }
}

fn time(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

impl World {
    fn store(&self) -> &Store {
        &self.store
    }

    async fn import(
        &self,
        changes: Option<&str>,
        incidents: Option<&str>,
        options: &ImportOptions,
    ) -> Result<ImportReport, ServiceError> {
        let input =
            ImportInput { changes_csv: changes.map(str::as_bytes), incidents_csv: incidents.map(str::as_bytes) };
        self.service.import_history(&self.admin, input, options, &mut |_: ImportProgress| {}).await
    }

    /// Imports and expects a refusal; returns its report.
    async fn rejected(&self, changes: Option<&str>, incidents: Option<&str>, options: &ImportOptions) -> ImportReport {
        match self.import(changes, incidents, options).await {
            Err(ServiceError::BadRows(report)) => *report,
            other => panic!("expected bad rows, got {other:?}"),
        }
    }
}

/// A row with every column of changes.csv, and the change it describes.
fn full_row() -> (String, ImportedChange) {
    let row = "SNOW-CHG-1,Rotate TLS certificates,Normal,Payments-API,Payments,production,Maria.Garcia,\
2025-03-01T09:00:00Z,2025-03-01T09:30:00Z,High,64,2025-03-02T10:00:00+01:00,bob; carol ;bob,manual,\
2025-03-02T12:00:00Z,2025-03-02T12:45:30.250Z,rolled_back,yes,no,yes,pipeline,yes,\"Expired intermediate, \"\"cert\"\"\",yes,\
2025-02-28T17:00:00Z";
    let change = ImportedChange {
        external_id: "SNOW-CHG-1".into(),
        title: "Rotate TLS certificates".into(),
        change_type: ChangeType::Normal,
        service: name("payments-api"),
        team: name("payments"),
        environment: name("production"),
        requester: name("maria.garcia"),
        created_at: time("2025-03-01T09:00:00Z"),
        submitted_at: Some(time("2025-03-01T09:30:00Z")),
        risk_class: Some(RiskClass::High),
        risk_score: Some(64),
        approved_at: Some(time("2025-03-02T09:00:00Z")),
        approvers: vec![name("bob"), name("carol")],
        approval_mode: Some(ApprovalMode::Manual),
        started_at: Some(time("2025-03-02T12:00:00Z")),
        completed_at: Some(time("2025-03-02T12:45:30.250Z")),
        outcome: Some(ImportedOutcome::RolledBack),
        rollback_plan: Some(true),
        test_evidence: Some(false),
        security_evidence: Some(true),
        created_by: Some(CreatedBy::Pipeline),
        pir_done: Some(true),
        root_cause: Some("Expired intermediate, \"cert\"".into()),
        rollback_automated: Some(true),
        commit_time: Some(time("2025-02-28T17:00:00Z")),
    };
    (row.to_owned(), change)
}

/// `count` good minimal rows with ids `{prefix}-0…`, on `service` owned by `team`.
fn minimal_rows(prefix: &str, count: usize, service: &str, team: &str) -> String {
    let mut text = format!("{MINIMAL_HEADER}\n");
    for number in 0..count {
        text.push_str(&format!(
            "{prefix}-{number},Change {number},standard,{service},{team},production,alice,2025-01-0{}T10:00:00Z\n",
            number % 9 + 1
        ));
    }
    text
}

#[tokio::test]
async fn every_column_reaches_the_record_and_the_ledger_grows_by_exactly_the_events() {
    for test_store in every_backend().await {
        // Given an empty history and a file with every column, plus an incident it caused
        let world = world(&test_store).await;
        let (row, expected) = full_row();
        let changes = format!("{FULL_HEADER}\n{row}\n");
        let incidents = "id,service,severity,detected_at,resolved_at,downtime_minutes,caused_by\n\
PD-1,payments-api,2,2025-03-02T13:00:00Z,2025-03-02T14:30:00Z,90,SNOW-CHG-1\n\
PD-2,checkout,sev4,2025-03-05T08:00:00Z,,,\n";
        let events_before = world.store().event_count().await.unwrap();

        // When it is imported
        let report = world.import(Some(&changes), Some(incidents), &ImportOptions::default()).await.unwrap();

        // Then the change record is exactly the import of the row, at the original times
        assert_eq!((report.changes_created, report.incidents_created, report.bad_rows), (1, 2, 0));
        let record = world.store().change_by_external_id("SNOW-CHG-1").await.unwrap().unwrap();
        assert_eq!(record, ChangeRecord::imported(record.id, &expected, START));
        assert!(record.imported);
        assert_eq!(record.state, ChangeState::RolledBack);
        assert_eq!(record.created_at, time("2025-03-01T09:00:00Z"));
        assert_eq!(
            record.approvals.iter().map(|approval| approval.approver.as_str()).collect::<Vec<_>>(),
            ["bob", "carol"]
        );
        assert_eq!(record.review.as_ref().unwrap().root_cause.as_deref(), Some("Expired intermediate, \"cert\""));
        assert_eq!(record.created_by, CreatedBy::Pipeline);
        assert!(record.rollback_automated && record.rollback_plan.is_some() && record.test_evidence.is_none());
        assert_eq!(record.commit_time, Some(time("2025-02-28T17:00:00Z")));
        // And the unknown team and service were created, the service at tier 3
        assert_eq!(report.new_teams, vec![name("payments")]);
        assert_eq!(report.new_services, vec![name("payments-api")]);
        let service = world.store().service(&name("payments-api")).await.unwrap().unwrap();
        assert_eq!((service.team.as_str(), service.tier.value()), ("payments", IMPORTED_SERVICE_TIER));
        // And the incidents carry their fields, the first linked explicitly to the new change
        let caused = world.store().incident_by_external_id("PD-1").await.unwrap().unwrap();
        assert_eq!(caused.caused_by, Some(record.id));
        assert_eq!(caused.provenance, Some(LinkProvenance::Explicit));
        assert_eq!((caused.severity, caused.downtime_minutes), (Severity::Sev2, Some(90)));
        assert_eq!(caused.detected_at, time("2025-03-02T13:00:00Z"));
        assert_eq!(caused.resolved_at, Some(time("2025-03-02T14:30:00Z")));
        assert!(caused.imported && caused.external_id.as_deref() == Some("PD-1"));
        let unlinked = world.store().incident_by_external_id("PD-2").await.unwrap().unwrap();
        assert_eq!((unlinked.caused_by, unlinked.resolved_at, unlinked.severity), (None, None, Severity::Sev4));
        // And the ledger grew by exactly the events: a team, a service, a change, two incidents
        assert_eq!(report.events_appended, 5);
        assert_eq!(world.store().event_count().await.unwrap(), events_before + 5);
        assert_eq!(world.store().verify_projections().await.unwrap(), Vec::<String>::new());
    }
}

#[tokio::test]
async fn unknown_values_stay_unknown() {
    let test_store = sqlite_store().await.unwrap();
    // Given a row with only the required values (the optional columns present but empty)
    let world = world(&test_store).await;
    let row = "X-1,Patch,emergency,checkout,shop,staging,alice,2025-01-02T10:00:00Z,,,,,,,,,,,,,,,,,";
    // When it is imported
    let report = world.import(Some(&format!("{FULL_HEADER}\n{row}\n")), None, &ImportOptions::default()).await.unwrap();
    // Then nothing is invented: a draft, no assessment, no approvals, no evidence; and the
    // existing service and team are kept
    assert_eq!((report.changes_created, report.teams_created, report.services_created), (1, 0, 0));
    let record = world.store().change_by_external_id("X-1").await.unwrap().unwrap();
    assert_eq!(record.state, ChangeState::Draft);
    assert!(record.assessment.is_none() && record.approvals.is_empty() && record.review.is_none());
    assert!(record.test_evidence.is_none() && record.rollback_plan.is_none() && record.commit_time.is_none());
    assert_eq!(record.created_by, CreatedBy::Manual);
    assert_eq!(record.deployed_at(), None);
}

/// One bad-row case: the files, and the problem expected (file line, column, kind).
struct Case {
    what: &'static str,
    changes: String,
    incidents: Option<String>,
    line: u64,
    column: Option<&'static str>,
    kind: ProblemKind,
}

fn change_case(what: &'static str, header: &str, row: &str, column: &'static str, kind: ProblemKind) -> Case {
    let good = "OK-1,Fine,normal,checkout,shop,production,alice,2025-01-02T10:00:00Z";
    let good = if header == MINIMAL_HEADER { good.to_owned() } else { format!("{good}{}", ",".repeat(17)) };
    Case { what, changes: format!("{header}\n{good}\n{row}\n"), incidents: None, line: 3, column: Some(column), kind }
}

fn full(values: &[(&str, &str)]) -> String {
    // The full row with some cells replaced.
    let (row, _) = full_row();
    let mut cells: Vec<String> = csv_cells(&row);
    let header: Vec<&str> = FULL_HEADER.split(',').collect();
    for (column, value) in values {
        let position = header.iter().position(|name| name == column).unwrap();
        cells[position] = (*value).to_owned();
    }
    cells
        .iter()
        .map(
            |cell| {
                if cell.contains([',', '"', '\n']) {
                    format!("\"{}\"", cell.replace('"', "\"\""))
                } else {
                    cell.clone()
                }
            },
        )
        .collect::<Vec<_>>()
        .join(",")
}

fn csv_cells(row: &str) -> Vec<String> {
    let mut reader = csv_reader(row);
    let record = reader.records().next().unwrap().unwrap();
    record.iter().map(str::to_owned).collect()
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes())
}

fn cases() -> Vec<Case> {
    use ProblemKind::*;
    let long_title = "t".repeat(201);
    let incidents_header = "id,service,severity,detected_at,resolved_at,downtime_minutes,caused_by";
    let incident_case = |what: &'static str, row: &str, column: Option<&'static str>, kind: ProblemKind| Case {
        what,
        changes: minimal_rows("C", 1, "checkout", "shop"),
        incidents: Some(format!("{incidents_header}\nP-0,checkout,1,2025-01-03T10:00:00Z,,,C-0\n{row}\n")),
        line: 3,
        column,
        kind,
    };
    vec![
        change_case("bad time", FULL_HEADER, &full(&[("started_at", "2025-03-02 12:00")]), "started_at", BadTime),
        change_case("bad type", FULL_HEADER, &full(&[("type", "major")]), "type", BadValue),
        change_case("bad outcome", FULL_HEADER, &full(&[("outcome", "ok")]), "outcome", BadValue),
        change_case("bad flag", FULL_HEADER, &full(&[("test_evidence", "maybe")]), "test_evidence", BadValue),
        change_case("bad approval mode", FULL_HEADER, &full(&[("approval_mode", "cab")]), "approval_mode", BadValue),
        change_case("bad created_by", FULL_HEADER, &full(&[("created_by", "robot")]), "created_by", BadValue),
        change_case("bad risk class", FULL_HEADER, &full(&[("risk_class", "severe")]), "risk_class", BadValue),
        change_case("bad number", FULL_HEADER, &full(&[("risk_score", "high")]), "risk_score", BadNumber),
        change_case("score out of range", FULL_HEADER, &full(&[("risk_score", "101")]), "risk_score", OutOfRange),
        change_case("negative score", FULL_HEADER, &full(&[("risk_score", "-1")]), "risk_score", OutOfRange),
        change_case("missing value", FULL_HEADER, &full(&[("requester", "")]), "requester", MissingValue),
        change_case("bad name", FULL_HEADER, &full(&[("service", "Payments API")]), "service", BadName),
        change_case("bad approver", FULL_HEADER, &full(&[("approvers", "bob;Carol Smith")]), "approvers", BadName),
        change_case("long name", FULL_HEADER, &full(&[("team", &"t".repeat(65))]), "team", TooLong),
        change_case("long title", FULL_HEADER, &full(&[("title", &long_title)]), "title", TooLong),
        change_case("long id", FULL_HEADER, &full(&[("id", &"i".repeat(129))]), "id", TooLong),
        change_case("control character", FULL_HEADER, &full(&[("title", "bell\u{7}")]), "title", BadText),
        change_case(
            "submitted before created",
            FULL_HEADER,
            &full(&[("submitted_at", "2025-02-01T00:00:00Z")]),
            "submitted_at",
            Inconsistent,
        ),
        change_case(
            "completed before started",
            FULL_HEADER,
            &full(&[("completed_at", "2025-03-02T11:00:00Z")]),
            "completed_at",
            Inconsistent,
        ),
        change_case(
            "started before approval",
            FULL_HEADER,
            &full(&[("started_at", "2025-03-02T08:00:00Z")]),
            "started_at",
            Inconsistent,
        ),
        change_case(
            "success without completion",
            FULL_HEADER,
            &full(&[("outcome", "success"), ("completed_at", ""), ("rollback_automated", "")]),
            "completed_at",
            Inconsistent,
        ),
        change_case(
            "approvers with no approval",
            FULL_HEADER,
            &full(&[("approval_mode", "none"), ("approved_at", "")]),
            "approval_mode",
            Inconsistent,
        ),
        change_case(
            "automated rollback of a success",
            FULL_HEADER,
            &full(&[("outcome", "success")]),
            "rollback_automated",
            Inconsistent,
        ),
        change_case(
            "duplicate id",
            MINIMAL_HEADER,
            "OK-1,Again,normal,checkout,shop,production,alice,2025-01-02T10:00:00Z",
            "id",
            DuplicateId,
        ),
        Case {
            what: "wrong column count",
            changes: format!("{MINIMAL_HEADER}\nA-1,t,normal,checkout,shop,production,alice\n"),
            incidents: None,
            line: 2,
            column: None,
            kind: WrongColumnCount,
        },
        Case {
            what: "unknown column",
            changes: format!("{MINIMAL_HEADER},priority\nA-1,t,normal,checkout,shop,production,alice,2025-01-02T10:00:00Z,P2\n"),
            incidents: None,
            line: 1,
            column: Some("priority"),
            kind: UnknownColumn,
        },
        Case {
            what: "missing column",
            changes: "id,title,type,service,team,environment,created_at\nA-1,t,normal,checkout,shop,production,2025-01-02T10:00:00Z\n".into(),
            incidents: None,
            line: 1,
            column: Some("requester"),
            kind: MissingColumn,
        },
        Case {
            what: "empty file",
            changes: String::new(),
            incidents: None,
            line: 1,
            column: None,
            kind: EmptyFile,
        },
        incident_case("severity out of range", "P-1,checkout,5,2025-01-03T10:00:00Z,,,", Some("severity"), OutOfRange),
        incident_case("severity not a number", "P-1,checkout,major,2025-01-03T10:00:00Z,,,", Some("severity"), BadNumber),
        incident_case("missing detection", "P-1,checkout,2,,,,", Some("detected_at"), MissingValue),
        incident_case(
            "resolved before detected",
            "P-1,checkout,2,2025-01-03T10:00:00Z,2025-01-03T09:00:00Z,,",
            Some("resolved_at"),
            Inconsistent,
        ),
        incident_case("downtime not a number", "P-1,checkout,2,2025-01-03T10:00:00Z,,1.5,", Some("downtime_minutes"), BadNumber),
        incident_case("negative downtime", "P-1,checkout,2,2025-01-03T10:00:00Z,,-3,", Some("downtime_minutes"), OutOfRange),
        incident_case("unknown caused_by", "P-1,checkout,2,2025-01-03T10:00:00Z,,,NOPE-9", Some("caused_by"), UnknownReference),
        incident_case(
            "unknown Changegate id",
            "P-1,checkout,2,2025-01-03T10:00:00Z,,,CHG-000999",
            Some("caused_by"),
            UnknownReference,
        ),
        incident_case("unknown service", "P-1,nowhere,2,2025-01-03T10:00:00Z,,,", Some("service"), UnknownReference),
        incident_case("duplicate incident", "P-0,checkout,2,2025-01-03T10:00:00Z,,,", Some("id"), DuplicateId),
        incident_case("incident column count", "P-1,checkout,2", None, WrongColumnCount),
    ]
}

#[tokio::test]
async fn each_bad_row_gives_its_line_column_and_reason_and_writes_nothing() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let events_before = world.store().event_count().await.unwrap();
        for case in cases() {
            // Given a file with one bad row (after a good one)
            // When it is imported without skip_bad
            let report =
                world.rejected(Some(&case.changes), case.incidents.as_deref(), &ImportOptions::default()).await;
            // Then the problem is reported with its line, column and kind, and nothing is written
            let found = report.problems.iter().find(|problem: &&RowProblem| problem.kind == case.kind);
            let problem =
                found.unwrap_or_else(|| panic!("{}: expected {:?}, got {:?}", case.what, case.kind, report.problems));
            assert_eq!(problem.line, case.line, "{}: {problem}", case.what);
            assert_eq!(problem.column.as_deref(), case.column, "{}: {problem}", case.what);
            assert!(!problem.reason.is_empty() && report.rejected, "{}", case.what);
            assert_eq!((report.changes_created, report.incidents_created, report.events_appended), (0, 0, 0));
            assert_eq!(world.store().event_count().await.unwrap(), events_before, "{} wrote something", case.what);
        }
        assert!(world.store().change_by_external_id("OK-1").await.unwrap().is_none());
        assert!(world.store().all_incidents().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn the_refusal_names_the_problem_for_people() {
    let test_store = sqlite_store().await.unwrap();
    let world = world(&test_store).await;
    let changes = format!("{MINIMAL_HEADER}\nA-1,t,normal,checkout,shop,production,alice,soon\n");
    let error = world.import(Some(&changes), None, &ImportOptions::default()).await.unwrap_err();
    assert_eq!(error.code(), "bad_rows");
    let message = error.to_string();
    assert!(
        message.contains("1 bad row (first: changes.csv line 2, column created_at: `soon` is not an RFC 3339 time"),
        "{message}"
    );
    assert!(message.contains("--skip-bad"), "{message}");
}

#[tokio::test]
async fn skip_bad_imports_the_good_rows_and_reports_the_bad_ones() {
    for test_store in every_backend().await {
        // Given three good changes and two bad ones, and incidents caused by a good and a bad one
        let world = world(&test_store).await;
        let mut changes = minimal_rows("G", 3, "search", "discovery");
        changes.push_str("B-1,t,normal,search,discovery,production,alice,not-a-time\n");
        changes.push_str("B-2,t,weird,search,discovery,production,alice,2025-01-02T10:00:00Z\n");
        let incidents = "id,service,severity,detected_at,caused_by\nP-1,search,3,2025-01-05T00:00:00Z,G-1\nP-2,search,3,2025-01-05T00:00:00Z,B-2\n";
        let options = ImportOptions { skip_bad: true, ..ImportOptions::default() };

        // When imported with skip_bad
        let report = world.import(Some(&changes), Some(incidents), &options).await.unwrap();

        // Then the good rows are in, the bad ones (and the incident of a bad change) are reported
        assert!(!report.rejected);
        assert_eq!((report.changes_created, report.incidents_created), (3, 1));
        assert_eq!(report.bad_rows, 3);
        let lines: Vec<(String, u64)> =
            report.problems.iter().map(|problem| (problem.file.to_string(), problem.line)).collect();
        assert_eq!(
            lines,
            [("changes.csv".to_owned(), 5), ("changes.csv".to_owned(), 6), ("incidents.csv".to_owned(), 3)]
        );
        assert!(report.problems[2].reason.contains("line 6 of changes.csv"), "{}", report.problems[2].reason);
        assert!(world.store().change_by_external_id("B-1").await.unwrap().is_none());
        let linked = world.store().incident_by_external_id("P-1").await.unwrap().unwrap();
        let g1 = world.store().change_by_external_id("G-1").await.unwrap().unwrap();
        assert_eq!(linked.caused_by, Some(g1.id));
        assert_eq!(world.store().verify_projections().await.unwrap(), Vec::<String>::new());
    }
}

#[tokio::test]
async fn a_bad_header_stops_the_import_even_with_skip_bad() {
    let test_store = sqlite_store().await.unwrap();
    let world = world(&test_store).await;
    let changes =
        format!("{MINIMAL_HEADER},colour\nA-1,t,normal,checkout,shop,production,alice,2025-01-02T10:00:00Z,red\n");
    let options = ImportOptions { skip_bad: true, ..ImportOptions::default() };
    let report = world.rejected(Some(&changes), None, &options).await;
    assert_eq!(report.problems[0].kind, ProblemKind::UnknownColumn);
    assert!(report.problems[0].reason.contains("unknown column `colour`"), "{}", report.problems[0].reason);
    assert!(world.store().change_by_external_id("A-1").await.unwrap().is_none());
}

#[tokio::test]
async fn re_importing_creates_nothing_twice() {
    for test_store in every_backend().await {
        // Given a history imported once, in several transactions
        let world = world(&test_store).await;
        let changes = minimal_rows("R", 7, "billing", "finance");
        let incidents = "id,service,severity,detected_at,caused_by\nP-1,billing,1,2025-01-05T00:00:00Z,R-3\n";
        let options = ImportOptions { rows_per_transaction: 3, ..ImportOptions::default() };
        let first = world.import(Some(&changes), Some(incidents), &options).await.unwrap();
        assert_eq!((first.changes_created, first.incidents_created, first.transactions), (7, 1, 4));
        let events_after_first = world.store().event_count().await.unwrap();

        // When the same files are imported again
        let second = world.import(Some(&changes), Some(incidents), &options).await.unwrap();

        // Then nothing new is written
        assert_eq!((second.changes_created, second.incidents_created, second.skipped_existing), (0, 0, 8));
        assert_eq!((second.teams_created, second.services_created, second.events_appended), (0, 0, 0));
        assert_eq!(world.store().event_count().await.unwrap(), events_after_first);

        // And a later file with one new change and incidents naming earlier imports by their
        // source id and by their Changegate id adds just those
        let r0 = world.store().change_by_external_id("R-0").await.unwrap().unwrap();
        let mut more = changes.clone();
        more.push_str("R-99,Late,normal,billing,finance,production,alice,2025-02-01T10:00:00Z\n");
        let incidents = format!(
            "id,service,severity,detected_at,caused_by\nP-1,billing,1,2025-01-05T00:00:00Z,R-3\nP-2,billing,2,2025-01-06T00:00:00Z,R-5\nP-3,billing,2,2025-01-07T00:00:00Z,{}\n",
            r0.id
        );
        let third = world.import(Some(&more), Some(&incidents), &options).await.unwrap();
        assert_eq!((third.changes_created, third.incidents_created, third.skipped_existing), (1, 2, 8));
        let r5 = world.store().change_by_external_id("R-5").await.unwrap().unwrap();
        assert_eq!(world.store().incident_by_external_id("P-2").await.unwrap().unwrap().caused_by, Some(r5.id));
        assert_eq!(world.store().incident_by_external_id("P-3").await.unwrap().unwrap().caused_by, Some(r0.id));
        assert_eq!(world.store().all_changes().await.unwrap().len(), 8);
        assert_eq!(world.store().verify_projections().await.unwrap(), Vec::<String>::new());
    }
}

#[tokio::test]
async fn imported_changes_take_the_next_ids_after_live_ones_and_progress_is_reported() {
    let test_store = sqlite_store().await.unwrap();
    let world = world(&test_store).await;
    let live = changegate_service::NewChange {
        title: "Live".into(),
        change_type: "normal".into(),
        service: "checkout".into(),
        environment: "production".into(),
        ..changegate_service::NewChange::default()
    };
    let live = world.service.create_change(&world.rita, live, None).await.unwrap().value;
    let mut seen: Vec<ImportProgress> = Vec::new();
    let rows = minimal_rows("N", 5, "checkout", "shop");
    let input = ImportInput { changes_csv: Some(rows.as_bytes()), incidents_csv: None };
    let options = ImportOptions { rows_per_transaction: 2, ..ImportOptions::default() };
    let report =
        world.service.import_history(&world.admin, input, &options, &mut |progress| seen.push(progress)).await.unwrap();
    assert_eq!(report.changes_created, 5);
    let first = world.store().change_by_external_id("N-0").await.unwrap().unwrap();
    assert_eq!(first.id, ChangeId::new(live.id.number() + 1));
    let written: Vec<u64> = seen
        .iter()
        .filter(|progress| progress.phase == changegate_service::ImportPhase::Writing)
        .map(|progress| progress.rows_done)
        .collect();
    assert_eq!(written, [0, 2, 4, 5]);
    assert!(report.rows_per_second > 0.0);
}

#[tokio::test]
async fn only_admins_may_import_and_a_refusal_is_recorded() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let events_before = world.store().event_count().await.unwrap();
        let rows = minimal_rows("X", 2, "checkout", "shop");
        let input = ImportInput { changes_csv: Some(rows.as_bytes()), incidents_csv: None };
        let refused = world
            .service
            .import_history(&world.rita, input, &ImportOptions::default(), &mut |_: ImportProgress| {})
            .await;
        assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
        let events = world.store().events_after(events_before, 10).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].event_type.as_str(), events[0].actor.as_str()), ("access_denied", "rita"));
        assert!(world.store().change_by_external_id("X-0").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn an_import_from_the_command_line_acts_as_the_system() {
    let test_store = sqlite_store().await.unwrap();
    let world = world(&test_store).await;
    let rows = minimal_rows("L", 1, "checkout", "shop");
    let input = ImportInput { changes_csv: Some(rows.as_bytes()), incidents_csv: None };
    let report = world
        .service
        .import_history_locally(input, &ImportOptions::default(), &mut |_: ImportProgress| {})
        .await
        .unwrap();
    assert_eq!(report.changes_created, 1);
    let events = world.store().recent_events(1).await.unwrap();
    assert_eq!((events[0].event_type.as_str(), events[0].actor.as_str()), ("change_imported", "system"));
    let nothing =
        world.service.import_history_locally(ImportInput::default(), &ImportOptions::default(), &mut |_| {}).await;
    assert_eq!(nothing.unwrap_err().code(), "validation_failed");
}

#[test]
fn the_records_keep_what_the_mapping_in_the_docs_says() {
    // The mapping of docs/import.md, checked on the core's fold of one row.
    let (_, change) = full_row();
    let record = ChangeRecord::imported(ChangeId::new(1), &change, START);
    assert_eq!(record.outcome(), Some(changegate_core::ChangeOutcome::RolledBack));
    assert_eq!(record.assessment.as_ref().map(|assessment| assessment.risk_class), Some(RiskClass::High));
    assert_eq!(record.approved_at, Some(time("2025-03-02T09:00:00Z")));
    assert_eq!(record.deployed_at(), Some(time("2025-03-02T12:45:30.250Z")));
    assert_eq!(record.security_evidence.as_deref(), Some("imported: yes"));
}
