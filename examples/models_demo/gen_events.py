#!/usr/bin/env python3
"""gen_events.py: generates the models demo's events.jsonl, or its training data (fixed seeds, stdlib only).

Usage: python3 gen_events.py > events.jsonl
       python3 gen_events.py --training > training/sessions.txt

Shoppers browse a shop: humans wander (home, search, product pages, help, sometimes cart and checkout),
buyers head for the cart and checkout, bots sweep product pages in a fixed rhythm, and a few odd
visitors jump between pages humans rarely chain (checkout straight from home, help after checkout...).
The training data (labelled sessions: `human: home search product ...`) comes from the same personas
with another seed, so the models never see the events they score.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gen_common import BASE_MS, Stream  # noqa: E402
import random  # noqa: E402

NEXT = {  # a human's next page, weighted
    "home": [("search", 5), ("product", 3), ("help", 1)],
    "search": [("product", 6), ("search", 2), ("home", 1)],
    "product": [("product", 3), ("search", 3), ("cart", 2), ("home", 1)],
    "cart": [("checkout", 3), ("product", 2)],
    "checkout": [("home", 1)],
    "help": [("home", 2), ("search", 1)],
}


def pick(rng, options):
    total = sum(w for _, w in options)
    r = rng.uniform(0, total)
    for v, w in options:
        r -= w
        if r <= 0:
            return v
    return options[-1][0]


def human(rng, n):
    pages = ["home"]
    while len(pages) < n:
        pages.append(pick(rng, NEXT[pages[-1]]))
    return pages


def buyer(rng, n):
    pages = ["home", "search", "product"]
    while len(pages) < n - 2:
        pages.append(pick(rng, [("product", 2), ("search", 1)]))
    return pages + ["cart", "checkout"]


def bot(rng, n):
    return ["product" if rng.random() < 0.9 else "search" for _ in range(n)]


def odd(rng, n):
    return [rng.choice(["checkout", "help", "cart", "home"]) for _ in range(n)]


def training():
    rng = random.Random(4242)
    print("# Labelled training sessions for examples/models_demo/make_models.cpp (gen_events.py --training).")
    for _ in range(120):
        print("human: " + " ".join(human(rng, rng.randint(4, 14))))
    for _ in range(40):
        print("human: " + " ".join(buyer(rng, rng.randint(6, 12))))
    for _ in range(60):
        print("bot: " + " ".join(bot(rng, rng.randint(8, 30))))


def events():
    rng = random.Random(99)
    out = Stream(rng)
    eid = [0]
    for n in range(1, 61):
        user = "s%03d" % n
        r = rng.random()
        if r < 0.45:
            kind, pages, step = "human", human(rng, rng.randint(3, 12)), (8000, 60000)
        elif r < 0.70:
            kind, pages, step = "buyer", buyer(rng, rng.randint(6, 10)), (8000, 45000)
        elif r < 0.88:
            kind, pages, step = "bot", bot(rng, rng.randint(10, 24)), (900, 1300)
        else:
            kind, pages, step = "odd", odd(rng, rng.randint(5, 9)), (5000, 30000)
        t = BASE_MS + rng.randint(0, 6 * 3600 * 1000)
        for p in pages:
            eid[0] += 1
            out.add(t, "page_view", user_id=user, event_id="pv-%05d" % eid[0], page=p)
            t += rng.randint(*step)
    for line in out.lines():
        print(line)


if __name__ == "__main__":
    if sys.argv[1:] == ["--training"]:
        training()
    else:
        events()
