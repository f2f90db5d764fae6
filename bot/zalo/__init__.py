"""The Zalo Official Account channel: API client, access tokens, and the Channel adapter."""
