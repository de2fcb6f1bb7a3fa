"""The synchronous example programs of telepot 6.3's REFERENCE.md, as test data.

Origin: telepot 6.3's ``REFERENCE.md`` (nickoala/telepot, archived), the sections named
above each program. Each is copied verbatim except:

- the imports: ``import telepot`` -> ``from actorbot.compat import telepot``,
  ``from telepot.X import`` -> ``from actorbot.compat.telepot.X import``, and in the
  skeleton that keeps itself alive with ``while 1: time.sleep(10)``, ``import time`` ->
  ``import program_time as time`` (a clock the test ends the program with);
- Python 2's ``print x`` statements are written ``print(x)`` (Python 3 syntax, same output).

Snippets that assume earlier state ("Assuming you have got ``chat_id``...") run in a
namespace where the test has put ``bot``, ``chat_id``, ``msg_id``, ``msg``, ``query_id``.
The ``@openable`` example (``def __init__(...): ...``) is pseudo-code and is not here.
"""

# ruff: noqa: E501 - the programs are copied as telepot wrote them

from __future__ import annotations

# -- telepot.Bot: sendMessage() -----------------------------------------------------------

SEND_MESSAGE = """
bot.sendMessage(chat_id, 'A short sentence.')

bot.sendMessage(chat_id, 'I do not understand your last message.', reply_to_message_id=msg_id)

bot.sendMessage(chat_id, 'http://www.yahoo.com \\n no web page preview', disable_web_page_preview=True)

# Markdown
bot.sendMessage(chat_id, '*bold text*\\n_italic text_\\n[link](http://www.google.com)', parse_mode='Markdown')

# HTML
bot.sendMessage(chat_id, '<i>italic</i> <code>inline fixed-width code</code>', parse_mode='HTML')

# Show a custom keyboard
show_keyboard = {'keyboard': [['Yes', 'No'], ['Maybe', 'Maybe not']]}
bot.sendMessage(chat_id, 'Here is a custom keyboard', reply_markup=show_keyboard)

# Hide custom keyboard
hide_keyboard = {'hide_keyboard': True}
bot.sendMessage(chat_id, 'Hiding it now.', reply_markup=hide_keyboard)

# Force reply
force_reply = {'force_reply': True}
bot.sendMessage(chat_id, 'Force reply', reply_markup=force_reply)

# `reply_markup` also accepts namedtuples
from actorbot.compat.telepot.namedtuple import ReplyKeyboardMarkup, ReplyKeyboardHide, ForceReply

bot.sendMessage(chat_id, 'Show keyboard', reply_markup=ReplyKeyboardMarkup(keyboard=[['Yes', 'No']]))

bot.sendMessage(chat_id, 'Hide keyboard', reply_markup=ReplyKeyboardHide())

bot.sendMessage(chat_id, 'Force reply', reply_markup=ForceReply())
"""

# -- telepot.Bot: sendPhoto() ... sendLocation() ------------------------------------------

SEND_PHOTO = """
# Uploading a file may take a while. Let user know you are doing something.
bot.sendChatAction(chat_id, 'upload_photo')

# Send a file that is stored locally.
result = bot.sendPhoto(chat_id, open('lighthouse.jpg', 'rb'))

# Get `file_id` from the Message object returned.
file_id = result['photo'][0]['file_id']

# Use `file_id` to resend the same photo, with a caption this time.
bot.sendPhoto(chat_id, file_id, caption='This is a lighthouse')
"""

SEND_AUDIO = """
# Uploading a file may take a while. Let user know you are doing something.
bot.sendChatAction(chat_id, 'upload_audio')

# Send an audio file that is stored locally.
# Parameter `performer` or `title` has to be set for Telegram to regard it as an audio.
# Otherwise, it will be treated as voice.
result = bot.sendAudio(chat_id, open('dgdg.mp3', 'rb'), title='Ringtone')

# Get `file_id` from the Message object returned.
file_id = result['audio']['file_id']

# Use `file_id` to resend the same audio file.
# Remember to include either `performer` or `title` (or both).
bot.sendAudio(chat_id, file_id, duration=6, performer='Ding Dong')
"""

SEND_DOCUMENT = """
bot.sendChatAction(chat_id, 'upload_document')
result = bot.sendDocument(chat_id, open('document.txt', 'rb'))

file_id = result['document']['file_id']
bot.sendDocument(chat_id, file_id)
"""

