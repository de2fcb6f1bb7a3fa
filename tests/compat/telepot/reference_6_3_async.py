"""The asyncio example programs of telepot 6.3's REFERENCE.md, as test data.

Origin: telepot 6.3's ``REFERENCE.md`` (nickoala/telepot, archived), the ``telepot.async``
sections named above each program. telepot is MIT-licensed: "Copyright (c) 2015 Nick
Lee. Permission is hereby granted, free of charge, to any person obtaining a copy of this
software [...]. The above copyright notice and this permission notice shall be included
in all copies or substantial portions of the Software." Each program is copied verbatim
except:

- the imports: ``import telepot`` -> ``from actorbot.compat import telepot``,
  ``import telepot.async`` -> ``import actorbot.compat.telepot.aio``,
  ``from telepot.X import`` -> ``from actorbot.compat.telepot.X import``, and
  ``telepot.async`` -> ``telepot.aio`` where the program names it (``async`` has been a
  keyword since Python 3.7: ``telepot.async.Bot`` no longer parses; telepot itself
  renamed the module ``aio``);
- ``@asyncio.coroutine`` generators are written ``async def`` and their ``yield from``
  ``await`` (Python 3.11 removed ``asyncio.coroutine``; the meaning is the same).

``GUESS``, ``LISTENER`` and ``INLINE`` are not in the reference: the team wrote them for
these tests, in the reference's style, to run what it only describes (a ``ChatHandler``
conversation that closes itself and times out, ``SpeakerBot`` with ``await
listener.wait()``, ``telepot.async.helper.Answerer``).
"""

from __future__ import annotations

# -- telepot.async.Bot: messageLoop(), the two skeletons ----------------------------------

SKELETON_CLASS = """
import sys
import asyncio
from actorbot.compat import telepot
import actorbot.compat.telepot.aio

class YourBot(telepot.aio.Bot):
    async def handle(self, msg):
        content_type, chat_type, chat_id = telepot.glance(msg)
        print(content_type, chat_type, chat_id)
        # Do your stuff according to `content_type` ...


TOKEN = sys.argv[1]  # get token from command-line

bot = YourBot(TOKEN)
loop = asyncio.get_event_loop()

loop.create_task(bot.messageLoop())
print('Listening ...')

loop.run_forever()
"""

SKELETON_FUNCTION = """
import sys
import asyncio
from actorbot.compat import telepot
import actorbot.compat.telepot.aio

async def handle(msg):
    content_type, chat_type, chat_id = telepot.glance(msg)
    print(content_type, chat_type, chat_id)
    # Do your stuff according to `content_type` ...


TOKEN = sys.argv[1]  # get token from command-line

bot = telepot.aio.Bot(TOKEN)
loop = asyncio.get_event_loop()

loop.create_task(bot.messageLoop(handle))
print('Listening ...')

loop.run_forever()
"""

# -- telepot.async.DelegatorBot: the message counter ---------------------------------------

COUNTER = """
import sys
import asyncio
from actorbot.compat import telepot
from actorbot.compat.telepot.delegate import per_chat_id
from actorbot.compat.telepot.aio.delegate import create_open

class MessageCounter(telepot.helper.ChatHandler):
    def __init__(self, seed_tuple, timeout):
        super(MessageCounter, self).__init__(seed_tuple, timeout)
        self._count = 0

    async def on_message(self, msg):
        self._count += 1
        await self.sender.sendMessage(self._count)

TOKEN = sys.argv[1]  # get token from command-line

bot = telepot.aio.DelegatorBot(TOKEN, [
    (per_chat_id(), create_open(MessageCounter, timeout=10)),
])

loop = asyncio.get_event_loop()
loop.create_task(bot.messageLoop())
print('Listening ...')

loop.run_forever()
"""

# -- telepot.async.delegate: call() and create_run(), "Here is the source" -----------------

