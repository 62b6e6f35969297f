"""The Slack layer: Bolt listeners, Block Kit rendering, posting, Socket Mode."""
