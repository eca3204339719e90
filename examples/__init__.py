"""Example applications: run ``uv run openfeature-litestar demo`` from the repository."""
