#!/usr/bin/env bash
# The README's main job: train recipes/quickstart.yaml (a new head on the ImageNet ResNet-18, on photos), write the
# HTML report, and classify one validation photo per class with the exported model. About a minute on 2 CPU cores.
# `scripts/quickstart.sh fashion` runs the Fashion-MNIST quickstart (recipes/quickstart-fashion.yaml) the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  "") recipe=quickstart; val=data/photos/val ;;
  fashion) recipe=quickstart-fashion; val=data/fashion-target/val ;;
  *) echo "usage: scripts/quickstart.sh [fashion]" >&2; exit 2 ;;
esac
if [ ! -d "$val" ] || { [ "$recipe" = quickstart ] && [ ! -f models/imagenet/ResNet18.onnx ]; }; then
  echo "scripts/quickstart.sh: $val or models/imagenet/ResNet18.onnx is missing; run scripts/setup.sh first" >&2
  exit 1
fi
trainer=(dotnet run --project src/Trainer -c Release --no-build --)
dotnet build src/Trainer -c Release -v quiet -nologo
run=artifacts/$recipe
"${trainer[@]}" train "recipes/$recipe.yaml" --out "$run"
"${trainer[@]}" evaluate "$run/model.onnx" "$val" --report "$run/report.html" --metrics "$run/metrics.jsonl"
images=()
for class in "$val"/*/; do images+=("$class$(ls "$class" | head -n 1)"); done
"${trainer[@]}" predict "$run/model.onnx" "${images[@]}" --top 3
echo "report: $run/report.html"
