"""The investigator workbench: a FastAPI app with server-rendered pages and a JSON API."""
