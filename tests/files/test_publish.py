"""Temporary names within 255 bytes, publication that never replaces a file, stale .part files, checked stdout."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest

from convlearn.errors import OutputError
from convlearn.files import publish
from convlearn.files.atomic import write_bytes
from convlearn.files.stdio import CheckedStream


@pytest.mark.parametrize("name", ["x" * 255, "é" * 127 + ".png", "a.png"])
def test_temporary_names_fit_in_255_bytes_and_keep_whole_characters(tmp_path, name):
    tmp = publish.temporary_name(tmp_path / name)
    assert len(os.fsencode(tmp.name)) <= 255
    tmp.name.encode("utf-8")  # no half character
    assert tmp.parent == tmp_path and publish._TAG.search(tmp.name)


@pytest.mark.parametrize("way", ["renameat2", "link", "neither"])
def test_publish_new_never_replaces_a_file_whichever_way_it_publishes(tmp_path, monkeypatch, way):
    if way != "renameat2":
        monkeypatch.setattr(publish, "_renameat2", lambda src, dst: False)
    if way == "neither":

        def no_links(src, dst):
            raise OSError(errno.EPERM, "no hard links here")

        monkeypatch.setattr(publish.os, "link", no_links)
    (tmp_path / "taken.png").write_bytes(b"mine")
    tmp = tmp_path / ".taken.png.convlearn-1-00000000.part"
    tmp.write_bytes(b"new")
    with pytest.raises(OutputError, match="already exists"):
        publish.publish_new(tmp, tmp_path / "taken.png")
    assert (tmp_path / "taken.png").read_bytes() == b"mine"
    publish.publish_new(tmp, tmp_path / "free.png")
    assert (tmp_path / "free.png").read_bytes() == b"new" and not tmp.exists()


def test_a_fresh_name_is_written_only_where_nothing_is(tmp_path):
    target = publish.FreshName(str(tmp_path / "a_canny.png"))
    write_bytes(target, b"first")
    with pytest.raises(OutputError, match="already exists"):
        write_bytes(target, b"second")
    assert (tmp_path / "a_canny.png").read_bytes() == b"first"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_only_the_part_files_of_ended_processes_are_removed(tmp_path):
    child = subprocess.Popen(["true"])
    child.wait()
    dead = tmp_path / f".a.convlearn-{child.pid}-0000abcd.part"
    mine = tmp_path / f".b.convlearn-{os.getpid()}-0000abcd.part"
    other = tmp_path / ".c.0123456789abcdef.part"  # not convlearn's mark: never touched
    for p in (dead, mine, other):
        p.write_bytes(b"12")
    publish.remove_stale(tmp_path)
    assert not dead.exists() and mine.exists() and other.exists()
    assert "removed 1 temporary .part file(s) (2 bytes)" in publish.take_stale_report()
    assert publish.take_stale_report() is None


def test_checked_stdout_raises_on_a_full_device():
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        stream = CheckedStream(fd)
        with pytest.raises(OutputError, match="Cannot write to stdout: no space left"):
            stream.write("hello\n")
        with pytest.raises(OutputError):
            stream.buffer.write(b"\x89PNG")
    finally:
        os.close(fd)


def test_checked_stdout_names_a_closed_stream():
    fd = os.open(os.devnull, os.O_RDONLY)  # how a closed stdout is held: writes fail with EBADF
    try:
        with pytest.raises(OutputError, match="stdout: it is closed"):
            CheckedStream(fd).write("x")
    finally:
        os.close(fd)
