"""Code every step's job shares (and the laptop too): the AWS session factory, tags, roles, permissions.

Stdlib and boto3 only, Python 3.9: it ships into the processing jobs whole.
"""

__all__ = ["aws", "messages", "permissions", "roles", "s3", "tags"]
