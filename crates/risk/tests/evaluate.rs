//! Properties of the AUC against a brute-force pair count.

use changegate_risk::roc_auc;
use proptest::prelude::*;

/// Share of (positive, negative) pairs ranked correctly, ties counting one half.
fn pairwise_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let (mut good, mut pairs) = (0.0, 0.0);
    for (i, &si) in scores.iter().enumerate() {
        for (j, &sj) in scores.iter().enumerate() {
            if labels[i] && !labels[j] {
                pairs += 1.0;
                good += if si > sj {
                    1.0
                } else if si == sj {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    (pairs > 0.0).then(|| good / pairs)
}

proptest! {
    #[test]
    fn auc_equals_pair_count(data in prop::collection::vec((0u8..6, any::<bool>()), 1..60)) {
        // Few distinct scores, so ties are frequent.
        let scores: Vec<f64> = data.iter().map(|(s, _)| f64::from(*s) / 5.0).collect();
        let labels: Vec<bool> = data.iter().map(|(_, l)| *l).collect();
        match (roc_auc(&scores, &labels), pairwise_auc(&scores, &labels)) {
            (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-12, "{a} vs {b}"),
            (a, b) => prop_assert_eq!(a, b),
        }
        if let Some(a) = roc_auc(&scores, &labels) {
            let flipped: Vec<f64> = scores.iter().map(|s| -s).collect();
            prop_assert!((a + roc_auc(&flipped, &labels).unwrap() - 1.0).abs() < 1e-12);
        }
    }
}
