"""The one place handlers read the time, so the simulator can run them on its
own clock (Wait states there take no real time)."""

from datetime import UTC, datetime


def _system_now() -> datetime:
    return datetime.now(UTC)


now_fn = _system_now


def now() -> datetime:
    return now_fn()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
