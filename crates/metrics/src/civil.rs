//! UTC days and ISO weeks as integers, the two calendar units the metrics group by: the core's one
//! civil-date module ([`changegate_core::civil`]), which states the numbering.

pub use changegate_core::civil::{
    DAY_MS, HOUR_MS, WEEK_MS, date_label, day_of, iso_week_label, week_of, week_start_ms, weekday_of,
};
