//! Exact percentiles over several sorted runs of values, without merging them.
//!
//! The method is nearest rank, everywhere: the p-th percentile of n values is the value of rank
//! `ceil(p × n / 100)` (1-based) in ascending order, so the median of an even count is the lower
//! of the two middle values. It is always one of the values (DuckDB's `quantile_disc` gives the
//! same ranks). The index keeps each week's values sorted; a query that spans many weeks asks
//! for the k-th smallest of their union. Two ways are exact; the cheaper one is picked:
//! - bisection over the value range, counting values ≤ a candidate with one binary search per
//!   run (cost ≈ 64 × Σ log₂ runᵢ), good for few long runs;
//! - copying the runs and `select_nth_unstable` (cost ≈ 3 × Σ runᵢ), good for many short runs.

/// The 1-based nearest rank of the `percent`-th percentile of `count` values (`count` ≥ 1).
pub fn nearest_rank(count: usize, percent: u32) -> usize {
    let rank = (count as u128 * percent as u128).div_ceil(100) as usize;
    rank.clamp(1, count)
}

/// The values at the given percentiles of the union of sorted `runs`; `None` when empty.
pub fn percentiles<const N: usize>(runs: &[&[i64]], percents: [u32; N]) -> [Option<i64>; N] {
    let count: usize = runs.iter().map(|run| run.len()).sum();
    if count == 0 {
        return [None; N];
    }
    let ranks = percents.map(|percent| nearest_rank(count, percent) - 1);
    let non_empty: Vec<&[i64]> = runs.iter().copied().filter(|run| !run.is_empty()).collect();
    if let [run] = non_empty.as_slice() {
        return ranks.map(|rank| Some(run[rank]));
    }
    let bisection_cost: usize = 64 * non_empty.iter().map(|run| run.len().ilog2() as usize + 1).sum::<usize>();
    if bisection_cost * N < 3 * count {
        return ranks.map(|rank| Some(kth_by_bisection(&non_empty, rank)));
    }
    let mut values: Vec<i64> = Vec::with_capacity(count);
    for run in &non_empty {
        values.extend_from_slice(run);
    }
    // Ranks ascend in the callers (median, then p90); selecting the lower rank first leaves the
    // higher one in the upper part, which the second selection then only has to reorder.
    let mut answers = [None; N];
    let mut start = 0;
    for (position, rank) in ranks.iter().enumerate() {
        let start_here = if *rank >= start { start } else { 0 };
        let (_, value, _) = values[start_here..].select_nth_unstable(rank - start_here);
        answers[position] = Some(*value);
        start = *rank;
    }
    answers
}

/// The k-th smallest (0-based) of the union of sorted, non-empty runs: the smallest value `v`
/// with more than `k` values ≤ `v`. That value is always an element of a run.
fn kth_by_bisection(runs: &[&[i64]], k: usize) -> i64 {
    let mut low = runs.iter().map(|run| run[0]).min().unwrap_or(0);
    let mut high = runs.iter().map(|run| run[run.len() - 1]).max().unwrap_or(0);
    while low < high {
        let middle = low + (high - low) / 2;
        let at_most: usize = runs.iter().map(|run| run.partition_point(|value| *value <= middle)).sum();
        if at_most > k {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    low
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_matches_the_definition() {
        // Given counts 1..=11, then the ranks are ceil(p·n/100), as in DuckDB's quantile_disc.
        let medians: Vec<usize> = (1..=11).map(|count| nearest_rank(count, 50)).collect();
        let p90s: Vec<usize> = (1..=11).map(|count| nearest_rank(count, 90)).collect();
        assert_eq!(medians, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
        assert_eq!(p90s, [1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 10]);
    }

    #[test]
    fn both_methods_agree_with_sorting_everything() {
        // Given runs of mixed lengths with duplicates and negatives.
        let long: Vec<i64> = (0..5_000).map(|value| (value * 7919) % 1_000 - 300).collect();
        let mut runs_owned: Vec<Vec<i64>> =
            vec![long.clone(), vec![5, 5, 5], vec![], vec![-1_000_000, 2_000_000], long[..17].to_vec()];
        for run in &mut runs_owned {
            run.sort_unstable();
        }
        let runs: Vec<&[i64]> = runs_owned.iter().map(Vec::as_slice).collect();
        let mut all: Vec<i64> = runs_owned.concat();
        all.sort_unstable();
        // When every rank is asked for, by bisection and through percentiles.
        let non_empty: Vec<&[i64]> = runs.iter().copied().filter(|run| !run.is_empty()).collect();
        for (rank, expected) in all.iter().enumerate().step_by(37) {
            assert_eq!(kth_by_bisection(&non_empty, rank), *expected);
        }
        // Then the answers are the sorted values at the nearest ranks.
        let [median, p90] = percentiles(&runs, [50, 90]);
        assert_eq!(median, Some(all[nearest_rank(all.len(), 50) - 1]));
        assert_eq!(p90, Some(all[nearest_rank(all.len(), 90) - 1]));
        let short: Vec<&[i64]> = vec![&[1, 4], &[2, 3], &[0]];
        assert_eq!(percentiles(&short, [50, 90, 100]), [Some(2), Some(4), Some(4)]);
        assert_eq!(percentiles(&[], [50]), [None]);
    }
}
