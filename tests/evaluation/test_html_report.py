"""report.html in a real headless browser: loads from file:// without errors, one row
per image worst Dice first, sorts on a click, every thumbnail loads; and its size at
1,000 images (its load time is benchmarks/bench_report.py's claim, not a timed test)."""
import csv
import json
import math

import pytest

from attention_deeplab.evaluation import evaluator as evaluation
from tests.evaluation.test_evaluation_outputs import stand_in_model, write_split
from tests.support.browser import browser, open_page  # noqa: F401 (fixture)


def evaluated_run(root, n_test, bias=6.0):
    data = root / "data"
    data.mkdir(parents=True)
    write_split(data, "val", 3, seed=1)
    write_split(data, "test", n_test, seed=2)
    run = root / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"dataset": "isic2018", "data_dir": str(data),
                                                 "lr": 0.001}))
    evaluation.evaluate(run_dir=run, model=stand_in_model(bias))
    return run / "evaluation" / "test"


@pytest.fixture(scope="module")
def evaluation_dir(tmp_path_factory):
    return evaluated_run(tmp_path_factory.mktemp("small"), 7, bias=5.0)


def dice_column(page):
    return [cell.get_attribute("data-value")
            for cell in page.query_selector_all("#per-image tbody tr td:nth-child(2)")]


def test_page_loads_with_every_row_worst_first_and_sorts(browser, evaluation_dir, tmp_path):
    page, errors = open_page(browser, evaluation_dir / "report.html")
    with open(evaluation_dir / "per_image.csv") as stream:
        rows = list(csv.DictReader(stream))
    shown = page.query_selector_all("#per-image tbody tr")
    assert len(shown) == len(rows) == 7
    worst = min(rows, key=lambda row: math.inf if row["dice"] == "nan" else float(row["dice"]))
    assert shown[0].query_selector("td").inner_text() == worst["id"]
    # Every thumbnail loaded: a broken image has naturalWidth 0.
    widths = page.eval_on_selector_all("#per-image img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == 7 and min(widths) > 0
    assert page.eval_on_selector_all("img", "imgs => imgs.every(i => i.complete && i.naturalWidth)")
    page.screenshot(path=str(tmp_path / "evaluation_report.png"), full_page=True)
    dice = page.query_selector("#per-image th:nth-child(2)")
    dice.click()
    ascending = [float(v) for v in dice_column(page)]
    assert ascending == sorted(ascending)
    dice.click()
    descending = [float(v) for v in dice_column(page)]
    assert descending == sorted(ascending, reverse=True) and descending != ascending
    assert "paper" in page.inner_text("body") and "0.912" in page.inner_text("body")
    assert errors == []


def test_a_thousand_images_load_whole_in_a_small_page(browser, tmp_path):
    out = evaluated_run(tmp_path, 1000)
    page_bytes = (out / "report.html").stat().st_size
    thumbs = sorted((out / "thumbs").iterdir())
    thumb_bytes = sum(path.stat().st_size for path in thumbs)
    print(f"1000 images: report.html {page_bytes / 1e3:.0f} kB, thumbs {thumb_bytes / 1e3:.0f} kB")
    assert len(thumbs) == 1000
    assert page_bytes < 1_000_000 and thumb_bytes < 5_000_000
    page, errors = open_page(browser, out / "report.html")
    assert page.eval_on_selector_all("#per-image img", "imgs => imgs.filter(i => i.naturalWidth"
                                     " > 0).length") == 1000
    assert errors == []
