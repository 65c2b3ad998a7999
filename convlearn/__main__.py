"""``python -m convlearn``."""

from convlearn.cli import main

if __name__ == "__main__":
    main()
