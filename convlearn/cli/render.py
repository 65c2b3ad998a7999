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


def kernel_table(
    weight, title: str = "kernel", bias: float | None = None, precision: int = 4, width: int | None = None
):
    """A Rich table of a kernel's values, columns and rows numbered, that fits the terminal without cutting a number.

    A table too wide at ``precision`` significant digits shows fewer (down to 2);
    one too wide even then becomes a compact matrix, the numbers separated by
    spaces, which the terminal may wrap but Rich never cuts. The caption says so.

    Args:
        weight: anything with ``.tolist()`` giving rows, shape :math:`(h, w)`.
        title: the caption above it, plain text (a file name's ``[`` is not markup).
        bias: shown under the table when not None.
        precision: significant digits when the table fits.
        width: the columns to fit; None: stdout's width.
    """
    rows = weight.tolist()
    width = stdout.width if width is None else width
    for digits in range(precision, 1, -1):
        cells = [[f"{v:.{digits}g}" for v in row] for row in rows]
        if _table_width(cells) <= width:
            note = "" if digits == precision else f"{digits} significant digits, to fit {width} columns"
            return _table(rows, cells, title, bias, precision, note)
    return _compact(rows, title, bias, precision)


def _table_width(cells: list[list[str]]) -> int:
    """The columns a boxed Rich table of these cells takes: each column its widest text and 2 of padding, plus rules."""
    if not cells:
        return 4
    widths = [len(str(len(cells) - 1))] + [max(len(str(j)), *(len(r[j]) for r in cells)) for j in range(len(cells[0]))]
    return sum(w + 2 for w in widths) + len(widths) + 1


def _table(rows, cells, title: str, bias, precision: int, note: str) -> Table:
    from rich.markup import escape

    caption = [] if bias is None else [f"bias {bias:.{precision}g}"]
    table = Table(
        title=escape(title),
        show_header=True,
        header_style="bold",
        caption="; ".join(caption + ([note] if note else [])) or None,
    )
    table.add_column("", style="dim", justify="right", no_wrap=True)
    for j in range(len(rows[0]) if rows else 0):
        table.add_column(str(j), justify="right", no_wrap=True)
    for i, (row, texts) in enumerate(zip(rows, cells, strict=True)):
        table.add_row(str(i), *(signed(t, v) for t, v in zip(texts, row, strict=True)))
    return table


def _compact(rows, title: str, bias, precision: int):
    """A matrix too wide for a table: rows of right-aligned numbers at 2 significant digits, signs coloured."""
    from rich.markup import escape
    from rich.text import Text

    cells = [[f"{v:.2g}" for v in row] for row in rows]
    cell = max(len(c) for r in cells for c in r)
    lines = [f"[bold]{escape(title)}[/] [dim](2 significant digits, one row a line: too wide for a table)[/]"]
    lines += [
        " ".join(signed(t.rjust(cell), v) for t, v in zip(texts, row, strict=True))
        for texts, row in zip(cells, rows, strict=True)
    ]
    if bias is not None:
        lines.append(f"[dim]bias {bias:.{precision}g}[/]")
    return Text.from_markup("\n".join(lines))


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
