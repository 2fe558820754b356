"""The BuildImage step: pack the example's context, build and push its image with CodeBuild."""

__all__ = [
    "codebuild",
    "container",
    "context",
    "dockerfile",
    "dockerignore",
    "ecr",
    "facts",
    "factory",
    "iam",
    "logic",
]
