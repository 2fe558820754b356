"""The Preflight job: checks that catch quota, region, role and ECR problems before anything costs money.

Stdlib and boto3 only, Python 3.9: this folder ships whole into SageMaker's sklearn processing image.
"""

__all__ = ["check_support", "checks", "container", "iam", "prices", "quota", "report", "storage"]
