#!/bin/sh
# Experiment (d) of issue 4: SInGE entwined (the default `standalone prune`: prune 5 % of a layer, fine-tune 50
# steps, repeat layer by layer, then 1 epoch) against SInGE one-shot followed by the same number of fine-tuning
# steps in one block, at 50 % of the MACs removed. The entwined run's fine-tuning step count is read from its report.
set -eu
STANDALONE=${STANDALONE:-"dotnet run -c Release --project src/Cli --"}
$STANDALONE prune --round-to 1 --seed 0 --out docs/results/entwined/singe-entwined
steps=$(python3 -c "import json; r=json.load(open('docs/results/entwined/singe-entwined/report.json')); print(r['fine_tune_steps'])")
epochs=$(python3 -c "print($steps / 468)")
$STANDALONE prune --schedule one-shot --finetune-epochs "$epochs" --round-to 1 --seed 0 --out docs/results/entwined/singe-one-shot
rm -f docs/results/entwined/*/model.safetensors docs/results/entwined/*/model.onnx
