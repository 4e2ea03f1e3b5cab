//! The rules a new change must meet beyond the shape of its fields.
//!
//! The host parses a change's fields (lengths, names, times) and looks up the records a change
//! refers to (its service, its template); the rules that decide whether those fit together live
//! here, once, for every face: an emergency says why it cannot wait, and a change from a
//! standard-change template is a standard change the template covers.

use crate::domain::{ChangeType, Name};
use crate::error::FieldError;
use crate::projection::TemplateRecord;

/// What the rules read about a change being created. `None` for a field that did not parse
/// (its own error is already reported; the rules that need it are skipped).
#[derive(Clone, Copy, Debug, Default)]
pub struct NewChangeFacts<'a> {
    pub change_type: Option<ChangeType>,
    pub service: Option<&'a Name>,
    /// The team owning `service`, when the service is registered.
    pub service_team: Option<&'a Name>,
    pub environment: Option<&'a Name>,
    /// The justification, when given and not blank.
    pub justification: Option<&'a str>,
    /// The template the change names, when it names one that exists.
    pub template: Option<&'a TemplateRecord>,
}

/// The field errors of a new change's rules, in the order the form shows its fields.
pub fn creation_errors(facts: &NewChangeFacts<'_>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if facts.change_type == Some(ChangeType::Emergency) && facts.justification.is_none() {
        errors.push(FieldError::new(
            "justification",
            "an emergency change needs a justification: why it cannot wait for approval",
        ));
    }
    let Some(template) = facts.template else { return errors };
    if facts.change_type.is_some_and(|change_type| change_type != ChangeType::Standard) {
        errors.push(FieldError::new("type", "a change from a template is a standard change"));
    }
    if let (Some(service), Some(team)) = (facts.service, facts.service_team)
        && !template.covers(service, team)
    {
        errors
            .push(FieldError::new("template", format!("template {} does not cover service {service}", template.name)));
    }
    if let Some(environment) = facts.environment
        && !template.allows_environment(environment)
    {
        let allowed: Vec<String> = template.environments.iter().map(ToString::to_string).collect();
        errors.push(FieldError::new(
            "environment",
            format!("template {} allows only {}", template.name, allowed.join(", ")),
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RiskClass;
    use crate::time::Timestamp;

    fn name(text: &str) -> Name {
        Name::parse(text).unwrap()
    }

    fn template(services: &[&str], environments: &[&str]) -> TemplateRecord {
        TemplateRecord {
            name: name("dependency-bump"),
            description: String::new(),
            services: services.iter().map(|text| name(text)).collect(),
            teams: Vec::new(),
            environments: environments.iter().map(|text| name(text)).collect(),
            max_risk: RiskClass::Low,
            approved: true,
            defined_by: "carol".into(),
            updated_at: Timestamp::from_unix_ms(0),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|error| error.field.as_str()).collect()
    }

    #[test]
    fn an_emergency_needs_a_justification() {
        let facts = NewChangeFacts { change_type: Some(ChangeType::Emergency), ..NewChangeFacts::default() };
        assert_eq!(fields(&creation_errors(&facts)), ["justification"]);
        let justified = NewChangeFacts { justification: Some("payments are down"), ..facts };
        assert!(creation_errors(&justified).is_empty());
        let normal = NewChangeFacts { change_type: Some(ChangeType::Normal), ..NewChangeFacts::default() };
        assert!(creation_errors(&normal).is_empty());
    }

    #[test]
    fn a_change_from_a_template_is_a_standard_change_the_template_covers() {
        let (catalog, shop, production, staging) = (name("catalog"), name("shop"), name("production"), name("staging"));
        let record = template(&["checkout"], &["staging"]);
        let facts = NewChangeFacts {
            change_type: Some(ChangeType::Normal),
            service: Some(&catalog),
            service_team: Some(&shop),
            environment: Some(&production),
            justification: None,
            template: Some(&record),
        };
        assert_eq!(fields(&creation_errors(&facts)), ["type", "template", "environment"]);
        let covered = template(&["catalog"], &[]);
        let fitting = NewChangeFacts {
            change_type: Some(ChangeType::Standard),
            environment: Some(&staging),
            template: Some(&covered),
            ..facts
        };
        assert!(creation_errors(&fitting).is_empty());
    }
}
