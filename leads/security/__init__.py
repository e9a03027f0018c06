"""Security of the lead centre (PIPL): login lockout and personal data kept out of logs.

The lockout and the redaction are apart because they load at different times:

- `lockout`: failed logins, the lock rules, the authentication backend and the login forms;
  it needs the app registry (models, auth forms).
- `passwords`: the password rules that Django's validators lack;
- `redaction`: the logging filter and the error-report filter and reporter; LOGGING is set up
  before the apps are loaded, so this module imports no models.

This package's own namespace stays empty so that importing `redaction` loads nothing else.
"""
