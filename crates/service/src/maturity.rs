//! Maturity: the CMMI assessment of this installation's change management, its trend and its
//! questionnaire, over the `changegate-maturity` rubric.
//!
//! The service gathers what the pure assessment needs from the store: every change and incident
//! (live or imported: an organisation can assess an export without running Changegate live), the
//! services, the live evidence (policy versions, templates, alert rules, risk models, ledger
//! verifications, one signed checkpoint per day, rollback hooks), and the answers in force: the
//! latest `maturity_answered` answer per question, overlaid with answers given for one run only
//! (an answers file), which are not recorded. Answers given through the product are recorded as
//! `maturity_answered` events whose actor is who answered.

use std::collections::BTreeMap;

use changegate_core::{DomainEvent, StreamId, Timestamp};
use changegate_maturity::{
    AlertRuleEvidence, Answer, Assessment, AssessmentInput, LedgerVerificationEvidence, LiveEvidence, MaturityError,
    PERIOD_DEFAULT_DAYS, Question, RiskModelEvidence, TrendPoint,
};
use changegate_store::WriteTx;

use crate::Permission;
use crate::identity::Caller;
use crate::{Service, ServiceError};

use changegate_core::civil::DAY_MS;
/// Months of the trend when none is asked for.
pub const TREND_MONTHS_DEFAULT: u32 = 12;
/// Longest comment kept with recorded answers.
pub const ANSWER_COMMENT_LENGTH_MAX: usize = 2_000;
/// Ledger verifications read, newest first: the criteria look at the newest one before a period's
/// end, so a few hundred cover any trend.
const VERIFICATIONS_READ_MAX: u32 = 500;
/// Days of checkpoints read before the earliest period's end: the self-auditing criterion looks
/// at the last 30 days, and a day's checkpoint may come the next day.
const CHECKPOINT_DAYS_BEFORE: i64 = 31;

/// The period of an assessment; each end defaults (`to` to now, `from` to 90 days before `to`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaturityPeriod {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// An answer in force, as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedAnswer {
    pub id: String,
    pub yes: bool,
    pub answered_by: String,
    pub answered_at: Timestamp,
}

fn invalid(error: MaturityError) -> ServiceError {
    ServiceError::invalid(error.field(), error.to_string())
}

/// The first UTC hour-zero of the day after `time`: checkpoint reads end there.
fn day_after(time: Timestamp) -> Timestamp {
    Timestamp::from_unix_ms((time.unix_ms().div_euclid(DAY_MS) + 2) * DAY_MS)
}

/// A time before the earliest window of a trend of `months` months ending at `to`: the first
/// month's window starts 90 days before that month ends.
fn trend_start(to: Timestamp, months: u32) -> Timestamp {
    to.plus_ms(-(i64::from(months) * 31 + PERIOD_DEFAULT_DAYS) * DAY_MS)
}

/// Everything the assessment reads, owned, so the input can borrow it.
struct Gathered {
    changes: Vec<changegate_core::ChangeRecord>,
    incidents: Vec<changegate_core::IncidentRecord>,
    services: Vec<changegate_core::ServiceRecord>,
    live: LiveEvidence,
    answers: BTreeMap<String, Answer>,
}

impl Gathered {
    fn input(&self, from: Timestamp, to: Timestamp, now: Timestamp) -> AssessmentInput<'_> {
        AssessmentInput {
            from,
            to,
            now,
            changes: &self.changes,
            incidents: &self.incidents,
            services: &self.services,
            live: &self.live,
            answers: &self.answers,
        }
    }
}

impl Service {
    /// The questionnaire: what data cannot show.
    pub fn maturity_questions(&self) -> Vec<Question> {
        changegate_maturity::questions()
    }

    /// The answers in force: the latest recorded answer to each question of the rubric.
    pub async fn maturity_answers(&self, _caller: &Caller) -> Result<Vec<RecordedAnswer>, ServiceError> {
        self.answers_in_force().await
    }

    async fn answers_in_force(&self) -> Result<Vec<RecordedAnswer>, ServiceError> {
        let mut latest: BTreeMap<String, RecordedAnswer> = BTreeMap::new();
        for envelope in self.store().stream_events(&StreamId::Maturity.to_string()).await? {
            let Ok(DomainEvent::MaturityAnswered { answers, .. }) = envelope.domain_event() else { continue };
            for (id, yes) in answers {
                // Answers to questions a later rubric dropped are kept in the ledger, not used.
                if changegate_maturity::rubric::criterion(&id).is_some_and(|criterion| criterion.question.is_some()) {
                    let answer = RecordedAnswer {
                        id: id.clone(),
                        yes,
                        answered_by: envelope.actor.clone(),
                        answered_at: envelope.time,
                    };
                    latest.insert(id, answer);
                }
            }
        }
        Ok(latest.into_values().collect())
    }

    /// Records answers to the questionnaire as a `maturity_answered` event by `caller` (admin or
    /// cab: the process owners). Every id must name a question; nothing is recorded otherwise.
    pub async fn answer_maturity(
        &self,
        caller: &Caller,
        answers: BTreeMap<String, bool>,
        comment: Option<String>,
    ) -> Result<Vec<RecordedAnswer>, ServiceError> {
        if !caller.may(Permission::AnswerMaturity) {
            let reason =
                format!("answering the maturity questionnaire needs {}", Permission::AnswerMaturity.roles_text());
            return Err(self.refuse(caller, "answer_maturity", "maturity", reason).await);
        }
        changegate_maturity::validate_answers(answers.keys()).map_err(invalid)?;
        if let Some(comment) = &comment {
            changegate_core::check_text("comment", comment, ANSWER_COMMENT_LENGTH_MAX)?;
        }
        let time = self.now();
        let event = DomainEvent::MaturityAnswered { answers, comment };
        self.store()
            .write(async |tx: &mut WriteTx| -> Result<(), ServiceError> {
                tx.append(&StreamId::Maturity, caller.name().as_str(), time, &event).await?;
                Ok(())
            })
            .await?;
        tracing::info!(actor = %caller.name(), "maturity answers recorded");
        self.answers_in_force().await
    }

