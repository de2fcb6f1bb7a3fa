"""Migration layers: run programs written for other Telegram libraries on actorbot's engine.

- :mod:`actorbot.compat.telepot`: telepot (unmaintained since 2018, broken on current
  Python): change ``import telepot`` to ``from actorbot.compat import telepot``.
"""
