"""The web console: server-rendered pages (Jinja2, htmx) over the API's own services.

Mounted at ``/console/`` by ``api/app.py``. It adds no rules of its own: sign-in runs the
bearer check of ``api/auth.py``, access runs ``require_account_access``, reads go to the
read models' queries and writes through the command bus, as the API routes do.
"""
