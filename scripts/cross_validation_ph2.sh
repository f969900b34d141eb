#!/usr/bin/env bash
# 5-fold cross-validation of PH2, run exactly as on real data, on a synthetic PH2
# folder with the tiny preset: prepare each fold, train, evaluate, then pool the
# folds with Compare_Runs.py --folds. Writes only under $WORK (default cv_demo/).
# Usage: bash scripts/cross_validation_ph2.sh [PYTHON]
# On real data: drop the synthetic step, use --data-dir dataset_ph2 and the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python3}
WORK=${CV_WORK:-cv_demo}
COUNT=${CV_COUNT:-20}
SIZE=${CV_SIZE:-64}
EPOCHS=${CV_EPOCHS:-1}
FOLDS=5

$PY -m attention_deeplab.data.synthetic --layout ph2 --count "$COUNT" --out "$WORK/ph2" \
    --width 80 120
for fold in $(seq 0 $((FOLDS - 1))); do
    $PY Prepare_ph2.py --data-dir "$WORK/ph2" --out "$WORK/ph2_fold$fold" --size "$SIZE" \
        --folds "$FOLDS" --fold "$fold" --seed 0 --no-progress
    $PY Train_Skin_Lesion_Segmentation.py --data-dir "$WORK/ph2_fold$fold" \
        --run-dir "$WORK/output/ph2_fold$fold" --preset tiny --backbone-weights none \
        --epochs "$EPOCHS" --batch-size 4 --lr 1e-3 --precise-bn-images 16 --overwrite --quiet
    $PY Evaluate_Skin.py --run-dir "$WORK/output/ph2_fold$fold" --batch-size 8
done
$PY Compare_Runs.py --folds "$WORK"/output/ph2_fold* --out "$WORK/output/comparison"
