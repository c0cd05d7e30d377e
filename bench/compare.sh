#!/usr/bin/env bash
# Measures Standalone and the PyTorch peer in one run on this machine and prints the columns side by side:
# Standalone, PyTorch in its best eager configuration (2 threads, channels_last, glibc malloc thresholds raised),
# and PyTorch out of the box. Needs Debian's python3-torch and libopenblas0-pthread for the peer.
#   bench/compare.sh [OUT_DIR]      (default bench/results; JSON files of each column are written there)
# The three columns are measured in ROUNDS alternating rounds (default 3) and each key's median over the rounds is
# reported, so that the machine's drift over the minutes of a run falls on every column alike; the per-round
# training and inference figures are printed too.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results}
rounds=${ROUNDS:-3}
mkdir -p "$out"
dotnet build -c Release src/Cli >/dev/null
for r in $(seq 1 "$rounds"); do
  echo "== round $r of $rounds"
  dotnet src/Cli/bin/Release/net10.0/standalone.dll bench --json "$out/standalone.$r.json"
  MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 \
    /usr/bin/python3 bench/peers/torch_resnet20.py --json "$out/torch_best.$r.json"
  /usr/bin/python3 bench/peers/torch_resnet20.py --plain --json "$out/torch_plain.$r.json"
done
/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, os, statistics, sys
d, rounds = sys.argv[1], int(sys.argv[2])
names = ("standalone", "torch_best", "torch_plain")
runs = {n: [json.load(open(os.path.join(d, f"{n}.{r}.json"))) for r in range(1, rounds + 1)] for n in names}
med = {n: {k: round(statistics.median(run[k] for run in runs[n]), 1) for k in runs[n][0]} for n in names}
for n in names:
    with open(os.path.join(d, f"{n}.json"), "w") as f:
        json.dump(med[n], f, indent=2)
        f.write("\n")
s, b, p = (med[n] for n in names)
print(f"\nmedians of {rounds} alternating rounds")
print(f"| key | Standalone | PyTorch best eager | ratio | PyTorch out of the box | ratio |")
print("|---|---:|---:|---:|---:|---:|")
for k in (k for k in s if k in b and k in p):  # the peer measures the four engine keys, not the attribution passes
    print(f"| `{k}` | {s[k]:,} | {b[k]:,} | {s[k] / b[k]:.2f}× | {p[k]:,} | {s[k] / p[k]:.2f}× |")
for k in ("resnet20_train_img_s", "resnet20_infer_img_s"):
    print(f"{k} per round: " + "; ".join(f"{n} " + ", ".join(f"{run[k]:,}" for run in runs[n]) for n in names))
PY
