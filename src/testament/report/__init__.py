"""Evidence packages, their independent verification, tables and reports."""
