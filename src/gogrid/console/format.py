"""Small formatting helpers shared by the panes (numbers, durations, colours, gauges)."""

from __future__ import annotations

import zlib

STATUS_STYLE = {
    "running": "bold cyan",
    "pending": "dim",
    "succeeded": "green",
    "ok": "green",
    "failed": "bold red",
    "error": "bold red",
    "timeout": "bold red",
    "invalid": "red",
    "denied": "red",
    "cancelled": "yellow",
    "killed": "bold magenta",
    "budget_exceeded": "bold yellow",
    "interrupted": "yellow",
}

SPEAKER_COLOURS = ("cyan", "magenta", "green", "yellow", "bright_blue", "bright_red", "bright_green", "orange1", "orchid", "turquoise2")


def speaker_colour(name: str) -> str:
    return SPEAKER_COLOURS[zlib.crc32(name.encode()) % len(SPEAKER_COLOURS)]


def status_style(status: str) -> str:
    return STATUS_STYLE.get(status, "")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(seconds), 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m"


def tokens(n: int) -> str:
    if n < 10_000:
        return str(n)
    if n < 10_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.1f}M"


def usd(amount: float | None, unknown: bool = False) -> str:
    if amount is None:
        return "unknown"
    text = f"${amount:.4f}" if amount < 10 else f"${amount:,.2f}"
    return text + ("+?" if unknown else "")


def amount(value: float | None, metric: str) -> str:
    if value is None:
        return "-"
    if metric == "usd":
        return usd(value)
    return tokens(int(value))


def gauge(fraction: float | None, width: int = 16) -> str:
    if fraction is None:
        return "·" * width
    f = max(0.0, min(1.0, fraction))
    full = round(f * width)
    return "█" * full + "░" * (width - full)


def one_line(text: object, limit: int = 120) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"
