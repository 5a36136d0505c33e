"""Password hashing: Argon2id at the OWASP-recommended cost.

Django's default Argon2 settings use 100 MiB of memory a hash, which on a small server
makes every sign-in a large allocation in a web worker. OWASP's Password Storage Cheat
Sheet recommends at least 19 MiB, two passes and one lane; Accord uses that, adjustable
through the environment. A stored hash made with other settings is rehashed at the next
sign-in.
"""

from __future__ import annotations

import os

from django.contrib.auth.hashers import Argon2PasswordHasher


class AccordArgon2PasswordHasher(Argon2PasswordHasher):
    algorithm = "argon2"
    memory_cost = int(os.environ.get("ARGON2_MEMORY_KIB", "19456"))
    time_cost = int(os.environ.get("ARGON2_TIME_COST", "2"))
    parallelism = int(os.environ.get("ARGON2_PARALLELISM", "1"))
