"""report.html: one self-contained page to browse an evaluation.

Scores beside the paper's, the run's options, the curves, a sortable per-image
table (worst Dice first) with overlay thumbnails, and the Dice distribution.
Thumbnails are 64 px JPEGs written once to thumbs/, so a page of 1,000 images
stays small and opens fast from file://.
"""
import json
from pathlib import Path

import numpy as np
from PIL import Image

from attention_deeplab.evaluation.html_parts import esc, histogram_svg, link, number, page, table
from attention_deeplab.evaluation.report import AS_ORIGINAL_ROWS, TABLE_ROWS
from attention_deeplab.provenance import versions

REPORT_NAME = "report.html"
THUMB_SIZE = 64
COLUMNS = ("id", "Dice", "Jaccard", "sensitivity", "specificity", "lesion area (px)",
           "predicted area (px)", "overlay")


def write_thumbnails(out, ids):
    """thumbs/<id>.jpg from overlays/<id>.png (64 px on the long side); returns the
    thumbnails' paths, None where an image has no overlay (--native-resolution)."""
    thumbs, paths = out / "thumbs", []
    for image_id in ids:
        source = out / "overlays" / f"{image_id}.png"
        if not source.is_file():
            paths.append(None)
            continue
        thumbs.mkdir(exist_ok=True)
        with Image.open(source) as image:
            image = image.convert("RGB")
            image.thumbnail((THUMB_SIZE, THUMB_SIZE))
            image.save(thumbs / f"{image_id}.jpg", quality=80)
        paths.append(thumbs / f"{image_id}.jpg")
    return paths


def _scores_section(report):
    paper = report.get("paper") or {}
    rows = [(label, number(report["pooled"].get(key)), number(paper.get(key), 3)
             if key in paper else "") for key, label in TABLE_ROWS]
    parts = ["<h2>Scores (pooled over all pixels)</h2>",
             table(("score", "ours", "paper"), rows)]
    if report.get("as_original"):
        rows = [(label, number(report["as_original"].get(key)),
                 number(paper.get(key), 3) if key in paper else "")
                for key, label in AS_ORIGINAL_ROWS]
        parts += ["<h3>As the original code computed them (any non-zero mask pixel is "
                  "lesion)</h3>", table(("score", "ours", "paper"), rows)]
    selection = report.get("threshold_selection")
    source = ("given on the command line (default 0.5)" if not selection else
              f"chosen on {selection['chosen_on']}: pooled Dice {selection['val_dice']:.4f}, "
              f"{selection['val_dice_at_0.5']:.4f} at 0.5")
    parts.append(f"<p>Threshold <b>{report['threshold']:g}</b>: {esc(source)}.</p>")
    return "".join(parts)


def _notes(report):
    notes = []
    if report.get("native_resolution"):
        notes.append("Scored at each image's native resolution against its original mask "
                     "(--native-resolution).")
    if report.get("tta"):
        notes.append("Test-time augmentation: identity, horizontal and vertical flips "
                     "averaged (--tta).")
    if report.get("ensemble"):
        notes.append(f"Ensemble of {len(report['ensemble'])} models: "
                     f"{', '.join(map(str, report['ensemble']))}.")
    return "".join(f"<p class='note'>{esc(note)}</p>" for note in notes)


def _run_section(report):
    config = {}
    if report.get("run_dir"):
        path = Path(report["run_dir"]) / "config.json"
        config = json.loads(path.read_text()) if path.is_file() else {}
    facts = [("dataset", report.get("dataset")), ("split", report.get("split")),
             ("images", report.get("n_images")), ("image size", report.get("image_size")),
             ("data", report.get("data_dir")), ("data fingerprint", report.get("data_fingerprint")),
             ("run", report.get("run_dir")), ("weights", report.get("weights"))]
    found = versions("keras", "tensorflow", "jax", "torch", "PIL")
    return ("<h2>The run</h2>" + table(("", ""), [(k, "" if v is None else v) for k, v in facts])
            + f"<details><summary>options (config.json)</summary><pre>"
              f"{esc(json.dumps(config, indent=2))}</pre></details>"
            + f"<details><summary>versions</summary><pre>{esc(json.dumps(found, indent=2))}"
              f"</pre></details>")


def _curves_section(out):
    images = "".join(f"<img src='{name}' alt='{name}' width='380'>"
                     for name in ("ROC.png", "Precision_recall.png") if (out / name).is_file())
    return f"<h2>Curves</h2>{images}" if images else ""


def _cell(value, digits=4):
    shown = number(float(value), digits)
    return f"<td data-value='{'NaN' if shown == 'n/a' else value}'>{shown}</td>"


def _image_rows(out, ids, counts, per_image, thumbs):
    """Table rows, worst Dice first (undefined Dice last)."""
    dice = np.asarray(per_image["dice"], np.float64)
    order = np.argsort(np.where(np.isnan(dice), np.inf, dice), kind="stable")
    rows = []
    for i in order:
        tp, fp, fn, _ = (int(c) for c in counts[i])
        image_id = ids[i]
        overlay, mask = out / "overlays" / f"{image_id}.png", out / "masks" / f"{image_id}.png"
        thumb = "" if thumbs[i] is None else (
            f"<a href='{link(overlay, out)}'><img class='thumb' src='{link(thumbs[i], out)}' "
            f"alt='{esc(image_id)}' width='{THUMB_SIZE}'></a>")
        rows.append(
            f"<tr><td>{esc(image_id)}</td>" + "".join(
                _cell(per_image[name][i]) for name in ("dice", "jaccard", "sensitivity",
                                                        "specificity"))
            + f"<td data-value='{tp + fn}'>{tp + fn}</td><td data-value='{tp + fp}'>{tp + fp}"
            f"</td><td data-value='{i}'>{thumb} <a href='{link(mask, out)}'>mask</a></td></tr>")
    return "".join(rows)


def write_html_report(out, report, ids, counts, per_image):
    """Writes thumbs/ and report.html in the evaluation folder `out`.

    Args:
        out: Path. The evaluation folder (overlays/, masks/, the curves' PNGs).
        report: dict. metrics.json's content.
        ids: N image ids.
        counts: int array N x 4 (TP, FP, FN, TN).
        per_image: dict score -> N per-image values.

    Returns:
        Path: report.html.
    """
    out = Path(out)
    thumbs = write_thumbnails(out, ids)
    head = "".join(f"<th>{esc(c)}</th>" for c in COLUMNS)
    body = (_notes(report) + _scores_section(report) + _run_section(report)
            + _curves_section(out)
            + "<h2>Distribution of per-image Dice</h2>"
            + histogram_svg([float(v) for v in per_image["dice"]])
            + f"<h2>Per image ({len(ids)}; worst Dice first, click a header to sort)</h2>"
            + f"<table class='sortable' id='per-image'><thead><tr>{head}</tr></thead><tbody>"
            + _image_rows(out, ids, counts, per_image, thumbs) + "</tbody></table>")
    title = f"Evaluation: {report.get('dataset') or ''} {report.get('split', '')} split"
    path = out / REPORT_NAME
    path.write_text(page(title, body), encoding="utf-8")
    return path
