#!/usr/bin/env python3
"""Plots of scripts/bench/speed.py's results (PNG, small), run by scripts/bench.sh.

  plot.py SPEED_JSON OUT_DIR

Writes OUT_DIR/deploy-vs-files.png (median first-deploy time against file count, one line per
tool, one panel per per-request latency) and OUT_DIR/image-build.png (image build time, ours
against the seed's Dockerfile, cold and warm). Needs matplotlib (bench.sh installs it into its own
virtual environment under target/bench).
"""

import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: plot.py SPEED_JSON OUT_DIR", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        results = json.load(f)["results"]
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)

    deploys = [r for r in results if r["row"] == "first deploy --no-wait" and r.get("times")]
    if deploys:
        latencies = sorted({r["latency_ms"] for r in deploys})
        fig, axes = plt.subplots(1, len(latencies), figsize=(5 * len(latencies), 3.6), squeeze=False)
        for ax, latency in zip(axes[0], latencies):
            for tool, marker in [("hf-deploy", "o"), ("git CLI", "s"), ("huggingface_hub", "^")]:
                points = sorted((r["files"], statistics.median(r["times"])) for r in deploys
                                if r["tool"] == tool and r["latency_ms"] == latency)
                if points:
                    ax.plot([p[0] for p in points], [p[1] for p in points], marker=marker, label=tool)
            ax.set_xscale("log")
            ax.set_xlabel("files in the Space")
            ax.set_ylabel("first deploy, median (s)")
            ax.set_title(f"{latency} ms per request")
            ax.grid(True, alpha=0.3)
            ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(out, "deploy-vs-files.png"), dpi=80)
        plt.close(fig)

    images = [r for r in results if r["row"].startswith("image build") and r.get("times")]
    if images:
        fig, ax = plt.subplots(figsize=(6, 3.6))
        groups = ["cold", "warm"]
        kinds = sorted({r["tool"] for r in images})
        width = 0.8 / max(1, len(kinds))
        for i, kind in enumerate(kinds):
            values = []
            for group in groups:
                match = [r for r in images if r["tool"] == kind and r["row"].endswith(group)]
                values.append(statistics.median(match[0]["times"]) if match else 0)
            xs = [g + i * width for g in range(len(groups))]
            bars = ax.bar(xs, values, width, label=kind)
            ax.bar_label(bars, fmt="%.1f s")
        ax.set_xticks([g + width * (len(kinds) - 1) / 2 for g in range(len(groups))])
        ax.set_xticklabels(["cold (no cache)", "warm (code-only change)"])
        ax.set_ylabel("image build, median (s)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(out, "image-build.png"), dpi=80)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
