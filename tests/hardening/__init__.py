"""Tests that try to break readiness-magics: hostile input, faults, load, and access from outside."""
