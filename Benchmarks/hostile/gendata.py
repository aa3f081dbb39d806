#!/usr/bin/env python3
"""The hostile load's data: 2,000 series (m0..m19, 100 each, jobs j0..j9) over 6 h at 60 s,
ending at --end, as import text (milliseconds) and as OpenMetrics for promtool (seconds)."""
import argparse
import os

ap = argparse.ArgumentParser()
ap.add_argument("--end", type=int, required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--series", type=int, default=2000)
ap.add_argument("--hours", type=int, default=6)
args = ap.parse_args()
points = args.hours * 60
first = args.end - args.hours * 3600
with open(os.path.join(args.out, "import.txt"), "w") as text, open(os.path.join(args.out, "data.om"), "w") as om:
    per = args.series // 20
    for metric in range(20):
        om.write(f"# TYPE m{metric} gauge\n")
        for i in range(per):
            labels = f'm{metric}{{job="j{i % 10}",i="{i}"}}'
            for k in range(points):
                t = first + k * 60
                text.write(f"{labels} {k} {t * 1000}\n")
                om.write(f"{labels} {k} {t}\n")
    om.write("# EOF\n")
