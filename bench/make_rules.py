#!/usr/bin/env python3
"""make_rules.py: writes bench/rules/reference.etho, the 50-rule reference rule set (10 kinds x 5
parameter variants: sequences with windows, absences, Kleene with aggregates, negations, strict
sequences, thresholds over windows and last-N, session behaviours, features, string predicates).

Usage: python3 bench/make_rules.py > bench/rules/reference.etho
"""

TEMPLATES = [
    # (kind label, body with {p} parameters)
    ("threshold", "over last {w}m;\n    on search;\n    when count(search) >= {n};\n    emit searches = count(search);"),
    ("threshold",
     "over last 10m;\n    on add_to_cart;\n    when sum(add_to_cart.price where price > {p}.0) > {s}.0;\n"
     "    emit spent = sum(add_to_cart.price), items = count(add_to_cart);"),
    ("feature",
     "over last 20 events;\n    on page_view;\n    when count(page_view) >= 15 and gap_mean(page_view) < {g}s "
     "and entropy(page_view.page) >= 1.0;\n    emit burst = burstiness(page_view), gap = gap_max(page_view);"),
    ("session",
     "over session web;\n    on page_view;\n    when session.duration > {d}m and distinct(page_view.sku) >= {k};\n"
     "    emit products = distinct(page_view.sku), visit = session.events;"),
    ("session",
     "over session web;\n    at session end;\n    when count(add_to_cart) >= {k} and count(purchase) == 0;\n"
     "    emit items = count(add_to_cart), value = sum(add_to_cart.price);"),
    ("sequence",
     "pattern v: page_view where v.page == product and v.price > {p}.0\n"
     "        -> c: add_to_cart where c.sku == v.sku within {w}m;\n    emit sku = c.sku, value = c.price * c.qty;"),
    ("absence",
     "pattern c: add_to_cart where c.price > {p}.0\n        -> not p: purchase within {w}m;\n"
     "    emit sku = c.sku;"),
    ("sequence",
     "pattern s: search{{3,}} where s.results == 0\n        -> h: help within {w}m;\n"
     "    emit failed_searches = count(s), topic = h.topic;"),
    ("sequence",
     "pattern c: add_to_cart\n        -> not h: help\n        -> p: purchase where p.total > {p}.0 within 1h;\n"
     "    emit total = p.total, minutes = (p.ts - c.ts) / 1m;"),
    ("sequence",
     "pattern a: payment where a.status == failed and starts_with(a.method, \"{m}\")\n"
     "        => b: payment where b.status == failed and b.amount > a.amount within {w}m;\n"
     "    emit method = lower(b.method), delta = b.amount - a.amount;"),
]

VARIANTS = [
    dict(w=1, n=5, p=100, s=300, g=3, d=5, k=3, m="card"),
    dict(w=2, n=8, p=50, s=500, g=5, d=10, k=4, m="wallet"),
    dict(w=5, n=12, p=200, s=800, g=8, d=20, k=2, m="c"),
    dict(w=10, n=20, p=20, s=150, g=2, d=30, k=5, m="w"),
    dict(w=30, n=30, p=300, s=1000, g=10, d=3, k=1, m="bank"),
]


def main():
    print("// reference.etho: the 50-rule reference rule set of `etho bench` (written by bench/make_rules.py).")
    print('ruleset bench.reference version 1.0.0;')
    print('import "schema.etho";')
    for t, (kind, body) in enumerate(TEMPLATES):
        for v, params in enumerate(VARIANTS):
            print()
            print("rule r%02d_%s_%d {" % (t, kind, v))
            print("    label bench.%s;" % kind)
            print("    " + body.format(**params))
            print("}")


if __name__ == "__main__":
    main()
