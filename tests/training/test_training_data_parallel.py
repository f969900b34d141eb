"""--data-parallel on two logical CPU devices, in a subprocess so that the device
configuration does not leak into the other tests."""
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    from pathlib import Path
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from attention_deeplab.data.disc_arrays import write_disc_arrays
    from tests.support.models import standin_model
    import attention_deeplab.training.model_setup as setup
    import Train_Skin_Lesion_Segmentation as script
    setup._build = lambda options, weights: standin_model(options)
    data = write_disc_arrays(Path({tmp!r}) / "data", {{"train": 10, "val": 3}})
    base = ["--data-dir", str(data), "--preset", "tiny", "--backbone-weights", "none",
            "--epochs", "2", "--lr", "1e-2", "--data-parallel", "--quiet"]
    print("odd batch:", script.main(base + ["--batch-size", "3", "--run-dir", {tmp!r} + "/odd"]))
    print("even batch:", script.main(base + ["--batch-size", "4", "--run-dir", {tmp!r} + "/run"]))
""")


@pytest.mark.slow
def test_data_parallel_on_two_cpu_devices(tmp_path, repo_root):
    code = SCRIPT.format(tmp=str(tmp_path))
    # Run from the repository's root, which holds the package and tests.support.
    result = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True,
                            text=True, timeout=300, env={"KERAS_BACKEND": "tensorflow",
                                                         "TF_CPP_MIN_LOG_LEVEL": "2",
                                                         "PATH": "/usr/bin:/bin"})
    out, err = result.stdout, result.stderr
    assert result.returncode == 0, err[-3000:]
    assert "odd batch: 1" in out
    assert "--batch-size 3 does not divide by the 2 devices" in err
    assert "data parallel over 2 devices" in out
    assert "even batch: 0" in out
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert len(history) == 3 and (tmp_path / "run" / "best.weights.h5").is_file()