CALL_SOURCE = """
def call(corofunc, *args, **kwargs):
    def f(seed_tuple):
        return corofunc(seed_tuple, *args, **kwargs)
    return f
"""

CREATE_RUN_SOURCE = """
def create_run(cls, *args, **kwargs):
    def f(seed_tuple):
        j = cls(seed_tuple, *args, **kwargs)
        return j.run()
    return f
"""

# -- written for the tests, in the reference's style ---------------------------------------

GUESS = """
import sys
import asyncio
from actorbot.compat import telepot
import actorbot.compat.telepot.aio
from actorbot.compat.telepot.delegate import per_chat_id
from actorbot.compat.telepot.aio.delegate import create_open

class Player(telepot.helper.ChatHandler):
    def __init__(self, seed_tuple, timeout):
        super(Player, self).__init__(seed_tuple, timeout)
        self._answer = int(sys.argv[2])

    def _hint(self, answer, guess):
        if answer > guess:
            return 'larger'
        else:
            return 'smaller'

    async def open(self, initial_msg, seed):
        await self.sender.sendMessage('Guess my number')
        return True  # prevent on_message() from being called on the initial message

    async def on_message(self, msg):
        content_type, chat_type, chat_id = telepot.glance(msg)

        if content_type != 'text':
            await self.sender.sendMessage('Give me a number, please.')
            return

        try:
            guess = int(msg['text'])
        except ValueError:
            await self.sender.sendMessage('Give me a number, please.')
            return

        if guess != self._answer:
            await self.sender.sendMessage(self._hint(self._answer, guess))
        else:
            await self.sender.sendMessage('Correct!')
            self.close()

    async def on_close(self, exception):
        if isinstance(exception, telepot.helper.WaitTooLong):
            await self.sender.sendMessage('Game expired. The answer is %d' % self._answer)


TOKEN = sys.argv[1]

bot = telepot.aio.DelegatorBot(TOKEN, [
    (per_chat_id(), create_open(Player, timeout=float(sys.argv[3]))),
])
loop = asyncio.get_event_loop()

loop.create_task(bot.messageLoop())
print('Listening ...')

loop.run_forever()
"""

LISTENER = """
import sys
import asyncio
from actorbot.compat import telepot
import actorbot.compat.telepot.aio

TOKEN = sys.argv[1]

bot = telepot.aio.SpeakerBot(TOKEN)

def handle(msg):
    bot.mic.send(msg)  # what a SpeakerBot's listeners hear

async def greet(chat_id):
    listener = bot.create_listener()
    listener.capture(chat__id=chat_id)

    msg = await listener.wait()
    await bot.sendMessage(chat_id, 'What is your name?')
    msg = await listener.wait()
    await bot.sendMessage(chat_id, 'Hello, %s' % msg['text'])

loop = asyncio.get_event_loop()
loop.create_task(bot.messageLoop(handle))
loop.create_task(greet(int(sys.argv[2])))
print('Listening ...')

loop.run_forever()
"""

INLINE = """
import sys
import asyncio
from actorbot.compat import telepot
import actorbot.compat.telepot.aio
import actorbot.compat.telepot.aio.helper

gates = {}  # a query waits here until the test lets it go

async def compute_answer(inline_query):
    query_id, from_id, query_string = telepot.glance(inline_query, flavor='inline_query')
    print('Computing for: %s' % query_string)
    gate = gates[query_string] = asyncio.Event()
    await gate.wait()
    return [{'type': 'article', 'id': 'abc', 'title': query_string, 'message_text': query_string}]

def handle(msg):
    flavor = telepot.flavor(msg)
    if flavor == 'inline_query':
        answerer.answer(msg)

TOKEN = sys.argv[1]

bot = telepot.aio.Bot(TOKEN)
answerer = telepot.aio.helper.Answerer(bot, compute_answer)

loop = asyncio.get_event_loop()
loop.create_task(bot.messageLoop(handle))
print('Listening ...')

loop.run_forever()
"""
