"""While PDF reports render, /healthz must keep answering: a check against a server.

Starts REQUESTS concurrent GET /report/<SYMBOL>/?format=pdf (Bearer TOKEN) and, until
they have all ended, asks /healthz every 0.1 s. Passes (exit 0) when every health
check answered 200 within --healthz-budget seconds, and every report answered
either a PDF or the renderer's 503 JSON (code renderer_busy) with Retry-After.
Prints one line of figures. Loopback only; every request has a timeout.

Usage: python scripts/healthz_under_pdf_load.py BASE_URL SYMBOL TOKEN [--requests 12]
(scripts/prod-smoke.sh runs it against gunicorn with production settings.)
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

# As behind the load balancer: the app redirects plain HTTP to HTTPS otherwise.
PROXY = {"X-Forwarded-Proto": "https"}


def get(url: str, headers: dict[str, str], timeout: float) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers={**PROXY, **headers})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base_url")
    parser.add_argument("symbol")
    parser.add_argument("token")
    parser.add_argument("--requests", type=int, default=12)
    parser.add_argument("--healthz-budget", type=float, default=1.0)
    parser.add_argument("--report-timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    base = urlsplit(args.base_url)
    if base.scheme != "http" or base.hostname not in {"127.0.0.1", "localhost", "::1"}:
        parser.error("http:// on a loopback address only")

    report_url = f"{args.base_url}/report/{args.symbol}/?format=pdf"
    auth = {"Authorization": f"Bearer {args.token}"}
    outcomes: list[tuple[int, dict, bytes, float]] = []
    lock = threading.Lock()

    def report() -> None:
        started = time.monotonic()
        try:
            status, headers, body = get(report_url, auth, args.report_timeout)
        except OSError as exc:
            status, headers, body = 0, {}, repr(exc).encode()
        with lock:
            outcomes.append((status, headers, body, time.monotonic() - started))

    threads = [threading.Thread(target=report) for _ in range(args.requests)]
    for thread in threads:
        thread.start()
    health: list[tuple[int, float]] = []
    while any(thread.is_alive() for thread in threads):
        started = time.monotonic()
        try:
            status = get(f"{args.base_url}/healthz", {}, args.healthz_budget * 5)[0]
        except OSError:
            status = 0
        health.append((status, time.monotonic() - started))
        time.sleep(0.1)
    for thread in threads:
        thread.join()

    problems = []
    pdfs = [o for o in outcomes if o[0] == 200 and o[2].startswith(b"%PDF")]
    busy = []
    for status, headers, body, _ in outcomes:
        if status == 200 and body.startswith(b"%PDF"):
            continue
        code = ""
        if status == 503:
            try:
                code = json.loads(body)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = ""
        if status == 503 and code == "renderer_busy" and headers.get("Retry-After"):
            busy.append(status)
        else:
            problems.append(f"report answered {status}: {body[:200]!r}")
    slow = [s for s in health if s[0] != 200 or s[1] > args.healthz_budget]
    if slow:
        problems.append(f"{len(slow)} health checks failed or slow: {slow[:5]}")
    if not pdfs:
        problems.append("no report rendered")
    if not health:
        problems.append("the reports ended before a health check was made")
    worst = max((seconds for _, seconds in health), default=0.0)
    longest = max((o[3] for o in outcomes), default=0.0)
    print(
        f"{args.requests} concurrent PDF requests: {len(pdfs)} PDFs, {len(busy)} busy "
        f"(503 + Retry-After), longest {longest:.1f}s; {len(health)} /healthz "
        f"meanwhile, slowest {worst * 1000:.0f} ms (budget "
        f"{args.healthz_budget * 1000:.0f} ms)"
    )
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
