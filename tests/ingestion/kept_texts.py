"""Every provider text StockDesk keeps, and how to make the fake answer with one.

The key-leak tests put the API key at offsets of each text and look for any
4-character piece of it wherever the text can end up. `cut` is how many characters
of the text the code keeps (None: all of it), so tests can aim at the cut.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fakes.alphavantage import SAMPLE_KEY, FakeResponse, load_body
from tests.ingestion.provider_helpers import IBM_ROWS

# Two keys of the real shape (16 upper-case letters and digits), neither of whose
# 4-character pieces occurs in the texts (tests check that). KEY has a letter in
# every piece, so timestamps and ids in Job rows cannot match one by chance;
# DIGIT_KEY starts and ends with four digits, for code that picks numbers out of a
# text (a count next to the key would take its digits).
KEY = "Q7XK3ZRW9VJT4MP8"
DIGIT_KEY = "5820QZXWKJRV7391"
FRAGMENT = 4

# The code's cuts (ingestion/providers): body_start 200, content type 100, the
# answer's keys 80, a date key, a bad value and "Last Refreshed" 40.
BODY_CUT, CONTENT_TYPE_CUT, KEY_NAME_CUT, FIELD_CUT = 200, 100, 80, 40


def fragments(key: str) -> set[str]:
    return {key[i : i + FRAGMENT] for i in range(len(key) - FRAGMENT + 1)}


def leaks(key: str, texts: list[str]) -> list[str]:
    """The pieces of key found in any of texts."""
    return sorted(
        {piece for piece in fragments(key) for text in texts if piece in text}
    )


def with_key(text: str, key: str, offset: int) -> str:
    return text[:offset] + key + text[offset:]


def leaves(value: Any) -> list[str]:
    """Every string inside an error's details (nested dicts and lists included)."""
    if isinstance(value, dict):
        return [text for item in value.items() for text in leaves(list(item))]
    if isinstance(value, list | tuple):
        return [text for item in value for text in leaves(item)]
    return [str(value)]


