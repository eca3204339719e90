"""Example applications to read and run (the demo itself ships in the package)."""
