//! The alerts page: alert rules (kind, parameters, webhooks), recent firings with every delivery
//! attempt, and the services' automated rollback hooks; for admins, forms to define and remove
//! rules and to set and remove hooks.
//!
//! Like the other pages it only translates: the service validates (a bad rule or hook comes back
//! with its field errors and nothing written) and decides who may.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use changegate_core::{FieldError, RollbackTarget, StreamId};
use changegate_service::Permission;
use changegate_service::{AlertKind, AlertRule, RollbackHookRequest, ServiceError};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::forms::{CsrfField, CsrfForm, checked_form, errors_by_field};
use super::render::{Flash, layout, render, service_error, to_value};
use super::session::Session;
use crate::AppState;

/// Firings shown on the page, newest first.
const FIRINGS_SHOWN_MAX: u32 = 100;

#[derive(Serialize)]
struct RuleRow {
    name: String,
    kind: String,
    parameters: Vec<(String, String)>,
    webhooks: Vec<String>,
    defined_by: String,
    updated_at: String,
}

#[derive(Serialize)]
struct DeliveryRow {
    target: String,
    attempt: u32,
    ok: bool,
    status: Option<u16>,
    error: Option<String>,
    at: String,
}

#[derive(Serialize)]
struct FiringRow {
    sequence: u64,
    rule: String,
    kind: String,
    subject: String,
    /// The change the firing is about, for a link.
    change: Option<String>,
    message: String,
    fired_at: String,
    delivered: bool,
    deliveries: Vec<DeliveryRow>,
}

#[derive(Serialize)]
struct HookRow {
    service: String,
    kind: &'static str,
    target: String,
    window_hours: u64,
}

#[derive(Serialize)]
struct KindRow {
    kind: &'static str,
    description: &'static str,
}

/// The rule form: a name and the rule's JSON.
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub struct RuleForm {
    #[serde(skip_serializing)]
    csrf: Option<String>,
    name: String,
    rule: String,
}

/// The rollback hook form.
#[derive(Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct HookForm {
    #[serde(skip_serializing)]
    csrf: Option<String>,
    service: String,
    /// `webhook` or `command`.
    kind: String,
    /// The URL, or the program.
    target: String,
    /// A command's arguments, one per line.
    arguments: String,
    incident_window_hours: String,
}

impl Default for HookForm {
    fn default() -> Self {
        HookForm {
            csrf: None,
            service: String::new(),
            kind: "webhook".to_owned(),
            target: String::new(),
            arguments: String::new(),
            incident_window_hours: "24".to_owned(),
        }
    }
}

impl CsrfField for RuleForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

impl CsrfField for HookForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AlertsParams {
    done: String,
}

/// What the page shows besides the stored state: a flash and a refused form with its errors.
#[derive(Default)]
struct Attempt<'a> {
    status: Option<StatusCode>,
    flash: Option<Flash>,
    rule_form: Option<&'a RuleForm>,
    hook_form: Option<&'a HookForm>,
    errors: Vec<FieldError>,
}

