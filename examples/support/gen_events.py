#!/usr/bin/env python3
"""gen_events.py: generates the customer-support example's events.jsonl (fixed seed, python3 stdlib only).

Usage: python3 gen_events.py > events.jsonl

About 350 visitors of a product's site over two days, each with a few visits separated by idle hours.
Personas: browsers (product and docs pages), self-servers (read one or two help articles and leave),
strugglers (circle the help and FAQ pages, going back to articles already read, then maybe open a
ticket), and direct openers (go straight to contact and open a ticket). A few lines are broken or late.
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gen_common import BASE_MS, Stream  # noqa: E402

SEED = 777
rng = random.Random(SEED)
out = Stream(rng)
ARTICLES = ["reset-password", "invoice-download", "refund-policy", "two-factor", "api-limits", "export-data",
            "change-plan", "delete-account", "sso-setup", "billing-address"]
CATEGORY = {"reset-password": "account", "two-factor": "account", "delete-account": "account",
            "sso-setup": "technical", "api-limits": "technical", "export-data": "technical",
            "invoice-download": "billing", "refund-policy": "billing", "change-plan": "billing",
            "billing-address": "billing"}
eid = [0]
tickets = [0]


def next_id():
    eid[0] += 1
    return "s-%06d" % eid[0]


def think(lo, hi):
    return int(1000 * lo * (hi / lo) ** rng.random())


def view(v, t, section, article=None):
    f = {"visitor_id": v, "event_id": next_id(), "section": section}
    if article:
        f["article"] = article
        f["path"] = "/%s/%s" % (section, article)
    else:
        f["path"] = "/%s" % ("" if section == "home" else section)
    out.add(t, "page_view", **f)


def ticket(v, t, category):
    tickets[0] += 1
    out.add(t, "ticket_created", visitor_id=v, event_id=next_id(), ticket_id="T-%05d" % tickets[0],
            category=category)


def browser(v, t):
    for _ in range(rng.randint(2, 6)):
        view(v, t, rng.choice(["home", "product", "docs", "product", "billing", "account"]))
        t += think(5, 90)
    return t


def self_server(v, t):
    view(v, t, "home")
    t += think(3, 20)
    for a in rng.sample(ARTICLES, rng.randint(1, 2)):
        view(v, t, rng.choice(["help", "faq"]), a)
        t += think(30, 150)
    view(v, t, "account")
    return t


def struggler(v, t, files_ticket):
    """Reads 2-3 articles, goes back to them (backtracking), searches, maybe opens a ticket."""
    topic = rng.sample(ARTICLES, rng.randint(2, 3))
    order = topic + [topic[0]] + rng.sample(topic, 2)
    view(v, t, "home")
    t += think(3, 15)
    for i, a in enumerate(order):
        view(v, t, "help" if i % 2 == 0 else "faq", a)
        t += think(20, 120)
        if rng.random() < 0.3:
            out.add(t, "search", visitor_id=v, event_id=next_id(), query=a.replace("-", " "),
                    results=rng.randint(0, 12))
            t += think(5, 20)
    if files_ticket:
        view(v, t, "contact")
        t += think(30, 120)
        ticket(v, t, CATEGORY[topic[0]])
    return t


def direct(v, t):
    view(v, t, "contact")
    t += think(20, 90)
    ticket(v, t, rng.choice(["billing", "technical", "account", "other"]))
    return t


for n in range(1, 351):
    v = "v-%04d" % n
    t = BASE_MS + rng.randint(0, 24 * 3600 * 1000)
    for _ in range(rng.randint(1, 3)):
        r = rng.random()
        if r < 0.45:
            t = browser(v, t)
        elif r < 0.65:
            t = self_server(v, t)
        elif r < 0.80:
            t = struggler(v, t, files_ticket=True)
        elif r < 0.90:
            t = struggler(v, t, files_ticket=False)
        else:
            t = direct(v, t)
        t += rng.randint(2 * 3600 * 1000, 12 * 3600 * 1000)

JUNK = [
    (200, '{"type":"page_view","ts":"2026-03-02T09:00:00Z","visitor_id":"v-0001","section":"help"}'),
    (900, '{"type":"ticket_created","ts":"2026-03-02T10:00:00+01:00","visitor_id":"v-0002",'
          '"ticket_id":"T-99999","category":"complaint"}'),
    (1600, '{"type":"chat_started","ts":"2026-03-02T11:00:00Z","visitor_id":"v-0003"}'),
    (2300, '{"type":"search","ts":"2026-03-02T12:00:00Z","visitor_id":"v-0004","query":"refund",'
           '"results":"many"}'),
    (2800, '{"type":"page_view","ts":"2026-03-02T12:00:00Z","visitor_id":"v-0005","section":"help",'),
]
LATE = [(400, 45 * 60 * 1000), (2000, 3 * 3600 * 1000)]

for line in out.lines(jitter_ms=20000, late=LATE, junk=JUNK):
    print(line)
