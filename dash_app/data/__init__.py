"""Pure functions and queries behind the pages' callbacks: no Dash here, so each is tested without a server."""
