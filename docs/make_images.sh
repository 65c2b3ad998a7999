#!/usr/bin/env bash
# Regenerate every picture in docs/img with convlearn itself (`make docs-images`), from the repository root.
# tests/test_docs.py runs the same lines and checks that the committed pictures hold the same pixels.
# CONVLEARN (default: convlearn) is the command to run; PYTHON runs the Pillow line.
set -euo pipefail
cd "$(dirname "$0")/.."
CONVLEARN=${CONVLEARN:-convlearn}
PYTHON=${PYTHON:-python}
OUT=${OUT:-docs/img}
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# edges on a picture (docs/commands.md, README.md)
$CONVLEARN detect sample_images/shapes.png -k sobel-x --mode same --border replicate -o "$OUT/shapes_sobel-x.png" -q
$CONVLEARN detect sample_images/shapes.png -k sobel-x --magnitude --mode same --border replicate -o "$OUT/shapes_magnitude.png" -q
$CONVLEARN detect sample_images/shapes.png -k sobel-x --magnitude --threshold otsu --mode same --border replicate -o "$OUT/shapes_otsu.png" -q
$CONVLEARN detect sample_images/shapes.png --canny 0.1,0.3 -o "$OUT/shapes_canny.png" -q
$CONVLEARN detect sample_images/shapes.png -k log:9,1.4 --mode same --border replicate -o "$OUT/shapes_log.png" -q
$CONVLEARN detect sample_images/colour.png --channels each -k sobel-x --magnitude --mode same --border replicate -o "$OUT/colour_magnitude.png" -q
# a filter recovered from Pillow's output, applied again by convlearn (README.md)
$PYTHON -c "from PIL import Image, ImageFilter; Image.open('sample_images/noise.png').filter(ImageFilter.FIND_EDGES).save('$OUT/noise_pillow_edges.png')"
$CONVLEARN learn -i sample_images/noise.png -t "$OUT/noise_pillow_edges.png" --kernel-size 3x3 --solver lstsq -o "$tmp/edges.json" -q
$CONVLEARN detect sample_images/noise.png -k "$tmp/edges.json" --mode same --border replicate --scale clip -o "$OUT/noise_learned_edges.png" -q
# a blur undone (docs/restoring.md): blurred, restored, and each one's difference from the sharp picture (x4, 0 is mid-grey)
$CONVLEARN detect sample_images/shapes.png -k gaussian:9,2 --mode same --border reflect -o "$OUT/shapes_blurred.png" -q
$CONVLEARN restore "$OUT/shapes_blurred.png" -k gaussian:9,2 -o "$OUT/shapes_restored.png" -q
$CONVLEARN detect sample_images/colour.png --channels each -k box:5 --mode same --border reflect -o "$OUT/colour_blurred.png" -q
$CONVLEARN restore "$OUT/colour_blurred.png" --channels each -k box:5 -o "$OUT/colour_restored.png" -q
for name in shapes_blurred shapes_restored; do
  $PYTHON -c "import numpy as np; from PIL import Image; a, s = (np.asarray(Image.open(p), float) for p in ('$OUT/$name.png', 'sample_images/shapes.png')); Image.fromarray(np.clip(128 + 4 * (a - s), 0, 255).astype(np.uint8)).save('$OUT/${name}_difference.png')"
done
