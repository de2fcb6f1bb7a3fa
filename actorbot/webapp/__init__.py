"""Mini App backend: ``initData`` and Login Widget validation."""

from actorbot.errors import AuthDataInvalid, InitDataInvalid, LoginInvalid
from actorbot.webapp._initdata import (
    LoginData,
    WebAppData,
    validate_init_data,
    validate_init_data_signature,
    validate_login_widget,
)

__all__ = [
    "AuthDataInvalid",
    "InitDataInvalid",
    "LoginData",
    "LoginInvalid",
    "WebAppData",
    "validate_init_data",
    "validate_init_data_signature",
    "validate_login_widget",
]
