//! The demo organisation: teams, services (with tiers, compliance scopes and a dependency DAG)
//! and the people who work on them.
//!
//! The service catalogue is fixed, so every demo shows the same landscape; the people are drawn
//! from name pools by the seed.

use std::collections::BTreeSet;

use crate::dice::Dice;

/// What a service is, which decides the change templates that fit it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An API or worker written by a product team.
    App,
    /// A database, cache, stream or warehouse.
    Data,
    /// Shared infrastructure: clusters, gateways, DNS, CI.
    Infra,
    /// A mobile app shipped through the stores.
    Mobile,
    /// A web front end.
    Web,
}

/// One service of the catalogue.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ServiceSpec {
    pub team: &'static str,
    pub name: &'static str,
    pub tier: u8,
    pub kind: Kind,
    pub scopes: &'static [&'static str],
    /// Only services listed earlier in [`SERVICES`]: the dependencies form a DAG.
    pub depends_on: &'static [&'static str],
    /// How busy the service is, relative to the others.
    pub activity: f64,
}

/// The teams, in the order they appear.
pub(crate) const TEAMS: &[&str] = &["platform", "security", "data", "identity", "payments", "search", "web", "mobile"];

/// Short ticket keys per team, for links to the issue tracker.
pub(crate) fn ticket_key(team: &str) -> &'static str {
    match team {
        "platform" => "PLAT",
        "security" => "SEC",
        "data" => "DATA",
        "identity" => "IAM",
        "payments" => "PAY",
        "search" => "SRCH",
        "web" => "WEB",
        _ => "MOB",
    }
}

const fn service(
    team: &'static str,
    name: &'static str,
    tier: u8,
    kind: Kind,
    scopes: &'static [&'static str],
    depends_on: &'static [&'static str],
    activity: f64,
) -> ServiceSpec {
    ServiceSpec { team, name, tier, kind, scopes, depends_on, activity }
}

