"""The JSON API under /api/v1 (issue 13): for the congress office's and the government's
other systems, authenticated by personal API tokens, described by the OpenAPI 3.1 document
that flask-openapi3 generates from the routes and the pydantic models of schemas.py."""
