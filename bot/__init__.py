"""Runtime: configuration, the aiohttp server, the Slack layer, the shell and the console script."""