/// The service catalogue, in registration order (dependencies first).
pub(crate) const SERVICES: &[ServiceSpec] = &[
    // platform
    service("platform", "kubernetes-platform", 1, Kind::Infra, &["sox"], &[], 1.2),
    service("platform", "dns-resolver", 2, Kind::Infra, &[], &[], 0.4),
    service("platform", "api-gateway", 1, Kind::Infra, &["pci", "gdpr"], &["kubernetes-platform", "dns-resolver"], 1.3),
    service("platform", "service-mesh", 2, Kind::Infra, &[], &["kubernetes-platform"], 0.8),
    service("platform", "ci-runners", 3, Kind::Infra, &["sox"], &["kubernetes-platform"], 1.0),
    service("platform", "observability-stack", 3, Kind::Infra, &[], &["kubernetes-platform"], 0.9),
    // security
    service("security", "secrets-vault", 1, Kind::Infra, &["pci", "sox", "hipaa"], &["kubernetes-platform"], 0.6),
    service("security", "waf", 2, Kind::Infra, &["pci"], &["api-gateway"], 0.7),
    service("security", "siem-pipeline", 3, Kind::Data, &["pci", "sox", "dora-eu"], &["observability-stack"], 0.5),
    service("security", "vuln-scanner", 4, Kind::App, &[], &["ci-runners"], 0.4),
    // data
    service(
        "data",
        "postgres-cluster",
        1,
        Kind::Data,
        &["pci", "gdpr", "hipaa", "sox"],
        &["kubernetes-platform", "secrets-vault"],
        0.9,
    ),
    service("data", "redis-cache", 2, Kind::Data, &[], &["kubernetes-platform"], 0.6),
    service("data", "kafka-cluster", 2, Kind::Data, &["gdpr"], &["kubernetes-platform"], 0.8),
    service("data", "data-warehouse", 3, Kind::Data, &["gdpr", "sox"], &["kafka-cluster"], 0.9),
    service("data", "etl-orchestrator", 3, Kind::App, &["sox"], &["kafka-cluster", "data-warehouse"], 1.0),
    // identity
    service(
        "identity",
        "auth-service",
        1,
        Kind::App,
        &["pci", "gdpr", "sox", "hipaa"],
        &["postgres-cluster", "secrets-vault", "redis-cache"],
        1.4,
    ),
    service("identity", "user-profile", 2, Kind::App, &["gdpr", "hipaa"], &["postgres-cluster", "auth-service"], 1.1),
    service("identity", "sso-bridge", 2, Kind::App, &["sox"], &["auth-service"], 0.6),
    service("identity", "mfa-service", 2, Kind::App, &["pci", "sox"], &["auth-service"], 0.7),
    // payments
    service(
        "payments",
        "payments-api",
        1,
        Kind::App,
        &["pci", "sox", "dora-eu"],
        &["api-gateway", "auth-service", "postgres-cluster", "kafka-cluster"],
        1.8,
    ),
    service(
        "payments",
        "ledger-service",
        1,
        Kind::App,
        &["pci", "sox", "dora-eu"],
        &["postgres-cluster", "kafka-cluster"],
        1.0,
    ),
    service(
        "payments",
        "fraud-detection",
        2,
        Kind::App,
        &["pci", "gdpr", "dora-eu"],
        &["kafka-cluster", "redis-cache"],
        1.2,
    ),
    service("payments", "billing-worker", 2, Kind::App, &["pci", "sox"], &["payments-api", "ledger-service"], 1.0),
    service("payments", "payouts-service", 2, Kind::App, &["pci", "sox", "dora-eu"], &["ledger-service"], 0.8),
    service("payments", "invoice-renderer", 4, Kind::App, &["sox"], &["billing-worker"], 0.5),
    // search
    service("search", "search-indexer", 3, Kind::App, &["gdpr"], &["kafka-cluster"], 1.0),
    service("search", "search-api", 2, Kind::App, &[], &["search-indexer", "redis-cache"], 1.3),
    service("search", "recommendations", 3, Kind::App, &["gdpr"], &["data-warehouse", "search-api"], 1.0),
    service("search", "autocomplete", 4, Kind::App, &[], &["search-api"], 0.6),
    // web
    service(
        "web",
        "web-storefront",
        1,
        Kind::Web,
        &["pci", "gdpr"],
        &["api-gateway", "auth-service", "search-api", "payments-api"],
        2.0,
    ),
    service("web", "checkout-web", 2, Kind::Web, &["pci"], &["payments-api", "web-storefront"], 1.4),
    service("web", "cms", 4, Kind::App, &[], &["postgres-cluster"], 0.7),
    service("web", "admin-portal", 3, Kind::Web, &["sox", "gdpr"], &["auth-service", "user-profile"], 0.8),
    service("web", "notifications-service", 3, Kind::App, &["gdpr"], &["kafka-cluster"], 0.9),
    // mobile
    service(
        "mobile",
        "mobile-bff",
        2,
        Kind::App,
        &["pci", "gdpr"],
        &["api-gateway", "auth-service", "payments-api"],
        1.5,
    ),
    service("mobile", "push-gateway", 3, Kind::App, &["gdpr"], &["notifications-service"], 0.6),
    service("mobile", "ios-app", 3, Kind::Mobile, &["gdpr"], &["mobile-bff"], 0.9),
    service("mobile", "android-app", 3, Kind::Mobile, &["gdpr"], &["mobile-bff"], 0.9),
    service("mobile", "feature-flags", 3, Kind::App, &[], &["redis-cache"], 0.7),
];

/// What a demo user does; decides their roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Job {
    /// An engineer who opens and implements changes.
    Engineer,
    /// A tech lead / service owner: approves and also makes changes.
    Lead,
    /// The team's security champion.
    Security,
    /// A member of the change advisory board.
    Cab,
    /// Read-only auditor.
    Auditor,
}

impl Job {
    pub(crate) fn roles(self) -> &'static [&'static str] {
        match self {
            Job::Engineer => &["requester"],
            Job::Lead => &["approver", "requester"],
            Job::Security => &["security"],
            Job::Cab => &["cab"],
            Job::Auditor => &["auditor"],
        }
    }
}

