"""Who is calling: OIDC bearer tokens, API keys and browser sessions, mapped to a principal.

See :class:`~kotaemon.server.auth.authenticator.Authenticator`.
"""
