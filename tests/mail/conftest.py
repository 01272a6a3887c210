"""The mail tests' SMTP server and mailing service, shared by the mail modules."""

from tests.mail.test_mail import mailing, smtp  # noqa: F401
