#!/usr/bin/env python3
"""gen_events.py: generates the e-commerce example's events.jsonl (fixed seed, python3 stdlib only).

Usage: python3 gen_events.py > events.jsonl

About 300 shoppers over two days. Each has a few visits separated by idle gaps of hours; a visit is a
burst of activity played by one persona: casual, buyer, high-intent, abandoner, explorer, comparer,
shortlister or bot.
A few lines are deliberately broken (bad JSON, a missing or mistyped field, an unknown event type, a bad
timestamp) or arrive far too late, so that the dead-letter output has something in it.
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gen_common import BASE_MS, Stream  # noqa: E402

SEED = 20260302
rng = random.Random(SEED)
out = Stream(rng)
SKUS = ["SKU-%04d" % i for i in range(1, 121)]
CATEGORIES = ["shoes", "jackets", "bags", "watches", "lamps", "chairs"]
eid = [0]


def next_id():
    eid[0] += 1
    return "ev-%06d" % eid[0]


def think(lo, hi):
    """A human pause in ms: log-uniform between lo and hi seconds."""
    return int(1000 * lo * (hi / lo) ** rng.random())


def price_of(sku):
    return round(5 + (int(sku[4:]) * 37 % 200) + 0.99, 2)


def view(user, t, page, sku=None, logged_in=False):
    f = {"user_id": user, "page": page, "logged_in": logged_in}
    if rng.random() < 0.95:
        f["event_id"] = next_id()
    if page == "product":
        f["sku"] = sku
        f["price"] = price_of(sku)
        f["url"] = "/p/%s" % sku.lower()
    elif page == "category":
        f["url"] = "/c/%s" % rng.choice(CATEGORIES)
    else:
        f["url"] = "/%s" % ("" if page == "home" else page)
    if logged_in and rng.random() < 0.5:
        f["email"] = "%s@example.com" % user
    out.add(t, "page_view", **f)


def casual(user, t, li):
    for _ in range(rng.randint(2, 7)):
        page = rng.choice(["home", "category", "product", "search", "product", "help"])
        view(user, t, page, rng.choice(SKUS), li)
        t += think(4, 50)
    return t


def buyer(user, t, li):
    sku = rng.choice(SKUS)
    view(user, t, "home", None, li)
    t += think(3, 15)
    view(user, t, "product", sku, li)
    t += think(10, 25)
    out.add(t, "add_to_cart", user_id=user, event_id=next_id(), sku=sku, price=price_of(sku), qty=1)
    t += think(3, 10)
    view(user, t, "cart", None, li)
    t += think(5, 20)
    view(user, t, "checkout", None, li)
    t += think(20, 60)
    out.add(t, "purchase", user_id=user, event_id=next_id(), order_id="o-%05d" % rng.randint(1, 99999),
            total=price_of(sku), items=1)
    return t + 1000


def high_intent(user, t, li):
    """A long, purposeful visit: search, categories, several products, one studied for a while."""
    pages = ["home", "search", "category", "product", "category", "product", "search", "product", "cart"]
    focus = rng.choice(SKUS)
    for i, page in enumerate(pages):
        sku = focus if i == 5 else rng.choice(SKUS)
        view(user, t, page, sku, li)
        t += think(40, 90) if i == 5 else think(8, 25)
    if rng.random() < 0.5:
        out.add(t, "add_to_cart", user_id=user, event_id=next_id(), sku=focus, price=price_of(focus), qty=1)
        t += think(5, 20)
        out.add(t, "purchase", user_id=user, event_id=next_id(), order_id="o-%05d" % rng.randint(1, 99999),
                total=price_of(focus), items=1)
    return t + 1000


def abandoner(user, t, li):
    sku = rng.choice(SKUS)
    view(user, t, "category", None, li)
    t += think(5, 20)
    view(user, t, "product", sku, li)
    t += think(10, 40)
    out.add(t, "add_to_cart", user_id=user, event_id=next_id(), sku=sku, price=price_of(sku),
            qty=rng.choice([1, 1, 2]))
    t += think(5, 30)
    view(user, t, "cart", None, li)
    return t + 1000


def explorer(user, t, li):
    """Looks around; one in three puts the last product seen into the cart."""
    sku = None
    for _ in range(rng.randint(5, 9)):
        page = rng.choice(["category", "product", "product", "search", "home"])
        sku = rng.choice(SKUS) if page == "product" else sku
        view(user, t, page, sku or rng.choice(SKUS), li)
        t += think(5, 40)
    if sku and rng.random() < 0.35:
        return add_and_maybe_buy(user, t, li, sku, 0.5)
    return t


def comparer(user, t, li):
    """Two products, back and forth, then one of them into the cart (sometimes bought)."""
    a, b = rng.sample(SKUS, 2)
    for sku in [a, b, a, b, a]:
        view(user, t, "product", sku, li)
        t += think(8, 35)
    return add_and_maybe_buy(user, t, li, a, 0.5)


def shortlister(user, t, li):
    """Explores three products among categories and searches, then goes back to two of them and picks
    one: both an exploration and a confirmation at the add-to-cart."""
    a, b, c = rng.sample(SKUS, 3)
    for page, sku in [("home", None), ("category", None), ("product", a), ("search", None), ("product", b),
                      ("category", None), ("product", c), ("product", a), ("product", b)]:
        view(user, t, page, sku, li)
        t += think(6, 40)
    return add_and_maybe_buy(user, t, li, b, 0.6)


def add_and_maybe_buy(user, t, li, sku, p_buy):
    out.add(t, "add_to_cart", user_id=user, event_id=next_id(), sku=sku, price=price_of(sku), qty=1)
    t += think(5, 30)
    if rng.random() < p_buy:
        view(user, t, "checkout", None, li)
        t += think(20, 60)
        out.add(t, "purchase", user_id=user, event_id=next_id(), order_id="o-%05d" % rng.randint(1, 99999),
                total=price_of(sku), items=1)
    return t + 1000


def bot(user, t, li):
    """A crawler: 24-34 pages at 1.0-1.4 s, every kind of page, no cart."""
    for i in range(rng.randint(24, 34)):
        page = ["home", "category", "product", "search", "product", "help"][i % 6]
        view(user, t, page, SKUS[(i * 7) % len(SKUS)], False)
        t += rng.randint(1000, 1400)
    return t


PERSONAS = [(casual, 38), (buyer, 14), (high_intent, 10), (abandoner, 10), (explorer, 10), (comparer, 6),
            (shortlister, 6), (bot, 2)]


def pick():
    r = rng.uniform(0, sum(w for _, w in PERSONAS))
    for fn, w in PERSONAS:
        r -= w
        if r <= 0:
            return fn
    return PERSONAS[0][0]


for n in range(1, 301):
    user = "u%04d" % n
    t = BASE_MS + rng.randint(0, 20 * 3600 * 1000)
    li = rng.random() < 0.6
    for _ in range(rng.randint(1, 4)):
        t = pick()(user, t, li)
        t += rng.randint(2 * 3600 * 1000, 9 * 3600 * 1000)  # idle until the next visit

JUNK = [
    (150, '{"type":"page_view","user_id":"u0007","ts":"2026-03-02T09:00:00Z","page":"home",'),
    (420, '{"type":"page_view","ts":"2026-03-02T09:10:00Z","page":"home","url":"/","logged_in":true}'),
    (777, '{"type":"page_view","user_id":"u0042","ts":"2026-03-02T10:00:00Z","page":"home","url":"/",'
          '"logged_in":"yes"}'),
    (1203, '{"type":"wishlist_add","user_id":"u0042","ts":"2026-03-02T11:00:00Z","sku":"SKU-0001"}'),
    (1690, '{"type":"page_view","user_id":"u0050","ts":"2026-03-02T25:61:00Z","page":"home","url":"/",'
           '"logged_in":false}'),
    (2210, '{"type":"page_view","user_id":"u0051","ts":"2026-03-02T12:00:00Z","page":"blog","url":"/blog",'
           '"logged_in":false}'),
    (2900, 'not json at all'),
    (3050, '{"user_id":"u0061","ts":"2026-03-02T12:30:00Z","page":"home","url":"/","logged_in":false}'),
    (3300, '{"type":"add_to_cart","user_id":"u0052","ts":"2026-03-02T13:00:00Z","sku":"SKU-0002",'
           '"price":"cheap","qty":1}'),
]
LATE = [(300, 2 * 3600 * 1000), (1500, 3 * 3600 * 1000), (2600, 2 * 3600 * 1000)]

for line in out.lines(jitter_ms=20000, late=LATE, junk=JUNK):
    print(line)
