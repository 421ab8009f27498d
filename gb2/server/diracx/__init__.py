"""The DiracX half of the embedded server: the job database and DiracX's routes."""
