"""Input collection (files, directories, globs, stdin) and output planning (names, clashes, inputs kept safe)."""

import os
from pathlib import Path

import pytest

from convlearn.errors import InputError
from convlearn.files import INPUT_SUFFIXES, Source, collect_inputs, plan_outputs


def _touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")


def test_stdin_is_one_source_named_stdin():
    assert collect_inputs(["-"]) == [Source("-", Path("stdin"))]


def test_a_directory_keeps_every_input_suffix_in_any_case(tmp_path):
    names = [f"a{i}{suffix.upper() if i % 2 else suffix}" for i, suffix in enumerate(INPUT_SUFFIXES)]
    _touch(tmp_path, *names, "notes.txt", "b.gif")
    assert sorted(str(s.name) for s in collect_inputs([str(tmp_path)])) == sorted(names)


def test_recursive_skips_hidden_folders(tmp_path):
    _touch(tmp_path, "a.png", ".git/b.png", "sub/.cache/c.png", "sub/d.png")
    found = collect_inputs([str(tmp_path)], recursive=True)
    assert [str(s.name) for s in found] == ["a.png", "sub/d.png"]


def test_a_directory_with_images_only_below_suggests_recursive(tmp_path):
    _touch(tmp_path, "sub/a.png")
    with pytest.raises(InputError, match=r"in directory .* \(add --recursive to look in its subdirectories\)$"):
        collect_inputs([str(tmp_path)])
    _touch(tmp_path, "other/notes.txt")
    with pytest.raises(InputError, match=r"No images \(.png, .jpg, .jpeg, .tif, .tiff, .bmp, .npy\) in directory .*'$"):
        collect_inputs([str(tmp_path / "other")], recursive=True)


def test_glob_names_are_relative_to_the_glob_root(tmp_path):
    _touch(tmp_path, "d/x/a.png", "d/y/a.png", "d/y/b.txt")
    found = collect_inputs([str(tmp_path / "d" / "*" / "*.png")])
    assert [str(s.name) for s in found] == ["x/a.png", "y/a.png"]
    assert [s.path for s in found] == [str(tmp_path / "d" / "x" / "a.png"), str(tmp_path / "d" / "y" / "a.png")]


def test_a_file_whose_name_looks_like_a_glob_is_read_as_a_file(tmp_path):
    _touch(tmp_path, "a[1].png")
    assert collect_inputs([str(tmp_path / "a[1].png")]) == [Source(str(tmp_path / "a[1].png"), Path("a[1].png"))]


def test_a_named_file_is_kept_whatever_its_suffix(tmp_path):
    _touch(tmp_path, "notes.txt")
    assert [str(s.name) for s in collect_inputs([str(tmp_path / "notes.txt")])] == ["notes.txt"]


def test_two_spellings_of_one_file_count_once(tmp_path):
    _touch(tmp_path, "a.png")
    os.symlink(tmp_path / "a.png", tmp_path / "link.png")
    found = collect_inputs([str(tmp_path / "a.png"), str(tmp_path / "." / "a.png"), str(tmp_path / "link.png")])
    assert found == [Source(str(tmp_path / "a.png"), Path("a.png"))]


def test_bad_format_message():
    with pytest.raises(InputError, match="^Invalid format 'gif'. Expected one of: png, tif, npy$"):
        plan_outputs([Source("a.png", Path("a.png"))], None, fmt="gif")


def test_default_names_are_tagged_and_safe():
    sources = [Source("in/a.jpg", Path("a.jpg")), Source("b.png", Path("b.png"))]
    assert plan_outputs(sources, None, fmt="npy", default_tag="box:3 / x") == ["a_box_3_x.npy", "b_box_3_x.npy"]
    assert plan_outputs(sources[:1], None, default_tag="..//..") == ["a_out.png"]
    # stdin gets a file name too: with text on stdout (--json) the image must not go there
    assert plan_outputs([Source("-", Path("stdin"))], None, default_tag="edge") == ["stdin_edge.png"]


def test_a_trailing_separator_or_several_inputs_mean_a_directory(tmp_path):
    one = [Source("a.png", Path("a.png"))]
    assert plan_outputs(one, f"{tmp_path / 'out'}/") == [str(tmp_path / "out" / "a.png")]
    assert (tmp_path / "out").is_dir()
    two = [*one, Source("b.png", Path("b.png"))]
    assert plan_outputs(two, tmp_path / "more", fmt="tif") == [str(tmp_path / "more" / f"{n}.tif") for n in "ab"]


def test_as_directory_false_refuses_several_inputs(tmp_path):
    two = [Source("a.png", Path("a.png")), Source("b.png", Path("b.png"))]
    with pytest.raises(InputError, match=r"^--out '.*y.png' is a file, but there are 2 inputs. Give a directory$"):
        plan_outputs(two, tmp_path / "y.png", as_directory=False, what="--out")
    assert not (tmp_path / "y.png").exists()


def test_an_output_that_is_a_hard_link_to_an_input_is_refused(tmp_path):
    _touch(tmp_path, "a.png")
    os.link(tmp_path / "a.png", tmp_path / "b.png")
    with pytest.raises(InputError, match=r"is also an input \(the same file as .*a.png'\); refusing to overwrite it"):
        plan_outputs([Source(str(tmp_path / "a.png"), Path("a.png"))], tmp_path / "b.png")


def test_clashing_names_in_subfolders_are_refused(tmp_path):
    sources = [Source("x/a.png", Path("sub/a.png")), Source("y/a.jpg", Path("sub/a.jpg"))]
    with pytest.raises(InputError, match=r"^Inputs 'x/a.png' and 'y/a.jpg' would both be written to '.*sub/a.png'"):
        plan_outputs(sources, tmp_path / "out")


def test_an_output_without_suffix_that_is_no_directory_says_how_to_name_it(tmp_path):
    sources = [Source(str(tmp_path / "a.png"), Path("a.png"))]
    out = str(tmp_path / "out")
    with pytest.raises(InputError, match=r"has no suffix and is not a directory\. Name a file such as '.*out\.png'"):
        plan_outputs(sources, out)
    assert plan_outputs(sources, out + "/") == [str(tmp_path / "out" / "a.png")]
