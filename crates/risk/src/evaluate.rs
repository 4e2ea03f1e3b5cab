//! Discrimination and calibration measures: ROC AUC, Brier score and a calibration table.

use serde::{Deserialize, Serialize};

/// Area under the ROC curve, computed as the Mann–Whitney U statistic with midranks, so tied scores
/// count one half. `None` when the labels hold only one class (the AUC is undefined).
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), labels.len(), "one label per score");
    let n_pos = labels.iter().filter(|&&l| l).count();
    let n_neg = labels.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let midrank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_pos += midrank * order[i..=j].iter().filter(|&&k| labels[k]).count() as f64;
        i = j + 1;
    }
    let (p, n) = (n_pos as f64, n_neg as f64);
    Some((rank_sum_pos - p * (p + 1.0) / 2.0) / (p * n))
}

/// Mean squared difference between predicted probability and outcome (0 best, 0.25 for a coin).
/// `NaN` for no rows.
pub fn brier_score(probabilities: &[f64], labels: &[bool]) -> f64 {
    assert_eq!(probabilities.len(), labels.len(), "one label per probability");
    let sum: f64 = probabilities.iter().zip(labels).map(|(p, &l)| (p - f64::from(u8::from(l))).powi(2)).sum();
    sum / probabilities.len() as f64
}

/// One bin of a calibration table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Lower edge of the predicted probability (inclusive).
    pub lower: f64,
    /// Upper edge (exclusive, except 1.0 for the last bin).
    pub upper: f64,
    /// Rows whose prediction falls in the bin.
    pub count: usize,
    /// Mean predicted probability in the bin (`NaN` when empty; `null` in JSON).
    #[serde(deserialize_with = "number_or_nan")]
    pub mean_predicted: f64,
    /// Observed share of positives in the bin (`NaN` when empty; `null` in JSON).
    #[serde(deserialize_with = "number_or_nan")]
    pub observed_rate: f64,
}

/// Reads a number, or `null` (how JSON writes NaN) as NaN.
fn number_or_nan<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

/// Calibration table with `bins` equal-width bins over [0, 1] (10 is the usual choice).
pub fn calibration_table(probabilities: &[f64], labels: &[bool], bins: usize) -> Vec<CalibrationBin> {
    assert_eq!(probabilities.len(), labels.len(), "one label per probability");
    let bins = bins.max(1);
    let mut count = vec![0usize; bins];
    let mut sum_p = vec![0.0; bins];
    let mut sum_y = vec![0.0; bins];
    for (&p, &l) in probabilities.iter().zip(labels) {
        let b = ((p.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        count[b] += 1;
        sum_p[b] += p;
        sum_y[b] += f64::from(u8::from(l));
    }
    (0..bins)
        .map(|b| CalibrationBin {
            lower: b as f64 / bins as f64,
            upper: (b + 1) as f64 / bins as f64,
            count: count[b],
            mean_predicted: sum_p[b] / count[b] as f64,
            observed_rate: sum_y[b] / count[b] as f64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_hand_computed() {
        // Perfect ranking.
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]), Some(1.0));
        // Reversed.
        assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]), Some(0.0));
        // Pairs (pos,neg): (0.35 vs 0.1 ✓, vs 0.4 ✗), (0.8 vs both ✓) → 3/4.
        assert_eq!(roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]), Some(0.75));
        // One class only.
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
    }

    #[test]
    fn auc_ties_count_half() {
        // All tied → 0.5.
        assert_eq!(roc_auc(&[0.3; 6], &[true, false, true, false, false, true]), Some(0.5));
        // pos {0.5, 0.9}, neg {0.5, 0.1}: pairs 0.5v0.5 = ½, 0.5v0.1 = 1, 0.9v0.5 = 1, 0.9v0.1 = 1 → 3.5/4.
        assert_eq!(roc_auc(&[0.5, 0.9, 0.5, 0.1], &[true, true, false, false]), Some(0.875));
    }

    #[test]
    fn brier_and_calibration() {
        assert!((brier_score(&[1.0, 0.0, 0.5], &[true, false, true]) - 0.25 / 3.0).abs() < 1e-12);
        let t = calibration_table(&[0.05, 0.07, 0.95, 1.0], &[false, true, true, true], 10);
        assert_eq!(t.len(), 10);
        assert_eq!(t[0].count, 2);
        assert!((t[0].observed_rate - 0.5).abs() < 1e-12);
        assert!((t[0].mean_predicted - 0.06).abs() < 1e-12);
        assert_eq!(t[9].count, 2);
        assert!(t[5].mean_predicted.is_nan());
    }
}
