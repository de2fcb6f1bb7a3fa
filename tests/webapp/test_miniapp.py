"""The Mini App endpoint over real sockets: logins accepted and refused, client messages
ordered with the user's Telegram updates, passivation with open clients, disconnect
storms, the ask seam, the ASGI app."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from typing import Any

import pytest
from structlog.testing import capture_logs
from websockets.asyncio.client import connect

from actorbot import AccessList, Route, UserHandler
from actorbot.errors import ConfigError, NotRunning
from actorbot.routing import Ping
from actorbot.runtime import ManualClock
from actorbot.seeds import per_chat_id, per_chat_id_in, per_from_id
from actorbot.testing import FakeBotApi, sign_init_data
from actorbot.webapp import (
    CLOSE_BAD_FRAME,
    CLOSE_BANNED,
    CLOSE_LOGIN_REFUSED,
    CLOSE_LOGIN_TIMEOUT,
    CLOSE_NO_ROUTE,
    MiniApp,
)
from tests.helpers import eventually
from tests.webapp.miniapp_helpers import (
    JOURNAL,
    Recorder,
    ask,
    closed_with,
    login,
    next_frame,
    running,
    say,
)

pytestmark = pytest.mark.usefixtures("no_thread_left")


async def refused(app: MiniApp, frame: str | bytes | None, **kw: Any) -> tuple[Any, Any]:
    async with connect(app.url, **kw) as ws:
        if frame is not None:
            await ws.send(frame)
        return await closed_with(ws)


def login_frame(init_data: str) -> str:
    return json.dumps({"type": "login", "data": {"initData": init_data}})


# -- login ------------------------------------------------------------------------------------


def test_login_by_frame_query_string_or_subprotocol(tg: FakeBotApi) -> None:
    with running(tg) as (_, app):
        async def main() -> None:
            ws = await login(app, tg, 42)
            assert (await ask(ws, "hi", 1))["data"] == 1
            await ws.close()
            query = f"{app.url}?initData={_quote(sign_init_data(tg.token, 43))}"
            async with connect(query) as ws:
                assert json.loads(await ws.recv())["data"]["user"]["id"] == 43
                assert (await ask(ws, "hi", 2))["data"] == 2
            encoded = base64.urlsafe_b64encode(
                sign_init_data(tg.token, 44).encode()).decode().rstrip("=")
            async with connect(app.url, subprotocols=["actorbot", f"tma.{encoded}"]) as ws:
                assert ws.subprotocol == "actorbot"
                assert json.loads(await ws.recv())["data"]["user"]["id"] == 44
                assert (await ask(ws, "hi", 3))["data"] == 3
        asyncio.run(main())
        assert app.logins == 3


def _quote(text: str) -> str:
    from urllib.parse import quote
    return quote(text, safe="")


def test_logins_refused_with_a_clear_close_code_and_nothing_secret_logged(
    tg: FakeBotApi,
) -> None:
    good = sign_init_data(tg.token, 42)
    expired = sign_init_data(tg.token, 42, auth_date=1_000_000)
    tampered = good.replace("User+42", "User+43").replace("User%2042", "User%2043")
    assert tampered != good
    other_bot = sign_init_data("654321:OTHER-token", 42)
    cases = [
        (login_frame(expired), CLOSE_LOGIN_REFUSED, "initData refused: expired"),
        (login_frame(tampered), CLOSE_LOGIN_REFUSED, "initData refused: hash_mismatch"),
        (login_frame(other_bot), CLOSE_LOGIN_REFUSED, "initData refused: hash_mismatch"),
        (login_frame("garbage&&=="), CLOSE_LOGIN_REFUSED, "initData refused: malformed"),
        (login_frame(sign_init_data(tg.token, 7)), CLOSE_BANNED, "banned"),
        (login_frame(sign_init_data(tg.token, None)), CLOSE_LOGIN_REFUSED,
         "initData refused: no_user"),
        ("not json at all", CLOSE_LOGIN_REFUSED, None),
        (b"\x00\xff binary", CLOSE_LOGIN_REFUSED, None),
        (json.dumps({"type": "hello", "data": {}}), CLOSE_LOGIN_REFUSED, None),
        (json.dumps({"type": "login", "data": {"initData": 5}}), CLOSE_LOGIN_REFUSED, None),
        ("x" * 70_000, 1009, None),  # max_size is 64 KiB
    ]
    with running(tg, access=AccessList(banned=[7])) as (_, app), capture_logs() as logs:
        async def main() -> None:
            for frame, code, reason in cases:
                got = await refused(app, frame)
                assert got[0] == code, (frame[:40], got)
                if reason is not None:
                    assert got[1] == reason
        asyncio.run(main())
        assert app.client_count == 0
        assert app.logins == 0
    refusals = [e for e in logs if e["event"] == "webapp.login_refused"]
    assert len(refusals) == len(cases) - 1  # the oversized frame never reached us
    assert {e["reason"] for e in refusals} == {
        "expired", "hash_mismatch", "malformed", "banned", "no_user", "login_required"}
    assert [e["user_id"] for e in refusals if e["reason"] == "banned"] == [7]
    assert set().union(*(e.keys() for e in refusals)) == {"event", "log_level", "reason",
                                                           "user_id"}
    dumped = repr(logs)
    for secret in ("hash=", "auth_date", "TEST-token", "initData"):
        assert secret not in dumped


def test_a_silent_client_is_closed_at_the_login_timeout(tg: FakeBotApi) -> None:
    with running(tg, login_timeout=0.2) as (_, app):
        assert asyncio.run(refused(app, None)) == (CLOSE_LOGIN_TIMEOUT, "login timeout")
        async def main() -> None:  # the engine is unharmed
            ws = await login(app, tg, 42)
            assert (await ask(ws, "ok"))["type"] == "ok"
            await ws.close()
        asyncio.run(main())


def test_frames_after_login_garbage_oversized_or_banned_close_only_that_client(
    tg: FakeBotApi,
) -> None:
    access = AccessList()
    with running(tg, access=access) as (engine, app):
        async def main() -> None:
            witness = await login(app, tg, 1)
            for frame, code in [("{not json", CLOSE_BAD_FRAME), ("[1, 2]", CLOSE_BAD_FRAME),
                                (json.dumps({"type": 5}), CLOSE_BAD_FRAME),
                                (b"\x01\x02", CLOSE_BAD_FRAME), ("y" * 70_000, 1009)]:
                ws = await login(app, tg, 2)
                await ws.send(frame)
                assert (await closed_with(ws))[0] == code
            ws = await login(app, tg, 3)
            access.ban(3)
            await ws.send(json.dumps({"type": "hi"}))
            assert (await closed_with(ws)) == (CLOSE_BANNED, "banned")
            assert (await ask(witness, "still", "here"))["data"] == "here"
            await witness.close()
        asyncio.run(main())
        JOURNAL.wait(lambda ev: len([e for e in ev.get(2, []) if e[0] == "disconnected"]) == 5)
        assert [e[0] for e in JOURNAL.of(3)] == ["connected", "disconnected"]
        assert engine.stats()["failed"] == 0


def test_a_user_no_route_gives_a_seed_is_refused(tg: FakeBotApi) -> None:
    routes = [Route(per_chat_id_in({-100}), Recorder, name="group")]
    with running(tg, routes=routes) as (_, app):
        got = asyncio.run(refused(app, login_frame(sign_init_data(tg.token, 42))))
        assert got == (CLOSE_NO_ROUTE, "no handler for this user")


# -- routing and order -----------------------------------------------------------------------


def test_client_messages_and_updates_reach_one_handler_in_order(tg: FakeBotApi) -> None:
    with running(tg) as (engine, app):
        async def main() -> None:
            ws = await login(app, tg, 42)
            handler = None
            for i in range(1, 21):
                say(engine, 42, f"tg {i}")
                pushed = await next_frame(ws, "tg")  # the handler saw update i ...
                assert pushed == {"text": f"tg {i}", "seen": 2 * i - 1}
                answer = await ask(ws, "set", i)     # ... and then this, right after it
                assert answer["seen"] == 2 * i
                handler = handler or answer["handler"]
                assert answer["handler"] == handler  # the same actor all along
            # back to back: answered in order, one at a time
            for i in range(200):
                await ws.send(json.dumps({"type": "set", "data": i}))
            answers = [await next_frame(ws, "answer") for _ in range(200)]
            assert [a["data"] for a in answers] == list(range(200))
            assert [a["seen"] for a in answers] == list(range(41, 241))
            say(engine, 42, "what now?")
            await next_frame(ws, "tg")
            await ws.close()
        asyncio.run(main())
        JOURNAL.wait(lambda ev: ev.get(42, [])[-1][0] == "disconnected")
        tg_seen = [e for e in JOURNAL.of(42) if e[0] == "tg"]
        assert tg_seen[-1] == ("tg", "what now?", 199)  # the state the page set last


def test_two_pages_of_one_user_share_the_handler_and_pushes_reach_both(
    tg: FakeBotApi,
) -> None:
    with running(tg) as (engine, app):
        async def main() -> None:
            first, second = await login(app, tg, 42), await login(app, tg, 42)
            await ask(first, "set", "from the first page")
            assert app.clients_of(42)
            assert len(app.clients_of(42)) == 2
            say(engine, 42, "hello both")
            for ws in (first, second):
                assert (await next_frame(ws, "tg"))["text"] == "hello both"
            answer = await ask(second, "get")
            assert answer["seen"] == 3
            await first.close()
            await second.close()
        asyncio.run(main())


def test_a_per_chat_route_hears_the_private_chat_and_a_group_route_is_skipped(
    tg: FakeBotApi,
) -> None:
    class Chat(Recorder):
        pass

    routes = [Route(per_chat_id(), Chat, name="chats"),
              Route(per_chat_id_in({-100}), Recorder, name="group")]
    with running(tg, routes=routes) as (engine, app):
        async def main() -> None:
            ws = await login(app, tg, 42)
            assert (await ask(ws, "hi"))["seen"] == 1
            await ws.close()
        asyncio.run(main())
        assert engine.ask("chats", 42, "q").get(timeout=10)["seen"] == 1
        assert engine.stats()["handlers_by_class"] == {"Chat": 1}


# -- passivation ------------------------------------------------------------------------------


def _settle(engine: Any, user: int) -> dict[str, Any]:
    """Flush the router, then the handler (behind any IdleCheck), then the router again."""
    engine._router_ref.ask(Ping(), timeout=10)
    answer: dict[str, Any] = engine.ask("users", user, "probe").get(timeout=10)
    engine._router_ref.ask(Ping(), timeout=10)
    return answer


def test_an_open_client_keeps_its_handler_from_idling_out(tg: FakeBotApi) -> None:
    clock = ManualClock()
    routes = [Route(per_from_id(), Recorder, name="users", idle_timeout=5)]
    with running(tg, routes=routes, intake=None, clock=clock) as (engine, app):
        async def main() -> None:
            ws = await login(app, tg, 42)
            first = (await ask(ws, "set", "kept"))["handler"]
            for _ in range(10):
                clock.advance(6)
                assert _settle(engine, 42)["handler"] == first
            assert engine.stats()["passivated"] == 0
            await ws.close()
        asyncio.run(main())
        JOURNAL.wait(lambda ev: ev.get(42, [])[-1][0] == "disconnected")
        clock.advance(6)
        clock.advance(6)
        eventually(lambda: engine.stats()["passivated"] == 1, what="passivation")


def test_without_keep_alive_the_successor_gets_the_open_client(tg: FakeBotApi) -> None:
    clock = ManualClock()
    routes = [Route(per_from_id(), Recorder, name="users", idle_timeout=5)]
    with running(tg, routes=routes, intake=None, clock=clock,
                 keep_alive=False) as (engine, app):
        async def main() -> None:
            ws = await login(app, tg, 42)
            first = (await ask(ws, "set", "lost"))["handler"]
            clock.advance(6)
            clock.advance(6)
            eventually(lambda: engine.stats()["passivated"] == 1, what="passivation")
            answer = await ask(ws, "after")
            assert answer["handler"] != first
            assert answer["seen"] == 1
            await ws.close()
        asyncio.run(main())
        JOURNAL.wait(lambda ev: ev.get(42, [])[-1][0] == "disconnected")
        kinds = [(e[0], e[2] if e[0] == "connected" else None) for e in JOURNAL.of(42)]
        assert kinds == [("connected", False), ("message", None), ("connected", True),
                         ("message", None), ("disconnected", None)]


def test_a_handler_that_closes_or_fails_hands_its_clients_over_at_once(
    tg: FakeBotApi,
) -> None:
    with running(tg) as (engine, app):
        async def main() -> None:
            ws = await login(app, tg, 42)
            first = (await ask(ws, "close"))["handler"]
            # the successor has the client before the page says anything: it can push
            JOURNAL.wait(lambda ev: [e[0] for e in ev[42]].count("connected") == 2)
            say(engine, 42, "after close")
            assert (await next_frame(ws, "tg"))["seen"] == 1
            await ws.send(json.dumps({"type": "boom"}))
            JOURNAL.wait(lambda ev: [e[0] for e in ev[42]].count("connected") == 3)
            answer = await ask(ws, "again")
            assert answer["handler"] != first
            assert answer["seen"] == 1
            assert engine.stats()["failed"] == 1
            await ws.close()
        asyncio.run(main())
        JOURNAL.wait(lambda ev: ev.get(42, [])[-1][0] == "disconnected")
        assert engine.ask("users", 42, "q").get(timeout=10)["clients"] == 0


def test_a_disconnect_storm_leaves_exact_pairs_and_no_client(tg: FakeBotApi) -> None:
    users, per_user = 40, 5
    with running(tg) as (engine, app):
        async def main() -> None:
            sockets = await asyncio.gather(*(login(app, tg, 1000 + i % users)
                                             for i in range(users * per_user)))
            await asyncio.gather(*(ask(ws, "hi") for ws in sockets))
            for ws in sockets[::2]:
                ws.transport.abort()  # dropped on the floor, no close frame
            await asyncio.gather(*(ws.close() for ws in sockets[1::2]))
        asyncio.run(main())
        eventually(lambda: app.client_count == 0, what="every client gone")
        for i in range(users):
            JOURNAL.wait(lambda ev, u=1000 + i: [e[0] for e in ev.get(u, [])].count(
                "disconnected") == per_user)
            events = JOURNAL.of(1000 + i)
            connected = sorted(e[1] for e in events if e[0] == "connected")
            gone = sorted(e[1] for e in events if e[0] == "disconnected")
            assert connected == gone
            assert len(gone) == per_user
            assert engine.ask("users", 1000 + i, "q").get(timeout=10)["clients"] == 0
        assert engine.stats()["failed"] == 0


def test_stopping_the_engine_closes_clients_and_their_handlers_hear_it(
    tg: FakeBotApi,
) -> None:
    codes: list[Any] = []
    with running(tg) as (engine, app):
        async def main() -> None:
            ws = await login(app, tg, 42)
            await ask(ws, "hi")
            stopping = asyncio.get_running_loop().run_in_executor(None, engine.stop)
            codes.append(await closed_with(ws))
            assert await stopping
        asyncio.run(main())
    assert codes == [(1001, "server stopping")]
    assert [e[0] for e in JOURNAL.of(42)] == ["connected", "message", "disconnected"]


def test_no_thread_per_client(tg: FakeBotApi) -> None:
    with running(tg) as (_, app):
        async def main() -> None:
            one = await login(app, tg, 1)
            before = threading.active_count()
            many = await asyncio.gather(*(login(app, tg, 2 + i) for i in range(100)))
            await asyncio.gather(*(ask(ws, "hi") for ws in many))
            assert threading.active_count() == before
            await asyncio.gather(*(ws.close() for ws in [one, *many]))
        asyncio.run(main())


# -- the ask seam, answerWebAppQuery ----------------------------------------------------------


def test_ask_reaches_the_users_handler_from_threads_and_coroutines(tg: FakeBotApi) -> None:
    with running(tg) as (engine, app):
        async def main() -> None:
            ws = await login(app, tg, 42)
            await ask(ws, "set", {"score": 3})
            answer = await engine.ask("users", 42, "from a coroutine")
            assert answer["state"] == {"score": 3}
            assert answer["clients"] == 1
            with pytest.raises(ValueError, match="no answer"):
                await engine.ask("users", 42, "fail")
            await ws.close()
        asyncio.run(main())
        assert engine.ask("users", 42, "from a thread").get(timeout=10)["state"] is None
        with pytest.raises(ConfigError, match="no route named"):
            engine.ask("nobody", 42, "q")
        with pytest.raises(ConfigError, match="hashable"):
            engine.ask("users", [42], "q")
    with pytest.raises(NotRunning):
        engine.ask("users", 42, "q")


def test_answer_web_app_query_goes_through_the_sender(tg: FakeBotApi) -> None:
    class Shop(UserHandler):
        def on_client_message(self, client: Any, type: str, data: Any) -> None:
            result = {"type": "article", "id": "1", "title": "Bought",
                      "input_message_content": {"message_text": f"bought {data}"}}
            client.answer_web_app_query(result)
            client.send("answered")

    with running(tg, Shop) as (_, app):
        async def main() -> None:
            init = sign_init_data(tg.token, 42, query_id="AAQ-1")
            async with connect(app.url) as ws:
                await ws.send(login_frame(init))
                await next_frame(ws, "welcome")
                await ws.send(json.dumps({"type": "buy", "data": "tea"}))
                await next_frame(ws, "answered")
        asyncio.run(main())
        tg.wait_for_calls("answerWebAppQuery", 1, timeout=10)
        call = tg.calls_to("answerWebAppQuery")[0]
        assert call.params["web_app_query_id"] == "AAQ-1"


# -- ASGI -------------------------------------------------------------------------------------


def test_the_asgi_app_serves_the_same_protocol(tg: FakeBotApi) -> None:
    with running(tg, host=None) as (_, app):
        async def main() -> list[dict[str, Any]]:
            incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
            sent: list[dict[str, Any]] = []
            answered = asyncio.Event()

            async def send(message: Any) -> None:
                sent.append(message)
                if message.get("text") and '"answer"' in message["text"]:
                    answered.set()

            for message in ({"type": "websocket.connect"},
                            {"type": "websocket.receive",
                             "text": login_frame(sign_init_data(tg.token, 42))},
                            {"type": "websocket.receive",
                             "text": json.dumps({"type": "hi", "data": 1})}):
                incoming.put_nowait(message)
            scope = {"type": "websocket", "query_string": b"", "subprotocols": []}
            serving = asyncio.ensure_future(app.asgi(scope, incoming.get, send))
            await asyncio.wait_for(answered.wait(), 20)
            incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})
            await asyncio.wait_for(serving, 20)
            return sent

        sent = asyncio.run(main())
        assert sent[0] == {"type": "websocket.accept", "subprotocol": None}
        frames = [json.loads(m["text"]) for m in sent[1:]]
        assert [f["type"] for f in frames] == ["welcome", "answer"]
        assert frames[1]["data"]["data"] == 1
        JOURNAL.wait(lambda ev: ev.get(42, [])[-1][0] == "disconnected")


# -- async hooks, slow clients ----------------------------------------------------------------


def test_async_client_hooks_run_on_the_loop_and_answer_in_order(tg: FakeBotApi) -> None:
    class AsyncProfile(UserHandler):
        def on_open(self, update: Any) -> None:
            self.seen = 0

        async def on_client_connected(self, client: Any) -> None:
            await asyncio.sleep(0)
            client.send("hello", self.seen)

        async def on_client_message(self, client: Any, type: str, data: Any) -> None:
            self.seen += 1
            await asyncio.sleep(0.001 * (data % 3))  # suspends: the next waits its turn
            client.send("answer", {"data": data, "seen": self.seen})

        async def on_ask(self, message: Any) -> Any:
            await asyncio.sleep(0)
            return self.seen

    with running(tg, AsyncProfile) as (engine, app):
        async def main() -> None:
            ws = await login(app, tg, 42)
            assert await next_frame(ws, "hello") == 0
            for i in range(30):
                await ws.send(json.dumps({"type": "n", "data": i}))
            answers = [await next_frame(ws, "answer") for _ in range(30)]
            assert answers == [{"data": i, "seen": i + 1} for i in range(30)]
            assert await engine.ask("users", 42, "seen?") == 30
            await ws.close()
        asyncio.run(main())


def test_a_client_that_does_not_read_is_closed_not_buffered_forever(tg: FakeBotApi) -> None:
    class Flood(UserHandler):
        def on_client_message(self, client: Any, type: str, data: Any) -> None:
            for _ in range(1000):  # 30 MB: more than any socket buffers
                client.send("chunk", "x" * 30_000)

    with running(tg, Flood, max_queue=16) as (engine, app):
        async def main() -> tuple[Any, Any]:
            ws = await login(app, tg, 42, max_queue=1, max_size=None)
            await ws.send(json.dumps({"type": "flood"}))
            return await closed_with(ws)
        assert asyncio.run(main()) == (1008, "too many messages waiting")
        eventually(lambda: app.client_count == 0, what="the slow client gone")
        assert engine.stats()["failed"] == 0


def test_messages_in_flight_while_a_handler_closes_reach_its_successor_once_in_order(
    tg: FakeBotApi,
) -> None:
    with running(tg) as (engine, app):
        async def main() -> None:
            ws = await login(app, tg, 42)
            for kind in ("close", "boom"):
                await ws.send(json.dumps({"type": kind}))
                for i in range(100):  # buffered while it closes, then the successor's
                    await ws.send(json.dumps({"type": "n", "data": i}))
                answers = [await next_frame(ws, "answer") for _ in range(100 + (kind == "close"))]
                if kind == "close":
                    closing = answers.pop(0)
                    assert closing["type"] == "close"
                assert [a["data"] for a in answers] == list(range(100))
                assert [a["seen"] for a in answers] == list(range(1, 101))
                assert len({a["handler"] for a in answers}) == 1
            await ws.close()
        asyncio.run(main())
        JOURNAL.wait(lambda ev: ev.get(42, [])[-1][0] == "disconnected")
        events = JOURNAL.of(42)
        assert [e[0] for e in events].count("connected") == 3  # login, after close, after boom
        assert [e[0] for e in events].count("message") == 201
        assert engine.stats()["failed"] == 1


def test_max_age_is_the_mini_apps_own(tg: FakeBotApi) -> None:
    import time

    an_hour_ago = int(time.time()) - 3600
    with running(tg, max_age=600) as (_, app):
        got = asyncio.run(refused(app, login_frame(
            sign_init_data(tg.token, 42, auth_date=an_hour_ago))))
        assert got == (CLOSE_LOGIN_REFUSED, "initData refused: expired")
    with running(tg) as (_, app):  # a day by default
        async def main() -> None:
            async with connect(app.url) as ws:
                await ws.send(login_frame(sign_init_data(tg.token, 42, auth_date=an_hour_ago)))
                assert json.loads(await ws.recv())["type"] == "welcome"
        asyncio.run(main())


def test_a_client_faster_than_its_handler_is_read_no_faster(tg: FakeBotApi) -> None:
    gate = threading.Event()

    class Slow(UserHandler):
        async def on_client_message(self, client: Any, type: str, data: Any) -> None:
            if data == 0:
                await asyncio.get_running_loop().run_in_executor(None, gate.wait, 20)
            client.send("answer", {"data": data})

    with running(tg, Slow, window=4) as (_, app):
        async def main() -> None:
            ws = await login(app, tg, 42)
            for i in range(100):
                await ws.send(json.dumps({"type": "n", "data": i}))
            eventually(lambda: app.messages == 4, what="a window of messages read")
            assert app.messages == 4  # the handler is stuck on the first: no more read
            gate.set()
            answers = [await next_frame(ws, "answer") for _ in range(100)]
            assert [a["data"] for a in answers] == list(range(100))
            assert app.messages == 100
            await ws.close()
        asyncio.run(main())


def test_silent_sockets_cannot_pile_up_before_login(tg: FakeBotApi) -> None:
    with running(tg, max_logins=3) as (_, app):
        async def main() -> None:
            silent = [await connect(app.url) for _ in range(3)]
            assert await refused(app, None) == (1013, "too many logins waiting: try again later")
            await silent[0].send(login_frame(sign_init_data(tg.token, 42)))
            assert json.loads(await silent[0].recv())["type"] == "welcome"
            ws = await login(app, tg, 43)  # a place was freed
            await asyncio.gather(*(s.close() for s in [*silent, ws]))
        asyncio.run(main())
