#!/usr/bin/env python3
"""check_embed.py: runs examples/embed's demo on one example; its detections must equal the example's
expected/detections.jsonl byte for byte (the engine is the single-threaded pipeline, embedded).
Usage: check_embed.py EMBED_DEMO EXAMPLE_DIR ENGINE (jit or interp: the engine must be the one that runs)"""
import subprocess
import sys

demo, example, engine = sys.argv[1], sys.argv[2], sys.argv[3]
proc = subprocess.run([demo, example + "/rules", example + "/events.jsonl", "30000", engine], stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True)
if proc.returncode != 0:
    sys.stderr.write("check_embed: demo exited with %d\n%s" % (proc.returncode, proc.stderr))
    sys.exit(1)
with open(example + "/expected/detections.jsonl", encoding="utf-8") as f:
    expected = f.read()
if proc.stdout != expected:
    got, want = proc.stdout.splitlines(), expected.splitlines()
    sys.stderr.write("check_embed: %d detections, expected %d\n" % (len(got), len(want)))
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            sys.stderr.write("first difference at line %d:\n  got  %s\n  want %s\n" % (i + 1, a[:300], b[:300]))
            break
    sys.exit(1)
last = proc.stderr.strip().splitlines()[-1]
if "(%s):" % engine not in last:
    sys.stderr.write("check_embed: the %s engine did not run: %s\n%s" % (engine, last, proc.stderr))
    sys.exit(1)
print("check_embed: %d detections match %s/expected (%s)" % (len(expected.splitlines()), example, engine))
print(last)
