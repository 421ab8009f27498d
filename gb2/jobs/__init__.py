"""Job logic: planning and submitting projects, status, control, output, analysis, diagnosis,
JDL, job states, output naming and sandboxes."""
