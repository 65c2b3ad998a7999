"""What convlearn shows in the terminal: Rich consoles, signed values, kernel tables, tensors."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

__all__ = ["format_tensor", "kernel_table", "kernel_tables", "signed", "stderr", "stdout"]

#: Results go to stdout; progress, reports and errors to stderr... except that
#: reports asked for on purpose (tables, --print) also go to stdout.
stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def signed(text: str, value: float) -> str:
    """``text`` in Rich markup coloured by the sign of ``value``: red below 0, green above, dim at 0.

    >>> signed("-1", -1.0), signed("0", 0.0)
    ('[red]-1[/]', '[dim]0[/]')
    """
    style = "red" if value < 0 else "green" if value > 0 else "dim"
    return f"[{style}]{text}[/]"


def kernel_table(weight, title: str = "kernel", bias: float | None = None, precision: int = 4) -> Table:
    """A Rich table of a kernel's values, columns and rows numbered.

    Args:
        weight: anything with ``.tolist()`` giving rows, shape :math:`(h, w)`.
        title: the caption above it, plain text (a file name's ``[`` is not markup).
        bias: shown under the table when not None.
    """
    from rich.markup import escape

    rows = weight.tolist()
    table = Table(
        title=escape(title),
        show_header=True,
        header_style="bold",
        caption=None if bias is None else f"bias {bias:.{precision}g}",
    )
    table.add_column("", style="dim", justify="right")
    for j in range(len(rows[0]) if rows else 0):
        table.add_column(str(j), justify="right")
    for i, row in enumerate(rows):
        table.add_row(str(i), *(signed(f"{v:.{precision}g}", v) for v in row))
    return table


#: A colour kernel's channels, in order.
RGB = ("R", "G", "B")


def kernel_tables(weight, title: str = "kernel", bias=None, precision: int = 4) -> list[Table]:
    """One table per plane: one for an (h, w) kernel, three for (3, h, w), nine for (3, 3, h, w).

    A (3, h, w) kernel's tables are titled by channel (``R``); a (3, 3, h, w) one's
    ``R <- G`` (output channel from input channel). A per-channel bias (a sequence)
    shows under its output channel's last table.
    """
    if len(weight.shape) == 2:
        return [kernel_table(weight, title, bias, precision)]
    biases = list(bias) if isinstance(bias, list | tuple) else [bias] * 3
    if len(weight.shape) == 3:
        return [kernel_table(weight[o], f"{title}, {RGB[o]}", biases[o], precision) for o in range(3)]
    return [
        kernel_table(weight[o, i], f"{title}, {RGB[o]} <- {RGB[i]}", biases[o] if i == 2 else None, precision)
        for o in range(3)
        for i in range(3)
    ]


def format_tensor(values) -> str:
    """Text of a tensor exactly as the notebook prints it (``tensor([[...]])``)."""
    import torch

    return repr(torch.as_tensor(values))