SEND_STICKER = """
# I found .png files are also accepted. Other formats? You have to try it yourself.
result = bot.sendSticker(chat_id, open('gandhi.png', 'rb'))

file_id = result['sticker']['file_id']
bot.sendSticker(chat_id, file_id)
"""

SEND_VIDEO = """
bot.sendChatAction(chat_id, 'upload_video')

# Send a video file that is stored locally, with a caption.
result = bot.sendVideo(chat_id, open('hktraffic.mp4', 'rb'), caption='Hong Kong traffic')

file_id = result['video']['file_id']

# Use `file_id` to resend a video file, with a duration stated this time.
bot.sendVideo(chat_id, file_id, duration=5)
"""

SEND_VOICE = """
# Send a voice message that is stored locally.
result = bot.sendVoice(chat_id, open('example.ogg', 'rb'))

file_id = result['voice']['file_id']

# Use `file_id` to resend the voice message, with a duration stated this time.
bot.sendVoice(chat_id, file_id, duration=6)
"""

SEND_LOCATION = """
bot.sendChatAction(chat_id, 'find_location')
bot.sendLocation(chat_id, 22.33, 114.18)   # Hong Kong
bot.sendLocation(chat_id, 49.25, -123.1)   # Vancouver
bot.sendLocation(chat_id, -37.82, 144.97)  # Melbourne
"""

# -- telepot.Bot: setWebhook(), downloadFile(), answerInlineQuery() -----------------------

SET_WEBHOOK = """
# Webhook without a certificate
bot.setWebhook('https://www.domain.com/webhook')

# Webhook with a certificate
bot.setWebhook('https://www.domain.com/webhook', open('domain.cert', 'rb'))

# Cancel webhook
bot.setWebhook()
"""

DOWNLOAD_FILE = """
bot.downloadFile('ABcdEfGhijkLm_NopQRstuvxyZabcdEFgHIJ', 'save/to/path')

# If you open the file yourself, you are responsible for closing it.
with open('save/to/path', 'wb') as f:
    bot.downloadFile('ABcdEfGhijkLm_NopQRstuvxyZabcdEFgHIJ', f)
"""

ANSWER_ARTICLES = """
from actorbot.compat.telepot.namedtuple import InlineQueryResultArticle

articles = [{'type': 'article',
                'id': 'abc', 'title': 'ABC', 'message_text': 'Good morning'},
            InlineQueryResultArticle(
                id='xyz', title='ZZZZZ', message_text='Good night')]

bot.answerInlineQuery(query_id, articles)
"""

ANSWER_PHOTOS = """
from actorbot.compat.telepot.namedtuple import InlineQueryResultPhoto

photos = [{'type': 'photo',
              'id': '123', 'photo_url': '...', 'thumb_url': '...'},
          InlineQueryResultPhoto(
              id='999', photo_url='...', thumb_url='...')]

bot.answerInlineQuery(query_id, photos)
"""

# -- telepot.Bot: notifyOnMessage(), the two skeletons -------------------------------------

SKELETON_CLASS = """
import sys
from actorbot.compat import telepot

class YourBot(telepot.Bot):
    def handle(self, msg):
        content_type, chat_type, chat_id = telepot.glance(msg)
        print(content_type, chat_type, chat_id)
        # Do your stuff according to `content_type` ...


TOKEN = sys.argv[1]  # get token from command-line

bot = YourBot(TOKEN)
bot.notifyOnMessage(run_forever=True)
"""

SKELETON_FUNCTION = """
import sys
import program_time as time
from actorbot.compat import telepot

def handle(msg):
    content_type, chat_type, chat_id = telepot.glance(msg)
    print(content_type, chat_type, chat_id)
    # Do your stuff according to `content_type` ...


TOKEN = sys.argv[1]  # get token from command-line

bot = telepot.Bot(TOKEN)
bot.notifyOnMessage(handle)
print('Listening ...')

# Keep the program running.
while 1:
    time.sleep(10)
"""

# -- telepot.DelegatorBot and telepot.helper.ChatHandler: the message counter -------------

