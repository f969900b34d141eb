# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
export KERAS_BACKEND ?= tensorflow
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: venv demo test test-fast test-backends bench clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(TEST_STAMP): $(STAMP) requirements-test.txt
	$(PY) -m pip install -q -r requirements-test.txt
	touch $@

demo: $(STAMP)
	bash scripts/demo.sh $(PY)

# Two processes, each test file kept in one (its module fixtures are built once).
PYTEST_PARALLEL := -n 2 --dist loadfile
# Each run's outcomes, so that CI can fail on a test skipped in both (scripts/check_skips.py).
RESULTS := test-results

test: $(TEST_STAMP)
	$(PY) -m pytest $(PYTEST_PARALLEL) --junitxml=$(RESULTS)/test.xml

test-fast: $(TEST_STAMP)
	$(PY) -m pytest $(PYTEST_PARALLEL) -m "not slow"

# The other Keras 3 engines, CPU builds (torch 2.13.0 lies on this machine's disk).
BACKENDS_STAMP := $(VENV)/.installed-backends
$(BACKENDS_STAMP): $(TEST_STAMP) requirements-backends.txt
	$(PY) -m pip install -q -r requirements-backends.txt
	touch $@

# Their TensorFlow cases already ran in `make test`: not again (check_skips.py sees both).
TF_RAN_IN_TEST := multi_worker or first_epoch_batches or training_precise_bn or \
                  data_parallel_batch_norm or training_compilations

# The files whose JAX or PyTorch cases `make test` skips (it installs neither), and the
# export tests (their ONNX and LiteRT packages come with requirements-backends.txt).
test-backends: $(BACKENDS_STAMP)
	RUN_BACKEND_TESTS=1 $(PY) -m pytest $(PYTEST_PARALLEL) --junitxml=$(RESULTS)/test-backends.xml \
	    -k "not (tensorflow and ($(TF_RAN_IN_TEST)))" \
	    tests/backends tests/end_to_end/test_cross_validation_script.py \
	    tests/end_to_end/test_end_to_end_backends.py \
	    tests/training/test_first_epoch_batches.py tests/training/test_multi_worker.py \
	    tests/training/test_training_compilations.py tests/training/test_training_precise_bn.py \
	    tests/training/test_data_parallel_batch_norm.py tests/prediction/test_export.py

# bench_backends.py measures JAX and PyTorch against TensorFlow: their packages first.
bench: $(BACKENDS_STAMP)
	bash scripts/bench.sh $(PY)

clean:
	rm -rf $(VENV) demo_data demo_output .pytest_cache $(RESULTS)
