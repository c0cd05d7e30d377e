#!/usr/bin/env bash
# Measures Standalone and the PyTorch peer in one run on this machine and prints the columns side by side:
# Standalone, PyTorch in its best eager configuration (2 threads, channels_last, glibc malloc thresholds raised),
# and PyTorch out of the box. Needs Debian's python3-torch and libopenblas0-pthread for the peer.
#   bench/compare.sh [OUT_DIR]      (default bench/results; JSON files of each column are written there)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results}
mkdir -p "$out"
dotnet build -c Release src/Cli >/dev/null
dotnet src/Cli/bin/Release/net10.0/standalone.dll bench --json "$out/standalone.json"
MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 \
  /usr/bin/python3 bench/peers/torch_resnet20.py --json "$out/torch_best.json"
/usr/bin/python3 bench/peers/torch_resnet20.py --plain --json "$out/torch_plain.json"
/usr/bin/python3 - "$out" <<'PY'
import json, os, sys
d = sys.argv[1]
s, b, p = (json.load(open(os.path.join(d, f))) for f in ("standalone.json", "torch_best.json", "torch_plain.json"))
print(f"\n| key | Standalone | PyTorch best eager | ratio | PyTorch out of the box | ratio |")
print("|---|---:|---:|---:|---:|---:|")
for k in (k for k in s if k in b and k in p):  # the peer measures the four engine keys, not the attribution passes
    print(f"| `{k}` | {s[k]:,} | {b[k]:,} | {s[k] / b[k]:.2f}× | {p[k]:,} | {s[k] / p[k]:.2f}× |")
PY
