#!/usr/bin/env python3
"""Summarises issue 17's grid (run_allocation.sh) into docs/results/allocation.md and two charts.

Reads docs/results/allocation/<budget>/<config>-s<seed>/report.json and, when present,
docs/results/allocation/speed.txt (the output of `standalone bench --model BASELINE MODELS...`, whose model files are
named <budget>-<config>-s<seed>.safetensors). Seeds of one configuration are pooled: mean, and the spread as
min-max. Standard library only; run from the repository root:
    python3 docs/results/summarize_allocation.py
"""
import glob
import json
import os
import re
import statistics

ROOT = "docs/results/allocation"
BUDGETS = [("epoch", "one epoch of fine-tuning (468 steps)"), ("budget", "4,218 fine-tuning steps in all")]
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"]


def load():
    runs = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "*", "*", "report.json"))):
        budget = os.path.basename(os.path.dirname(os.path.dirname(path)))
        match = re.fullmatch(r"(.+)-s(\d+)", os.path.basename(os.path.dirname(path)))
        if not match:
            continue
        with open(path) as f:
            runs.setdefault((budget, match.group(1)), []).append((int(match.group(2)), json.load(f)))
    return runs


def speeds():
    """Images/s per model file stem, and the baseline's, from bench --model output."""
    path = os.path.join(ROOT, "speed.txt")
    result, baseline = {}, None
    if not os.path.exists(path):
        return result, baseline
    for line in open(path):
        m = re.match(r"\s*([\d,]+) images/s\s+[\d.]+×\s+(\S+):", line)
        if not m:
            continue
        rate = float(m.group(1).replace(",", ""))
        stem = os.path.basename(m.group(2)).removesuffix(".safetensors")
        if baseline is None:
            baseline = rate
        result[stem] = rate
    return result, baseline


def describe(report):
    o = report["options"]
    ranking = o["ranking"].replace("entwined: layer quotas from a ", "")
    ranking = "cost-aware" if "cost-aware" in ranking else ranking
    distill = o.get("distillation", "none")
    kd = "none" if distill == "none" else re.search(r"α = ([\d.]+)", distill).group(1)
    lr = re.search(r"lr ([\d.]+)", o["fine_tune"]).group(1)
    return report["criterion"], report["schedule"], ranking, o["score_normalization"], kd, lr


def mean_spread(values, scale=100, digits=2):
    values = [v * scale for v in values]
    m = statistics.mean(values)
    if len(values) == 1:
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def stage_widths(report):
    """Channels per layer, stage by stage: the residual stream first, then each block's inner width."""
    layers = report["layers"]
    return " ".join(str(l["after"]) for l in layers if l["name"] != "fc")


