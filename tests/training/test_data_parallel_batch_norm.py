"""Batch norm under --data-parallel normalises over the global batch, as one
device does (the paper trained with batch 7 on one GPU).

One subprocess per engine with two CPU devices trains the first epoch of the
stand-in model (batch norm, no dropout: deterministic) without and with
--data-parallel, on the same global batches of 4, precise statistics on (the
twin computes them under --data-parallel). Statistics of each device's 2 images
gave a loss 8e-4 and weights 5e-4 away on TensorFlow (`synchronized=False`), and
2e-4 and 2e-3 on JAX (batch norm called on each half); the global batch's agree
within 6e-8 and 6e-7. lr 1e-3: Adam's first steps divide by the gradients' size,
so at 1e-2 the rounding of tiny gradients moved a weight by 5e-6.
"""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import keras
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
            [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np
    from attention_deeplab.data.disc_arrays import write_disc_arrays
    from attention_deeplab.training import entry, model_setup as setup
    from tests.support.models import standin_model

    tmp = Path(sys.argv[1])
    setup._build = lambda options, weights: standin_model(options, dropout=False)
    data = write_disc_arrays(tmp / "data", {"train": 8, "val": 3})
    run_epochs, weights = entry.run_epochs, {}

    def keeping(model, *args, **kwargs):
        state = run_epochs(model, *args, **kwargs)
        weights[bool(kwargs.get("parallel"))] = model.get_weights()
        return state

    entry.run_epochs = keeping
    losses = {}
    for parallel in (False, True):
        entry.train(data, tmp / f"run-{parallel}", epochs=1, batch_size=4, lr=1e-3,
                    backbone_weights=None, preset="tiny", data_parallel=parallel, verbose=0)
        row = (tmp / f"run-{parallel}" / "history.csv").read_text().splitlines()[1]
        losses[parallel] = float(row.split(",")[1])
    np.savez(tmp / "weights.npz", *[np.asarray(w) for p in (False, True) for w in weights[p]])
    print(json.dumps({"one": losses[False], "two": losses[True], "count": len(weights[False])}))
""")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_two_devices_normalise_like_one(backend, tmp_path, repo_root):
    if backend == "jax":
        pytest.importorskip("jax", reason="JAX is not installed (requirements-backends.txt)")
    env = {"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin",
           "JAX_PLATFORMS": "cpu", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    # From the repository's root, which holds the package and tests.support.
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=repo_root,
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "data parallel over 2 devices" in result.stdout
    numbers = json.loads(result.stdout.strip().splitlines()[-1])
    assert numbers["two"] == pytest.approx(numbers["one"], abs=1e-5)
    saved = np.load(tmp_path / "weights.npz")
    arrays = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    count = numbers["count"]
    assert count == len(arrays) // 2 > 0
    for one, two in zip(arrays[:count], arrays[count:]):
        np.testing.assert_allclose(two, one, atol=1e-5, rtol=0)
