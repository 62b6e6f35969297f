"""The Teams layer: the Agents SDK adapter and agent, Adaptive Cards, posting, the app package."""
