//! Reports of an assessment for people: Markdown (for a wiki or a pull request) and one
//! self-contained HTML file (styles and the radar chart inline, nothing fetched), plus the value
//! and threshold texts every face shares.

use std::fmt::Write;

use crate::assessment::{Assessment, CriterionResult};
use crate::checks::percent;
use crate::radar::radar;
use crate::rubric::{Comparison, Dimension, Unit};
use crate::trend::TrendPoint;

/// What the roadmap's order and impact mean, for people.
pub const ROADMAP_NOTE: &str = "Steps to each dimension's next level, the dimensions at the lowest level first, then by \
     impact: how many of the period's changes (or incidents) the step would bring in line; a step about the installation \
     as a whole counts every deployment of the period.";

/// A measured value for people, in its unit; `—` when nothing was measured.
pub fn value_text(unit: Unit, value: Option<f64>) -> String {
    let Some(value) = value else { return "—".to_owned() };
    match unit {
        Unit::Share => percent(value),
        Unit::Count => format!("{value:.0}"),
        Unit::Days => format!("{value:.1} days"),
        Unit::Auc => format!("{value:.3}"),
        Unit::Ratio => format!("{value:.2}"),
        Unit::Answer => (if value >= 0.5 { "yes" } else { "no" }).to_owned(),
    }
}

/// A criterion's threshold for people: `≥ 95.0%`, `≤ 90.0 days`, `yes`.
pub fn threshold_text(criterion: &CriterionResult) -> String {
    if criterion.unit == Unit::Answer {
        return "yes".to_owned();
    }
    let sign = match criterion.comparison {
        Comparison::AtLeast => "≥",
        Comparison::AtMost => "≤",
    };
    format!("{sign} {}", value_text(criterion.unit, Some(criterion.threshold)))
}

fn date(time: changegate_core::Timestamp) -> String {
    time.to_rfc3339().chars().take(10).collect()
}

/// A table cell of Markdown: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn trend_columns() -> String {
    Dimension::ALL.iter().map(|dimension| dimension.title()).collect::<Vec<_>>().join(" | ")
}

/// The assessment (and, when given, its trend) as Markdown.
pub fn markdown(assessment: &Assessment, trend: &[TrendPoint]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Change management maturity\n");
    let _ = writeln!(
        out,
        "Period {} to {} · {} production deployments ({} imported) · rubric {} · assessed {}\n",
        date(assessment.from),
        date(assessment.to),
        assessment.deployments,
        assessment.imported_deployments,
        assessment.rubric_version,
        date(assessment.assessed_at)
    );
    let _ = writeln!(
        out,
        "**Overall level: {} ({})**, the lowest dimension (CMMI staged view). A dimension reaches a level only when every \
         criterion of that level and of the levels below holds.\n",
        assessment.overall_level, assessment.overall_level_name
    );
    let _ = writeln!(out, "| Dimension | Level | Next level |\n|---|---|---|");
    for dimension in &assessment.dimensions {
        let next = if dimension.level >= crate::LEVEL_MAX {
            "—".to_owned()
        } else {
            format!("{} of level {} met", percent(dimension.progress), dimension.level + 1)
        };
        let _ = writeln!(out, "| {} | {} {} | {next} |", dimension.title, dimension.level, dimension.level_name);
    }
    if !assessment.unanswered_questions.is_empty() {
        let _ = writeln!(
            out,
            "\nUnanswered questions count as no: {}.",
            assessment.unanswered_questions.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", ")
        );
    }
    for dimension in &assessment.dimensions {
        let _ = writeln!(out, "\n## {}: level {} ({})\n", dimension.title, dimension.level, dimension.level_name);
        let _ = writeln!(out, "| | Level | Criterion | Value | Threshold | Evidence |\n|---|---|---|---|---|---|");
        for criterion in &dimension.criteria {
            let mut evidence = cell(&criterion.evidence.summary);
            let samples: Vec<&String> =
                criterion.evidence.sample_change_ids.iter().chain(&criterion.evidence.sample_incident_ids).collect();
            if !samples.is_empty() {
                let _ =
                    write!(evidence, " (e.g. {})", samples.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(", "));
            }
            let _ = writeln!(
                out,
                "| {} | {} | `{}` {} | {} | {} | {} |",
                if criterion.met { "✓" } else { "✗" },
                criterion.level,
                criterion.id,
                cell(&criterion.title),
                value_text(criterion.unit, criterion.value),
                threshold_text(criterion),
                evidence
            );
        }
    }
    let _ = writeln!(out, "\n## Roadmap\n\n{ROADMAP_NOTE}\n");
    if assessment.roadmap.is_empty() {
        let _ = writeln!(out, "Every dimension is at level 5: keep the feedback loop going.");
    }
    for (index, step) in assessment.roadmap.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. **{} {} → {}: {}** ({}). {} *Changegate: {}.* Now: {}. Impact: {}.",
            index + 1,
            step.dimension.title(),
            step.from_level,
            step.to_level,
            step.title,
            step.criterion,
            step.step,
            step.feature,
            step.evidence,
            step.impact
        );
    }
    if !trend.is_empty() {
        let _ = writeln!(out, "\n## Trend\n\nEach month assessed over the 90 days before its end.\n");
        let _ = writeln!(out, "| Month | Overall | {} | Deployments |", trend_columns());
        let _ = writeln!(out, "|---|---|{}---|", "---|".repeat(Dimension::ALL.len()));
        for point in trend {
            let levels: Vec<String> = point.dimensions.iter().map(|dimension| dimension.level.to_string()).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                point.month,
                point.overall_level,
                levels.join(" | "),
                point.deployments
            );
        }
    }
    out
}

