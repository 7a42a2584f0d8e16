#!/usr/bin/env python3
"""Turns bench/run's measurements (JSON lines of {"key", "value"}) into one markdown table.

  table.py RESULTS.jsonl CAPTION

Rows of sections that did not run are left out. Each target is marked met or missed.
Throughput and latency columns are medians over the rounds; the ratios are medians of
the per-round ratios (the targets take turns, round by round), with their range.
"""

import json
import statistics
import sys

# Issue 16's targets: throughput against nginx sending the same bytes and headers.
FLOORS = [("plain", "plain link", 1.2), ("role", "role link", 1.2),
          ("cookie", "plain link + session cookie", 1.0)]
P99_CEILING = 1.3


def main():
    path, caption = sys.argv[1:3]
    r = {}
    for line in open(path):
        item = json.loads(line)
        r.setdefault(item["key"], []).append(item["value"])
    one = lambda k: r[k][-1]
    med = statistics.median
    met = lambda ok: "met" if ok else "**missed**"
    ms = lambda us: f"{us / 1000:.2f}"
    rows = []

    def row(*cells):
        rows.append("| " + " | ".join(str(c) for c in cells) + " |")

    def tp(target):
        runs = r["tp_" + target]
        return {
            "rps": med([x["rps"] for x in runs]),
            "p50": med([x["p50_us"] for x in runs]),
            "p99": med([x["p99_us"] for x in runs]),
            "bad": sum(x["non_2xx_3xx"] + x["socket_errors"] for x in runs),
        }

    def per_round(target, field):
        """Median and range of roomgate / nginx, round by round (the targets take turns)."""
        pairs = zip(r["tp_" + target], r["tp_nginx"])
        ratios = sorted(g[field] / n[field] for g, n in pairs)
        return med(ratios), ratios[0], ratios[-1]

    if "tp_nginx" in r:
        nginx = tp("nginx")
        for target, label, floor in FLOORS:
            g = tp(target)
            ratio, low, high = per_round(target, "rps")
            p99_ratio, p99_low, p99_high = per_round(target, "p99_us")
            errors = f" ({g['bad']} errors)" if g["bad"] else ""
            row(f"Page throughput, {label}", f"{g['rps']:,.0f} req/s{errors}",
                f"{nginx['rps']:,.0f} req/s", f"{ratio:.2f}× ({low:.2f}–{high:.2f})",
                f"≥ {floor:.1f}× nginx", met(ratio >= floor))
            row(f"Latency p50 / p99, {label}", f"{ms(g['p50'])} / {ms(g['p99'])} ms",
                f"{ms(nginx['p50'])} / {ms(nginx['p99'])} ms",
                f"p99 {p99_ratio:.2f}× ({p99_low:.2f}–{p99_high:.2f})",
                f"p99 ≤ {P99_CEILING}× nginx", met(p99_ratio <= P99_CEILING))
            if "cpu_" + target in r:
                # nginx's CPU over roomgate's, so that above 1 means roomgate does more
                # with each CPU second, as for throughput.
                cpus = sorted(n / g for g, n in zip(r["cpu_" + target], r["cpu_nginx"]))
                row(f"Server CPU time per request (user + system), {label}",
                    f"{med(r['cpu_' + target]):.1f} µs", f"{med(r['cpu_nginx']):.1f} µs",
                    f"{med(cpus):.2f}× ({cpus[0]:.2f}–{cpus[-1]:.2f})", "(measured)", "")

    if "mx_on" in r:
        on, off = (
            {f: med([x[f] for x in r["mx_" + t]]) for f in ("rps", "p50_us", "p99_us")}
            for t in ("on", "off"))
        ratios = sorted(a["rps"] / b["rps"] for a, b in zip(r["mx_on"], r["mx_off"]))
        p99s = sorted(a["p99_us"] / b["p99_us"] for a, b in zip(r["mx_on"], r["mx_off"]))
        bad = sum(x["non_2xx_3xx"] + x["socket_errors"] for t in ("on", "off")
                  for x in r["mx_" + t])
        errors = f" ({bad} errors)" if bad else ""
        row("Page throughput, plain link, metrics on vs off (loaded at once, wrk -t1 -c32 each)",
            f"{on['rps']:,.0f} req/s (off: {off['rps']:,.0f}){errors}", "",
            f"{med(ratios):.2f}× of off ({ratios[0]:.2f}–{ratios[-1]:.2f})", "≥ 0.95× off",
            met(med(ratios) >= 0.95))
        row("Latency p50 / p99, plain link, metrics on vs off",
            f"{ms(on['p50_us'])} / {ms(on['p99_us'])} ms "
            f"(off: {ms(off['p50_us'])} / {ms(off['p99_us'])} ms); "
            f"{float(one('mx_counted')):,.0f} pages counted", "",
            f"p99 {med(p99s):.2f}× of off ({p99s[0]:.2f}–{p99s[-1]:.2f})", "", "")

    if "crowd" in r:
        crowd, cv = one("crowd"), one("crowd_vendor")
        ok = crowd["statuses"].get("200", 0)
        detail = cv["detail"]["total"]
        row(f"Crowd: {crowd['requests']} first requests at once for one cold room: "
            "vendor detail calls", detail, "", "", "exactly 1", met(detail == 1))
        row("Crowd: vendor index listings (list pages), sign-ins",
            f"{cv['listings']} ({cv['list']} pages), {cv['login']} sign-in(s)", "", "", "", "")
        row(f"Crowd: page latency p50 / p99 (vendor {one('crowd_latency_ms')} ms a call)",
            f"{crowd['p50_ms']:.0f} / {crowd['p99_ms']:.0f} ms; "
            f"{ok}/{crowd['requests']} answered 200", "", "", "", "")

    if "steady" in r:
        st, sv, ttl = one("steady"), one("steady_vendor"), one("steady_ttl")
        per = sv["detail"]["total"] / 1000 / (st["duration_s"] / ttl)
        st_ok = st["statuses"].get("200", 0)
        row(f"Steady state, {st['duration_s']:.0f} s over 1000 rooms, TTL {ttl} s: "
            "vendor detail calls per room per TTL window",
            f"{per:.2f} ({sv['detail']['total']:,} calls for {st['requests']:,} pages, "
            f"{100 * st_ok / max(1, st['requests']):.1f} % answered 200)", "", "", "", "")

    if "flood" in r:
        fl, fr, fv, interval = one("flood"), one("flood_real"), one("flood_vendor"), one(
            "index_interval")
        bound = int(fl["duration_s"] // interval) + 1
        flood_404 = fl["statuses"].get("404", 0)
        row(f"Random-key flood, {fl['requests']:,} unknown keys in {fl['duration_s']:.1f} s: "
            "vendor index listings",
            f"{fv['listings']} ({fv['list']} pages); {flood_404:,} answered 404", "", "",
            f"≤ {bound} (duration / {interval} s + 1)", met(fv["listings"] <= bound))
        hit = 100 * fr["statuses"].get("200", 0) / max(1, fr["requests"])
        row("Random-key flood: real rooms answered 200 meanwhile",
            f"{hit:.1f} % of {fr['requests']:,}", "", "", "", "")

    if "outage" in r:
        o = one("outage")
        seen_ok, seen_n = o["seen"].get("200", 0), sum(o["seen"].values())
        row("Outage: 100 rooms seen before, vendor down, past the TTL: answered 200",
            f"{100 * seen_ok / max(1, seen_n):.0f} % ({seen_ok}/{seen_n})", "", "", "100 %",
            met(seen_ok == seen_n == 100))
        unseen = ", ".join(f"{n}× {s}" for s, n in sorted(o["unseen"].items()))
        row("Outage: 20 rooms never seen", unseen, "", "", "503",
            met(o["unseen"] == {"503": 20}))

    if "memory" in r:
        m = one("memory")
        cached = m["vendor"]["detail"]["distinct"]
        per_room = (m["rss_full_kb"] - m["rss_index_kb"]) * 1024 / max(1, cached - 1)
        with_index = (m["rss_full_kb"] - m["rss_start_kb"]) * 1024 / max(1, cached)
        row(f"Memory: RSS per cached room ({cached:,} rooms)",
            f"{per_room:,.0f} B ({with_index:,.0f} B counting the key index); RSS "
            f"{m['rss_start_kb'] / 1024:.1f} → {m['rss_index_kb'] / 1024:.1f} → "
            f"{m['rss_full_kb'] / 1024:.1f} MiB", "", "", "≤ 2 KiB", met(per_room <= 2048))

    if "startup" in r:
        s = one("startup")
        row(f"Start-up to the first 200 on /healthz (median of {len(s['runs_ms'])})",
            f"{s['median_ms']:.0f} ms", "", "", "≤ 200 ms", met(s["median_ms"] <= 200))

    if "ov_plain_off" in r:
        for kind, label in [("plain", "plain link"), ("role", "role link"),
                            ("cookie", "plain link + session cookie")]:
            on, off = r[f"ov_{kind}_on"], r[f"ov_{kind}_off"]
            ratios = sorted(a["rps"] / b["rps"] for a, b in zip(on, off))
            p99s = sorted(a["p99_us"] / b["p99_us"] for a, b in zip(on, off))
            row(f"Fleet member (Redis up) with metrics on vs as shipped, {label} (loaded at "
                "once, wrk -t1 -c32 each)",
                f"{med([x['rps'] for x in on]):,.0f} req/s (as shipped: "
                f"{med([x['rps'] for x in off]):,.0f}); p99 {ms(med([x['p99_us'] for x in on]))} ms "
                f"(as shipped: {ms(med([x['p99_us'] for x in off]))} ms, ratio {med(p99s):.2f}×)",
                "", f"{med(ratios):.2f}× ({ratios[0]:.2f}–{ratios[-1]:.2f})", "≥ 0.95× as shipped",
                met(med(ratios) >= 0.95))

    if "brands" in r:
        b = one("brands")
        per_brand = (b["rss_start_kb"] - b["rss_none_kb"]) * 1024 / b["brands"]
        with_pages = (b["rss_pages_kb"] - b["rss_none_kb"]) * 1024 / b["brands"]
        row(f"Brands: memory per brand ({b['brands']:,} brands on one instance, catalog)",
            f"{per_brand / 1024:.1f} KiB at start, {with_pages / 1024:.1f} KiB with a page "
            f"of each cached; RSS {b['rss_none_kb'] / 1024:.1f} MiB without brands → "
            f"{b['rss_start_kb'] / 1024:.1f} → {b['rss_pages_kb'] / 1024:.1f} MiB; start-up "
            f"{b['startup_ms']} ms", "", "", "(measured)", "")

    if "fleet" in r:
        f = one("fleet")
        inv, calls, ref, cmd = f["invalidation"], f["calls"], f["refresh"], f["commands"]
        row(f"Fleet (3 instances, one Redis): a change through one instance's admin API "
            f"seen on the others, delay p50 / p99 ({inv['n']} samples)",
            f"{inv['p50_ms']:.1f} / {inv['p99_ms']:.1f} ms (max {inv['max_ms']:.1f})", "", "",
            "≤ 250 ms", met(inv["p99_ms"] <= 250))
        row(f"Fleet: vendor detail calls per room per TTL ({calls['rooms']} rooms served by "
            f"{calls['instances']} instances, {calls['seconds']:.0f} s)",
            f"{calls['per_room_per_ttl']:.2f} ({calls['detail_calls']} calls, "
            f"{calls['views']:,} pages)", "", "", "about 1", met(calls["per_room_per_ttl"] <= 1.5))
        row(f"Fleet: vendor sign-ins for {ref['requests']} concurrent 401s over 3 instances",
            f"{ref['sign_ins']} ({', '.join(f'{n}× {s}' for s, n in sorted(ref['statuses'].items()))})",
            "", "", "exactly 1", met(ref["sign_ins"] == 1))
        row(f"Fleet: Redis commands per {cmd['views']:,} cached page views",
            cmd["redis_commands"], "", "", "0", met(cmd["redis_commands"] == 0))
        up, down = f["page_up"], f["page_down"]
        row("Fleet: cached page with Redis up / down (wrk -t2 -c64)",
            f"{up['rps']:,.0f} / {down['rps']:,.0f} req/s; p99 {ms(up['p99_us'])} / "
            f"{ms(down['p99_us'])} ms", "", f"{down['rps'] / up['rps']:.2f}× of up", "", "")

    print("| figure | roomgate | nginx | ratio | target | target met |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    extra = f"; page {one('page_bytes'):,} bytes" if "page_bytes" in r else ""
    print(f"\n{caption}{extra}.")


if __name__ == "__main__":
    main()
