#!/usr/bin/env bash
# The README's main job: fine-tune the shipped backbone on the shipped sample images, write the HTML
# report, and classify a few images with the exported model. A few minutes on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
trainer=(dotnet run --project src/Trainer -c Release --)
dotnet build src/Trainer -c Release -v quiet -nologo
run=artifacts/quickstart
"${trainer[@]}" train recipes/quickstart.yaml --out "$run"
"${trainer[@]}" evaluate "$run/model.onnx" data/fashion-target/val --report "$run/report.html" --metrics "$run/metrics.jsonl"
images=()
for class in data/fashion-target/val/*/; do images+=("$class$(ls "$class" | head -n 1)"); done
"${trainer[@]}" predict "$run/model.onnx" "${images[@]}" --top 3
echo "report: $run/report.html"
