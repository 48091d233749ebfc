"""The bundled voice page served at ``/``."""
