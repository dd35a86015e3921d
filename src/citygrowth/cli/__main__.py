"""``python -m citygrowth.cli``: the same as the ``citygrowth`` command."""

from citygrowth.cli.main import main

if __name__ == "__main__":
    main()
