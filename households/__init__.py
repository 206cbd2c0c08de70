"""Households: a group's household list, the per-round sheet households fill by link, household bills."""
