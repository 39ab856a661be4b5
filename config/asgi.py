"""The ASGI application: HTTP through Django, WebSockets through Channels."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before the consumers (and the models they import) are imported.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from audio_chat import realtime  # noqa: E402
from audio_chat.load import Lifespan  # noqa: E402
from audio_chat.routing import WebSocketRouter, websocket_urlpatterns  # noqa: E402
from config.log_filters import scrub_server_logs  # noqa: E402

scrub_server_logs()  # client tokens (?token=) never reach the server's access log

# Each worker loads its models once, at start, instead of on the event loop of the first connection.
realtime.warm_up()
# The URLconf (DRF, the schema views) takes about half a second to import. On the first request it would hold the
# GIL in Django's request thread and stall the event loop, every child's audio, and the load monitor's clock.
get_resolver().resolve("/api/health/")

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": WebSocketRouter(websocket_urlpatterns),
        # The server's lifespan runs this worker's load monitor (event-loop lag, published for the health check).
        "lifespan": Lifespan(),
    }
)

# What was loaded so far lives as long as the worker. Left to the collector, its full collections walk all of it
# (over 100,000 objects): a pause of tens of milliseconds that every child's audio waits through. Frozen, those
# objects are never walked again; what connections create is collected as before.
gc.collect()
gc.freeze()
