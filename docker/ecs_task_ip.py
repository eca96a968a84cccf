"""Print this ECS task's private IPv4 address (from the task metadata endpoint v4).

The load balancer's health checks send the task's address as the Host header, so the
entry point adds it to ALLOWED_HOSTS. Prints nothing and exits 1 outside ECS.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request


def task_ip() -> str | None:
    base = os.environ.get("ECS_CONTAINER_METADATA_URI_V4", "")
    if not base.startswith("http://"):
        return None
    with urllib.request.urlopen(base, timeout=2) as response:  # noqa: S310 - ECS link-local URL
        metadata = json.load(response)
    for network in metadata.get("Networks", []):
        for address in network.get("IPv4Addresses", []):
            return address
    return None


if __name__ == "__main__":
    try:
        ip = task_ip()
    except (OSError, ValueError):
        ip = None
    if not ip:
        sys.exit(1)
    print(ip)
