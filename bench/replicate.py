#!/usr/bin/env python3
"""replicate.py: scales an example's events.jsonl for throughput measurements.

Each valid line is written R times, the key renamed per copy (`u0072` -> `u0072~3`), so that the copies are
independent users with the same behaviour and the stream stays in its original time order. Malformed
lines are dropped (this measures the matcher path, not the dead-letter path).

Usage: python3 bench/replicate.py EVENTS.jsonl KEY_FIELD R > big.jsonl
"""
import json
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    path, key, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
    out = sys.stdout
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(ev, dict) or key not in ev:
                continue
            base = str(ev[key])
            for r in range(copies):
                ev[key] = f"{base}~{r}"
                out.write(json.dumps(ev, separators=(",", ":")))
                out.write("\n")


if __name__ == "__main__":
    main()
