"""DetectConfig's one check, and the tag of default output names."""

import subprocess
import sys

import pytest

from convlearn.detect.config import DetectConfig, check_config, default_tag, parse_canny, parse_threshold
from convlearn.errors import InputError
from convlearn.kernels import parse_kernel


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"angle": True}, "--angle is the direction of a gradient pair"),
        ({"canny": (0.1, 0.2), "threshold": 0.5}, "--canny already gives a binary edge map"),
        ({"canny": (0.1, 0.2), "magnitude": True}, "--canny computes its own gradient magnitude"),
        ({"canny": (0.1, 0.2), "mode": "same"}, "--canny always gives the input's size"),
        ({"canny": (0.1, 0.2), "border": "reflect"}, "drop --mode and --border"),
        ({"canny": (0.3, 0.2)}, "0 <= LOW <= HIGH"),
        ({"channels": "each", "bit_depth": 16}, "--bit-depth 16 writes one plane"),
        ({"channels": "rgb"}, "Invalid channels 'rgb'. Expected one of: luma, each"),
        ({"threshold": "median"}, "Invalid threshold 'median'"),
        ({"fmt": "gif"}, "Invalid format 'gif'"),
        ({"png_compression": 10}, "Invalid PNG compression 10. Expected one of: 0, 1, 2"),
    ],
)
def test_bad_configs(overrides, message):
    with pytest.raises(InputError, match=message):
        check_config(DetectConfig(**overrides))


def test_canny_as_text_or_as_a_pair_is_checked_alike():
    assert check_config(DetectConfig(canny="0.1, 0.3")).canny == (0.1, 0.3)
    assert check_config(DetectConfig(canny=(0.1, 0.3))).canny == (0.1, 0.3)
    with pytest.raises(InputError, match=r"^Invalid Canny thresholds '0.3,0.2'. Expected 0 <= LOW <= HIGH"):
        check_config(DetectConfig(canny=(0.3, 0.2)))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0.3", "Expected LOW,HIGH"),
        ("0.5,0.1", "0 <= LOW <= HIGH"),
        ((0.1, 0.2, 0.3), r"^Invalid Canny thresholds '0.1,0.2,0.3'. Expected LOW,HIGH"),
        (("a", 1), "Expected LOW,HIGH"),
        ((0.1, float("inf")), "0 <= LOW <= HIGH"),
    ],
)
def test_bad_canny(value, message):
    with pytest.raises(InputError, match=message):
        parse_canny(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [("abc", "Invalid threshold 'abc'. Expected a number or 'otsu'"), ("nan", "Expected a finite number")],
)
def test_bad_threshold(text, message):
    with pytest.raises(InputError, match=message):
        parse_threshold(text)


def test_threshold_text_becomes_a_number_or_otsu():
    assert check_config(DetectConfig(threshold="0.5")).threshold == 0.5
    assert check_config(DetectConfig(threshold="OTSU")).threshold == "otsu"


def test_a_checked_config_checks_the_same_again():
    checked = check_config(DetectConfig(canny="0.1,0.3", angle=True, threshold=None))
    assert check_config(checked) == checked


@pytest.mark.parametrize(
    ("spec", "settings", "tag"),
    [
        ("sobel-x", {}, "sobel-x"),
        ("sobel-x", {"magnitude": True, "threshold": "otsu"}, "sobel-x-mag-otsu"),
        ("gaussian:5,1.2", {"threshold": 0.5}, "gaussian-5-1.2-bin"),
        ("1,-1", {}, "inline-2769561d"),
        ("3x3: 0 1 0 1 -4 1 0 1 0", {}, "magick-40fc598a"),
        ("edge", {"canny": (0.1, 0.3)}, "canny"),
    ],
)
def test_default_tag_says_what_was_computed(spec, settings, tag):
    assert default_tag(parse_kernel(spec), DetectConfig(**settings)) == tag


def test_inline_and_magick_tags_tell_kernels_apart():
    """Different kernels never share a default output name; the same kernel, however spelt, keeps one."""
    tags = {default_tag(parse_kernel(spec), DetectConfig()) for spec in ["1,-1", "1,-2", "-1,1", "1;-1"]}
    assert len(tags) == 4 and all(t.startswith("inline-") for t in tags)
    assert default_tag(parse_kernel("1, -1"), DetectConfig()) == default_tag(parse_kernel("1 -1"), DetectConfig())
    magick = {default_tag(parse_kernel(s), DetectConfig()) for s in ["3: 0 1 0 1 -4 1 0 1 0", "3: 0 1 0 1 -4 1 0 1 1"]}
    assert len(magick) == 2
    with_origin = default_tag(parse_kernel("3x3+0+0: 0 1 0 1 -4 1 0 1 0"), DetectConfig())
    assert with_origin not in magick  # the anchor is part of the kernel


def test_default_tag_of_a_kernel_file_is_its_stem(tmp_path):
    (tmp_path / "learned.json").write_text('{"kernel": [[1, -1]]}')
    assert default_tag(parse_kernel(str(tmp_path / "learned.json")), DetectConfig()) == "learned"


def test_the_config_module_does_not_import_torch():
    code = "import sys, convlearn.detect.config; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
