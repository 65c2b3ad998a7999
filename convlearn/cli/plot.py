"""The loss curve of an iterative ``learn`` run, drawn with matplotlib (an optional extra)."""

from __future__ import annotations

from pathlib import Path


def plot_losses(losses: list[float], path: Path, solver: str) -> bool:
    """Draw the loss per epoch to an image file; False (and a hint on stderr) where matplotlib is not installed."""
    import io

    from convlearn.cli.render import stderr
    from convlearn.files import write_bytes

    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        stderr.print("--plot needs matplotlib: pip install 'convlearn[plot]'", markup=False)
        return False
    figure, axes = plt.subplots(figsize=(6, 4))
    positive = [v for v in losses if v > 0]
    axes.plot(range(len(losses)), losses)
    if positive and len(positive) == len(losses):
        axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss (summed squared error)")
    axes.set_title(f"convlearn learn --solver {solver}")
    axes.grid(True, alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=path.suffix.lstrip(".").lower() or "png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    write_bytes(path, buffer.getvalue())
    return True
