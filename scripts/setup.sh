#!/usr/bin/env bash
# One-time machine setup for development and CI (Debian, root or sudo): the packages the tests and the
# shipped demo use, then the test fixtures that are generated rather than committed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  python3-torch python3-torchvision python3-onnx libopenblas0-pthread  # fixture generation and the PyTorch baseline
  libonnx-testdata                                                     # ONNX operator conformance cases (shape inference tests)
  dataset-fashion-mnist                                                # the shipped demo's source and target tasks
  chromium                                                             # renders the evaluation report in a test (headless screenshot)
)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

if [ -x tests/fixtures/generate.sh ]; then tests/fixtures/generate.sh; fi
