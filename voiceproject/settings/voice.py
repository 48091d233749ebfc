"""The voice server's own settings: engines, models and every limit of PROTOCOL.md section 7."""

from __future__ import annotations

from voiceproject.env import env_bool, env_choice, env_float, env_int, env_list, env_str

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
