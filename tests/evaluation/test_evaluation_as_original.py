"""metrics.json's "as_original" block against the original Evaluate_Skin.py's formulas, written out here."""
import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, roc_auc_score

from attention_deeplab import evaluation
from attention_deeplab.metrics_original import scores_as_original

SIZE = 16


def original_scores(probabilities, masks, threshold):
    """The original Evaluate_Skin.py, line by line, at `threshold` instead of 0.5
    (jaccard_similarity_score, gone from scikit-learn, was accuracy_score on 1-D labels)."""
    y_scores = np.asarray(probabilities).reshape(-1, 1)
    y_true = np.asarray(masks).reshape(-1, 1)
    y_scores = np.where(y_scores > threshold, 1, 0)
    y_true = np.where(y_true > 0.5, 1, 0)
    auc_roc = roc_auc_score(y_true, y_scores)
    y_pred = np.where(y_scores[:, 0] >= 0.5, 1, 0)
    confusion = confusion_matrix(y_true, y_pred)
    accuracy = specificity = sensitivity = 0
    if float(np.sum(confusion)) != 0:
        accuracy = float(confusion[0, 0] + confusion[1, 1]) / float(np.sum(confusion))
    if float(confusion[0, 0] + confusion[0, 1]) != 0:
        specificity = float(confusion[0, 0]) / float(confusion[0, 0] + confusion[0, 1])
    if float(confusion[1, 1] + confusion[1, 0]) != 0:
        sensitivity = float(confusion[1, 1]) / float(confusion[1, 1] + confusion[1, 0])
    return {
        "accuracy": accuracy, "specificity": specificity, "sensitivity": sensitivity,
        "jaccard": accuracy_score(y_true[:, 0], y_pred, normalize=True),
        "f1": f1_score(y_true, y_pred, labels=None, average="binary", sample_weight=None),
        "auc": auc_roc,
    }


def soft_masks_and_probabilities(count, seed):
    """Lesions with anti-aliased rims of 1..127 (background to the project, lesion to the
    original) and 128..254, and probabilities that disagree near the rim."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    masks = np.zeros((count, SIZE, SIZE), np.uint8)
    probabilities = np.zeros((count, SIZE, SIZE), np.float32)
    for i in range(count):
        cy, cx, r = rng.integers(5, 11), rng.integers(5, 11), rng.integers(2, 5)
        distance = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
        masks[i] = np.clip(255 * (r + 1.5 - distance) / 3, 0, 255).astype(np.uint8)
        probabilities[i] = np.clip(1.2 - distance / (r + 2) + rng.normal(0, 0.1, distance.shape),
                                   0, 1)
    return masks, probabilities


def test_hand_made_4x4_counts_by_eye():
    masks = np.array([[[0, 1, 127, 128], [255, 255, 0, 0], [0, 0, 0, 0], [0, 0, 0, 40]]],
                     np.uint8)
    prediction = np.zeros((1, 4, 4), bool)
    prediction[0, 0, 2:] = prediction[0, 1, 0] = True  # hits 127, 128 and one 255
    # Original ground truth: 1, 127, 128, 255, 255, 40 -> TP 3, FN 3, FP 0, TN 10.
    scores = scores_as_original(prediction, masks)
    expected = {"f1": 6 / 9, "sensitivity": 3 / 6, "specificity": 1.0, "accuracy": 13 / 16,
                "jaccard": 13 / 16, "auc": (3 / 6 + 1.0) / 2}
    assert scores == pytest.approx(expected, abs=1e-15)
    original = original_scores(prediction.astype(np.float32), masks, 0.5)
    assert scores == pytest.approx(original, abs=1e-15)


@pytest.mark.parametrize("threshold", [0.5, 0.3, 0.72])
def test_equals_the_original_formulas_on_soft_masks(threshold):
    masks, probabilities = soft_masks_and_probabilities(6, seed=int(threshold * 100))
    assert ((masks > 0) & (masks < 128)).sum() > 20  # the rim the two ground truths disagree on
    scores = scores_as_original(probabilities > threshold, masks)
    expected = original_scores(probabilities, masks, threshold)
    assert scores.keys() == expected.keys()
    for name, value in expected.items():
        assert scores[name] == pytest.approx(value, rel=0, abs=1e-12), name


def test_an_absent_class_gives_the_originals_zeros_and_no_auc():
    masks = np.zeros((1, 4, 4), np.uint8)
    scores = scores_as_original(np.zeros((1, 4, 4), bool), masks)
    assert scores["sensitivity"] == 0.0 and np.isnan(scores["auc"])  # the original's guard
    assert scores["f1"] == 0.0 and scores["accuracy"] == scores["jaccard"] == 1.0


class ThresholdModel:
    """A stand-in for a keras model: returns fixed probabilities, one batch after another."""

    def __init__(self, probabilities):
        self.probabilities, self.next = probabilities[..., None], 0
        self.input_shape = (None, SIZE, SIZE, 3)

    def predict_on_batch(self, images):
        batch = self.probabilities[self.next:self.next + len(images)]
        self.next = (self.next + len(images)) % len(self.probabilities)
        return batch

    __call__ = predict_on_batch


@pytest.mark.parametrize("threshold", [0.5, "auto"])
def test_metrics_json_and_the_table_hold_the_original_scores(tmp_path, capsys, threshold):
    masks, probabilities = soft_masks_and_probabilities(5, seed=11)
    for split in ("val", "test"):
        np.save(tmp_path / f"data_{split}.npy", np.zeros((5, SIZE, SIZE, 3), np.uint8))
        np.save(tmp_path / f"mask_{split}.npy", masks)
    (tmp_path / "split.json").write_text(json.dumps({"dataset": "isic2018"}))
    report = evaluation.evaluate(data_dir=tmp_path, model=ThresholdModel(probabilities),
                                 threshold=threshold, out=tmp_path / "out")
    used = report["threshold"]
    assert threshold == 0.5 or used != 0.5  # auto picked another threshold on val
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    expected = original_scores(probabilities, masks, used)
    for name, value in expected.items():
        assert saved["as_original"][name] == pytest.approx(value, rel=0, abs=1e-12), name
    # The corrected scores are another thing: the 1..127 rim is background to them.
    assert saved["pooled"]["sensitivity"] != pytest.approx(expected["sensitivity"])
    printed = capsys.readouterr().out
    assert "as the original computed them" in printed
    assert "AUC (= (SE+SP)/2)" in printed and f"{expected['auc']:7.4f}" in printed
