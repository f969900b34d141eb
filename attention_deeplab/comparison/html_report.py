"""The comparison's report.html: table.md and stats.json as tables, per-image Dice of each
row against the reference as a scatter, and the images where they disagree most, with
both rows' overlays side by side (linked from the evaluation folders, not copied)."""
from pathlib import Path

import numpy as np

from attention_deeplab.evaluation.html_parts import (
    esc, link, number, page, scatter_svg, table)

REPORT_NAME = "report.html"
N_DISAGREEMENTS = 10


def _markdown_to_html(markdown):
    """table.md's table as an HTML table, its legend as paragraphs."""
    lines = markdown.splitlines()
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines
             if line.startswith("|") and not line.startswith("|---")]
    legend = "".join(f"<p>{esc(line)}</p>" for line in lines if line and line[0] != "|")
    return table(cells[0], cells[1:]) + legend if cells else legend


def _stats_table(stats):
    rows = [(name, score, number(r["mean_difference"]),
             f"{number(r['ci95'][0])} to {number(r['ci95'][1])}", number(r["p_value"], 3),
             number(r["p_holm"], 3), r["n_images"], r["n_left_out"])
            for name, by_score in stats["comparisons"].items() for score, r in by_score.items()]
    if not rows:
        return "<p>One row only: nothing to test against the reference.</p>"
    return (f"<p>Against <b>{esc(stats['reference'])}</b>: {esc(stats['test'])}; bootstrap 95% "
            f"CI of the mean difference ({stats['n_bootstrap']} resamples, seed "
            f"{stats['seed']}); Holm over {esc(stats['holm_family'])}.</p>"
            + table(("row", "score", "mean difference", "95% CI", "p", "Holm p", "images",
                     "left out"), rows))


def _overlay(entry, image_id):
    """The overlay of `image_id` in the first of the entry's evaluations that holds it."""
    for run in entry.evaluations:
        if image_id in run.ids:
            return Path(run.folder) / "overlays" / f"{image_id}.png"
    return None


def _dice_by_id(entry):
    ids, values = entry.per_image("dice")
    return dict(zip(ids, values.tolist()))


def _disagreements(reference, other, out):
    """Rows of the images whose Dice differs most between `reference` and `other`."""
    ours, theirs = _dice_by_id(reference), _dice_by_id(other)
    ids = [i for i in ours if not (np.isnan(ours[i]) or np.isnan(theirs.get(i, np.nan)))]
    ids.sort(key=lambda i: -abs(theirs[i] - ours[i]))
    rows = []
    for image_id in ids[:N_DISAGREEMENTS]:
        images = "".join(
            f"<figure><img src='{link(path, out)}' alt='{esc(entry.name)}: {esc(image_id)}'>"
            f"<figcaption>{esc(entry.name)}: Dice {number(dice[image_id])}</figcaption></figure>"
            for entry, dice in ((reference, ours), (other, theirs))
            for path in [_overlay(entry, image_id)] if path is not None)
        rows.append(f"<tr class='disagreement'><td>{esc(image_id)}</td>"
                    f"<td>{number(theirs[image_id] - ours[image_id])}</td>"
                    f"<td><div class='pair'>{images}</div></td></tr>")
    return (f"<h3>{esc(other.name)} against {esc(reference.name)}</h3><table><thead><tr>"
            f"<th>id</th><th>Dice difference</th><th>overlays (ground truth green, "
            f"prediction magenta)</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def write_html_report(out, entries, stats, markdown):
    """Writes report.html in the comparison folder `out`.

    Args:
        out: Path. The comparison folder.
        entries: list of Entry, the reference first.
        stats: dict. stats.json's content.
        markdown: str. table.md's content.

    Returns:
        Path: report.html.
    """
    out = Path(out)
    reference = entries[0]
    body = ("<h2>Table</h2>" + _markdown_to_html(markdown) + "<h2>Statistics</h2>"
            + _stats_table(stats))
    if len(entries) > 1:
        ours = _dice_by_id(reference)
        series = {}
        for entry in entries[1:]:
            theirs = _dice_by_id(entry)
            series[entry.name] = [(ours[i], theirs[i]) for i in ours if i in theirs]
        body += ("<h2>Per-image Dice against the reference</h2>"
                 + scatter_svg(series) + "<h2>Where they disagree most</h2>"
                 + "".join(_disagreements(reference, entry, out) for entry in entries[1:]))
    path = out / REPORT_NAME
    path.write_text(page(f"Comparison against {reference.name}", body), encoding="utf-8")
    return path
