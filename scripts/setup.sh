#!/usr/bin/env bash
# One-time machine setup for development and CI (Debian): the packages the tests and the shipped demos use, the
# ImageNet ResNet-18 from NuGet, the photo sample, then the test fixtures that are generated rather than committed.
# Installing packages needs root: run it as root (containers have no sudo), or as a user with sudo, which it then
# uses for apt-get only.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  python3-torch python3-torchvision python3-onnx libopenblas0-pthread  # fixture generation and the PyTorch baseline
  libonnx-testdata                                                     # ONNX operator conformance cases (shape inference tests)
  dataset-fashion-mnist                                                # the Fashion-MNIST demo's source and target tasks
  tuxpaint-stamps-default python3-pil                                  # the photo sample (data/build_photos.py)
  chromium                                                             # renders the evaluation report in a test (headless screenshot)
)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "scripts/setup.sh: installing ${missing[*]} needs root; run it as root (sudo is not installed)" >&2
      exit 1
    fi
    echo "scripts/setup.sh: not root; installing ${missing[*]} with sudo" >&2
    as_root=(sudo)
  fi
  "${as_root[@]}" apt-get update -q
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# The ImageNet ResNet-18 of ML.NET's featurizer package (MIT): an ordinary NuGet restore of a project with no code.
dotnet restore models/imagenet/restore.csproj -v q -nologo
package="$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')microsoft.ml.dnnimagefeaturizer.resnet18/0.24.0"
cp "$package/tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx" "$package/tools/DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx" models/imagenet/

# Photos of everyday things (GPL-licensed Tux Paint stamps): built here, never committed.
/usr/bin/python3 data/build_photos.py

if [ -x tests/fixtures/generate.sh ]; then tests/fixtures/generate.sh; fi