COUNTER = """
import sys
from actorbot.compat import telepot
from actorbot.compat.telepot.delegate import per_chat_id, create_open

class MessageCounter(telepot.helper.ChatHandler):
    def __init__(self, seed_tuple, timeout):
        super(MessageCounter, self).__init__(seed_tuple, timeout)
        self._count = 0

    def on_message(self, msg):
        self._count += 1
        self.sender.sendMessage(self._count)

TOKEN = sys.argv[1]  # get token from command-line

bot = telepot.DelegatorBot(TOKEN, [
    (per_chat_id(), create_open(MessageCounter, timeout=10)),
])
bot.notifyOnMessage(run_forever=True)
"""

# -- functions in telepot module: flavor(), glance() -------------------------------------

FLAVOR_GLANCE = """
from actorbot.compat import telepot

# Suppose `msg` is a message previously received.

flavor = telepot.flavor(msg)

if flavor == 'message':
    content_type, chat_type, chat_id = telepot.glance(msg)
    content_type, chat_type, chat_id, msg_date, msg_id = telepot.glance(msg, long=True)

    # Do you stuff according to `content_type`

elif flavor == 'inline_query':
    query_id, from_id, query_string = telepot.glance(msg, flavor='inline_query')
    query_id, from_id, query_string, offset = telepot.glance(msg, flavor='inline_query', long=True)

    # bot.answerInlineQuery(...)

elif flavor == 'chosen_inline_result':
    result_id, from_id, query_string = telepot.glance(msg, flavor='chosen_inline_result')

    # remember the chosen result, hopefully do better next time
"""

# -- telepot.namedtuple: convert dictionary to namedtuple --------------------------------

NAMEDTUPLE_MESSAGE = """
from actorbot.compat.telepot.namedtuple import namedtuple, Message

# Unpack dict, give it to constructor
ntuple1 = Message(**msg)

# Use namedtuple() function, give it the class name
ntuple2 = namedtuple(msg, 'Message')

# ntuple1 == ntuple2

# `from` becomes `from_` due to keyword collision
print(ntuple1.from_.id)  # == msg['from']['id']

# other field names unchanged
print(ntuple2.chat.id)   # == msg['chat']['id']
"""

NAMEDTUPLE_PARTS = """
from actorbot.compat.telepot.namedtuple import namedtuple, User, Chat

ntuple3 = User(**msg['from'])              # these two lines
ntuple4 = namedtuple(msg['from'], 'User')  # are equivalent

ntuple5 = Chat(**msg['chat'])              # these two lines
ntuple6 = namedtuple(msg['chat'], 'Chat')  # are equivalent
"""

# -- telepot.helper.Listener: set_options(), get_options(), capture() --------------------

LISTENER_OPTIONS = """
listener.set_options(timeout=10)

timeout, = listener.get_options('timeout')
"""

LISTENER_CAPTURE = """
# look for messages whose `message['chat']['id']` equals `12345678`
listener.capture(chat__id=12345678)

# equivalent to above
listener.capture(chat={'id': 12345678})

def looks_like_integer(s):
    try:
        int(s)
        return True
    except:
        return False

# look for messages where `looks_like_integer(message['text'])` returns true
listener.capture(text=looks_like_integer)

# could be done more simply as ...
listener.capture(text=lambda s: s.isdigit())

# look for messages that satisfy BOTH conditions
listener.capture(text=lambda s: s.isdigit(), chat__id=12345678)

def sender_sounds_like_me(msg):
    return msg['from']['first_name'].startswith('Nick') and msg['from']['last_name'].startswith('Lee')

# looks for messages where `sender_sounds_like_me(message)` returns true
# use '_' to select the entire message
listener.capture(_=sender_sounds_like_me)
"""

# -- telepot.helper.Monitor: the MessagePrinter ------------------------------------------

MESSAGE_PRINTER = """
import sys
from actorbot.compat import telepot
from actorbot.compat.telepot.delegate import create_open

class MessagePrinter(telepot.helper.Monitor):
    def __init__(self, seed_tuple):
        # Returns true for every message, meaning all are captured.
        capture_criteria = {'_': lambda msg: True}
        super(MessagePrinter, self).__init__(seed_tuple, [capture_criteria])

    def on_message(self, msg):
        print('Message received:')
        print(msg)

TOKEN = sys.argv[1]

bot = telepot.DelegatorBot(TOKEN, [
    # Seed is always the same, meaning only one MessagePrinter is ever spawned.
    (lambda msg: 1, create_open(MessagePrinter)),
])
bot.notifyOnMessage(run_forever=True)
"""
