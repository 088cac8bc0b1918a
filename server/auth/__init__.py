"""Accounts: password hashing, signed tokens, roles, and the service that ties them to the database."""

from server.auth.roles import ROLES, Role, has_role
from server.auth.tokens import TokenError, TokenSigner

__all__ = ["ROLES", "Role", "has_role", "TokenSigner", "TokenError"]
