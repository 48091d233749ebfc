"""The operator console: live sessions, latency views, server metrics."""
