"""gunicorn settings for `gunicorn --config gunicorn.conf.py wsgi:server`.

Every value comes from config.py (`Settings.server`: HOST, PORT, WORKERS,
GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_ACCESS_LOG, GUNICORN_LOG_LEVEL), so the
Makefile, scripts/serve.sh and the image set the same names; a `--bind` or `--workers`
on the command line (the tests' servers) still wins. Threads let one worker answer the
page's parallel callback requests. Several workers share one cache: Redis when REDIS_URL
is set, else (unless CACHE_TYPE says otherwise) a FileSystemCache in a private temporary
directory made at start and removed at exit (`shared_cache`), so that what one worker
rendered or queried, and the warm-up after a build, serve them all.
"""

import os
import sys

# gunicorn reads this file before it puts the working directory on sys.path.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from config import load_settings

_settings = load_settings()

bind = _settings.server.bind
workers = _settings.server.workers
worker_class = "gthread"
threads = _settings.server.threads
timeout = _settings.server.timeout
graceful_timeout = 20
keepalive = 5

# gunicorn 27 opens a control socket under $HOME by default; the app does not use it.
control_socket_disable = True

# Access log without query strings: a URL's query may name a customer or filter (%(U)s is
# the path only). %(M)s is the response time in milliseconds.
accesslog = _settings.server.access_log
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)sB %(M)sms'
errorlog = "-"
loglevel = _settings.server.log_level


def on_starting(server):
    """Before any socket is bound: refuse to serve without a restricted sign-in where the
    data would leave this machine (config.check_exposure), for the addresses gunicorn
    really binds (a `--bind` on the command line included)."""
    from config import ConfigError, bind_host, check_exposure

    try:
        check_exposure(_settings, [bind_host(b) for b in server.cfg.bind], server.cfg.workers)
    except ConfigError as refusal:
        server.log.error("Refusing to start: %s", refusal)
        raise SystemExit(1) from None
    shared_cache(server)


_made_cache_dirs = []


def shared_cache(server):
    """Several workers and no cache configured: one FileSystemCache for them all
    (config.share_cache_between_workers), set before the workers load the app."""
    from config import share_cache_between_workers

    directory = share_cache_between_workers(server.cfg.workers)
    if directory is not None:
        _made_cache_dirs.append(directory)
        server.log.info("Workers share a file cache in %s", directory)


def on_exit(server):
    import shutil

    for directory in _made_cache_dirs:
        shutil.rmtree(directory, ignore_errors=True)
