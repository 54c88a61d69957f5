#!/usr/bin/env python3
"""gen_events.py: generates the bots example's data (fixed seeds, python3 stdlib only).

Usage: python3 gen_events.py    (writes the files below into this folder)

Browsing sessions of humans and bots on a shop. Humans wander: home, category, search, product pages with
think times of seconds to a minute, some carts and checkouts. Bots are regular (a request every ~1.5 s,
a few ms of jitter) and navigate in orders humans rarely use: crawlers walk sitemap -> category ->
product -> product ..., scrapers alternate search and product, credential stuffers hammer login. A few bots
imitate human navigation (only their timing gives them away) and a few humans browse like crawlers, so the
navigation model cannot be perfect; the timing is for a rule to catch.

  events.jsonl       training window: 400 sessions, 25% bots, a few malformed lines and heartbeat events
  labels.csv         key,label (the session id) for the training sessions
  test_events.jsonl  held-out window from the same population: 250 sessions (another seed)
  test_labels.jsonl  its labels, as JSON Lines
  drift_events.jsonl a later window where bots are 60% of sessions and a new "promo" page appears
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gen_common import BASE_MS, Stream  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# Human navigation: page -> [(next page, weight)].
HUMAN = {
    "home": [("category", 4), ("search", 3), ("product", 2), ("account", 1), ("help", 0.3)],
    "category": [("product", 6), ("category", 2), ("search", 1), ("home", 1)],
    "search": [("product", 6), ("search", 2), ("category", 1)],
    "product": [("product", 3), ("cart", 2), ("category", 2), ("search", 2), ("home", 1), ("reviews", 1.5)],
    "reviews": [("product", 4), ("cart", 1), ("search", 1)],
    "cart": [("checkout", 3), ("product", 2), ("home", 1)],
    "checkout": [("confirmation", 4), ("cart", 1)],
    "confirmation": [("home", 1)],
    "account": [("home", 2), ("orders", 2)],
    "orders": [("product", 1), ("home", 1)],
    "help": [("home", 1), ("search", 1)],
    "login": [("account", 3), ("home", 1)],
}
HUMAN_START = [("home", 5), ("search", 2), ("category", 2), ("product", 2), ("login", 1)]


def pick(rng, options):
    total = sum(w for _, w in options)
    r = rng.random() * total
    for v, w in options:
        r -= w
        if r < 0:
            return v
    return options[-1][0]


def human_pages(rng, n, promo=False):
    page = pick(rng, HUMAN_START)
    pages = [page]
    while len(pages) < n:
        opts = HUMAN[page]
        if promo and rng.random() < 0.15:
            page = "promo"
            pages.append(page)
            page = "product"
            continue
        page = pick(rng, opts)
        pages.append(page)
    return pages


def bot_pages(rng, n, promo=False):
    style = pick(rng, [("crawler", 5), ("scraper", 3), ("stuffer", 1), ("mimic", 1)])
    if style == "mimic":
        return human_pages(rng, n, promo)
    pages = []
    if style == "crawler":
        pages = ["sitemap"]
        while len(pages) < n:
            pages.append("category")
            for _ in range(rng.randint(3, 6)):
                pages.append("promo" if promo and rng.random() < 0.3 else "product")
            if rng.random() < 0.3:
                pages.append("sitemap")
    elif style == "scraper":
        while len(pages) < n:
            pages += ["search", "product"]
            if rng.random() < 0.2:
                pages.append("reviews")
    else:  # credential stuffer
        while len(pages) < n:
            pages += ["login", "login", "account"] if rng.random() < 0.3 else ["login"]
    return pages[:n]


def window(seed, sessions, bot_share, start_ms, promo=False, junk=False, heartbeats=True):
    rng = random.Random(seed)
    out = Stream(rng)
    labels = []
    for i in range(sessions):
        sid = "s%d-%04d" % (seed % 1000, i + 1)
        t = start_ms + rng.randint(0, 6 * 3600 * 1000)
        bot = rng.random() < bot_share
        if bot:
            n = rng.randint(8, 40)
            pages = bot_pages(rng, n, promo)
            step = rng.choice([1000, 1500, 2000])
        else:
            n = rng.randint(3, 25)
            # A few humans browse product after product, much like a crawler.
            if rng.random() < 0.06:
                pages = ["category"] + ["product"] * (n - 1)
            else:
                pages = human_pages(rng, n, promo)
        for p in pages:
            out.add(t, "page_view", session=sid, page=p)
            if heartbeats and rng.random() < 0.05:
                out.add(t + 200, "heartbeat", session=sid)
            if bot:
                t += step + rng.randint(-40, 40)
            else:
                t += int(1000 * 2 * (60 / 2) ** rng.random())
        labels.append((sid, "bot" if bot else "human"))
    bad = []
    if junk:
        bad = [
            (40, '{"type":"page_view","session":"s-broken","page":"home","ts":'),
            (700, '{"type":"page_view","session":"s-nopage","ts":"2026-03-02T09:00:00Z"}'),
            (1500, '{"type":"page_view","session":"s-badtime","page":"home","ts":"yesterday"}'),
            (2300, '["not", "an", "object"]'),
        ]
    return out.lines(junk=bad), labels


def write(name, lines):
    with open(os.path.join(HERE, name), "w") as f:
        for line in lines:
            f.write(line + "\n")


def main():
    lines, labels = window(20261129, 400, 0.25, BASE_MS, junk=True)
    write("events.jsonl", lines)
    write("labels.csv", ["key,label"] + ["%s,%s" % kv for kv in labels])
    lines, labels = window(20261130, 250, 0.25, BASE_MS + 86400000)
    write("test_events.jsonl", lines)
    write("test_labels.jsonl", [json.dumps({"key": k, "label": v}, separators=(",", ":")) for k, v in labels])
    lines, _ = window(20261201, 150, 0.6, BASE_MS + 2 * 86400000, promo=True, heartbeats=False)
    write("drift_events.jsonl", lines)


if __name__ == "__main__":
    main()