/// Escapes text for HTML content and attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

const REPORT_STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;color:#1d2433;max-width:1100px;margin:2rem auto;padding:0 1rem}\
h1,h2{line-height:1.2}table{border-collapse:collapse;width:100%;margin:0.5rem 0 1.5rem}\
th,td{border-bottom:1px solid #d8dde6;padding:0.35rem 0.5rem;text-align:left;vertical-align:top}\
th{background:#f3f5f9}.met{color:#1a7f37;font-weight:600}.unmet{color:#b42318;font-weight:600}\
.muted{color:#5b6476}.mono{font-family:ui-monospace,monospace;font-size:0.9em}.overall{font-size:1.4rem}\
svg text{font:12px system-ui,sans-serif;fill:#1d2433}";

/// The radar chart as SVG with its styling in attributes (no stylesheet needed).
fn radar_svg(assessment: &Assessment) -> String {
    let chart = radar(&assessment.levels());
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" aria-labelledby=\"radar-title radar-desc\">\
         <title id=\"radar-title\">Maturity by dimension</title><desc id=\"radar-desc\">{}</desc>",
        chart.width,
        chart.height,
        chart.width,
        chart.height,
        escape(&chart.description)
    );
    for ring in &chart.rings {
        let _ = write!(
            svg,
            "<polygon points=\"{}\" fill=\"none\" stroke=\"#c9d0dc\" stroke-width=\"1\"/>\
             <text x=\"{}\" y=\"{}\" fill=\"#5b6476\">{}</text>",
            ring.points, ring.label_x, ring.label_y, ring.level
        );
    }
    for axis in &chart.axes {
        let _ = write!(
            svg,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#c9d0dc\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"{}\">{} ({})</text>",
            chart.center_x,
            chart.center_y,
            axis.x,
            axis.y,
            axis.label_x,
            axis.label_y,
            axis.anchor,
            escape(&axis.title),
            axis.level
        );
    }
    let _ = write!(
        svg,
        "<polygon points=\"{}\" fill=\"#3b6fd4\" fill-opacity=\"0.25\" stroke=\"#3b6fd4\" stroke-width=\"2\"/>",
        chart.shape
    );
    for axis in &chart.axes {
        let _ = write!(svg, "<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"#3b6fd4\"/>", axis.point_x, axis.point_y);
    }
    svg.push_str("</svg>");
    svg
}

/// The assessment (and, when given, its trend) as one self-contained HTML page.
pub fn html(assessment: &Assessment, trend: &[TrendPoint]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Change management maturity</title>\
         <style>{REPORT_STYLE}</style></head><body><h1>Change management maturity</h1>"
    );
    let _ = write!(
        out,
        "<p class=\"muted\">Period {} to {} · {} production deployments ({} imported) · rubric {} · assessed {}</p>",
        date(assessment.from),
        date(assessment.to),
        assessment.deployments,
        assessment.imported_deployments,
        escape(&assessment.rubric_version),
        date(assessment.assessed_at)
    );
    let _ = write!(
        out,
        "<p class=\"overall\">Overall level <strong>{} ({})</strong></p><p class=\"muted\">The lowest dimension, as in \
         CMMI's staged view. A dimension reaches a level only when every criterion of that level and of the levels \
         below holds.</p>",
        assessment.overall_level,
        escape(&assessment.overall_level_name)
    );
    out.push_str(&radar_svg(assessment));
    out.push_str("<table><thead><tr><th>Dimension</th><th>Level</th><th>Next level</th></tr></thead><tbody>");
    for dimension in &assessment.dimensions {
        let next = if dimension.level >= crate::LEVEL_MAX {
            "—".to_owned()
        } else {
            format!("{} of level {} met", percent(dimension.progress), dimension.level + 1)
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{} {}</td><td>{}</td></tr>",
            escape(&dimension.title),
            dimension.level,
            escape(&dimension.level_name),
            escape(&next)
        );
    }
    out.push_str("</tbody></table>");
    if !assessment.unanswered_questions.is_empty() {
        let _ = write!(
            out,
            "<p class=\"muted\">Unanswered questions count as no: {}.</p>",
            escape(&assessment.unanswered_questions.join(", "))
        );
    }
    for dimension in &assessment.dimensions {
        let _ = write!(
            out,
            "<h2>{}: level {} ({})</h2><table><thead><tr><th></th><th>Level</th><th>Criterion</th><th>Value</th>\
             <th>Threshold</th><th>Evidence</th></tr></thead><tbody>",
            escape(&dimension.title),
            dimension.level,
            escape(&dimension.level_name)
        );
        for criterion in &dimension.criteria {
            let samples: Vec<&String> =
                criterion.evidence.sample_change_ids.iter().chain(&criterion.evidence.sample_incident_ids).collect();
            let samples_text = if samples.is_empty() {
                String::new()
            } else {
                format!(
                    " <span class=\"mono\">(e.g. {})</span>",
                    escape(&samples.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(", "))
                )
            };
            let _ = write!(
                out,
                "<tr><td class=\"{}\">{}</td><td>{}</td><td><span class=\"mono\">{}</span><br>{}</td><td>{}</td><td>{}</td>\
                 <td>{}{samples_text}</td></tr>",
                if criterion.met { "met" } else { "unmet" },
                if criterion.met { "met" } else { "unmet" },
                criterion.level,
                escape(&criterion.id),
                escape(&criterion.title),
                escape(&value_text(criterion.unit, criterion.value)),
                escape(&threshold_text(criterion)),
                escape(&criterion.evidence.summary)
            );
        }
        out.push_str("</tbody></table>");
    }
    let _ = write!(out, "<h2>Roadmap</h2><p class=\"muted\">{}</p>", escape(ROADMAP_NOTE));
    if assessment.roadmap.is_empty() {
        out.push_str("<p>Every dimension is at level 5: keep the feedback loop going.</p>");
    } else {
        out.push_str("<ol>");
        for step in &assessment.roadmap {
            let _ = write!(
                out,
                "<li><strong>{} {} → {}: {}</strong> <span class=\"mono\">{}</span><br>{} <em>Changegate: {}.</em><br>\
                 <span class=\"muted\">Now: {}. Impact: {}.</span></li>",
                escape(step.dimension.title()),
                step.from_level,
                step.to_level,
                escape(&step.title),
                escape(&step.criterion),
                escape(&step.step),
                escape(&step.feature),
                escape(&step.evidence),
                step.impact
            );
        }
        out.push_str("</ol>");
    }
    if !trend.is_empty() {
        let _ = write!(
            out,
            "<h2>Trend</h2><p class=\"muted\">Each month assessed over the 90 days before its end.</p><table><thead><tr>\
             <th>Month</th><th>Overall</th>{}<th>Deployments</th></tr></thead><tbody>",
            Dimension::ALL
                .iter()
                .map(|dimension| format!("<th>{}</th>", escape(dimension.title())))
                .collect::<String>()
        );
        for point in trend {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td>{}<td>{}</td></tr>",
                escape(&point.month),
                point.overall_level,
                point.dimensions.iter().map(|dimension| format!("<td>{}</td>", dimension.level)).collect::<String>(),
                point.deployments
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::History;

    #[test]
    fn reports_name_every_dimension_and_escape_what_they_show() {
        // Given an assessment whose evidence carries markup, when reported, then both reports name
        // every dimension and the HTML shows the markup as text.
        let history = History::new();
        let mut assessment = history.assess();
        assessment.dimensions[0].criteria[0].evidence.summary = "<script>alert(1)</script> | pipe".into();
        let markdown = markdown(&assessment, &[]);
        let html = html(&assessment, &[]);
        for dimension in Dimension::ALL {
            assert!(markdown.contains(dimension.title()), "{dimension:?}");
            assert!(html.contains(&escape(dimension.title())), "{dimension:?}");
        }
        assert!(markdown.contains("\\| pipe"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("<svg"));
        assert!(html.starts_with("<!doctype html>"));
    }

    #[test]
    fn values_read_in_their_units() {
        assert_eq!(value_text(Unit::Share, Some(0.847)), "84.7%");
        assert_eq!(value_text(Unit::Days, Some(3.25)), "3.2 days");
        assert_eq!(value_text(Unit::Answer, Some(1.0)), "yes");
        assert_eq!(value_text(Unit::Auc, None), "—");
    }
}
