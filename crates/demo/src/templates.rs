//! The standard-change templates of the demo: per team, one template for each routine that fits
//! its services (release, dependency bump, feature flag, scale out, certificate rotation, pod
//! restart, dashboards), plus one retired template that is no longer approved.
//!
//! Most routines may run up to medium risk (then a peer approves them); feature flags, which
//! change behaviour for customers, stay low. The risk score on submission decides: a routine
//! change scored above its template's ceiling (most on tier-1 services) is filed as a normal
//! change instead.

use changegate_core::RiskClass;
use changegate_service::NewTemplate;

use crate::org::{Kind, SERVICES, ServiceSpec, TEAMS};

/// A kind of routine work that a standard-change template covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Routine {
    Release,
    DependencyBump,
    FeatureFlag,
    ScaleOut,
    RotateCertificate,
    RestartPod,
    Observability,
    /// The retired template's routine: patching VM images by hand.
    LegacyPatching,
}

/// The routines, with how often standard changes are of each.
pub(crate) const ROUTINES: [(Routine, f64); 7] = [
    (Routine::Release, 0.32),
    (Routine::DependencyBump, 0.22),
    (Routine::FeatureFlag, 0.1),
    (Routine::ScaleOut, 0.12),
    (Routine::RotateCertificate, 0.09),
    (Routine::RestartPod, 0.09),
    (Routine::Observability, 0.06),
];

/// Name of the retired template.
pub(crate) const RETIRED_TEMPLATE: &str = "legacy-vm-patching";

impl Routine {
    fn slug(self) -> &'static str {
        match self {
            Routine::Release => "release",
            Routine::DependencyBump => "dependency-bump",
            Routine::FeatureFlag => "feature-flag",
            Routine::ScaleOut => "scale-out",
            Routine::RotateCertificate => "rotate-certificate",
            Routine::RestartPod => "restart-pod",
            Routine::Observability => "dashboards-and-alerts",
            Routine::LegacyPatching => RETIRED_TEMPLATE,
        }
    }

    /// The kinds of service the routine applies to.
    pub(crate) fn kinds(self) -> &'static [Kind] {
        match self {
            Routine::Release | Routine::FeatureFlag => &[Kind::App, Kind::Web, Kind::Mobile],
            Routine::DependencyBump | Routine::Observability => {
                &[Kind::App, Kind::Web, Kind::Infra, Kind::Data, Kind::Mobile]
            }
            Routine::ScaleOut | Routine::RotateCertificate | Routine::RestartPod => {
                &[Kind::App, Kind::Web, Kind::Infra, Kind::Data]
            }
            Routine::LegacyPatching => &[Kind::Infra, Kind::Data],
        }
    }

    pub(crate) fn max_risk(self) -> RiskClass {
        match self {
            Routine::FeatureFlag | Routine::LegacyPatching => RiskClass::Low,
            Routine::Release
            | Routine::DependencyBump
            | Routine::ScaleOut
            | Routine::RotateCertificate
            | Routine::RestartPod
            | Routine::Observability => RiskClass::Medium,
        }
    }

    fn description(self) -> &'static str {
        match self {
            Routine::Release => {
                "Release train of an application: merged, reviewed pull requests, CI green, canary rollout with automatic rollback."
            }
            Routine::DependencyBump => {
                "Patch-level dependency, base image or chart update proposed by the dependency bot, CI green."
            }
            Routine::FeatureFlag => {
                "Turn a feature flag on or off, or change its rollout percentage, for code already deployed and tested behind it."
            }
            Routine::ScaleOut => "Add replicas, nodes or disk within the approved capacity plan.",
            Routine::RotateCertificate => {
                "Rotate a TLS certificate or a service credential from the runbook before it expires."
            }
            Routine::RestartPod => "Rolling restart of a service's pods, one availability zone at a time.",
            Routine::Observability => "Change dashboards, alert thresholds and SLO burn-rate alerts.",
            Routine::LegacyPatching => {
                "Retired: VM images are now patched by the image pipeline. Kept so that earlier changes still name it; no longer approved for standard changes."
            }
        }
    }
}

/// One template of the demo catalogue.
#[derive(Clone, Debug)]
pub(crate) struct TemplateSpec {
    pub name: String,
    pub routine: Routine,
    /// Indices into [`SERVICES`].
    pub services: Vec<usize>,
    pub approved: bool,
}

impl TemplateSpec {
    pub(crate) fn covers(&self, service_index: usize) -> bool {
        self.services.contains(&service_index)
    }

    pub(crate) fn max_risk(&self) -> RiskClass {
        self.routine.max_risk()
    }

    /// The service command that defines it.
    pub(crate) fn new_template(&self) -> NewTemplate {
        NewTemplate {
            name: self.name.clone(),
            description: self.routine.description().to_owned(),
            services: self.services.iter().map(|index| SERVICES[*index].name.to_owned()).collect(),
            teams: Vec::new(),
            environments: vec!["production".to_owned(), "staging".to_owned()],
            max_risk: self.max_risk().as_str().to_owned(),
            approved: self.approved,
        }
    }
}

fn fits(spec: &ServiceSpec, routine: Routine) -> bool {
    routine.kinds().contains(&spec.kind)
}

/// The catalogue: per team the routines that fit some of its services, then the retired one.
pub(crate) fn catalogue() -> Vec<TemplateSpec> {
    let mut templates = Vec::new();
    for team in TEAMS {
        for (routine, _) in ROUTINES {
            let services: Vec<usize> = SERVICES
                .iter()
                .enumerate()
                .filter(|(_, spec)| spec.team == *team && fits(spec, routine))
                .map(|(index, _)| index)
                .collect();
            if !services.is_empty() {
                templates.push(TemplateSpec {
                    name: format!("{team}-{}", routine.slug()),
                    routine,
                    services,
                    approved: true,
                });
            }
        }
    }
    let legacy: Vec<usize> = SERVICES
        .iter()
        .enumerate()
        .filter(|(_, spec)| fits(spec, Routine::LegacyPatching))
        .map(|(index, _)| index)
        .collect();
    templates.push(TemplateSpec {
        name: RETIRED_TEMPLATE.to_owned(),
        routine: Routine::LegacyPatching,
        services: legacy,
        approved: false,
    });
    templates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_has_approved_templates_up_to_medium_risk() {
        let catalogue = catalogue();
        for (index, spec) in SERVICES.iter().enumerate() {
            let covering: Vec<&TemplateSpec> =
                catalogue.iter().filter(|template| template.approved && template.covers(index)).collect();
            assert!(covering.len() >= 3, "{} has {} templates", spec.name, covering.len());
            assert!(covering.iter().any(|template| template.max_risk() == RiskClass::Medium), "{}", spec.name);
        }
        let retired: Vec<&TemplateSpec> = catalogue.iter().filter(|template| !template.approved).collect();
        assert_eq!(retired.len(), 1);
        assert!(!retired[0].services.is_empty());
        for template in &catalogue {
            assert!(changegate_core::Name::parse(&template.name).is_ok(), "{}", template.name);
        }
    }
}
