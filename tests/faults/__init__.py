"""Fault injection: a real HTTP proxy between gb2 and its server, and the suite run through it."""
