#!/bin/sh
# Issue 17's grid: how the pruning budget is allocated across layers (global ranking of raw or layer-normalised
# scores, or cost-aware: score per MAC saved), the schedule (one-shot, progressive, entwined) and knowledge
# distillation, on the shipped ResNet-20 (Fashion-MNIST), widths kept multiples of 4 (the default --round-to).
#
#   sh docs/results/run_allocation.sh epoch  [CONFIG ...]   one epoch of fine-tuning (468 steps) after pruning
#   sh docs/results/run_allocation.sh budget [CONFIG ...]   4,218 fine-tuning steps in all (the issue's budget:
#                                                           9 epochs; entwined rounds count against it)
# SEEDS="0 1 2" repeats each configuration per seed (default 0). CONFIG names a line of the table below (all when
# none is given). Each run lands in docs/results/allocation/<budget>/<config>-s<seed>/ (report.json, report.md,
# charts); its model file goes to $MODELS (default /tmp/standalone-allocation-models) for the speed measurement:
#   dotnet run -c Release --project src/Cli -- bench --model data/models/resnet20-fashion-mnist.safetensors $MODELS/*.safetensors
# then `python3 docs/results/summarize_allocation.py` writes allocation.md and the charts.
set -eu
STANDALONE=${STANDALONE:-"dotnet run -c Release --project src/Cli --"}
budget=${1:?usage: run_allocation.sh epoch|budget [CONFIG ...]}
shift
case $budget in
  epoch) steps="--finetune-epochs 1" ;;
  budget) steps="--finetune-steps 4218" ;;
  *) echo "budget must be epoch or budget, got '$budget'" >&2; exit 2 ;;
esac
MODELS=${MODELS:-/tmp/standalone-allocation-models}
mkdir -p "$MODELS"
configs() {
  cat <<'TABLE'
singe-global-none-50      --criterion singe --schedule one-shot --ranking global --score-normalization none --target-macs 0.5
singe-global-mean-50      --criterion singe --schedule one-shot --ranking global --score-normalization mean --target-macs 0.5
singe-cost-none-50        --criterion singe --schedule one-shot --ranking cost --score-normalization none --target-macs 0.5
singe-cost-mean-50        --criterion singe --schedule one-shot --ranking cost --score-normalization mean --target-macs 0.5
singe-cost-l2-50          --criterion singe --schedule one-shot --ranking cost --score-normalization l2 --target-macs 0.5
singe-global-none-lr05-50 --criterion singe --schedule one-shot --ranking global --score-normalization none --lr 0.05 --target-macs 0.5
singe-global-none-kd5-50  --criterion singe --schedule one-shot --ranking global --score-normalization none --distill-alpha 0.5 --target-macs 0.5
singe-global-none-kd9-50  --criterion singe --schedule one-shot --ranking global --score-normalization none --distill-alpha 0.9 --target-macs 0.5
singe-entwined-none-50    --criterion singe --schedule entwined --ranking global --score-normalization none --target-macs 0.5
singe-entwined-none-f10-50 --criterion singe --schedule entwined --ranking global --score-normalization none --entwined-steps 10 --target-macs 0.5
singe-entwined-l2-50      --criterion singe --schedule entwined --ranking global --score-normalization l2 --target-macs 0.5
l1-global-none-50         --criterion l1 --schedule one-shot --ranking global --score-normalization none --target-macs 0.5
l1-global-mean-50         --criterion l1 --schedule one-shot --ranking global --score-normalization mean --target-macs 0.5
l1-cost-mean-50           --criterion l1 --schedule one-shot --ranking cost --score-normalization mean --target-macs 0.5
l1-global-mean-prog10-50  --criterion l1 --schedule progressive --progressive-steps 10 --ranking global --score-normalization mean --target-macs 0.5
l1-global-mean-kd9-50     --criterion l1 --schedule one-shot --ranking global --score-normalization mean --distill-alpha 0.9 --target-macs 0.5
taylor-global-none-50     --criterion taylor --schedule one-shot --ranking global --score-normalization none --target-macs 0.5
taylor-cost-mean-50       --criterion taylor --schedule one-shot --ranking cost --score-normalization mean --target-macs 0.5
singe-global-none-30      --criterion singe --schedule one-shot --ranking global --score-normalization none --target-macs 0.3
l1-global-mean-30         --criterion l1 --schedule one-shot --ranking global --score-normalization mean --target-macs 0.3
singe-global-none-70      --criterion singe --schedule one-shot --ranking global --score-normalization none --target-macs 0.7
l1-global-mean-70         --criterion l1 --schedule one-shot --ranking global --score-normalization mean --target-macs 0.7
taylor-global-none-70     --criterion taylor --schedule one-shot --ranking global --score-normalization none --target-macs 0.7
TABLE
}
wanted=" $* "
for seed in ${SEEDS:-0}; do
  configs | while read -r name args; do
    [ $# -eq 0 ] || case $wanted in *" $name "*) ;; *) continue ;; esac
    out=docs/results/allocation/$budget/$name-s$seed
    [ -f "$out/report.json" ] && continue
    # shellcheck disable=SC2086
    $STANDALONE prune $args $steps --seed "$seed" --curve-images 2000 --out "$out" </dev/null
    mv "$out/model.safetensors" "$MODELS/$budget-$name-s$seed.safetensors"
    rm -f "$out/model.onnx"
  done
done
