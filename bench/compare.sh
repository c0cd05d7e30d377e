#!/usr/bin/env bash
# Measures Standalone and the PyTorch peer in one run on this machine and prints both columns side by side.
# Needs Debian's python3-torch and libopenblas0-pthread for the peer.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results}
mkdir -p "$out"
dotnet run -c Release --project src/Cli -- bench --json "$out/standalone.json"
MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 /usr/bin/python3 bench/peers/torch_resnet20.py --json "$out/torch.json"
/usr/bin/python3 - "$out" <<'PY'
import json, sys, os
d = sys.argv[1]
s = json.load(open(os.path.join(d, "standalone.json")))
t = json.load(open(os.path.join(d, "torch.json")))
print(f"{'key':<24} {'standalone':>12} {'pytorch':>12} {'ratio':>7}")
for k in s:
    print(f"{k:<24} {s[k]:>12} {t[k]:>12} {s[k] / t[k]:>7.2f}")
PY
