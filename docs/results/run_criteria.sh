#!/bin/sh
# Experiment (a) of issue 4: criteria compared on the shipped ResNet-20 (Fashion-MNIST) at 30, 50 and 70 % of the
# MACs removed, with the same schedule and fine-tuning budget for all: one-shot global ranking (scores from 2 fresh
# batches of 64 training images), then 1 epoch of fine-tuning (SGD, lr 0.01 cosine-decayed). Results land in
# docs/results/criteria/<criterion>-<target>/ (report.json, report.md, charts; the model files are not kept).
set -eu
STANDALONE=${STANDALONE:-"dotnet run -c Release --project src/Cli --"}
for target in 0.3 0.5 0.7; do
  for criterion in l1 taylor "taylor-sq --random-gradient" lrp singe; do
    name=$(echo "$criterion" | sed 's/ --random-gradient/-random/')
    out=docs/results/criteria/$name-$target
    $STANDALONE prune --criterion $criterion --schedule one-shot --target-macs $target --finetune-epochs 1 --round-to 1 --seed 0 --out "$out"
    rm -f "$out/model.safetensors" "$out/model.onnx"
  done
done
