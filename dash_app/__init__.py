"""The powercast control center: a multi-page Dash app over the product's PostgreSQL and MLflow registry.

`app.py` builds the app; `auth.py` guards every request; `pages/` holds one module per page (layout and thin
callbacks); `data/` the pure functions and queries behind the callbacks (tested without a server); `ids.py` every
component id. Start it with `powercast dash` (or `python -m dash_app` with the settings in the environment).
"""
