//! What the commands share with the incident commands: the incident commands' inputs, the
//! collector of field errors and the access denial every refused command appends.
//!
//! Why a leaf module: `commands` runs the incident commands (in `incidents`), and those need these
//! items; kept here, importing neither, the two modules do not import each other.
//! `crate::commands` re-exports the inputs, so their public paths are unchanged.

use changegate_core::{DomainEvent, FieldError, LIST_LENGTH_MAX, Name, StreamId, Timestamp, check_text};
use changegate_store::WriteTx;

use crate::ServiceError;
use crate::denials::{DenialKey, DenialThrottle, Verdict};
use crate::identity::Caller;

/// Input for a new incident.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewIncident {
    pub title: String,
    pub service: String,
    /// `sev1` … `sev4`, or `1` … `4`.
    pub severity: String,
    pub detected_at: Option<String>,
    /// The change that caused it (an explicit link). Without it the attribution rule suggests one.
    pub caused_by: Option<String>,
    pub downtime_minutes: Option<u32>,
}

/// Corrections to an incident; absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncidentUpdate {
    pub title: Option<String>,
    pub severity: Option<String>,
    pub detected_at: Option<String>,
    pub downtime_minutes: Option<u32>,
    pub comment: Option<String>,
}

/// Input for resolving an incident.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncidentResolution {
    /// Defaults to now.
    pub resolved_at: Option<String>,
    pub downtime_minutes: Option<u32>,
    pub comment: Option<String>,
}

/// A command that was refused for lack of rights. Whoever runs the command records it in the
/// command's transaction ([`record_denial`]: `execute` and `Service::refuse`), so the folding of
/// repeats lives in one place.
#[derive(Clone, Debug)]
pub(crate) struct Denied {
    pub(crate) action: String,
    pub(crate) target: String,
    pub(crate) reason: String,
}

/// A refusal of `action` on `target`, for `reason`.
pub(crate) fn denial(action: &str, target: &str, reason: String) -> Denied {
    Denied { action: action.to_owned(), target: target.to_owned(), reason }
}

/// Collects field errors so a user sees all of them at once.
#[derive(Default)]
pub(crate) struct Fields(Vec<FieldError>);

impl Fields {
    pub(crate) fn name(&mut self, field: &str, text: &str) -> Option<Name> {
        Name::parse(text).map_err(|message| self.0.push(FieldError::new(field, message))).ok()
    }

    pub(crate) fn parse<T: std::str::FromStr<Err = String>>(&mut self, field: &str, text: &str) -> Option<T> {
        text.parse().map_err(|message| self.0.push(FieldError::new(field, message))).ok()
    }

    pub(crate) fn time(&mut self, field: &str, text: Option<&str>) -> Option<Timestamp> {
        let text = text?;
        Timestamp::parse_rfc3339(text).map_err(|message| self.0.push(FieldError::new(field, message))).ok()
    }

    pub(crate) fn text(&mut self, field: &str, text: &str, length_max: usize) {
        if let Err(changegate_core::DomainError::Validation(mut errors)) = check_text(field, text, length_max) {
            self.0.append(&mut errors);
        }
    }

    pub(crate) fn names(&mut self, field: &str, texts: &[String]) -> Vec<Name> {
        if texts.len() > LIST_LENGTH_MAX {
            self.0.push(FieldError::new(field, format!("at most {LIST_LENGTH_MAX} entries")));
            return Vec::new();
        }
        let mut names: Vec<Name> = texts.iter().filter_map(|text| self.name(field, text)).collect();
        names.sort();
        names.dedup();
        names
    }

    pub(crate) fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub(crate) fn extend(&mut self, errors: Vec<FieldError>) {
        self.0.extend(errors);
    }

    pub(crate) fn finish(self) -> Result<(), ServiceError> {
        if self.0.is_empty() { Ok(()) } else { Err(ServiceError::Validation(self.0)) }
    }
}

/// Records a refusal as an `access_denied` event, unless `denials` folds it as a repeat.
pub(crate) async fn record_denial(
    denials: &DenialThrottle,
    tx: &mut WriteTx,
    caller: &Caller,
    time: Timestamp,
    denied: &Denied,
) -> Result<(), ServiceError> {
    let Denied { action, target, reason } = denied;
    tracing::warn!(actor = %caller.name(), action, target, %reason, "access denied");
    let key = DenialKey {
        actor: caller.name().to_string(),
        action: action.clone(),
        target: target.clone(),
        reason: reason.clone(),
    };
    if let Verdict::Record { repeats_folded } = denials.admit(key, time) {
        let event = DomainEvent::AccessDenied {
            action: action.clone(),
            target: target.clone(),
            reason: reason.clone(),
            repeats_folded,
        };
        tx.append(&StreamId::Access, caller.name().as_str(), time, &event).await?;
    }
    Ok(())
}
