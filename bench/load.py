#!/usr/bin/env python3
"""Small load tools for bench/run that wrk cannot do (standard library only).

  load.py crowd URL [-n 1000]
      Opens n connections first, then sends one GET on each at the same moment (a crowd
      arriving at a cold room); prints the statuses and latency percentiles as JSON.
  load.py statuses BASE_URL PATH...     (or - to read paths from stdin)
      GETs each path once, in order, over one keep-alive connection; prints the count of
      each status as JSON.
  load.py startup --port P [--runs 5] -- COMMAND...
      Starts COMMAND, waits for the first 200 on http://127.0.0.1:P/healthz, stops it with
      SIGTERM; prints each run's time in milliseconds and their median as JSON.
"""

import argparse
import asyncio
import http.client
import json
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


async def crowd(url, n, connect_concurrency=100, timeout=60.0):
    u = urllib.parse.urlsplit(url)
    host, port = u.hostname, u.port or 80
    path = (u.path or "/") + (f"?{u.query}" if u.query else "")
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               "Connection: close\r\n\r\n").encode()
    gate = asyncio.Semaphore(connect_concurrency)

    async def connect():
        async with gate:
            return await asyncio.wait_for(asyncio.open_connection(host, port), timeout)

    # Everyone is connected before anyone asks, so the requests really arrive together.
    conns = await asyncio.gather(*(connect() for _ in range(n)))
    go = asyncio.Event()

    async def one(reader, writer):
        await go.wait()
        started = time.perf_counter()
        try:
            writer.write(request)
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), timeout)
            elapsed = time.perf_counter() - started
            status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "bad"
        except (OSError, asyncio.TimeoutError) as e:
            elapsed, status = time.perf_counter() - started, type(e).__name__
        finally:
            writer.close()
        return status, elapsed

    tasks = [asyncio.create_task(one(r, w)) for r, w in conns]
    began = time.perf_counter()
    go.set()
    results = await asyncio.gather(*tasks)
    wall = time.perf_counter() - began
    statuses = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = sorted(e * 1000 for _, e in results)
    return {
        "requests": n,
        "statuses": statuses,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(latencies[-1], 1),
        "wall_ms": round(wall * 1000, 1),
    }


def statuses(base, paths):
    u = urllib.parse.urlsplit(base)
    counts = {}
    conn = None
    for path in paths:
        for attempt in (1, 2):
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                status = str(response.status)
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
                break
            except (OSError, http.client.HTTPException) as e:
                if conn is not None:
                    conn.close()
                conn = None
                status = type(e).__name__
        counts[status] = counts.get(status, 0) + 1
    if conn is not None:
        conn.close()
    return counts


def healthy(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def startup(port, runs, command, limit_s=20.0):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        try:
            while True:
                elapsed = time.perf_counter() - started
                if healthy(port):
                    times.append(round(elapsed * 1000, 1))
                    break
                if proc.poll() is not None:
                    sys.exit(f"startup: the command exited with status {proc.returncode}")
                if elapsed > limit_s:
                    sys.exit(f"startup: no 200 on /healthz within {limit_s} s")
                time.sleep(0.001)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return {"runs_ms": times, "median_ms": statistics.median(times)}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="tool", required=True)
    c = sub.add_parser("crowd")
    c.add_argument("url")
    c.add_argument("-n", type=int, default=1000)
    s = sub.add_parser("statuses")
    s.add_argument("base")
    s.add_argument("paths", nargs="+")
    st = sub.add_parser("startup")
    st.add_argument("--port", type=int, required=True)
    st.add_argument("--runs", type=int, default=5)
    st.add_argument("command", nargs="+")
    args = parser.parse_args()

    if args.tool == "crowd":
        result = asyncio.run(crowd(args.url, args.n))
    elif args.tool == "statuses":
        paths = sys.stdin.read().split() if args.paths == ["-"] else args.paths
        result = statuses(args.base, paths)
    else:
        result = startup(args.port, args.runs, args.command)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
