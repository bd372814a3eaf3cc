"""The `powercast` subcommands, one module per group; `powercast.cli` assembles them."""
