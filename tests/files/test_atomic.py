"""Safe writes: the old file or the complete new one, never half of either."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from convlearn.errors import InputError, OutputError
from convlearn.files import atomic as files
from convlearn.files.atomic import atomic_write, check_not_input, make_output_dir, write_bytes, write_text


def leftovers(directory: Path) -> list[str]:
    """Temporary files atomic_write may have left behind."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


def test_write_bytes_and_text(tmp_path):
    write_bytes(tmp_path / "a.bin", b"\x00\x01")
    write_text(tmp_path / "b.txt", "héllo\n")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_bytes() == "héllo\n".encode()
    assert leftovers(tmp_path) == []


def test_text_mode_is_utf8(tmp_path):
    with atomic_write(tmp_path / "t.txt", "w") as handle:
        handle.write("π")
    assert (tmp_path / "t.txt").read_bytes() == "π".encode()


def test_relative_path_in_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_bytes("plain.bin", b"x")
    assert (tmp_path / "plain.bin").read_bytes() == b"x"


def test_new_file_gets_the_mode_open_would_give(tmp_path):
    umask = os.umask(0o022)
    try:
        write_bytes(tmp_path / "new.bin", b"x")
    finally:
        os.umask(umask)
    assert (tmp_path / "new.bin").stat().st_mode & 0o777 == 0o644


def test_overwrite_keeps_the_existing_mode(tmp_path):
    target = tmp_path / "old.bin"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("error", [ValueError("boom"), KeyboardInterrupt()])
def test_failure_in_the_middle_keeps_the_old_file(tmp_path, error):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old contents")
    with pytest.raises(type(error)), atomic_write(target) as handle:
        handle.write(b"half of the new")
        raise error
    assert target.read_bytes() == b"old contents"
    assert leftovers(tmp_path) == []


class _FillsUp:
    """A file whose disk fills after ``room`` bytes: it writes what fits, then ENOSPC."""

    def __init__(self, real, room: int):
        self.real, self.room = real, room

    def write(self, data):
        fits = bytes(data[: self.room])
        self.real.write(fits)
        self.room -= len(fits)
        if len(fits) < len(data):
            self.real.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return len(data)

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()


def test_disk_full_during_the_write_keeps_the_old_file(tmp_path, monkeypatch):
    real_fdopen = os.fdopen
    monkeypatch.setattr(files.os, "fdopen", lambda fd, *a, **k: _FillsUp(real_fdopen(fd, *a, **k), room=10))
    target = tmp_path / "result.npy"
    target.write_bytes(b"the old result")
    with pytest.raises(OutputError) as info:
        write_bytes(target, b"a new result, longer than the room left on the disk")
    assert str(info.value) == (
        f"Cannot write {str(target)!r}: no space left on device (the disk is full); free some space or "
        f"write elsewhere; {str(target)!r} was left as it was"
    )
    assert target.read_bytes() == b"the old result"
    assert leftovers(tmp_path) == []


def test_disk_full_found_at_fsync_for_a_new_file(tmp_path, monkeypatch):
    # Some file systems report a full disk only when the data is flushed.
    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", fsync)
    target = tmp_path / "new.png"
    with pytest.raises(OutputError, match="the disk is full.*nothing was written$"):
        write_bytes(target, b"data")
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_failed_rename_removes_the_temporary_file(tmp_path, monkeypatch):
    def replace(src, dst):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(files.os, "replace", replace)
    target = tmp_path / "k.json"
    target.write_text("{}")
    with pytest.raises(OutputError, match="permission denied; choose another --output"):
        write_text(target, '{"kernel": [[1]]}')
    assert target.read_text() == "{}"
    assert leftovers(tmp_path) == []


def test_a_killed_process_leaves_the_old_file_whole(tmp_path):
    # No cleanup can run after SIGKILL or a power cut: the rename is what keeps the old file whole.
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    code = (
        "import os, sys\n"
        "from convlearn.files.atomic import atomic_write\n"
        "with atomic_write(sys.argv[1]) as f:\n"
        "    f.write(b'half'); f.flush(); os._exit(9)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True)
    assert proc.returncode == 9
    assert target.read_bytes() == b"old"
    left = leftovers(tmp_path)
    assert len(left) == 1 and left[0].startswith(".out.bin.")  # hidden, and never mistaken for the output


def test_missing_directory(tmp_path):
    target = tmp_path / "no" / "such" / "out.png"
    with pytest.raises(OutputError) as info:
        write_bytes(target, b"x")
    assert str(info.value) == (
        f"Cannot write {str(target)!r}: the directory {str(target.parent)!r} does not exist. "
        "Create it first or choose another --output"
    )


def test_directory_that_is_a_file(tmp_path):
    (tmp_path / "f.png").write_bytes(b"an image")
    target = tmp_path / "f.png" / "sub" / "out.png"
    with pytest.raises(OutputError) as info:
        write_bytes(target, b"x")
    assert str(info.value) == (
        f"Cannot write {str(target)!r}: {str(tmp_path / 'f.png')!r} is a file, not a directory. Choose another --output"
    )
    assert (tmp_path / "f.png").read_bytes() == b"an image"


def test_target_that_is_a_directory(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(OutputError, match="it is a directory. Give a file name"):
        write_bytes(tmp_path / "d", b"x")
    assert (tmp_path / "d").is_dir()


def test_unwritable_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: permissions do not stop writes (the is-a-file case covers this path)")
        with pytest.raises(OutputError, match="permission denied; choose another --output.*nothing was written"):
            write_bytes(locked / "out.png", b"x")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_make_output_dir(tmp_path):
    assert make_output_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir()
    assert make_output_dir(tmp_path / "a" / "b").is_dir()  # existing: fine


def test_make_output_dir_refuses_files(tmp_path):
    (tmp_path / "f").write_text("keep me")
    with pytest.raises(OutputError) as info:
        make_output_dir(tmp_path / "f")
    assert str(info.value) == (
        f"Cannot use {str(tmp_path / 'f')!r} as the output directory: it is a file. Choose another --output"
    )
    with pytest.raises(OutputError, match=r"it is inside '.*f', which is a file"):
        make_output_dir(tmp_path / "f" / "out")
    assert (tmp_path / "f").read_text() == "keep me"


def test_check_not_input_refuses_the_same_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("in.png").write_bytes(b"x")
    Path("sub").mkdir()
    os.symlink(tmp_path / "in.png", "link.png")
    os.link("in.png", "hard.png")
    with pytest.raises(InputError) as info:
        check_not_input("in.png", ["other.png", "in.png"])
    assert str(info.value) == "Output 'in.png' is also an input; refusing to overwrite it. Choose another --output"
    for alias in ["./in.png", "sub/../in.png", str(tmp_path / "in.png"), "link.png", "hard.png"]:
        with pytest.raises(InputError, match="refusing to overwrite it"):
            check_not_input(alias, ["in.png"])
    with pytest.raises(InputError) as info:
        check_not_input("link.png", ["in.png"])
    assert str(info.value) == (
        "Output 'link.png' is also an input (the same file as 'in.png'); refusing to overwrite it. "
        "Choose another --output"
    )


def test_check_not_input_allows_other_outputs(tmp_path):
    (tmp_path / "in.png").write_bytes(b"x")
    check_not_input(tmp_path / "out.png", [tmp_path / "in.png"])  # does not exist yet
    (tmp_path / "out.png").write_bytes(b"y")
    check_not_input(tmp_path / "out.png", [tmp_path / "in.png"])  # exists, but another file
    check_not_input("-", ["-"])  # stdout is never an input file
