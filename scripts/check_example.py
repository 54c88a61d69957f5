#!/usr/bin/env python3
"""check_example.py: runs etho on one example and compares its outputs with the example's expected/.

Usage: check_example.py --etho build/bin/etho --example examples/ecommerce --work DIR [--update]
                        [--events FILE]   (an events file of the example other than events.jsonl)
                        [--threads N] [--ordered] [--multiset]
       check_example.py --generator --example examples/ecommerce

Runs `etho run` on the example's rules/ and events.jsonl (with its config.yaml), then compares, byte for
byte, detections.jsonl, dead_letter.jsonl and (when the example has any) suppressed.jsonl with expected/,
and summary.txt (the engine's summary lines without the throughput line, then counts per rule, per
suppression and per dead-letter reason computed here from those outputs) with expected/summary.txt. On a mismatch it prints
a unified diff and exits 1. --update rewrites expected/ instead (review the diff before committing it).
--threads N is passed to etho (default 1: the single-threaded pipeline the goldens come from), --ordered
too; --multiset compares detections and suppressed detections as multisets of lines (the parallel
runtime without --ordered writes them in no fixed order).
"""
import argparse
import collections
import difflib
import json
import os
import subprocess
import sys


def run_engine(etho, example, work, engine=None, events="events.jsonl", threads=1, ordered=False):
    os.makedirs(work, exist_ok=True)
    det = os.path.join(work, "detections.jsonl")
    dead = os.path.join(work, "dead_letter.jsonl")
    sup = os.path.join(work, "suppressed.jsonl")
    cmd = [etho, "run", os.path.join(example, "rules"), "--events", os.path.join(example, events),
           "--out", det, "--dead-letter", dead, "--suppressed", sup, "--threads", str(threads)]
    if ordered:
        cmd.append("--ordered")
    cfg = os.path.join(example, "config.yaml")
    if os.path.exists(cfg):
        cmd += ["--config", cfg]
    if engine:
        cmd += ["--engine", engine]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if engine == "jit" and "using the interpreter" in proc.stderr:
        sys.stderr.write("check_example: --engine jit fell back to the interpreter\n%s" % proc.stderr)
        sys.exit(1)
    if proc.returncode != 0:
        sys.stderr.write("check_example: `%s` exited with %d\n%s%s" % (" ".join(cmd), proc.returncode,
                                                                       proc.stdout, proc.stderr))
        sys.exit(1)
    # The engine's own summary block (stderr), minus the wall-time/throughput line, which varies per run.
    engine_summary = [l for l in proc.stderr.splitlines() if l.startswith("summary:") and "events/s" not in l]
    return det, dead, sup, engine_summary


def summarize(example, det_path, dead_path, sup_path, engine_summary=(), events="events.jsonl"):
    """The engine's summary lines, then counts that a reader can check against the README: input lines,
    detections per rule and per label, suppressions, dead letters per reason."""
    with open(os.path.join(example, events), encoding="utf-8") as f:
        lines = sum(1 for _ in f)
    rules, labels, reasons = collections.Counter(), collections.Counter(), collections.Counter()
    with open(det_path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            rules[d["rule"]] += 1
            labels[d["behaviour"]] += 1
    with open(dead_path, encoding="utf-8") as f:
        for line in f:
            reasons[json.loads(line)["reason"]] += 1
    suppressed = collections.Counter()
    with open(sup_path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            suppressed["%s (by %s)" % (d["rule"], d["suppressed_by"])] += 1
    out = list(engine_summary)
    out += ["input lines: %d" % lines,
           "processed events: %d" % (lines - sum(reasons.values())),
           "detections: %d" % sum(rules.values())]
    out += ["  rule %s: %d" % (k, rules[k]) for k in sorted(rules)]
    out += ["  behaviour %s: %d" % (k, labels[k]) for k in sorted(labels)]
    out.append("suppressed: %d" % sum(suppressed.values()))
    out += ["  rule %s: %d" % (k, suppressed[k]) for k in sorted(suppressed)]
    out.append("dead letters: %d" % sum(reasons.values()))
    out += ["  reason %s: %d" % (k, reasons[k]) for k in sorted(reasons)]
    return "\n".join(out) + "\n"


def compare(name, expected_path, actual_text, multiset=False):
    try:
        with open(expected_path, encoding="utf-8") as f:
            expected = f.read()
    except FileNotFoundError:
        sys.stderr.write("check_example: %s is missing (run with --update)\n" % expected_path)
        return False
    if multiset and sorted(expected.splitlines()) == sorted(actual_text.splitlines()):
        print("check_example: %s matches as a multiset (%d lines)" % (name, actual_text.count("\n")))
        return True
    if expected == actual_text:
        print("check_example: %s matches (%d lines)" % (name, actual_text.count("\n")))
        return True
    diff = difflib.unified_diff(expected.splitlines(True), actual_text.splitlines(True),
                                fromfile=expected_path, tofile="actual/" + name)
    sys.stderr.write("check_example: %s differs from %s:\n" % (name, expected_path))
    # Detection lines are long: show the start of each differing line, enough to name rule, key and times.
    for line in list(diff)[:200]:
        sys.stderr.write(line if len(line) <= 300 else line[:300] + " ...\n")
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etho")
    ap.add_argument("--example", required=True)
    ap.add_argument("--work")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--generator", action="store_true")
    ap.add_argument("--events", default="events.jsonl", help="the example's events file to run")
    ap.add_argument("--engine", help="pass --engine ENGINE to etho run (jit: fail on a fallback)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ordered", action="store_true")
    ap.add_argument("--multiset", action="store_true")
    a = ap.parse_args()
    if a.generator:
        gen = subprocess.run([sys.executable, os.path.join(a.example, "gen_events.py")], check=True,
                             stdout=subprocess.PIPE, text=True)
        return 0 if compare("gen_events.py output", os.path.join(a.example, "events.jsonl"), gen.stdout) else 1
    if not a.etho or not a.work:
        ap.error("--etho and --work are required")
    det, dead, sup, engine_summary = run_engine(a.etho, a.example, a.work, a.engine, a.events, a.threads,
                                                a.ordered)
    actual = {}
    for name, path in (("detections.jsonl", det), ("dead_letter.jsonl", dead), ("suppressed.jsonl", sup)):
        with open(path, encoding="utf-8") as f:
            actual[name] = f.read()
    # Suppressed detections are compared only for examples that have some (an exclusive group fires).
    if not actual["suppressed.jsonl"] and not os.path.exists(os.path.join(a.example, "expected",
                                                                          "suppressed.jsonl")):
        del actual["suppressed.jsonl"]
    actual["summary.txt"] = summarize(a.example, det, dead, sup, engine_summary, a.events)
    exp_dir = os.path.join(a.example, "expected")
    if a.update:
        os.makedirs(exp_dir, exist_ok=True)
        for name, text in actual.items():
            with open(os.path.join(exp_dir, name), "w", encoding="utf-8") as f:
                f.write(text)
        print("check_example: updated %s" % exp_dir)
        return 0
    unordered = ("detections.jsonl", "suppressed.jsonl")
    ok = all([compare(name, os.path.join(exp_dir, name), text, a.multiset and name in unordered)
              for name, text in actual.items()])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
