"""Settings: the only module that reads the environment.

Embedded defaults need nothing installed (SQLite, the in-memory channel layer, no API key).
Production switches are listed in ``.env.example``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from voiceproject.env import env_bool, env_choice, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VOICE_VAR_DIR") or BASE_DIR / "var")


def _local_secret_key() -> str:
    """A key generated once per checkout, for single-machine use without SECRET_KEY."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY") or _local_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Behind TLS: redirect to HTTPS, HSTS and secure cookies (what `check --deploy` asks for).
HTTPS_ONLY = env_bool("HTTPS_ONLY", False)
if HTTPS_ONLY:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "daphne",  # runserver then serves WebSockets too
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "accounts",
    "voice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "voiceproject.urls"
ASGI_APPLICATION = "voiceproject.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# ---- data ------------------------------------------------------------------------------------

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

# ---- auth ------------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    # A password change revokes every token issued before it.
    "CHECK_REVOKE_TOKEN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "voiceproject API",
    "DESCRIPTION": "REST side of the voice server: tokens, ephemeral Realtime keys, health.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The document offers JSON bodies only, the API's own encoding (DRF still parses the others).
    # The others cannot be described by the same schema: DRF reads an empty optional form field
    # as absent (JSON's "" is refused), and Daphne's HTTP server answers a multipart body without
    # parts with a bare 400 before the app sees it.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
}

# ---- static files ----------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # filled by collectstatic; served by whitenoise
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "daphne": {"level": "WARNING"},
        # Even under LOG_LEVEL=DEBUG: at DEBUG the websockets client logs every handshake
        # header (the upstream Authorization: Bearer key included) and the frames.
        "websockets": {"level": "INFO"},
    },
}

# ---- voice -----------------------------------------------------------------------------------

OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL") or None
OPENAI_MAX_RETRIES = env_int("OPENAI_MAX_RETRIES", 2, minimum=0)
OPENAI_TIMEOUT = env_float("OPENAI_TIMEOUT", 30.0, minimum=1.0)
VOICE_ENGINES = ("openai-realtime", "openai-pipeline", "local")
VOICE_ENGINE = env_choice(
    "VOICE_ENGINE", "openai-realtime" if OPENAI_API_KEY else "local", VOICE_ENGINES
)
VOICE_ALLOW_ANONYMOUS = env_bool("VOICE_ALLOW_ANONYMOUS", False)
VOICE_AUTH_TIMEOUT = env_float("VOICE_AUTH_TIMEOUT", 5.0, minimum=0.1)
VOICE_MAX_AUTH_WAITING_PER_IP = env_int("VOICE_MAX_AUTH_WAITING_PER_IP", 20, minimum=1)

VOICE_REALTIME_MODEL = env_str("VOICE_REALTIME_MODEL", "gpt-realtime")
VOICE_TRANSCRIBE_MODEL = env_str("VOICE_TRANSCRIBE_MODEL", "gpt-4o-transcribe")
VOICE_CHAT_MODEL = env_str("VOICE_CHAT_MODEL", "gpt-4o-mini")
VOICE_TTS_MODEL = env_str("VOICE_TTS_MODEL", "gpt-4o-mini-tts")
VOICE_DEFAULT_VOICE = env_str("VOICE_DEFAULT_VOICE", "alloy")
# Audio per Realtime append: smaller finds the end of speech sooner, larger costs less CPU
# per session (bench/realtime_append.py, bench/realtime_stream.py).
VOICE_REALTIME_APPEND_MS = env_int("VOICE_REALTIME_APPEND_MS", 40, minimum=10)
VOICE_INSTRUCTIONS = env_str(
    "VOICE_INSTRUCTIONS",
    "You are a helpful voice assistant for this website. Answer briefly, in plain spoken "
    "sentences. Use the site tools to look things up and to take the user to pages.",
)