    /// The assessment of `period`, with `one_run_answers` (an answers file) overriding the
    /// recorded answers for this assessment only.
    pub async fn maturity_assessment(
        &self,
        caller: &Caller,
        period: MaturityPeriod,
        one_run_answers: &BTreeMap<String, bool>,
    ) -> Result<Assessment, ServiceError> {
        Ok(self.maturity_report(caller, period, one_run_answers, 0).await?.0)
    }

    /// The assessment of `period` and the trend of the `months` months up to its end (none for
    /// 0), from one read of the store: what a page or a report shows together.
    pub async fn maturity_report(
        &self,
        _caller: &Caller,
        period: MaturityPeriod,
        one_run_answers: &BTreeMap<String, bool>,
        months: u32,
    ) -> Result<(Assessment, Vec<TrendPoint>), ServiceError> {
        if !one_run_answers.is_empty() {
            changegate_maturity::validate_answers(one_run_answers.keys()).map_err(invalid)?;
        }
        if months > changegate_maturity::MONTHS_MAX {
            return Err(invalid(MaturityError::MonthsOutOfRange(months)));
        }
        let now = self.now();
        let to = period.to.unwrap_or(now);
        let from = period.from.unwrap_or(to.plus_ms(-PERIOD_DEFAULT_DAYS * DAY_MS));
        // Refused before the whole store is read.
        changegate_maturity::check_period(from, to).map_err(invalid)?;
        let mut gathered = self.gather(from.min(trend_start(to, months)), to).await?;
        for (id, yes) in one_run_answers {
            gathered.answers.insert(id.clone(), Answer::from_file(*yes));
        }
        let input = gathered.input(from, to, now);
        let assessment = changegate_maturity::assess(&input).map_err(invalid)?;
        let trend =
            if months == 0 { Vec::new() } else { changegate_maturity::trend(&input, months).map_err(invalid)? };
        Ok((assessment, trend))
    }

    /// The assessment month by month: the last `months` months up to `to` (default now).
    pub async fn maturity_trend(
        &self,
        _caller: &Caller,
        to: Option<Timestamp>,
        months: u32,
    ) -> Result<Vec<TrendPoint>, ServiceError> {
        if months == 0 || months > changegate_maturity::MONTHS_MAX {
            return Err(invalid(MaturityError::MonthsOutOfRange(months)));
        }
        let now = self.now();
        let to = to.unwrap_or(now);
        let from = trend_start(to, months);
        let gathered = self.gather(from, to).await?;
        changegate_maturity::trend(&gathered.input(from, to, now), months).map_err(invalid)
    }

    /// Reads the records and the live evidence; checkpoints only from `from` − 31 days on.
    async fn gather(&self, from: Timestamp, to: Timestamp) -> Result<Gathered, ServiceError> {
        let store = self.store();
        let services = store.services().await?;
        let alert_rules = store
            .alert_rules()
            .await?
            .into_iter()
            .map(|rule| AlertRuleEvidence {
                name: rule.name.to_string(),
                kind: rule.rule.get("kind").and_then(|kind| kind.as_str()).unwrap_or("unknown").to_owned(),
                defined_at: rule.updated_at,
            })
            .collect();
        let risk_models = store
            .risk_models()
            .await?
            .into_iter()
            .map(|model| RiskModelEvidence { version: model.version, auc: model.auc, trained_at: model.trained_at })
            .collect();
        let ledger_verifications = store
            .events_of_type("ledger_verified", VERIFICATIONS_READ_MAX)
            .await?
            .into_iter()
            .filter_map(|envelope| match envelope.domain_event() {
                Ok(DomainEvent::LedgerVerified { ok, .. }) => {
                    Some(LedgerVerificationEvidence { at: envelope.time, ok })
                }
                _ => None,
            })
            .collect();
        let checkpoints = store.checkpoint_days(from.plus_ms(-CHECKPOINT_DAYS_BEFORE * DAY_MS), day_after(to)).await?;
        let live = LiveEvidence {
            policy_versions: store.policy_versions().await?.iter().map(|version| version.set_at).collect(),
            template_definitions: store.templates().await?.iter().map(|template| template.updated_at).collect(),
            alert_rules,
            risk_models,
            ledger_verifications,
            checkpoints,
            rollback_hooks: services
                .iter()
                .filter(|service| service.rollback_hook.is_some())
                .map(|service| service.name.to_string())
                .collect(),
        };
        let answers = self
            .answers_in_force()
            .await?
            .into_iter()
            .map(|answer| {
                let given = Answer {
                    yes: answer.yes,
                    answered_by: Some(answer.answered_by),
                    answered_at: Some(answer.answered_at),
                };
                (answer.id, given)
            })
            .collect();
        Ok(Gathered {
            changes: store.all_changes().await?,
            incidents: store.all_incidents().await?,
            services,
            live,
            answers,
        })
    }
}
