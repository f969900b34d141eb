#!/usr/bin/env bash
# The whole pipeline on a synthetic ISIC-2018-layout dataset, run exactly as a user
# runs it on real data. Data and outputs go to demo_data/ and demo_output/, so a
# user's dataset_isic18/ and output/isic2018/ are never touched.
# Usage: bash scripts/demo.sh [PYTHON]   (make demo passes the virtual environment's)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python3}
DATA=demo_data/isic2018
RUN=demo_output/isic2018
COUNT=${DEMO_COUNT:-240}
SIZE=${DEMO_SIZE:-96}
EPOCHS=${DEMO_EPOCHS:-20}

echo "== 1/4 synthetic ISIC 2018 folder: $COUNT image/mask pairs in $DATA"
$PY -m attention_deeplab.data.synthetic --layout isic2018 --count "$COUNT" --out "$DATA" --seed 0

echo "== 2/4 Prepare_ISIC2018.py (${SIZE}x${SIZE})"
$PY Prepare_ISIC2018.py --data-dir "$DATA" --size "$SIZE"

echo "== 3/4 Train_Skin_Lesion_Segmentation.py (tiny preset, $EPOCHS epochs, from scratch)"
$PY Train_Skin_Lesion_Segmentation.py --data-dir "$DATA" --run-dir "$RUN" \
    --preset tiny --backbone-weights none --epochs "$EPOCHS" --batch-size 8 --lr 1e-3 --augment

echo "== 4/4 Evaluate_Skin.py on the test split"
$PY Evaluate_Skin.py --run-dir "$RUN" --data-dir "$DATA"

$PY - "$RUN/evaluation/test/metrics.json" <<'PYEOF'
import json, sys
metrics = json.load(open(sys.argv[1]))
dice = metrics["pooled"]["f1"]
print(f"\nDemo finished: pooled Dice {dice:.3f} on the synthetic test split.")
print(f"Metrics, curves, masks and overlays: {sys.argv[1].rsplit('/', 1)[0]}/")
PYEOF
