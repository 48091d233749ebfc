"""The database, the channel layer and the cache: embedded, or PostgreSQL and Redis by URL."""

from __future__ import annotations

import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from voiceproject.env import env_str
from voiceproject.settings.base import VAR_DIR

# IMMEDIATE makes SQLite writers queue instead of failing on lock upgrades; WAL lets readers
# run beside one writer.
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {
            # Persistent connections do not suit ASGI (Django's deployment notes).
            "default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)
        }
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "db.sqlite3"),
            "OPTIONS": SQLITE_OPTIONS,
            # A file, not :memory:, so a Daphne subprocess in the tests sees the test data;
            # one per test run, so concurrent runs do not share it.
            "TEST": {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    from channels_redis.core import RedisChannelLayer

    # redis-py 8 gives up on a read after 5 s by default, and channels-redis waits for a
    # message with a blocking pop of 5 s: every idle session would die at its fifth second.
    # A read may last the layer's blocking wait plus a margin; only a Redis that has stopped
    # answering is given up on. Every Redis client of the project uses these options.
    REDIS_OPTIONS = {
        "socket_timeout": RedisChannelLayer.brpop_timeout + 10.0,
        "socket_connect_timeout": 5.0,
        "socket_keepalive": True,
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, **REDIS_OPTIONS}],
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_OPTIONS,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
