"""The command-line interface: a thin layer over the library.

Each command reads its options, makes one library call and renders the
result; :mod:`convlearn.cli.app` holds the app and the one error boundary.
Commands are registered here, explicitly; ``--help`` lists them in this order.
"""

from convlearn.cli import detect, export, kernels, learn, restore, synth
from convlearn.cli.app import app, main

for _command in (detect.detect, export.export, kernels.kernels, learn.learn, restore.restore, synth.synth):
    app.command()(_command)

__all__ = ["app", "main"]
