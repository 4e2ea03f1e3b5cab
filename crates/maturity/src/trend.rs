//! The trend: the assessment month by month, so a process owner sees levels move.
//!
//! Each month is assessed over the 90 days before its end (the last month over the 90 days
//! before the trend's end), with the same rubric, thresholds and samples as a single assessment;
//! a calendar month alone would often be too small a sample. Live evidence counts as of each
//! window's end. The questionnaire answers in force now apply to every month: answers are not
//! dated facts about the past.

use serde::{Deserialize, Serialize};

use changegate_core::Timestamp;

use crate::assessment::{DimensionLevel, assess};
use crate::civil::{DAY_MS, Month};
use crate::input::AssessmentInput;
use crate::{MaturityError, PERIOD_DEFAULT_DAYS};

/// The most months one trend may cover.
pub const MONTHS_MAX: u32 = 36;

/// One month of the trend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// `2026-03`.
    pub month: String,
    /// The window assessed: the 90 days before `to`.
    pub from: Timestamp,
    pub to: Timestamp,
    pub overall_level: u8,
    pub dimensions: Vec<DimensionLevel>,
    /// Production deployments in the window.
    pub deployments: u64,
}

/// The last `months` months up to `input.to`, oldest first. `input.from` is not used: each month
/// has its own window.
pub fn trend(input: &AssessmentInput<'_>, months: u32) -> Result<Vec<TrendPoint>, MaturityError> {
    if months == 0 || months > MONTHS_MAX {
        return Err(MaturityError::MonthsOutOfRange(months));
    }
    let last = Month::of(input.to.plus_ms(-1));
    let mut month = last;
    for _ in 1..months {
        month = month.previous();
    }
    let mut points = Vec::with_capacity(months as usize);
    loop {
        let end = if month == last { input.to } else { month.next().start() };
        let window = AssessmentInput { from: end.plus_ms(-PERIOD_DEFAULT_DAYS * DAY_MS), to: end, ..*input };
        let assessment = assess(&window)?;
        points.push(TrendPoint {
            month: month.label(),
            from: window.from,
            to: window.to,
            overall_level: assessment.overall_level,
            dimensions: assessment.levels(),
            deployments: assessment.deployments,
        });
        if month == last {
            break;
        }
        month = month.next();
    }
    Ok(points)
}
