#!/usr/bin/env python3
"""Summarises the pruning runs of experiments (a) and (d) into docs/results/criteria.md and criteria.svg.

Reads docs/results/criteria/<criterion>-<target>/report.json (run_criteria.sh) and
docs/results/entwined/*/report.json (run_entwined_vs_finetune.sh). Standard library only; run from the repository root:
    python3 docs/results/summarize.py
"""
import glob
import json
import os

ROOT = "docs/results"
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def load(pattern):
    reports = []
    for path in sorted(glob.glob(os.path.join(ROOT, pattern, "report.json"))):
        with open(path) as f:
            reports.append((os.path.basename(os.path.dirname(path)), json.load(f)))
    return reports


def removed(r, key):
    return 1 - r["pruned"][key] / r["baseline"][key]


def svg_chart(series, baseline, path):
    """Accuracy (%) against MACs removed (%), one polyline per series; the baseline as a dashed line."""
    w, h, left, right, top, bottom = 640, 400, 60, 150, 30, 50
    xs = [x for _, pts in series for x, _ in pts]
    ys = [y for _, pts in series for _, y in pts] + [baseline]
    x0, x1 = 20, 80
    y0, y1 = min(ys) - 1, max(ys) + 0.5
    sx = lambda x: left + (x - x0) / (x1 - x0) * (w - left - right)
    sy = lambda y: top + (y1 - y) / (y1 - y0) * (h - top - bottom)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="18" text-anchor="middle" font-size="14">ResNet-20 (Fashion-MNIST): one-shot + 1 epoch fine-tuning</text>']
    for x in range(20, 81, 10):
        out.append(f'<line x1="{sx(x)}" y1="{top}" x2="{sx(x)}" y2="{h - bottom}" stroke="#ddd"/><text x="{sx(x)}" y="{h - bottom + 16}" text-anchor="middle">{x}</text>')
    step = 0.5 if y1 - y0 < 6 else 1
    y = round(y0 / step) * step
    while y <= y1:
        out.append(f'<line x1="{left}" y1="{sy(y)}" x2="{w - right}" y2="{sy(y)}" stroke="#ddd"/><text x="{left - 6}" y="{sy(y) + 4}" text-anchor="end">{y:g}</text>')
        y += step
    out.append(f'<text x="{(left + w - right) / 2}" y="{h - 12}" text-anchor="middle">MACs removed (%)</text>')
    out.append(f'<text transform="translate(16,{(top + h - bottom) / 2}) rotate(-90)" text-anchor="middle">test accuracy (%)</text>')
    out.append(f'<line x1="{left}" y1="{sy(baseline)}" x2="{w - right}" y2="{sy(baseline)}" stroke="#555" stroke-dasharray="4 3"/>')
    for i, (name, pts) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)}"/>')
        for x, y in pts:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colour}"/>')
        out.append(f'<rect x="{w - right + 12}" y="{top + 18 * i}" width="14" height="3" fill="{colour}"/><text x="{w - right + 32}" y="{top + 18 * i + 5}">{name}</text>')
    out.append(f'<text x="{w - right + 12}" y="{top + 18 * len(series) + 5}" fill="#555">- - baseline</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    lines = ["# Criteria compared, and entwined vs prune-then-fine-tune", ""]
    criteria = load("criteria/*")
    if criteria:
        baseline = criteria[0][1]["baseline"]["accuracy"] * 100
        lines += ["Shipped ResNet-20 on Fashion-MNIST (baseline %.2f %%). Every run: one-shot global ranking (scores from 2 fresh"
                  " batches of 64 training images), then 1 epoch of fine-tuning (SGD lr 0.01, cosine); `run_criteria.sh`." % baseline, "",
                  "| criterion | target MACs removed | MACs removed | params removed | accuracy before fine-tuning | accuracy after | Δ points |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        series = {}
        for name, r in sorted(criteria, key=lambda c: (float(c[0].rsplit("-", 1)[1]), c[0])):
            crit, target = name.rsplit("-", 1)
            acc = r["pruned"]["accuracy"] * 100
            lines.append(f"| {crit} | {float(target):.0%} | {removed(r, 'macs'):.1%} | {removed(r, 'params'):.1%} | "
                         f"{r['accuracy_before_finetune']:.2%} | {acc:.2f} % | {acc - baseline:+.2f} |")
            series.setdefault(crit, []).append((removed(r, "macs") * 100, acc))
        svg_chart(sorted(series.items()), baseline, os.path.join(ROOT, "criteria.svg"))
        lines += ["", "![accuracy vs MACs removed](criteria.svg)", ""]
    entwined = load("entwined/*")
    if entwined:
        lines += ["## SInGE entwined vs one-shot + fine-tuning (same number of fine-tuning steps)", "",
                  "| run | MACs removed | fine-tuning steps | accuracy before final fine-tuning | accuracy after | Δ points | wall time |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for name, r in entwined:
            base = r["baseline"]["accuracy"] * 100
            acc = r["pruned"]["accuracy"] * 100
            lines.append(f"| {name} | {removed(r, 'macs'):.1%} | {r['fine_tune_steps']} | {r['accuracy_before_finetune']:.2%} | "
                         f"{acc:.2f} % | {acc - base:+.2f} | {r['timings']['total']:.0f} s |")
        lines.append("")
    with open(os.path.join(ROOT, "criteria.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
