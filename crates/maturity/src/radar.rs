//! The radar chart's geometry: one axis per dimension, rings at levels 1 to 5, and the polygon of
//! the levels reached. Both the web page (a template) and the self-contained HTML report draw
//! from this one computation, so they show the same chart.

use serde::Serialize;

use crate::assessment::DimensionLevel;
use crate::rubric::LEVEL_MAX;

/// Radius of level 5, in SVG user units.
const RADIUS: f64 = 120.0;
/// Room around the chart for the axis labels ("Audit & compliance (3)" at 12 px is about 145
/// units wide and starts about 130 units from the centre).
const MARGIN_HORIZONTAL: f64 = 170.0;
const MARGIN_VERTICAL: f64 = 40.0;
/// How far beyond level 5 a label sits.
const LABEL_OFFSET: f64 = 18.0;

/// One ring (a level).
#[derive(Clone, Debug, Serialize)]
pub struct RadarRing {
    pub level: u8,
    /// `points` of the ring's polygon.
    pub points: String,
    /// Where the level's number is written (on the first axis).
    pub label_x: f64,
    pub label_y: f64,
}

/// One axis (a dimension).
#[derive(Clone, Debug, Serialize)]
pub struct RadarAxis {
    pub name: String,
    pub title: String,
    pub level: u8,
    /// The axis' end (level 5).
    pub x: f64,
    pub y: f64,
    /// The dimension's point on the shape.
    pub point_x: f64,
    pub point_y: f64,
    pub label_x: f64,
    pub label_y: f64,
    /// `start`, `middle` or `end`: the label's `text-anchor`.
    pub anchor: &'static str,
}

/// The chart.
#[derive(Clone, Debug, Serialize)]
pub struct RadarChart {
    pub width: f64,
    pub height: f64,
    pub center_x: f64,
    pub center_y: f64,
    pub rings: Vec<RadarRing>,
    pub axes: Vec<RadarAxis>,
    /// `points` of the polygon of the levels reached.
    pub shape: String,
    /// For the `<desc>`: the levels in words.
    pub description: String,
}

/// A coordinate rounded to a tenth of a unit.
fn coordinate(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// The radar of these levels, one axis each, clockwise from the top.
pub fn radar(levels: &[DimensionLevel]) -> RadarChart {
    let (center_x, center_y) = (MARGIN_HORIZONTAL + RADIUS, MARGIN_VERTICAL + RADIUS);
    let count = levels.len().max(1) as f64;
    let position = |index: usize, distance: f64| {
        let angle = -std::f64::consts::FRAC_PI_2 + index as f64 * std::f64::consts::TAU / count;
        (coordinate(center_x + distance * angle.cos()), coordinate(center_y + distance * angle.sin()))
    };
    let at_level = |level: u8| RADIUS * f64::from(level) / f64::from(LEVEL_MAX);
    let points = |distance: &dyn Fn(usize) -> f64| {
        (0..levels.len())
            .map(|index| {
                let (x, y) = position(index, distance(index));
                format!("{x},{y}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let rings = (1..=LEVEL_MAX)
        .map(|level| {
            let (label_x, label_y) = position(0, at_level(level));
            RadarRing { level, points: points(&|_| at_level(level)), label_x: label_x + 4.0, label_y: label_y + 4.0 }
        })
        .collect();
    let axes = levels
        .iter()
        .enumerate()
        .map(|(index, dimension)| {
            let (x, y) = position(index, RADIUS);
            let (point_x, point_y) = position(index, at_level(dimension.level));
            let (label_x, label_y) = position(index, RADIUS + LABEL_OFFSET);
            let anchor = if (label_x - center_x).abs() < 1.0 {
                "middle"
            } else if label_x > center_x {
                "start"
            } else {
                "end"
            };
            RadarAxis {
                name: dimension.name.as_str().to_owned(),
                title: dimension.name.title().to_owned(),
                level: dimension.level,
                x,
                y,
                point_x,
                point_y,
                label_x,
                label_y: label_y + if label_y > center_y { 10.0 } else { 0.0 },
                anchor,
            }
        })
        .collect();
    let description = levels
        .iter()
        .map(|dimension| format!("{}: level {}", dimension.name.title(), dimension.level))
        .collect::<Vec<_>>()
        .join("; ");
    RadarChart {
        width: 2.0 * (MARGIN_HORIZONTAL + RADIUS),
        height: 2.0 * (MARGIN_VERTICAL + RADIUS),
        center_x,
        center_y,
        rings,
        axes,
        shape: points(&|index| at_level(levels[index].level)),
        description: format!("Maturity level (1 to 5) by dimension. {description}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rubric::Dimension;

    #[test]
    fn the_first_axis_points_up_and_levels_scale_the_shape() {
        // Given five dimensions at levels 5, 1, 1, 1, 1, when the radar is computed, then the
        // process point is at the top of the outer ring and the others on the inner ring.
        let levels: Vec<DimensionLevel> = Dimension::ALL
            .iter()
            .enumerate()
            .map(|(index, name)| DimensionLevel { name: *name, level: if index == 0 { 5 } else { 1 } })
            .collect();
        let chart = radar(&levels);
        assert_eq!(chart.axes.len(), 5);
        assert_eq!((chart.axes[0].point_x, chart.axes[0].point_y), (chart.center_x, chart.center_y - RADIUS));
        assert_eq!(chart.axes[0].anchor, "middle");
        let distance = |axis: &RadarAxis| (axis.point_x - chart.center_x).hypot(axis.point_y - chart.center_y);
        assert!((distance(&chart.axes[2]) - RADIUS / 5.0).abs() < 0.2);
        assert_eq!(chart.rings.len(), 5);
        assert!(chart.description.contains("Process: level 5"));
    }
}
