"""``python -m actorbot``: the ``actorbot`` command."""

from actorbot.cli import main

raise SystemExit(main())
