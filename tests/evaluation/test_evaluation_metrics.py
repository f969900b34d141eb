"""Metrics on hand-made 4x4 masks whose counts can be checked by eye, and against scikit-learn."""
import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from attention_deeplab import metrics

# Image 0: a 2x2 lesion, three pixels predicted (0.5 is not strictly above 0.5).
PROB_0 = [[.9, .6, .7, 0], [.5, .2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
TRUTH_0 = [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
PROB_3 = np.where(np.arange(16).reshape(4, 4) < 12, 0.8, 0.1)


@pytest.fixture
def masks_and_probabilities():
    probs = np.zeros((4, 4, 4), np.float32)
    truth = np.zeros((4, 4, 4), np.uint8)
    probs[0], truth[0] = PROB_0, np.array(TRUTH_0) * 255
    # Image 1: empty ground truth, empty prediction. Image 2: empty truth, two false pixels.
    probs[2, 3, 2:] = 0.99
    # Image 3: the whole image is lesion, twelve pixels found.
    probs[3], truth[3] = PROB_3, 255
    return probs, truth


def counts_of(probs, truth, threshold=0.5):
    return metrics.confusion_counts(metrics.binarize_probabilities(probs, threshold),
                                    metrics.binarize_masks(truth))


def test_counts_by_eye(masks_and_probabilities):
    counts = counts_of(*masks_and_probabilities)
    assert counts.tolist() == [[2, 1, 2, 11], [0, 0, 0, 16], [0, 2, 0, 14], [12, 0, 4, 0]]


def test_per_image_scores_by_value(masks_and_probabilities):
    scores = metrics.per_image_scores(counts_of(*masks_and_probabilities))
    nan = np.nan
    expected = {
        "dice": [4 / 7, 1, 0, 24 / 28], "jaccard": [2 / 5, 1, 0, 12 / 16],
        "accuracy": [13 / 16, 1, 14 / 16, 12 / 16], "sensitivity": [2 / 4, nan, nan, 12 / 16],
        "specificity": [11 / 12, 1, 14 / 16, nan]}
    assert set(scores) == set(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(scores[name], values, rtol=0, atol=1e-12, err_msg=name)


def test_pooled_scores_by_value(masks_and_probabilities):
    pooled = metrics.pooled_scores(counts_of(*masks_and_probabilities))
    assert (pooled["tp"], pooled["fp"], pooled["fn"], pooled["tn"]) == (14, 3, 6, 41)
    expected = {"f1": 28 / 37, "jaccard": 14 / 23, "accuracy": 55 / 64, "sensitivity": 14 / 20,
                "specificity": 41 / 44, "precision": 14 / 17, "jaccard_as_in_paper": 55 / 64}
    for name, value in expected.items():
        assert pooled[name] == pytest.approx(value, abs=1e-12), name


def test_summary_leaves_undefined_out_and_counts_them(masks_and_probabilities):
    per_image = metrics.per_image_scores(counts_of(*masks_and_probabilities))
    summary = metrics.summarize_per_image(per_image)
    dice = np.array([4 / 7, 1, 0, 24 / 28])
    assert summary["dice"]["mean"] == pytest.approx(dice.mean())
    assert summary["dice"]["std"] == pytest.approx(dice.std())
    assert summary["dice"]["median"] == pytest.approx(np.median(dice))
    assert summary["sensitivity"] == {"mean": pytest.approx(0.625), "std": pytest.approx(0.125),
                                      "median": pytest.approx(0.625), "n_undefined": 2}
    assert summary["specificity"]["n_undefined"] == 1
    assert summary["dice"]["n_undefined"] == 0
    # Jaccard 0.4, 1, 0, 0.75: the 0.4 falls below 0.65 and counts as 0.
    assert summary["isic_challenge_score"] == pytest.approx((1 + 0.75) / 4)


def test_empty_everything_is_perfect_not_nan():
    counts = counts_of(np.zeros((2, 4, 4), np.float32), np.zeros((2, 4, 4), np.uint8))
    pooled = metrics.pooled_scores(counts)
    assert pooled["f1"] == 1 and pooled["jaccard"] == 1 and pooled["accuracy"] == 1
    assert np.isnan(pooled["sensitivity"]) and np.isnan(pooled["precision"])
    summary = metrics.summarize_per_image(metrics.per_image_scores(counts))
    assert summary["sensitivity"] == {"mean": None, "std": None, "median": None, "n_undefined": 2}


def test_threshold_is_strict_and_ground_truth_is_half_of_255():
    probs = np.array([[[0.5, 0.5000001, 0.7, 0.2]]], np.float32)
    assert metrics.binarize_probabilities(probs).tolist() == [[[False, True, True, False]]]
    assert metrics.binarize_probabilities(probs, 0.7).tolist() == [[[False] * 4]]
    # The original compared 0..255 masks with 0.5: 100 was lesion. Here it is background.
    masks = np.array([[[0, 100, 127, 128]]], np.uint8)
    assert metrics.binarize_masks(masks).tolist() == [[[False, False, False, True]]]
    assert metrics.binarize_masks(masks.astype(np.float64)[..., None]).shape == (1, 1, 4)


def test_mismatched_shapes_are_an_error():
    with pytest.raises(ValueError, match="same count and size"):
        metrics.confusion_counts(np.zeros((3, 4, 4), bool), np.zeros((2, 4, 4), bool))
    with pytest.raises(ValueError, match="same count and size"):
        metrics.sorted_scores_by_class(np.zeros((2, 4, 5)), np.zeros((2, 4, 4), bool))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_and_average_precision_match_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    truth = rng.random((5, 16, 16)) < 0.3
    noisy = truth * 0.3 + rng.random(truth.shape) * 0.7
    # Rounding makes many ties across the classes, the hard case for an exact AUC.
    probs = np.round(noisy, 2 if seed else 6).astype(np.float32)
    auc, ap = metrics.ranking_scores(*metrics.sorted_scores_by_class(probs, truth))
    assert auc == pytest.approx(roc_auc_score(truth.ravel(), probs.ravel()), abs=1e-12)
    assert ap == pytest.approx(average_precision_score(truth.ravel(), probs.ravel()), abs=1e-12)


def test_ranking_scores_without_a_class_are_nan_not_a_crash():
    probs = np.random.default_rng(0).random((1, 4, 4)).astype(np.float32)
    empty, full = np.zeros((1, 4, 4), bool), np.ones((1, 4, 4), bool)
    auc, ap = metrics.ranking_scores(*metrics.sorted_scores_by_class(probs, empty))
    assert np.isnan(auc) and np.isnan(ap)
    auc, ap = metrics.ranking_scores(*metrics.sorted_scores_by_class(probs, full))
    assert np.isnan(auc) and ap == 1.0


def test_curve_points_lie_on_scikit_learns_curve():
    rng = np.random.default_rng(3)
    truth = rng.random((3, 8, 8)) < 0.4
    probs = np.round(truth * 0.2 + rng.random(truth.shape) * 0.8, 2).astype(np.float32)
    curve = metrics.curve_points(*metrics.sorted_scores_by_class(probs, truth))
    fpr, tpr, thresholds = roc_curve(truth.ravel(), probs.ravel(), drop_intermediate=False)
    index = [int(np.flatnonzero(thresholds == t)[0]) for t in curve["thresholds"]]
    np.testing.assert_allclose(curve["fpr"][1:], fpr[index], atol=1e-12)
    np.testing.assert_allclose(curve["tpr"][1:], tpr[index], atol=1e-12)
    assert curve["recall"][-1] == 1.0 and np.all(np.diff(curve["recall"]) >= 0)


def test_best_dice_threshold_matches_brute_force():
    rng = np.random.default_rng(4)
    truth = rng.random((4, 8, 8)) < 0.3
    probs = np.clip(truth * 0.35 + rng.random(truth.shape) * 0.65, 0, 1).astype(np.float32)
    threshold, dice = metrics.best_dice_threshold(*metrics.sorted_scores_by_class(probs, truth))
    brute = {t: metrics.pooled_scores(metrics.confusion_counts(probs > t, truth))["f1"]
             for t in np.round(np.arange(1, 100) / 100, 2)}
    assert dice == pytest.approx(max(brute.values()), abs=1e-12)
    assert threshold == min(t for t, d in brute.items() if d == pytest.approx(dice, abs=1e-12))
    # Separable classes: the lowest threshold that leaves every background pixel out.
    separable = np.where(truth, 0.35, 0.2).astype(np.float32)
    by_class = metrics.sorted_scores_by_class(separable, truth)
    assert metrics.best_dice_threshold(*by_class) == (0.2, 1.0)
