//! The index answers exactly what the reference implementation (plain loops over all facts)
//! answers, for random histories built by upserts that replace facts, and random queries.

use changegate_core::{ChangeType, RiskClass, Severity};
use changegate_metrics::{
    ChangeFact, ChangeOutcome, DAY_MS, HOUR_MS, IncidentFact, MetricsConfig, MetricsIndex, MetricsQuery, NameId,
    WEEK_MS, reference,
};
use proptest::prelude::*;

/// Monday 2025-01-06T00:00:00Z.
const BASE_MS: i64 = 1_736_121_600_000;
const SERVICES: [&str; 3] = ["alpha", "beta", "gamma"];
const TEAMS: [&str; 2] = ["red", "blue"];
const ENVIRONMENTS: [&str; 3] = ["production", "prod", "staging"];

#[derive(Clone, Debug)]
struct ChangeSpec {
    number: u64,
    service: usize,
    team: usize,
    environment: usize,
    change_type: ChangeType,
    outcome: ChangeOutcome,
    completed_hours: Option<i64>,
    completed_jitter_ms: i64,
    created_before_hours: i64,
    submitted_after_hours: Option<i64>,
    approved_after_hours: Option<i64>,
    first_commit_before_hours: Option<i64>,
    risk_score: Option<u8>,
    risk_class: Option<RiskClass>,
}

#[derive(Clone, Debug)]
struct IncidentSpec {
    number: u64,
    severity: Severity,
    detected_hours: i64,
    resolved_after_hours: Option<i64>,
    downtime_minutes: Option<u32>,
    counted_cause: Option<u64>,
}

#[derive(Clone, Debug)]
enum Operation {
    Change(ChangeSpec),
    Incident(IncidentSpec),
}

fn change_type() -> impl Strategy<Value = ChangeType> {
    prop_oneof![Just(ChangeType::Standard), Just(ChangeType::Normal), Just(ChangeType::Emergency)]
}

fn outcome() -> impl Strategy<Value = ChangeOutcome> {
    prop_oneof![
        4 => Just(ChangeOutcome::Success),
        2 => Just(ChangeOutcome::Failed),
        1 => Just(ChangeOutcome::RolledBack),
        1 => Just(ChangeOutcome::Cancelled),
        1 => Just(ChangeOutcome::Rejected),
        1 => Just(ChangeOutcome::Open),
    ]
}

fn change_spec() -> impl Strategy<Value = ChangeSpec> {
    (
        (1u64..=24, 0..SERVICES.len(), 0..TEAMS.len(), 0..ENVIRONMENTS.len(), change_type(), outcome()),
        (
            prop::option::weighted(0.9, 0i64..(8 * 7 * 24)),
            prop_oneof![Just(0i64), Just(1), Just(30 * 60 * 1000), 0i64..HOUR_MS],
            0i64..300,
            prop::option::of(0i64..50),
            prop::option::of(0i64..80),
            prop::option::of(0i64..400),
            prop::option::of(0u8..=100),
            prop::option::of(prop_oneof![Just(RiskClass::Low), Just(RiskClass::High)]),
        ),
    )
        .prop_map(
            |(
                (number, service, team, environment, change_type, outcome),
                (
                    completed_hours,
                    completed_jitter_ms,
                    created_before_hours,
                    submitted_after_hours,
                    approved_after_hours,
                    first_commit_before_hours,
                    risk_score,
                    risk_class,
                ),
            )| ChangeSpec {
                number,
                service,
                team,
                environment,
                change_type,
                outcome,
                completed_hours,
                completed_jitter_ms,
                created_before_hours,
                submitted_after_hours,
                approved_after_hours,
                first_commit_before_hours,
                risk_score,
                risk_class,
            },
        )
}

fn incident_spec() -> impl Strategy<Value = IncidentSpec> {
    (
        1u64..=10,
        prop_oneof![Just(Severity::Sev1), Just(Severity::Sev2), Just(Severity::Sev4)],
        0i64..(8 * 7 * 24),
        prop::option::weighted(0.8, 0i64..100),
        prop::option::of(0u32..500),
        prop::option::weighted(0.75, 1u64..=26),
    )
        .prop_map(|(number, severity, detected_hours, resolved_after_hours, downtime_minutes, counted_cause)| {
            IncidentSpec { number, severity, detected_hours, resolved_after_hours, downtime_minutes, counted_cause }
        })
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![3 => change_spec().prop_map(Operation::Change), 1 => incident_spec().prop_map(Operation::Incident)]
}