# Limits (PROTOCOL.md section 7).
VOICE_MAX_MESSAGE_BYTES = env_int("VOICE_MAX_MESSAGE_BYTES", 512 * 1024, minimum=1024)
VOICE_MAX_CONTEXT_BYTES = env_int("VOICE_MAX_CONTEXT_BYTES", 64 * 1024, minimum=256)
VOICE_MAX_TEXT_CHARS = env_int("VOICE_MAX_TEXT_CHARS", 4000, minimum=1)
VOICE_MAX_AUDIO_CHUNK_BYTES = env_int("VOICE_MAX_AUDIO_CHUNK_BYTES", 256 * 1024, minimum=1024)
VOICE_AUDIO_BURST_SECONDS = env_float("VOICE_AUDIO_BURST_SECONDS", 5.0, minimum=0.1)
VOICE_AUDIO_REFILL_RATIO = env_float("VOICE_AUDIO_REFILL_RATIO", 1.5, minimum=1.0)
VOICE_MESSAGE_RATE = env_float("VOICE_MESSAGE_RATE", 100.0, minimum=1.0)
VOICE_MESSAGE_BURST = env_int("VOICE_MESSAGE_BURST", 300, minimum=1)
VOICE_FLOOD_GRACE_SECONDS = env_float("VOICE_FLOOD_GRACE_SECONDS", 2.0, minimum=0.0)
VOICE_MAX_SESSIONS_PER_USER = env_int("VOICE_MAX_SESSIONS_PER_USER", 20, minimum=1)
VOICE_MAX_SESSIONS_PER_IP = env_int("VOICE_MAX_SESSIONS_PER_IP", 200, minimum=1)
VOICE_CONNECTIONS_PER_MINUTE_PER_IP = env_int("VOICE_CONNECTIONS_PER_MINUTE_PER_IP", 600, minimum=1)
VOICE_KEYS_PER_MINUTE_PER_USER = env_int("VOICE_KEYS_PER_MINUTE_PER_USER", 10, minimum=1)
VOICE_EPHEMERAL_KEY_SECONDS = env_int("VOICE_EPHEMERAL_KEY_SECONDS", 60, minimum=10)
VOICE_TRUSTED_PROXIES = env_list("VOICE_TRUSTED_PROXIES", [])
VOICE_ALLOWED_ORIGINS = env_list("VOICE_ALLOWED_ORIGINS", [])

# A live session's owner refreshes its heartbeat this often; a row silent for
# VOICE_SESSION_STALE_SECONDS belongs to a dead process and is closed by the reaper.
VOICE_HEARTBEAT_SECONDS = env_float("VOICE_HEARTBEAT_SECONDS", 10.0, minimum=0.1)
VOICE_SESSION_STALE_SECONDS = env_float("VOICE_SESSION_STALE_SECONDS", 45.0, minimum=1.0)

# ---- rate limits, ephemeral keys, upstream retries -------------------------------------------
# Fixed windows aligned to the Unix epoch (voice/services/ratelimit.py).
VOICE_KEYS_PER_MINUTE_PER_IP = env_int("VOICE_KEYS_PER_MINUTE_PER_IP", 60, minimum=1)
VOICE_CONNECTIONS_PER_MINUTE_PER_USER = env_int(
    "VOICE_CONNECTIONS_PER_MINUTE_PER_USER", 120, minimum=1
)
VOICE_UTTERANCES_PER_MINUTE = env_int("VOICE_UTTERANCES_PER_MINUTE", 30, minimum=1)
VOICE_AUDIO_SECONDS_PER_DAY = env_int("VOICE_AUDIO_SECONDS_PER_DAY", 3600, minimum=1)
# Sign-in (token endpoint and admin login): failed passwords allowed per username and per IP in
# each window, then 429 until it ends (accounts/signin.py).
VOICE_SIGNIN_FAILURES_PER_USERNAME = env_int("VOICE_SIGNIN_FAILURES_PER_USERNAME", 10, minimum=1)
VOICE_SIGNIN_FAILURES_PER_IP = env_int("VOICE_SIGNIN_FAILURES_PER_IP", 100, minimum=1)
VOICE_SIGNIN_WINDOW_SECONDS = env_int("VOICE_SIGNIN_WINDOW_SECONDS", 900, minimum=60)
# POST /api/realtime/session: what a client may choose.
VOICE_REALTIME_MODELS = env_list(
    "VOICE_REALTIME_MODELS", list(dict.fromkeys([VOICE_REALTIME_MODEL, "gpt-realtime-mini"]))
)
VOICE_MAX_INSTRUCTIONS_CHARS = env_int("VOICE_MAX_INSTRUCTIONS_CHARS", 4000, minimum=1)
# Whether a browser's own `instructions` bind its ephemeral key (else the server's are used).
VOICE_ALLOW_CLIENT_INSTRUCTIONS = env_bool("VOICE_ALLOW_CLIENT_INSTRUCTIONS", False)
# Minting retries: attempts in all, seconds in all (no wait may end past it), first backoff.
VOICE_KEY_MINT_ATTEMPTS = env_int("VOICE_KEY_MINT_ATTEMPTS", 3, minimum=1)
VOICE_KEY_MINT_TIME_BUDGET = env_float("VOICE_KEY_MINT_TIME_BUDGET", 10.0, minimum=0.1)
VOICE_KEY_MINT_BACKOFF = env_float("VOICE_KEY_MINT_BACKOFF", 0.5, minimum=0.0)
# Circuit breaker around the AI service (state shared through the cache: Redis when set).
VOICE_CIRCUIT_FAILURES = env_int("VOICE_CIRCUIT_FAILURES", 5, minimum=1)
VOICE_CIRCUIT_COOLDOWN_SECONDS = env_float("VOICE_CIRCUIT_COOLDOWN_SECONDS", 30.0, minimum=0.1)

# ---- operator console and metrics ------------------------------------------------------------
# GET /metrics (Prometheus): empty = staff only (JWT or admin session); set = a scraper may also
# send `Authorization: Bearer <this token>`. /api/metrics is always staff only.
VOICE_METRICS_TOKEN = env_str("VOICE_METRICS_TOKEN")
