import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Every view is loaded now rather than by the first request, and the app's own objects, made once
# per process, are then kept out of the garbage collector's sight: a full collection otherwise
# walked all of them, stalling a request by about 80 ms every few large webhook posts
# (docs/benchmarks.md).
get_resolver().url_patterns  # noqa: B018 (loads the URLconf)
gc.collect()  # what is garbage already is not kept for the process's life
gc.freeze()
