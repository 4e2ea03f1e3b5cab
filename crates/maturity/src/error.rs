//! The assessment's errors: input that cannot be assessed, each with the field it concerns so the
//! faces can show it as a field error with the stable code `validation_failed`.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MaturityError {
    /// `from` is not before `to`, or the period is longer than [`crate::PERIOD_MAX_DAYS`].
    #[error("{message}")]
    InvalidPeriod { field: &'static str, message: String },
    /// An answer names no question of the rubric.
    #[error("there is no question `{0}`; `changegate assess --questions` lists them")]
    UnknownQuestion(String),
    /// An answer set with nothing in it.
    #[error("no answers given: give at least one question id with true or false")]
    NoAnswers,
    /// A trend over more months than [`crate::MONTHS_MAX`], or over none.
    #[error("months must be between 1 and {max}, not {0}", max = crate::MONTHS_MAX)]
    MonthsOutOfRange(u32),
}

impl MaturityError {
    /// The input field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            MaturityError::InvalidPeriod { field, .. } => field,
            MaturityError::UnknownQuestion(_) | MaturityError::NoAnswers => "answers",
            MaturityError::MonthsOutOfRange(_) => "months",
        }
    }
}
