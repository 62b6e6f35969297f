"""Test doubles that speak real HTTP: a recording Slack Web API, and signed Slack requests."""
