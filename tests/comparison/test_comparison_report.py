"""Compare_Runs.py's report.html: in a real browser, both runs' overlays for the first
image where they disagree; without one, the page for single runs, --group and --folds."""
import json

import numpy as np

from attention_deeplab.comparison import compare_runs
from attention_deeplab.evaluation import evaluator as evaluation
from tests.comparison.test_comparison import BASE, IDS, SHIFT, run_folder
from tests.evaluation.test_evaluation_outputs import stand_in_model, write_split
from tests.support.browser import browser, open_page  # noqa: F401 (fixture)


def evaluated(root, data, name, bias):
    run = root / name
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"dataset": "isic2018", "data_dir": str(data)}))
    evaluation.evaluate(run_dir=run, model=stand_in_model(bias))
    return run


def test_page_shows_both_overlays_where_runs_disagree(browser, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_split(data, "test", 6, seed=2)
    runs = [evaluated(tmp_path, data, "plain", 4.0), evaluated(tmp_path, data, "attention", 7.0)]
    compare_runs(runs, out=tmp_path / "cmp", n_bootstrap=20)
    page, errors = open_page(browser, tmp_path / "cmp" / "report.html")
    page.screenshot(path=str(tmp_path / "comparison_report.png"), full_page=True)
    first = page.query_selector("tr.disagreement")
    image_id = first.query_selector("td").inner_text()
    images = first.query_selector_all("img")
    sources = [image.get_attribute("src") for image in images]
    assert sources == [f"../plain/evaluation/test/overlays/{image_id}.png",
                       f"../attention/evaluation/test/overlays/{image_id}.png"]
    assert all(image.evaluate("i => i.naturalWidth") > 0 for image in images)
    # The largest disagreement comes first.
    dice = {run.name: {row.split(",")[0]: float(row.split(",")[5])
                       for row in (run / "evaluation/test/per_image.csv").read_text().split()[1:]}
            for run in runs}
    gaps = {i: abs(dice["attention"][i] - dice["plain"][i]) for i in dice["plain"]}
    assert gaps[image_id] == max(gaps.values())
    assert page.query_selector_all("svg circle") and errors == []


def test_page_for_a_single_run_groups_and_folds(tmp_path):
    single = run_folder(tmp_path, "a", IDS, BASE)
    compare_runs([single], out=tmp_path / "one", n_bootstrap=10)
    text = (tmp_path / "one" / "report.html").read_text()
    assert "One row only" in text and "<circle" not in text
    seeds = [run_folder(tmp_path, f"s{k}", IDS, np.clip(BASE + SHIFT * k, 0, 1)) for k in range(2)]
    compare_runs(groups=[("one", [single]), ("seeds", seeds)], out=tmp_path / "g", n_bootstrap=10)
    text = (tmp_path / "g" / "report.html").read_text()
    assert text.count("<circle") == len(IDS) and text.count("class='disagreement'") == len(IDS)
    folds = [run_folder(tmp_path, f"f{k}", IDS[4 * k:4 * k + 4], BASE[4 * k:4 * k + 4],
                        fingerprint=f"fold{k}") for k in range(2)]
    others = [run_folder(tmp_path, f"o{k}", IDS[4 * k:4 * k + 4], BASE[4 * k:4 * k + 4] - 0.1,
                         fingerprint=f"fold{k}") for k in range(2)]
    compare_runs(groups=[("A", folds), ("B", others)], folds=True, out=tmp_path / "f",
                 n_bootstrap=10)
    text = (tmp_path / "f" / "report.html").read_text()
    assert text.count("<circle") == len(IDS) and "B against A" in text
