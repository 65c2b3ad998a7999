"""Imports every command module so that each registers itself on the app."""

from convlearn.cli import detect, export, kernels, learn, synth  # noqa: F401
