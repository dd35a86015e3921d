"""Operating citygrowth: deployment files (nginx, systemd), backup and restore."""
