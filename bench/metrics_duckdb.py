#!/usr/bin/env python3
"""DuckDB baseline for the delivery metrics: the same report, computed by SQL from the same rows.

Usage: metrics_duckdb.py DIRECTORY BENCH_OUTPUT

DIRECTORY holds changes.csv, incidents.csv and report-<query>.json written by metrics_bench;
BENCH_OUTPUT is the bench's stdout, whose `RESULT {...}` lines give each query's filter, our
timings and our top-level values. The CSVs are loaded into in-memory tables (not timed). Then,
for each query and REPETITIONS times, DuckDB computes the whole report from the raw rows (timed):
the deployments with their derived facts (counted incidents joined, previous deployment and next
successful deployment of the service by window functions, over the whole history because a
neighbour may lie outside the period), the period, and the aggregates of the top level, the
breakdowns by service, team and environment, the weekly trend, the risk distribution and the
time between failures. Percentiles use quantile_disc, which is nearest rank like ours.

Every value is then compared with ours: the top-level keys of every query, and the breakdown
rows, weekly points, risk buckets and MTBF from the report files. Any difference beyond the last
rounded digit is printed and makes the script exit 1. Finally it prints the timing table.
"""
import datetime
import json
import math
import statistics
import sys
import time

import duckdb

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
WEEK_MS = 7 * DAY_MS
PRODUCTION = ("production", "prod", "prod-eu")
REPETITIONS = 5

CHANGE_COLUMNS = {
    "number": "BIGINT", "service": "VARCHAR", "team": "VARCHAR", "environment": "VARCHAR",
    "change_type": "VARCHAR", "created_at_ms": "BIGINT", "submitted_at_ms": "BIGINT",
    "approved_at_ms": "BIGINT", "started_at_ms": "BIGINT", "completed_at_ms": "BIGINT",
    "outcome": "VARCHAR", "first_commit_at_ms": "BIGINT", "risk_score": "INTEGER", "risk_class": "VARCHAR",
}
INCIDENT_COLUMNS = {
    "number": "BIGINT", "service": "VARCHAR", "severity": "VARCHAR", "detected_at_ms": "BIGINT",
    "resolved_at_ms": "BIGINT", "downtime_minutes": "BIGINT", "counted_cause": "BIGINT",
}

# Deployments with everything derived, over the whole history. {service_filter} narrows it to
# one service when the query names one: neighbours are always of the same service, so that is
# exact, and it spares DuckDB the other services' windows.
DERIVED_SQL = """
CREATE OR REPLACE TEMP TABLE derived AS
WITH dep AS (
  SELECT number, service, team, environment, change_type, outcome, completed_at_ms, risk_score, risk_class,
         CASE WHEN outcome = 'success' THEN completed_at_ms - coalesce(first_commit_at_ms, created_at_ms) END AS lead_ms,
         approved_at_ms - submitted_at_ms AS approval_ms,
         CASE WHEN approved_at_ms <= completed_at_ms THEN completed_at_ms - approved_at_ms END AS implement_ms
  FROM changes
  WHERE environment IN ('production', 'prod', 'prod-eu') AND completed_at_ms IS NOT NULL
    AND outcome IN ('success', 'failed', 'rolled_back') {service_filter}
),
caused AS (
  SELECT counted_cause AS cause, count(*) AS incidents, count(resolved_at_ms) AS resolved,
         sum(resolved_at_ms - detected_at_ms) AS resolution_sum_ms,
         CASE WHEN count(resolved_at_ms) = count(*) THEN max(resolved_at_ms) END AS all_resolved_at_ms,
         sum(coalesce(downtime_minutes, 0)) AS downtime_minutes,
         count_if(severity = 'sev1') AS sev1, count_if(severity = 'sev2') AS sev2,
         count_if(severity = 'sev3') AS sev3, count_if(severity = 'sev4') AS sev4
  FROM incidents WHERE counted_cause IS NOT NULL GROUP BY counted_cause
),
joined AS (
  SELECT d.*, c.incidents, c.resolved, c.resolution_sum_ms, c.all_resolved_at_ms, c.downtime_minutes,
         c.sev1, c.sev2, c.sev3, c.sev4,
         (d.outcome IN ('failed', 'rolled_back') OR c.cause IS NOT NULL) AS failed
  FROM dep d LEFT JOIN caused c ON c.cause = d.number
),
ordered AS (
  SELECT *,
         lag(failed) OVER (PARTITION BY service ORDER BY completed_at_ms, number) AS previous_failed,
         min(CASE WHEN outcome = 'success' THEN completed_at_ms END) OVER (
           PARTITION BY service ORDER BY completed_at_ms, number
           ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_success_ms
  FROM joined
)
SELECT *,
       CASE WHEN NOT failed THEN NULL
            WHEN incidents IS NOT NULL THEN all_resolved_at_ms - completed_at_ms
            ELSE next_success_ms - completed_at_ms END AS recovery_ms,
       failed AND (CASE WHEN incidents IS NOT NULL THEN all_resolved_at_ms IS NULL
                        ELSE next_success_ms IS NULL END) AS unrecovered,
       change_type = 'emergency' AND coalesce(previous_failed, false) AS rework
FROM ordered
"""