def table(runs, budget, rates, baseline_rate):
    rows = [(name, reports) for (b, name), reports in runs.items() if b == budget]
    rows.sort(key=lambda r: -statistics.mean(x[1]["pruned"]["accuracy"] for x in r[1]))
    lines = ["| configuration | criterion | schedule | ranking | normalisation | distillation α | lr | seeds | MACs removed | params removed | "
             "before fine-tuning | **after** | fine-tuning steps | wall time | inference |",
             "|---|---|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, reports in rows:
        reps = [r for _, r in sorted(reports)]
        criterion, schedule, ranking, norm, kd, lr = describe(reps[0])
        macs = statistics.mean(1 - r["pruned"]["macs"] / r["baseline"]["macs"] for r in reps)
        params = statistics.mean(1 - r["pruned"]["params"] / r["baseline"]["params"] for r in reps)
        seeds = ",".join(str(s) for s, _ in sorted(reports))
        speed = [rates[f"{budget}-{name}-s{s}"] for s, _ in reports if f"{budget}-{name}-s{s}" in rates]
        inference = f"{statistics.mean(speed):,.0f} img/s ({statistics.mean(speed) / baseline_rate:.2f}×)" if speed and baseline_rate else "–"
        lines.append(f"| {name} | {criterion} | {schedule} | {ranking} | {norm} | {kd} | {lr} | {seeds} | {100 * macs:.1f} % | {100 * params:.1f} % | "
                     f"{mean_spread([r['accuracy_before_finetune'] for r in reps])} | **{mean_spread([r['pruned']['accuracy'] for r in reps])}** | "
                     f"{statistics.mean(r['fine_tune_steps'] for r in reps):,.0f} | {statistics.mean(r['timings']['total'] for r in reps) / 60:.1f} min | {inference} |")
    widths = ["", "Channels per layer (conv1, then layer1.0.conv1, layer1.0.conv2, ... in network order; the residual streams are "
              "conv1 with every block's conv2 and the downsample; seed 0):", "", "| configuration | widths |", "|---|---|"]
    for name, reports in rows:
        widths.append(f"| {name} | {stage_widths(sorted(reports)[0][1])} |")
    return lines + widths


def bar_chart(runs, budget, path, baseline):
    rows = [(name, [r["pruned"]["accuracy"] * 100 for _, r in reports]) for (b, name), reports in runs.items() if b == budget]
    rows.sort(key=lambda r: -statistics.mean(r[1]))
    if not rows:
        return
    w, row_h, left, right, top = 720, 22, 240, 60, 30
    h = top + row_h * len(rows) + 40
    lo = min(min(v) for _, v in rows + [("", [baseline])]) - 0.3
    hi = max(max(v) for _, v in rows + [("", [baseline])]) + 0.1
    x = lambda v: left + (v - lo) / (hi - lo) * (w - left - right)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="13">Test accuracy after pruning 50 % of the MACs ({dict(BUDGETS)[budget]}); dots: seeds</text>']
    for i, (name, values) in enumerate(rows):
        y = top + i * row_h
        m = statistics.mean(values)
        out.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{name}</text>')
        out.append(f'<rect x="{left}" y="{y + 4}" width="{x(m) - left:.1f}" height="{row_h - 8}" fill="{COLOURS[0]}" opacity="0.6"/>')
        for v in values:
            out.append(f'<circle cx="{x(v):.1f}" cy="{y + row_h / 2:.1f}" r="3" fill="black"/>')
        out.append(f'<text x="{x(m) + 6:.1f}" y="{y + 15}">{m:.2f}</text>')
    out.append(f'<line x1="{x(baseline):.1f}" y1="{top}" x2="{x(baseline):.1f}" y2="{h - 30}" stroke="gray" stroke-dasharray="4 3"/>')
    out.append(f'<text x="{x(baseline):.1f}" y="{h - 14}" text-anchor="middle" fill="gray">unpruned {baseline:.2f} %</text>')
    lo_tick, hi_tick = int(lo * 2) / 2 + 0.5, hi
    t = lo_tick
    while t <= hi_tick:
        out.append(f'<text x="{x(t):.1f}" y="{h - 30 + 12}" text-anchor="middle" font-size="10" fill="gray">{t:.1f}</text>')
        t += 0.5
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def width_chart(runs, budget, path, names):
    series = [(n, sorted(runs[(budget, n)])[0][1]) for n in names if (budget, n) in runs]
    if not series:
        return
    layers = [l for l in series[0][1]["layers"] if l["name"] != "fc"]
    w, h, left, right, top, bottom = 760, 380, 50, 220, 30, 110
    x = lambda i: left + i * (w - left - right) / (len(layers) - 1)
    y = lambda v: top + (1 - v) * (h - top - bottom)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="13">Share of each layer\'s channels kept (50 % of the MACs removed)</text>']
    for v in (0, 0.25, 0.5, 0.75, 1):
        out.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{w - right}" y2="{y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="10">{int(v * 100)} %</text>')
    for i, layer in enumerate(layers):
        out.append(f'<text transform="translate({x(i) + 3:.1f},{h - bottom + 8}) rotate(60)" font-size="9">{layer["name"]}</text>')
    for k, (name, report) in enumerate(series):
        kept = [l["after"] / l["before"] for l in report["layers"] if l["name"] != "fc"]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(kept))
        colour = COLOURS[k % len(COLOURS)]
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{w - right + 10}" y="{top + 16 * k + 10}" fill="{colour}">{name}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    runs = load()
    rates, baseline_rate = speeds()
    any_report = next(iter(runs.values()))[0][1]
    baseline = any_report["baseline"]["accuracy"] * 100
    md = ["# Allocation, schedule and distillation (issue 17)", "",
          "Written by `summarize_allocation.py` from the runs of `run_allocation.sh` (see [allocation](../README.md#issue-17-allocation-schedule-distillation) "
          "for the protocol and what it decided). Shipped ResNet-20 on Fashion-MNIST, "
          f"{baseline:.2f} % before pruning; widths multiples of 4. Accuracy on the 10,000 test images; with several seeds, "
          "the mean and (min–max). Inference: `standalone bench --model` on the compacted models, batch 256, interleaved rounds"
          + (f" (baseline {baseline_rate:,.0f} images/s)." if baseline_rate else ".") , ""]
    for budget, title in BUDGETS:
        if not any(b == budget for b, _ in runs):
            continue
        md += [f"## {title[0].upper() + title[1:]}", ""] + table(runs, budget, rates, baseline_rate) + ["", f"![accuracy](allocation-{budget}.svg)", ""]
        bar_chart(runs, budget, os.path.join("docs/results", f"allocation-{budget}.svg"), baseline)
    width_chart(runs, "epoch", "docs/results/allocation-widths.svg",
                ["singe-global-none-50", "singe-global-mean-50", "singe-cost-none-50", "singe-cost-mean-50", "l1-global-mean-50", "l1-cost-mean-50"])
    md += ["## How the allocations spread the cut", "", "![widths](allocation-widths.svg)", "",
           "## Notes", "",
           "- `budget/singe-global-none-50-s0` ran on the build before compaction-first fine-tuning: it fine-tuned the masked full-width "
           "network (the same arithmetic up to float rounding, 998 s of wall time instead of about 520 s), with `--finetune-epochs 9.012820513` "
           "(= 4,218 steps). Every other run used the final code.",
           "- Wall times include scoring, evaluation and the in-run speed measurement; runs on the same machine, one at a time, but not all "
           "on an idle one (builds and tests ran beside some of them).",
           "- The inference column is `standalone bench --rounds 3 --repetitions 3 --model BASELINE MODELS...` on the idle machine after "
           "the runs, twice ([speed.txt](allocation/speed.txt)); models of the same widths differ by up to ±5 % within one bench run and up to ±12 % between two (the entwined runs and `singe-global-none-50` seed 0 have the same widths), which is its noise.", ""]
    with open("docs/results/allocation.md", "w") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
