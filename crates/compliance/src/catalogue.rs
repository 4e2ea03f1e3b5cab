//! The control catalogue: which frameworks and controls Changegate reports on, our own one-line
//! paraphrase of each control, and the checks each control maps to.
//!
//! Why paraphrases only: PCI DSS and ISO/IEC texts are copyrighted, so the catalogue carries
//! control identifiers and wording of our own, never the standards' text. The mapping is ours
//! too: it says which evidence in a change record speaks to a control, not that the checks
//! are all an assessor will ask for.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ComplianceError;
use crate::checks::CheckId;

/// A framework the catalogue covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Framework {
    PciDss,
    Soc2,
    Iso27001,
    Nist80053,
    Hipaa,
    Gdpr,
    EuDora,
}

impl Framework {
    pub const ALL: &'static [Framework] = &[
        Framework::PciDss,
        Framework::Soc2,
        Framework::Iso27001,
        Framework::Nist80053,
        Framework::Hipaa,
        Framework::Gdpr,
        Framework::EuDora,
    ];

    /// The identifier used on the command line, in the API and in reports.
    pub const fn id(self) -> &'static str {
        match self {
            Framework::PciDss => "pci-dss",
            Framework::Soc2 => "soc2",
            Framework::Iso27001 => "iso27001",
            Framework::Nist80053 => "nist-800-53",
            Framework::Hipaa => "hipaa",
            Framework::Gdpr => "gdpr",
            Framework::EuDora => "eu-dora",
        }
    }

    /// The framework's name and version as people write it.
    pub const fn name(self) -> &'static str {
        match self {
            Framework::PciDss => "PCI DSS v4.0",
            Framework::Soc2 => "SOC 2 (2017 Trust Services Criteria)",
            Framework::Iso27001 => "ISO/IEC 27001:2022",
            Framework::Nist80053 => "NIST SP 800-53 Rev. 5",
            Framework::Hipaa => "HIPAA Security Rule",
            Framework::Gdpr => "GDPR",
            Framework::EuDora => "EU DORA with RTS (EU) 2024/1774",
        }
    }

    /// The service scope tags that put a change under this framework. Empty: every production
    /// change is in scope (SOC 2, ISO 27001 and NIST 800-53 cover the whole system; PCI DSS,
    /// HIPAA, GDPR and DORA cover the services that hold cardholder data, health data, personal
    /// data or support critical functions).
    pub const fn scope_tags(self) -> &'static [&'static str] {
        match self {
            Framework::PciDss => &["pci"],
            Framework::Hipaa => &["hipaa", "phi"],
            Framework::Gdpr => &["gdpr", "pii"],
            Framework::EuDora => &["dora-eu", "dora", "dora-critical"],
            Framework::Soc2 | Framework::Iso27001 | Framework::Nist80053 => &[],
        }
    }

    /// The controls of this framework, in catalogue order.
    pub fn controls(self) -> impl Iterator<Item = &'static Control> {
        CATALOGUE.iter().filter(move |control| control.framework == self)
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.id())
    }
}

impl FromStr for Framework {
    type Err = ComplianceError;

    fn from_str(text: &str) -> Result<Self, ComplianceError> {
        Framework::ALL
            .iter()
            .copied()
            .find(|framework| framework.id() == text)
            .ok_or_else(|| ComplianceError::UnknownFramework(text.to_owned()))
    }
}

