"""Bad multi-worker set-ups are named before any worker connects."""
import json

import keras
import pytest

import Train_Skin_Lesion_Segmentation as script
from attention_deeplab.training import TrainingError
from attention_deeplab.training.distribute import jax_cluster, tf_cluster

CLUSTER = {"cluster": {"worker": ["localhost:23456", "localhost:23457"]},
           "task": {"type": "worker", "index": 1}}


def test_multi_worker_tf_config_read():
    assert tf_cluster({"TF_CONFIG": json.dumps(CLUSTER)}) == (2, 1)
    chief = {"cluster": {"chief": ["a:1"], "worker": ["b:1"]}, "task": {"type": "worker", "index": 0}}
    assert tf_cluster({"TF_CONFIG": json.dumps(chief)}) == (2, 1)
    assert tf_cluster({}) is None


@pytest.mark.parametrize("text, message", [
    ("{cluster: ", "TF_CONFIG is not valid JSON"),
    (json.dumps({"cluster": {}, "task": {"type": "worker", "index": 0}}),
     "TF_CONFIG has no coordinator address"),
    (json.dumps({"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}),
     "must list host:port addresses"),
    (json.dumps({**CLUSTER, "task": {"type": "worker", "index": 2}}), 'must name this worker'),
])
def test_multi_worker_malformed_tf_config(text, message):
    with pytest.raises(TrainingError, match=message):
        tf_cluster({"TF_CONFIG": text})


def test_multi_worker_jax_variables_read():
    """The first address is the coordinator's, as keras.distribution.initialize reads it."""
    environ = {"KERAS_DISTRIBUTION_JOB_ADDRESSES": "host1:1234,host2:1234",
               "KERAS_DISTRIBUTION_NUM_PROCESSES": "2", "KERAS_DISTRIBUTION_PROCESS_ID": "1"}
    assert jax_cluster(environ) == (2, 1, "host1:1234")
    assert jax_cluster({}) is None


@pytest.mark.parametrize("environ, message", [
    ({"KERAS_DISTRIBUTION_NUM_PROCESSES": "2", "KERAS_DISTRIBUTION_PROCESS_ID": "0"},
     "KERAS_DISTRIBUTION_JOB_ADDRESSES must give the coordinator's address"),
    ({"KERAS_DISTRIBUTION_NUM_PROCESSES": "2", "KERAS_DISTRIBUTION_PROCESS_ID": "2",
      "KERAS_DISTRIBUTION_JOB_ADDRESSES": "localhost:1234"}, "the id below the count"),
    ({"KERAS_DISTRIBUTION_NUM_PROCESSES": "3", "KERAS_DISTRIBUTION_PROCESS_ID": "0",
      "KERAS_DISTRIBUTION_JOB_ADDRESSES": "a:1,b:1"}, "lists 2 addresses for 3 processes"),
])
def test_multi_worker_jax_variables(environ, message):
    with pytest.raises(TrainingError, match=message):
        jax_cluster(environ)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="reads TF_CONFIG")
def test_multi_worker_batch_not_divided(data_dir, tmp_path, monkeypatch, capsys):
    """Refused before the strategy starts, so no worker waits for the others."""
    monkeypatch.setenv("TF_CONFIG", json.dumps(CLUSTER))
    code = script.main(["--data-dir", str(data_dir), "--run-dir", str(tmp_path / "run"),
                        "--batch-size", "3", "--preset", "tiny", "--backbone-weights", "none",
                        "--data-parallel", "--quiet"])
    assert code == 1
    assert "--batch-size 3 does not divide by the 2 devices of 2 workers" in capsys.readouterr().err
    assert not (tmp_path / "run" / "config.json").exists()
