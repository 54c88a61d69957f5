#!/usr/bin/env python3
"""gen_events.py: generates the payment-fraud example's events.jsonl (fixed seed, python3 stdlib only).

Usage: python3 gen_events.py > events.jsonl

About 400 accounts (integer keys) over two days: ordinary logins, MFA and payments in bursts separated by
idle hours, plus planted attacks and near misses: card testing (and testing that never cashes out, uses a
single card range, or cashes out too late), account takeovers (and resets vouched for by MFA, or with a
pause between reset and login, or a payout change after the hour), credential stuffing. A few lines are
broken or late so that dead letters show up.
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gen_common import BASE_MS, Stream  # noqa: E402

SEED = 4242
rng = random.Random(SEED)
out = Stream(rng)
MIN = 60 * 1000
COUNTRIES = ["DE", "FR", "NL", "ES", "IT", "PL"]
MERCHANTS = ["grocer", "fuel", "books", "travel", "games", "pharmacy", "cinema"]
BINS = ["411111", "510510", "601100", "371449", "400005", "522222"]
eid = [0]


def next_id():
    eid[0] += 1
    return "f-%06d" % eid[0]


def ip():
    return "%d.%d.%d.%d" % (rng.randint(11, 220), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))


class Account:
    def __init__(self, n):
        self.id = n
        self.device = "dev-%05d" % rng.randint(0, 99999)
        self.ip = ip()
        self.country = rng.choice(COUNTRIES)
        self.bin = rng.choice(BINS)

    def login(self, t, success=True, device=None, addr=None, country=None):
        out.add(t, "login", account_id=self.id, event_id=next_id(), device_id=device or self.device,
                ip=addr or self.ip, country=country or self.country, new_device=device is not None,
                success=success)

    def mfa(self, t, ok=True):
        out.add(t, "mfa", account_id=self.id, event_id=next_id(), method=rng.choice(["sms", "totp", "push"]),
                result="success" if ok else "failure")

    def pay(self, t, amount, ok=True, card_bin=None, merchant=None):
        f = dict(account_id=self.id, event_id=next_id(), amount=amount, currency="EUR",
                 card_bin=card_bin or self.bin, merchant=merchant or rng.choice(MERCHANTS),
                 status="success" if ok else "failed")
        if not ok:
            f["decline_code"] = rng.choice(["05", "51", "54", "14"])
        out.add(t, "payment", **f)

    def reset(self, t):
        out.add(t, "password_reset", account_id=self.id, event_id=next_id(),
                channel=rng.choice(["email", "email", "sms", "support"]))

    def payout(self, t, country):
        out.add(t, "payout_change", account_id=self.id, event_id=next_id(), new_iban_country=country)


def ordinary(a, t):
    """A burst of ordinary use: log in (maybe with MFA), pay once or twice, sometimes a decline."""
    a.login(t)
    t += rng.randint(5000, 40000)
    if rng.random() < 0.4:
        a.mfa(t)
        t += rng.randint(5000, 30000)
    for _ in range(rng.randint(1, 3)):
        ok = rng.random() > 0.08
        a.pay(t, round(rng.uniform(8, 180), 2), ok)
        t += rng.randint(20000, 8 * MIN)
    return t


def card_testing(a, t, bins, cashout_after, cash=True):
    """`len(bins)` probes under 5 EUR that fail, then (if `cash`) a success `cashout_after` ms later."""
    for b in bins:
        a.pay(t, round(rng.uniform(0.5, 4.5), 2), ok=False, card_bin=b, merchant="games")
        t += rng.randint(10000, 60000)
    if cash:
        t += cashout_after
        a.pay(t, round(rng.uniform(150, 900), 2), ok=True, card_bin=bins[-1], merchant="travel")
    return t


def takeover(a, t, mfa_between=False, pause_event=False, payout_after=None):
    a.reset(t)
    t += rng.randint(20000, 90000)
    if pause_event:  # the owner's own old device logs in first: not the strict-next shape
        a.login(t)
        t += rng.randint(10000, 30000)
    a.login(t, device="dev-x%04d" % rng.randint(0, 9999), addr=ip(), country=rng.choice(["BR", "VN", "NG"]))
    t += rng.randint(60000, 5 * MIN)
    if mfa_between:
        a.mfa(t, ok=True)
        t += rng.randint(30000, 120000)
    a.pay(t, round(rng.uniform(10, 60), 2), True)
    t += payout_after if payout_after is not None else rng.randint(5 * MIN, 40 * MIN)
    a.payout(t, rng.choice(["LT", "CY", "MT"]))
    return t


def stuffing(a, t, addresses):
    for i in range(rng.randint(5, 8)):
        a.login(t, success=False, device="dev-bot", addr=addresses[i % len(addresses)])
        t += rng.randint(3000, 40000)
    a.login(t, success=True, device="dev-bot", addr=addresses[0])
    return t


accounts = [Account(n) for n in range(1000, 1400)]
for a in accounts:
    t = BASE_MS + rng.randint(0, 24 * 3600 * 1000)
    for _ in range(rng.randint(1, 4)):
        t = ordinary(a, t) + rng.randint(3 * 3600 * 1000, 10 * 3600 * 1000)

# Planted behaviour, each on its own account, at a random time of the two days.
planted = rng.sample(accounts, 26)


def at():
    return BASE_MS + rng.randint(1 * 3600 * 1000, 40 * 3600 * 1000)


for a in planted[0:5]:  # card testing that fires: 3-5 probes on 2-3 ranges, cash-out within minutes
    k = rng.randint(3, 5)
    card_testing(a, at(), [BINS[i % 3] for i in range(k)], rng.randint(20000, 3 * MIN))
card_testing(planted[5], at(), ["411111"] * 4, 60000)           # one card range only: no detection
card_testing(planted[6], at(), ["411111", "510510"], 60000)       # two probes only: no detection
card_testing(planted[7], at(), ["411111", "510510", "601100"], 20 * MIN)  # cash-out too late
card_testing(planted[8], at(), ["411111", "510510", "601100"], 0, cash=False)  # never cashed out
for a in planted[9:14]:  # account takeover that fires
    takeover(a, at())
takeover(planted[14], at(), mfa_between=True)        # MFA success in between: the owner, no detection
takeover(planted[15], at(), pause_event=True)        # a login between reset and new device: not strict
takeover(planted[16], at(), payout_after=70 * MIN)   # payout change after the hour: no detection
for a in planted[17:21]:  # credential stuffing that fires
    stuffing(a, at(), [ip() for _ in range(3)])
stuffing(planted[21], at(), [ip()] * 2)              # only one address (repeated): no detection

JUNK = [
    (90, '{"type":"payment","ts":"2026-03-02T09:00:00Z","account_id":"abc","amount":3.5,"currency":"EUR",'
         '"card_bin":"411111","merchant":"games","status":"failed"}'),
    (640, '{"type":"payment","ts":"2026-03-02T09:30:00Z","account_id":1001,"amount":3.5,"currency":"EUR",'
          '"merchant":"games","status":"failed"}'),
    (1400, '{"type":"refund","ts":"2026-03-02T10:00:00Z","account_id":1002,"amount":3.5}'),
    (2050, '{"type":"login","ts":"yesterday","account_id":1003,"device_id":"d","ip":"1.2.3.4",'
           '"country":"DE","new_device":false,"success":true}'),
    (2700, '{"type":"mfa","ts":"2026-03-02T11:00:00Z","account_id":1004,"method":"carrier-pigeon",'
           '"result":"success"}'),
    (3100, '["not","an","object"]'),
]
LATE = [(500, 90 * MIN), (1800, 4 * 3600 * 1000), (3000, 2 * 3600 * 1000), (3500, 30 * MIN)]

for line in out.lines(jitter_ms=20000, late=LATE, junk=JUNK):
    print(line)
