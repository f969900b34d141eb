"""Trains the stand-in network in a process of its own, for the tests that signal,
kill or count the compilations of a run.

    python -m tests.training.standin_child DATA RUN EPOCHS STATE_INTERVAL_S [--count-compilations]
        [--slow-state-write]

(from the repository's root, which holds the package and tests.support).

With --count-compilations (JAX backend) it prints one JSON line: the names of
the functions JAX compiled during each epoch (training, precise statistics,
validation and saving), keyed by epoch.

With --slow-state-write, the background writer stops for 10 minutes in the
middle of each resume state after the first (its weights written, not yet
named by state.json), once it has created `writing-<state folder>` beside RUN.
"""
import json
import sys
import time
from pathlib import Path

from attention_deeplab.training import TrainingError, loop, model_setup, state_schedule, train
from tests.support.models import standin_model

SETTINGS = dict(preset="tiny", backbone_weights="none", lr=1e-2, verbose=0, seed=5)


def count_compilations(events):
    """Records each function JAX lowers for compilation under the epoch running then."""
    import jax

    from jax._src import dispatch

    epoch = {"now": 0}

    def listen(event, duration, fun_name=None, **kwargs):
        if event == dispatch.JAXPR_TO_MLIR_MODULE_EVENT:
            events.setdefault(epoch["now"], []).append(str(fun_name))

    jax.monitoring.register_event_duration_secs_listener(listen)
    fit_epoch = loop._fit_epoch

    def marked(model, sequence, index, *args, **kwargs):
        epoch["now"] = index + 1
        return fit_epoch(model, sequence, index, *args, **kwargs)

    loop._fit_epoch = marked


def slow_state_writes():
    """Makes the writer thread pause inside every state but the first (for a kill -9)."""
    from attention_deeplab.training import host_weights

    save_weights = host_weights.HostWeights.save_weights

    def slow(self, path, *args, **kwargs):
        save_weights(self, path, *args, **kwargs)
        folder = Path(path).parent
        if folder.name.startswith("state-") and folder.name != "state-0001":
            (folder.parent.parent / f"writing-{folder.name}").touch()
            time.sleep(600)

    host_weights.HostWeights.save_weights = slow


def main(argv):
    data_dir, run_dir, epochs, interval = argv[:4]
    model_setup._build = lambda options, weights: standin_model(options, dropout=False)
    state_schedule.STATE_INTERVAL_S = float(interval)
    state_schedule.STATE_COST_RATIO = 1e9  # after the first state, the interval alone decides
    events = {}
    if "--count-compilations" in argv:
        count_compilations(events)
    if "--slow-state-write" in argv:
        slow_state_writes()
    # 12 training images in batches of 5 (5, 5, 2), 7 validation (5, 2): partial batches.
    try:
        train(data_dir, run_dir, epochs=int(epochs), batch_size=5, precise_bn="on", **SETTINGS)
    except TrainingError as error:  # a stop asked for by a signal
        print(error, flush=True)
        sys.exit(3)
    if events:
        print(json.dumps(events))


if __name__ == "__main__":
    main(sys.argv[1:])
