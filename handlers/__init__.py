"""The platform-neutral core: commands parsed into typed requests, handled against storage,
answered with neutral replies that the Slack, Teams and shell layers render."""