/// One demo user.
#[derive(Clone, Debug)]
pub(crate) struct Person {
    pub name: String,
    pub team: usize,
    pub job: Job,
}

const FIRST_NAMES: &[&str] = &[
    "maria", "james", "aisha", "chen", "lucas", "sofia", "david", "fatima", "noah", "emma", "mateo", "olivia", "arjun",
    "hannah", "kenji", "leila", "oliver", "priya", "samuel", "yuki", "diego", "ingrid", "tomas", "amara", "liam",
    "elena", "omar", "zoe", "ravi", "clara", "jonas", "nadia", "pablo", "freya", "hugo", "mei", "isaac", "lina",
    "marco", "sara", "victor", "anya", "felix", "julia", "kwame", "rosa", "ethan", "nora", "tariq", "alice",
];

const LAST_NAMES: &[&str] = &[
    "garcia",
    "smith",
    "khan",
    "wang",
    "silva",
    "rossi",
    "mueller",
    "haddad",
    "johnson",
    "dubois",
    "fernandez",
    "brown",
    "patel",
    "schmidt",
    "tanaka",
    "nasser",
    "wilson",
    "sharma",
    "okafor",
    "sato",
    "lopez",
    "larsen",
    "novak",
    "mensah",
    "murphy",
    "petrova",
    "ali",
    "martin",
    "iyer",
    "moreau",
    "becker",
    "hassan",
    "ruiz",
    "jensen",
    "bernard",
    "li",
    "cohen",
    "nguyen",
    "romano",
    "kowalski",
    "costa",
    "ivanova",
    "weber",
    "santos",
    "asante",
    "reyes",
    "clarke",
    "lindqvist",
    "rahman",
    "fischer",
];

/// The staff of every team: engineers, two leads, a security champion, two CAB members and an
/// auditor. Bigger teams get more engineers.
pub(crate) fn people(dice: &mut Dice) -> Vec<Person> {
    let mut taken = BTreeSet::new();
    let mut people = Vec::new();
    for (team, team_name) in TEAMS.iter().enumerate() {
        let engineers = match *team_name {
            "payments" | "platform" | "web" => 5,
            "security" => 3,
            _ => 4,
        };
        let jobs = std::iter::repeat_n(Job::Engineer, engineers).chain([
            Job::Lead,
            Job::Lead,
            Job::Security,
            Job::Cab,
            Job::Cab,
            Job::Auditor,
        ]);
        for job in jobs {
            let name = loop {
                let candidate = format!("{}.{}", dice.pick(FIRST_NAMES), dice.pick(LAST_NAMES));
                if taken.insert(candidate.clone()) {
                    break candidate;
                }
            };
            people.push(Person { name, team, job });
        }
    }
    people
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_form_a_dag_in_registration_order() {
        for (position, spec) in SERVICES.iter().enumerate() {
            assert!(TEAMS.contains(&spec.team), "{} has unknown team {}", spec.name, spec.team);
            assert!((1..=4).contains(&spec.tier));
            for dependency in spec.depends_on {
                let earlier = SERVICES[..position].iter().any(|other| other.name == *dependency);
                assert!(earlier, "{} depends on {dependency}, which is not registered before it", spec.name);
            }
        }
        let tier_one = SERVICES.iter().filter(|spec| spec.tier == 1).count();
        assert!(tier_one * 4 < SERVICES.len(), "tier 1 should be the exception");
    }

    #[test]
    fn people_have_unique_slug_names() {
        let people = people(&mut Dice::new(7));
        let names: BTreeSet<&str> = people.iter().map(|person| person.name.as_str()).collect();
        assert_eq!(names.len(), people.len());
        for team in 0..TEAMS.len() {
            let of_team: Vec<&Person> = people.iter().filter(|person| person.team == team).collect();
            assert_eq!(of_team.iter().filter(|person| person.job == Job::Lead).count(), 2);
            assert_eq!(of_team.iter().filter(|person| person.job == Job::Auditor).count(), 1);
        }
    }
}