async fn alerts_page(state: &AppState, session: &Session, attempt: Attempt<'_>) -> Response {
    let service = &state.service;
    let (rules, firings, services) = match (
        service.alert_rules(&session.caller).await,
        service.alert_firings(&session.caller, FIRINGS_SHOWN_MAX).await,
        service.services(&session.caller).await,
    ) {
        (Ok(rules), Ok(firings), Ok(services)) => (rules, firings, services),
        (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
            return service_error(state, Some(session), error);
        }
    };
    let rules: Vec<RuleRow> = rules
        .iter()
        .map(|record| {
            let parsed = AlertRule::parse(&record.rule).ok();
            RuleRow {
                name: record.name.to_string(),
                kind: record.rule["kind"].as_str().unwrap_or_default().to_owned(),
                parameters: parsed.as_ref().map(AlertRule::parameters).unwrap_or_default(),
                webhooks: parsed.map(|rule| rule.webhooks).unwrap_or_default(),
                defined_by: record.defined_by.clone(),
                updated_at: record.updated_at.to_rfc3339(),
            }
        })
        .collect();
    let firings: Vec<FiringRow> = firings
        .iter()
        .map(|firing| FiringRow {
            sequence: firing.sequence,
            rule: firing.rule.to_string(),
            kind: firing.kind.clone(),
            subject: firing.subject.clone(),
            change: firing.subject.parse::<StreamId>().ok().and_then(|stream| stream.change()).map(|id| id.to_string()),
            message: firing.message.clone(),
            fired_at: firing.fired_at.to_rfc3339(),
            delivered: firing.delivered(),
            deliveries: firing
                .deliveries
                .iter()
                .map(|delivery| DeliveryRow {
                    target: delivery.target.clone(),
                    attempt: delivery.attempt,
                    ok: delivery.ok,
                    status: delivery.status,
                    error: delivery.error.clone(),
                    at: delivery.at.to_rfc3339(),
                })
                .collect(),
        })
        .collect();
    let hooks: Vec<HookRow> = services
        .iter()
        .filter_map(|service| {
            let hook = service.rollback_hook.as_ref()?;
            let kind = match hook.target {
                RollbackTarget::Webhook { .. } => "webhook",
                RollbackTarget::Command { .. } => "command",
            };
            Some(HookRow {
                service: service.name.to_string(),
                kind,
                target: hook.target.describe(),
                window_hours: hook.incident_window_ms / (60 * 60 * 1000),
            })
        })
        .collect();
    let kinds: Vec<KindRow> =
        AlertKind::ALL.iter().map(|kind| KindRow { kind: kind.as_str(), description: kind.description() }).collect();
    let service_names: Vec<String> = services.iter().map(|service| service.name.to_string()).collect();
    let default_rule = RuleForm {
        csrf: None,
        name: String::new(),
        rule: "{\"kind\": \"high_risk_change\", \"min_class\": \"high\", \"webhooks\": []}".to_owned(),
    };
    let context = context! {
        rules => to_value(&rules),
        firings => to_value(&firings),
        hooks => to_value(&hooks),
        kinds => to_value(&kinds),
        services => service_names,
        can_manage => session.caller.may(Permission::ManageAlerts),
        rule_form => to_value(attempt.rule_form.unwrap_or(&default_rule)),
        hook_form => to_value(attempt.hook_form.cloned().unwrap_or_default()),
        rule_errors => to_value(if attempt.rule_form.is_some() { errors_by_field(&attempt.errors) } else { Default::default() }),
        hook_errors => to_value(if attempt.hook_form.is_some() { errors_by_field(&attempt.errors) } else { Default::default() }),
        ..layout(Some(session), "alerts", attempt.flash)
    };
    render(state, attempt.status.unwrap_or(StatusCode::OK), "alerts.html", context)
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn alerts(State(state): State<AppState>, session: Session, Query(params): Query<AlertsParams>) -> Response {
    let flash = match params.done.as_str() {
        "rule-defined" => Some(Flash::success("The alert rule is saved.")),
        "rule-removed" => Some(Flash::success("The alert rule is removed.")),
        "hook-set" => Some(Flash::success("The rollback hook is saved.")),
        "hook-removed" => Some(Flash::success("The rollback hook is removed.")),
        _ => None,
    };
    alerts_page(&state, &session, Attempt { flash, ..Attempt::default() }).await
}

/// Defines a rule from the form; a refusal comes back with the form and its errors.
#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn define_rule(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<RuleForm>, FormRejection>,
) -> Response {
    let form = match checked_form(&state, &session, form) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let errors = match serde_json::from_str::<serde_json::Value>(&form.rule) {
        Err(error) => vec![FieldError::new("rule", format!("not JSON: {error}"))],
        Ok(rule) => match state.service.define_alert_rule(&session.caller, form.name.trim(), &rule).await {
            Ok(_) => return Redirect::to("/alerts?done=rule-defined").into_response(),
            Err(ServiceError::Validation(fields)) => fields,
            Err(error) => return service_error(&state, Some(&session), error),
        },
    };
    let flash = Some(Flash::error("The rule was not saved. Correct the fields marked below."));
    let attempt = Attempt {
        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
        flash,
        rule_form: Some(&form),
        errors,
        ..Attempt::default()
    };
    alerts_page(&state, &session, attempt).await
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name(), rule = %name))]
pub async fn remove_rule(
    State(state): State<AppState>,
    session: Session,
    Path(name): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = checked_form(&state, &session, form) {
        return refusal;
    }
    match state.service.remove_alert_rule(&session.caller, &name).await {
        Ok(()) => Redirect::to("/alerts?done=rule-removed").into_response(),
        Err(error) => service_error(&state, Some(&session), error),
    }
}

fn hook_request(form: &HookForm) -> Result<RollbackHookRequest, Vec<FieldError>> {
    let hours = form.incident_window_hours.trim();
    let incident_window_hours = if hours.is_empty() {
        None
    } else {
        Some(
            hours
                .parse::<u32>()
                .map_err(|_| vec![FieldError::new("incident_window_hours", "a whole number of hours")])?,
        )
    };
    let target = match form.kind.as_str() {
        "webhook" => RollbackTarget::Webhook { url: form.target.trim().to_owned() },
        "command" => RollbackTarget::Command {
            program: form.target.trim().to_owned(),
            arguments: form
                .arguments
                .lines()
                .map(str::trim_end)
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect(),
        },
        _ => return Err(vec![FieldError::new("kind", "webhook or command")]),
    };
    Ok(RollbackHookRequest { target, incident_window_hours })
}

/// The form's field for a service field error (`url` and `program` are both the target input).
fn hook_field(field: &str) -> &str {
    match field {
        "url" | "program" => "target",
        other => other,
    }
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn set_hook(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<HookForm>, FormRejection>,
) -> Response {
    let form = match checked_form(&state, &session, form) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let errors = match hook_request(&form) {
        Err(errors) => errors,
        Ok(request) => match state.service.set_rollback_hook(&session.caller, form.service.trim(), Some(request)).await
        {
            Ok(_) => return Redirect::to("/alerts?done=hook-set").into_response(),
            Err(ServiceError::Validation(fields)) => {
                fields.into_iter().map(|field| FieldError::new(hook_field(&field.field), field.message)).collect()
            }
            Err(error) => return service_error(&state, Some(&session), error),
        },
    };
    let flash = Some(Flash::error("The rollback hook was not saved. Correct the fields marked below."));
    let attempt = Attempt {
        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
        flash,
        hook_form: Some(&form),
        errors,
        ..Attempt::default()
    };
    alerts_page(&state, &session, attempt).await
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name(), service = %name))]
pub async fn remove_hook(
    State(state): State<AppState>,
    session: Session,
    Path(name): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = checked_form(&state, &session, form) {
        return refusal;
    }
    match state.service.set_rollback_hook(&session.caller, &name, None).await {
        Ok(_) => Redirect::to("/alerts?done=hook-removed").into_response(),
        Err(error) => service_error(&state, Some(&session), error),
    }
}
