"""Roles, password hashes and label validation of powercast.feedback (no database)."""

import pytest

from powercast.errors import PowercastError
from powercast.feedback.store import Label
from powercast.feedback.users import User, allowed, check_password, hash_password, refusal, validate

OPERATOR = User(1, "olga", "operator")
ADMIN = User(2, "ada", "admin")


@pytest.mark.parametrize(
    ("user", "action", "expected"),
    [
        (None, "view", False),
        (None, "label", False),
        (OPERATOR, "view", True),
        (OPERATOR, "label", True),
        (OPERATOR, "train", False),
        (OPERATOR, "promote", False),
        (OPERATOR, "rollback", False),
        (ADMIN, "train", True),
        (ADMIN, "promote", True),
        (ADMIN, "rollback", True),
        (ADMIN, "drop the database", False),
        (User(3, "eve", "superuser"), "view", False),
    ],
)
def test_who_may_do_what(user, action, expected):
    assert allowed(user, action) is expected
    assert (refusal(user, action) is None) is expected


def test_refusals_say_why():
    assert "log in" in refusal(None, "train")
    assert "admins" in refusal(OPERATOR, "train") and "operator" in refusal(OPERATOR, "train")


def test_password_hash_is_argon2id_and_salted():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("$argon2id$") and first != second
    assert check_password(first, "correct horse")
    assert not check_password(first, "correct horsE")
    assert not check_password("not a hash", "correct horse")


@pytest.mark.parametrize(
    ("name", "role", "password"),
    [
        ("bad name", "operator", "longenough"),
        ("ok", "root", "longenough"),
        ("ok", "admin", "short"),
        ("", "admin", "x" * 9),
    ],
)
def test_unacceptable_accounts_are_refused(name, role, password):
    with pytest.raises(PowercastError):
        validate(name, role, password)


def test_labels_are_checked_and_normalised():
    assert Label("correct", "model_wrong", "  fine ").check() == Label("correct", None, "fine")
    assert Label("incorrect", "maintenance").check().reason == "maintenance"
    for bad in (Label("incorrect"), Label("incorrect", "aliens"), Label("maybe")):
        with pytest.raises(PowercastError):
            bad.check()
