"""Passwords are hashed with Argon2id at OWASP's recommended cost, and older hashes upgrade."""

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, identify_hasher, make_password
from django.test import override_settings

ACCORD = [
    "accord.core.hashers.AccordArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


@override_settings(PASSWORD_HASHERS=ACCORD)
def test_new_hashes_use_argon2id_at_19_mib_two_passes_one_lane():
    encoded = make_password("a long enough passphrase")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert check_password("a long enough passphrase", encoded)
    assert not check_password("the wrong passphrase", encoded)
    assert not identify_hasher(encoded).must_update(encoded)


@override_settings(PASSWORD_HASHERS=ACCORD)
def test_a_hash_made_with_djangos_argon2_settings_still_works_and_is_upgraded():
    old = Argon2PasswordHasher().encode("a long enough passphrase", Argon2PasswordHasher().salt())
    upgraded = []
    assert check_password("a long enough passphrase", old, setter=upgraded.append)
    assert upgraded == ["a long enough passphrase"]


@pytest.mark.django_db
@override_settings(PASSWORD_HASHERS=ACCORD)
def test_signing_in_rehashes_an_old_password(client):
    from accord.testing.factories import UserFactory

    user = UserFactory(username="old.hash")
    user.password = Argon2PasswordHasher().encode("a long enough passphrase", Argon2PasswordHasher().salt())
    user.save()
    assert client.login(username="old.hash", password="a long enough passphrase")
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
