"""Redis restarted under a running bot (no persistence: every key is gone): the intake
keeps its offset until Redis takes the batch, workers take their partitions again, and
nothing is lost. A redis-server of its own, so the session's is not disturbed."""

from __future__ import annotations

import subprocess

from actorbot import Polling
from actorbot.cluster import Intake
from actorbot.testing import FakeBotApi
from tests.cluster.test_smoke import CLUSTER, worker
from tests.helpers import eventually
from tests.redisd import RedisServer


def restart(server: RedisServer) -> None:
    """The same port again, empty (``RedisServer`` has no restart of its own)."""
    port, folder = server.port, server._dir
    assert folder is not None
    server._kill()
    server.proc = subprocess.Popen(
        [server.binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", folder.name], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    eventually(server.ping, 10, "redis-server back")


def test_a_redis_restart_loses_nothing(
    redis_server: RedisServer, tg: FakeBotApi, no_thread_left: None
) -> None:
    server = RedisServer().start()
    try:
        intake = Intake(tg.token, redis=server.url, cluster=CLUSTER,
                        intake=Polling(timeout=1), connection=tg.connection).start()
        w = worker(tg, server.url).start()
        try:
            for i in range(5):
                tg.inject_message(1, f"a{i}")
            eventually(lambda: len(tg.sent_texts(1)) == 5, 10, "5 answers")
            server._kill()
            for i in range(5):
                tg.inject_message(1, f"b{i}")
            eventually(lambda: w.stats()["cluster_redis_errors"] > 0, 10, "the worker noticed")
            assert intake.engine is not None
            engine = intake.engine
            eventually(lambda: engine.stats()["poll_journal_failures"] > 0, 10,
                       "the intake could not append")
            restart(server)
            eventually(lambda: len(tg.sent_texts(1)) == 10, 30, "10 answers")
        finally:
            w.stop()
            intake.stop()
    finally:
        server.stop()
    assert tg.sent_texts(1) == [f"{p}{i}" for p in "ab" for i in range(5)]
