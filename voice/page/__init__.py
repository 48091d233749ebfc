"""The bundled voice page served at ``/`` (issue 7)."""
