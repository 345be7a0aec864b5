"""``python -m rnn_core bench gradients``: every lab preset on one torch thread, with
the figures the guides' claims are about, as a table and one line of JSON.

"best acc" is the best validation accuracy of the run (the weights the loop keeps),
"final acc" the last weights'; the gradient ratio is measured on the last weights.

No data set and no shipped weights: the lab trains live, so this is all it needs.
"""
from __future__ import annotations

import json
import math

import torch

from .lab import train_lab
from .presets import CLAIMS, PRESETS, meets_claim


def bench_gradients(names: list[str] | None = None) -> list[dict]:
    """Run the presets (all by default) one after another and print the table."""
    torch.set_num_threads(1)
    rows = []
    for name in names or list(PRESETS):
        summary, _ = train_lab(PRESETS[name])
        rows.append({"preset": name, "seconds": round(summary["seconds"], 1), "steps": summary["steps"],
                     "accuracy": round(summary["accuracy"], 3),
                     "final_accuracy": round(summary["final_accuracy"], 3), "chance": summary["chance"],
                     "ratio_h1_hT": float(f"{summary['ratio']:.3g}") if math.isfinite(summary["ratio"]) else None,
                     "max_grad_norm": float(f"{summary['max_grad_norm']:.3g}"), "nonfinite": summary["nonfinite"],
                     "max_report_gap_s": round(summary["max_report_gap"], 2), "stopped": summary["stopped"],
                     "claim": CLAIMS[name], "claim_met": meets_claim(name, summary)})
        print(f"  {name}: {summary['verdict']}", flush=True)
    head = ("preset", "time s", "steps", "best acc", "final acc", "chance", "|dL/dh1|/|dL/dhT|", "max |g|",
            "non-finite", "max report gap s", "claim met")
    print(" | ".join(head))
    for r in rows:
        ratio = f"{r['ratio_h1_hT']:.1e}" if r["ratio_h1_hT"] is not None else "n/a"
        print(" | ".join([r["preset"], f"{r['seconds']:.1f}", str(r["steps"]), f"{r['accuracy']:.3f}",
                          f"{r['final_accuracy']:.3f}", f"{r['chance']:.2f}", ratio, f"{r['max_grad_norm']:.1e}",
                          str(r["nonfinite"]), f"{r['max_report_gap_s']:.2f}", ("yes: " if r["claim_met"] else "NO: ") + r["claim"]]))
    print(json.dumps({"bench": "gradients", "rows": rows}))
    return rows
