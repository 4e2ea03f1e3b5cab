//! Working time: the calendar arithmetic of the history (weekdays, hours, midnights) and when
//! changes are created and worked on.
//!
//! Why a room of its own: these are pure functions of a time (and the dice), shared by every step
//! of the plan; keeping them apart keeps the planner about what happens, not when.

use super::*;

pub(super) fn weekday(time: i64) -> i64 {
    (time.div_euclid(DAY) + 3).rem_euclid(7) // 1970-01-01 was a Thursday; 0 = Monday
}

pub(super) fn hour(time: i64) -> i64 {
    time.rem_euclid(DAY) / HOUR
}

pub(super) fn midnight(time: i64) -> i64 {
    time.div_euclid(DAY) * DAY
}

pub(super) fn whole_seconds(time: i64) -> i64 {
    time.div_euclid(SECOND) * SECOND
}

/// How likely a change is created at this hour of the week, relative to the busiest hour.
pub(super) fn working_weight(time: i64) -> f64 {
    const HOURS: [f64; 24] = [
        0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.05, 0.2, 0.6, 1.0, 1.0, 0.9, 0.5, 0.8, 1.0, 0.95, 0.8, 0.5, 0.25, 0.12,
        0.06, 0.06, 0.04, 0.03,
    ];
    const DAYS: [f64; 7] = [0.95, 1.0, 1.0, 0.95, 0.7, 0.06, 0.04];
    DAYS[weekday(time) as usize] * HOURS[hour(time) as usize]
}

/// A creation time in `[start, end)`: volume grows linearly over the history, and normal work
/// happens on weekdays in working hours, and less during the holidays; emergencies happen
/// whenever.
pub(super) fn creation_time(
    dice: &mut Dice,
    calendar: &Calendar,
    start: i64,
    span: i64,
    change_type: ChangeType,
) -> i64 {
    loop {
        let u = dice.unit();
        // Inverse CDF of a density proportional to 1 + GROWTH·x on [0, 1).
        let x = ((1.0 + 2.0 * GROWTH * u * (1.0 + GROWTH / 2.0)).sqrt() - 1.0) / GROWTH;
        let time = whole_seconds(start + (x.clamp(0.0, 1.0) * span as f64) as i64).min(start + span - SECOND);
        let weight = working_weight(time);
        let weight = if change_type == ChangeType::Emergency {
            weight.max(0.4)
        } else if calendar.in_global_freeze(time) {
            weight * HOLIDAY_ACTIVITY
        } else {
            weight
        };
        if dice.chance(weight) {
            return time;
        }
    }
}

/// The next working-hours moment at or after `time` (weekdays 09:00–17:00).
pub(super) fn next_working_slot(dice: &mut Dice, time: i64) -> i64 {
    let day = weekday(time);
    let in_hours = (9..17).contains(&hour(time));
    if day < 5 && in_hours {
        return time;
    }
    let mut next = midnight(time);
    if day < 5 && hour(time) < 9 {
        return next + 9 * HOUR + dice.between(0, 180) * MINUTE;
    }
    loop {
        next += DAY;
        if weekday(next) < 5 {
            return next + 9 * HOUR + 30 * MINUTE + dice.between(0, 360) * MINUTE;
        }
    }
}

/// The first full hour at or after `time`: the overdue sweep runs hourly.
pub(super) fn next_full_hour(time: i64) -> i64 {
    time.div_euclid(HOUR) * HOUR + if time.rem_euclid(HOUR) == 0 { 0 } else { HOUR }
}
