"""The Ed25519 verifier: RFC 8032 §7.1 vectors, tampering, and both paths agreeing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actorbot.webapp import _ed25519

# RFC 8032 §7.1: TEST 1, 2, 3 and TEST SHA(abc) (secret key, public key, message, signature).
RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     hashlib.sha512(b"abc").hexdigest(),
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
]
VECTORS = [tuple(bytes.fromhex(h) for h in row) for row in RFC8032]

Verifier = Callable[[bytes, bytes, bytes], bool]
VERIFIERS: list[Verifier] = [_ed25519.verify_pure, _ed25519.verify]
if _ed25519.verify_fast is not None:
    VERIFIERS.append(_ed25519.verify_fast)
IDS = [v.__name__ for v in VERIFIERS]
_L = 2**252 + 27742317777372353535851937790883648493


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@pytest.mark.parametrize(("secret", "public", "message", "signature"), VECTORS)
def test_rfc8032_vectors_sign_and_derive_exactly(
    secret: bytes, public: bytes, message: bytes, signature: bytes
) -> None:
    assert _ed25519.public_key(secret) == public
    assert _ed25519.sign(secret, message) == signature


@pytest.mark.parametrize("verify", VERIFIERS, ids=IDS)
@pytest.mark.parametrize(("secret", "public", "message", "signature"), VECTORS)
def test_rfc8032_vectors_verify(
    verify: Verifier, secret: bytes, public: bytes, message: bytes, signature: bytes
) -> None:
    assert verify(public, message, signature) is True


@pytest.mark.parametrize("verify", VERIFIERS, ids=IDS)
@pytest.mark.parametrize(("secret", "public", "message", "signature"), VECTORS[:3])
def test_any_flipped_bit_is_refused(
    verify: Verifier, secret: bytes, public: bytes, message: bytes, signature: bytes
) -> None:
    for bit in (0, 7, 100, 255, 256, 300, 511):
        assert verify(public, message, flip(signature, bit)) is False
    for bit in (0, 100, 254):
        assert verify(flip(public, bit), message, signature) is False
    assert verify(public, message + b"\x00", signature) is False
    if message:
        assert verify(public, flip(message, 0), signature) is False


@pytest.mark.parametrize("verify", VERIFIERS, ids=IDS)
def test_malformed_inputs_are_refused_not_raised(verify: Verifier) -> None:
    _, public, message, signature = VECTORS[0]
    assert verify(public[:31], message, signature) is False
    assert verify(public, message, signature[:63]) is False
    assert verify(public, message, signature + b"\x00") is False
    assert verify(b"\xff" * 32, message, signature) is False  # y >= p: not a point
    # S + L is the same scalar, but RFC 8032 requires S < L (no malleability).
    s = int.from_bytes(signature[32:], "little") + _L
    assert verify(public, message, signature[:32] + s.to_bytes(32, "little")) is False


def test_verify_uses_the_pure_path_without_cryptography(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    pure = _ed25519.verify_pure

    def spy(public: bytes, message: bytes, signature: bytes) -> bool:
        calls.append(message)
        return pure(public, message, signature)

    monkeypatch.setattr(_ed25519, "verify_fast", None)
    monkeypatch.setattr(_ed25519, "verify_pure", spy)
    _, public, message, signature = VECTORS[1]
    assert _ed25519.verify(public, message, signature) is True
    assert calls == [message]


@pytest.mark.skipif(_ed25519.verify_fast is None, reason="cryptography is not installed")
@settings(max_examples=15, deadline=None)
@given(secret=st.binary(min_size=32, max_size=32), message=st.binary(max_size=300))
def test_pure_signer_and_cryptography_agree(secret: bytes, message: bytes) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(secret)
    signature = key.sign(message)
    assert _ed25519.sign(secret, message) == signature  # Ed25519 is deterministic
    public = _ed25519.public_key(secret)
    assert _ed25519.verify_pure(public, message, signature) is True
    assert _ed25519.verify_pure(public, message + b"!", signature) is False


def test_secret_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        _ed25519.sign(b"short", b"")
