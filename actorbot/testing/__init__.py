"""A fake Telegram Bot API server for tests, examples and benchmarks.

``FakeBotApi`` is a real threaded HTTP server on ``127.0.0.1``: long polling with offsets,
the common send/edit/answer methods with realistic results, flood control, fault
injection, webhook delivery and a record of every call. Point any Bot API client at
``base_url`` instead of ``https://api.telegram.org``::

    from actorbot.testing import FakeBotApi, Fault

    with FakeBotApi() as tg:                       # token "123456:TEST-token"
        tg.inject_command(42, "/start")            # a user writes to the bot
        run_my_bot(token=tg.token, base_url=tg.base_url)
        tg.wait_for_calls("sendMessage", 1, timeout=5)
        assert tg.sent_texts(42) == ["Welcome!"]
        tg.add_fault(Fault(method="sendMessage", status=502, times=1))  # nginx page once

The pytest plugin (entry point ``actorbot``) provides it as the ``fake_telegram`` fixture.
"""

from actorbot.testing._errors import FakeApiError
from actorbot.testing._fake import DEFAULT_TOKEN, FakeBotApi
from actorbot.testing._faults import Fault
from actorbot.testing._flood import FloodLimits
from actorbot.testing._initdata import sign_init_data
from actorbot.testing._inject import DEFAULT_USER_ID
from actorbot.testing._state import RecordedCall

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USER_ID",
    "FakeApiError",
    "FakeBotApi",
    "Fault",
    "FloodLimits",
    "RecordedCall",
    "sign_init_data",
]
