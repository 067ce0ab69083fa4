"""Thin routers: parse the request, call a service, wrap the result in the provenance envelope."""
