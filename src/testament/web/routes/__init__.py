"""The workbench routes, one module per area."""