GROUP_AGGREGATES = """
  count(*) AS deployments, count(DISTINCT completed_at_ms // 86400000) AS deployment_days,
  quantile_disc(lead_ms, 0.5) AS lead_median, quantile_disc(lead_ms, 0.9) AS lead_p90,
  quantile_disc(approval_ms, 0.5) AS approval_median, quantile_disc(approval_ms, 0.9) AS approval_p90,
  quantile_disc(implement_ms, 0.5) AS implement_median, quantile_disc(recovery_ms, 0.5) AS recovery_median,
  count_if(failed) AS failed, count_if(unrecovered) AS unrecovered, count_if(rework) AS rework,
  count_if(change_type = 'standard') AS standard, count_if(change_type = 'normal') AS normal,
  count_if(change_type = 'emergency') AS emergency,
  coalesce(sum(incidents), 0) AS incidents, coalesce(sum(resolved), 0) AS resolved,
  coalesce(sum(resolution_sum_ms), 0) AS resolution_sum_ms, coalesce(sum(downtime_minutes), 0) AS downtime,
  coalesce(sum(sev1), 0) AS sev1, coalesce(sum(sev2), 0) AS sev2, coalesce(sum(sev3), 0) AS sev3,
  coalesce(sum(sev4), 0) AS sev4
"""


def load(con, directory):
    for table, columns in (("changes", CHANGE_COLUMNS), ("incidents", INCIDENT_COLUMNS)):
        types = ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items())
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv('{directory}/{table}.csv', header = true, "
            f"columns = {{{types}}})"
        )


def where_clause(query):
    """The filter on service, team and environment as SQL with its parameters."""
    parts, parameters = [], []
    for column in ("service", "team", "environment"):
        if query.get(column) is not None:
            parts.append(f"{column} = ?")
            parameters.append(query[column])
    return (" AND ".join(parts) or "true"), parameters


