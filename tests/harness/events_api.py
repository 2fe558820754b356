"""EventBridge's TestEventPattern, which moto answers with an empty body.

AWS documents the answer as `{"Result": true|false}`: whether the event matches the pattern. The match is
moto's own (`EventPattern`, the matcher it routes PutEvents with), so a pattern that TestEventPattern
accepts here is one moto's rules would fire on too.
"""

from __future__ import annotations

import json

from moto.events.models import EventPattern
from moto.events.responses import EventsHandler


def _test_event_pattern(self: EventsHandler) -> str:
    pattern = EventPattern.load(self._get_param("EventPattern"))
    event = json.loads(self._get_param("Event"))
    return json.dumps({"Result": pattern.matches_event(event)})


def install() -> None:
    """Answer TestEventPattern as documented (idempotent)."""
    EventsHandler.test_event_pattern = _test_event_pattern  # type: ignore[method-assign,assignment]