@dataclass(frozen=True)
class KeptText:
    name: str
    text: str
    # The fake's answer(s) carrying the text: a status-200 JSON body (payload) or
    # whatever transport-level answer (respond).
    payload: Callable[[str], dict[str, Any]] | None = None
    respond: Callable[[str], list[FakeResponse]] | None = None
    cut: int | None = None
    # False for a text the code must not keep at all.
    kept: bool = True

    def responses(self, text: str) -> list[FakeResponse]:
        if self.respond is not None:
            return self.respond(text)
        assert self.payload is not None
        return [FakeResponse.json_body(self.payload(text))]

    def offsets_at_the_cut(self, key: str) -> list[int]:
        """From the whole key just inside the cut to all of it past the cut; every
        offset of a text kept whole or shorter than the cut, a few of one not kept."""
        if not self.kept:
            return [0, len(self.text) // 2, len(self.text)]
        if self.cut is None or self.cut > len(self.text):
            return list(range(len(self.text) + 1))
        first = max(0, self.cut - len(key) - 1)
        return list(range(first, min(len(self.text), self.cut + 1) + 1))


def _sample_text(name: str) -> tuple[str, str]:
    """(the body's one key, its text) of a stored notice or error sample."""
    ((field, text),) = json.loads(load_body(name)).items()
    return field, text


def _notice(name: str, sample: str) -> KeptText:
    field, text = _sample_text(sample)
    # The key-echo sample is kept without its key: an offset puts ours back there.
    return KeptText(name, text.replace(SAMPLE_KEY, ""), payload=lambda t: {field: t})


def _series_payload(
    rows: dict[str, Any], refreshed: str = "2024-06-07"
) -> dict[str, Any]:
    return {
        "Meta Data": {
            "1. Information": "Daily Prices (open, high, low, close) and Volumes",
            "2. Symbol": "IBM",
            "3. Last Refreshed": refreshed,
            "4. Output Size": "Compact",
            "5. Time Zone": "US/Eastern",
        },
        "Time Series (Daily)": rows,
    }


def _bad_open(text: str) -> dict[str, Any]:
    rows = json.loads(json.dumps(IBM_ROWS))
    rows["2024-06-05"]["1. open"] = text
    return _series_payload(rows)


HTML_503 = (
    "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body>"
    "<h1>Service Unavailable</h1><p>The server is temporarily unable to service your "
    "request due to maintenance downtime or capacity problems. Please try again "
    "later.</p><hr><address>nginx</address></body></html>"
)
HTML_404 = HTML_503.replace("503 Service Unavailable", "404 Not Found").replace(
    "Service Unavailable", "Not Found"
)

NOTICES = [
    _notice("error-invalid-key", "error_invalid_apikey.json"),
    _notice("error-invalid-call", "error_invalid_symbol.json"),
    _notice("error-unknown-function", "error_unknown_function.json"),
    _notice("daily-limit", "information_rate_limit_daily.json"),
    _notice("daily-limit-key-echo", "information_rate_limit_daily_key_echo.json"),
    _notice("burst-limit", "information_burst_limit.json"),
    _notice("minute-limit-note", "note_rate_limit_legacy.json"),
    _notice("premium-endpoint", "information_premium_endpoint.json"),
    _notice("premium-outputsize", "information_premium_outputsize_full.json"),
    _notice("demo-key", "information_demo_key.json"),
    KeptText(
        "other-notice",
        "Alpha Vantage will be down for maintenance on Sunday from 02:00 to 04:00 "
        "US/Eastern; requests made then will fail.",
        payload=lambda t: {"Information": t},
    ),
]

SERIES = [
    KeptText(
        "answer-key-names",
        "Time Series (Daily) - section renamed while the service migrates to its "
        "new response layout",
        payload=lambda t: {"Meta Data": {"2. Symbol": "IBM"}, t: {}},
        cut=KEY_NAME_CUT,
    ),
    KeptText(
        "bad-date-key",
        "2024-06-05 (provisional, subject to the exchange's end-of-day review)",
        payload=lambda t: _series_payload({t: IBM_ROWS["2024-06-05"]}),
        cut=FIELD_CUT,
    ),
    KeptText(
        "bad-value",
        "n/a - the open was withheld by the exchange pending review",
        payload=_bad_open,
        cut=FIELD_CUT,
    ),
    KeptText(
        "last-refreshed-note",
        "2024-06-07 16:00:00 (US/Eastern; intraday snapshot, revised at the close)",
        payload=lambda t: _series_payload(IBM_ROWS, refreshed=t),
        cut=FIELD_CUT,
    ),
]

TRANSPORT = [
    KeptText(
        "html-200-long",
        HTML_503,
        respond=lambda t: [FakeResponse(body=t, content_type="text/html")],
        cut=BODY_CUT,
    ),
    KeptText(
        "text-200-short",
        "Service temporarily unavailable, try again later.",
        respond=lambda t: [FakeResponse(body=t, content_type="text/plain")],
        cut=BODY_CUT,
    ),
    KeptText(
        "json-not-an-object",
        json.dumps(
            [
                "Thank you for using Alpha Vantage! This answer is a list because the "
                "request was routed to the legacy batch endpoint, which returns one "
                "entry per symbol asked for; please query TIME_SERIES_DAILY directly."
            ]
        ),
        respond=lambda t: [FakeResponse(body=t)],
        cut=BODY_CUT,
    ),
    KeptText(
        "http-404-page",
        HTML_404,
        respond=lambda t: [FakeResponse(404, t, "text/html")],
        cut=BODY_CUT,
    ),
    KeptText(
        "http-404-short",
        "Not Found: no such query route.",
        respond=lambda t: [FakeResponse(404, t, "text/plain")],
        cut=BODY_CUT,
    ),
    KeptText(
        "content-type",
        'text/html; charset="utf-8"; profile="https://status.example.com/maintenance/'
        'alpha-vantage/query-gateway/notice"',
        respond=lambda t: [FakeResponse(body="<p>maintenance</p>", content_type=t)],
        cut=CONTENT_TYPE_CUT,
    ),
    KeptText(
        # Not kept at all (a 5xx answer is retried, then reported by status only),
        # and checked to stay that way.
        "http-503-page",
        HTML_503,
        respond=lambda t: [FakeResponse(503, t, "text/html")] * 3,
        kept=False,
    ),
]

ALL = [*NOTICES, *SERIES, *TRANSPORT]