def rows_as_dicts(cursor):
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def compute(con, query, top_only=False):
    """The raw aggregates of one query's report, as DuckDB computes them."""
    service_filter = ""
    parameters = []
    if query.get("service") is not None:
        service_filter = "AND service = ?"
        parameters = [query["service"]]
    con.execute(DERIVED_SQL.format(service_filter=service_filter), parameters)
    where, filter_parameters = where_clause(query)
    from_ms, to_ms = query.get("from_ms"), query.get("to_ms")
    if from_ms is None or to_ms is None:
        first, last = con.execute(
            f"SELECT min(completed_at_ms) // 86400000, max(completed_at_ms) // 86400000 FROM derived WHERE {where}",
            filter_parameters,
        ).fetchone()
        if first is not None:
            if from_ms is None and to_ms is None:
                from_ms, to_ms = first * DAY_MS, (last + 1) * DAY_MS
            elif from_ms is None:
                from_ms = min(first * DAY_MS, to_ms)
            else:
                to_ms = max((last + 1) * DAY_MS, from_ms)
        else:
            from_ms = to_ms = from_ms if from_ms is not None else to_ms
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE q AS SELECT * FROM derived WHERE {where} "
        "AND completed_at_ms >= ? AND completed_at_ms < ?",
        filter_parameters + [from_ms, to_ms],
    )
    result = {"period": (from_ms, to_ms)}
    result["top"] = rows_as_dicts(con.execute(f"SELECT {GROUP_AGGREGATES} FROM q"))[0]
    if top_only:
        return result
    for dimension in ("service", "team", "environment"):
        result[dimension] = rows_as_dicts(
            con.execute(f"SELECT {dimension} AS name, {GROUP_AGGREGATES} FROM q GROUP BY {dimension} ORDER BY name")
        )
    result["weekly"] = rows_as_dicts(con.execute(
        "SELECT (completed_at_ms // 86400000 + 3) // 7 AS week, count(*) AS deployments, count_if(failed) AS failed, "
        "quantile_disc(lead_ms, 0.5) AS lead_median, quantile_disc(approval_ms, 0.5) AS approval_median, "
        "coalesce(sum(resolved), 0) AS resolved, coalesce(sum(resolution_sum_ms), 0) AS resolution_sum_ms "
        "FROM q GROUP BY week ORDER BY week"
    ))
    result["risk"] = rows_as_dicts(con.execute(
        "SELECT least(risk_score // 10, 9) AS bucket, count(*) AS deployments, count_if(failed) AS failures "
        "FROM q WHERE risk_score IS NOT NULL GROUP BY bucket ORDER BY bucket"
    ))
    result["mtbf"] = rows_as_dicts(con.execute(
        "SELECT q.service AS name, count(*) AS incidents, min(i.detected_at_ms) AS first_ms, "
        "max(i.detected_at_ms) AS last_ms FROM incidents i JOIN q ON i.counted_cause = q.number "
        "GROUP BY q.service ORDER BY name"
    ))
    return result


def round_half_away(value, decimals):
    scale = 10.0 ** decimals
    return math.copysign(math.floor(abs(value * scale) + 0.5), value) / scale


def hours(value_ms):
    return None if value_ms is None else round_half_away(value_ms / HOUR_MS, 3)


def ratio(numerator, denominator):
    return round_half_away(numerator / denominator, 4) if denominator > 0 else None


def band_lower_is_better(value, elite, high, medium):
    if value is None:
        return None
    return "elite" if value < elite else "high" if value < high else "medium" if value < medium else "low"


