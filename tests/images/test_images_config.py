"""The torch-, NumPy- and Pillow-free words of images on disk."""

import subprocess
import sys

from PIL import Image

from convlearn.images.config import DEFAULT_MAX_PIXELS


def test_the_default_pixel_cap_is_pillows():
    assert DEFAULT_MAX_PIXELS == Image.MAX_IMAGE_PIXELS


def test_the_settings_import_neither_torch_numpy_nor_pillow():
    code = (
        "import sys\n"
        "from convlearn.images import CHANNELS, DEFAULT_MAX_PIXELS, OUTPUT_FORMATS, SCALES\n"
        "from convlearn.kernels import TOOLS\n"
        "from convlearn.runtime import DEVICES, check_device\n"
        "print([m for m in ('torch', 'numpy', 'PIL') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
