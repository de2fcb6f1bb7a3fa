"""Ed25519 signatures (RFC 8032), so that checking a Mini App's third-party ``signature``
needs no runtime dependency.

:func:`verify` uses the ``cryptography`` package when it is installed (the ``webapp``
extra) and a pure-Python RFC 8032 §5.1.7 verifier otherwise: a few milliseconds per call,
plenty for validating a login. Verification only handles public data, so the pure path
need not be constant time. :func:`sign` exists for tests and test vectors: it is not
constant time and must not hold a secret that matters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Final

from actorbot.errors import ConfigError

_P: Final = 2**255 - 19
_L: Final = 2**252 + 27742317777372353535851937790883648493  # order of the base point
_D: Final = -121665 * pow(121666, -1, _P) % _P
_SQRT_M1: Final = pow(2, (_P - 1) // 4, _P)  # a square root of -1 mod p

# Points in extended homogeneous coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, xy = T/Z.
_Point = tuple[int, int, int, int]
_IDENTITY: Final[_Point] = (0, 1, 1, 0)


def _recover_x(y: int, sign: int) -> int | None:
    """RFC 8032 §5.1.3: the x with this sign bit on the curve at y, or None."""
    if y >= _P:
        return None
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    vx2 = v * x * x % _P
    if vx2 == (-u) % _P:
        x = x * _SQRT_M1 % _P
    elif vx2 != u:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = _P - x
    return x


_BY: Final = 4 * pow(5, -1, _P) % _P
_BX: Final = _recover_x(_BY, 0) or 0
_BASE: Final[_Point] = (_BX, _BY, 1, _BX * _BY % _P)


def _add(p: _Point, q: _Point) -> _Point:
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = 2 * t1 * t2 * _D % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _double(p: _Point) -> _Point:
    x1, y1, z1, _ = p
    a = x1 * x1 % _P
    b = y1 * y1 % _P
    c = 2 * z1 * z1 % _P
    h = a + b
    e = h - (x1 + y1) * (x1 + y1)
    g = a - b
    f = c + g
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _multiply(k: int, p: _Point) -> _Point:
    result = _IDENTITY
    while k:
        if k & 1:
            result = _add(result, p)
        p = _double(p)
        k >>= 1
    return result


def _equal(p: _Point, q: _Point) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _encode(p: _Point) -> bytes:
    z_inv = pow(p[2], -1, _P)
    x, y = p[0] * z_inv % _P, p[1] * z_inv % _P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _decode(data: bytes) -> _Point | None:
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    x = _recover_x(y & ((1 << 255) - 1), y >> 255)
    if x is None:
        return None
    y &= (1 << 255) - 1
    return x, y, 1, x * y % _P


def _hash_int(*parts: bytes) -> int:
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


def _expand(secret: bytes) -> tuple[int, bytes]:
    if len(secret) != 32:
        raise ConfigError("an Ed25519 secret key is 32 bytes")
    h = hashlib.sha512(secret).digest()
    a = int.from_bytes(h[:32], "little")
    a = (a & ((1 << 254) - 8)) | (1 << 254)  # RFC 8032 §5.1.5 clamping
    return a, h[32:]


def public_key(secret: bytes) -> bytes:
    """The 32-byte public key of a 32-byte secret key (RFC 8032 §5.1.5)."""
    a, _ = _expand(secret)
    return _encode(_multiply(a, _BASE))


def sign(secret: bytes, message: bytes) -> bytes:
    """A 64-byte signature (RFC 8032 §5.1.6); for tests: not constant time."""
    a, prefix = _expand(secret)
    encoded_a = _encode(_multiply(a, _BASE))
    r = _hash_int(prefix, message) % _L
    encoded_r = _encode(_multiply(r, _BASE))
    k = _hash_int(encoded_r, encoded_a, message) % _L
    s = (r + k * a) % _L
    return encoded_r + s.to_bytes(32, "little")


def verify_pure(public: bytes, message: bytes, signature: bytes) -> bool:
    """RFC 8032 §5.1.7, with the cofactored check ``[8][S]B = [8]R + [8][k]A'``."""
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _decode(public)
    r = _decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    k = _hash_int(signature[:32], public, message) % _L
    left = _multiply(8 * s, _BASE)
    right = _multiply(8, _add(r, _multiply(k, a)))
    return _equal(left, right)


def _load_fast() -> Callable[[bytes, bytes, bytes], bool] | None:
    try:
        from cryptography.exceptions import InvalidSignature  # noqa: PLC0415
        from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
            Ed25519PublicKey,
        )
    except ImportError:
        return None

    def verify_fast(public: bytes, message: bytes, signature: bytes) -> bool:
        if len(public) != 32 or len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    return verify_fast


verify_fast: Final = _load_fast()
"""The ``cryptography`` verifier, or None when that package is not installed."""


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """True if ``signature`` is ``public``'s Ed25519 signature of ``message``."""
    if verify_fast is not None:
        return verify_fast(public, message, signature)
    return verify_pure(public, message, signature)
