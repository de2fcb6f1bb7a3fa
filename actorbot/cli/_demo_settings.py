"""What ``actorbot demo`` simulates, apart from the demo itself: the parser reads the
defaults without importing the fake Telegram, which only the demo needs."""

from __future__ import annotations

from dataclasses import dataclass

from actorbot.engine import RuntimeName

FIRST_CHAT = 1001


@dataclass(frozen=True)
class DemoSettings:
    chats: int = 20
    messages: int = 5
    """Messages each simulated user sends."""
    rate: float = 40.0
    """Messages per second from all users together."""
    idle_timeout: float = 1.0
    flood_control: bool = True
    rate_limits: bool = True
    latency: float = 0.0
    runtime: RuntimeName = "pool"
    workers: int = 4
    timeout: float = 120.0
    stats_interval: float | None = None
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"

    @property
    def total(self) -> int:
        return self.chats * self.messages

    def chat_ids(self) -> range:
        return range(FIRST_CHAT, FIRST_CHAT + self.chats)