def group_metrics(raw, period_ms):
    """Mirrors GroupMetrics::from_totals in crates/metrics/src/report.rs."""
    deployments = raw["deployments"]
    positive = period_ms if period_ms is not None and period_ms > 0 else None
    cfr = ratio(raw["failed"], deployments)
    days = raw["deployment_days"]
    if positive is None:
        frequency_band = None
    elif days * 7 * DAY_MS >= 5 * positive:
        frequency_band = "elite"
    elif days * 7 * DAY_MS >= positive:
        frequency_band = "high"
    elif days * 30 * DAY_MS >= positive:
        frequency_band = "medium"
    else:
        frequency_band = "low"
    if deployments == 0:
        cfr_band = None
    else:
        failed100 = raw["failed"] * 100
        cfr_band = ("elite" if failed100 <= 5 * deployments else "high" if failed100 <= 10 * deployments
                    else "medium" if failed100 <= 15 * deployments else "low")
    resolved = raw["resolved"]
    return {
        "deployments": deployments,
        "deployment_frequency_per_day": None if positive is None else round_half_away(deployments * float(DAY_MS) / positive, 3),
        "deployment_days_per_week": None if positive is None else round_half_away(days * float(WEEK_MS) / positive, 3),
        "lead_time_median_hours": hours(raw["lead_median"]),
        "lead_time_p90_hours": hours(raw["lead_p90"]),
        "change_failure_rate": cfr,
        "change_success_rate": None if cfr is None else round_half_away(1.0 - cfr, 4),
        "failed_deployments": raw["failed"],
        "failed_deployment_recovery_median_hours": hours(raw["recovery_median"]),
        "failed_deployments_unrecovered": raw["unrecovered"],
        "deployment_rework_rate": ratio(raw["rework"], deployments),
        "rework_deployments": raw["rework"],
        "approval_time_median_hours": hours(raw["approval_median"]),
        "approval_time_p90_hours": hours(raw["approval_p90"]),
        "time_to_implement_median_hours": hours(raw["implement_median"]),
        "change_related_incidents": int(raw["incidents"]),
        "change_related_incidents_per_deployment": ratio(int(raw["incidents"]), deployments),
        "change_related_incidents_unresolved": int(raw["incidents"]) - int(resolved),
        "mttr_hours": round_half_away(int(raw["resolution_sum_ms"]) / int(resolved) / HOUR_MS, 3) if resolved > 0 else None,
        "downtime_minutes_from_changes": int(raw["downtime"]),
        "changes_by_type": {"standard": raw["standard"], "normal": raw["normal"], "emergency": raw["emergency"]},
        "change_related_incidents_by_severity": {f"sev{level}": int(raw[f"sev{level}"]) for level in range(1, 5)},
        "bands": {
            "deployment_frequency": frequency_band,
            "lead_time": band_lower_is_better(raw["lead_median"], DAY_MS, 7 * DAY_MS, 30 * DAY_MS),
            "change_failure_rate": cfr_band,
            "recovery_time": band_lower_is_better(raw["recovery_median"], HOUR_MS, DAY_MS, 7 * DAY_MS),
        },
    }


