# Copyright (c) 2025, jupyter_edge.deploy contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Jupyter password hashes, made and checked like jupyter_server.auth.security.

This is a private helper of the jupyter_edge.deploy collection: it is not part
of the collection's public API and may change without notice.

Formats (the same in jupyter_server 2.x and classic notebook):

- ``argon2:<PHC string>`` from argon2-cffi
  ``PasswordHasher(memory_cost=10240, time_cost=10, parallelism=8)``;
- ``<algorithm>:<12 hex digit salt>:<hexdigest>`` with
  ``hashlib.new(algorithm, password_utf8 + salt_ascii)`` (legacy).
"""

from __future__ import annotations

import hashlib
import secrets
import traceback

try:
    import argon2
    import argon2.exceptions
except ImportError:
    argon2 = None
    HAS_ARGON2 = False
    ARGON2_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_ARGON2 = True
    ARGON2_IMPORT_ERROR = None

ALGORITHMS = ("argon2", "sha1", "sha256", "sha512")
SALT_LEN = 12  # hex digits, as jupyter_server's salt_len


def passwd(password, algorithm="argon2"):
    """Return the Jupyter hash of ``password`` made with ``algorithm``."""
    if algorithm == "argon2":
        if not HAS_ARGON2:
            raise ImportError("argon2-cffi is needed for argon2 password hashes")
        hasher = argon2.PasswordHasher(memory_cost=10240, time_cost=10, parallelism=8)
        return "argon2:" + hasher.hash(password)

    digest = hashlib.new(algorithm)
    salt = secrets.token_hex(SALT_LEN // 2)
    digest.update(password.encode("utf-8") + salt.encode("ascii"))
    return f"{algorithm}:{salt}:{digest.hexdigest()}"


def algorithm_of(hashed):
    """Return the algorithm name a stored hash declares (the text before the first colon), or None."""
    if not isinstance(hashed, str) or ":" not in hashed:
        return None
    return hashed.split(":", 1)[0]


def verify(hashed, password):
    """Return True if ``password`` matches ``hashed``, as jupyter_server's passwd_check does.

    The one difference: a malformed hash gives False here where passwd_check may
    raise (an invalid argon2 string, a salt that is not ASCII, a value that is not
    a string), so a damaged hash is simply replaced. An argon2 hash needs
    argon2-cffi (ImportError without it), as in jupyter_server.
    """
    if not isinstance(hashed, str) or not isinstance(password, str):
        return False

    if hashed.startswith("argon2:"):
        if not HAS_ARGON2:
            raise ImportError("argon2-cffi is needed to check argon2 password hashes")
        try:
            return argon2.PasswordHasher().verify(hashed[7:], password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHash):
            return False

    try:
        algorithm, salt, pw_digest = hashed.split(":", 2)
    except ValueError:
        return False

    try:
        digest = hashlib.new(algorithm)
    except ValueError:
        return False

    if not pw_digest:
        return False

    try:
        digest.update(password.encode("utf-8") + salt.encode("ascii"))
        return digest.hexdigest() == pw_digest
    except (UnicodeEncodeError, TypeError):  # a non-ASCII salt; a shake_* digest needs a length
        return False
