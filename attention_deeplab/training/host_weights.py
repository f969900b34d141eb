"""A model's weights copied to the host at one moment, to be written later, from
another thread, as the same `.weights.h5` file Keras writes.

Keras's `save_weights` reads each variable from the device as it writes it, so
the model must not train meanwhile. Here the file's layout (its groups, their
metadata, which variable goes in which dataset) is recorded by Keras's own
traversal (`saving_lib._save_state`, private: a Keras that renames it fails in
the tests that compare the files), the values are copied in one batched
transfer, and h5py writes the same groups and datasets from the copies.
"""
import weakref

import h5py
import keras
import numpy as np
from keras.src.saving import saving_lib


class _LayoutRecorder(saving_lib.H5IOStore):
    """Stands in for Keras's H5IOStore: records what it would write, writes nothing."""

    def __init__(self):  # no file: H5IOStore's own __init__ opens one
        self.steps, self._path = [], None

    def __bool__(self):
        return True

    def make(self, path, metadata=None):
        self._path = path
        if metadata:  # H5IOStore creates such a group at once, even if left empty
            self.steps.append(("group", path, dict(metadata)))
        return self

    def __setitem__(self, key, value):
        if not isinstance(value, keras.Variable):
            value = np.array(keras.ops.convert_to_numpy(value))
        self.steps.append(("value", self._path, key, value))


# Keras's traversal took 0.7 s for the tiny preset: once per model and layout.
_LAYOUTS = weakref.WeakKeyDictionary()


def _layout(model, skip_optimizer):
    """The steps of `keras.saving.save_weights(model, ...)` (without the optimizer's
    variables when `skip_optimizer`), recorded again when the variables change."""
    optimizer = getattr(model, "optimizer", None)
    key = (skip_optimizer, len(model.weights), len(getattr(optimizer, "variables", ())))
    cached = _LAYOUTS.setdefault(model, {})
    if key not in cached:
        cached[key] = _record(model, skip_optimizer)
    return cached[key]


def _record(model, skip_optimizer):
    recorder = _LayoutRecorder()
    optimizer = getattr(model, "optimizer", None)
    skipped = {id(optimizer)} if skip_optimizer and optimizer is not None else set()
    saving_lib._save_state(model, weights_store=recorder, assets_store=None, inner_path="",
                           visited_saveables=skipped)
    return recorder.steps


def to_host(variables):
    """numpy copies of `variables`' values as they are now, in one transfer where the
    backend batches them (JAX: its arrays are immutable, so no copy beyond that)."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return [np.asarray(a) for a in jax.device_get([v.value for v in variables])]
    if backend == "tensorflow":
        import tensorflow as tf

        # A read shares the variable's buffer, which TensorFlow copies before
        # updating it while shared (copy on write): no copy of our own on a CPU.
        return [np.asarray(tf.convert_to_tensor(v.value)) for v in variables]
    # A copy: PyTorch's optimizers update the variables' memory in place.
    return [np.array(keras.ops.convert_to_numpy(v)) for v in variables]


class HostWeights:
    """A model's weights (and, with `optimizer`, its optimizer's variables) on the host.

    Args:
        model: keras.Model, built.
        optimizer: bool. Also copy the optimizer's variables (for the resume state).
    """

    def __init__(self, model, optimizer=False):
        self.layouts = {True: _layout(model, skip_optimizer=True)}
        optimizer_variables = list(model.optimizer.variables) if optimizer else []
        if optimizer:
            self.layouts[False] = _layout(model, skip_optimizer=False)
        variables, seen = [], set()
        for steps in self.layouts.values():
            for step in steps:
                if step[0] == "value" and isinstance(step[3], keras.Variable) \
                        and id(step[3]) not in seen:
                    seen.add(id(step[3]))
                    variables.append(step[3])
        variables += [v for v in optimizer_variables if id(v) not in seen]
        values = to_host(variables)
        self._values = {id(v): a for v, a in zip(variables, values)}
        self.optimizer_arrays = [self._values[id(v)] for v in optimizer_variables]
        # The variables themselves are not kept: the thread that writes needs only copies.
        self.layouts = {skip: [self._frozen(step) for step in steps]
                        for skip, steps in self.layouts.items()}
        del self._values

    def _frozen(self, step):
        if step[0] == "value" and isinstance(step[3], keras.Variable):
            return (*step[:3], self._values[id(step[3])])
        return step

    def save_weights(self, path, skip_optimizer=False):
        """Writes what `keras.saving.save_weights` would have written when the copy was
        taken (the optimizer's variables only if copied); `skip_optimizer` as
        `objects_to_skip=[model.optimizer]`."""
        steps = self.layouts[True if skip_optimizer or False not in self.layouts else False]
        with h5py.File(path, mode="w") as store:
            groups = {}
            for step in steps:
                if step[0] == "group":
                    groups[step[1]] = _create_group(store, step[1], step[2])
                    continue
                _, where, key, value = step
                if where not in groups:
                    groups[where] = _create_group(store, where, None)
                _write_value(groups[where], key, value)


def _create_group(store, path, metadata):
    """As H5IOStore._create_h5_group: `path/vars`, with the metadata as attributes."""
    group = store.create_group("vars") if not path else store.create_group(path).create_group("vars")
    for key, value in (metadata or {}).items():
        group.attrs[key] = value
    return group


def _write_value(group, key, value):
    """As H5IOStore.__setitem__ (bfloat16 stored with a dtype attribute)."""
    if keras.backend.standardize_dtype(value.dtype) == "bfloat16":
        group.create_dataset(key, data=value).attrs["dtype"] = "bfloat16"
    else:
        group[key] = value