def same(ours, theirs):
    """Equal, or floats within one unit of the last rounded digit (3 decimals or 4)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(same(ours[key], theirs[key]) for key in ours)
    if isinstance(ours, float) or isinstance(theirs, float):
        return ours is not None and theirs is not None and abs(float(ours) - float(theirs)) <= 1.0001e-3
    return ours == theirs


def compare(label, result, ours_values, our_report, mismatches):
    from_ms, to_ms = result["period"]
    period_ms = None if from_ms is None else to_ms - from_ms
    theirs = group_metrics(result["top"], period_ms)
    for key, value in ours_values.items():
        if key == "period":
            expected = None if from_ms is None else {"from_ms": from_ms, "to_ms": to_ms}
            got = None if value is None else {"from_ms": value["from_ms"], "to_ms": value["to_ms"]}
        else:
            expected, got = theirs[key], value
        if not same(got, expected):
            mismatches.append(f"{label}: {key}: ours {got} DuckDB {expected}")
    for dimension, report_key in (("service", "by_service"), ("team", "by_team"), ("environment", "by_environment")):
        our_rows = {row["name"]: row for row in our_report[report_key]}
        their_rows = {row["name"]: group_metrics(row, period_ms) for row in result[dimension]}
        if our_rows.keys() != their_rows.keys():
            mismatches.append(f"{label}: {report_key} names differ: {sorted(our_rows)} vs {sorted(their_rows)}")
            continue
        for name, row in their_rows.items():
            for key, value in row.items():
                if key in our_rows[name] and not same(our_rows[name][key], value):
                    mismatches.append(f"{label}: {report_key}[{name}].{key}: ours {our_rows[name][key]} DuckDB {value}")
    their_weeks = {row["week"]: row for row in result["weekly"]}
    for point in our_report["weekly"]:
        week_start_day = (datetime.date.fromisoformat(point["week_start"]) - datetime.date(1970, 1, 1)).days
        week = (week_start_day + 3) // 7
        row = their_weeks.pop(week, None)
        expected = {
            "deployments": 0 if row is None else row["deployments"],
            "change_failure_rate": None if row is None else ratio(row["failed"], row["deployments"]),
            "lead_time_median_hours": None if row is None else hours(row["lead_median"]),
            "approval_time_median_hours": None if row is None else hours(row["approval_median"]),
            "mttr_hours": None if row is None or row["resolved"] == 0
            else round_half_away(int(row["resolution_sum_ms"]) / int(row["resolved"]) / HOUR_MS, 3),
        }
        for key, value in expected.items():
            if not same(point[key], value):
                mismatches.append(f"{label}: weekly {point['week']}.{key}: ours {point[key]} DuckDB {value}")
    if their_weeks:
        mismatches.append(f"{label}: DuckDB has weeks the report lacks: {sorted(their_weeks)}")
    buckets = {row["bucket"]: row for row in result["risk"]}
    for position, row in enumerate(our_report["risk_distribution"]):
        theirs_row = buckets.get(position, {"deployments": 0, "failures": 0})
        if (row["deployments"], row["failures"]) != (theirs_row["deployments"], theirs_row["failures"]):
            mismatches.append(f"{label}: risk bucket {row['risk']}: ours {row} DuckDB {theirs_row}")
    for row in result["mtbf"]:
        expected = (round_half_away((row["last_ms"] - row["first_ms"]) / (row["incidents"] - 1) / HOUR_MS, 3)
                    if row["incidents"] >= 2 else None)
        got = our_report["mtbf_hours_by_service"].get(row["name"])
        if not same(got, expected):
            mismatches.append(f"{label}: mtbf[{row['name']}]: ours {got} DuckDB {expected}")


def timed(function):
    timings = []
    result = None
    for _ in range(REPETITIONS):
        started = time.perf_counter()
        result = function()
        timings.append((time.perf_counter() - started) * 1000.0)
    timings.sort()
    return result, timings[0], statistics.median(timings)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    directory, bench_output = sys.argv[1], sys.argv[2]
    results = []
    with open(bench_output) as lines:
        for line in lines:
            if line.startswith("RESULT "):
                results.append(json.loads(line[len("RESULT "):]))
    if not results:
        sys.exit("no RESULT lines in the bench output")
    con = duckdb.connect()
    started = time.perf_counter()
    load(con, directory)
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(f"DuckDB {duckdb.__version__}, {threads} threads; CSV load {time.perf_counter() - started:.1f} s (not timed)")
    mismatches = []
    table = []
    for bench in results:
        label, query = bench["query"], bench["filter"]
        with open(f"{directory}/report-{label}.json") as file:
            our_report = json.load(file)
        result, duck_min, duck_median = timed(lambda: compute(con, query))
        _, top_min, _ = timed(lambda: compute(con, query, top_only=True))
        compare(label, result, bench["values"], our_report, mismatches)
        table.append((label, bench["ours_ms_min"], bench["ours_ms_median"], duck_min, duck_median, top_min))
    print()
    print("| query | ours min | ours median | DuckDB min | DuckDB median | ratio (min/min) | DuckDB top level only, min |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, ours_min, ours_median, duck_min, duck_median, top_min in table:
        print(f"| {label} | {ours_min:.2f} ms | {ours_median:.2f} ms | {duck_min:.0f} ms | {duck_median:.0f} ms "
              f"| {duck_min / ours_min:.0f}× | {top_min:.0f} ms |")
    print()
    if mismatches:
        print(f"{len(mismatches)} MISMATCHES:")
        for mismatch in mismatches[:50]:
            print("  " + mismatch)
        sys.exit(1)
    print("all compared values equal (top level of every query, breakdown rows, weekly points, risk buckets, MTBF)")


if __name__ == "__main__":
    main()
