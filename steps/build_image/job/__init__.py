"""The BuildImage job: pack the example's context, build and push its image with CodeBuild.

Stdlib and boto3 only, Python 3.9: this folder ships whole into SageMaker's sklearn processing image.
"""

__all__ = [
    "build_facts",
    "codebuild",
    "container",
    "context",
    "dockerfile",
    "dockerignore",
    "ecr",
    "iam",
    "image_builder",
]
