"""Notifications of ``--wait --notify``: when the jobs have all ended, and when the failure
rate of the ended jobs passes the profile's threshold (once).

Two ways, each used where available: a desktop notification (``notify-send``, from
libnotify, when it is on the PATH) and a JSON POST to the profile's webhook URL
(``gb2_config notify --webhook URL``): ``{"text", "event", "selection", "counts",
"failure_rate"}``, which Mattermost and Slack incoming webhooks show as a message. A
notification that cannot be delivered is a warning, never a failure of the command.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FAILED = ("Failed", "Stalled", "Killed")
ENDED = ("Done", "Completed", *FAILED)
TIMEOUT = 10.0


def failure_rate(counts: dict[str, int]) -> tuple[int, int, float | None]:
    """(failed, ended, failed / ended) of a count per status."""
    failed = sum(counts.get(s, 0) for s in FAILED)
    ended = sum(counts.get(s, 0) for s in ENDED)
    return failed, ended, (failed / ended if ended else None)


@dataclass
class Notifier:
    what: str  # "project P", "12 jobs": what the message is about
    webhook: str | None
    threshold: float
    warn: Callable[[str], None]
    desktop: str | None = field(default_factory=lambda: shutil.which("notify-send"))
    sent: list[dict[str, Any]] = field(default_factory=list)
    _rate_sent: bool = False

    @property
    def available(self) -> bool:
        return bool(self.webhook or self.desktop)

    def update(self, counts: dict[str, int]) -> None:
        failed, ended, rate = failure_rate(counts)
        if not self._rate_sent and rate is not None and failed and rate >= self.threshold:
            self._rate_sent = True
            self.send("failure_rate", f"{self.what}: {failed} of {ended} ended jobs failed ({rate * 100:.0f} %, "
                      f"over {self.threshold * 100:.0f} %)", counts)  # fmt: skip

    def ended(self, counts: dict[str, int], *, timed_out: bool = False) -> None:
        shown = ", ".join(f"{s}: {n}" for s, n in sorted(counts.items()) if n)
        if timed_out:
            self.send("timeout", f"{self.what}: still running after --timeout ({shown})", counts)
        else:
            self.send("ended", f"{self.what} ended ({shown})", counts)

    def send(self, event: str, text: str, counts: dict[str, int]) -> None:
        record: dict[str, Any] = {"event": event, "text": text, "desktop": None, "webhook": None}
        if self.desktop:
            try:
                done = subprocess.run([self.desktop, "--app-name=gb2", "gb2", text], capture_output=True,
                                      timeout=TIMEOUT, check=False)  # fmt: skip
                record["desktop"] = done.returncode == 0
                if done.returncode:
                    self.warn(f"notify-send failed: {done.stderr.decode(errors='replace').strip() or done.returncode}")
            except (OSError, subprocess.SubprocessError) as exc:
                record["desktop"] = False
                self.warn(f"notify-send failed: {exc}")
        if self.webhook:
            record["webhook"] = self._post(event, text, counts)
        self.sent.append(record)

    def _post(self, event: str, text: str, counts: dict[str, int]) -> int | None:
        import httpx

        body = {"text": f"gb2: {text}", "event": event, "selection": self.what, "counts": counts,
                "failure_rate": failure_rate(counts)[2]}  # fmt: skip
        try:
            response = httpx.post(self.webhook or "", json=body, timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            self.warn(f"the notification webhook could not be reached: {exc}")
            return None
        if response.status_code >= 400:
            self.warn(f"the notification webhook answered {response.status_code}")
        return response.status_code


def notifier_for(session: Any, what: str, warn: Callable[[str], None]) -> Notifier:
    """The active profile's notifier; a warning when it has nowhere to send."""
    profile = session.profile
    notifier = Notifier(what, profile.notify_webhook, float(profile.notify_failure_rate), warn)
    if not notifier.available:
        warn("--notify: no notify-send on this machine and no webhook in the profile "
             "(gb2_config notify --webhook URL): nothing will be sent")  # fmt: skip
    return notifier
