"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""
from chathub import create_app

app = create_app()
