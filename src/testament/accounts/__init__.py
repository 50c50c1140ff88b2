"""Who may use the workbench: users, roles, passwords, API tokens, and the audit of access."""
