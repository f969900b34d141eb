"""The trained PH2 model's test predictions on the accelerator against the CPU (issue 12).

A run of the paper's recipe on an H100, evaluated after 3 epochs, predicted
lesions as vertical stripes (alternate columns at a quarter of the resolution).
This part of `gpu_train.py` predicts the first test images twice, in two
processes of the same code: on the default device and with `JAX_PLATFORMS=cpu`.
It reports how far the two differ and a stripe index of each: the mean
difference between horizontal neighbours over that between vertical neighbours
(about 1 for a blob, well above 1 for vertical stripes).
"""
import numpy as np

COUNT = 8


def predict_first(run_dir, data_dir, out_path, count=COUNT):
    """Child process: saves the probabilities of the first `count` test images."""
    from attention_deeplab.data.loader import load_split
    from attention_deeplab.inference.arrays import predict_array
    from attention_deeplab.inference.model import load_inference_model

    images, _ = load_split(data_dir, "test")
    model = load_inference_model(run_dir=run_dir)
    np.save(out_path, predict_array(model, np.asarray(images[:count]), batch_size=count))
    return 0


def stripe_index(probabilities):
    """Mean |horizontal neighbour difference| over mean |vertical neighbour difference|."""
    p = np.asarray(probabilities, np.float64)
    across = np.abs(np.diff(p, axis=-1)).mean()
    down = np.abs(np.diff(p, axis=-2)).mean()
    return float(across / down) if down > 0 else float("inf") if across > 0 else 1.0


def compare(accelerator, cpu):
    """The figures of two probability stacks of the same images."""
    return {"max |accelerator - CPU| probability": (float(np.abs(accelerator - cpu).max()), ""),
            "pixels on different sides of 0.5": (float(np.mean((accelerator > 0.5) != (cpu > 0.5))),
                                                 "fraction"),
            "stripe index, accelerator": (stripe_index(accelerator), "x"),
            "stripe index, CPU": (stripe_index(cpu), "x")}


def save_sheet(path, accelerator, cpu, rows=4):
    """A PNG: for the first `rows` images, the accelerator's and the CPU's probabilities."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = min(rows, len(accelerator))
    figure, axes = plt.subplots(rows, 2, figsize=(6, 3 * rows), squeeze=False)
    for row in range(rows):
        for column, (name, stack) in enumerate((("accelerator", accelerator), ("CPU", cpu))):
            axes[row, column].imshow(stack[row], vmin=0, vmax=1, cmap="gray")
            axes[row, column].set_title(f"test image {row}, {name}", fontsize=8)
            axes[row, column].axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
