"""A number-guessing game per chat that says goodbye when the player goes quiet.

Each chat's handler picks a number from 1 to 100 and answers "larger" or "smaller" until
the player finds it. If the player is silent for ``IDLE_TIMEOUT`` seconds, ``on_idle``
says goodbye before the handler is passivated; the next message starts a new game.

    TELEGRAM_BOT_TOKEN=... python examples/guess_a_number.py
    python examples/guess_a_number.py     # a demo: a bisecting player and a quitter
"""

from __future__ import annotations

import random
from typing import Any

from _run import run  # examples/_run.py: token -> real bot, else the demo

from actorbot import ChatHandler, Engine, Polling, RateLimits, Route, Sending, per_chat_id
from actorbot.testing import FakeBotApi

IDLE_TIMEOUT = 60.0


class GuessingGame(ChatHandler):
    def on_open(self, update: Any) -> None:
        self.answer = random.Random(self.chat_id).randint(1, 100)  # noqa: S311 - a game
        self.tries = 0
        self.sender.send_message("I have a number from 1 to 100. Guess it!")

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        try:
            guess = int(msg.get("text", ""))
        except ValueError:
            self.sender.send_message("Numbers only, please.")
            return
        self.tries += 1
        if guess < self.answer:
            self.sender.send_message("larger")
        elif guess > self.answer:
            self.sender.send_message("smaller")
        else:
            self.sender.send_message(f"Correct! {self.tries} tries.")
            self.close()  # the next message starts a new game

    def on_idle(self) -> bool:
        self.sender.send_message("Game expired. Bye!")
        return True


def build(token: str, idle_timeout: float = IDLE_TIMEOUT,
          **options: Any) -> Engine:
    route = Route(per_chat_id(), GuessingGame, idle_timeout=idle_timeout)
    return Engine(token, [route], **options)


def wait_for_reply(telegram: FakeBotApi, chat: int, count: int) -> str:
    """The bot's last message to ``chat`` once it has sent ``count`` there."""
    telegram.wait_for(lambda: len(telegram.sent_texts(chat)) >= count, 10)
    return telegram.sent_texts(chat)[-1]


def demo() -> None:
    """Chat 1 bisects to the answer; chat 2 guesses once and walks away."""
    with FakeBotApi() as telegram:
        # This fake Telegram does no flood control, so the demo need not pace its replies.
        with build(
            telegram.token, connection=telegram.connection, intake=Polling(timeout=1),
            sending=Sending(limits=RateLimits.unlimited()), idle_timeout=0.3,
        ):
            low, high = 1, 100
            while True:
                guess = (low + high) // 2
                before = len(telegram.sent_texts(1))
                telegram.inject_message(1, str(guess))
                # One reply per guess; the first guess also opens the game (a greeting).
                reply = wait_for_reply(telegram, 1, before + (2 if before == 0 else 1))
                if reply == "larger":
                    low = guess + 1
                elif reply == "smaller":
                    high = guess - 1
                else:
                    break
            telegram.inject_message(2, "50")
            telegram.wait_for(lambda: "Game expired. Bye!" in telegram.sent_texts(2), 10)
        for chat in (1, 2):
            print(f"chat {chat}:")
            for message in telegram.transcript(chat):
                who = "bot " if message["from"]["is_bot"] else "user"
                print(f"  {who}: {message.get('text')}")


def main() -> None:
    run(build, demo)


if __name__ == "__main__":
    main()
