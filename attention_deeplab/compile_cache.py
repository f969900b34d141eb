"""A persistent JAX compilation cache, on by default.

On a GPU, compiling the network's training step, its batch-norm statistics and
its inference took most of a short run's first minutes, and a resumed run or a
second evaluation compiled them all again (issue 12). JAX can keep compiled
programs on disk: the next process with the same program and device loads them.
TensorFlow and PyTorch: nothing to do.

The folder is `$JAX_COMPILATION_CACHE_DIR` when set, else
`~/.cache/attention_deeplab/jax` (`$XDG_CACHE_HOME` replaces `~/.cache`).
`ATTENTION_DEEPLAB_JAX_CACHE=off` turns it off.
"""
import os
from pathlib import Path

OFF_VARIABLE = "ATTENTION_DEEPLAB_JAX_CACHE"


def default_cache_dir():
    """`$XDG_CACHE_HOME/attention_deeplab/jax`, or under `~/.cache`."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "attention_deeplab" / "jax"


def enable_compilation_cache():
    """Points JAX's persistent compilation cache at its folder, unless turned off.

    Call it before the process compiles anything: JAX decides once, at its
    first compilation, whether a cache is used.

    Returns:
        str or None. The cache folder, or None (another backend, or turned off).
    """
    import keras

    if keras.backend.backend() != "jax":
        return None
    if os.environ.get(OFF_VARIABLE, "").strip().lower() in ("0", "off", "false", "no", "none"):
        return None
    import jax

    folder = os.environ.get("JAX_COMPILATION_CACHE_DIR") or str(default_cache_dir())
    jax.config.update("jax_compilation_cache_dir", folder)
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
        # JAX's default keeps only programs that took a second or more; the
        # hundreds of small ones of weight initialisation add up too.
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return folder
