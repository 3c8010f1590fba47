"""Shared by every test folder: this folder is on sys.path, so tests import ``reference``."""
