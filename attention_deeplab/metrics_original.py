"""The paper's columns exactly as the original ``Evaluate_Skin.py`` computed them.

The original flattened the test split and scored it with scikit-learn on
binary labels. Three of its choices differ from this project's scores (see
``metrics.py``), and this module keeps all three so that its printed numbers
can be reproduced beside the correct ones:

- the ground truth was the 0..255 mask compared with 0.5, so any non-zero
  pixel (an anti-aliased edge of 1..127 included) counted as lesion;
- its "Jaccard" was ``jaccard_similarity_score`` on flattened binary labels,
  which is pixel accuracy;
- its AUC was ``roc_auc_score`` of the already thresholded predictions: a ROC
  curve through one point, whose area is (sensitivity + specificity) / 2.

The predicted masks are the evaluation's own (its threshold, ``auto`` and TTA
included); only the ground truth and the formulas are the original's.
"""

from attention_deeplab.metrics import binarize_masks, confusion_counts

ORIGINAL_SCORES = ("f1", "sensitivity", "specificity", "accuracy", "jaccard", "auc")


def original_truth(masks):
    """Ground truth as the original had it: lesion wherever the 0..255 mask is above 0.5.

    Args:
        masks: array of 0..255 masks, N x H x W or N x H x W x 1.

    Returns:
        Boolean array N x H x W.
    """
    return binarize_masks(masks, above=0.5)


def _divide(numerator, denominator):
    # The original's guard: a score whose denominator is 0 stays 0.
    return numerator / denominator if denominator else 0.0


def scores_as_original(prediction, masks):
    """The original's F1, SE, SP, AC, JS and AUC, pooled over the split, unrounded.

    Args:
        prediction: bool array N x H x W, the evaluation's predicted lesion.
        masks: array of 0..255 ground-truth masks, N x H x W (or N x H x W x 1).

    Returns:
        dict of floats keyed by ``ORIGINAL_SCORES``. As in the original, a
        score whose denominator is 0 is 0 (F1 too, as scikit-learn returned);
        the AUC is NaN where the ground truth holds one class (scikit-learn
        raised there).
    """
    tp, fp, fn, tn = (int(value) for value in
                      confusion_counts(prediction, original_truth(masks)).sum(axis=0))
    sensitivity, specificity = _divide(tp, tp + fn), _divide(tn, tn + fp)
    accuracy = _divide(tp + tn, tp + fp + fn + tn)
    return {
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        "sensitivity": sensitivity,
        "specificity": specificity,
        "accuracy": accuracy,
        "jaccard": accuracy,  # jaccard_similarity_score of binary labels is accuracy
        # ROC AUC of binarised predictions: the area under (0,0), (1-SP, SE), (1,1).
        "auc": (sensitivity + specificity) / 2 if tp + fn and tn + fp else float("nan"),
    }
