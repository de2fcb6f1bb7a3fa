"""An echo bot on the bare Bot API client, talking to actorbot's fake Telegram.

No token, no internet: the fake server runs in this process on 127.0.0.1. Three simulated
users write to the bot; the bot long-polls ``getUpdates``, answers each message, confirms
the updates, and the script prints every chat's transcript.

    python examples/hello_fake_telegram.py
"""

from __future__ import annotations

from actorbot import Client
from actorbot.testing import FakeBotApi
from actorbot.updates import glance


def echo_once(bot: Client, offset: int | None) -> int | None:
    """One long poll: reply to every text message, return the next offset."""
    for update in bot.get_updates(offset=offset, timeout=1):
        offset = update["update_id"] + 1
        seen = glance(update)
        if seen.chat_id is None:  # nobody to answer: an inline query, a poll's update...
            continue
        if seen.content_type == "text":
            text = update["message"]["text"]
            bot.send_message(seen.chat_id, f"You said: {text}")
        else:
            bot.send_message(seen.chat_id, f"I only read text, not {seen.content_type}.")
    return offset


def main() -> None:
    with FakeBotApi() as telegram, Client(telegram.token, base_url=telegram.base_url) as bot:
        me = bot.get_me()
        print(f"bot @{me['username']} (id {me['id']}) on fake Telegram at {telegram.base_url}")
        telegram.inject_message(1001, "hello")
        telegram.inject_message(1002, "hi bot")
        telegram.inject_command(1003, "/start")
        telegram.inject_message(1001, "how are you?")

        offset = echo_once(bot, None)
        while (following := echo_once(bot, offset)) != offset:  # this poll confirms the last
            offset = following

        for chat in (1001, 1002, 1003):
            print(f"\nchat {chat}:")
            for message in telegram.transcript(chat):
                who = "bot " if message["from"]["is_bot"] else "user"
                print(f"  {who}: {message.get('text', '')}")
        answered = sum(len(telegram.sent_texts(c)) for c in (1001, 1002, 1003))
        print(f"\n{answered} replies sent; updates left on the server: "
              f"{telegram.pending_update_count}")


if __name__ == "__main__":
    main()
