"""gunicorn settings for `gunicorn --config gunicorn.conf.py wsgi:server`.

The command line (the Makefile, scripts/serve.sh) sets --bind and --workers; the values
here are the defaults otherwise. Threads let one worker answer the page's parallel
callback requests; queries are cached per worker (or in Redis when REDIS_URL is set).
"""

import os

bind = os.environ.get("ACCURX_BIND", "127.0.0.1:8050")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
keepalive = 5

# gunicorn 27 opens a control socket under $HOME by default; the app does not use it.
control_socket_disable = True

# Access log without query strings: a URL's query may name a customer or filter (%(U)s is
# the path only). %(M)s is the response time in milliseconds.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)sB %(M)sms'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
