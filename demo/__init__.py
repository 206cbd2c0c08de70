"""The Nong Khai demo network: seeding and the ``flask demo`` commands (an edge package over the domains)."""