impl Serialize for Framework {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Framework {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses a `--framework` value: one framework id, or `all`.
pub fn parse_frameworks(text: &str) -> Result<Vec<Framework>, ComplianceError> {
    match text.trim() {
        "" | "all" => Ok(Framework::ALL.to_vec()),
        one => Ok(vec![one.parse()?]),
    }
}

/// One control of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Control {
    pub framework: Framework,
    /// An OSCAL-safe identifier, unique across the catalogue (`cm-3`, `pci-dss-6.5.1`).
    pub id: &'static str,
    /// The control's reference as the framework writes it (`6.5.1`, `CC8.1`, `Art. 30`).
    pub reference: &'static str,
    /// Our one-line paraphrase (never the framework's text).
    pub paraphrase: &'static str,
    /// The checks whose results decide this control.
    pub checks: &'static [CheckId],
}

impl Control {
    /// The title people read: framework and reference.
    pub fn title(&self) -> String {
        format!("{} {}", self.framework.name(), self.reference)
    }
}

use CheckId::{
    ApprovalBeforeImplementation as APPROVAL_BEFORE, EmergencyRetrospective as EMERGENCY,
    IndependentApproval as INDEPENDENT, LedgerIntegrity as LEDGER, PostImplementationReview as REVIEW,
    Retention as RETENTION, RollbackPlan as ROLLBACK, SecurityEvidence as SECURITY_EVIDENCE,
    SecurityImpact as SECURITY_IMPACT, TestEvidence as TESTS,
};

const fn control(
    framework: Framework,
    id: &'static str,
    reference: &'static str,
    paraphrase: &'static str,
    checks: &'static [CheckId],
) -> Control {
    Control { framework, id, reference, paraphrase, checks }
}

/// Every control, grouped by framework.
pub const CATALOGUE: &[Control] = &[
    control(
        Framework::PciDss,
        "pci-dss-6.5.1",
        "6.5.1",
        "Production changes follow a documented procedure: a reason, the security impact, authorised approval, testing, and a way back to a secure state.",
        &[SECURITY_IMPACT, INDEPENDENT, APPROVAL_BEFORE, TESTS, SECURITY_EVIDENCE, ROLLBACK],
    ),
    control(
        Framework::PciDss,
        "pci-dss-6.5.2",
        "6.5.2",
        "After a significant change, confirm that the applicable requirements still hold and update the documentation.",
        &[SECURITY_EVIDENCE, REVIEW],
    ),
    control(
        Framework::PciDss,
        "pci-dss-6.5.3",
        "6.5.3",
        "Pre-production and production are kept apart, and changes reach production only through the controlled path.",
        &[APPROVAL_BEFORE],
    ),
    control(
        Framework::PciDss,
        "pci-dss-6.5.4",
        "6.5.4",
        "Duties are split so that only reviewed and approved changes are deployed, and not by the people who approved them.",
        &[INDEPENDENT, APPROVAL_BEFORE],
    ),
    control(
        Framework::PciDss,
        "pci-dss-6.5.5",
        "6.5.5",
        "Live cardholder data is not used in pre-production; the change carries the scan results that show it.",
        &[SECURITY_EVIDENCE],
    ),
    control(
        Framework::PciDss,
        "pci-dss-6.5.6",
        "6.5.6",
        "Test data and test accounts are removed before a system goes live; the change carries the test and scan results.",
        &[TESTS, SECURITY_EVIDENCE],
    ),
    control(
        Framework::PciDss,
        "pci-dss-6.2.3",
        "6.2.3",
        "Bespoke software is reviewed by someone other than its author and approved before release.",
        &[INDEPENDENT, APPROVAL_BEFORE],
    ),
    control(
        Framework::Soc2,
        "soc2-cc8.1",
        "CC8.1",
        "Changes to infrastructure, data, software and procedures are authorised, documented, tested, approved and implemented under control, emergency changes included.",
        &[SECURITY_IMPACT, INDEPENDENT, APPROVAL_BEFORE, TESTS, ROLLBACK, EMERGENCY, REVIEW],
    ),
    control(
        Framework::Iso27001,
        "iso27001-a.8.32",
        "A.8.32",
        "Changes to information processing facilities and systems go through change management: impact, authorisation, testing, fall-back, emergency handling and records.",
        &[SECURITY_IMPACT, APPROVAL_BEFORE, TESTS, ROLLBACK, EMERGENCY, REVIEW],
    ),
    control(
        Framework::Nist80053,
        "cm-3",
        "CM-3",
        "Configuration changes are reviewed with their security impact in mind, approved before they are made, documented, retained and reviewed afterwards.",
        &[SECURITY_IMPACT, INDEPENDENT, APPROVAL_BEFORE, EMERGENCY, REVIEW, RETENTION],
    ),
    control(
        Framework::Nist80053,
        "cm-4",
        "CM-4",
        "A change's security and privacy impact is analysed before the change is implemented.",
        &[SECURITY_IMPACT, SECURITY_EVIDENCE],
    ),
    control(
        Framework::Nist80053,
        "cm-5",
        "CM-5",
        "Who may make changes is restricted, approved and enforced.",
        &[INDEPENDENT, APPROVAL_BEFORE],
    ),
    control(
        Framework::Nist80053,
        "au-9",
        "AU-9",
        "Audit records are protected from unauthorised change and deletion, and tampering is detected.",
        &[LEDGER, RETENTION],
    ),
    control(
        Framework::Nist80053,
        "au-10",
        "AU-10",
        "There is irrefutable evidence of who did what, such as who approved a change.",
        &[LEDGER, INDEPENDENT],
    ),
    control(
        Framework::Hipaa,
        "hipaa-164.312.b",
        "164.312(b)",
        "Activity in systems holding electronic health information is recorded and examined.",
        &[LEDGER, RETENTION, REVIEW],
    ),
    control(
        Framework::Gdpr,
        "gdpr-art30",
        "Art. 30",
        "Records are kept of processing activities, so changes to systems with personal data are recorded and assessed.",
        &[SECURITY_IMPACT, RETENTION],
    ),
    control(
        Framework::Gdpr,
        "gdpr-art32",
        "Art. 32",
        "Security measures fit the risk and are regularly tested and evaluated.",
        &[SECURITY_EVIDENCE, TESTS, LEDGER],
    ),
    control(
        Framework::EuDora,
        "dora-art9.4.e",
        "Art. 9(4)(e)",
        "ICT changes are recorded, tested, assessed, approved, implemented and verified in a controlled, risk-based way.",
        &[SECURITY_IMPACT, TESTS, APPROVAL_BEFORE, REVIEW, LEDGER],
    ),
    control(
        Framework::EuDora,
        "dora-rts-2024-1774-art17",
        "RTS 2024/1774 Art. 17",
        "Approval is independent of requesting and implementing; security impact is checked; fall-back is planned; emergency changes are approved after the fact.",
        &[INDEPENDENT, SECURITY_IMPACT, SECURITY_EVIDENCE, ROLLBACK, EMERGENCY],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_framework_has_controls_and_every_control_checks_something() {
        for framework in Framework::ALL {
            assert!(framework.controls().count() > 0, "{framework} has no controls");
        }
        for control in CATALOGUE {
            assert!(!control.checks.is_empty(), "{} maps to no check", control.id);
        }
    }

    #[test]
    fn control_ids_are_unique_and_oscal_tokens() {
        let mut ids: Vec<&str> = CATALOGUE.iter().map(|control| control.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CATALOGUE.len());
        for id in ids {
            let mut characters = id.chars();
            assert!(characters.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_'), "{id}");
            assert!(characters.all(|character| character.is_ascii_alphanumeric() || "._-".contains(character)), "{id}");
        }
    }

    #[test]
    fn frameworks_parse_from_their_ids_and_all() {
        assert_eq!(parse_frameworks("pci-dss").unwrap(), vec![Framework::PciDss]);
        assert_eq!(parse_frameworks("all").unwrap().len(), Framework::ALL.len());
        assert_eq!(
            parse_frameworks("sox").unwrap_err().to_string(),
            "`sox` is not a framework; use one of pci-dss, soc2, iso27001, nist-800-53, hipaa, gdpr, eu-dora, all"
        );
    }
}
