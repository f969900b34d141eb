"""An epoch trains on its batches in their order, on every backend and engine.

Keras builds a compiled model's loss and metrics from one batch that it reads
through the loader's worker threads, and leaves them running: on JAX and
PyTorch the first epoch then trained on PH2's 12 batches as 1..9, 0, 1, 2, and
under TensorFlow's MirroredStrategy (`--data-parallel`), which reads a batch at
every `fit`, every epoch did (3..11, 0, 1, 2). `fit` through the training loop
must equal `train_on_batch` over the batches in order, from the same initial
weights, for as many batches as PH2 has (more than the loader's queue holds).
"""
import importlib.util

import pytest

from attention_deeplab.data.disc_arrays import write_disc_arrays
from tests.support.processes import run_python

CHILD = """
import contextlib
import sys
import keras
import numpy as np
from attention_deeplab.data.loader import ArraySequence, load_split
from attention_deeplab.model.deeplab import compile_model
from attention_deeplab.training.distribute import DataParallel
from attention_deeplab.training.loop import LOADER_QUEUE, _fit_epoch
from tests.support.models import standin_model

images, masks = load_split(sys.argv[1], "train")
epoch, engine = int(sys.argv[2]), sys.argv[3] == "data-parallel"

def fresh():
    keras.utils.set_random_seed(0)
    return compile_model(standin_model({"input_shape": list(images.shape[1:])}, dropout=False), 1e-2)

parallel = DataParallel(7) if engine else None
with parallel.build_scope() if engine else contextlib.nullcontext():
    fitted = fresh()
stepped = fresh()
train = ArraySequence(images, masks, 7, shuffle=True, min_batch=7 if engine else 2, epoch=epoch,
                      **LOADER_QUEUE)
with parallel.fit_scope() if engine else contextlib.nullcontext():
    _fit_epoch(fitted, train, epoch, epoch + 1, 0, parallel.feed(train) if engine else None)
for index in range(len(train)):
    stepped.train_on_batch(*train[index])
print(max(float(np.abs(a - b).max()) for a, b in zip(fitted.get_weights(), stepped.get_weights())))
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend, engine", [
    ("tensorflow", "none"), ("tensorflow", "data-parallel"), ("jax", "none"),
    ("jax", "data-parallel"), ("torch", "none")])
def test_epoch_trains_on_its_batches_in_order(backend, engine, tmp_path):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (requirements-backends.txt)")
    # 80 images in batches of 7: 11 full and a partial one (left out with
    # --data-parallel, whose engines split whole batches), as PH2's training split.
    data = write_disc_arrays(tmp_path / "data", {"train": 80, "val": 4}, size=16)
    difference = float(run_python("-c", CHILD, data, 3, engine, backend=backend).split()[-1])
    assert difference < 1e-6
