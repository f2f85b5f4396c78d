"""pants-aws-lambda: a Pants plugin that packages Python code as AWS Lambda artifacts.

The backend to list in `[GLOBAL].backend_packages` is this package, `pants_aws_lambda`.
"""

# The version of the `pants-aws-lambda` distribution (pants-plugins/BUILD).
__version__ = "0.2.0"