fn bound() -> impl Strategy<Value = Option<i64>> {
    prop::option::weighted(
        0.6,
        prop_oneof![
            (-2i64..10).prop_map(|week| BASE_MS + week * WEEK_MS),
            (-10i64..70).prop_map(|day| BASE_MS + day * DAY_MS),
            (-(10 * DAY_MS)..(70 * DAY_MS)).prop_map(|offset| BASE_MS + offset),
        ],
    )
}

fn name_filter(choices: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.4,
        prop_oneof![9 => prop::sample::select(choices).prop_map(str::to_owned), 1 => Just("unknown".to_owned())],
    )
}

fn query() -> impl Strategy<Value = MetricsQuery> {
    (bound(), bound(), name_filter(&SERVICES), name_filter(&TEAMS), name_filter(&ENVIRONMENTS)).prop_map(
        |(from_ms, to_ms, service, team, environment)| {
            let (from_ms, to_ms) = match (from_ms, to_ms) {
                (Some(from_ms), Some(to_ms)) if from_ms > to_ms => (Some(to_ms), Some(from_ms)),
                bounds => bounds,
            };
            MetricsQuery { from_ms, to_ms, service, team, environment }
        },
    )
}

struct Ids {
    services: Vec<NameId>,
    teams: Vec<NameId>,
    environments: Vec<NameId>,
}

fn change_fact(ids: &Ids, spec: &ChangeSpec) -> ChangeFact {
    let completed_at_ms = spec.completed_hours.map(|hours| BASE_MS + hours * HOUR_MS + spec.completed_jitter_ms);
    let anchor_ms = completed_at_ms.unwrap_or(BASE_MS + 30 * DAY_MS);
    let created_at_ms = (anchor_ms - spec.created_before_hours * HOUR_MS).max(0);
    let submitted_at_ms = spec.submitted_after_hours.map(|hours| created_at_ms + hours * HOUR_MS);
    let approved_at_ms = spec.approved_after_hours.map(|hours| created_at_ms + hours * HOUR_MS);
    ChangeFact {
        number: spec.number,
        service: ids.services[spec.service],
        team: ids.teams[spec.team],
        environment: ids.environments[spec.environment],
        change_type: spec.change_type,
        created_at_ms,
        submitted_at_ms,
        approved_at_ms,
        started_at_ms: None,
        completed_at_ms,
        outcome: spec.outcome,
        first_commit_at_ms: spec.first_commit_before_hours.map(|hours| created_at_ms - hours * HOUR_MS),
        risk_score: spec.risk_score,
        risk_class: spec.risk_class,
    }
}

fn incident_fact(ids: &Ids, spec: &IncidentSpec) -> IncidentFact {
    let detected_at_ms = BASE_MS + spec.detected_hours * HOUR_MS;
    IncidentFact {
        number: spec.number,
        service: ids.services[0],
        severity: spec.severity,
        detected_at_ms,
        resolved_at_ms: spec.resolved_after_hours.map(|hours| detected_at_ms + hours * HOUR_MS),
        downtime_minutes: spec.downtime_minutes,
        counted_cause: spec.counted_cause,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_index_answers_what_the_reference_answers(
        operations in prop::collection::vec(operation(), 0..70),
        queries in prop::collection::vec(query(), 1..6),
    ) {
        // Given an index fed by upserts (numbers repeat, so facts are replaced, including a
        // deployment turning back into a non-deployment and incidents changing their cause).
        let mut index = MetricsIndex::new(MetricsConfig::default()).unwrap();
        let intern_all = |index: &mut MetricsIndex, names: &[&str]| -> Vec<NameId> {
            names.iter().map(|name| index.intern(name).unwrap()).collect()
        };
        let ids = Ids {
            services: intern_all(&mut index, &SERVICES),
            teams: intern_all(&mut index, &TEAMS),
            environments: intern_all(&mut index, &ENVIRONMENTS),
        };
        let mut changes = Vec::new();
        let mut incidents = Vec::new();
        for operation in &operations {
            match operation {
                Operation::Change(spec) => {
                    let fact = change_fact(&ids, spec);
                    index.upsert_change(&fact).unwrap();
                    changes.push(fact);
                }
                Operation::Incident(spec) => {
                    let fact = incident_fact(&ids, spec);
                    index.upsert_incident(&fact).unwrap();
                    incidents.push(fact);
                }
            }
        }
        // When each query is answered by both.
        for query in &queries {
            let expected = reference::report(index.config(), index.names(), &changes, &incidents, query);
            let actual = index.query(query);
            // Then the reports are identical, to the last rounded digit.
            prop_assert_eq!(actual, expected, "query {:?}", query);
        }
    }
}
