"""What gunicorn serves: `gunicorn --config gunicorn.conf.py wsgi:server`.

The only module that builds the app on import (settings from the environment).
"""

from app import create_app

server = create_app().server
