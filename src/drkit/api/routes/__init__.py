"""The API's routes, one module per resource; each route depends on one ``Require``."""
