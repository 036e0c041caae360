"""The ``cellgate`` command line: built-in commands plus those plugins register."""
