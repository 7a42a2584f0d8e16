#!/usr/bin/env python3
"""Fleet figures for bench/run's `fleet` section (standard library only; Redis is read
with redis-cli).

  fleet.py invalidation --admin-token T --key K URL0 URL1 URL2 [-n 40]
      Renames room K through the admin API of the first instance, then polls the room's
      page on the others until the new name shows; prints the delays (ms) as JSON.
  fleet.py refresh --vendor V URL... [-n 100]
      Revokes every vendor token (the fake's revoke_tokens), then sends n requests for rooms
      no instance has cached, spread over the instances, all at once; prints the sign-in
      calls the fleet made (login + refresh) and the statuses.
  fleet.py commands --redis-port P URL [-n 1000]
      Counts the commands Redis processed while URL (a cached page) was served n times.
  fleet.py calls --vendor V --ttl S --seconds D --rooms R URL...
      Serves R rooms round-robin over the instances for D seconds; prints the vendor's
      detail calls per room per TTL for the whole fleet.
"""

import argparse
import asyncio
import http.client
import json
import statistics
import subprocess
import time
import urllib.parse
import urllib.request


def percentile(values, p):
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


def connection(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10)


def get(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    return r.status, r.read()


def vendor_stats(vendor):
    with urllib.request.urlopen(f"{vendor}/__stats") as r:
        return json.load(r)


def vendor_control(vendor, change):
    req = urllib.request.Request(f"{vendor}/__control", data=json.dumps(change).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


def invalidation(a):
    admin = connection(a.urls[0])
    others = [connection(u) for u in a.urls[1:]]
    page = f"/room/{a.key}"
    for c in others:  # cached everywhere first
        assert get(c, page)[0] == 200
    delays = []
    for i in range(a.n):
        name = f"Renamed {i} {time.time_ns()}"
        body = json.dumps({"name": name})
        admin.request("PUT", f"/admin/api/rooms/{a.key}", body=body,
                      headers={"Authorization": f"Bearer {a.admin_token}",
                               "Content-Type": "application/json"})
        r = admin.getresponse()
        r.read()
        assert r.status == 200, r.status
        changed = time.perf_counter()
        for c in others:
            while True:
                status, html = get(c, page)
                if name.encode() in html:
                    break
                if time.perf_counter() - changed > 5:
                    raise SystemExit(f"change {i} not seen within 5 s")
            delays.append((time.perf_counter() - changed) * 1000)
        time.sleep(0.05)
    print(json.dumps({"n": len(delays), "p50_ms": round(statistics.median(delays), 1),
                      "p99_ms": round(percentile(delays, 99), 1),
                      "max_ms": round(max(delays), 1)}))


async def one_get(url):
    u = urllib.parse.urlsplit(url)
    reader, writer = await asyncio.open_connection(u.hostname, u.port)
    writer.write(f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    line = await reader.readline()
    await reader.read()
    writer.close()
    return int(line.split()[1])


def refresh(a):
    before = vendor_stats(a.vendor)
    vendor_control(a.vendor, {"revoke_tokens": True})
    # Rooms far from any warmed before (the fake has a.rooms rooms; take the last ones).
    urls = [f"{a.urls[i % len(a.urls)]}/room/{key_of(a.rooms - 1 - i)}" for i in range(a.n)]

    async def all_at_once():
        return await asyncio.gather(*(one_get(u) for u in urls))

    statuses = asyncio.run(all_at_once())
    after = vendor_stats(a.vendor)
    sign_ins = sum(after[k] - before[k] for k in ("login", "oauth_refresh"))
    counts = {}
    for s in statuses:
        counts[str(s)] = counts.get(str(s), 0) + 1
    print(json.dumps({"requests": a.n, "sign_ins": sign_ins, "statuses": counts}))


def key_of(i):
    return f"{100 + i // 1000000:03d}-{i // 1000 % 1000:03d}-{i % 1000:03d}"


def redis_commands(port):
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO", "stats"], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("total_commands_processed:"):
            return int(line.split(":")[1])
    raise SystemExit("no total_commands_processed in INFO stats")


def commands(a):
    c = connection(a.url)
    path = urllib.parse.urlsplit(a.url).path
    assert get(c, path)[0] == 200  # cached from here on
    time.sleep(0.5)  # let any write-behind of the first view finish
    before = redis_commands(a.redis_port)
    for _ in range(a.n):
        assert get(c, path)[0] == 200
    after = redis_commands(a.redis_port)
    # The second INFO counts itself once.
    print(json.dumps({"views": a.n, "redis_commands": after - before - 1}))


def calls(a):
    conns = [connection(u) for u in a.urls]
    keys = [key_of(i) for i in range(a.rooms)]
    for c in conns:  # every instance has seen every room once
        for k in keys:
            assert get(c, f"/room/{k}")[0] == 200
    before = vendor_stats(a.vendor)
    started = time.perf_counter()
    views = 0
    while time.perf_counter() - started < a.seconds:
        for k in keys:
            c = conns[views % len(conns)]
            get(c, f"/room/{k}")
            views += 1
    elapsed = time.perf_counter() - started
    after = vendor_stats(a.vendor)
    detail = after["detail"]["total"] - before["detail"]["total"]
    ttls = elapsed / a.ttl
    print(json.dumps({"instances": len(conns), "rooms": a.rooms, "views": views,
                      "seconds": round(elapsed, 1), "detail_calls": detail,
                      "per_room_per_ttl": round(detail / (a.rooms * ttls), 2)}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("invalidation")
    s.add_argument("--admin-token", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("-n", type=int, default=40)
    s.add_argument("urls", nargs="+")
    s = sub.add_parser("refresh")
    s.add_argument("--vendor", required=True)
    s.add_argument("--rooms", type=int, default=1000)
    s.add_argument("-n", type=int, default=100)
    s.add_argument("urls", nargs="+")
    s = sub.add_parser("commands")
    s.add_argument("--redis-port", type=int, required=True)
    s.add_argument("-n", type=int, default=1000)
    s.add_argument("url")
    s = sub.add_parser("calls")
    s.add_argument("--vendor", required=True)
    s.add_argument("--ttl", type=float, required=True)
    s.add_argument("--seconds", type=float, default=20)
    s.add_argument("--rooms", type=int, default=20)
    s.add_argument("urls", nargs="+")
    a = p.parse_args()
    {"invalidation": invalidation, "refresh": refresh, "commands": commands,
     "calls": calls}[a.cmd](a)


if __name__ == "__main__":
    main()
