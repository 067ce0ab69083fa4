"""The HTTP API: thin routers, auth and access, response envelopes. ``lodeline.api.app.create_api_app`` builds it;
:func:`lodeline.server.create_app` adds the dashboard. Nothing is imported here, so importing the access layer
(as the dashboard does) does not build the whole API."""
