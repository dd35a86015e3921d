"""Monthly briefings: compose from numbers, export to PDF/DOCX, archive."""
