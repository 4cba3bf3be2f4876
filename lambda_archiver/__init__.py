"""The AWS Lambda function that archives Copilot usage reports into S3 once a day."""
