#!/usr/bin/env python3
"""check_embed.py: runs examples/embed's demo on one example; its detections must equal the example's
expected/detections.jsonl byte for byte (the engine is the single-threaded pipeline, embedded).
Usage: check_embed.py EMBED_DEMO EXAMPLE_DIR"""
import subprocess
import sys

demo, example = sys.argv[1], sys.argv[2]
proc = subprocess.run([demo, example + "/rules", example + "/events.jsonl", "30000"], stdout=subprocess.PIPE,
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
print("check_embed: %d detections match %s/expected" % (len(expected.splitlines()), example))
print(proc.stderr.strip().splitlines()[-1])
