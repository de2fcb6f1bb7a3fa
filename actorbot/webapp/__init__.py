"""Mini App backend: ``initData`` and Login Widget validation, and the websocket endpoint
whose clients reach the same handler actor as the user's Telegram updates."""

from actorbot.errors import AuthDataInvalid, InitDataInvalid, LoginInvalid
from actorbot.webapp._clients import (
    DEFAULT_MAX_QUEUE,
    Client,
    ClientConnected,
    ClientDisconnected,
    ClientEvent,
    ClientMessage,
    Transport,
)
from actorbot.webapp._initdata import (
    DEFAULT_MAX_AGE,
    LoginData,
    WebAppData,
    validate_init_data,
    validate_init_data_signature,
    validate_login_widget,
)
from actorbot.webapp._miniapp import (
    CLOSE_BAD_FRAME,
    CLOSE_BANNED,
    CLOSE_LOGIN_REFUSED,
    CLOSE_LOGIN_TIMEOUT,
    CLOSE_NO_ROUTE,
    CLOSE_NOT_READY,
    SUBPROTOCOL,
    MiniApp,
)

__all__ = [
    "CLOSE_BAD_FRAME",
    "CLOSE_BANNED",
    "CLOSE_LOGIN_REFUSED",
    "CLOSE_LOGIN_TIMEOUT",
    "CLOSE_NOT_READY",
    "CLOSE_NO_ROUTE",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_QUEUE",
    "SUBPROTOCOL",
    "AuthDataInvalid",
    "Client",
    "ClientConnected",
    "ClientDisconnected",
    "ClientEvent",
    "ClientMessage",
    "InitDataInvalid",
    "LoginData",
    "LoginInvalid",
    "MiniApp",
    "Transport",
    "WebAppData",
    "validate_init_data",
    "validate_init_data_signature",
    "validate_login_widget",
]
