#!/bin/sh
# Experiments (b) and (c) of issue 4: one-shot global masking without fine-tuning on the shipped ResNet-20
# (Fashion-MNIST), accuracy on the 10,000 test images after masking 10–50 % of the channels.
#   (b) scarce data (the LRP paper's scenario): every criterion scores on 10 training images per class;
#   (c) the random-gradient paper's protocol: the Taylor family with labelled vs random (unit-norm) output gradients,
#       scored on 512 training images.
# Run from the repository root; STANDALONE overrides the command (e.g. a published binary).
set -eu
STANDALONE=${STANDALONE:-"dotnet run -c Release --project src/Cli --"}
$STANDALONE sweep --criteria l1,l2,bn-scale,gradient,taylor,taylor-abs,taylor-sq,lrp,singe,random \
    --score-per-class 10 --fractions 0.1,0.2,0.3,0.4,0.5 --seed 0 \
    --title "Scarce data: scores from 10 images per class, one-shot global masking, no fine-tuning" \
    --out docs/results/scarce-data
$STANDALONE sweep --criteria taylor,taylor-abs,taylor-sq,taylor:random,taylor-abs:random,taylor-sq:random \
    --score-per-class 0 --score-batches 8 --fractions 0.1,0.2,0.3,0.4,0.5 --seed 0 \
    --title "Taylor family: labelled vs random output gradients, one-shot global masking, no fine-tuning" \
    --out docs/results/random-gradient
