"""Readers that bring content from other blogging systems into Dateline."""
