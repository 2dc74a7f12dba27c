"""The keyed hash of marks and blind indexes is HMAC-SHA256, as stored marks were made."""

import hashlib
import hmac

import pytest

from storage.keyed import KeyedHash


@pytest.mark.parametrize("length", [16, 32, 63, 64, 65, 200])
def test_the_keyed_hash_is_hmac_sha256_for_keys_of_any_length(length: int) -> None:
    key = bytes(range(length))
    keyed = KeyedHash(key)
    for message in (b"", b"erased-message\x1ftelegram\x1f-1001\x1fm1", "é\x1f".encode() * 40):
        assert keyed.digest(message) == hmac.digest(key, message, hashlib.sha256)


def test_the_keyed_hash_keeps_no_state_from_one_message_to_the_next() -> None:
    keyed = KeyedHash(b"k" * 32)
    first = keyed.digest(b"one")
    keyed.digest(b"two")
    assert keyed.digest(b"one") == first
