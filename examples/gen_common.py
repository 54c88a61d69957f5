"""gen_common.py: shared helpers of the example event generators (python3 stdlib only).

Every generator uses a fixed seed, so `python3 gen_events.py > events.jsonl` is reproducible byte for byte.
Timestamps are written as RFC 3339 strings with mixed UTC offsets (and some fractional seconds) or as
epoch milliseconds, so that ingestion's time normalisation is exercised.
"""
import datetime as _dt
import json

# 2026-03-02T08:00:00Z, a Monday: every example starts here.
BASE_MS = 1772438400000

_OFFSETS = [0, 0, 60, 120, -300, 330, -480]  # minutes east of UTC


def fmt_time(rng, ms):
    """Renders epoch-ms `ms` as an RFC 3339 string in a random offset, or (1 in 10) as a JSON number."""
    r = rng.random()
    if r < 0.1:
        return ms
    off = rng.choice(_OFFSETS)
    tz = _dt.timezone(_dt.timedelta(minutes=off))
    t = _dt.datetime.fromtimestamp(ms / 1000.0, tz=_dt.timezone.utc).astimezone(tz)
    frac = ms % 1000
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    if frac or r < 0.3:
        base += ".%03d" % frac
    if off == 0 and r < 0.6:
        return base + "Z"
    sign = "+" if off >= 0 else "-"
    return base + "%s%02d:%02d" % (sign, abs(off) // 60, abs(off) % 60)


class Stream:
    """Collects events as (time_ms, record) and writes them sorted by time, each a JSON line."""

    def __init__(self, rng, time_field="ts"):
        self.rng = rng
        self.time_field = time_field
        self.events = []
        self.counter = 0

    def add(self, ms, etype, **fields):
        self.counter += 1
        rec = {"type": etype}
        rec.update(fields)
        self.events.append((ms, self.counter, rec))

    def lines(self, jitter_ms=0, late=(), junk=()):
        """Yields the JSON lines in time order. `jitter_ms` swaps some neighbours less than `jitter_ms`
        apart (out of order, but within the configured lateness); `late` is a list of (index, back_ms):
        the event at that position is delayed and emitted `back_ms` after its own time has passed the
        watermark (a late arrival); `junk` lines are inserted verbatim at the given positions."""
        evs = sorted(self.events, key=lambda e: (e[0], e[1]))
        out = []
        for ms, _, rec in evs:
            r = {"type": rec["type"], self.time_field: fmt_time(self.rng, ms)}
            r.update((k, v) for k, v in rec.items() if k != "type")
            out.append([ms, json.dumps(r, separators=(",", ":"))])
        # Neighbour swaps: the later event arrives first, by less than jitter_ms.
        if jitter_ms:
            i = 1
            while i < len(out):
                if out[i][0] - out[i - 1][0] < jitter_ms and self.rng.random() < 0.15:
                    out[i - 1], out[i] = out[i], out[i - 1]
                    i += 2
                else:
                    i += 1
        # Late arrivals: move the line to after the first line whose time is >= its time + back_ms.
        for idx, back_ms in sorted(late, reverse=True):
            ms, line = out.pop(idx)
            j = idx
            while j < len(out) and out[j][0] < ms + back_ms:
                j += 1
            out.insert(j, [ms, line])
        result = [line for _, line in out]
        for pos, text in sorted(junk, reverse=True):
            result.insert(min(pos, len(result)), text)
        return result
