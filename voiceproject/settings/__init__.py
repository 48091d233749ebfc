"""Settings: the only package that reads the environment.

Embedded defaults need nothing installed (SQLite, the in-memory channel layer, no API key).
Production switches are listed in ``.env.example``. One module per concern, gathered here.
"""

from voiceproject.settings.auth import *  # noqa: F403
from voiceproject.settings.base import *  # noqa: F403
from voiceproject.settings.data import *  # noqa: F403
from voiceproject.settings.voice import *  # noqa: F403
