"""One module per page: PATH, TITLE, `layout(ctx, query)` and `register(app, ctx)` (its thin callbacks)."""
