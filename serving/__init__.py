"""Production concerns around the Dash app: sign-in, health endpoints, security headers.

Rule of this package: nothing here knows about questions, views or figures. `install`
is called once by the app factory with the Flask server and the settings.
"""
