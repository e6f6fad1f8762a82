"""The `readiness` command."""
